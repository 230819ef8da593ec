"""The headless formats: every event type in JSON Lines and in lines, and the transcript file."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from agent_tui.headless import jsonl, lines
from agent_tui.headless.records import (
    SCHEMA_VERSION,
    FileSent,
    OutputEvent,
    RpcResult,
    RunEnded,
    RunError,
    RunStarted,
    RunWarning,
    iso_timestamp,
    to_record,
)
from agent_tui.headless.runner import _Output
from agent_tui.headless.transcript_file import TranscriptFile
from agent_tui.session.agent_state import AgentFailure, AgentState
from agent_tui.session.agent_stream.events import ToolCall, ToolResult
from agent_tui.session.connection import ConnectionState
from agent_tui.session.encryption_state import EncryptionState
from agent_tui.session.events import (
    AgentAttributesChanged,
    AgentAudioTrackChanged,
    AgentExpressionChanged,
    AgentJoined,
    AgentLeft,
    AgentStateChanged,
    ByteStreamReceived,
    ConnectionStateChanged,
    EncryptionError,
    EncryptionStateChanged,
    MessageChanged,
    SessionWarning,
)
from agent_tui.session.expression import AgentMood
from agent_tui.session.transcript import Message, MessageKind, Speaker

AT = 1_700_000_000.25  # 2023-11-14T22:13:20.250Z


def message(
    *,
    final: bool = True,
    speaker: Speaker = Speaker.AGENT,
    kind: MessageKind = MessageKind.TRANSCRIPT,
    text: str = "Hello there",
    cancelled: bool = False,
) -> MessageChanged:
    return MessageChanged(
        at=AT,
        new=False,
        message=Message(
            id="seg-1",
            speaker=speaker,
            kind=kind,
            text=text,
            first_seen=AT - 1,
            final=final,
            participant_identity="agent-1",
            cancelled=cancelled,
        ),
    )


#: Every event the headless output shows, with the JSON fields and the text line it must produce.
CASES: list[tuple[OutputEvent, str, dict[str, object], str]] = [
    (
        RunStarted(at=AT, room="r1", identity="me", url="wss://x.example", agent="bot"),
        "session",
        {"room": "r1", "identity": "me", "url": "wss://x.example", "agent": "bot"},
        "session: room r1 as me on wss://x.example agent bot",
    ),
    (
        ConnectionStateChanged(
            at=AT,
            state=ConnectionState.DISCONNECTED,
            previous=ConnectionState.CONNECTED,
            reason="connection lost",
        ),
        "connection_state",
        {"state": "disconnected", "previous": "connected", "reason": "connection lost"},
        "connection: disconnected (connection lost)",
    ),
    (
        AgentStateChanged(at=AT, state=AgentState.LISTENING, previous=AgentState.THINKING),
        "agent_state",
        {"state": "listening", "previous": "thinking", "failure": None},
        "agent state: listening",
    ),
    (
        AgentStateChanged(
            at=AT, state=AgentState.FAILED, previous=AgentState.CONNECTING, failure=AgentFailure.DID_NOT_JOIN
        ),
        "agent_state",
        {"state": "failed", "previous": "connecting", "failure": "Agent did not join the room."},
        "agent state: failed — Agent did not join the room.",
    ),
    (
        AgentExpressionChanged(at=AT, mood=AgentMood.EXCITED, expression="speak excited"),
        "agent_expression",
        {"mood": "excited", "expression": "speak excited"},
        "agent expression: excited — speak excited",
    ),
    (
        AgentExpressionChanged(at=AT, mood=None, expression=None),
        "agent_expression",
        {"mood": None, "expression": None},
        "agent expression: neutral",
    ),
    (
        AgentJoined(at=AT, identity="agent-1", name="Bot", attributes={}),
        "agent_joined",
        {"identity": "agent-1", "name": "Bot"},
        "agent joined: agent-1",
    ),
    (
        AgentLeft(at=AT, identity="agent-1", unexpected=True),
        "agent_left",
        {"identity": "agent-1", "unexpected": True},
        "agent left: agent-1 (unexpected)",
    ),
    (
        message(),
        "message",
        {
            "id": "seg-1",
            "speaker": "agent",
            "kind": "transcript",
            "text": "Hello there",
            "first_seen": "2023-11-14T22:13:19.250Z",
            "cancelled": False,
        },
        "agent: Hello there",
    ),
    (
        message(speaker=Speaker.USER, kind=MessageKind.CHAT, text="two\nlines"),
        "message",
        {
            "id": "seg-1",
            "speaker": "user",
            "kind": "chat",
            "text": "two\nlines",
            "first_seen": "2023-11-14T22:13:19.250Z",
            "cancelled": False,
        },
        "you (chat): two lines",
    ),
    (
        message(speaker=Speaker.USER, text="what time is it", cancelled=True),
        "message",
        {
            "id": "seg-1",
            "speaker": "user",
            "kind": "transcript",
            "text": "what time is it",
            "first_seen": "2023-11-14T22:13:19.250Z",
            "cancelled": True,
        },
        "you: what time is it (cancelled)",
    ),
    (
        RpcResult(at=AT, method="get_time", response="noon"),
        "rpc",
        {"method": "get_time", "response": "noon"},
        "rpc get_time → noon",
    ),
    (
        RpcResult(at=AT, method="get_time", error="RPC 'get_time' failed: nope (code 1500)."),
        "rpc",
        {"method": "get_time", "error": "RPC 'get_time' failed: nope (code 1500)."},
        "rpc get_time failed: RPC 'get_time' failed: nope (code 1500).",
    ),
    (
        FileSent(at=AT, path="/tmp/a.txt", stream_id="s1"),
        "file_sent",
        {"path": "/tmp/a.txt", "stream_id": "s1"},
        "file sent: /tmp/a.txt (stream s1)",
    ),
    (SessionWarning(at=AT, message="slow"), "warning", {"message": "slow"}, "warning: slow"),
    (
        EncryptionStateChanged(at=AT, identity="agent-1", state=EncryptionState.OK, previous=None),
        "encryption_state",
        {"identity": "agent-1", "state": "ok", "previous": None},
        "encryption of agent-1: ok",
    ),
    (
        EncryptionError(
            at=AT, identity="agent-1", state=EncryptionState.DECRYPTION_FAILED, message="Cannot decrypt."
        ),
        "encryption_error",
        {"identity": "agent-1", "state": "decryption_failed", "message": "Cannot decrypt."},
        "encryption error: Cannot decrypt.",
    ),
    (RunWarning(at=AT, message="no answer"), "warning", {"message": "no answer"}, "warning: no answer"),
    (
        RunError(at=AT, message="Could not connect.", exit_code=4),
        "error",
        {"message": "Could not connect.", "exit_code": 4},
        "error: Could not connect. (exit 4)",
    ),
    (
        RunEnded(at=AT, exit_code=0, reason="every message was answered"),
        "end",
        {"exit_code": 0, "reason": "every message was answered"},
        "ended: every message was answered (exit 0)",
    ),
    (
        ToolCall(
            at=AT, call_id="c1", name="lookup", arguments='{"city": "Paris"}', id="i1", created_at=AT - 1
        ),
        "tool_call",
        {
            "call_id": "c1",
            "name": "lookup",
            "arguments": '{"city": "Paris"}',
            "id": "i1",
            "created_at": AT - 1,
            "from_history": False,
        },
        'tool call: lookup({"city": "Paris"})',
    ),
    (
        # a run that joined late: the call came from the agent's history, not live
        ToolCall(at=AT, call_id="c1", name="get_time", arguments="{}", created_at=AT - 60, from_history=True),
        "tool_call",
        {
            "call_id": "c1",
            "name": "get_time",
            "arguments": "{}",
            "id": "",
            "created_at": AT - 60,
            "from_history": True,
        },
        "tool call: get_time({}) (from history)",
    ),
    (
        ToolResult(at=AT, call_id="c1", name="get_time", output="03:11", is_error=False, from_history=True),
        "tool_result",
        {
            "call_id": "c1",
            "name": "get_time",
            "output": "03:11",
            "is_error": False,
            "created_at": None,
            "from_history": True,
        },
        "tool get_time → 03:11 (from history)",
    ),
    (
        ToolResult(at=AT, call_id="c2", name="lookup", output="no such city", is_error=True),
        "tool_result",
        {
            "call_id": "c2",
            "name": "lookup",
            "output": "no such city",
            "is_error": True,
            "created_at": None,
            "from_history": False,
        },
        "tool lookup failed no such city",
    ),
]


@pytest.mark.parametrize(("event", "kind", "fields", "line"), CASES)
def test_json_line_has_version_type_timestamp_and_fields(
    event: OutputEvent, kind: str, fields: dict[str, object], line: str
) -> None:
    text = jsonl.format(event)
    assert text is not None and "\n" not in text
    decoded = json.loads(text)
    assert decoded == {"v": SCHEMA_VERSION, "type": kind, "ts": "2023-11-14T22:13:20.250Z", **fields}


@pytest.mark.parametrize(("event", "kind", "fields", "line"), CASES)
def test_text_line(event: OutputEvent, kind: str, fields: dict[str, object], line: str) -> None:
    text = lines.format(event)
    assert text is not None and "\n" not in text
    assert re.fullmatch(r"\d\d:\d\d:\d\d " + re.escape(line), text), text


@pytest.mark.parametrize(
    "event",
    [
        message(final=False),
        AgentAttributesChanged(at=AT, identity="a", attributes={"k": "v"}, changed={"k": "v"}),
        AgentAudioTrackChanged(at=AT, track=None, participant_identity=None),
        ByteStreamReceived(
            at=AT, sender_identity="a", topic="t", name="n", mime_type="x/y", data=b"1", attributes={}
        ),
    ],
)
def test_events_without_headless_output(event: OutputEvent) -> None:
    assert to_record(event) is None
    assert jsonl.format(event) is None
    assert lines.format(event) is None


def test_session_line_without_url_or_agent() -> None:
    text = lines.format(RunStarted(at=AT, room="r", identity="me", url=None, agent=None))
    assert text is not None and text.endswith("session: room r as me")


def test_iso_timestamp_is_utc_with_milliseconds() -> None:
    assert iso_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert iso_timestamp(AT) == "2023-11-14T22:13:20.250Z"


def test_json_keeps_unicode_readable() -> None:
    text = jsonl.format(message(text="Grüße 👋"))
    assert text is not None and "Grüße 👋" in text


# -- the transcript file ---------------------------------------------------------------------------------
def test_transcript_is_on_disk_after_each_message_before_close(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    transcript = TranscriptFile.open(path)
    record = to_record(message())
    assert record is not None
    transcript.write(record)
    # Read through another handle while ours is still open: the line must already be there.
    first = path.read_text(encoding="utf-8").splitlines()
    assert len(first) == 1
    assert json.loads(first[0])["text"] == "Hello there"
    second = to_record(message(text="More"))
    assert second is not None
    transcript.write(second)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2
    transcript.close()
    assert transcript.closed


def test_transcript_appends_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    record = to_record(message())
    assert record is not None
    for _ in range(2):
        transcript = TranscriptFile.open(path)
        transcript.write(record)
        transcript.close()
    assert len(path.read_text().splitlines()) == 2
    assert path.stat().st_mode & 0o077 == 0


def test_transcript_holds_messages_only(tmp_path: Path) -> None:
    transcript = TranscriptFile.open(tmp_path / "t.jsonl")
    record = to_record(RunWarning(at=AT, message="x"))
    assert record is not None
    with pytest.raises(ValueError, match="message records only"):
        transcript.write(record)
    transcript.close()


def test_transcript_open_fails_with_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        TranscriptFile.open(tmp_path / "missing-dir" / "t.jsonl")


def test_a_final_message_that_is_cancelled_later_is_written_again_marked() -> None:
    out = io.StringIO()
    output = _Output(out, as_json=True)
    heard = message(speaker=Speaker.USER, text="what time is it")
    output.emit(heard)
    output.emit(heard)  # the same final text again: written once
    output.emit(message(speaker=Speaker.USER, text="what time is it", cancelled=True))
    written = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["text"], r["cancelled"]) for r in written] == [
        ("what time is it", False),
        ("what time is it", True),
    ]
