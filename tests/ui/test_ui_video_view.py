"""AgentVideoView: hidden until the agent has video, the frames shown while open, nothing read while
closed or once the track is gone; snapshots with a frame at two sizes."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from agent_tui.session import AgentVideoTrackChanged
from agent_tui.ui import AgentVideoView
from tests.app.video_frames import FrameSource, StandInVideoTrack, bars_rgb, i420
from tests.support.waiting import wait_until

from .kit_host import KitHost

pytestmark = pytest.mark.timeout(30)


def video(track: object | None) -> AgentVideoTrackChanged:
    return AgentVideoTrackChanged(track=track, participant_identity="avatar" if track else None)  # type: ignore[arg-type]


def clock() -> float:
    return 0.0


async def test_the_view_shows_the_agents_video_while_open_and_reads_nothing_otherwise() -> None:
    host = KitHost(lambda: [AgentVideoView(clock=clock)])
    source = FrameSource()
    async with host.run_test(size=(60, 20)) as pilot:
        view = host.query_one(AgentVideoView)
        view.feed.open_stream = source.open  # type: ignore[assignment]
        assert not view.display and view.track is None
        host.conversation.feed(video(StandInVideoTrack()))
        await wait_until(lambda: view.display and source.opened == 1, between=pilot.pause)
        await source.queue.put(i420(bars_rgb()))
        await wait_until(lambda: view.frames_drawn == 1, between=pilot.pause)
        view.open = False
        assert not view.display and view.feed.track is None
        view.open = True
        await wait_until(lambda: source.opened == 2, between=pilot.pause)
        host.conversation.feed(video(None))
        await wait_until(lambda: not view.display, between=pilot.pause)
        assert view.feed.track is None


@pytest.mark.parametrize("size", [(40, 12), (90, 24)], ids=["narrow", "wide"])
def test_snapshot_of_a_frame(snap_compare: Any, size: tuple[int, int]) -> None:
    host = KitHost(lambda: [AgentVideoView(clock=clock)])
    source = FrameSource()

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        view = host.query_one(AgentVideoView)
        view.feed.open_stream = source.open  # type: ignore[assignment]
        host.conversation.feed(video(StandInVideoTrack()))
        await wait_until(lambda: source.opened == 1, between=pilot.pause)
        await source.queue.put(i420(bars_rgb(marker_x=40)))
        await wait_until(lambda: view.frames_drawn == 1, between=pilot.pause)
        await pilot.pause()

    assert snap_compare(host, terminal_size=size, run_before=run_before)
