"""Bad input closes the offending connection only, with one log line, as livekit-server 1.13.5 does.

Measured on livekit-server with the same raw clients (a participant whose media never connected, a
worker): an undecodable signalling frame, a text frame or a 2 MB frame closes that participant's
WebSocket and removes it at once (``HandleSignalSourceClose``); on ``/agent`` an undecodable frame, an
empty message, a second register or a register for an unknown job type closes the worker's connection,
and a ping before registering is answered. Where the dev server goes further it says why: it reads no
frame of 1 MiB or more (livekit-server sets no limit and buffers any frame), and it enforces the ping
timeout its JoinResponse advertises. Each case is a bounded probe: every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import resource
from collections.abc import AsyncIterator

import aiohttp
import pytest
from livekit.protocol import agent as agent_pb
from livekit.protocol.models import DisconnectReason
from livekit.protocol.rtc import SignalRequest, UpdateParticipantMetadata

from agent_tui.devserver import DevServer
from agent_tui.devserver.server_info import SignalTiming
from agent_tui.devserver.websocket import MAX_FRAME_BYTES
from tests.unit.devserver.devserver_probes import JOIN_REQUEST, RawWorker, SignalClient, participant_token

pytestmark = pytest.mark.timeout(60)

MESSAGE_TOO_BIG = 1009


@pytest.fixture
async def server() -> AsyncIterator[DevServer]:
    async with DevServer(port=0, departure_timeout=0.5) as dev:
        yield dev


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def assert_no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    ("frame", "close_code", "said"),
    [
        pytest.param(b"\xff\xff\xff", 1000, "a 3-byte frame that is not a SignalRequest", id="undecodable"),
        pytest.param("hello", 1000, "a text frame of 5 characters", id="text"),
        pytest.param(
            b"\x0a" + b"\xff" * (2 * MAX_FRAME_BYTES),
            MESSAGE_TOO_BIG,
            f"exceeds limit {MAX_FRAME_BYTES + 1}",
            id="2-MiB-frame",
        ),
    ],
)
async def test_a_bad_signal_frame_closes_that_connection_and_the_room_goes_on(
    server: DevServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    frame: bytes | str,
    close_code: int,
    said: str,
) -> None:
    caplog.set_level(logging.INFO)
    observer = await SignalClient.connect(http, server.url, "observer")
    offender = await SignalClient.connect(http, server.url, "offender")
    if isinstance(frame, str):
        await offender.ws.send_str(frame)
    else:
        await offender.ws.send_bytes(frame)

    assert await offender.closed_by_server() == close_code
    # Its media never connected, so it leaves at once (livekit-server: HandleSignalSourceClose).
    assert (await observer.left("offender")).disconnect_reason == DisconnectReason.SIGNAL_CLOSE
    await observer.ping()
    assert list(server.rooms["probe-room"].participants) == ["observer"]
    [line] = [w for w in warnings(caplog) if "offender" in w]
    assert "closing the signal connection of room=probe-room identity=offender" in line
    assert said in line
    assert_no_tracebacks(caplog)
    await observer.close()


async def test_a_frame_declaring_200_mb_is_refused_from_its_header_without_buffering(
    server: DevServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's probe: one 200 MB frame took the server from 80 MB to a 686 MB peak. Here the client
    sends only the frame's header; the server must close the connection without waiting for (or
    allocating) the payload."""
    caplog.set_level(logging.INFO)
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with aiohttp.ClientSession() as http:
        observer = await SignalClient.connect(http, server.url, "observer")
        reader, writer = await asyncio.open_connection(server.host, server.port)
        key = base64.b64encode(os.urandom(16)).decode()
        token = participant_token("big")
        writer.write(
            (
                f"GET /rtc/v1?join_request={JOIN_REQUEST} HTTP/1.1\r\nHost: {server.host}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        # FIN + binary, masked, 64-bit length of 200 MB, the mask, then nothing of the payload.
        writer.write(bytes([0x82, 0x80 | 127]) + (200_000_000).to_bytes(8, "big") + os.urandom(4))
        await writer.drain()
        close_code = await asyncio.wait_for(_close_code_from(reader), 10)
        writer.close()

        assert close_code == MESSAGE_TOO_BIG
        await observer.left("big")
        await observer.ping()
        await observer.close()
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib) / 1024
    assert grown_mib < 50
    assert any("identity=big" in w and "exceeds limit" in w for w in warnings(caplog))
    assert_no_tracebacks(caplog)


async def test_a_large_but_legal_frame_is_read(server: DevServer, http: aiohttp.ClientSession) -> None:
    """The limit is above what a client may legitimately send: livekit-server's default limit on a
    participant's metadata is 512 KiB."""
    client = await SignalClient.connect(http, server.url, "big-metadata")
    await client.send(SignalRequest(update_metadata=UpdateParticipantMetadata(metadata="m" * 512 * 1024)))
    await client.ping()
    assert not client.closed
    await client.close()


async def test_a_silent_participant_is_removed_after_the_advertised_ping_timeout(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A frozen client keeps its TCP connection open and says nothing: after the ping timeout the server
    closes it and removes it, and the participants that ping go on."""
    caplog.set_level(logging.INFO)
    timing = SignalTiming(ping_interval_s=1, ping_timeout_s=2)
    async with DevServer(port=0, departure_timeout=0.5, timing=timing) as server:
        observer = await SignalClient.connect(http, server.url, "observer")
        assert (observer.join.ping_interval, observer.join.ping_timeout) == (1, 2)

        async def keep_pinging() -> None:
            while True:
                await observer.ping()
                await asyncio.sleep(0.5)

        pinger = asyncio.create_task(keep_pinging())
        silent = await SignalClient.connect(http, server.url, "silent")
        loop = asyncio.get_running_loop()
        joined_at = loop.time()
        await silent.closed_by_server()
        closed_after_s = loop.time() - joined_at
        left = await observer.left("silent")
        pinger.cancel()

        assert 2.0 <= closed_after_s < 5.0
        assert left.disconnect_reason == DisconnectReason.CONNECTION_TIMEOUT
        assert not observer.closed
        assert list(server.rooms["probe-room"].participants) == ["observer"]
        assert any("ping timeout room=probe-room identity=silent" in w for w in warnings(caplog))
        assert_no_tracebacks(caplog)
        await observer.close()


@pytest.mark.parametrize(
    ("before", "frame", "said"),
    [
        pytest.param(True, b"\xff\xff", "a 2-byte frame that is not a WorkerMessage", id="undecodable"),
        pytest.param(True, b"", "an empty message", id="empty"),
        pytest.param(True, "hello", "a text frame", id="text"),
        pytest.param(
            True,
            agent_pb.WorkerMessage(register=agent_pb.RegisterWorkerRequest(type=agent_pb.JobType.JT_ROOM)),
            "a second register",
            id="second-register",
        ),
        pytest.param(
            False, b"\xff\xff", "a 2-byte frame that is not a WorkerMessage", id="undecodable-first"
        ),
        pytest.param(
            False,
            agent_pb.WorkerMessage(register=agent_pb.RegisterWorkerRequest(type=77)),  # type: ignore[arg-type]
            "a register for an unknown job type 77",
            id="unknown-job-type",
        ),
        pytest.param(
            False,
            agent_pb.WorkerMessage(update_worker=agent_pb.UpdateWorkerStatus(load=0.5)),
            "update_worker before registering",
            id="update-before-register",
        ),
    ],
)
async def test_a_worker_that_breaks_the_protocol_loses_its_connection(
    server: DevServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    before: bool,
    frame: bytes | str | agent_pb.WorkerMessage,
    said: str,
) -> None:
    caplog.set_level(logging.INFO)
    bystander = await RawWorker.connect(http, server.url)
    await bystander.register("bystander")
    worker = await RawWorker.connect(http, server.url)
    if before:
        await worker.register()
    if isinstance(frame, str):
        await worker.ws.send_str(frame)
    elif isinstance(frame, bytes):
        await worker.ws.send_bytes(frame)
    else:
        await worker.send(frame)

    await worker.closed_by_server()
    assert [w.agent_name for w in server.dispatcher.workers.values()] == ["bystander"]
    [line] = [w for w in warnings(caplog) if "closing the connection of worker" in w]
    assert said in line
    assert_no_tracebacks(caplog)
    # The other worker is still served.
    await bystander.send(agent_pb.WorkerMessage(ping=agent_pb.WorkerPing(timestamp=7)))
    assert (await bystander.next("pong")).pong.last_timestamp == 7
    await bystander.ws.close()


async def test_a_worker_ping_before_registering_is_answered(
    server: DevServer, http: aiohttp.ClientSession
) -> None:
    worker = await RawWorker.connect(http, server.url)
    await worker.send(agent_pb.WorkerMessage(ping=agent_pb.WorkerPing(timestamp=3)))
    assert (await worker.next("pong")).pong.last_timestamp == 3
    assert (await worker.register()).worker_id
    await worker.ws.close()


async def _close_code_from(reader: asyncio.StreamReader) -> int:
    """Read server frames until its close frame; the code it carries."""
    while True:
        header = await reader.readexactly(2)
        opcode, length = header[0] & 0x0F, header[1] & 0x7F
        if length == 126:
            length = int.from_bytes(await reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await reader.readexactly(8), "big")
        payload = await reader.readexactly(length)
        if opcode == 0x8:
            return int.from_bytes(payload[:2], "big")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            b"POST /twirp/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk"
        ),
        pytest.param(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", id="line-too-long"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", id="bad-header"),
    ],
)
async def test_a_request_that_is_not_valid_http_gets_a_400_and_one_line(
    server: DevServer, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    caplog.set_level(logging.INFO)
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(raw)
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.split(b" ", 2)[1] == b"400"
    assert_no_tracebacks(caplog)
    assert any(r.name == "aiohttp.server" and "400" in r.getMessage() for r in caplog.records)
