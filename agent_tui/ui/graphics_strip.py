"""Carrying a terminal graphics escape (a kitty or sixel picture) through Textual's compositor. Pure.

Textual writes whatever segments a widget's lines hold, in screen order, so a picture can ride in the
line that is written last: move the cursor to the picture's top-left cell, write the escape, move the
cursor back to where the line's next cell belongs. The three segments are control segments of zero cells,
so the compositor's cell arithmetic (cropping, cutting lines around overlapping widgets) is unchanged.

The last line matters for sixel: its pixels belong to the cells they are drawn over, so the panel's blank
cells must all be written before the picture, never after it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.control import Control
from rich.segment import ControlType, Segment
from textual.strip import Strip

#: Marks a segment as a control sequence of zero cells (Rich and Textual then measure it as nothing).
ZERO_CELLS = ((ControlType.CURSOR_FORWARD, 0),)


def escape_segments(escape: str, *, at: tuple[int, int], resume: tuple[int, int]) -> list[Segment]:
    """Zero-cell segments that write ``escape`` with the cursor on the absolute screen cell ``at`` (x, y)
    and leave the cursor on ``resume``."""
    return [
        Control.move_to(*at).segment,
        Segment(escape, None, ZERO_CELLS),
        Control.move_to(*resume).segment,
    ]


def splice(strip: Strip, cut: int, segments: Sequence[Segment]) -> Strip:
    """``strip`` with ``segments`` (zero cells) inserted after its first ``cut`` cells."""
    length = strip.cell_length
    if cut <= 0:
        return Strip([*segments, *strip], length)
    if cut >= length:
        return Strip([*strip, *segments], length)
    head, tail = strip.divide([cut, length])
    return Strip([*head, *segments, *tail], length)
