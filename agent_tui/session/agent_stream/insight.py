"""The Session's binding to the agent's session stream (``lk.agent.session``) and the latency meter.

livekit-agents 1.8+ publishes its session events (tool calls, metrics, user state, …) as byte streams on
``lk.agent.session`` and answers requests there. The codec and the request client are pure
(:mod:`.agent_session_codec`, :mod:`.agent_session_client`); this class only moves bytes: it reads the
agent's streams one at a time (so events keep the order the agent sent them), sends requests as byte
streams to the agent alone, feature-detects the stream with a ping once the agent is ready, and fetches
the conversation so far (so a client that joins late or reconnects shows it). Agents without a session
stream are unaffected: detection fails quietly and nothing else is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from livekit import rtc

from agent_tui.session.agent_stream.client import AgentSessionClient, AgentSessionError
from agent_tui.session.agent_stream.codec import AGENT_SESSION_TOPIC
from agent_tui.session.agent_stream.events import (
    ChatHistory,
    InsightState,
    TextModeChanged,
    TurnMetrics,
    VoiceLatencySummary,
)
from agent_tui.session.events import SessionEvent, SessionWarning
from agent_tui.session.redaction import redact
from agent_tui.session.voice_latency import VoiceLatencyMeter

log = logging.getLogger(__name__)

SendBytes = Callable[..., Awaitable[str]]


class AgentInsight:
    """Per-session owner of the stream client, the folded :class:`InsightState` and the latency meter."""

    def __init__(
        self, *, emit: Callable[[SessionEvent], None], send_bytes: SendBytes, push_to_talk: bool = False
    ) -> None:
        self._emit = emit
        self._send_bytes = send_bytes
        self.state = InsightState()
        self.latency = VoiceLatencyMeter(push_to_talk=push_to_talk)
        self._client: AgentSessionClient | None = None
        self._agent: str | None = None
        self._readers: asyncio.Queue[rtc.ByteStreamReader] = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def available(self) -> bool:
        """Whether the current agent answered our ping (it hosts a session stream)."""
        return self._client is not None and self._client.available is True

    @property
    def client(self) -> AgentSessionClient | None:
        return self._client

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Begin reading streams (call once the room is connected)."""
        self._spawn(self._read_streams())

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._agent = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def summary(self) -> VoiceLatencySummary:
        return self.latency.summary()

    # -- the agent ----------------------------------------------------------------------------------
    def agent_ready(self, identity: str) -> None:
        """The agent can hear us: detect its session stream, then fetch what it knows."""
        if identity == self._agent:
            return
        self.agent_gone()
        self._agent = identity
        self._client = AgentSessionClient(
            self._send, on_event=self._on_event, on_callback_error=self._on_callback_error
        )
        self._spawn(self._detect_and_fetch(self._client))

    def agent_gone(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
        self._agent = None
        self.latency.reset()

    def reconnected(self) -> None:
        """After a reconnect the agent may have said things we missed: fetch the history again."""
        client = self._client
        if client is not None and client.available:
            self._spawn(self._fetch_history(client))

    def on_stream(self, reader: rtc.ByteStreamReader, sender: str) -> None:
        """A byte stream on ``lk.agent.session``: the agent's are queued, anyone else's drained."""
        if sender == self._agent:
            self._readers.put_nowait(reader)
        else:
            self._spawn(_drain(reader))

    # -- requests the front ends make ---------------------------------------------------------------
    async def set_text_mode(self, on: bool) -> None:
        """Ask the agent to answer in text only (or in voice again); raises when it has no stream."""
        await self._require().set_text_mode(on)
        self._emit(TextModeChanged(on=on))

    async def run_text(self, text: str) -> ChatHistory:
        """Run a typed turn through the agent's session (returns the turn's new items)."""
        return await self._require().run_text(text)

    def _require(self) -> AgentSessionClient:
        client = self._client
        if client is None or not client.available:
            raise AgentSessionError(
                "The agent does not publish a session stream (livekit-agents 1.8 or later does); "
                "this needs one."
            )
        return client

    # -- internals ----------------------------------------------------------------------------------
    async def _send(self, data: bytes) -> None:
        agent = self._agent
        if agent is None:
            raise AgentSessionError("No agent to send to.")
        async with self._send_lock:  # one at a time, so requests arrive in the order they were made
            await self._send_bytes(
                data,
                name=f"AS_{secrets.token_hex(6)}",
                topic=AGENT_SESSION_TOPIC,
                destination_identities=[agent],
            )

    async def _read_streams(self) -> None:
        while True:
            reader = await self._readers.get()
            try:
                data = b"".join([chunk async for chunk in reader])
            except Exception as error:  # a stream cut by a disconnect: nothing to decode
                log.debug("agent session stream ended early: %s", error)
                continue
            client = self._client
            if client is not None:
                client.feed(data)

    async def _detect_and_fetch(self, client: AgentSessionClient) -> None:
        try:
            if not await client.detect(retry_interval=1.0):
                return
            await self._fetch_history(client)
            self._emit(await client.agent_info())
            self._emit(await client.framework_info())
        except AgentSessionError as error:
            if not client.closed:
                self._emit(SessionWarning(message=f"Agent session stream: {redact(str(error))}"))

    async def _fetch_history(self, client: AgentSessionClient) -> None:
        try:
            self._emit(await client.chat_history())
        except AgentSessionError as error:
            if not client.closed:
                self._emit(
                    SessionWarning(message=f"Could not fetch the agent's history: {redact(str(error))}")
                )

    def feed(self, event: SessionEvent) -> None:
        """Take ``event`` as the agent's session stream delivers it: a :class:`ChatHistory` as the answer to
        the history request, anything else as a live event (folded into the state, then published)."""
        if isinstance(event, ChatHistory):
            self._emit(event)
        else:
            self._on_event(event)

    def _on_event(self, event: SessionEvent) -> None:
        self.state.apply(event)
        if isinstance(event, TurnMetrics) and event.e2e_ms is not None:
            self.latency.record_agent_e2e(event.e2e_ms)
        self._emit(event)

    def _on_callback_error(self, error: BaseException) -> None:
        log.error("an agent-session event subscriber failed: %s", redact(str(error)))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _drain(reader: rtc.ByteStreamReader) -> None:
    with contextlib.suppress(Exception):
        async for _chunk in reader:
            pass
