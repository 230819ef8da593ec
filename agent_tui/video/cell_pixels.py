"""How many screen pixels one terminal cell is, so a picture for the kitty or sixel protocol can be sampled
at the pixel size of the panel it fills.

Terminals report it with the window size (``TIOCGWINSZ``: rows, columns and the text area in pixels);
many report zero pixels (over some ssh setups, in most multiplexers, on Windows), and then a common cell
of 10x20 pixels is assumed: kitty scales a picture to the cells it is placed over anyway, and a sixel
picture comes out a little smaller or larger than the panel. Asked once, at start: fonts rarely change
size mid-conversation.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from typing import NamedTuple


class CellPixels(NamedTuple):
    """One cell's size in screen pixels."""

    width: int
    height: int


#: Assumed when the terminal does not say (about a 10-point monospace font).
FALLBACK_CELL = CellPixels(10, 20)

_WINSIZE = struct.Struct("HHHH")  # struct winsize: ws_row, ws_col, ws_xpixel, ws_ypixel


def cell_from_window(rows: int, columns: int, width_px: int, height_px: int) -> CellPixels:
    """The cell size from a window size report; :data:`FALLBACK_CELL` when any part of it is zero."""
    if rows <= 0 or columns <= 0 or width_px <= 0 or height_px <= 0:
        return FALLBACK_CELL
    cell = CellPixels(width_px // columns, height_px // rows)
    return cell if cell.width > 0 and cell.height > 0 else FALLBACK_CELL


def cell_from_winsize(raw: bytes) -> CellPixels:
    """The cell size from the raw ``struct winsize`` that ``TIOCGWINSZ`` fills in."""
    if len(raw) < _WINSIZE.size:
        return FALLBACK_CELL
    rows, columns, width_px, height_px = _WINSIZE.unpack_from(raw)
    return cell_from_window(rows, columns, width_px, height_px)


def terminal_cell_pixels(fds: Iterable[int] = (1, 2, 0)) -> CellPixels:
    """Ask the terminal behind the first of ``fds`` that is one (stdout, stderr, stdin: whichever was not
    redirected); :data:`FALLBACK_CELL` when none is, the ioctl fails or the platform has none."""
    try:
        import fcntl
        import termios
    except ImportError:  # Windows: no ioctl; the fallback is the best guess there
        return FALLBACK_CELL
    for fd in fds:
        try:
            if not os.isatty(fd):
                continue
            raw = fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(_WINSIZE.size))
        except OSError:
            continue
        return cell_from_winsize(raw)
    return FALLBACK_CELL
