"""The request/response client of the agent's session stream, independent of how bytes travel.

It speaks the protocol of livekit-agents' ``RemoteSession`` (see :mod:`.agent_session_codec`) but owns no
transport: the Session gives it an async ``send(data)`` that sends one whole message as one byte stream
to the agent, and calls :meth:`AgentSessionClient.feed` with each whole stream it receives from the
agent. That keeps every rule here (correlation, timeouts, feature detection, close) testable with plain
callables and no room.

Feature detection: agents that do not host a session stream simply never answer, so :meth:`detect`
pings until a pong arrives or its time runs out, and a client that gets ``False`` leaves everything as it
was before. Request ids carry a random per-client prefix because the agent's host answers to the whole
room: other clients' answers reach us too and must not be mistaken for ours.
"""

# Requests take a ``timeout`` on purpose (ruff ASYNC109 prefers the caller's ``asyncio.timeout``): the
# per-request limit is part of the protocol contract (RemoteSession's 60 s default, ``detect``'s retry
# pacing), and the error it raises names the request, which a caller-side timeout cannot.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from agent_tui.session.agent_stream.codec import (
    AgentSessionDecoder,
    Decoded,
    Response,
    build_get_agent_info,
    build_get_chat_history,
    build_get_framework_info,
    build_get_session_state,
    build_get_session_usage,
    build_ping,
    build_run_input,
    build_update_io,
)
from agent_tui.session.agent_stream.events import (
    AgentFramework,
    AgentInfo,
    ChatHistory,
    SessionStateSnapshot,
    SessionUsage,
)
from agent_tui.session.errors import SessionLibraryError
from agent_tui.session.events import SessionEvent

#: livekit-agents' RemoteSession default: long enough for ``run_input``, which waits for the whole turn.
DEFAULT_REQUEST_TIMEOUT = 60.0

SendBytes = Callable[[bytes], Awaitable[None]]
RequestBuilder = Callable[[str], bytes]
_PayloadT = TypeVar("_PayloadT")


class AgentSessionError(SessionLibraryError):
    """A request on the agent's session stream did not get a usable answer (the session itself goes on)."""


class AgentSessionRequestError(AgentSessionError):
    """The agent answered the request with an error (its text is in the message, e.g. "internal error")."""

    def __init__(self, message: str, *, request: str, error: str) -> None:
        super().__init__(message)
        self.request = request
        self.error = error


class AgentSessionTimeoutError(AgentSessionError, TimeoutError):
    """No answer within the request's timeout."""


class AgentSessionClosedError(AgentSessionError):
    """The client was closed before (or while) the request was answered."""


class AgentSessionSendError(AgentSessionError):
    """The request could not be sent (the transport's own error is the ``__cause__``)."""


class AgentSessionProtocolError(AgentSessionError):
    """The agent answered with a response of another kind than the request asked for."""


class AgentSessionClient:
    """Requests and events over the agent's session stream; single-threaded, on the event loop.

    ``on_event`` receives every event decoded from the stream, synchronously inside :meth:`feed`, in
    arrival order (typically ``EventBus.emit``); an exception it raises is counted and passed to
    ``on_callback_error`` so one bad subscriber cannot stop the stream.
    """

    def __init__(
        self,
        send: SendBytes,
        *,
        on_event: Callable[[SessionEvent], None] | None = None,
        on_callback_error: Callable[[BaseException], None] | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        decoder: AgentSessionDecoder | None = None,
        id_prefix: str | None = None,
    ) -> None:
        self._send = send
        self._on_event = on_event
        self._on_callback_error = on_callback_error
        self._request_timeout = request_timeout
        self._decoder = decoder if decoder is not None else AgentSessionDecoder()
        self._id_prefix = id_prefix if id_prefix is not None else f"req_{secrets.token_hex(4)}_"
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Response]] = {}
        self._closed = False
        self._available: bool | None = None
        self._stray_responses = 0
        self._callback_errors = 0

    # --- state -------------------------------------------------------------------------------------

    @property
    def decoder(self) -> AgentSessionDecoder:
        """The decoder, for its counters (``decoder.stats``)."""
        return self._decoder

    @property
    def available(self) -> bool | None:
        """Whether the agent hosts a session stream: ``None`` until :meth:`detect` has decided."""
        return self._available

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        """Requests sent and not yet answered."""
        return len({id(future) for future in self._pending.values()})

    @property
    def stray_responses(self) -> int:
        """Responses whose ``request_id`` is not ours (other clients' answers, or ours after a timeout)."""
        return self._stray_responses

    @property
    def callback_errors(self) -> int:
        return self._callback_errors

    # --- receiving ---------------------------------------------------------------------------------

    def feed(self, data: bytes) -> Decoded:
        """Handle one whole received message: emit its events, resolve the request it answers.

        Never raises on bad input (the decoder counts it); does nothing once closed.
        """
        if self._closed:
            return Decoded()
        decoded = self._decoder.decode(data)
        for event in decoded.events:
            if self._on_event is None:
                break
            try:
                self._on_event(event)
            except Exception as error:
                self._callback_errors += 1
                if self._on_callback_error is not None:
                    self._on_callback_error(error)
        if decoded.response is not None:
            future = self._pending.pop(decoded.response.request_id, None)
            if future is None:
                self._stray_responses += 1
            elif not future.done():
                future.set_result(decoded.response)
        return decoded

    # --- requests ----------------------------------------------------------------------------------

    def next_request_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids)}"

    async def request(
        self, build: RequestBuilder, *, name: str = "request", timeout: float | None = None
    ) -> Response:
        """Send the message ``build(request_id)`` and wait for its answer.

        Raises :class:`AgentSessionTimeoutError` after ``timeout`` (default: the client's
        ``request_timeout``), :class:`AgentSessionRequestError` when the agent answers with an error,
        :class:`AgentSessionSendError` when sending fails and :class:`AgentSessionClosedError` when the
        client is or gets closed. ``name`` only labels the errors.
        """
        if self._closed:
            raise AgentSessionClosedError(f"agent session {name}: the client is closed")
        request_id = self.next_request_id()
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        # registered before sending: the answer can arrive while send() is still awaiting
        self._pending[request_id] = future
        limit = self._request_timeout if timeout is None else timeout
        try:
            try:
                await self._send(build(request_id))
            except Exception as error:
                # closed meanwhile (result() raises that, the better explanation) or answered anyway
                # (the message got through despite the error): either way the future has the outcome
                if not future.done():
                    raise AgentSessionSendError(f"agent session {name}: could not send ({error})") from error
            try:
                response = await asyncio.wait_for(future, limit)
            except TimeoutError:
                raise AgentSessionTimeoutError(
                    f"agent session {name}: no answer within {limit:g} s"
                ) from None
        finally:
            self._pending.pop(request_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # retrieved, so a close() nobody awaited leaves no warning
        if response.error is not None:
            raise AgentSessionRequestError(
                f"agent session {name} failed: {response.error}", request=name, error=response.error
            )
        return response

    async def detect(self, timeout: float = 5.0, retry_interval: float = 0.5) -> bool:
        """Ping until the agent answers (True) or ``timeout`` passes (False); never raises for that.

        Like RemoteSession's ``wait_for_ready``: a ping every ``retry_interval``; a send that fails
        (the agent's handler not registered yet, a transport hiccup) is simply retried at that pace.
        Unlike it, a pong to an *earlier* ping still counts, so a slow first answer is not wasted.
        """
        if self._closed:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        answered: asyncio.Future[Response] = loop.create_future()
        ids: list[str] = []
        try:
            while not self._closed:
                request_id = self.next_request_id()
                ids.append(request_id)
                self._pending[request_id] = answered
                with contextlib.suppress(Exception):  # not reachable yet: the wait below paces the retry
                    await self._send(build_ping(request_id))
                remaining = deadline - loop.time()
                if remaining <= 0 and not answered.done():
                    break
                await asyncio.wait({answered}, timeout=max(0.0, min(retry_interval, remaining)))
                if answered.done():
                    if answered.cancelled() or answered.exception() is not None:
                        break  # closed meanwhile
                    self._available = True
                    return True
                if loop.time() >= deadline:
                    break
        finally:
            for request_id in ids:
                self._pending.pop(request_id, None)
            if not answered.done():
                answered.cancel()
            elif not answered.cancelled():
                answered.exception()  # read: a close() and then a cancel of this task leave no warning
        if not self._closed:
            self._available = False
        return False

    async def _payload(
        self, build: RequestBuilder, name: str, kind: str, expected: type[_PayloadT], timeout: float | None
    ) -> _PayloadT:
        response = await self.request(build, name=name, timeout=timeout)
        if response.kind != kind or not isinstance(response.payload, expected):
            raise AgentSessionProtocolError(f"agent session {name}: unexpected answer {response.kind!r}")
        return response.payload

    async def chat_history(self, *, timeout: float | None = None) -> ChatHistory:
        """The agent's whole conversation so far (messages, tool calls and results, handoffs)."""
        return await self._payload(
            build_get_chat_history, "get_chat_history", "get_chat_history", ChatHistory, timeout
        )

    async def agent_info(self, *, timeout: float | None = None) -> AgentInfo:
        """The current agent: id, instructions, tool names, chat context."""
        return await self._payload(
            build_get_agent_info, "get_agent_info", "get_agent_info", AgentInfo, timeout
        )

    async def session_state(self, *, timeout: float | None = None) -> SessionStateSnapshot:
        """Agent and user state, current agent id, session options and start time."""
        return await self._payload(
            build_get_session_state, "get_session_state", "get_session_state", SessionStateSnapshot, timeout
        )

    async def session_usage(self, *, timeout: float | None = None) -> SessionUsage:
        """Cumulative model usage of the agent's session."""
        return await self._payload(
            build_get_session_usage, "get_session_usage", "get_session_usage", SessionUsage, timeout
        )

    async def framework_info(self, *, timeout: float | None = None) -> AgentFramework:
        """Which framework runs the agent (``sdk`` "python" and the livekit-agents version)."""
        return await self._payload(
            build_get_framework_info, "get_framework_info", "get_framework_info", AgentFramework, timeout
        )

    async def run_text(self, text: str, *, timeout: float | None = None) -> ChatHistory:
        """Run one user turn with ``text`` and return the items that turn added (possibly none).

        livekit-agents 1.8.9 first force-interrupts whatever the agent is saying, then runs the turn
        and answers only when it is over, speech included, hence the long default timeout. Empty text is
        refused here because the agent would only answer "empty run_input text".
        """
        if not text:
            raise ValueError("run_text needs non-empty text")
        return await self._payload(
            lambda request_id: build_run_input(request_id, text),
            "run_input",
            "run_input",
            ChatHistory,
            timeout,
        )

    async def update_io(
        self,
        *,
        audio_input: bool | None = None,
        video_input: bool | None = None,
        audio_output: bool | None = None,
        video_output: bool | None = None,
        transcription: bool | None = None,
        timeout: float | None = None,
    ) -> None:
        """Switch the agent's I/O channels; ``None`` leaves a channel as it is (see :meth:`set_text_mode`)."""

        def build(request_id: str) -> bytes:
            return build_update_io(
                request_id,
                audio_input=audio_input,
                video_input=video_input,
                audio_output=audio_output,
                video_output=video_output,
                transcription=transcription,
            )

        response = await self.request(build, name="update_io", timeout=timeout)
        if response.kind != "update_io":
            raise AgentSessionProtocolError(f"agent session update_io: unexpected answer {response.kind!r}")

    async def set_text_mode(
        self, on: bool, *, transcription: bool | None = None, timeout: float | None = None
    ) -> None:
        """Text mode on: the agent stops listening to our audio and answers in text only; off: back to voice.

        Sends ``update_io`` with input ``audio_enabled`` and output ``audio_enabled`` both ``not on``, as
        the Go ``lk agent console`` does on Ctrl+T. What livekit-agents 1.8.9 does with each flag:

        * input ``audio_enabled=False``: ``AgentInput.set_audio_enabled`` detaches the room audio input,
          which then drops our mic frames, so its VAD and STT hear nothing; a user turn in progress
          ("speaking") is ended. ``True`` re-attaches it.
        * output ``audio_enabled=False``: ``AgentOutput.set_audio_enabled`` detaches the audio sink.
          Replies that *start* afterwards run without TTS (the pipeline reads the flag when a reply
          starts and skips synthesis) and their text is published unsynchronised, as fast as the LLM
          produces it. A reply already playing keeps its audio: the flag does not interrupt it, and the
          protocol has no interrupt request (``run_input`` interrupts, but only to start a turn), so the
          Session should also silence local playback when text mode starts, as the Go console clears
          its playback ring.
        * output ``transcription_enabled``: the agent's reply text on ``lk.transcription`` (user
          transcripts are published separately and are unaffected). The Go console sends ``not on``
          because it shows replies from ``conversation_item_added`` instead; our transcript is built
          from ``lk.transcription`` and other participants may rely on it, so it is left alone unless
          ``transcription`` is given.

        Only the flags present are applied, so this never touches video.
        """
        await self.update_io(
            audio_input=not on, audio_output=not on, transcription=transcription, timeout=timeout
        )

    # --- closing -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop: every pending request fails with :class:`AgentSessionClosedError`, later ones at once.

        A distinct error rather than a cancellation, so a caller cannot confuse it with its own task
        being cancelled. Idempotent.
        """
        if self._closed:
            return
        self._closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(AgentSessionClosedError("agent session: the client was closed"))
        self._pending.clear()
