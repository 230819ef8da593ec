"""``--data-track NAME``: every frame of the agent's track NAME as a ``data_track_frame`` record (text
or base64, with its user timestamp), the track's coming and going, and nothing of tracks not named."""

from __future__ import annotations

import base64
import io
import json

from agent_tui.config import Settings
from agent_tui.headless import jsonl, lines
from agent_tui.headless.runner import Script, run_headless
from agent_tui.session import AgentJoined, DataTrackFrameReceived, SessionEvent
from agent_tui.session.testing import FakeConversation


def agent_publishing_frames(fake: FakeConversation) -> None:
    """When the agent joins, it publishes "pose" (two frames, one of them binary) and "other" (one)."""

    def on_event(event: SessionEvent) -> None:
        if isinstance(event, AgentJoined):
            pose, other = fake.publish_data_track("pose"), fake.publish_data_track("other")
            fake.push_data_frame(pose, b'{"x": 1}', user_timestamp=1_700_000_000_123)
            fake.push_data_frame(pose, b"\xff\x00\x01")
            fake.push_data_frame(other, b"not asked for")
            fake.unpublish_data_track(pose)

    fake.events.subscribe(on_event)


async def run_json(fake: FakeConversation, script: Script) -> list[dict[str, object]]:
    out = io.StringIO()
    settings = Settings(ui=False, output="json", exit_when="idle", answer_timeout=2.0)
    code = await run_headless(
        settings, script, stdout=out, stderr=io.StringIO(), session_factory=lambda _: fake
    )
    assert code == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_every_frame_of_the_named_track_is_a_record_in_order() -> None:
    fake = FakeConversation()
    agent_publishing_frames(fake)
    records = await run_json(fake, Script(data_tracks=("pose",)))
    assert ("subscribe_data_track", ("pose", True)) in fake.calls
    frames = [r for r in records if r["type"] == "data_track_frame"]
    assert [{k: v for k, v in r.items() if k not in ("v", "ts")} for r in frames] == [
        {"type": "data_track_frame", "track": "pose", "participant": "agent-1",
         "user_timestamp": 1_700_000_000_123, "text": '{"x": 1}'},
        {"type": "data_track_frame", "track": "pose", "participant": "agent-1",
         "user_timestamp": None, "payload_base64": base64.b64encode(b"\xff\x00\x01").decode()},
    ]  # fmt: skip
    assert all(str(r["ts"]).endswith("Z") for r in frames)
    tracks = [
        (r["type"], r["track"])
        for r in records
        if str(r["type"]).startswith("data_track_") and r["type"] != "data_track_frame"
    ]
    assert tracks == [
        ("data_track_published", "pose"),
        ("data_track_published", "other"),
        ("data_track_unpublished", "pose"),
        ("data_track_unpublished", "other"),  # the session's end takes it along
    ]


async def test_without_the_flag_no_frame_is_written() -> None:
    fake = FakeConversation()
    agent_publishing_frames(fake)
    records = await run_json(fake, Script(sends=("hi",)))
    assert not [r for r in records if r["type"] == "data_track_frame"]


def test_a_frame_line_for_people() -> None:
    text = DataTrackFrameReceived(
        at=0.0, sid="DTR_1", name="pose", participant_identity="agent-1", payload=b"a\nb", user_timestamp=7
    )
    binary = DataTrackFrameReceived(
        at=0.0,
        sid="DTR_1",
        name="pose",
        participant_identity="agent-1",
        payload=b"\xff\xfe",
        user_timestamp=None,
    )
    assert (lines.format(text) or "").split(" ", 1)[1] == "data track pose (agent-1): a b (timestamp 7)"
    assert (lines.format(binary) or "").split(" ", 1)[
        1
    ] == "data track pose (agent-1): 2 bytes (base64 in --json)"
    assert json.loads(jsonl.format(binary) or "")["payload_base64"] == "//4="
