"""LiveKit's ``/rtc/v1`` signalling: the participant side of the server's HTTP listener.

Requests are judged before the WebSocket upgrade, as LiveKit does, so that every refusal is a plain
HTTP status with a one-line body the SDK reports verbatim:

- ``/rtc/v1`` (upgrade): token and join request checked, then the session runs over the socket;
- ``/rtc/v1/validate``: the same token check, answered ``200 success`` or with the refusal;
- ``/rtc`` and ``/rtc/validate`` (the legacy dual-peer-connection protocol): a 404 that says why.

A connection whose JoinRequest says ``reconnect`` is a resume: it is attached to the live participant
of that sid, which first receives a ReconnectResponse and a fresh snapshot of the room.

The connection of a client that breaks the protocol is closed, as livekit-server closes it ("error
reading from websocket"): a frame that does not decode as a ``SignalRequest``, a text frame, a frame
over :data:`~.websocket.MAX_FRAME_BYTES`. So is the connection of a client that sends nothing for the
ping timeout its JoinResponse advertised (a frozen or vanished client; live ones ping every ping
interval). Either way the participant then waits for a resume as after any signal drop (see
:meth:`.Participant.signal_closed`), after a timeout only for :data:`~.server_info.DISCONNECT_CLEANUP_S`
(what livekit-server gives a participant whose connection failed); everyone else in the room goes on.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Final

from aiohttp import web
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

from .auth import ParticipantGrant, TokenAuthority, TokenRefused, bearer_token
from .join_request import JoinRequestError, RequestTarget, decode_join_request
from .participant import MAX_QUEUED_REQUESTS, Participant
from .room import Room
from .server_info import DISCONNECT_CLEANUP_S, SERVER_INFO, SignalTiming
from .websocket import (
    FrameRefused,
    PeerSilent,
    WebSocketChannel,
    binary_frames,
    open_websocket,
    wants_websocket,
)

_log = logging.getLogger("agent_tui.devserver")

V1: Final = "/rtc/v1"
V1_VALIDATE: Final = "/rtc/v1/validate"
LEGACY: Final = frozenset({"/rtc", "/rtc/validate"})
_LEGACY_REFUSAL = (
    "this LiveKit dev server speaks only the single peer connection protocol at /rtc/v1 "
    "(livekit >= 1.1.21); the legacy dual peer connection path /rtc is not served"
)


def plain(status: HTTPStatus, text: str) -> web.Response:
    """A one-line plain-text HTTP answer (what the SDK quotes in its connect error)."""
    return web.Response(status=int(status), text=text)


class SignallingEndpoint:
    """Routes ``/rtc…`` requests and runs each participant's signalling session."""

    def __init__(
        self,
        *,
        authority: TokenAuthority,
        room_for: Callable[[ParticipantGrant], Room],
        find_room: Callable[[str], Room | None],
        resume_window: float,
        timing: SignalTiming,
    ) -> None:
        self._authority = authority
        self._room_for = room_for
        self._find_room = find_room
        self._resume_window = resume_window
        self._timing = timing

    async def handle(self, request: web.Request, target: RequestTarget) -> web.StreamResponse:
        """Answer a ``/rtc…`` request: a refusal, a validate answer, or a whole signalling session."""
        if target.path in LEGACY:
            return plain(HTTPStatus.NOT_FOUND, _LEGACY_REFUSAL)
        try:
            token = bearer_token(request.headers.get("Authorization"), target.query.get("access_token"))
            grant = self._authority.admit(token)
            # As livekit-server: validate needs the same join_request as the connection it checks.
            join = decode_join_request(target.query.get("join_request"))
            if target.path == V1_VALIDATE:
                return plain(HTTPStatus.OK, "success")
        except TokenRefused as refusal:
            _log.info("refused %s: %s", target.path, refusal)
            return plain(refusal.status, str(refusal))
        except JoinRequestError as error:
            return plain(error.status, str(error))
        if not wants_websocket(request):
            return plain(HTTPStatus.BAD_REQUEST, "expected a WebSocket upgrade")
        socket = await open_websocket(request)
        channel = WebSocketChannel(socket)
        if join.reconnect:
            participant = await self._resume(channel, grant, join)
        else:
            participant = await self._join(channel, grant, join)
        if participant is not None:
            await self._read(channel, participant)
        return socket

    async def _join(
        self, connection: WebSocketChannel, grant: ParticipantGrant, join: JoinRequest
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
        self, connection: WebSocketChannel, grant: ParticipantGrant, join: JoinRequest
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
            with contextlib.suppress(Exception):  # the client may already have gone
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

    async def _read(self, connection: WebSocketChannel, participant: Participant) -> None:
        resume_within_s, timed_out = self._resume_window, False
        try:
            frames = binary_frames(connection.socket, idle_timeout_s=self._timing.ping_timeout_s)
            async with contextlib.aclosing(frames):
                async for frame in frames:
                    self._on_frame(participant, frame)
        except FrameRefused as refused:
            _log.warning(
                "closing the signal connection of room=%s identity=%s: %s",
                participant.room.name,
                participant.identity,
                refused,
            )
        except PeerSilent as silent:
            # As livekit-server once a participant's connection failed: it may still resume, briefly.
            resume_within_s, timed_out = DISCONNECT_CLEANUP_S, True
            _log.warning(
                "ping timeout room=%s identity=%s: %s; closing its signal connection",
                participant.room.name,
                participant.identity,
                silent,
            )
        finally:
            participant.signal_closed(connection, resume_within_s, timed_out=timed_out)
        await connection.close()

    @staticmethod
    def _on_frame(participant: Participant, frame: bytes) -> None:
        try:
            request = SignalRequest.FromString(frame)
        except DecodeError:
            raise FrameRefused(f"a {len(frame)}-byte frame that is not a SignalRequest") from None
        kind = request.WhichOneof("message")
        if kind == "ping_req":
            pong = Pong(last_ping_timestamp=request.ping_req.timestamp, timestamp=_now_ms())
            participant.send(SignalResponse(pong_resp=pong))
        elif kind == "ping":
            participant.send(SignalResponse(pong=_now_ms()))
        elif not participant.submit(request):
            raise FrameRefused(f"{MAX_QUEUED_REQUESTS} requests are already waiting to be handled")


def _now_ms() -> int:
    return int(time.time() * 1000)
