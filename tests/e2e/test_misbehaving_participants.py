"""A participant that misbehaves or dies is dealt with alone, on the dev server as on livekit-server.

Side by side (each test runs against both servers):

- a client that sends an undecodable or oversized signalling frame has its WebSocket closed and, its
  media never having connected, leaves at once; the real participants beside it go on;
- a client process that freezes (SIGSTOP: TCP stays open, nothing is answered) or is killed (SIGKILL:
  its sockets close, as when a job process dies) leaves with ``CONNECTION_TIMEOUT``. livekit-server
  notices through ICE (10 s to disconnected, 5 s more to failed) and then gives it 5 s to resume: 22 s
  measured for both. The dev server goes by signalling: a frozen client misses the 15 s ping timeout its
  JoinResponse advertised and gets the same 5 s; a killed one gets the 15 s resume window (about 18 s
  and 15 s measured).
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys

import aiohttp
import pytest
from livekit import rtc
from livekit.protocol.models import ClientInfo, DisconnectReason, ParticipantInfo
from livekit.protocol.room import ListParticipantsRequest
from livekit.protocol.rtc import JoinRequest, SignalResponse, WrappedJoinRequest

from tests.e2e.e2e_harness import ROOM, Connector, LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

# livekit-server: 22 s for a frozen or a killed client; the dev server: 15-20 s.
LEAVES_WITHIN_S = 35.0

# A participant in a process of its own, as a job process of a worker is: joins, says so, then idles.
_CHILD = """
import asyncio, sys
from livekit import rtc

async def main():
    room = rtc.Room()
    await room.connect(sys.argv[1], sys.argv[2])
    print("joined", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def _join_request() -> str:
    """The ``join_request`` query value of a client that joins without an offer (its media never
    connects), base64url with padding, which livekit-server requires."""
    request = JoinRequest(client_info=ClientInfo(sdk=ClientInfo.SDK.PYTHON, protocol=16))
    wrapped = WrappedJoinRequest(join_request=request.SerializeToString())
    return base64.urlsafe_b64encode(wrapped.SerializeToString()).decode()


async def media_connected(server: LiveServer, identity: str) -> None:
    """Wait until the server lists ``identity`` as ACTIVE (its WebRTC connection is up)."""
    async with server.api() as lk, asyncio.timeout(15):
        while True:
            listed = (await lk.room.list_participants(ListParticipantsRequest(room=ROOM))).participants
            if any(p.identity == identity and p.state == ParticipantInfo.State.ACTIVE for p in listed):
                return
            await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    "frame",
    [pytest.param(b"\xff\xff\xff", id="undecodable"), pytest.param(b"\x0a" + b"\xff" * 2_000_000, id="2-MB")],
)
async def test_a_bad_signalling_frame_closes_only_that_connection(
    server: LiveServer, connect: Connector, frame: bytes
) -> None:
    user = await connect("user")
    agent = await connect("agent", kind="agent")
    left: asyncio.Queue[rtc.RemoteParticipant] = asyncio.Queue()
    user.on("participant_disconnected", left.put_nowait)
    joined = asyncio.Event()
    user.on("participant_connected", lambda p: p.identity == "garbler" and joined.set())

    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            f"{server.url}/rtc/v1?join_request={_join_request()}",
            headers={"Authorization": f"Bearer {server.token('garbler')}"},
        )
        first = SignalResponse.FromString(await ws.receive_bytes(timeout=10))
        assert first.WhichOneof("message") == "join"
        await asyncio.wait_for(joined.wait(), 10)
        await ws.send_bytes(frame)
        async with asyncio.timeout(10):
            async for _ in ws:  # whatever the server still sends, until it closes the connection
                pass
        assert ws.closed

    gone = await asyncio.wait_for(left.get(), 10)
    assert gone.identity == "garbler"
    got = asyncio.Event()
    agent.on("data_received", lambda packet: packet.data == b"still here" and got.set())
    await user.local_participant.publish_data(b"still here")
    await asyncio.wait_for(got.wait(), 10)
    assert set(user.remote_participants) == {"agent"}


@pytest.mark.parametrize("how", [signal.SIGSTOP, signal.SIGKILL], ids=["frozen", "killed"])
async def test_a_frozen_or_killed_participant_leaves_with_connection_timeout(
    server: LiveServer, connect: Connector, how: signal.Signals
) -> None:
    user = await connect("user")
    other = await connect("other")
    left: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    user.on("participant_disconnected", lambda p: left.put_nowait((p.identity, p.disconnect_reason)))
    joined = asyncio.Event()
    user.on("participant_connected", lambda p: p.identity == "child" and joined.set())
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        server.url,
        server.token("child", kind="agent"),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), 30) == b"joined\n"
        await asyncio.wait_for(joined.wait(), 10)
        await media_connected(server, "child")  # one whose media never connected would leave at once
        os.kill(child.pid, how)
        loop = asyncio.get_running_loop()
        stopped_at = loop.time()
        identity, reason = await asyncio.wait_for(left.get(), LEAVES_WITHIN_S)
        after_s = loop.time() - stopped_at
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()

    assert (identity, reason) == ("child", DisconnectReason.CONNECTION_TIMEOUT)
    assert after_s > 5.0, "not before a resume had a chance"
    got = asyncio.Event()
    other.on("data_received", lambda packet: packet.data == b"after" and got.set())
    await user.local_participant.publish_data(b"after")
    await asyncio.wait_for(got.wait(), 10)
