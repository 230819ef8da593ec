"""The seam between a front end and a conversation: what the Textual app and the headless runner use of a
:class:`~agent_tui.session.Session`, as a Protocol.

Front ends type their session as :class:`Conversation`, so a second front end (or a test) can drive them
with anything that speaks it: the real Session, or :class:`agent_tui.session.testing.FakeConversation`.
Grow it only with what a front end really calls; the Session has more (publishing video, RPC
registration, attributes) for callers that hold the Session itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from agent_tui.session.agent_state import AgentFailure, AgentState
from agent_tui.session.connection import ConnectionState
from agent_tui.session.data_tracks import DataTrackView
from agent_tui.session.events import EventBus
from agent_tui.session.expression import AgentExpression
from agent_tui.session.options import SessionOptions
from agent_tui.session.transcript import CHAT_TOPIC, Message

if TYPE_CHECKING:
    from livekit import rtc


class Conversation(Protocol):
    """A conversation with one agent, as a front end sees it: state to read, ``events`` to subscribe to,
    and the calls that drive it."""

    events: EventBus
    options: SessionOptions

    # -- state ----------------------------------------------------------------------------------------
    @property
    def connection_state(self) -> ConnectionState: ...

    @property
    def agent_state(self) -> AgentState: ...

    @property
    def agent_failure(self) -> AgentFailure | None: ...

    @property
    def agent_expression(self) -> AgentExpression: ...

    @property
    def agent_attributes(self) -> dict[str, str]: ...

    @property
    def agent_video_track(self) -> rtc.RemoteVideoTrack | None: ...

    @property
    def room_name(self) -> str | None: ...

    @property
    def server_url(self) -> str | None: ...

    @property
    def messages(self) -> list[Message]: ...

    @property
    def local_identity(self) -> str | None: ...

    @property
    def data_tracks(self) -> list[DataTrackView]: ...

    # -- life cycle -----------------------------------------------------------------------------------
    async def start(self, *, wait_for_agent: bool = True) -> None: ...

    async def wait_for_agent(self) -> None: ...

    async def end(self) -> None: ...

    # -- interact -------------------------------------------------------------------------------------
    async def send_chat(self, text: str) -> Message: ...

    async def perform_rpc(self, method: str, payload: str = "") -> str: ...

    async def send_file(self, path: str | Path, *, topic: str = CHAT_TOPIC) -> str: ...

    def receive_byte_streams(self, topic: str) -> None: ...

    async def set_text_mode(self, on: bool) -> None: ...

    def set_microphone_muted(self, muted: bool) -> None: ...

    def set_agent_video_subscribed(self, subscribed: bool) -> None: ...

    def subscribe_data_track(self, name: str, *, every_frame: bool = False) -> None: ...
