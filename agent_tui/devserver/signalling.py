"""The HTTP and WebSocket face of the server: LiveKit's ``/rtc/v1`` signalling.

Requests are judged before the WebSocket upgrade, as LiveKit does, so that every refusal is a plain
HTTP status with a one-line body the SDK reports verbatim:

- ``/rtc/v1`` (upgrade): token and join request checked, then the session runs over the socket;
- ``/rtc/v1/validate``: the same token check, answered ``200 success`` or with the refusal;
- ``/rtc`` and ``/rtc/validate`` (the legacy dual-peer-connection protocol): a 404 that says why;
- ``/``: ``200 OK`` for health checks.

A connection whose JoinRequest says ``reconnect`` is a resume: it is attached to the live participant
of that sid, which first receives a ReconnectResponse and a fresh snapshot of the room.
"""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from collections.abc import Callable
from http import HTTPStatus

from google.protobuf.message import DecodeError
from livekit.protocol.models import DisconnectReason
from livekit.protocol.rtc import (
    JoinRequest,
    LeaveRequest,
    Pong,
    ReconnectResponse,
    RoomUpdate,
    SignalRequest,
    SignalResponse,
)
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .auth import ParticipantGrant, TokenAuthority, TokenRefused, bearer_token
from .join_request import JoinRequestError, RequestTarget, decode_join_request
from .participant import Participant
from .room import Room
from .server_info import SERVER_INFO

_log = logging.getLogger("agent_tui.devserver")

_V1 = "/rtc/v1"
_V1_VALIDATE = "/rtc/v1/validate"
_LEGACY = frozenset({"/rtc", "/rtc/validate"})
_LEGACY_REFUSAL = (
    "this LiveKit dev server speaks only the single peer connection protocol at /rtc/v1 "
    "(livekit >= 1.1.21); the legacy dual peer connection path /rtc is not served"
)


class SignallingEndpoint:
    """Routes requests and runs each participant's signalling session."""

    def __init__(
        self,
        *,
        authority: TokenAuthority,
        room_for: Callable[[ParticipantGrant], Room],
        find_room: Callable[[str], Room | None],
        resume_window: float,
    ) -> None:
        self._authority = authority
        self._room_for = room_for
        self._find_room = find_room
        self._resume_window = resume_window
        # Admitted in process_request, picked up by the handler once the upgrade completed.
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, tuple[ParticipantGrant, JoinRequest]] = (
            weakref.WeakKeyDictionary()
        )

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Answer everything but an admitted ``/rtc/v1`` upgrade with a plain HTTP response."""
        target = RequestTarget.parse(request.path)
        if target.path in (_V1, _V1_VALIDATE):
            try:
                token = bearer_token(request.headers.get("Authorization"), target.query.get("access_token"))
                grant = self._authority.admit(token, requested_room=target.query.get("room"))
                if target.path == _V1_VALIDATE:
                    return connection.respond(HTTPStatus.OK, "success")
                join = decode_join_request(target.query.get("join_request"))
            except TokenRefused as refusal:
                _log.info("refused %s: %s", target.path, refusal)
                return connection.respond(refusal.status, str(refusal))
            except JoinRequestError as error:
                return connection.respond(error.status, str(error))
            if "websocket" not in request.headers.get("Upgrade", "").lower():
                return connection.respond(HTTPStatus.BAD_REQUEST, "expected a WebSocket upgrade")
            self._admitted[connection] = (grant, join)
            return None
        if target.path in _LEGACY:
            return connection.respond(HTTPStatus.NOT_FOUND, _LEGACY_REFUSAL)
        if target.path == "/":
            return connection.respond(HTTPStatus.OK, "OK")
        return connection.respond(HTTPStatus.NOT_FOUND, "not found")

    async def handle(self, connection: ServerConnection) -> None:
        """Run one signalling connection (a join or a resume) until it ends."""
        admitted = self._admitted.pop(connection, None)
        if admitted is None:
            await connection.close()
            return
        grant, join = admitted
        if join.reconnect:
            participant = await self._resume(connection, grant, join)
        else:
            participant = await self._join(connection, grant, join)
        if participant is not None:
            await self._read(connection, participant)

    async def _join(
        self, connection: ServerConnection, grant: ParticipantGrant, join: JoinRequest
    ) -> Participant:
        room = self._room_for(grant)
        participant = await room.join(grant, join)
        participant.attach(connection)
        for add_track in join.add_track_requests:
            participant.submit(SignalRequest(add_track=add_track))
        if join.publisher_offer.sdp:
            participant.submit(SignalRequest(offer=join.publisher_offer))
        return participant

    async def _resume(
        self, connection: ServerConnection, grant: ParticipantGrant, join: JoinRequest
    ) -> Participant | None:
        room = self._find_room(grant.room)
        participant = room.find_participant(join.participant_sid) if room is not None else None
        resumable = participant is not None and not participant.closing
        if room is None or participant is None or not resumable or participant.identity != grant.identity:
            # Nothing to resume: tell the client to rejoin from scratch, as LiveKit does.
            _log.info("resume refused room=%s identity=%s: session gone", grant.room, grant.identity)
            leave = LeaveRequest(
                reason=DisconnectReason.STATE_MISMATCH,
                action=LeaveRequest.Action.RECONNECT,
                can_reconnect=True,
            )
            with contextlib.suppress(ConnectionClosed):
                await connection.send(SignalResponse(leave=leave).SerializeToString())
            await connection.close()
            return None
        reconnect = ReconnectResponse(
            server_info=SERVER_INFO, last_message_seq=participant.reliable_sequence.last
        )
        replaced = participant.attach(
            connection,
            first=[
                SignalResponse(reconnect=reconnect),
                room.snapshot(),
                SignalResponse(room_update=RoomUpdate(room=room.info())),
            ],
        )
        if replaced is not None:
            await replaced.close()
        _log.info("resume room=%s identity=%s", room.name, participant.identity)
        return participant

    async def _read(self, connection: ServerConnection, participant: Participant) -> None:
        try:
            async for message in connection:
                if not isinstance(message, bytes):
                    continue
                try:
                    request = SignalRequest.FromString(message)
                except DecodeError:
                    continue
                kind = request.WhichOneof("message")
                if kind == "ping_req":
                    pong = Pong(last_ping_timestamp=request.ping_req.timestamp, timestamp=_now_ms())
                    participant.send(SignalResponse(pong_resp=pong))
                elif kind == "ping":
                    participant.send(SignalResponse(pong=_now_ms()))
                else:
                    participant.submit(request)
        except ConnectionClosed:
            pass
        finally:
            participant.signal_closed(connection, self._resume_window)


def _now_ms() -> int:
    return int(time.time() * 1000)
