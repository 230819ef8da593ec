"""The server API over Twirp: ``POST /twirp/livekit.<Service>/<Method>``.

This is what livekit-api's ``LiveKitAPI`` calls: a protobuf (or JSON) request body, a Bearer token
signed with the server's key pair carrying the grant the method needs (``roomAdmin`` for the room it
acts on, ``roomList`` for listing rooms, ``roomCreate`` for deleting one), and a protobuf answer.
Failures use Twirp's error shape, a JSON body ``{"code": …, "msg": …, "meta": {}}`` with the HTTP
status Twirp assigns to that code, which the client raises as ``ServerError(code, message, status)``.
Served methods:

- AgentDispatchService: ``CreateDispatch``, ``ListDispatch``, ``DeleteDispatch``;
- RoomService: ``ListRooms``, ``ListParticipants``, ``GetParticipant``, ``RemoveParticipant``,
  ``UpdateParticipant``, ``SendData``, ``DeleteRoom``.

Any other method of a known service is ``unimplemented``; an unknown route is ``bad_route``, as Twirp
answers. No error is a 5xx except a genuine server fault: livekit-api retries 5xx answers elsewhere
for LiveKit Cloud hosts.

Bad input is answered as livekit-server 1.13.5 answers it, in this order, and logged in one line:

1. a token that is there but does not verify (or an ``Authorization`` header that is not ``Bearer``):
   a plain-text 401 before anything else is looked at (livekit-server's ``APIKeyAuthMiddleware``);
2. routing, method and Content-Type, as above;
3. a body larger than :data:`MAX_BODY_BYTES`: 413 ``resource_exhausted``, unread. livekit-server has no
   such limit (a 5 MB body is served); the dev server refuses rather than buffer what no LiveKit API
   call needs;
4. a body that does not decode: 400 ``malformed`` with livekit-server's messages, which carry no parser
   details ("the json request could not be decoded"); a JSON body is read as Twirp's Go server reads
   it: the first JSON value, unknown fields ignored;
5. a valid token (or none) without the grant the method needs: 401 ``unauthenticated``, as
   livekit-server's ``twirpAuthError``.

A genuine server fault is a 500 ``internal`` whose message says nothing of the exception.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final, Protocol

import aiohttp
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import Message
from livekit.protocol.agent_dispatch import (
    AgentDispatch,
    CreateAgentDispatchRequest,
    DeleteAgentDispatchRequest,
    ListAgentDispatchRequest,
    ListAgentDispatchResponse,
)
from livekit.protocol.models import DataPacket, DisconnectReason, ParticipantInfo, UserPacket
from livekit.protocol.room import (
    DeleteRoomRequest,
    DeleteRoomResponse,
    ListParticipantsRequest,
    ListParticipantsResponse,
    ListRoomsRequest,
    ListRoomsResponse,
    RemoveParticipantResponse,
    RoomParticipantIdentity,
    SendDataRequest,
    SendDataResponse,
    UpdateParticipantRequest,
)

from .auth import TokenAuthority, TokenRefused, bearer_token
from .data_routing import LOSSY_LABEL, RELIABLE_LABEL
from .dispatch import Dispatcher
from .join_request import RequestTarget
from .room import Room
from .websocket import MAX_FRAME_BYTES

_log = logging.getLogger("agent_tui.devserver")

TWIRP_PREFIX: Final = "/twirp/"
_PROTOBUF = "application/protobuf"
_JSON = "application/json"
# See the module docstring (3.): a safety limit of the dev server's own, 1 MiB like its WebSocket frames.
MAX_BODY_BYTES: Final = MAX_FRAME_BYTES
_JSON_WHITESPACE = " \t\n\r"

# https://twitchtv.github.io/twirp/docs/spec_v7.html#error-codes
_STATUS: Final[dict[str, int]] = {
    "canceled": 408,
    "unknown": 500,
    "invalid_argument": 400,
    "malformed": 400,
    "deadline_exceeded": 408,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "dataloss": 500,
}

_KNOWN_SERVICES: Final = frozenset(
    {
        "livekit.RoomService",
        "livekit.AgentDispatchService",
        "livekit.Egress",
        "livekit.Ingress",
        "livekit.SIP",
        "livekit.Connector",
    }
)


class TwirpError(Exception):
    """A Twirp error answer: ``code`` is one of Twirp's codes, ``str(self)`` the message."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status or _STATUS.get(code, 500)

    def response(self) -> web.Response:
        """The JSON error body with Twirp's status for the code (or the status given)."""
        body = json.dumps({"code": self.code, "msg": str(self), "meta": {}})
        return web.Response(status=self.status, text=body, content_type=_JSON)


class RoomDirectory(Protocol):
    """The part of the server the API acts on."""

    rooms: dict[str, Room]

    def open_room(self, name: str) -> Room:
        """The room ``name``, created empty if it does not exist (as LiveKit's API does)."""
        ...

    async def delete_room(self, room: Room) -> None:
        """Remove everyone from ``room`` and close it."""
        ...


Handler = Callable[[Any, str | None], Awaitable[Message]]


@dataclass(frozen=True)
class _Route:
    request_type: type[Message]
    handler: Handler


class TwirpApi:
    """Serves the methods listed in the module docstring."""

    def __init__(self, *, authority: TokenAuthority, dispatcher: Dispatcher, rooms: RoomDirectory) -> None:
        self._authority = authority
        self._dispatcher = dispatcher
        self._rooms = rooms
        self._routes: dict[tuple[str, str], _Route] = {
            ("livekit.AgentDispatchService", "CreateDispatch"): _Route(
                CreateAgentDispatchRequest, self._create_dispatch
            ),
            ("livekit.AgentDispatchService", "ListDispatch"): _Route(
                ListAgentDispatchRequest, self._list_dispatch
            ),
            ("livekit.AgentDispatchService", "DeleteDispatch"): _Route(
                DeleteAgentDispatchRequest, self._delete_dispatch
            ),
            ("livekit.RoomService", "ListRooms"): _Route(ListRoomsRequest, self._list_rooms),
            ("livekit.RoomService", "ListParticipants"): _Route(
                ListParticipantsRequest, self._list_participants
            ),
            ("livekit.RoomService", "GetParticipant"): _Route(RoomParticipantIdentity, self._get_participant),
            ("livekit.RoomService", "RemoveParticipant"): _Route(
                RoomParticipantIdentity, self._remove_participant
            ),
            ("livekit.RoomService", "UpdateParticipant"): _Route(
                UpdateParticipantRequest, self._update_participant
            ),
            ("livekit.RoomService", "SendData"): _Route(SendDataRequest, self._send_data),
            ("livekit.RoomService", "DeleteRoom"): _Route(DeleteRoomRequest, self._delete_room),
        }

    @staticmethod
    def serves(path: str) -> bool:
        """Whether ``path`` is a Twirp route (of this server or not)."""
        return path.startswith(TWIRP_PREFIX)

    async def handle(self, request: web.Request, target: RequestTarget) -> web.Response:
        """Answer one Twirp call."""
        try:
            token = self._verified_token(request, target)
            return await self._call(request, target, token)
        except TokenRefused as refusal:
            _log.info("api %s: refused: %s", target.path, refusal)
            return web.Response(status=int(HTTPStatus.UNAUTHORIZED), text=str(refusal))
        except TwirpError as error:
            _log.info("api %s: %s %s", target.path, error.code, error)
            return error.response()
        except Exception:  # a server bug: still answer in Twirp's shape, saying nothing of it
            _log.exception("api %s failed", target.path)
            return TwirpError("internal", "internal server error").response()

    def _verified_token(self, request: web.Request, target: RequestTarget) -> str | None:
        """The request's token, verified if there is one (before the body is read, as livekit-server's
        middleware does); None without one, which the method refuses after decoding the body."""
        token = bearer_token(request.headers.get("Authorization"), target.query.get("access_token"))
        if token:
            self._authority.verify(token)
        return token

    async def _call(self, request: web.Request, target: RequestTarget, token: str | None) -> web.Response:
        service, _, method = target.path[len(TWIRP_PREFIX) :].partition("/")
        if request.method != "POST":
            raise TwirpError("bad_route", f"unsupported method {request.method} (only POST is allowed)")
        route = self._routes.get((service, method))
        if route is None:
            if service in _KNOWN_SERVICES and method:
                raise TwirpError(
                    "unimplemented", f"{service}/{method} is not served by the agent-tui dev server"
                )
            raise TwirpError("bad_route", f"no handler for path {target.path!r}")
        content_type = request.content_type
        if content_type not in (_PROTOBUF, _JSON):
            raise TwirpError("bad_route", f"unexpected Content-Type {content_type!r}")
        message = route.request_type()
        _decode(await _read_body(request), message, as_json=content_type == _JSON)
        answer = await route.handler(message, token)
        _log.info("api %s/%s", service.removeprefix("livekit."), method)
        if content_type == _JSON:
            text = json_format.MessageToJson(answer, preserving_proto_field_name=False)
            return web.Response(status=int(HTTPStatus.OK), text=text, content_type=_JSON)
        return web.Response(
            status=int(HTTPStatus.OK), body=answer.SerializeToString(), content_type=_PROTOBUF
        )

    # ------------------------------------------------------------------------------------ access

    def _admit(
        self,
        token: str | None,
        *,
        room_admin: str | None = None,
        room_list: bool = False,
        room_create: bool = False,
    ) -> None:
        try:
            self._authority.admit_api(
                token, room_admin=room_admin, room_list=room_list, room_create=room_create
            )
        except TokenRefused as refusal:
            # livekit-server answers a missing grant as a missing token: unauthenticated (401).
            raise TwirpError("unauthenticated", str(refusal)) from None

    def _room(self, name: str) -> Room:
        if not name:
            raise TwirpError("invalid_argument", "room name is required")
        room = self._rooms.rooms.get(name)
        if room is None:
            raise TwirpError("not_found", f"requested room does not exist: {name!r}")
        return room

    def _participant(self, room_name: str, identity: str) -> tuple[Room, Any]:
        room = self._room(room_name)
        participant = room.participants.get(identity)
        if participant is None:
            raise TwirpError("not_found", f"participant {identity!r} is not in room {room_name!r}")
        return room, participant

    # -------------------------------------------------------------------------- agent dispatches

    async def _create_dispatch(self, request: CreateAgentDispatchRequest, token: str | None) -> AgentDispatch:
        self._admit(token, room_admin=request.room)
        if not request.room:
            raise TwirpError("invalid_argument", "room name is required")
        room = self._rooms.open_room(request.room)
        record = self._dispatcher.dispatch(
            room, request.agent_name, metadata=request.metadata, attributes=request.attributes
        )
        return record.proto()

    async def _list_dispatch(
        self, request: ListAgentDispatchRequest, token: str | None
    ) -> ListAgentDispatchResponse:
        self._admit(token, room_admin=request.room)
        return ListAgentDispatchResponse(
            agent_dispatches=self._dispatcher.list(request.room, request.dispatch_id)
        )

    async def _delete_dispatch(self, request: DeleteAgentDispatchRequest, token: str | None) -> AgentDispatch:
        self._admit(token, room_admin=request.room)
        deleted = self._dispatcher.delete(request.room, request.dispatch_id)
        if deleted is None:
            raise TwirpError(
                "not_found", f"dispatch {request.dispatch_id!r} not found in room {request.room!r}"
            )
        return deleted

    # ------------------------------------------------------------------------------------- rooms

    async def _list_rooms(self, request: ListRoomsRequest, token: str | None) -> ListRoomsResponse:
        self._admit(token, room_list=True)
        names = set(request.names)
        rooms = [room.info() for name, room in self._rooms.rooms.items() if not names or name in names]
        return ListRoomsResponse(rooms=rooms)

    async def _delete_room(self, request: DeleteRoomRequest, token: str | None) -> DeleteRoomResponse:
        self._admit(token, room_create=True)
        await self._rooms.delete_room(self._room(request.room))
        return DeleteRoomResponse()

    # ------------------------------------------------------------------------------ participants

    async def _list_participants(
        self, request: ListParticipantsRequest, token: str | None
    ) -> ListParticipantsResponse:
        self._admit(token, room_admin=request.room)
        room = self._room(request.room)
        return ListParticipantsResponse(participants=[p.info() for p in room.participants.values()])

    async def _get_participant(self, request: RoomParticipantIdentity, token: str | None) -> ParticipantInfo:
        self._admit(token, room_admin=request.room)
        _, participant = self._participant(request.room, request.identity)
        info: ParticipantInfo = participant.info()
        return info

    async def _remove_participant(
        self, request: RoomParticipantIdentity, token: str | None
    ) -> RemoveParticipantResponse:
        self._admit(token, room_admin=request.room)
        room, participant = self._participant(request.room, request.identity)
        await room.remove(participant, DisconnectReason.PARTICIPANT_REMOVED, notify=True)
        return RemoveParticipantResponse()

    async def _update_participant(
        self, request: UpdateParticipantRequest, token: str | None
    ) -> ParticipantInfo:
        self._admit(token, room_admin=request.room)
        _, participant = self._participant(request.room, request.identity)
        participant.update_from_server(
            name=request.name,
            metadata=request.metadata,
            attributes=request.attributes,
            permission=request.permission if request.HasField("permission") else None,
        )
        info: ParticipantInfo = participant.info()
        return info

    async def _send_data(self, request: SendDataRequest, token: str | None) -> SendDataResponse:
        self._admit(token, room_admin=request.room)
        room = self._room(request.room)
        destinations = list(request.destination_identities)
        for sid in request.destination_sids:
            found = room.find_participant(sid)
            if found is not None:
                destinations.append(found.identity)
        targeted = bool(request.destination_identities or request.destination_sids)
        packet = DataPacket(
            kind=request.kind,
            destination_identities=destinations,
            user=UserPacket(
                payload=request.data,
                topic=request.topic if request.HasField("topic") else None,
                destination_identities=destinations,
                nonce=request.nonce,
            ),
        )
        label = LOSSY_LABEL if request.kind == DataPacket.Kind.LOSSY else RELIABLE_LABEL
        room.send_from_server(label, packet, destinations if targeted else None)
        return SendDataResponse()


async def _read_body(request: web.Request) -> bytes:
    """The request body, or a :class:`TwirpError` if it is too large or cannot be read."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise _too_large(declared)
    try:
        return await request.read()  # the application's client_max_size is MAX_BODY_BYTES
    except web.HTTPRequestEntityTooLarge:
        raise _too_large(None) from None
    except (ConnectionError, aiohttp.ClientPayloadError, asyncio.IncompleteReadError):
        raise TwirpError("malformed", "failed to read request body") from None


def _too_large(declared: int | None) -> TwirpError:
    size = f"{declared} bytes" if declared is not None else "more"
    return TwirpError(
        "resource_exhausted",
        f"the request body ({size}) is larger than the dev server's limit of {MAX_BODY_BYTES} bytes",
        status=int(HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    )


def _decode(body: bytes, message: Message, *, as_json: bool) -> None:
    """Fill ``message`` from ``body`` as Twirp's Go server does, or raise ``malformed`` saying only that.

    JSON: the first JSON value of the body (what follows it is ignored), which must be an object;
    unknown fields are ignored and invalid UTF-8 is read as U+FFFD, as Go's decoders do.
    """
    try:
        if as_json:
            text = body.decode("utf-8", errors="replace")
            start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
            value, _ = json.JSONDecoder().raw_decode(text, start)
            if not isinstance(value, dict):
                raise ValueError("not a JSON object")
            json_format.ParseDict(value, message, ignore_unknown_fields=True)
        else:
            message.ParseFromString(body)
    # Whatever the parsers raise (DecodeError, ParseError, ValueError, RecursionError for deep nesting),
    # the body is undecodable, and livekit-server's answer names no detail.
    except Exception:
        kind = "json" if as_json else "protobuf"
        raise TwirpError("malformed", f"the {kind} request could not be decoded") from None
