"""The data-tracks panel, driven by FakeConversation's agent: hidden with no track, then each of the
agent's tracks with its frame rate, count and latest frame; a track that goes away leaves the list."""

from __future__ import annotations

import time

import pytest

from agent_tui.app.widgets.data_tracks_panel import DataTracksPanel, preview
from agent_tui.session.testing import FakeConversation
from tests.support.waiting import wait_until

from .conftest import FakeClock, make_app
from .screen_text import screen_text

pytestmark = pytest.mark.timeout(30)


async def test_the_agents_data_tracks_are_listed_with_rates_and_latest_frames() -> None:
    fake = FakeConversation()
    clock = FakeClock()
    app = make_app(session=fake, clock=clock)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.main.query_one(DataTracksPanel)
        assert not panel.display or not panel.has_class("-shown")
        pose = fake.publish_data_track("pose")
        await wait_until(lambda: ("subscribe_data_track", ("pose", False)) in fake.calls, between=pilot.pause)
        start = time.time() - 0.5
        for i in range(10):  # 20 frames a second, the last one just now
            fake.push_data_frame(pose, b'{"x": %d}' % i, user_timestamp=1000 + i, at=start + i * 0.05)
        await wait_until(
            lambda: "pose 20.0 fps · 10" in screen_text(app), what="the rate", between=pilot.pause
        )
        assert panel.has_class("-shown")
        await wait_until(
            lambda: '{"x": 9} @1009' in screen_text(app), what="the latest frame", between=pilot.pause
        )

        depth = fake.publish_data_track("depth")
        await wait_until(
            lambda: ("subscribe_data_track", ("depth", False)) in fake.calls, between=pilot.pause
        )
        fake.push_data_frame(depth, b"\x00\xff\x10")
        await wait_until(
            lambda: "3 bytes" in screen_text(app), what="a binary frame's size", between=pilot.pause
        )

        fake.unpublish_data_track(pose)
        await wait_until(
            lambda: "pose" not in screen_text(app), what="the gone track unlisted", between=pilot.pause
        )
        assert "depth" in screen_text(app)


async def test_a_stalled_track_falls_to_zero_on_the_apps_own_clock() -> None:
    fake = FakeConversation()
    clock = FakeClock()
    app = make_app(session=fake, clock=clock)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        pose = fake.publish_data_track("pose")
        await wait_until(lambda: ("subscribe_data_track", ("pose", False)) in fake.calls, between=pilot.pause)
        start = time.time() - 3.0  # frames that stopped more than a rate window ago
        for i in range(10):
            fake.push_data_frame(pose, b"x", at=start + i * 0.05)
        await wait_until(lambda: "pose" in screen_text(app), between=pilot.pause)
        clock.advance(1.0)
        app.refresh_now()
        await wait_until(
            lambda: "pose 0.0 fps · 10" in screen_text(app), what="the rate at 0", between=pilot.pause
        )


def test_a_frame_preview_fits_its_line() -> None:
    assert preview(b"a\nb") == "a b"
    assert preview(b"\xff") == "1 bytes"
    assert len(preview(b"x" * 100)) == 30 and preview(b"x" * 100).endswith("…")
