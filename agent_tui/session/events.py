"""Typed session events and the bus that delivers them.

Every event is a frozen dataclass with a stable ``type`` name; front ends either subscribe a callback
(the Textual app posts them as messages) or iterate :meth:`EventBus.stream` (the headless runner). The
same objects feed both, so the TUI and ``--no-ui`` cannot drift apart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from agent_tui.session.agent_state import AgentFailure, AgentState
from agent_tui.session.connection import ConnectionState
from agent_tui.session.data_tracks import DataTrackView
from agent_tui.session.encryption_state import EncryptionState
from agent_tui.session.expression import AgentMood
from agent_tui.session.transcript import Message

if TYPE_CHECKING:
    from livekit import rtc


def _now() -> float:
    return time.time()


@dataclass(frozen=True, kw_only=True)
class SessionEvent:
    """Base of every event: ``type`` names it on the wire (JSONL), ``at`` is the local time it happened."""

    type: ClassVar[str] = "event"
    at: float = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class ConnectionStateChanged(SessionEvent):
    type: ClassVar[str] = "connection_state"
    state: ConnectionState
    previous: ConnectionState
    reason: str | None = None
    #: True on the disconnect of a Session ended on purpose (:meth:`~agent_tui.session.Session.end`, or a
    #: failed start undone); False when the connection was lost. Front ends branch on this, not on ``reason``.
    deliberate: bool = False


@dataclass(frozen=True, kw_only=True)
class AgentStateChanged(SessionEvent):
    type: ClassVar[str] = "agent_state"
    state: AgentState
    previous: AgentState
    failure: AgentFailure | None = None


@dataclass(frozen=True, kw_only=True)
class AgentExpressionChanged(SessionEvent):
    """The agent's expression (``lk.expression`` on its transcripts) changed; both None when it decayed
    or the session ended (components-js ``useAgentExpression``)."""

    type: ClassVar[str] = "agent_expression"
    mood: AgentMood | None
    expression: str | None


@dataclass(frozen=True, kw_only=True)
class AgentJoined(SessionEvent):
    type: ClassVar[str] = "agent_joined"
    identity: str
    name: str
    attributes: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class AgentLeft(SessionEvent):
    """The agent participant left; ``unexpected`` unless our own ``end()`` caused it."""

    type: ClassVar[str] = "agent_left"
    identity: str
    unexpected: bool


@dataclass(frozen=True, kw_only=True)
class AgentAttributesChanged(SessionEvent):
    """The agent's attributes (the shared state) changed; ``attributes`` is the whole new set."""

    type: ClassVar[str] = "agent_attributes"
    identity: str
    attributes: Mapping[str, str]
    changed: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class MessageChanged(SessionEvent):
    """A conversation message was added (``new``) or updated in place (more text, or now final)."""

    type: ClassVar[str] = "message"
    message: Message
    new: bool


@dataclass(frozen=True, kw_only=True)
class ByteStreamReceived(SessionEvent):
    """A byte stream (a file) arrived completely from a participant."""

    type: ClassVar[str] = "byte_stream"
    sender_identity: str
    topic: str
    name: str
    mime_type: str
    data: bytes = field(repr=False)
    attributes: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class AgentAudioTrackChanged(SessionEvent):
    """The audio track to play for the agent appeared, changed or went away (``track`` is None)."""

    type: ClassVar[str] = "agent_audio_track"
    track: rtc.RemoteAudioTrack | None = field(repr=False)
    participant_identity: str | None


@dataclass(frozen=True, kw_only=True)
class AgentVideoTrackChanged(SessionEvent):
    """The agent's video track (its own, or its avatar worker's) appeared, changed or went away
    (``track`` is None); also None while agent video is switched off with
    :meth:`Session.set_agent_video_subscribed`, because an unsubscribed track is not received at all."""

    type: ClassVar[str] = "agent_video_track"
    track: rtc.RemoteVideoTrack | None = field(repr=False)
    participant_identity: str | None


@dataclass(frozen=True, kw_only=True)
class DataTrackPublished(SessionEvent):
    """A remote participant (the agent, its avatar worker, anyone) published a data track."""

    type: ClassVar[str] = "data_track_published"
    track: DataTrackView


@dataclass(frozen=True, kw_only=True)
class DataTrackUnpublished(SessionEvent):
    """A remote data track went away (unpublished, its participant left, or the session ended); ``track``
    is its last view."""

    type: ClassVar[str] = "data_track_unpublished"
    track: DataTrackView


@dataclass(frozen=True, kw_only=True)
class DataTrackUpdated(SessionEvent):
    """A subscribed data track received frames: its count, rate and latest frame. At most one per track
    every :data:`~agent_tui.session.data_tracks.UPDATE_INTERVAL_S`, so a fast track cannot flood the bus;
    a front end that lists tracks redraws on it (and on its own clock, to show a stalled rate fall)."""

    type: ClassVar[str] = "data_track_updated"
    track: DataTrackView


@dataclass(frozen=True, kw_only=True)
class DataTrackFrameReceived(SessionEvent):
    """One frame of a data track subscribed with ``every_frame=True`` (only those: frame-by-frame events
    are for callers that asked for each frame, such as ``--data-track``)."""

    type: ClassVar[str] = "data_track_frame"
    sid: str
    name: str
    participant_identity: str
    payload: bytes = field(repr=False)
    user_timestamp: int | None


@dataclass(frozen=True, kw_only=True)
class EncryptionStateChanged(SessionEvent):
    """A participant's end-to-end encryption state changed (the rtc SDK's ``e2ee_state_changed``);
    ``identity`` is ours for our own media's state. ``previous`` is None for the first state seen."""

    type: ClassVar[str] = "encryption_state"
    identity: str
    state: EncryptionState
    previous: EncryptionState | None


@dataclass(frozen=True, kw_only=True)
class EncryptionError(SessionEvent):
    """A participant's media cannot be encrypted or decrypted (JS ``RoomEvent.EncryptionError``):
    ``message`` says why in one line, and what to do. Published once when the failure starts."""

    type: ClassVar[str] = "encryption_error"
    identity: str
    state: EncryptionState
    message: str


@dataclass(frozen=True, kw_only=True)
class SessionWarning(SessionEvent):
    """Something went wrong that does not end the session; ``message`` is one secret-free line."""

    type: ClassVar[str] = "warning"
    message: str


EventCallback = Callable[[SessionEvent], Any]


class EventBus:
    """Fan-out of session events to callbacks and async streams, in emission order.

    Callbacks run synchronously in the emitter's task: they must not block. A callback that raises is
    reported through ``on_callback_error`` and never breaks the session.
    """

    def __init__(self, on_callback_error: Callable[[BaseException], None] | None = None) -> None:
        self._callbacks: list[EventCallback] = []
        self._queues: list[asyncio.Queue[SessionEvent | None]] = []
        self._on_callback_error = on_callback_error
        self._closed = False

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback`` for every event from now on; returns the function that unsubscribes."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    async def stream(self) -> AsyncIterator[SessionEvent]:
        """Every event from now on, until the bus is closed."""
        queue: asyncio.Queue[SessionEvent | None] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                event = await queue.get()
                if event is None:
                    return
                yield event
        finally:
            if queue in self._queues:
                self._queues.remove(queue)

    def emit(self, event: SessionEvent) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception as error:
                if self._on_callback_error is not None:
                    self._on_callback_error(error)
        for queue in self._queues:
            queue.put_nowait(event)

    def close(self) -> None:
        """Ends every :meth:`stream`; callbacks stay subscribed for a later start."""
        for queue in self._queues:
            queue.put_nowait(None)
        self._queues.clear()
