"""The pure pieces behind drawing the agent's video with kitty or sixel: the terminal's cell size in
pixels, the picture's pixel size and cell block, the encoded picture, and the zero-cell segments that
carry its escape through Textual's compositor."""

from __future__ import annotations

import os
import struct
import sys

import numpy as np
import pytest
from rich.control import Control
from rich.segment import Segment
from textual.strip import Strip

from agent_tui.ui.graphics_strip import escape_segments, splice
from agent_tui.video.cell_pixels import (
    FALLBACK_CELL,
    CellPixels,
    cell_from_window,
    cell_from_winsize,
    terminal_cell_pixels,
)
from agent_tui.video.geometry import MAX_PICTURE_SIDE, fit_pixels, picture_cells
from agent_tui.video.graphics_picture import PANEL_IMAGE_ID, encode_picture, erase_sequence
from agent_tui.video.graphics_support import GRAPHICS_SETTINGS, Graphics
from agent_tui.video.renderer_kitty import kitty_delete

pytestmark = pytest.mark.timeout(10)


# -- the cell size in pixels ------------------------------------------------------------------------------
def test_cell_size_from_a_window_report() -> None:
    assert cell_from_window(36, 120, 1200, 720) == CellPixels(10, 20)
    assert cell_from_window(50, 200, 1810, 1010) == CellPixels(9, 20)  # partial pixels are margins
    assert cell_from_winsize(struct.pack("HHHH", 24, 80, 640, 384)) == CellPixels(8, 16)


@pytest.mark.parametrize(
    "report",
    [(36, 120, 0, 0), (36, 120, 1200, 0), (0, 0, 1200, 720), (36, 120, 60, 720), (36, 2000, 1000, 720)],
)
def test_a_report_without_pixels_gives_the_fallback(report: tuple[int, int, int, int]) -> None:
    assert cell_from_window(*report) == FALLBACK_CELL


def test_a_short_winsize_gives_the_fallback() -> None:
    assert cell_from_winsize(b"\x00\x01") == FALLBACK_CELL


@pytest.mark.skipif(sys.platform == "win32", reason="no ptys or TIOCGWINSZ on Windows")
def test_the_terminal_is_asked_through_the_first_tty() -> None:
    import fcntl
    import termios

    leader, follower = os.openpty()
    read_end, write_end = os.pipe()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 900, 540))
        assert terminal_cell_pixels((read_end, follower)) == CellPixels(9, 18)  # the pipe is skipped
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        assert terminal_cell_pixels((follower,)) == FALLBACK_CELL  # a terminal that reports no pixels
        assert terminal_cell_pixels((read_end,)) == FALLBACK_CELL  # no terminal at all
    finally:
        for fd in (leader, follower, read_end, write_end):
            os.close(fd)


# -- sizes ------------------------------------------------------------------------------------------------
def test_fit_pixels_fills_the_panel_keeping_the_aspect() -> None:
    # 40x29 cells of 10x20 px: a 400x580 px area, so 16:9 is limited by the width.
    assert fit_pixels((1280, 720), (40, 29), (10, 20), enlarge=True) == (400, 225)
    assert fit_pixels((720, 1280), (40, 29), (10, 20), enlarge=True) == (326, 580)


def test_fit_pixels_enlarges_only_when_asked() -> None:
    assert fit_pixels((160, 90), (40, 29), (10, 20), enlarge=True) == (400, 225)  # sixel: pixel for pixel
    assert fit_pixels((160, 90), (40, 29), (10, 20), enlarge=False) == (160, 90)  # kitty scales it


def test_fit_pixels_caps_the_longest_side() -> None:
    assert fit_pixels((1920, 1080), (200, 60), (10, 20), enlarge=True) == (MAX_PICTURE_SIDE, 360)
    assert fit_pixels((1080, 1920), (200, 60), (10, 20), enlarge=True) == (360, MAX_PICTURE_SIDE)
    assert fit_pixels((1920, 1080), (200, 60), (10, 20), enlarge=True, longest=320) == (320, 180)


@pytest.mark.parametrize("cells", [(0, 10), (10, 0), (-1, 5)])
def test_no_room_means_no_pixels(cells: tuple[int, int]) -> None:
    assert fit_pixels((640, 360), cells, (10, 20), enlarge=True) == (0, 0)
    assert picture_cells((640, 360), cells, (10, 20), scaled=True) == (0, 0)


def test_picture_cells_for_a_scaled_and_a_pixel_for_pixel_picture() -> None:
    # kitty stretches the picture over its block: the largest block with the picture's aspect.
    assert picture_cells((160, 90), (40, 29), (10, 20), scaled=True) == (40, 11)
    # sixel is drawn one image pixel per screen pixel: the cells its 400x225 pixels reach into.
    assert picture_cells((400, 225), (40, 29), (10, 20), scaled=False) == (40, 12)
    assert picture_cells((405, 225), (40, 29), (10, 20), scaled=False) == (40, 12)  # never past the panel
    assert picture_cells((1, 1), (40, 29), (10, 20), scaled=False) == (1, 1)


# -- the encoded picture ----------------------------------------------------------------------------------
def test_a_kitty_picture_is_placed_over_its_block_under_the_panel_id() -> None:
    frame = np.zeros((90, 160, 3), dtype=np.uint8)
    picture = encode_picture(frame, Graphics.KITTY, cells=(40, 29), cell=(10, 20))
    assert (picture.columns, picture.rows) == (40, 11)
    assert picture.escape.startswith(f"\x1b_Ga=T,f=24,s=160,v=90,c=40,r=11,i={PANEL_IMAGE_ID},q=2,C=1,")
    assert erase_sequence(Graphics.KITTY) == kitty_delete(PANEL_IMAGE_ID)


def test_a_sixel_picture_covers_the_cells_its_pixels_reach() -> None:
    frame = np.full((225, 400, 3), 255, dtype=np.uint8)
    picture = encode_picture(frame, Graphics.SIXEL, cells=(40, 29), cell=(10, 20))
    assert (picture.columns, picture.rows) == (40, 12)
    assert picture.escape.startswith('\x1bP0;1;0q"1;1;400;225')
    assert erase_sequence(Graphics.SIXEL) == ""  # redrawn cells take sixel pixels away


def test_half_blocks_are_not_an_escape() -> None:
    with pytest.raises(ValueError, match="halfblock"):
        encode_picture(np.zeros((2, 2, 3), dtype=np.uint8), Graphics.HALFBLOCK, cells=(2, 1), cell=(10, 20))
    assert erase_sequence(Graphics.HALFBLOCK) == ""


def test_the_settings_accept_auto_and_every_protocol() -> None:
    assert GRAPHICS_SETTINGS == ("auto", "kitty", "sixel", "halfblock")


# -- carrying the escape through the compositor -----------------------------------------------------------
def test_escape_segments_move_write_and_come_back_in_zero_cells() -> None:
    move, escape, resume = escape_segments("\x1b_Gdata\x1b\\", at=(4, 2), resume=(44, 30))
    assert move.text == Control.move_to(4, 2).segment.text == "\x1b[3;5H"
    assert escape.text == "\x1b_Gdata\x1b\\"
    assert resume.text == "\x1b[31;45H"
    assert all(segment.control and segment.cell_length == 0 for segment in (move, escape, resume))


def test_splice_inserts_after_a_cell_and_keeps_the_length() -> None:
    strip = Strip([Segment("│"), Segment("   "), Segment("│")])
    escape = escape_segments("X", at=(0, 0), resume=(4, 0))
    spliced = splice(strip, 4, escape)
    assert spliced.cell_length == 5
    assert [segment.text for segment in spliced] == ["│", "   ", *[s.text for s in escape], "│"]
    assert [s.text for s in splice(strip, 0, escape)][3:] == ["│", "   ", "│"]
    assert [s.text for s in splice(strip, 5, escape)][:3] == ["│", "   ", "│"]
    inside = splice(strip, 2, escape)  # inside a segment: the segment is cut
    assert "".join(s.text for s in inside if not s.control) == "│   │"
    assert [s.text for s in inside][:2] == ["│", " "]


def test_a_spliced_strip_still_divides_at_cell_positions() -> None:
    # The compositor cuts lines where other widgets begin and end; zero-cell segments must not shift it.
    strip = Strip([Segment("ab"), Segment("cd")])
    spliced = splice(strip, 3, escape_segments("\x1bPq-\x1b\\", at=(0, 0), resume=(3, 0)))
    left, right = spliced.divide([3, 4])
    assert left.cell_length == 3 and right.cell_length == 1
    assert "".join(s.text for s in left) == "abc"
    assert [s.text for s in right if not s.control] == ["d"]
    assert sum(1 for s in right if s.control) == 3
