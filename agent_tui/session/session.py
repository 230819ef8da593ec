"""The Session: one object for the whole life of a 1:1 conversation with a LiveKit agent.

Create (a token source and options) → ``start()`` (fetch a token, connect the room, publish the
microphone when given one, wait for the agent) → interact (state, messages, chat, RPC, byte streams,
attributes, the agent's audio and video tracks, our own video tracks) → ``end()``. It is the only
part of agent-tui that talks to ``livekit.rtc`` for the conversation; the rules it applies live in
pure classes (:class:`AgentStateMachine`, :class:`TranscriptAssembler`, the token cache) and this module only
translates rtc events into calls on them and publishes the results as typed events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from livekit import rtc
from livekit.rtc.participant import PublishDataTrackError, PublishTrackError
from livekit.rtc.room import EventTypes

from agent_tui.session.agent_state import (
    AGENT_STATE_ATTRIBUTE,
    PUBLISH_ON_BEHALF_ATTRIBUTE,
    AgentFailure,
    AgentSnapshot,
    AgentState,
    AgentStateMachine,
)
from agent_tui.session.agent_stream.events import ChatHistory, ToolCall, ToolResult
from agent_tui.session.agent_stream.history import ToolCallLedger, merge_history
from agent_tui.session.agent_stream.insight import AgentInsight
from agent_tui.session.connection import ConnectionState
from agent_tui.session.data_track_handle import DataTrackHandle
from agent_tui.session.data_track_link import DataTrackLink
from agent_tui.session.data_tracks import DataTrackView
from agent_tui.session.encryption_state import EncryptionState, EncryptionTracker, unreadable_publication
from agent_tui.session.errors import (
    AuthRejectedError,
    ConnectionFailedError,
    DataTrackError,
    EncryptionRefusedError,
    SessionLibraryError,
    SessionStateError,
)
from agent_tui.session.events import (
    AgentAttributesChanged,
    AgentAudioTrackChanged,
    AgentExpressionChanged,
    AgentJoined,
    AgentLeft,
    AgentStateChanged,
    AgentVideoTrackChanged,
    ByteStreamReceived,
    ConnectionStateChanged,
    EncryptionError,
    EncryptionStateChanged,
    EventBus,
    MessageChanged,
    SessionEvent,
)
from agent_tui.session.expression import NEUTRAL, AgentExpression, ExpressionTracker
from agent_tui.session.options import SessionOptions, generate_room_name
from agent_tui.session.redaction import redact
from agent_tui.session.rpc_limits import announced_protocol, call_error, check_request, payload_bytes
from agent_tui.session.server_probe import ServerAnswer, probe_server
from agent_tui.session.tokens.details import ConnectionDetails, TokenRequest
from agent_tui.session.tokens.jwt_claims import is_token_fresh
from agent_tui.session.tokens.source import TokenSource
from agent_tui.session.transcript import (
    CHAT_TOPIC,
    SEGMENT_ID_ATTRIBUTE,
    TRANSCRIPTION_TOPIC,
    Message,
    TranscriptAssembler,
)
from agent_tui.session.waiting import WaitGoal, WaitView, wait_outcome, wait_timed_out
from agent_tui.session.warm_up import warm_up

log = logging.getLogger(__name__)

#: Legacy chat packets (components-js ``lk-chat-topic``), still sent by older clients.
LEGACY_CHAT_TOPIC = "lk-chat-topic"
#: The agent's session event stream (livekit-agents 1.8+). Drained here so the rtc SDK does not log an
#: INFO line per message on the root logger for a topic nobody handles.
AGENT_SESSION_TOPIC = "lk.agent.session"

_TrackT = TypeVar("_TrackT", bound=rtc.Track)

RpcHandler = Callable[[rtc.RpcInvocationData], Awaitable[str]]
ByteStreamHandler = Callable[[ByteStreamReceived], Any]


def _classify_connect_error(error: BaseException, url: str) -> ConnectionFailedError | AuthRejectedError:
    text = redact(str(error))
    lowered = text.lower()
    if any(mark in lowered for mark in ("401", "403", "unauthorized", "forbidden", "invalid token")):
        return AuthRejectedError(
            f"The LiveKit server at {url} refused the token ({text}). "
            "Check the API key and secret, the token's expiry and its room grant."
        )
    return ConnectionFailedError(
        f"Could not connect to the LiveKit server at {url} ({text}). "
        "Check the URL (ws:// or wss://, host and port) and that the server is running."
    )


#: How long a session just back from a reconnect gives the agent to reappear before a departure seen
#: during the outage counts as the agent leaving (the SDK restores the room's participants within ~1 s).
AGENT_RETURN_GRACE_S = 3.0
#: How long a server may refuse connections while we reconnect before it counts as gone (a restart of
#: livekit-server takes longer than that to listen again, and would lose our session anyway).
SERVER_GONE_AFTER_S = 5.0


def _disconnect_reason_name(reason: object) -> str:
    if isinstance(reason, int):
        try:
            return str(rtc.DisconnectReason.Name(reason))  # type: ignore[arg-type]
        except ValueError:
            return str(reason)
    return str(reason)


class Session:
    """A conversation with one agent; see the module docstring for its life cycle.

    State can be read at any time (:attr:`connection_state`, :attr:`agent`, :attr:`messages`,
    :attr:`agent_attributes`) and every change is also published on :attr:`events`.
    """

    def __init__(
        self,
        token_source: TokenSource,
        options: SessionOptions | None = None,
        *,
        microphone: rtc.AudioSource | None = None,
        preconnect_buffer: bool = True,
        agent_video: bool = True,
        room_factory: Callable[[], rtc.Room] = rtc.Room,
    ) -> None:
        """``agent_video=False`` leaves the agent's video unsubscribed (nothing to show it on, so the
        SDK should not receive and decode it); :meth:`set_agent_video_subscribed` changes it later.
        ``room_factory`` makes the room each start connects (tests pass one to reach the room they drive)."""
        self._room_factory = room_factory
        self._token_source = token_source
        self.options = options or SessionOptions()
        self._microphone = microphone
        self._preconnect_buffer = preconnect_buffer
        self.events = EventBus(on_callback_error=self._on_callback_error)

        self._room: rtc.Room | None = None
        self._details: ConnectionDetails | None = None
        self._connection = ConnectionState.DISCONNECTED
        self._agent = AgentStateMachine()
        self._last_agent = self._agent.snapshot
        self._transcript = TranscriptAssembler("", max_messages=self.options.max_messages)
        self._expressions = ExpressionTracker()
        self._expression = NEUTRAL
        #: The tool calls shown so far (live or from the agent's history), so none is shown twice.
        self._tools = ToolCallLedger(max_calls=self.options.max_messages)
        self._mic_publication: rtc.LocalTrackPublication | None = None
        self._mic_track: rtc.LocalAudioTrack | None = None
        self._agent_audio: tuple[rtc.RemoteAudioTrack, str] | None = None
        self._agent_video: tuple[rtc.RemoteVideoTrack, str] | None = None
        self._agent_video_wanted = agent_video
        self._video_publications: dict[str, rtc.LocalTrackPublication] = {}
        #: The remote data tracks (and the names we want received), and the ones we publish.
        self._data_tracks = DataTrackLink(self.events.emit)
        self._local_data_tracks: list[DataTrackHandle] = []
        self._agent_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rpc_methods: dict[str, RpcHandler] = {}
        self._byte_topics: dict[str, ByteStreamHandler | None] = {}
        self._agent_changed = asyncio.Event()
        #: How many runs have ended (the connection went back to disconnected), for the waits.
        self._ends = 0
        self._error: SessionLibraryError | None = None
        self._ending = False
        self._force_refetch = False
        self._agent_missing: str | None = None
        """The agent's identity while it is missing after a connection restart (not yet "left")."""
        self._reconnected_at = -AGENT_RETURN_GRACE_S
        self._started = False
        self._room_name: str | None = None
        #: The room and token :meth:`prepare` fetched for the next start, if any.
        self._prepared: tuple[str, ConnectionDetails] | None = None
        self._preparing: asyncio.Future[ConnectionDetails] | None = None
        self._push_to_talk = False
        #: Each participant's end-to-end encryption state (:mod:`.encryption_state`), and who was reported
        #: publishing encrypted media to this key-less session.
        self._encryption = EncryptionTracker()
        self._unreadable: set[str] = set()
        #: The agent's session stream (tool calls, metrics, history, text mode) and the latency meter.
        self.insight = self._new_insight()

    # -- state ------------------------------------------------------------------------------------------
    @property
    def connection_state(self) -> ConnectionState:
        return self._connection

    @property
    def agent(self) -> AgentSnapshot:
        return self._last_agent

    @property
    def agent_state(self) -> AgentState:
        return self._last_agent.state

    @property
    def agent_failure(self) -> AgentFailure | None:
        return self._last_agent.failure

    @property
    def agent_expression(self) -> AgentExpression:
        """The agent's current mood and wording, neutral when it has none (:mod:`.expression`)."""
        return self._expression

    @property
    def messages(self) -> list[Message]:
        return self._transcript.messages

    @property
    def server_url(self) -> str | None:
        """The LiveKit server the token source chose (None before the first token)."""
        return self._details.server_url if self._details is not None else None

    @property
    def room_name(self) -> str | None:
        return self._room_name

    @property
    def local_identity(self) -> str | None:
        room = self._room
        if room is None or not room.isconnected():
            return None
        return room.local_participant.identity

    @property
    def dispatches_agent(self) -> bool:
        return self._details is not None and self._details.dispatches_agent()

    @property
    def agent_participant(self) -> rtc.RemoteParticipant | None:
        identity = self._last_agent.identity
        if identity is None or self._room is None:
            return None
        return self._room.remote_participants.get(identity)

    @property
    def agent_attributes(self) -> dict[str, str]:
        participant = self.agent_participant
        return dict(participant.attributes) if participant is not None else {}

    @property
    def local_attributes(self) -> dict[str, str]:
        room = self._room
        if room is None or not room.isconnected():
            return {}
        return dict(room.local_participant.attributes)

    @property
    def agent_audio_track(self) -> rtc.RemoteAudioTrack | None:
        return self._agent_audio[0] if self._agent_audio is not None else None

    @property
    def agent_video_track(self) -> rtc.RemoteVideoTrack | None:
        """The agent's video (its own, else its avatar worker's); None while unsubscribed."""
        return self._agent_video[0] if self._agent_video is not None else None

    @property
    def data_tracks(self) -> list[DataTrackView]:
        """The remote participants' data tracks (the agent's among them), in the order they were
        published, with their counts and frame rates as of now (:mod:`.data_tracks`)."""
        return self._data_tracks.views()

    @property
    def agent_video_subscribed(self) -> bool:
        return self._agent_video_wanted

    @property
    def encryption_enabled(self) -> bool:
        """Whether this session encrypts its media end to end (``SessionOptions.encryption``)."""
        return self.options.encryption is not None

    @property
    def encryption_states(self) -> dict[str, EncryptionState]:
        """The latest end-to-end encryption state of each participant the SDK reported, by identity
        (ours included); every change is also an :class:`EncryptionStateChanged` event."""
        return self._encryption.states

    @property
    def microphone_publication(self) -> rtc.LocalTrackPublication | None:
        return self._mic_publication

    @property
    def video_publications(self) -> dict[str, rtc.LocalTrackPublication]:
        """Our published video tracks by sid (camera, screen share, file)."""
        return dict(self._video_publications)

    # -- life cycle -------------------------------------------------------------------------------------
    async def __aenter__(self) -> Session:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.end()

    async def start(self, *, wait_for_agent: bool = True) -> None:
        """Fetch a token, connect, publish the microphone, and (when the token dispatches one) wait for
        the agent to be ready to listen.

        Raises a :class:`TokenSourceError`, :class:`AuthRejectedError` or :class:`ConnectionFailedError`
        (the session is then disconnected again, and the error is kept in :attr:`error`), or
        :class:`AgentTimeoutError` when the agent does not become ready within ``agent_connect_timeout``;
        in that case the room stays connected, a late agent still clears the failure, and the caller
        decides whether to wait on or :meth:`end`.
        """
        if self._started:
            raise SessionStateError("The session is already started; call end() before starting again.")
        self._started = True
        self._ending = False
        self._error = None
        self._set_connection(ConnectionState.CONNECTING)
        self._start_agent_timer()
        try:
            prepared = await self._take_prepared()
            self._room_name = prepared[0] if prepared is not None else self._new_room_name()
            if prepared is not None and is_token_fresh(prepared[1].claims, time.time()):
                details = prepared[1]
            else:
                details = await self._fetch_token(self._room_name)
            self._details = details
            granted = details.room_name or details.granted_room
            if granted:
                self._room_name = granted
            await self._connect(details)
            if self._microphone is not None:
                await self._publish_microphone(self._microphone)
            self._scan_for_agent()
        except BaseException as error:
            if isinstance(error, SessionLibraryError):
                self._error = error
            self._ending = True  # the room's own disconnect must not count as the connection lost
            await self._teardown(reason="start failed", deliberate=True)
            raise
        if wait_for_agent and details.dispatches_agent():
            await self.wait_until_agent_connected()

    async def prepare(self) -> None:
        """Get ready to :meth:`start` fast (JS/Android ``prepareConnection``): fetch the token now and
        keep it for the next start, and warm the way to the server (:mod:`.warm_up`).

        Call it while other things get ready (the screen, the audio devices): a start that begins before
        the token has come waits for it rather than fetching twice (but not for the warm-up). The room it
        fetched a token for is the one the next start joins; calling it again reuses that room. A no-op
        once started. Raises what the token source raises (start then fetches again); the warm-up never
        raises.
        """
        if self._started:
            return
        if self._preparing is None:
            self._preparing = asyncio.ensure_future(self._prepare_token())
        details = await asyncio.shield(self._preparing)
        await warm_up(details.server_url)

    async def _prepare_token(self) -> ConnectionDetails:
        try:
            room_name = self._prepared[0] if self._prepared is not None else self._new_room_name()
            details = await self._fetch_token(room_name)
            self._prepared = (room_name, details)
            return details
        finally:
            self._preparing = None

    async def _take_prepared(self) -> tuple[str, ConnectionDetails] | None:
        """The prepared room and token for this start (waiting for a prepare under way), once."""
        if self._preparing is not None:
            with contextlib.suppress(SessionLibraryError):  # this start fetches again, and says why
                await asyncio.shield(self._preparing)
        prepared, self._prepared = self._prepared, None
        return prepared

    @property
    def prepared(self) -> bool:
        """Whether a token fetched by :meth:`prepare` waits for the next start."""
        return self._prepared is not None

    def set_microphone(self, source: rtc.AudioSource | None, *, preconnect_buffer: bool = True) -> None:
        """Publish ``source`` at the next start (or nothing, for None): for a microphone that opens after
        the session was made, so that :meth:`prepare` can run while the devices open."""
        if self._started:
            raise SessionStateError("The microphone can only be set before start().")
        self._microphone = source
        self._preconnect_buffer = preconnect_buffer

    # -- waiting ----------------------------------------------------------------------------------------
    async def wait_until_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - the typed timeout error is the point
        """Until the room is connected (JS ``useSession().waitUntilConnected``). Before :meth:`start` it
        waits for one; raises :class:`ConnectionFailedError` if the run it waited on ends without
        connecting, :class:`WaitTimeoutError` after ``timeout`` seconds (None: no limit)."""
        await self._wait(WaitGoal.CONNECTED, timeout)

    async def wait_until_agent_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - the typed timeout error is the point
        """Until the agent can hear us: listening, thinking or speaking (JS agent ``waitUntilConnected``).

        Raises :class:`AgentTimeoutError` / :class:`AgentLeftError` when the agent is failed,
        :class:`ConnectionFailedError` when the session ends meanwhile, and :class:`WaitTimeoutError`
        after ``timeout`` seconds; see :mod:`.waiting` for the rules."""
        await self._wait(WaitGoal.AGENT_CONNECTED, timeout)

    #: The name this wait had first; kept for the callers that use it.
    wait_for_agent = wait_until_agent_connected

    async def wait_until_agent_can_listen(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - the typed timeout error is the point
        """Until what the user says reaches the agent (JS ``canListen``, ``waitUntilCouldBeListening``):
        the agent is connected, or, before it is, our microphone is published with the pre-connect
        buffer recording for it. Raises as :meth:`wait_until_agent_connected` does."""
        await self._wait(WaitGoal.AGENT_CAN_LISTEN, timeout)

    async def wait_until_finished(self, timeout: float | None = None) -> AgentSnapshot:  # noqa: ASYNC109 - the typed timeout error is the point
        """Until the agent is finished, ``disconnected`` or ``failed`` (JS ``waitUntilFinished``), and
        the snapshot that says which; returns at once before a start. Only the timeout raises."""
        await self._wait(WaitGoal.FINISHED, timeout)
        return self._last_agent

    async def _wait(self, goal: WaitGoal, timeout: float | None) -> None:  # noqa: ASYNC109 - the typed timeout error is the point
        """The one wait loop: re-evaluate :func:`wait_outcome` after every state change."""
        ends_before = self._ends
        timeout_s = self.options.agent_connect_timeout

        def view() -> WaitView:
            ended = self._ends > ends_before or (
                self._started and self._connection is ConnectionState.DISCONNECTED
            )
            return WaitView(connection=self._connection, agent=self._last_agent, ended=ended)

        async def until() -> None:
            while not wait_outcome(goal, view(), agent_connect_timeout=timeout_s):
                self._agent_changed.clear()
                await self._agent_changed.wait()

        try:
            async with asyncio.timeout(timeout):
                await until()
        except TimeoutError:
            raise wait_timed_out(goal, view(), timeout=timeout or 0.0) from None

    # -- errors -----------------------------------------------------------------------------------------
    @property
    def error(self) -> SessionLibraryError | None:
        """The last error that stopped the session (a failed start, the connection lost for good), for
        front ends that show state rather than catch; cleared by :meth:`dismiss_error` and by a new
        :meth:`start` (Swift/Flutter ``Session.error``). The agent's own failure is :attr:`agent_failure`."""
        return self._error

    def dismiss_error(self) -> None:
        """Forget :attr:`error` (Swift/Flutter ``dismissError``): allowed in any state, changes nothing
        else; the agent's failure stays until the agent or the connection changes."""
        self._error = None

    async def end(self) -> None:
        """Disconnect and clean up everything; safe to call any number of times, in any state."""
        if not self._started:
            return
        self._ending = True
        await self._teardown(reason="ended", deliberate=True)

    # -- interact ---------------------------------------------------------------------------------------
    def feed(self, event: SessionEvent) -> None:
        """Take an agent-session event as if the agent's session stream had sent it: a
        :class:`ChatHistory` as the answer to the history request (merged into the transcript), anything
        else as a live event. The supported way to drive a Session's insight side in tests and replays."""
        self.insight.feed(event)

    async def set_text_mode(self, on: bool) -> None:
        """Ask the agent to answer in text only (``on``) or by voice again, over its session stream."""
        await self.insight.set_text_mode(on)

    async def send_chat(self, text: str) -> Message:
        """Send a chat message on ``lk.chat``; it appears at once in :attr:`messages` (local echo)."""
        room = self._require_room()
        sent_at = time.time()  # before the send: a fast reply may arrive while it is being written
        info = await room.local_participant.send_text(text, topic=CHAT_TOPIC)
        message, new = self._transcript.chat(
            message_id=info.stream_id,
            participant_identity=room.local_participant.identity,
            text=text,
            now=sent_at,
        )
        self._emit_message(message, new=new)
        return message

    async def perform_rpc(
        self,
        method: str,
        payload: str = "",
        *,
        destination_identity: str | None = None,
        response_timeout: float = 15.0,
    ) -> str:
        """Call ``method`` on the agent (or ``destination_identity``) and return its reply.

        A payload over 15 KiB goes over a data stream (RPC v2) to a destination that takes it; to one
        that does not, :class:`RpcPayloadTooLargeError` is raised before sending (:mod:`.rpc_limits`)."""
        room = self._require_room()
        destination = destination_identity or self._last_agent.identity
        if destination is None:
            raise SessionStateError(f"Cannot call {method!r}: no agent is in the room yet.")
        protocol = announced_protocol(room.remote_participants.get(destination))
        check_request(method, payload, destination=destination, protocol=protocol)
        try:
            return await room.local_participant.perform_rpc(
                destination_identity=destination,
                method=method,
                payload=payload,
                response_timeout=response_timeout,
            )
        except rtc.RpcError as error:
            raise call_error(method, error.code, error.message, size=payload_bytes(payload)) from None

    def register_rpc_method(self, method: str, handler: RpcHandler) -> None:
        """Answer ``method`` calls from the agent; may be called before :meth:`start`."""
        self._rpc_methods[method] = handler
        room = self._room
        if room is not None and room.isconnected():
            room.local_participant.register_rpc_method(method, handler)

    async def send_file(self, path: str | Path, *, topic: str = CHAT_TOPIC) -> str:
        """Send a file as a byte stream; returns the stream id."""
        room = self._require_room()
        info = await room.local_participant.send_file(str(path), topic=topic)
        return info.stream_id

    async def send_bytes(
        self,
        data: bytes,
        *,
        name: str,
        topic: str,
        mime_type: str = "application/octet-stream",
        attributes: Mapping[str, str] | None = None,
        destination_identities: list[str] | None = None,
    ) -> str:
        """Send ``data`` as one byte stream (to everyone unless ``destination_identities``)."""
        room = self._require_room()
        info = await room.local_participant.send_bytes(
            data,
            name=name,
            topic=topic,
            mime_type=mime_type,
            attributes=dict(attributes) if attributes else None,
            destination_identities=destination_identities,
        )
        return info.stream_id

    def receive_byte_streams(self, topic: str, handler: ByteStreamHandler | None = None) -> None:
        """Receive byte streams on ``topic`` as :class:`ByteStreamReceived` events (and ``handler``)."""
        self._byte_topics[topic] = handler
        room = self._room
        if room is not None and room.isconnected():
            self._register_byte_topic(room, topic)

    async def set_attributes(self, attributes: Mapping[str, str]) -> None:
        """Set our own attributes (the shared state the agent sees); "" deletes a key."""
        await self._require_room().local_participant.set_attributes(dict(attributes))

    async def publish_video(
        self,
        track: rtc.LocalVideoTrack,
        *,
        source: rtc.TrackSource.ValueType,
        encoding: rtc.VideoEncoding | None = None,
        simulcast: bool = False,
    ) -> rtc.LocalTrackPublication:
        """Publish one of our video tracks (camera, screen share) to the room; returns its publication.

        Simulcast is off by default: a 1:1 conversation has one subscriber, the agent, so the extra
        low-resolution layers would cost encoder CPU and uplink for nobody. The track is unpublished by
        :meth:`unpublish_track` or when the session ends; after a restart it must be published again.
        """
        room = self._require_room()
        options = rtc.TrackPublishOptions(source=source, simulcast=simulcast)
        if encoding is not None:
            options.video_encoding.CopyFrom(encoding)
        publication = await room.local_participant.publish_track(track, options)
        self._video_publications[publication.sid] = publication
        return publication

    async def unpublish_track(self, sid: str) -> None:
        """Stop publishing our track ``sid``; a no-op when it is unknown or the room is gone."""
        self._video_publications.pop(sid, None)
        room = self._room
        if room is None or not room.isconnected():
            return
        with contextlib.suppress(Exception):  # already gone on the server's side
            await room.local_participant.unpublish_track(sid)

    async def publish_data_track(self, name: str) -> DataTrackHandle:
        """Publish a data track of ours named ``name`` (unique among our tracks); push frames on the
        handle. Raises :class:`DataTrackError` when the server or the SDK refuses it."""
        room = self._require_room()
        try:
            track = await room.local_participant.publish_data_track(name=name)
        except PublishDataTrackError as error:
            raise DataTrackError(
                f"Could not publish the data track {name!r}: {redact(error.message)}."
            ) from None
        handle = DataTrackHandle(track)
        self._local_data_tracks.append(handle)
        return handle

    def subscribe_data_track(self, name: str, *, every_frame: bool = False) -> None:
        """Receive the remote data tracks named ``name``, published now or later (by the agent or anyone),
        across restarts: their counts, rates and latest frames in :attr:`data_tracks` and
        :class:`DataTrackUpdated` events; with ``every_frame``, also a :class:`DataTrackFrameReceived`
        per frame. May be called before :meth:`start`."""
        self._data_tracks.want(name, every_frame=every_frame)

    def unsubscribe_data_track(self, name: str) -> None:
        """Stop receiving the data tracks named ``name`` (they stay listed in :attr:`data_tracks`)."""
        self._data_tracks.unwant(name)

    def set_agent_video_subscribed(self, subscribed: bool) -> None:
        """Receive the agent's video (or stop receiving it: a closed video panel should cost nothing,
        and unsubscribing is the only way to stop the SDK from decoding it)."""
        self._agent_video_wanted = subscribed
        room = self._room
        if room is None or not room.isconnected():
            return
        for publication in self._agent_video_publications(room):
            if publication.subscribed != subscribed:
                publication.set_subscribed(subscribed)
        self._refresh_agent_video()

    def set_microphone_muted(self, muted: bool) -> None:
        """Mute the published microphone track so the agent sees it muted."""
        if self._mic_track is None:
            return
        if muted:
            self._mic_track.mute()
        else:
            self._mic_track.unmute()

    # -- push-to-talk -----------------------------------------------------------------------------------
    @property
    def push_to_talk(self) -> bool:
        return self._push_to_talk

    def set_push_to_talk(self, on: bool) -> None:
        """The microphone is push-to-talk (the user's turns end at the key release) or open (the latency
        meter's VAD finds them); kept across restarts, as the microphone's mode is."""
        self._push_to_talk = on
        self.insight.latency.set_push_to_talk(on)
        if not on:
            self._transcript.close_user_turn()

    def user_turn_started(self) -> None:
        """Push-to-talk: the talk key went down; what the user says from now on is this turn."""
        self._transcript.user_turn_started(time.time())

    def user_turn_cancelled(self) -> None:
        """Push-to-talk: the agent cancelled the turn (``cancel_turn``); the user's words of it are marked
        ``cancelled`` in :attr:`messages` (published as updates), as is what still arrives of it."""
        for message in self._transcript.user_turn_cancelled():
            self._emit_message(message, new=False)
        if not self._push_to_talk:  # cancelled by switching to open mic: no turn stays open
            self._transcript.close_user_turn()

    # -- internals: start/end ---------------------------------------------------------------------------
    def _new_room_name(self) -> str:
        return self.options.room_name or generate_room_name()

    async def _fetch_token(self, room_name: str) -> ConnectionDetails:
        details = await self._token_source.fetch(self._token_request(room_name), force=self._force_refetch)
        self._force_refetch = False
        return details

    def _token_request(self, room_name: str) -> TokenRequest:
        options = self.options
        return TokenRequest(
            room_name=room_name,
            participant_name=options.participant_name,
            participant_identity=options.participant_identity,
            participant_metadata=options.participant_metadata,
            participant_attributes=options.participant_attributes,
            agent_name=options.agent_name,
            agent_metadata=options.agent_metadata,
        )

    async def _connect(self, details: ConnectionDetails) -> None:
        room = self._room_factory()
        self._room = room
        self._wire(room)
        encryption = self.options.encryption
        room_options = rtc.RoomOptions(
            auto_subscribe=True, encryption=encryption.to_rtc() if encryption is not None else None
        )
        self._encryption = EncryptionTracker()
        self._unreadable.clear()
        try:
            await asyncio.wait_for(
                room.connect(details.server_url, details.participant_token, room_options),
                timeout=self.options.room_connect_timeout,
            )
        except TimeoutError:
            raise ConnectionFailedError(
                f"Could not connect to the LiveKit server at {details.server_url} within "
                f"{self.options.room_connect_timeout:g} s. Check the URL and that the server is reachable."
            ) from None
        except rtc.ConnectError as error:
            raise _classify_connect_error(error, details.server_url) from None
        self._transcript = TranscriptAssembler(
            room.local_participant.identity, max_messages=self.options.max_messages
        )
        # Kept, not replaced: states the SDK reported while connecting stay.
        self._encryption.local_identity = room.local_participant.identity
        self._tools = ToolCallLedger(max_calls=self.options.max_messages)
        self._expressions.reset()
        self.insight.start()
        for method, handler in self._rpc_methods.items():
            room.local_participant.register_rpc_method(method, handler)
        self._set_connection(ConnectionState.CONNECTED)

    async def _publish_microphone(self, source: rtc.AudioSource) -> None:
        room = self._require_room()
        track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        if self._preconnect_buffer:
            options.preconnect_buffer = True
        try:
            self._mic_publication = await room.local_participant.publish_track(track, options)
        except PublishTrackError as error:
            if self.options.encryption is None:
                raise
            raise EncryptionRefusedError(
                f"The server at {self.server_url} did not accept our end-to-end encrypted microphone track "
                f"({redact(error.message)}) — a server that decodes media to relay it cannot carry encrypted "
                "media (agent-tui's dev server refuses it): use livekit-server or LiveKit Cloud for "
                "end-to-end encryption."
            ) from None
        self._mic_track = track
        self._update_agent(self._agent.set_mic_published(True, buffering=self._preconnect_buffer))

    async def _teardown(self, *, reason: str, deliberate: bool = False) -> None:
        summary = self.insight.summary()
        if summary.client.count or summary.agent.count:
            self.events.emit(summary)
        await self.insight.close()
        self.insight = self._new_insight()
        if self._agent_timer is not None:
            self._agent_timer.cancel()
            self._agent_timer = None
        await self._data_tracks.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        room = self._room
        if room is not None:
            if self._mic_publication is not None and room.isconnected():
                with contextlib.suppress(Exception):
                    await room.local_participant.unpublish_track(self._mic_publication.sid)
            for handle in self._local_data_tracks:
                with contextlib.suppress(Exception):
                    await handle.unpublish()
            with contextlib.suppress(Exception):
                await room.disconnect()
            self._unwire(room)
        self._room = None
        self._mic_publication = None
        self._mic_track = None
        self._video_publications.clear()
        self._local_data_tracks.clear()
        self._encryption = EncryptionTracker()  # the participants' states were this run's
        if self._agent_audio is not None:
            self._agent_audio = None
            self.events.emit(AgentAudioTrackChanged(track=None, participant_identity=None))
        if self._agent_video is not None:
            self._agent_video = None
            self.events.emit(AgentVideoTrackChanged(track=None, participant_identity=None))
        # Agents do not rejoin a room that existed before: the next start gets a fresh token/room.
        self._force_refetch = True
        self._started = False
        self._expressions.reset()
        self._set_expression(NEUTRAL)
        self._update_agent(self._agent.set_mic_published(False))
        self._set_connection(ConnectionState.DISCONNECTED, reason=reason, deliberate=deliberate)

    def _start_agent_timer(self) -> None:
        loop = asyncio.get_running_loop()
        self._agent_timer = loop.call_later(self.options.agent_connect_timeout, self._on_agent_timeout)

    def _on_agent_timeout(self) -> None:
        self._agent_timer = None
        self._update_agent(self._agent.timeout_elapsed())

    # -- internals: rtc events --------------------------------------------------------------------------
    def _room_handlers(self) -> list[tuple[EventTypes, Callable[..., None]]]:
        return [
            ("participant_connected", self._on_participant_connected),
            ("participant_disconnected", self._on_participant_disconnected),
            ("participant_attributes_changed", self._on_attributes_changed),
            ("track_published", self._on_track_published),
            ("track_subscribed", self._on_track_subscribed),
            ("track_unsubscribed", self._on_track_unsubscribed),
            ("reconnecting", self._on_reconnecting),
            ("reconnected", self._on_reconnected),
            ("disconnected", self._on_disconnected),
            ("data_received", self._on_data_received),
            ("data_track_published", self._data_tracks.on_published),
            ("data_track_unpublished", self._data_tracks.on_unpublished),
            ("e2ee_state_changed", self._on_encryption_state_changed),
        ]

    def _wire(self, room: rtc.Room) -> None:
        for event, callback in self._room_handlers():
            room.on(event, callback)
        room.register_text_stream_handler(TRANSCRIPTION_TOPIC, self._on_transcription_stream)
        room.register_text_stream_handler(CHAT_TOPIC, self._on_chat_stream)
        room.register_byte_stream_handler(AGENT_SESSION_TOPIC, self._on_agent_session_stream)
        for topic in self._byte_topics:
            self._register_byte_topic(room, topic)

    def _unwire(self, room: rtc.Room) -> None:
        for event, callback in self._room_handlers():
            with contextlib.suppress(Exception):
                room.off(event, callback)

    def _register_byte_topic(self, room: rtc.Room, topic: str) -> None:
        if topic == AGENT_SESSION_TOPIC:
            return
        with contextlib.suppress(ValueError):  # already registered on this room
            room.register_byte_stream_handler(topic, self._on_byte_stream)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.warning("session task failed: %s", redact(str(error)))

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity == self._agent_missing:
            self._agent_missing = None  # back after the outage: it never left
        self._scan_for_agent()

    def _connection_in_doubt(self) -> bool:
        """Reconnecting, or just back from it while the room's participants are being restored."""
        if self._ending:
            return False
        if self._connection is ConnectionState.RECONNECTING:
            return True
        return time.monotonic() - self._reconnected_at < AGENT_RETURN_GRACE_S

    async def _confirm_agent_after_reconnect(self) -> None:
        """After a reconnect, an agent that went missing during it and has not come back has left."""
        await asyncio.sleep(AGENT_RETURN_GRACE_S)
        identity, self._agent_missing = self._agent_missing, None
        room = self._room
        if identity is None or self._ending or room is None or identity in room.remote_participants:
            return
        self.events.emit(AgentLeft(identity=identity, unexpected=True))
        self._update_agent(self._agent.agent_left(identity))
        self._scan_for_agent()
        self._refresh_agent_tracks()

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        self._data_tracks.on_participant_left(participant)
        self._encryption.forget(participant.identity)
        if participant.identity == self._last_agent.identity and self._connection_in_doubt():
            # When the SDK restarts a connection it forgets every participant: that is not the agent
            # leaving. Whether it left is known once we are back (see _on_reconnected).
            self._agent_missing = participant.identity
            self._refresh_agent_tracks()
            return
        if participant.identity == self._last_agent.identity:
            unexpected = not self._ending
            self.events.emit(AgentLeft(identity=participant.identity, unexpected=unexpected))
            if unexpected:
                self._update_agent(self._agent.agent_left(participant.identity))
            self._scan_for_agent()
        self._refresh_agent_tracks()

    def _on_attributes_changed(self, changed: dict[str, str], participant: rtc.Participant) -> None:
        if isinstance(participant, rtc.RemoteParticipant):
            if participant.identity == self._last_agent.identity:
                self.events.emit(
                    AgentAttributesChanged(
                        identity=participant.identity,
                        attributes=dict(participant.attributes),
                        changed=dict(changed),
                    )
                )
            self._scan_for_agent()

    def _on_track_published(
        self, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        self._keep_agent_video_off(publication, participant)
        self._check_readable(publication, participant)

    def _on_encryption_state_changed(self, participant: rtc.Participant | None, state: int) -> None:
        identity = participant.identity if participant is not None else ""
        change = self._encryption.update(identity, EncryptionState.from_rtc(int(state)))
        if change is None:
            return
        self.events.emit(
            EncryptionStateChanged(identity=change.identity, state=change.state, previous=change.previous)
        )
        if change.problem is not None:
            self._encryption_error(change.identity, change.state, change.problem)

    def _check_readable(self, publication: rtc.RemoteTrackPublication, participant: rtc.Participant) -> None:
        """Encrypted media reaching a session without a key is noise: say so, once per participant."""
        if (
            self.options.encryption is None
            and publication.encryption_type != rtc.EncryptionType.NONE
            and participant.identity not in self._unreadable
        ):
            self._unreadable.add(participant.identity)
            problem = unreadable_publication(participant.identity)
            self._encryption_error(participant.identity, EncryptionState.MISSING_KEY, problem)

    def _encryption_error(self, identity: str, state: EncryptionState, message: str) -> None:
        log.warning("end-to-end encryption: %s", message)
        self.events.emit(EncryptionError(identity=identity, state=state, message=message))

    def _on_track_subscribed(
        self, track: rtc.Track, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        self._keep_agent_video_off(publication, participant)
        self._check_readable(publication, participant)
        self._refresh_agent_tracks()

    def _on_track_unsubscribed(
        self, track: rtc.Track, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        self._refresh_agent_tracks()

    def _keep_agent_video_off(
        self, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        """The room auto-subscribes to everything; undo it for the agent's video while it is not wanted."""
        if (
            not self._agent_video_wanted
            and publication.kind == rtc.TrackKind.KIND_VIDEO
            and participant.identity in self._agent_track_owners()
        ):
            publication.set_subscribed(False)

    def _on_reconnecting(self) -> None:
        self._set_connection(ConnectionState.RECONNECTING, reason="signal or media connection lost")
        self._spawn(self._watch_server_while_reconnecting())

    def _on_reconnected(self) -> None:
        self._reconnected_at = time.monotonic()
        self._set_connection(ConnectionState.CONNECTED, reason="reconnected")
        self.insight.reconnected()
        if self._agent_missing is not None:
            self._spawn(self._confirm_agent_after_reconnect())

    def _on_disconnected(self, reason: Any = None) -> None:
        if self._ending or self._connection is ConnectionState.DISCONNECTED:
            return
        # Unexpected: the server dropped us or the connection was lost for good.
        name = _disconnect_reason_name(reason)
        if self._connection is ConnectionState.RECONNECTING and name == "UNKNOWN_REASON":
            # The SDK gave up restoring the connection and says no more: find out why.
            self._spawn(self._drop_after_failed_reconnect())
            return
        self._drop(f"disconnected by the server ({name})")

    async def _drop_after_failed_reconnect(self) -> None:
        url = self.server_url
        reason = (await probe_server(url)).describe() if url else "the connection could not be restored"
        self._drop(reason)

    def _drop(self, reason: str) -> None:
        """The connection is lost for good: say why, once, and tear down."""
        if self._ending or self._connection is ConnectionState.DISCONNECTED:
            return
        self._force_refetch = True
        self._agent_missing = None
        self._error = ConnectionFailedError(f"The connection to the LiveKit server was lost: {reason}.")
        self._set_connection(ConnectionState.DISCONNECTED, reason=reason)
        self._spawn(self._teardown_after_drop())

    async def _watch_server_while_reconnecting(self) -> None:
        """A server whose port refuses connections for :data:`SERVER_GONE_AFTER_S` while we reconnect
        is gone (it died, or was stopped): end now rather than after the SDK's last attempt."""
        url = self.server_url
        refused_since: float | None = None
        while url and self._connection is ConnectionState.RECONNECTING and not self._ending:
            result = await probe_server(url)
            now = time.monotonic()
            if result.answer is not ServerAnswer.REFUSED:
                refused_since = None
            elif refused_since is None:
                refused_since = now
            elif now - refused_since >= SERVER_GONE_AFTER_S:
                if self._connection is ConnectionState.RECONNECTING:
                    self._drop(result.describe())
                return
            await asyncio.sleep(1.0)

    async def _teardown_after_drop(self) -> None:
        # Runs as a task we own; detach it first so teardown does not cancel itself.
        current = asyncio.current_task()
        if current is not None:
            self._tasks.discard(current)
        self._ending = True
        await self._teardown(reason="connection lost")

    def _on_data_received(self, packet: rtc.DataPacket) -> None:
        if packet.topic != LEGACY_CHAT_TOPIC or packet.participant is None:
            return
        try:
            body = json.loads(packet.data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return
        if not isinstance(body, dict) or body.get("ignoreLegacy") or not isinstance(body.get("message"), str):
            return
        message_id = str(body.get("id") or f"legacy-{time.time_ns()}")
        message, new = self._transcript.chat(
            message_id=message_id,
            participant_identity=packet.participant.identity,
            text=body["message"],
            now=time.time(),
        )
        self._emit_message(message, new=new)

    def _on_transcription_stream(self, reader: rtc.TextStreamReader, participant_identity: str) -> None:
        self._spawn(self._read_transcription(reader, participant_identity))

    async def _read_transcription(self, reader: rtc.TextStreamReader, participant_identity: str) -> None:
        info = reader.info
        self._track_expression(info.stream_id, participant_identity, info.attributes)
        message, new = self._transcript.transcription_opened(
            stream_id=info.stream_id,
            participant_identity=participant_identity,
            attributes=info.attributes,
            now=time.time(),
        )
        self._emit_message(message, new=new)
        try:
            async for chunk in reader:
                updated = self._transcript.transcription_chunk(stream_id=info.stream_id, text=chunk)
                if updated is not None:
                    self._emit_message(updated, new=False)
        finally:
            closed = self._transcript.transcription_closed(
                stream_id=info.stream_id, attributes=reader.info.attributes
            )
            if closed is not None:
                self._emit_message(closed, new=False)
            # The expression usually rides the closing trailer, merged into the stream's attributes.
            self._track_expression(info.stream_id, participant_identity, reader.info.attributes)

    def _track_expression(
        self, stream_id: str, participant_identity: str, attributes: Mapping[str, str] | None
    ) -> None:
        segment = (attributes or {}).get(SEGMENT_ID_ATTRIBUTE) or stream_id
        self._set_expression(
            self._expressions.segment(segment=segment, speaker=participant_identity, attributes=attributes)
        )

    def _set_expression(self, expression: AgentExpression) -> None:
        if expression == self._expression:
            return
        self._expression = expression
        self.events.emit(AgentExpressionChanged(mood=expression.mood, expression=expression.expression))

    def _on_chat_stream(self, reader: rtc.TextStreamReader, participant_identity: str) -> None:
        self._spawn(self._read_chat(reader, participant_identity))

    async def _read_chat(self, reader: rtc.TextStreamReader, participant_identity: str) -> None:
        text = await reader.read_all()
        message, new = self._transcript.chat(
            message_id=reader.info.stream_id,
            participant_identity=participant_identity,
            text=text,
            now=time.time(),
        )
        self._emit_message(message, new=new)

    def _on_agent_session_stream(self, reader: rtc.ByteStreamReader, participant_identity: str) -> None:
        self.insight.on_stream(reader, participant_identity)

    def _new_insight(self) -> AgentInsight:
        return AgentInsight(
            emit=self._emit_insight, send_bytes=self.send_bytes, push_to_talk=self._push_to_talk
        )

    def _emit_insight(self, event: SessionEvent) -> None:
        if isinstance(event, ToolCall | ToolResult) and not self._tools.admit(event):
            return  # the fetched history already showed this call (or its result)
        self.events.emit(event)
        if isinstance(event, ChatHistory):
            self._merge_history(event)

    def _merge_history(self, history: ChatHistory) -> None:
        """Show what happened before we joined (or while we were away): the messages and tool calls we
        did not see, in conversation order (:mod:`.history`)."""
        for event in merge_history(
            history.items,
            transcript=self._transcript,
            tools=self._tools,
            local_identity=self.local_identity or "",
            agent_identity=self._last_agent.identity or "",
            now=time.time(),
        ):
            self.events.emit(event)

    def _on_byte_stream(self, reader: rtc.ByteStreamReader, participant_identity: str) -> None:
        self._spawn(self._read_byte_stream(reader, participant_identity))

    async def _read_byte_stream(self, reader: rtc.ByteStreamReader, participant_identity: str) -> None:
        chunks = [chunk async for chunk in reader]
        info = reader.info
        event = ByteStreamReceived(
            sender_identity=participant_identity,
            topic=info.topic,
            name=info.name,
            mime_type=info.mime_type,
            data=b"".join(chunks),
            attributes=dict(info.attributes or {}),
        )
        handler = self._byte_topics.get(info.topic)
        self.events.emit(event)
        if handler is not None:
            result = handler(event)
            if asyncio.iscoroutine(result):
                await result

    # -- internals: agent and state -----------------------------------------------------------------------
    def _find_agent(self, room: rtc.Room) -> rtc.RemoteParticipant | None:
        """The first AGENT participant that does not publish on another's behalf (an avatar worker)."""
        current = self._last_agent.identity
        if current is not None:
            participant = room.remote_participants.get(current)
            if participant is not None:
                return participant
        for participant in room.remote_participants.values():
            if (
                participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
                and not participant.attributes.get(PUBLISH_ON_BEHALF_ATTRIBUTE)
            ):
                return participant
        return None

    def _scan_for_agent(self) -> None:
        room = self._room
        if room is None or not room.isconnected():
            return
        agent = self._find_agent(room)
        if agent is None:
            return
        is_new = agent.identity != self._last_agent.identity
        self._update_agent(
            self._agent.agent_present(agent.identity, agent.attributes.get(AGENT_STATE_ATTRIBUTE))
        )
        if is_new:
            self.events.emit(
                AgentJoined(identity=agent.identity, name=agent.name, attributes=dict(agent.attributes))
            )
            if not self._agent_video_wanted:
                for publication in self._agent_video_publications(room):
                    if publication.subscribed:
                        publication.set_subscribed(False)
        self._refresh_agent_tracks()

    def _agent_track_owners(self) -> list[str]:
        """Who publishes for the agent, in order of preference: the agent, then its avatar workers."""
        room = self._room
        identity = self._last_agent.identity
        if room is None or not room.isconnected() or identity is None:
            return []
        return [identity] + [
            p.identity
            for p in room.remote_participants.values()
            if p.attributes.get(PUBLISH_ON_BEHALF_ATTRIBUTE) == identity
        ]

    def _agent_video_publications(self, room: rtc.Room) -> list[rtc.RemoteTrackPublication]:
        publications: list[rtc.RemoteTrackPublication] = []
        for identity in self._agent_track_owners():
            participant = room.remote_participants.get(identity)
            if participant is None:
                continue
            publications.extend(
                publication
                for publication in participant.track_publications.values()
                if publication.kind == rtc.TrackKind.KIND_VIDEO
            )
        return publications

    def _agent_track(self, kind: type[_TrackT]) -> tuple[_TrackT, str] | None:
        """The first subscribed track of ``kind`` published for the agent, with its publisher."""
        room = self._room
        if room is None:
            return None
        for identity in self._agent_track_owners():
            participant = room.remote_participants.get(identity)
            if participant is None:
                continue
            for publication in participant.track_publications.values():
                if isinstance(publication.track, kind):
                    return publication.track, participant.identity
        return None

    def _refresh_agent_tracks(self) -> None:
        self._refresh_agent_audio()
        self._refresh_agent_video()

    def _refresh_agent_video(self) -> None:
        """Pick the video to show for the agent: its own, else its avatar worker's (an avatar worker
        publishes the face with ``lk.publish_on_behalf``)."""
        chosen = self._agent_track(rtc.RemoteVideoTrack) if self._agent_video_wanted else None
        previous = self._agent_video
        if (previous is None) != (chosen is None) or (
            previous is not None and chosen is not None and previous[0].sid != chosen[0].sid
        ):
            self._agent_video = chosen
            self.events.emit(
                AgentVideoTrackChanged(
                    track=chosen[0] if chosen else None, participant_identity=chosen[1] if chosen else None
                )
            )

    def _refresh_agent_audio(self) -> None:
        """Pick the track to play for the agent: its own, else its avatar worker's."""
        chosen = self._agent_track(rtc.RemoteAudioTrack)
        previous = self._agent_audio
        if (previous is None) != (chosen is None) or (
            previous is not None and chosen is not None and previous[0].sid != chosen[0].sid
        ):
            self._agent_audio = chosen
            self.events.emit(
                AgentAudioTrackChanged(
                    track=chosen[0] if chosen else None, participant_identity=chosen[1] if chosen else None
                )
            )

    def _update_agent(self, snapshot: AgentSnapshot) -> None:
        previous = self._last_agent
        self._last_agent = snapshot
        if snapshot.identity is not None and snapshot.state.is_connected:
            self.insight.agent_ready(snapshot.identity)
        elif snapshot.identity is None and previous.identity is not None:
            self.insight.agent_gone()
        if snapshot.state != previous.state or snapshot.failure != previous.failure:
            self.events.emit(
                AgentStateChanged(state=snapshot.state, previous=previous.state, failure=snapshot.failure)
            )
        self._agent_changed.set()

    def _set_connection(
        self, state: ConnectionState, *, reason: str | None = None, deliberate: bool = False
    ) -> None:
        previous = self._connection
        if state == previous:
            return
        self._connection = state
        if state is ConnectionState.DISCONNECTED:
            self._ends += 1
        self.events.emit(
            ConnectionStateChanged(state=state, previous=previous, reason=reason, deliberate=deliberate)
        )
        self._update_agent(self._agent.set_connection(state))

    def _emit_message(self, message: Message, *, new: bool) -> None:
        self.events.emit(MessageChanged(message=message, new=new))

    def _require_room(self) -> rtc.Room:
        room = self._room
        if room is None or not room.isconnected():
            raise SessionStateError("The session is not connected; call start() first.")
        return room

    def _on_callback_error(self, error: BaseException) -> None:
        log.error("an event subscriber failed: %s", redact(str(error)), exc_info=error)
