"""``SessionProvider``: the container that puts a conversation in context for the agent widgets inside it.

As the web's ``AgentSessionProvider`` does for React components, it holds one
:class:`~agent_tui.session.Conversation` (the real Session, or the core's ``FakeConversation``) and,
optionally, the audio engine and the video controller that publishes our camera and screen, and exposes
them to its descendants the Textual way:

* **Reactives** a widget watches (``self.watch(provider, "agent_state", ...)``): the connection, the
  agent's state, failure, expression, name and attributes, the room, the audio levels and status, and
  ``frame``, which counts animation frames.
* **Messages**: each Session event becomes the Textual message of its type (:mod:`.messages`), posted
  to the provider. Its own handlers update the reactives, and the message then bubbles up to the screen
  and the app, so an app adds its own behaviour with ordinary ``on_<message>`` handlers.
* **Followers**: :meth:`follow` registers a callback that gets every session message, in the order the
  Session published them, once the provider's state has moved: the transcript writes its lines there,
  and a host app that also writes into the transcript (tool calls, notices) follows too, so the lines
  land in the order the conversation happened. ``bubble=False`` keeps the messages from bubbling up
  for a host that follows instead.

Descendants find their provider with :func:`provider_of`. Without one they raise
:class:`NoSessionProvider`, naming the widget and how to fix it, as the web components do.
``autostart=True`` starts the session once mounted and ends it when unmounted. ``refresh_hz`` sets the
provider's own animation and level timer; None means the host app calls :meth:`tick` from a timer
of its own.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.reactive import var
from textual.widget import Widget

from agent_tui.audio.controls import AudioControls, AudioStatus
from agent_tui.session import (
    AgentExpression,
    AgentFailure,
    AgentState,
    ConnectionState,
    Conversation,
    SessionEvent,
)

from .messages import (
    AgentArrived,
    AgentStateUpdated,
    AttributesUpdated,
    ConnectionChanged,
    ExpressionUpdated,
    SessionMessage,
    SessionStartFailed,
    message_for,
)

if TYPE_CHECKING:
    # Only a type here: the controller (and pydantic, livekit.rtc's video, numpy) load when a host
    # makes one, not before the first screen is painted.
    from agent_tui.video.controller import VideoController

__all__ = ["AudioLevels", "NoSessionProvider", "SessionProvider", "provider_of"]

log = logging.getLogger(__name__)

#: Bands the provider reads from the audio engine on each tick, for the bar visualizers.
SPECTRUM_BANDS = 16


class NoSessionProvider(LookupError):
    """An agent widget was mounted outside any :class:`SessionProvider`."""


@dataclass(frozen=True)
class AudioLevels:
    """One tick's readings in dBFS: the agent's voice as played (level, and bands low to high while a
    widget wants them: :meth:`SessionProvider.want_bands`), and the microphone's (None while muted or
    without audio)."""

    agent_db: float
    agent_bands: tuple[float, ...]
    mic_db: float | None


def provider_of(node: DOMNode) -> SessionProvider:
    """The nearest :class:`SessionProvider` above ``node`` (or ``node`` itself)."""
    for ancestor in node.ancestors_with_self:
        if isinstance(ancestor, SessionProvider):
            return ancestor
    raise NoSessionProvider(
        f"{type(node).__name__} needs a SessionProvider above it: compose it inside "
        f"`with SessionProvider(session):` (agent_tui.ui)"
    )


class SessionProvider(Vertical):
    """See the module docstring."""

    #: The provider shows nothing of its own, and it holds the whole UI: painting it line by line on every
    #: frame cost as much as a widget with content (see :mod:`.panes`).
    BLANK = True

    DEFAULT_CSS = """
    SessionProvider { height: 1fr; }
    """

    connection: var[ConnectionState] = var(ConnectionState.DISCONNECTED, init=False)
    agent_state: var[AgentState] = var(AgentState.DISCONNECTED, init=False)
    agent_failure: var[AgentFailure | None] = var(None, init=False)
    agent_expression: var[AgentExpression] = var(AgentExpression(), init=False)
    agent_name: var[str | None] = var(None, init=False)
    #: The agent's attributes and the keys that changed last.
    agent_attributes: var[tuple[Mapping[str, str], frozenset[str]]] = var(({}, frozenset()), init=False)
    room: var[str | None] = var(None, init=False)
    levels: var[AudioLevels | None] = var(None, init=False)
    audio_status: var[AudioStatus | None] = var(None, init=False)
    #: Animation frames so far (one per :meth:`tick` while animating).
    frame: var[int] = var(0, init=False)

    def __init__(
        self,
        session: Conversation,
        *children: Widget,
        audio: AudioControls | None = None,
        video: VideoController | None = None,
        autostart: bool = False,
        refresh_hz: float | None = 20.0,
        animate: bool = True,
        bubble: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(*children, name=name, id=id, classes=classes)
        self.session = session
        self.audio = audio
        #: What publishes our camera and screen (None: the control bar offers neither).
        self.video = video
        self.autostart = autostart
        self.refresh_hz = refresh_hz
        self.animating = animate
        self.bubble = bubble
        #: Sessions started through this provider: transcript keys stay apart across restarts.
        self.generation = 0
        self._followers: list[Callable[[SessionMessage[Any]], object]] = []
        #: Widgets that show the agent's voice by band: the FFT runs on a tick only while there is one.
        self._band_readers = 0
        self.set_reactive(SessionProvider.connection, session.connection_state)
        self.set_reactive(SessionProvider.agent_state, session.agent_state)
        self.set_reactive(SessionProvider.agent_failure, session.agent_failure)
        self.set_reactive(SessionProvider.agent_expression, session.agent_expression)
        self.set_reactive(SessionProvider.agent_name, session.options.agent_name)
        self.set_reactive(SessionProvider.room, self._room_name())
        self.set_reactive(SessionProvider.agent_attributes, (dict(session.agent_attributes), frozenset()))
        # Subscribed from the start so no event is lost: those before mounting wait, in order.
        self._mounted = False
        self._pending: list[SessionEvent] = []
        self._unsubscribe: Callable[[], None] | None = session.events.subscribe(self._forward)

    # -- life cycle -------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._mounted = True
        for event in self._pending:
            self._forward(event)
        self._pending.clear()
        self.read_audio()
        if self.refresh_hz:
            self.set_interval(1 / self.refresh_hz, self.tick, name="session-provider")
        if self.autostart:
            self.start()

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.autostart:
            try:
                await self.session.end()
            except Exception as error:  # leaving must not fail on a session that could not end
                log.warning("ending the session failed: %s", error)

    @work(group="session-provider", exclusive=True, exit_on_error=False)
    async def start(self) -> None:
        """Start a session (a new generation) without waiting for the agent; a failure is posted as
        :class:`~.messages.SessionStartFailed` and bubbles up."""
        self.generation += 1
        try:
            await self.session.start(wait_for_agent=False)
        except Exception as error:
            log.info("session start failed: %s", error)
            self.post_message(SessionStartFailed(error))

    def begin_generation(self) -> int:
        """A new session is starting elsewhere (the host app starts it itself); its generation."""
        self.generation += 1
        return self.generation

    # -- the tick ---------------------------------------------------------------------------------------
    def tick(self) -> None:
        """One frame: read the audio and, while animating, advance ``frame``."""
        self.read_audio()
        if self.animating:
            self.frame += 1

    def read_audio(self) -> None:
        audio = self.audio
        if audio is None:
            return
        try:
            status = audio.status
            self.audio_status = status
            if status.text_only:
                self.levels = None
                return
            self.levels = AudioLevels(
                agent_db=audio.output_level().rms_db,
                agent_bands=tuple(audio.output_bands(SPECTRUM_BANDS)) if self._band_readers else (),
                mic_db=None if status.muted else audio.input_level().rms_db,
            )
        except Exception:
            log.exception("reading the audio levels failed")

    def want_bands(self) -> Callable[[], None]:
        """A widget shows ``levels.agent_bands`` from now on (they stay empty while none does); the
        returned function says it no longer does."""
        self._band_readers += 1
        done = False

        def unwant() -> None:
            nonlocal done
            if not done:
                done = True
                self._band_readers -= 1

        return unwant

    # -- session events ---------------------------------------------------------------------------------
    def _forward(self, event: SessionEvent) -> None:
        """Runs in the Session's task: hand over to the message queue and return at once."""
        if not self._mounted:
            self._pending.append(event)
            return
        message = message_for(event)
        if message is not None:
            self.post_message(message)

    @on(SessionMessage)
    def _session_message(self, message: SessionMessage[Any]) -> None:
        follow = self._FOLLOW.get(type(message))
        if follow is not None:
            follow(self, message)
        for follower in list(self._followers):
            try:
                follower(message)
            except Exception:  # a display bug must not end the conversation
                log.exception("could not show %s", type(message.event).__name__)
        if not self.bubble:
            message.stop()

    def follow(self, callback: Callable[[SessionMessage[Any]], object]) -> Callable[[], None]:
        """Call ``callback`` with every session message from now on (see the module docstring); the
        returned function stops it."""
        self._followers.append(callback)

        def unfollow() -> None:
            with contextlib.suppress(ValueError):
                self._followers.remove(callback)

        return unfollow

    def _connection_changed(self, message: ConnectionChanged) -> None:
        self.connection = message.event.state
        self.room = self._room_name()

    def _agent_state_updated(self, message: AgentStateUpdated) -> None:
        self.agent_failure = message.event.failure
        self.agent_state = message.event.state

    def _expression_updated(self, message: ExpressionUpdated) -> None:
        event = message.event
        self.agent_expression = AgentExpression(mood=event.mood, expression=event.expression)

    def _agent_arrived(self, message: AgentArrived) -> None:
        event = message.event
        self.agent_name = self.session.options.agent_name or event.name or event.identity
        self.agent_attributes = (dict(event.attributes), frozenset())

    def _attributes_updated(self, message: AttributesUpdated) -> None:
        event = message.event
        self.agent_attributes = (dict(event.attributes), frozenset(event.changed or ()))

    #: What each kind of message changes in the provider's own state.
    _FOLLOW: ClassVar[dict[type[SessionMessage[Any]], Callable[[Any, Any], None]]] = {
        ConnectionChanged: _connection_changed,
        AgentStateUpdated: _agent_state_updated,
        ExpressionUpdated: _expression_updated,
        AgentArrived: _agent_arrived,
        AttributesUpdated: _attributes_updated,
    }

    def _room_name(self) -> str | None:
        return self.session.room_name or self.session.options.room_name
