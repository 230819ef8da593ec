"""A fake conversation for testing front ends without a server: :class:`FakeConversation` satisfies
:class:`~agent_tui.session.Conversation`, publishes the same event types a Session does, and plays a
scripted agent. To drive a real :class:`~agent_tui.session.Session` instead, give it a ``room_factory`` and
hand it agent-session events with :meth:`~agent_tui.session.Session.feed`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agent_tui.session.agent_state import AgentFailure, AgentState
from agent_tui.session.connection import ConnectionState
from agent_tui.session.data_track_feed import DataTrackFeed
from agent_tui.session.data_tracks import DataTrackView
from agent_tui.session.errors import RpcCallError
from agent_tui.session.events import (
    AgentExpressionChanged,
    AgentJoined,
    AgentLeft,
    AgentStateChanged,
    ConnectionStateChanged,
    EventBus,
    MessageChanged,
    SessionEvent,
)
from agent_tui.session.expression import AgentExpression, AgentMood
from agent_tui.session.options import SessionOptions
from agent_tui.session.rpc_limits import check_request
from agent_tui.session.transcript import CHAT_TOPIC, Message, MessageKind, Speaker

if TYPE_CHECKING:
    from livekit import rtc

#: What the scripted agent does with a chat: answer it (think, speak an interim then a final transcript,
#: listen), stay silent, leave the room, have the server drop us, or fail inside its reaction.
Behaviour = Literal["answer", "silent", "leave", "drop", "crash"]


class FakeConversation:
    """A :class:`~agent_tui.session.Conversation` with a scripted agent and no network.

    Every call is recorded in :attr:`calls` as ``(name, argument)``. Tests move it along with
    :meth:`set_connection`, :meth:`set_agent`, :meth:`say` and :meth:`feed` (any event, as the Session would
    publish it). An RPC to the method ``"fail"`` fails as an agent's error would.
    """

    def __init__(
        self,
        *,
        behaviour: Behaviour = "answer",
        start_error: BaseException | None = None,
        greeting: bool = False,
        options: SessionOptions | None = None,
        agent_client_protocol: int = 2,
    ) -> None:
        """``agent_client_protocol`` is the one the scripted agent announces: 0 makes it an agent of an
        SDK without RPC over data streams, which refuses payloads over 15 KiB as a Session would."""
        self.events = EventBus()
        self.agent_client_protocol = agent_client_protocol
        self.options = options or SessionOptions()
        self.behaviour = behaviour
        self.start_error = start_error
        self.greeting = greeting
        self.calls: list[tuple[str, Any]] = []
        self.ended = False
        self._state = AgentState.DISCONNECTED
        self._failure: AgentFailure | None = None
        self._expression = AgentExpression()
        self._connection = ConnectionState.DISCONNECTED
        self._tasks: set[asyncio.Task[None]] = set()
        self._counter = 0
        self._data_tracks = DataTrackFeed(self.events.emit)

    # -- state ------------------------------------------------------------------------------------------
    @property
    def connection_state(self) -> ConnectionState:
        return self._connection

    @property
    def agent_state(self) -> AgentState:
        return self._state

    @property
    def agent_failure(self) -> AgentFailure | None:
        return self._failure

    @property
    def agent_expression(self) -> AgentExpression:
        """The last :class:`AgentExpressionChanged` fed, neutral before any."""
        return self._expression

    @property
    def agent_attributes(self) -> dict[str, str]:
        return {}

    @property
    def agent_video_track(self) -> rtc.RemoteVideoTrack | None:
        return None

    @property
    def room_name(self) -> str | None:
        return "room-1"

    @property
    def server_url(self) -> str | None:
        return "ws://127.0.0.1:7880"

    @property
    def messages(self) -> list[Message]:
        return []

    @property
    def local_identity(self) -> str | None:
        return "me"

    @property
    def data_tracks(self) -> list[DataTrackView]:
        return self._data_tracks.board.views(time.time())

    # -- driving it from a test -------------------------------------------------------------------------
    def feed(self, event: SessionEvent) -> None:
        """Publish ``event`` on :attr:`events`, as the Session would."""
        self.events.emit(event)

    def set_connection(
        self, new: ConnectionState, reason: str | None = None, *, deliberate: bool = False
    ) -> None:
        previous, self._connection = self._connection, new
        self.feed(ConnectionStateChanged(state=new, previous=previous, reason=reason, deliberate=deliberate))

    def set_expression(self, mood: AgentMood | None, expression: str | None = None) -> None:
        self._expression = AgentExpression(mood=mood, expression=expression)
        self.feed(AgentExpressionChanged(mood=mood, expression=expression))

    def set_agent(self, new: AgentState, failure: AgentFailure | None = None) -> None:
        previous, self._state, self._failure = self._state, new, failure
        self.feed(AgentStateChanged(state=new, previous=previous, failure=failure))

    def say(
        self,
        speaker: Speaker,
        text: str,
        *,
        kind: MessageKind = MessageKind.TRANSCRIPT,
        final: bool = True,
        message_id: str | None = None,
    ) -> Message:
        self._counter += 1
        message = Message(
            id=message_id or f"m{self._counter}",
            speaker=speaker,
            kind=kind,
            text=text,
            first_seen=time.time(),
            final=final,
            participant_identity="me" if speaker is Speaker.USER else "agent-1",
        )
        self.feed(MessageChanged(message=message, new=True))
        return message

    def publish_data_track(self, name: str, *, participant_identity: str = "agent-1") -> str:
        """The agent publishes a data track ``name``; returns its sid. Subscribed at once when its name
        was asked for, as the Session subscribes."""
        self._counter += 1
        sid = f"DTR_{self._counter}"
        self._data_tracks.published(sid=sid, name=name, participant_identity=participant_identity)
        if self._data_tracks.board.is_wanted(name):
            self._data_tracks.board.set_subscribed(sid, True)
        return sid

    def push_data_frame(
        self, sid: str, payload: bytes, *, user_timestamp: int | None = None, at: float | None = None
    ) -> None:
        """A frame arrives on the agent's data track ``sid`` (counted only while it is subscribed)."""
        if self._data_tracks.board.is_subscribed(sid):
            self._data_tracks.frame(sid, payload, user_timestamp, time.time() if at is None else at)

    def unpublish_data_track(self, sid: str) -> None:
        self._data_tracks.unpublished(sid, time.time())

    # -- life cycle -------------------------------------------------------------------------------------
    async def start(self, *, wait_for_agent: bool = True) -> None:
        self.calls.append(("start", None))
        self.set_connection(ConnectionState.CONNECTING)
        self.set_agent(AgentState.CONNECTING)
        await asyncio.sleep(0)
        if self.start_error is not None:
            self.set_connection(ConnectionState.DISCONNECTED, "start failed", deliberate=True)
            raise self.start_error
        self.set_connection(ConnectionState.CONNECTED)
        self.feed(AgentJoined(identity="agent-1", name="bot", attributes={}))
        if self.greeting:
            self.set_agent(AgentState.SPEAKING)
            self._spawn(self._greet())
        else:
            self.set_agent(AgentState.LISTENING)

    async def _greet(self) -> None:
        await asyncio.sleep(0.02)
        self.say(Speaker.AGENT, "Welcome!")
        self.set_agent(AgentState.LISTENING)

    async def wait_for_agent(self) -> None:
        self.calls.append(("wait_for_agent", self._state.value))

    async def end(self) -> None:
        self.calls.append(("end", None))
        self.ended = True
        for task in self._tasks:
            task.cancel()
        for view in self._data_tracks.board.views(time.time()):  # the room's tracks go with it
            self._data_tracks.unpublished(view.sid, time.time())
        if self._connection is not ConnectionState.DISCONNECTED:
            self.set_connection(ConnectionState.DISCONNECTED, "ended", deliberate=True)
            self.set_agent(AgentState.DISCONNECTED)

    # -- interact ---------------------------------------------------------------------------------------
    async def send_chat(self, text: str) -> Message:
        self.calls.append(("send_chat", (text, self._state.value)))
        message = self.say(Speaker.USER, text, kind=MessageKind.CHAT)
        self._spawn(self._react(text))
        return message

    async def _react(self, text: str) -> None:
        await asyncio.sleep(0.01)
        if self.behaviour == "answer":
            self.set_agent(AgentState.THINKING)
            await asyncio.sleep(0.01)
            self.set_agent(AgentState.SPEAKING)
            self.say(Speaker.AGENT, f"answer to {text}", final=False, message_id=f"a-{text}")
            await asyncio.sleep(0.01)
            self.say(Speaker.AGENT, f"answer to {text}", message_id=f"a-{text}")
            self.say(Speaker.AGENT, f"answer to {text}", message_id=f"a-{text}")  # the same final twice
            self.set_agent(AgentState.LISTENING)
        elif self.behaviour == "leave":
            self.feed(AgentLeft(identity="agent-1", unexpected=True))
            self.set_agent(AgentState.FAILED, AgentFailure.LEFT)
        elif self.behaviour == "drop":
            self.set_connection(ConnectionState.DISCONNECTED, "disconnected by the server (ROOM_DELETED)")
        elif self.behaviour == "crash":
            raise AssertionError("unreachable")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def perform_rpc(self, method: str, payload: str = "") -> str:
        self.calls.append(("perform_rpc", (method, payload)))
        check_request(method, payload, destination="agent-1", protocol=self.agent_client_protocol)
        if method == "fail":
            raise RpcCallError(method=method, code=1500, detail="application error")
        return f"{method}:{payload}"

    async def send_file(self, path: str | Path, *, topic: str = CHAT_TOPIC) -> str:
        self.calls.append(("send_file", (str(path), topic)))
        return "stream-1"

    def receive_byte_streams(self, topic: str) -> None:
        self.calls.append(("receive_byte_streams", topic))

    async def set_text_mode(self, on: bool) -> None:
        self.calls.append(("set_text_mode", on))

    def set_microphone_muted(self, muted: bool) -> None:
        self.calls.append(("set_microphone_muted", muted))

    def set_agent_video_subscribed(self, subscribed: bool) -> None:
        self.calls.append(("set_agent_video_subscribed", subscribed))

    def subscribe_data_track(self, name: str, *, every_frame: bool = False) -> None:
        self.calls.append(("subscribe_data_track", (name, every_frame)))
        for sid in self._data_tracks.board.want(name, every_frame=every_frame):
            self._data_tracks.board.set_subscribed(sid, True)


if TYPE_CHECKING:
    from agent_tui.session.conversation import Conversation
    from agent_tui.session.session import Session

    def _both_are_conversations(fake: FakeConversation, session: Session) -> list[Conversation]:
        """For mypy: the fake and the real Session both satisfy the Protocol the front ends depend on."""
        return [fake, session]
