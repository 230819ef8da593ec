"""The data-track events a front end gets, through FakeConversation (which feeds the same
DataTrackFeed the Session's rtc link does): published, rate-limited updates, frame events only when
asked for, unpublished."""

from __future__ import annotations

import pytest

from agent_tui.session import (
    DataTrackFrameReceived,
    DataTrackPublished,
    DataTrackUnpublished,
    DataTrackUpdated,
    SessionEvent,
)
from agent_tui.session.testing import FakeConversation


def recorded() -> tuple[FakeConversation, list[SessionEvent]]:
    fake = FakeConversation()
    events: list[SessionEvent] = []
    fake.events.subscribe(events.append)
    return fake, events


def test_a_track_nobody_asked_for_is_listed_and_receives_nothing() -> None:
    fake, events = recorded()
    sid = fake.publish_data_track("pose")
    fake.push_data_frame(sid, b"x")
    assert [type(e) for e in events] == [DataTrackPublished]
    assert [(v.name, v.subscribed, v.frames) for v in fake.data_tracks] == [("pose", False, 0)]


def test_a_subscribed_track_gives_rate_limited_updates_and_no_frame_events() -> None:
    fake, events = recorded()
    fake.subscribe_data_track("pose")
    sid = fake.publish_data_track("pose")
    for i in range(20):  # 2 s at 10 fps
        fake.push_data_frame(sid, b"%d" % i, user_timestamp=i, at=1000.0 + i * 0.1)
    updates = [e for e in events if isinstance(e, DataTrackUpdated)]
    assert not any(isinstance(e, DataTrackFrameReceived) for e in events)
    assert [u.track.frames for u in updates] == [1, 6, 11, 16]
    assert updates[-1].track.latest is not None and updates[-1].track.latest.payload == b"15"
    assert updates[-1].track.frame_rate == pytest.approx(10)


def test_every_frame_when_asked_with_its_name_participant_and_user_timestamp() -> None:
    fake, events = recorded()
    sid = fake.publish_data_track("pose")
    fake.subscribe_data_track("pose", every_frame=True)
    fake.push_data_frame(sid, b"a", user_timestamp=1700000000000)
    fake.push_data_frame(sid, b"b")
    frames = [e for e in events if isinstance(e, DataTrackFrameReceived)]
    assert [(f.name, f.participant_identity, f.payload, f.user_timestamp) for f in frames] == [
        ("pose", "agent-1", b"a", 1700000000000),
        ("pose", "agent-1", b"b", None),
    ]


def test_unpublished_carries_the_last_view_and_the_track_is_no_longer_listed() -> None:
    fake, events = recorded()
    fake.subscribe_data_track("pose")
    sid = fake.publish_data_track("pose")
    fake.push_data_frame(sid, b"a")
    fake.unpublish_data_track(sid)
    (gone,) = [e for e in events if isinstance(e, DataTrackUnpublished)]
    assert (gone.track.sid, gone.track.frames) == (sid, 1)
    assert fake.data_tracks == []
