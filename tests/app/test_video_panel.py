"""The agent's video panel: opens when the agent publishes video, updates with frames at a bounded rate,
closes (and stops reading) on ctrl+o; ``--no-video``; the half-block picture as an SVG snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from agent_tui.session import AgentVideoTrackChanged
from agent_tui.video.renderer_halfblock import UPPER_HALF
from agent_tui.video.settings import VideoSettings

from .conftest import FakeClock, emit, make_app, notes
from .screen_text import screen_text
from .video_frames import FrameSource, StandInVideoTrack, bars_rgb, i420

pytestmark = pytest.mark.timeout(30)


def video_event(track: object | None) -> AgentVideoTrackChanged:
    return AgentVideoTrackChanged(track=track, participant_identity="avatar" if track else None)  # type: ignore[arg-type]


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.pause()


async def test_panel_opens_updates_and_closes() -> None:
    clock = FakeClock()
    app = make_app(clock=clock)
    source = FrameSource()
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        app.video_feed.open_stream = source.open  # type: ignore[assignment]
        panel = app.video_panel
        assert not panel.display  # no agent video yet
        await emit(pilot, video_event(StandInVideoTrack()))
        assert panel.display and source.opened == 1
        assert "Waiting for the agent's video" in screen_text(app)

        await source.queue.put(i420(bars_rgb(marker_x=10)))
        await settle(pilot)
        assert panel.frames_drawn == 1
        first = screen_text(app)
        assert UPPER_HALF in first
        columns, rows = panel.cells()
        assert app.video_feed.frames_shown == 1

        # A frame sooner than 1/panel_fps after the last one is dropped before any conversion.
        await source.queue.put(i420(bars_rgb(marker_x=90)))
        await settle(pilot)
        assert panel.frames_drawn == 1 and app.video_feed.frames_received == 2

        clock.advance(0.2)
        await source.queue.put(i420(bars_rgb(marker_x=90)))
        await settle(pilot)
        assert panel.frames_drawn == 2
        assert panel.cells() == (columns, rows)

        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not panel.display
        assert source.closed == 1  # the stream is closed: nothing is read or converted
        assert not app.session.agent_video_subscribed  # and the SDK is told to unsubscribe
        assert "Agent video hidden." in notes(app)

        await pilot.press("ctrl+o")
        await settle(pilot)
        assert panel.display and source.opened == 2
        assert app.session.agent_video_subscribed

        await emit(pilot, video_event(None))  # the avatar left
        await settle(pilot)
        assert not panel.display and source.closed == 2


async def test_the_marker_moves_across_the_panel() -> None:
    clock = FakeClock()
    app = make_app(clock=clock)
    source = FrameSource()
    async with app.run_test(size=(120, 36)) as pilot:
        app.video_feed.open_stream = source.open  # type: ignore[assignment]
        await emit(pilot, video_event(StandInVideoTrack()))
        positions = []
        for marker_x in (10, 60, 110):
            clock.advance(0.5)
            await source.queue.put(i420(bars_rgb(marker_x=marker_x)))
            await settle(pilot)
            strips = app.video_panel._strips
            bottom = strips[-2]  # a cell row inside the black strip
            text = "".join(segment.text for segment in bottom)
            white = [
                index
                for index, segment in enumerate(_cells(bottom))
                if segment is not None
                and segment.color is not None
                and segment.color.triplet is not None
                and min(segment.color.triplet) > 200
            ]
            assert white, f"no marker in {text!r}"
            positions.append(sum(white) / len(white))
        assert positions[0] < positions[1] < positions[2]


def _cells(strip: Any) -> list[Any]:
    """The style of each cell of ``strip``."""
    styles = []
    for segment in strip:
        styles.extend([segment.style] * len(segment.text))
    return styles


async def test_no_video_keeps_the_panel_closed_until_asked() -> None:
    app = make_app(video_settings=VideoSettings(show_agent_video=False))
    source = FrameSource()
    async with app.run_test(size=(120, 36)) as pilot:
        app.video_feed.open_stream = source.open  # type: ignore[assignment]
        await emit(pilot, video_event(StandInVideoTrack()))
        assert not app.video_panel.display and source.opened == 0
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.video_panel.display and source.opened == 1


def test_snapshot_of_the_agent_video(snap_compare: Any) -> None:
    clock = FakeClock()
    app = make_app(clock=clock)
    source = FrameSource()

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()  # the screen is composed: its video view holds the feed
        app.video_feed.open_stream = source.open  # type: ignore[assignment]
        app.session.events.emit(video_event(StandInVideoTrack()))
        await settle(pilot)
        await source.queue.put(i420(bars_rgb(marker_x=40)))
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


async def test_a_frame_arriving_after_the_panel_is_gone_is_dropped_quietly() -> None:
    # A frame the feed was already handling when its view went away (the app closing).
    app = make_app()
    async with app.run_test(size=(100, 30)):
        panel, feed = app.video_panel, app.video_feed
        await panel.remove()
        assert feed.offer(i420(bars_rgb())) is False
        frames_drawn = panel.frames_drawn
        feed.offer(i420(bars_rgb()))
        assert panel.frames_drawn == frames_drawn
