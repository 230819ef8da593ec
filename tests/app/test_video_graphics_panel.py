"""The agent's video panel drawing with the kitty graphics protocol and with sixel: the picture's escape
rides in the panel's last line at the panel's position, a newer frame replaces it, nothing is drawn under
a dialog, and a kitty picture is deleted when the panel closes or is covered. What the panel paints is
read from its own lines; what goes around the paint (kitty's delete) from the driver's output."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rich.control import Control
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip

from agent_tui.app import AgentTuiApp
from agent_tui.session import AgentVideoTrackChanged
from agent_tui.ui.terminal_output import queued_writes
from agent_tui.ui.video_panel import VideoPanel
from agent_tui.video.cell_pixels import CellPixels
from agent_tui.video.graphics_picture import PANEL_IMAGE_ID
from agent_tui.video.graphics_support import Graphics
from agent_tui.video.renderer_kitty import kitty_delete
from agent_tui.video.settings import VideoSettings

from .conftest import FakeClock, emit, make_app
from .video_frames import FrameSource, StandInVideoTrack, bars_rgb, i420

pytestmark = pytest.mark.timeout(30)

CELL = CellPixels(10, 20)
KITTY_DELETE = kitty_delete(PANEL_IMAGE_ID)


def graphics_app(graphics: str, clock: FakeClock) -> AgentTuiApp:
    return make_app(clock=clock, video_settings=VideoSettings(graphics=graphics), cell_pixels=CELL)


def video_event(track: object | None) -> AgentVideoTrackChanged:
    return AgentVideoTrackChanged(track=track, participant_identity="avatar" if track else None)  # type: ignore[arg-type]


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.pause()


def record_output(app: AgentTuiApp) -> list[str]:
    """Everything written to the (headless) terminal from now on besides the screen updates, which the
    headless driver never writes."""
    written: list[str] = []
    app._driver.write = written.append  # type: ignore[method-assign,union-attr]
    return written


def painted(panel: VideoPanel) -> list[Strip]:
    """The panel's lines as the compositor gets them for a full repaint."""
    return panel.render_lines(Region(0, 0, *panel.region.size))


def controls(strip: Strip) -> list[str]:
    return [segment.text for segment in strip if segment.control]


def last_line(panel: VideoPanel) -> int:
    return panel.content_region.bottom - 1 - panel.region.y


def escapes(panel: VideoPanel) -> Iterator[tuple[int, list[str]]]:
    """(line, control texts) for every painted line that carries any."""
    for index, line in enumerate(painted(panel)):
        if texts := controls(line):
            yield index, texts


async def open_with_a_frame(pilot: Pilot[Any], source: FrameSource, marker_x: int = 10) -> VideoPanel:
    app: AgentTuiApp = pilot.app  # type: ignore[assignment]
    app.video_feed.open_stream = source.open  # type: ignore[assignment]
    await emit(pilot, video_event(StandInVideoTrack()))
    await source.queue.put(i420(bars_rgb(marker_x=marker_x)))
    await settle(pilot)
    return app.video_panel


async def test_kitty_picture_rides_in_the_last_line_and_is_replaced_then_deleted() -> None:
    clock = FakeClock()
    app = graphics_app("kitty", clock)
    source = FrameSource()
    async with app.run_test(size=(120, 36)) as pilot:
        written = record_output(app)
        panel = await open_with_a_frame(pilot, source)
        assert app.video_graphics is Graphics.KITTY and panel.frames_drawn == 1
        content = panel.content_region

        lines = painted(panel)
        assert {line.cell_length for line in lines} == {panel.region.width}
        assert [index for index, _ in escapes(panel)] == [last_line(panel)]
        for line in lines[1:-1]:  # every content line is blank cells between the borders
            assert "".join(s.text for s in line if not s.control)[1:-1].strip() == ""
        move, image, resume = controls(lines[last_line(panel)])
        picture = panel.picture()
        assert picture is not None
        # A 160x90 frame is sent as it is (kitty enlarges it) over the widest 16:9 block that fits.
        assert (picture.columns, picture.rows) == (content.width, round(content.width * 10 * 90 / 160 / 20))
        assert image.startswith(
            f"\x1b_Ga=T,f=24,s=160,v=90,c={picture.columns},r={picture.rows},i={PANEL_IMAGE_ID},q=2,C=1,"
        )
        top = content.y + (content.height - picture.rows) // 2
        assert move == Control.move_to(content.x + (content.width - picture.columns) // 2, top).segment.text
        assert resume == Control.move_to(content.right, content.bottom - 1).segment.text
        assert written == []

        clock.advance(0.2)
        await source.queue.put(i420(bars_rgb(marker_x=90)))
        await settle(pilot)
        assert panel.frames_drawn == 2
        [(_, (_, newer, _))] = list(escapes(panel))
        assert newer != image and newer.startswith(image.split(";", 1)[0])  # the same id: replaced in place

        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not panel.display
        assert written.count(KITTY_DELETE) == 1


async def test_kitty_picture_goes_under_a_dialog_and_comes_back() -> None:
    clock = FakeClock()
    app = graphics_app("kitty", clock)
    source = FrameSource()
    async with app.run_test(size=(120, 36)) as pilot:
        written = record_output(app)
        panel = await open_with_a_frame(pilot, source)

        await pilot.press("f1")
        await settle(pilot)
        assert app.screen is not app.main
        assert written.count(KITTY_DELETE) == 1  # it would float over the help screen
        assert list(escapes(panel)) == []  # and it is not drawn again underneath

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main
        assert [index for index, _ in escapes(panel)] == [last_line(panel)]

        # Back on top, the screen was painted with the picture again: closing now deletes it again.
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert written.count(KITTY_DELETE) == 2


async def test_leaving_the_app_deletes_the_kitty_picture() -> None:
    app = graphics_app("kitty", FakeClock())
    source = FrameSource()
    async with app.run_test(size=(120, 36)) as pilot:
        written = record_output(app)
        await open_with_a_frame(pilot, source)
        assert written == []
    assert written == [KITTY_DELETE]


async def test_a_resized_kitty_panel_scales_the_same_frame_to_its_new_block() -> None:
    clock = FakeClock()
    app = graphics_app("kitty", clock)
    source = FrameSource()
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_with_a_frame(pilot, source)
        before = panel.picture()
        await pilot.resize_terminal(100, 36)
        await settle(pilot)
        after = panel.picture()
        assert before is not None and after is not None
        assert after.columns == panel.cells()[0] < before.columns
        assert f",c={after.columns},r={after.rows}," in after.escape


async def test_sixel_picture_is_drawn_pixel_for_pixel_and_needs_no_delete() -> None:
    clock = FakeClock()
    app = graphics_app("sixel", clock)
    source = FrameSource()
    async with app.run_test(size=(120, 36)) as pilot:
        written = record_output(app)
        panel = await open_with_a_frame(pilot, source)
        content = panel.content_region
        assert app.video_graphics is Graphics.SIXEL
        # The panel's pixels: 16:9 across the full width of the panel, enlarged from 160x90.
        width, height = content.width * CELL.width, content.width * CELL.width * 90 // 160
        assert panel.picture_size((160, 90)) == (width, height)

        [(line, (move, image, resume))] = list(escapes(panel))
        assert line == last_line(panel)
        assert image.startswith(f'\x1bP0;1;0q"1;1;{width};{height}#')
        rows = -(-height // CELL.height)
        assert move == Control.move_to(content.x, content.y + (content.height - rows) // 2).segment.text
        assert resume == Control.move_to(content.right, content.bottom - 1).segment.text

        clock.advance(0.2)
        await source.queue.put(i420(bars_rgb(marker_x=90)))
        await settle(pilot)
        [(_, (_, newer, _))] = list(escapes(panel))
        assert newer != image

        await pilot.press("f1")
        await settle(pilot)
        assert list(escapes(panel)) == []  # the dialog's repaint of these cells clears sixel pixels
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not panel.display
        assert not any(text.startswith(("\x1b_G", "\x1bP")) for text in written)


async def test_a_shrunk_sixel_panel_waits_for_a_frame_of_its_new_size() -> None:
    clock = FakeClock()
    app = graphics_app("sixel", clock)
    source = FrameSource()
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_with_a_frame(pilot, source)
        await pilot.resize_terminal(100, 36)
        await settle(pilot)
        assert panel.picture() is None  # the old picture is wider than the panel now: not drawn
        assert list(escapes(panel)) == []
        clock.advance(0.2)
        await source.queue.put(i420(bars_rgb(marker_x=50)))
        await settle(pilot)
        picture = panel.picture()
        assert picture is not None and picture.columns == panel.cells()[0]


class StandInWriter:
    """Stands in for Textual's output thread: its queue holds ``queued`` writes the terminal has not taken."""

    def __init__(self) -> None:
        self.queued = 0
        self._queue = self

    def qsize(self) -> int:
        return self.queued


@pytest.mark.parametrize("graphics", ["kitty", "sixel", "halfblock"])
async def test_frames_wait_while_the_terminal_is_behind(graphics: str) -> None:
    clock = FakeClock()
    app = graphics_app(graphics, clock)
    source = FrameSource()
    async with app.run_test(size=(120, 36)) as pilot:
        writer = StandInWriter()
        app._driver._writer_thread = writer  # type: ignore[union-attr]
        panel = await open_with_a_frame(pilot, source)
        assert panel.frames_drawn == 1 and queued_writes(app) == 0

        writer.queued = 3  # a picture still on its way over a slow link
        for marker_x in (30, 50):
            clock.advance(0.2)
            await source.queue.put(i420(bars_rgb(marker_x=marker_x)))
            await settle(pilot)
        assert panel.frames_drawn == 1  # skipped before any conversion
        assert app.video_feed.frames_received == 3 and app.video_feed.frames_shown == 1

        writer.queued = 0
        await source.queue.put(i420(bars_rgb(marker_x=70)))  # the very next frame is shown
        await settle(pilot)
        assert panel.frames_drawn == 2


def test_auto_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-kitty")
    assert graphics_app("auto", FakeClock()).video_graphics is Graphics.KITTY
    assert graphics_app("halfblock", FakeClock()).video_graphics is Graphics.HALFBLOCK
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1,0")
    assert graphics_app("auto", FakeClock()).video_graphics is Graphics.HALFBLOCK
    assert graphics_app("sixel", FakeClock()).video_graphics is Graphics.SIXEL
