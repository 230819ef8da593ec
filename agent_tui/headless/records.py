"""The one mapping from events to output records, shared by every headless format.

A record is a plain dict: ``type``, ``at`` (Unix seconds, rendered by each format) and the type's fields.
The session's own events come from :mod:`agent_tui.session.events`; the runner adds the few things only
it knows (the run started, an RPC reply, a file sent, a warning, the fatal error, the end) as the small
event classes below, so both kinds flow through the same formatters and the human-readable and JSON
outputs cannot disagree about what happened.

Events that carry nothing a headless reader can act on (audio track changes, attribute updates, byte
streams, interim transcript updates) map to None and are not printed.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from agent_tui.session import (
    AgentExpressionChanged,
    AgentJoined,
    AgentLeft,
    AgentStateChanged,
    ConnectionStateChanged,
    DataTrackFrameReceived,
    DataTrackPublished,
    DataTrackUnpublished,
    EncryptionError,
    EncryptionStateChanged,
    InsightEvent,
    MessageChanged,
    SessionEvent,
    SessionWarning,
    UserTranscript,
)

#: Bumped when a field is removed or changes meaning; adding a type or a field does not bump it.
SCHEMA_VERSION = 2

Record = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class RunnerEvent:
    """Base of the events the runner itself produces."""

    type: ClassVar[str] = "runner"
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, kw_only=True)
class RunStarted(RunnerEvent):
    """The room is joined: where we are and whom we asked for."""

    type: ClassVar[str] = "session"
    room: str | None
    identity: str | None
    url: str | None
    agent: str | None


@dataclass(frozen=True, kw_only=True)
class RpcResult(RunnerEvent):
    type: ClassVar[str] = "rpc"
    method: str
    response: str | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class FileSent(RunnerEvent):
    type: ClassVar[str] = "file_sent"
    path: str
    stream_id: str


@dataclass(frozen=True, kw_only=True)
class RunWarning(RunnerEvent):
    type: ClassVar[str] = "warning"
    message: str


@dataclass(frozen=True, kw_only=True)
class RunError(RunnerEvent):
    """The error that ends the run; its one line is also what stderr shows."""

    type: ClassVar[str] = "error"
    message: str
    exit_code: int


@dataclass(frozen=True, kw_only=True)
class RunEnded(RunnerEvent):
    type: ClassVar[str] = "end"
    exit_code: int
    reason: str


OutputEvent = SessionEvent | RunnerEvent


def iso_timestamp(seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: sortable as text and unambiguous across machines."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload_fields(payload: bytes) -> dict[str, str]:
    """A data-track payload as JSON: ``text`` when it is UTF-8 (the payload is exactly that text's UTF-8,
    so nothing is lost), else ``payload_base64``; one of the two, never both."""
    try:
        return {"text": payload.decode("utf-8")}
    except UnicodeDecodeError:
        return {"payload_base64": base64.b64encode(payload).decode("ascii")}


def to_record(event: OutputEvent) -> Record | None:
    """The record for ``event``, or None when it is not part of the headless output."""
    fields = _fields(event)
    if fields is None:
        return None
    return {"type": event.type, "at": event.at, **fields}


def _fields(event: OutputEvent) -> dict[str, Any] | None:
    match event:
        case ConnectionStateChanged():
            return {"state": event.state.value, "previous": event.previous.value, "reason": event.reason}
        case AgentStateChanged():
            failure = event.failure.value if event.failure is not None else None
            return {"state": event.state.value, "previous": event.previous.value, "failure": failure}
        case AgentExpressionChanged():
            mood = event.mood.value if event.mood is not None else None
            return {"mood": mood, "expression": event.expression}
        case AgentJoined():
            return {"identity": event.identity, "name": event.name}
        case AgentLeft():
            return {"identity": event.identity, "unexpected": event.unexpected}
        case MessageChanged():
            message = event.message
            if not message.final:
                return None
            return {
                "id": message.id,
                "speaker": message.speaker.value,
                "kind": message.kind.value,
                "text": message.text,
                "first_seen": iso_timestamp(message.first_seen),
                "cancelled": message.cancelled,
            }
        case DataTrackPublished() | DataTrackUnpublished():
            return {"track": event.track.name, "participant": event.track.participant_identity}
        case DataTrackFrameReceived():
            return {
                "track": event.name,
                "participant": event.participant_identity,
                "user_timestamp": event.user_timestamp,
                **payload_fields(event.payload),
            }
        case EncryptionStateChanged():
            previous = event.previous.value if event.previous is not None else None
            return {"identity": event.identity, "state": event.state.value, "previous": previous}
        case EncryptionError():
            return {"identity": event.identity, "state": event.state.value, "message": event.message}
        case SessionWarning() | RunWarning():
            return {"message": event.message}
        case RunStarted():
            return {"room": event.room, "identity": event.identity, "url": event.url, "agent": event.agent}
        case RpcResult():
            if event.error is not None:
                return {"method": event.method, "error": event.error}
            return {"method": event.method, "response": event.response}
        case FileSent():
            return {"path": event.path, "stream_id": event.stream_id}
        case RunError():
            return {"message": event.message, "exit_code": event.exit_code}
        case RunEnded():
            return {"exit_code": event.exit_code, "reason": event.reason}
        case UserTranscript():
            return event.to_fields() if event.is_final else None
        case InsightEvent():
            return None if event.type in _QUIET_INSIGHT else event.to_fields()
    return None


#: Agent-session events too frequent or too internal for a run's output (they stay available in-process).
_QUIET_INSIGHT = frozenset({"eot_prediction", "agent_debug", "amd_prediction"})
