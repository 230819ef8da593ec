"""The app's messages: one Textual message type per kind of Session event, so Textual's own dispatch
(``on_<message>`` handlers) routes them instead of one message and an ``isinstance`` chain.

The Session emits on its bus in its own task; :func:`message_for` wraps each event in the message of its
type and the app posts it, so widgets are only ever touched from the app's message loop. Every insight
event (tool calls, latency, agent info and errors) is one :class:`InsightReceived`: the insight presenter
routes those among themselves.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from textual.message import Message

from agent_tui.session import (
    AgentAttributesChanged,
    AgentExpressionChanged,
    AgentJoined,
    AgentLeft,
    AgentStateChanged,
    AgentVideoTrackChanged,
    ByteStreamReceived,
    ConnectionStateChanged,
    DataTrackPublished,
    DataTrackUnpublished,
    DataTrackUpdated,
    EncryptionError,
    InsightEvent,
    MessageChanged,
    SessionEvent,
    SessionWarning,
)

log = logging.getLogger(__name__)

E = TypeVar("E", bound=SessionEvent)


class SessionMessage(Message, Generic[E]):
    """A Session event, delivered through the app's message queue. Subclasses name the event type they
    carry (``event_type``); :func:`message_for` picks the subclass for an event."""

    event_type: ClassVar[type[SessionEvent]]
    _by_event: ClassVar[dict[type[SessionEvent], type[SessionMessage[Any]]]] = {}

    def __init_subclass__(cls, *, event_type: type[SessionEvent] | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if event_type is not None:
            cls.event_type = event_type
            SessionMessage._by_event[event_type] = cls

    def __init__(self, event: E) -> None:
        super().__init__()
        self.event = event


class ConnectionChanged(SessionMessage[ConnectionStateChanged], event_type=ConnectionStateChanged):
    pass


class AgentStateUpdated(SessionMessage[AgentStateChanged], event_type=AgentStateChanged):
    pass


class ExpressionUpdated(SessionMessage[AgentExpressionChanged], event_type=AgentExpressionChanged):
    pass


class TranscriptMessage(SessionMessage[MessageChanged], event_type=MessageChanged):
    pass


class AgentArrived(SessionMessage[AgentJoined], event_type=AgentJoined):
    pass


class AgentDeparted(SessionMessage[AgentLeft], event_type=AgentLeft):
    pass


class AttributesUpdated(SessionMessage[AgentAttributesChanged], event_type=AgentAttributesChanged):
    pass


class FileReceived(SessionMessage[ByteStreamReceived], event_type=ByteStreamReceived):
    pass


class VideoTrackUpdated(SessionMessage[AgentVideoTrackChanged], event_type=AgentVideoTrackChanged):
    pass


class WarningRaised(SessionMessage[SessionWarning], event_type=SessionWarning):
    pass


class DataTrackAppeared(SessionMessage[DataTrackPublished], event_type=DataTrackPublished):
    pass


class DataTrackGone(SessionMessage[DataTrackUnpublished], event_type=DataTrackUnpublished):
    pass


class DataTrackRefreshed(SessionMessage[DataTrackUpdated], event_type=DataTrackUpdated):
    pass


class EncryptionFailed(SessionMessage[EncryptionError], event_type=EncryptionError):
    pass


class InsightReceived(SessionMessage[InsightEvent], event_type=InsightEvent):
    pass


def message_for(event: SessionEvent) -> SessionMessage[Any] | None:
    """The message for ``event`` (found by its type or the nearest base), or None for events the app
    does not show (the agent's audio track: the audio engine takes it; data-track frames: the panel shows
    the latest frame from the track's state)."""
    for kind in type(event).__mro__:
        message_type = SessionMessage._by_event.get(kind)
        if message_type is not None:
            return message_type(event)
    return None


class SessionStartFailed(Message):
    """``Session.start`` raised; the error panel explains it."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


H = TypeVar("H", bound=Callable[..., None])


def shown_safely(handler: H) -> H:
    """A display bug must not end the conversation: a handler's error is logged for the report."""

    @functools.wraps(handler)
    def guarded(self: Any, message: SessionMessage[Any]) -> None:
        try:
            handler(self, message)
        except Exception:
            log.exception("could not show %s", type(message.event).__name__)

    return guarded  # type: ignore[return-value]
