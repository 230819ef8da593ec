"""Data tracks end to end, on both servers: a real ``rtc.Room`` on the agent's side publishes data tracks
and pushes frames with user timestamps; the Session lists them, receives the frames of the names it asked
for (with their timestamps, in order, at the rate sent) and publishes a track of its own that the agent
receives; and ``agent-tui --json --data-track`` writes them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from livekit import rtc

from agent_tui.session import (
    AgentState,
    CachingTokenSource,
    DataTrackError,
    DataTrackFrameReceived,
    DataTrackPublished,
    DataTrackUnpublished,
    LocalTokenSource,
    Session,
    SessionEvent,
    SessionOptions,
    unix_millis,
)
from tests.e2e.e2e_harness import ROOM, LiveServer
from tests.e2e.stand_in_agent import StandInAgent
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))
#: The agent's pace: 25 frames per second (40 ms apart), a typical rate for poses or sensor readings.
FRAME_INTERVAL_S = 0.04


@pytest.fixture
async def session(
    server: LiveServer, agent_in_room: StandInAgent
) -> AsyncIterator[tuple[Session, list[SessionEvent]]]:
    """A started Session in the room where the stand-in agent already is, and every event it publishes."""
    source = CachingTokenSource(LocalTokenSource(server.url, server.api_key, server.api_secret))
    made = Session(
        source, SessionOptions(agent_name="stand-in", room_name=ROOM, participant_identity="user-1")
    )
    events: list[SessionEvent] = []
    made.events.subscribe(events.append)
    try:
        await made.start()
        assert made.agent_state is AgentState.LISTENING
        yield made, events
    finally:
        await made.end()


async def paced_frames(track: rtc.LocalDataTrack, count: int, sent: list[tuple[bytes, int]]) -> None:
    """Push ``count`` frames at the agent's pace, each with its Unix-millisecond user timestamp."""
    for i in range(count):
        payload, stamp = f"frame {i}".encode(), unix_millis()
        track.try_push(rtc.DataTrackFrame(payload=payload, user_timestamp=stamp))
        sent.append((payload, stamp))
        await asyncio.sleep(FRAME_INTERVAL_S)  # the producer's pace, not a wait: the test waits on conditions


async def test_the_agents_data_track_frames_reach_the_session_with_their_timestamps_and_rate(
    session: tuple[Session, list[SessionEvent]], agent_in_room: StandInAgent
) -> None:
    live, events = session
    pose = await agent_in_room.room.local_participant.publish_data_track(name="pose")
    await wait_until(lambda: [v.name for v in live.data_tracks] == ["pose"], what="the agent's track listed")
    (view,) = live.data_tracks
    assert (view.participant_identity, view.subscribed, view.frames) == ("agent-1", False, 0)

    live.subscribe_data_track("pose", every_frame=True)
    sent: list[tuple[bytes, int]] = []
    # Frames pushed before the subscription is set up are not delivered: push until some arrive.
    pusher = asyncio.ensure_future(paced_frames(pose, 2000, sent))
    try:
        received = lambda: [e for e in events if isinstance(e, DataTrackFrameReceived)]  # noqa: E731
        await wait_until(lambda: len(received()) >= 60, what="60 frames of the agent's track", within_s=20)
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pusher
    frames = received()
    assert {(f.name, f.participant_identity) for f in frames} == {("pose", "agent-1")}
    got = [(f.payload, f.user_timestamp) for f in frames]
    assert set(got) <= set(sent), "every frame received is one sent, with its own timestamp"
    indexes = [sent.index(pair) for pair in got]
    assert indexes == sorted(indexes), "in the order sent"
    (view,) = live.data_tracks
    assert view.subscribed and view.frames >= 60
    assert view.latest is not None and (view.latest.payload, view.latest.user_timestamp) == got[-1]
    assert 1 / FRAME_INTERVAL_S * 0.5 <= view.frame_rate <= 1 / FRAME_INTERVAL_S * 1.2


async def test_tracks_published_before_and_after_the_session_joined_are_listed_and_unlisted(
    server: LiveServer, agent_in_room: StandInAgent
) -> None:
    early = await agent_in_room.room.local_participant.publish_data_track(name="early")
    source = CachingTokenSource(LocalTokenSource(server.url, server.api_key, server.api_secret))
    live = Session(
        source, SessionOptions(agent_name="stand-in", room_name=ROOM, participant_identity="user-1")
    )
    events: list[SessionEvent] = []
    live.events.subscribe(events.append)
    try:
        await live.start()
        await wait_until(
            lambda: [v.name for v in live.data_tracks] == ["early"], what="the early track listed"
        )
        late = await agent_in_room.room.local_participant.publish_data_track(name="late")
        await wait_until(
            lambda: sorted(v.name for v in live.data_tracks) == ["early", "late"],
            what="the late track listed",
        )
        await early.unpublish()
        await wait_until(lambda: [v.name for v in live.data_tracks] == ["late"], what="the early track gone")
        published = [e.track.name for e in events if isinstance(e, DataTrackPublished)]
        unpublished = [e.track.name for e in events if isinstance(e, DataTrackUnpublished)]
        assert sorted(published) == ["early", "late"] and unpublished == ["early"]
        await late.unpublish()
    finally:
        await live.end()
    assert live.data_tracks == []


async def test_our_data_track_reaches_the_agent_with_its_timestamps(
    session: tuple[Session, list[SessionEvent]], agent_in_room: StandInAgent
) -> None:
    live, _ = session
    received: list[tuple[str, str, bytes, int | None]] = []
    readers: list[asyncio.Task[None]] = []

    async def read(track: rtc.RemoteDataTrack) -> None:
        async for frame in track.subscribe():
            received.append((track.info.name, track.publisher_identity, frame.payload, frame.user_timestamp))

    agent_in_room.room.on(
        "data_track_published", lambda track: readers.append(asyncio.ensure_future(read(track)))
    )
    handle = await live.publish_data_track("user-pose")
    assert handle.name == "user-pose" and handle.published
    pushed: list[tuple[bytes, int]] = []

    async def push_one() -> None:
        payload, stamp = f"user frame {len(pushed)}".encode(), 1_000_000 + len(pushed)
        handle.push(payload, user_timestamp=stamp)
        pushed.append((payload, stamp))
        await asyncio.sleep(FRAME_INTERVAL_S)  # the pace of our pushes while the agent subscribes

    try:
        await wait_until(lambda: len(received) >= 10, what="10 of our frames at the agent", between=push_one)
    finally:
        for task in readers:
            task.cancel()
    assert {(name, who) for name, who, _, _ in received} == {("user-pose", "user-1")}
    got = [(payload, stamp) for _, _, payload, stamp in received]
    assert set(got) <= set(pushed)
    assert [pushed.index(pair) for pair in got] == sorted(pushed.index(pair) for pair in got)
    await handle.unpublish()
    assert not handle.published


async def test_headless_data_track_writes_each_frame_as_a_json_line(
    server: LiveServer, agent_in_room: StandInAgent
) -> None:
    """``agent-tui --json --data-track pose``, the real CLI process: one ``data_track_frame`` line per frame
    received, with the frame's text and user timestamp; the agent then leaves and the run ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(
        LIVEKIT_API_KEY=server.api_key, LIVEKIT_API_SECRET=server.api_secret, AGENT_TUI_CONFIG="/dev/null"
    )
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, "--json", "--text-only", "--url", server.url, "--room", ROOM, "--agent", "stand-in",
        "--data-track", "pose", "--exit-when", "agent-left", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    pose = await agent_in_room.room.local_participant.publish_data_track(name="pose")
    sent: list[tuple[bytes, int]] = []
    pusher = asyncio.ensure_future(paced_frames(pose, 2000, sent))
    records: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(30):
            while sum(r["type"] == "data_track_frame" for r in records) < 10:
                line = await process.stdout.readline()
                assert line, f"agent-tui ended early: {(await process.stderr.read()).decode()}"
                records.append(json.loads(line))
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pusher
    await agent_in_room.room.disconnect()
    rest, err = await asyncio.wait_for(process.communicate(), timeout=20)
    records += [json.loads(line) for line in rest.decode().splitlines()]
    assert process.returncode == 0, err.decode()
    frames = [r for r in records if r["type"] == "data_track_frame"]
    assert {(r["track"], r["participant"]) for r in frames} == {("pose", "agent-1")}
    got = [(str(r["text"]).encode(), r["user_timestamp"]) for r in frames]
    assert set(got) <= set(sent) and len(got) >= 10
    assert all(r["v"] == 2 and str(r["ts"]).endswith("Z") and "payload_base64" not in r for r in frames)
    assert ("data_track_published", "pose") in [(r["type"], r.get("track")) for r in records]


async def test_a_second_track_of_the_same_name_is_refused_in_one_line(
    session: tuple[Session, list[SessionEvent]],
) -> None:
    live, _ = session
    first = await live.publish_data_track("twice")
    with pytest.raises(DataTrackError) as refused:
        await asyncio.wait_for(live.publish_data_track("twice"), timeout=15)
    assert "'twice'" in str(refused.value) and "\n" not in str(refused.value)
    assert first.published
