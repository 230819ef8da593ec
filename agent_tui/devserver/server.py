"""The dev server: one process-local LiveKit-compatible SFU for development and tests.

:class:`DevServer` owns the listening socket, the rooms and every background task it starts, so that
``stop()`` can end all of them: participants are told the server is shutting down, peer connections
are closed, the socket stops listening and no task of the server outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Protocol

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from livekit.protocol.models import DisconnectReason

from .agent_service import AGENT_PATH, AgentEndpoint
from .auth import ParticipantGrant, TokenAuthority
from .cors import add_cors_headers, is_preflight, preflight
from .dispatch import Dispatcher
from .join_request import RequestTarget
from .room import Room
from .server_info import SignalTiming
from .signalling import LEGACY, V1, V1_VALIDATE, SignallingEndpoint, plain
from .token_endpoint import TOKEN_PATH, TokenRequestError, mint_for_request
from .twirp_api import MAX_BODY_BYTES, TwirpApi

_log = logging.getLogger("agent_tui.devserver")

DEFAULT_API_KEY: Final = "devkey"
# A development secret, printed openly by `agent-tui dev-server`; long enough for HS256 (livekit-api).
DEFAULT_API_SECRET: Final = "agent-tui-dev-server-secret-not-for-production-use"
DEFAULT_DEPARTURE_TIMEOUT: Final = 10.0
DEFAULT_RESUME_WINDOW: Final = 15.0
# Handlers still running at shutdown (their sockets were closed first) get this long to return.
_SHUTDOWN_TIMEOUT_S: Final = 2.0
_MAX_URL_BYTES: Final = 64 * 1024
# How long a room opened by the API (an agent dispatched into a room nobody joined yet) waits for its
# first participant; LiveKit's default empty_timeout.
ROOM_EMPTY_TIMEOUT_S: Final = 300.0


class _HttpServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server log, where a request that is not valid HTTP (a bad chunk size, a header line too
    long) is the client's fault: one line, not a traceback. A handler's exception keeps its traceback."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            reason = str(exc_info.message).splitlines()[0] if exc_info.message else ""
            self.info("%s: %d %s", str(msg) % args, exc_info.code, reason)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)


class RoomListener(Protocol):
    """Hears rooms open and close (an agent dispatcher reads ``room.creator.room_config.agents``)."""

    def room_created(self, room: Room) -> None: ...

    def room_closed(self, room: Room) -> None: ...


class DevServer:
    """A LiveKit-compatible server on ``ws://host:port``; use ``async with`` or ``start()``/``stop()``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7880,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
        *,
        departure_timeout: float = DEFAULT_DEPARTURE_TIMEOUT,
        resume_window: float = DEFAULT_RESUME_WINDOW,
        timing: SignalTiming | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.api_secret = api_secret
        self.departure_timeout = departure_timeout
        self.timing = timing or SignalTiming()
        self.rooms: dict[str, Room] = {}
        self._listeners: list[RoomListener] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._authority = TokenAuthority(api_key, api_secret)
        self._endpoint = SignallingEndpoint(
            authority=self._authority,
            room_for=self._room_for,
            find_room=self.rooms.get,
            resume_window=resume_window,
            timing=self.timing,
        )
        self.dispatcher = Dispatcher(
            api_key=api_key, api_secret=api_secret, find_room=self.rooms.get, spawn=self._spawn
        )
        self.add_listener(self.dispatcher)
        self._agents = AgentEndpoint(authority=self._authority, dispatcher=self.dispatcher)
        self._api = TwirpApi(authority=self._authority, dispatcher=self.dispatcher, rooms=self)

    @property
    def url(self) -> str:
        """The ``ws://`` URL clients connect to (the bound port when started with port 0)."""
        return f"ws://{self.host}:{self.port}"

    def add_listener(self, listener: RoomListener) -> None:
        """Tell ``listener`` about rooms opening and closing from now on."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Start listening; returns once clients can connect."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._route)
        app.on_response_prepare.append(add_cors_headers)
        runner = web.AppRunner(
            app,
            access_log=None,
            shutdown_timeout=_SHUTDOWN_TIMEOUT_S,
            # The first join puts the SDP offer in the URL (about 2 kB gzipped, more for large offers).
            max_line_size=_MAX_URL_BYTES,
            max_field_size=_MAX_URL_BYTES,
            logger=_HttpServerLog(logging.getLogger("aiohttp.server"), {}),
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner, self._site = runner, site
        if self.port == 0:
            server = site._server
            assert isinstance(server, asyncio.Server)
            self.port = server.sockets[0].getsockname()[1]
        _log.info("listening on %s", self.url)

    async def stop(self) -> None:
        """Close every room (clients are told the server is shutting down) and stop listening."""
        runner, site = self._runner, self._site
        self._runner = self._site = None
        if runner is None or site is None:
            return
        await site.stop()  # no new connections; the open ones are closed below
        for room in list(self.rooms.values()):
            await room.close(DisconnectReason.SERVER_SHUTDOWN)
            self._forget(room)
        await self.dispatcher.close()
        await self._agents.close()
        await runner.cleanup()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        _log.info("stopped")

    async def _route(self, request: web.Request) -> web.StreamResponse:
        """The one handler of the listener: paths are matched after collapsing empty segments."""
        if is_preflight(request):
            return preflight(request)
        target = RequestTarget.parse(request.raw_path)
        if target.path == TOKEN_PATH:
            return await self._token(request)
        if target.path in (V1, V1_VALIDATE) or target.path in LEGACY:
            return await self._endpoint.handle(request, target)
        if target.path == AGENT_PATH:
            return await self._agents.handle(request, target)
        if self._api.serves(target.path):
            return await self._api.handle(request, target)
        if target.path == "/":
            return plain(HTTPStatus.OK, "OK")
        return plain(HTTPStatus.NOT_FOUND, "not found")

    async def _token(self, request: web.Request) -> web.Response:
        """``POST /token``: a token in LiveKit's standard endpoint format (:mod:`.token_endpoint`)."""
        if request.method != "POST":
            return plain(HTTPStatus.METHOD_NOT_ALLOWED, "POST a TokenSourceRequest (JSON) to /token")
        try:
            answer = mint_for_request(
                await request.read(), server_url=self.url, api_key=self.api_key, api_secret=self.api_secret
            )
        except TokenRequestError as error:
            return web.json_response({"error": str(error)}, status=int(HTTPStatus.BAD_REQUEST))
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": "the request is too large"}, status=413)
        _log.info("token issued for a web client")
        return web.json_response(answer, status=int(HTTPStatus.CREATED))

    async def __aenter__(self) -> DevServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def open_room(self, name: str) -> Room:
        """The room ``name``; created empty (by the API) if needed, closed if nobody joins it in time."""
        room = self.rooms.get(name)
        if room is None:
            room = self._room_for(ParticipantGrant(identity="", room=name))
            self._spawn(self._close_if_still_empty(room, after_s=ROOM_EMPTY_TIMEOUT_S))
        return room

    async def delete_room(self, room: Room) -> None:
        """Remove everyone from ``room`` (they are told it was deleted) and close it now."""
        await room.close(DisconnectReason.ROOM_DELETED)
        self._forget(room)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name="devserver-background")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _room_for(self, grant: ParticipantGrant) -> Room:
        room = self.rooms.get(grant.room)
        if room is None:
            room = Room(
                grant.room,
                creator=grant,
                departure_timeout=self.departure_timeout,
                spawn=self._spawn,
                on_empty=lambda emptied: self._spawn(self._close_if_still_empty(emptied)),
                timing=self.timing,
            )
            self.rooms[grant.room] = room
            _log.info("room created room=%s by=%s", room.name, grant.identity or "(api)")
            for listener in self._listeners:
                listener.room_created(room)
        return room

    async def _close_if_still_empty(self, room: Room, *, after_s: float | None = None) -> None:
        await asyncio.sleep(self.departure_timeout if after_s is None else after_s)
        if self.rooms.get(room.name) is room and room.abandoned:
            await room.close(DisconnectReason.ROOM_CLOSED)  # the agents left behind
            self._forget(room)

    def _forget(self, room: Room) -> None:
        if self.rooms.get(room.name) is room:
            del self.rooms[room.name]
            _log.info("room closed room=%s", room.name)
            for listener in self._listeners:
                listener.room_closed(room)
