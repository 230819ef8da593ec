"""Protocol-level clients of the dev server for the bad-input and fuzz tests: no WebRTC, no rtc SDK.

A :class:`SignalClient` joins a room over ``/rtc/v1`` with a join request that carries no offer, so the
participant exists (others see it, it gets pongs and participant updates) but its media never connects;
a :class:`RawWorker` registers on ``/agent``. Both speak exactly the protobufs the SDKs send, so a test
controls every frame, and both run on 127.0.0.1 outside the test namespace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
from livekit import api
from livekit.protocol import agent as agent_pb
from livekit.protocol.models import ClientInfo, ParticipantInfo
from livekit.protocol.rtc import JoinRequest, JoinResponse, Ping, SignalRequest, SignalResponse

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET
from agent_tui.devserver.join_request import encode_join_request

ROOM = "probe-room"
WITHIN_S = 10.0


def participant_token(identity: str, room: str = ROOM) -> str:
    grants = api.VideoGrants(room_join=True, room=room)
    return (
        api.AccessToken(DEFAULT_API_KEY, DEFAULT_API_SECRET)
        .with_identity(identity)
        .with_grants(grants)
        .to_jwt()
    )


def worker_token() -> str:
    return (
        api.AccessToken(DEFAULT_API_KEY, DEFAULT_API_SECRET).with_grants(api.VideoGrants(agent=True)).to_jwt()
    )


def http_url(ws_url: str) -> str:
    return "http" + ws_url.removeprefix("ws")


# What the rtc SDK puts in the URL, minus the SDP offer: the participant joins, its media never connects.
JOIN_REQUEST = encode_join_request(
    JoinRequest(client_info=ClientInfo(sdk=ClientInfo.SDK.PYTHON, protocol=16))
)


class SignalClient:
    """One participant's signalling connection; ``responses`` holds what the server sent, in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, join: JoinResponse) -> None:
        self.ws = ws
        self.join = join
        self.responses: list[SignalResponse] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls, http: aiohttp.ClientSession, url: str, identity: str, room: str = ROOM
    ) -> SignalClient:
        ws = await http.ws_connect(
            f"{url}/rtc/v1?join_request={JOIN_REQUEST}",
            headers={"Authorization": f"Bearer {participant_token(identity, room)}"},
            max_msg_size=0,
        )
        first = SignalResponse.FromString(await ws.receive_bytes(timeout=WITHIN_S))
        assert first.WhichOneof("message") == "join", first
        return cls(ws, first.join)

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, request: SignalRequest) -> None:
        await self.ws.send_bytes(request.SerializeToString())

    async def ping(self) -> None:
        """Ping and wait for the server's pong: the connection works."""
        stamp = time.time_ns()
        await self.send(SignalRequest(ping_req=Ping(timestamp=stamp)))
        await self.wait_for(
            lambda r: r.WhichOneof("message") == "pong_resp" and r.pong_resp.last_ping_timestamp == stamp,
            what="a pong",
        )

    async def wait_for(self, predicate: Callable[[SignalResponse], bool], *, what: str) -> SignalResponse:
        """The first response (received so far or later) that ``predicate`` accepts."""
        async with asyncio.timeout(WITHIN_S), self._arrived:
            while True:
                for response in self.responses:
                    if predicate(response):
                        return response
                assert not self._reader.done(), f"the connection closed while waiting for {what}"
                await self._arrived.wait()

    async def left(self, identity: str) -> ParticipantInfo:
        """Wait until the server says ``identity`` disconnected; its last ParticipantInfo."""
        update = await self.wait_for(
            lambda r: any(
                p.identity == identity and p.state == ParticipantInfo.State.DISCONNECTED
                for p in r.update.participants
            ),
            what=f"{identity} to leave",
        )
        return next(p for p in update.update.participants if p.identity == identity)

    async def closed_by_server(self) -> int | None:
        """Wait until the server closes the connection; its close code."""
        await asyncio.wait_for(asyncio.shield(self._reader), WITHIN_S)
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
        await self._reader

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.BINARY:
                continue
            async with self._arrived:
                self.responses.append(SignalResponse.FromString(frame.data))
                self._arrived.notify_all()
        async with self._arrived:
            self._arrived.notify_all()


class RawWorker:
    """A worker connection on ``/agent``: frames in, ServerMessages out, nothing else."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, http: aiohttp.ClientSession, url: str) -> RawWorker:
        ws = await http.ws_connect(f"{url}/agent", headers={"Authorization": f"Bearer {worker_token()}"})
        return cls(ws)

    async def send(self, message: agent_pb.WorkerMessage) -> None:
        await self.ws.send_bytes(message.SerializeToString())

    async def register(self, agent_name: str = "probe") -> agent_pb.RegisterWorkerResponse:
        register = agent_pb.RegisterWorkerRequest(type=agent_pb.JobType.JT_ROOM, agent_name=agent_name)
        await self.send(agent_pb.WorkerMessage(register=register))
        return (await self.next("register")).register

    async def next(self, kind: str) -> agent_pb.ServerMessage:
        message = agent_pb.ServerMessage.FromString(await self.ws.receive_bytes(timeout=WITHIN_S))
        assert message.WhichOneof("message") == kind, message
        return message

    async def closed_by_server(self) -> int | None:
        """Wait (reading and dropping frames) until the server closes the connection; its close code."""
        async with asyncio.timeout(WITHIN_S):
            async for _ in self.ws:
                pass
        return self.ws.close_code
