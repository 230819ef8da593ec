"""``/agent``: the WebSocket livekit-agents workers register on.

Each frame is one protobuf, ``WorkerMessage`` from the worker and ``ServerMessage`` from the server.
The upgrade is refused (HTTP 401) unless the Bearer token carries the ``agent`` video grant, as on
livekit-server. The worker speaks first with ``register``; the server's ``register`` answer (with the
worker id) must be the first thing the worker receives, because livekit-agents treats any other first
message as a failed connection. After that the worker reports status and load, answers availability
requests and reports job status, and the :class:`~.dispatch.Dispatcher` decides what to offer it.
Outgoing messages go through one writer task per connection, so they leave in the order they were
queued and the dispatcher never waits on a socket.

As on livekit-server (``DispatchAgentWorkerSignal``), a worker that breaks the protocol loses its
connection, with one log line saying why: a frame that is not a ``WorkerMessage``, a message with
nothing set, a second ``register``, a ``register`` for an unknown job type, anything but ``ping``
before registering. Its jobs are then freed as for any worker that leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Final

from aiohttp import web
from google.protobuf.message import DecodeError
from livekit.protocol import agent as agent_pb

from .auth import TokenAuthority, TokenRefused, bearer_token
from .dispatch import Dispatcher, Worker
from .identifiers import WORKER_PREFIX, new_sid
from .join_request import RequestTarget
from .server_info import SERVER_INFO
from .websocket import FrameRefused, binary_frames, close_websocket, open_websocket, wants_websocket

_log = logging.getLogger("agent_tui.devserver")

AGENT_PATH: Final = "/agent"
# livekit-agents sends register right after the upgrade; a peer that does not is not a worker.
# livekit-server's RegisterTimeout (pkg/agent/worker.go) is the same.
REGISTER_TIMEOUT_S: Final = 10.0


class AgentEndpoint:
    """Admits workers and runs one :class:`WorkerSession` per connection."""

    def __init__(self, *, authority: TokenAuthority, dispatcher: Dispatcher) -> None:
        self._authority = authority
        self._dispatcher = dispatcher
        self._sessions: set[WorkerSession] = set()

    async def handle(self, request: web.Request, target: RequestTarget) -> web.StreamResponse:
        """Refuse with an HTTP status, or upgrade and serve the worker until it disconnects."""
        try:
            token = bearer_token(request.headers.get("Authorization"), target.query.get("access_token"))
            self._authority.admit_worker(token)
        except TokenRefused as refusal:
            _log.info("refused %s: %s", AGENT_PATH, refusal)
            return web.Response(status=int(refusal.status), text=str(refusal))
        if not wants_websocket(request):
            return web.Response(status=int(HTTPStatus.BAD_REQUEST), text="expected a WebSocket upgrade")
        socket = await open_websocket(request)
        session = WorkerSession(socket, self._dispatcher)
        self._sessions.add(session)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)
        return socket

    async def close(self) -> None:
        """Disconnect every worker (server shutdown)."""
        for session in list(self._sessions):
            await session.close()


class WorkerSession:
    """One worker connection: registration, then messages until it ends."""

    def __init__(self, socket: web.WebSocketResponse, dispatcher: Dispatcher) -> None:
        self._socket = socket
        self._dispatcher = dispatcher
        self._outbox: asyncio.Queue[agent_pb.ServerMessage] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Serve the connection; the worker's jobs are freed when it ends."""
        worker: Worker | None = None
        try:
            async with contextlib.aclosing(binary_frames(self._socket)) as frames:
                register = await self._read_register(frames)
                if register is None:
                    return
                worker = Worker(
                    worker_id=new_sid(WORKER_PREFIX),
                    agent_name=register.agent_name,
                    permissions=register.allowed_permissions,
                    version=register.version,
                    job_type=register.type,
                    send=self._outbox.put_nowait,
                )
                answer = agent_pb.RegisterWorkerResponse(worker_id=worker.id, server_info=SERVER_INFO)
                try:
                    await self._socket.send_bytes(agent_pb.ServerMessage(register=answer).SerializeToString())
                except ConnectionError:
                    return
                self._writer = asyncio.create_task(self._write(), name=f"devserver-worker-writer-{worker.id}")
                self._dispatcher.register(worker)
                try:
                    await self._serve(worker, frames)
                finally:
                    self._dispatcher.unregister(worker)
                    await self._stop_writer()
        except FrameRefused as refused:
            who = f" id={worker.id}" if worker is not None else ""
            _log.warning("closing the connection of worker%s: %s", who, refused)
        finally:
            await close_websocket(self._socket)

    async def close(self) -> None:
        """End the connection from the server side."""
        await close_websocket(self._socket)

    async def _read_register(self, frames: AsyncIterator[bytes]) -> agent_pb.RegisterWorkerRequest | None:
        try:
            async with asyncio.timeout(REGISTER_TIMEOUT_S):
                async for frame in frames:
                    message = _decode(frame)
                    kind = message.WhichOneof("message")
                    if kind == "ping":  # livekit-server answers pings while it waits for register
                        await self._socket.send_bytes(_pong(message.ping).SerializeToString())
                        continue
                    if kind != "register":
                        raise FrameRefused(f"{_describe(kind)} before registering")
                    if message.register.type not in agent_pb.JobType.values():
                        raise FrameRefused(f"a register for an unknown job type {message.register.type}")
                    return message.register
        except TimeoutError:
            _log.info("worker connection did not register within %.0fs; closing it", REGISTER_TIMEOUT_S)
        return None

    async def _serve(self, worker: Worker, frames: AsyncIterator[bytes]) -> None:
        async for frame in frames:
            message = _decode(frame)
            kind = message.WhichOneof("message")
            if kind == "availability":
                worker.answered(message.availability)
            elif kind == "update_worker":
                self._dispatcher.update_worker(worker, message.update_worker)
            elif kind == "update_job":
                self._dispatcher.update_job(worker, message.update_job)
            elif kind == "ping":
                worker.send(_pong(message.ping))
            elif kind in (None, "register"):
                raise FrameRefused(_describe(kind))
            else:
                # migrate_job (a reconnecting worker's old jobs: freed when it left, see dispatch),
                # simulate_job (cloud tooling): nothing to do.
                _log.debug("ignoring %s from worker %s", kind, worker.id)

    async def _write(self) -> None:
        while True:
            message = await self._outbox.get()
            try:
                await self._socket.send_bytes(message.SerializeToString())
            except ConnectionError:
                return  # the reader sees the connection end and unregisters the worker

    async def _stop_writer(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer


def _decode(frame: bytes) -> agent_pb.WorkerMessage:
    try:
        return agent_pb.WorkerMessage.FromString(frame)
    except DecodeError:
        raise FrameRefused(f"a {len(frame)}-byte frame that is not a WorkerMessage") from None


def _describe(kind: str | None) -> str:
    if kind is None:
        return "an empty message"
    return "a second register" if kind == "register" else kind


def _pong(ping: agent_pb.WorkerPing) -> agent_pb.ServerMessage:
    return agent_pb.ServerMessage(
        pong=agent_pb.WorkerPong(last_timestamp=ping.timestamp, timestamp=int(time.time() * 1000))
    )
