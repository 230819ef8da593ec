"""Bad input never takes the dev server down: hypothesis drives every endpoint with garbage.

Signalling frames, worker frames, Twirp calls and raw HTTP come from hypothesis (a bounded number of
examples each), aimed at one server that also holds a participant and a worker that behave. After every
example the participant still gets its pongs and the worker its answers; at the end, nobody else is
left in the room and nothing was logged at ERROR or with a traceback: each offending connection was
closed (or each bad call refused) with one line.

Hypothesis calls its examples synchronously, so the server runs on an event loop of its own in a
thread, and each example is a coroutine run there. No WebRTC is involved (participants join without an
offer), so this runs on 127.0.0.1 outside the test namespace.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from livekit import api
from livekit.protocol import agent as agent_pb
from livekit.protocol.models import TrackSource, TrackType
from livekit.protocol.rtc import (
    AddTrackRequest,
    LeaveRequest,
    MuteTrackRequest,
    Ping,
    SessionDescription,
    SignalRequest,
    TrickleRequest,
    UpdateParticipantMetadata,
    UpdateSubscription,
)
from yarl import URL

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer
from agent_tui.devserver.websocket import MAX_FRAME_BYTES
from tests.support.waiting import wait_until
from tests.unit.devserver.devserver_probes import ROOM, RawWorker, SignalClient, http_url

pytestmark = pytest.mark.timeout(300)

T = TypeVar("T")
EXAMPLES = settings(max_examples=int(os.environ.get("AGENT_TUI_FUZZ_EXAMPLES", "50")), deadline=None)
EXAMPLE_TIMEOUT_S = 30.0


@dataclass
class Fuzzed:
    """The server under fuzzing, on its own loop, with the participant and worker that behave."""

    server: DevServer
    loop: asyncio.AbstractEventLoop
    http: aiohttp.ClientSession
    observer: SignalClient
    bystander: RawWorker

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(EXAMPLE_TIMEOUT_S)

    async def still_served(self) -> None:
        """The well-behaved participant and worker are still answered."""
        await self.observer.ping()
        await self.bystander.send(agent_pb.WorkerMessage(ping=agent_pb.WorkerPing(timestamp=1)))
        await self.bystander.next("pong")


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Fuzzed]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzzed-devserver", daemon=True)
    thread.start()

    async def start() -> Fuzzed:
        server = DevServer(port=0, departure_timeout=0.5)
        await server.start()
        http = aiohttp.ClientSession()
        observer = await SignalClient.connect(http, server.url, "observer")
        bystander = await RawWorker.connect(http, server.url)
        await bystander.register("bystander")
        return Fuzzed(server, loop, http, observer, bystander)

    state = asyncio.run_coroutine_threadsafe(start(), loop).result(EXAMPLE_TIMEOUT_S)
    try:
        yield state
    finally:

        async def stop() -> None:
            await state.http.close()
            await state.server.stop()

        state.run(stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if anything was logged at ERROR or with a traceback (from any thread)."""
    caplog.set_level(logging.INFO)
    yield
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


# ------------------------------------------------------------------------------------------ strategies

short_text = st.text(max_size=40)
sids = st.one_of(short_text, st.sampled_from(["TR_x", "PA_x", ""]))

sdp_lines = st.sampled_from(
    [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
        "c=IN IP4 0.0.0.0",
        "a=mid:0",
        "a=mid:1",
        "a=sendrecv",
        "a=sendonly",
        "a=recvonly",
        "a=msid:stream track",
        "a=rtpmap:111 opus/48000/2",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=fingerprint:sha-256 00:11",
        "a=setup:actpass",
        "a=candidate:1 1 udp 1 10.0.0.1 9 typ host",
    ]
)
sdps = st.one_of(short_text, st.lists(st.one_of(sdp_lines, short_text), max_size=20).map("\r\n".join))
candidate_inits = st.one_of(
    short_text,
    st.builds(
        lambda candidate, mid, index: json.dumps(
            {"candidate": candidate, "sdpMid": mid, "sdpMLineIndex": index}
        ),
        st.one_of(short_text, st.just("candidate:1 1 udp 1 10.0.0.1 9 typ host"), st.just("x.local")),
        st.one_of(st.none(), short_text),
        st.one_of(st.none(), st.integers(-5, 5)),
    ),
)
signal_requests = st.one_of(
    st.builds(lambda sdp: SignalRequest(offer=SessionDescription(type="offer", sdp=sdp, id=1)), sdps),
    st.builds(lambda sdp: SignalRequest(answer=SessionDescription(type="answer", sdp=sdp)), sdps),
    st.builds(lambda init: SignalRequest(trickle=TrickleRequest(candidateInit=init)), candidate_inits),
    st.builds(
        lambda cid, kind, source: SignalRequest(add_track=AddTrackRequest(cid=cid, type=kind, source=source)),
        short_text,
        st.sampled_from([*TrackType.values(), 42]),
        st.sampled_from([*TrackSource.values(), 42]),
    ),
    st.builds(
        lambda sid, muted: SignalRequest(mute=MuteTrackRequest(sid=sid, muted=muted)), sids, st.booleans()
    ),
    st.builds(
        lambda name, attributes: SignalRequest(
            update_metadata=UpdateParticipantMetadata(name=name, attributes=attributes, request_id=1)
        ),
        short_text,
        st.dictionaries(short_text, short_text, max_size=3),
    ),
    st.builds(
        lambda track_sids, subscribe: SignalRequest(
            subscription=UpdateSubscription(track_sids=track_sids, subscribe=subscribe)
        ),
        st.lists(sids, max_size=3),
        st.booleans(),
    ),
    st.builds(lambda stamp: SignalRequest(ping_req=Ping(timestamp=stamp)), st.integers(-(2**63), 2**63 - 1)),
    st.just(SignalRequest(leave=LeaveRequest())),
    st.just(SignalRequest()),
).map(lambda request: request.SerializeToString())
garbage = st.one_of(
    st.binary(max_size=300),
    short_text,  # a text frame
    st.just(b"\x0a" + bytes(MAX_FRAME_BYTES)),  # over the frame limit
)
# Mostly well-formed requests with odd contents (garbage ends the connection at its first frame).
frames = st.one_of(signal_requests, signal_requests, signal_requests, garbage)

worker_messages = st.one_of(
    st.builds(
        lambda job_id, available: agent_pb.WorkerMessage(
            availability=agent_pb.AvailabilityResponse(job_id=job_id, available=available)
        ),
        short_text,
        st.booleans(),
    ),
    st.builds(
        lambda job_id, status: agent_pb.WorkerMessage(
            update_job=agent_pb.UpdateJobStatus(job_id=job_id, status=status, error="x")
        ),
        short_text,
        st.integers(-3, 10),
    ),
    st.builds(
        lambda status, load: agent_pb.WorkerMessage(
            update_worker=agent_pb.UpdateWorkerStatus(status=status, load=load)
        ),
        st.integers(-3, 5),
        st.floats(width=32, allow_nan=True),
    ),
    st.builds(
        lambda job_type: agent_pb.WorkerMessage(register=agent_pb.RegisterWorkerRequest(type=job_type)),
        st.integers(-3, 5),
    ),
    st.builds(
        lambda ids: agent_pb.WorkerMessage(migrate_job=agent_pb.MigrateJobRequest(job_ids=ids)),
        st.lists(short_text),
    ),
    st.just(agent_pb.WorkerMessage(ping=agent_pb.WorkerPing(timestamp=5))),
    st.just(agent_pb.WorkerMessage()),
).map(lambda message: message.SerializeToString())

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), short_text),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(short_text, children, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from(
    ["room", "identity", "names", "agentName", "agent_name", "metadata", "data", "kind", "dispatchId",
     "destinationIdentities", "destination_sids", "permission", "attributes", "topic", "name", "nonce"]
)  # fmt: skip
twirp_bodies = st.one_of(
    st.binary(max_size=300),
    st.dictionaries(field_names, json_values, max_size=4).map(lambda body: json.dumps(body).encode()),
    json_values.map(lambda body: json.dumps(body).encode()),
)
twirp_paths = st.one_of(
    st.sampled_from(
        [
            "/twirp/livekit.RoomService/ListRooms",
            "/twirp/livekit.RoomService/ListParticipants",
            "/twirp/livekit.RoomService/GetParticipant",
            "/twirp/livekit.RoomService/RemoveParticipant",
            "/twirp/livekit.RoomService/UpdateParticipant",
            "/twirp/livekit.RoomService/SendData",
            "/twirp/livekit.RoomService/DeleteRoom",
            "/twirp/livekit.RoomService/CreateRoom",
            "/twirp/livekit.AgentDispatchService/CreateDispatch",
            "/twirp/livekit.AgentDispatchService/ListDispatch",
            "/twirp/livekit.AgentDispatchService/DeleteDispatch",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40).map(
        lambda p: "/twirp/" + p
    ),
)
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
FUZZ_ROOM = "fuzz-api-room"  # the API token's room: the fuzzer never acts on the room of the observer
authorizations = st.one_of(
    st.none(),
    st.just(
        "Bearer "
        + api.AccessToken(DEFAULT_API_KEY, DEFAULT_API_SECRET)
        .with_grants(api.VideoGrants(room_admin=True, room=FUZZ_ROOM, room_list=True))
        .to_jwt()
    ),
    header_text.map(lambda text: "Bearer " + text),
    header_text,
)
content_types = st.one_of(
    st.sampled_from(
        ["application/json", "application/protobuf", "application/json; charset=utf-8", "text/plain"]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30),
)


# --------------------------------------------------------------------------------------------- tests

identities = itertools.count()


@pytest.mark.usefixtures("quiet_logs")
def test_garbage_signalling_closes_only_the_offending_connection(fuzzed: Fuzzed) -> None:
    @EXAMPLES
    @given(sent=st.lists(frames, min_size=1, max_size=6))
    def probe(sent: list[bytes | str]) -> None:
        fuzzed.run(send_signalling(fuzzed, f"fuzz-{next(identities)}", sent))

    probe()
    fuzzed.run(only_the_observer_is_left(fuzzed))


async def send_signalling(fuzzed: Fuzzed, identity: str, sent: list[bytes | str]) -> None:
    client = await SignalClient.connect(fuzzed.http, fuzzed.server.url, identity)
    for frame in sent:
        if client.closed:
            break
        try:
            await (client.ws.send_str(frame) if isinstance(frame, str) else client.ws.send_bytes(frame))
        except ConnectionError:
            break  # the server closed it meanwhile
    await client.close()
    await fuzzed.still_served()


async def only_the_observer_is_left(fuzzed: Fuzzed) -> None:
    room = fuzzed.server.rooms[ROOM]
    await wait_until(
        lambda: list(room.participants) == ["observer"], what="the fuzzing participants to leave"
    )
    await fuzzed.still_served()


@pytest.mark.usefixtures("quiet_logs")
def test_a_worker_that_sends_garbage_is_disconnected_and_the_others_are_served(fuzzed: Fuzzed) -> None:
    @EXAMPLES
    @given(
        register_first=st.booleans(),
        sent=st.lists(
            st.one_of(worker_messages, worker_messages, worker_messages, garbage), min_size=1, max_size=6
        ),
    )
    def probe(register_first: bool, sent: list[bytes | str]) -> None:
        fuzzed.run(send_worker_frames(fuzzed, register_first, sent))

    probe()
    assert [w.agent_name for w in fuzzed.server.dispatcher.workers.values()] == ["bystander"]


async def send_worker_frames(fuzzed: Fuzzed, register_first: bool, sent: list[bytes | str]) -> None:
    worker = await RawWorker.connect(fuzzed.http, fuzzed.server.url)
    if register_first:
        await worker.register("fuzz")
    for frame in sent:
        if worker.ws.closed:
            break
        try:
            await (worker.ws.send_str(frame) if isinstance(frame, str) else worker.ws.send_bytes(frame))
        except ConnectionError:
            break
    await worker.ws.close()
    await fuzzed.still_served()
    await wait_until(
        lambda: len(fuzzed.server.dispatcher.workers) == 1, what="the fuzzing worker to be unregistered"
    )


@pytest.mark.usefixtures("quiet_logs")
def test_random_twirp_calls_are_answered_without_a_server_fault(fuzzed: Fuzzed) -> None:
    @EXAMPLES
    @given(
        method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]),
        path=twirp_paths,
        authorization=authorizations,
        content_type=content_types,
        body=twirp_bodies,
    )
    def probe(method: str, path: str, authorization: str | None, content_type: str, body: bytes) -> None:
        headers = {"Content-Type": content_type}
        if authorization is not None:
            headers["Authorization"] = authorization
        status = fuzzed.run(request(fuzzed, method, path, headers, body))
        assert status < 500 or status == 501  # 501: a LiveKit method the dev server does not serve

    probe()
    fuzzed.run(fuzzed.still_served())


async def request(fuzzed: Fuzzed, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    url = URL(http_url(fuzzed.server.url) + path, encoded=True)
    async with fuzzed.http.request(method, url, headers=headers, data=body) as response:
        await response.read()
        return response.status


@pytest.mark.usefixtures("quiet_logs")
def test_random_http_requests_and_raw_bytes_are_answered_without_a_server_fault(fuzzed: Fuzzed) -> None:
    paths = st.one_of(
        st.sampled_from(["/", "/rtc/v1", "/rtc/v1/validate", "/rtc", "/agent", "/twirp/"]),
        st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60).map(
            lambda p: "/" + p
        ),
    )
    queries = st.dictionaries(
        st.sampled_from(["join_request", "access_token", "room", "reconnect", "sid"]),
        st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80),
        max_size=3,
    )

    @EXAMPLES
    @given(
        method=st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "DELETE"]),
        path=paths,
        query=queries,
        upgrade=st.booleans(),
        raw=st.binary(max_size=200),
    )
    def probe(method: str, path: str, query: dict[str, str], upgrade: bool, raw: bytes) -> None:
        headers = {"Upgrade": "websocket", "Connection": "Upgrade"} if upgrade else {}
        target = f"{path}?{urlencode(query)}" if query else path
        assert fuzzed.run(request(fuzzed, method, target, headers, b"")) < 500
        fuzzed.run(send_raw(fuzzed, raw))

    probe()
    fuzzed.run(fuzzed.still_served())


async def send_raw(fuzzed: Fuzzed, raw: bytes) -> None:
    """Bytes that need not be HTTP at all: the server answers (400) or drops the connection, nothing more."""
    reader, writer = await asyncio.open_connection(fuzzed.server.host, fuzzed.server.port)
    writer.write(raw + b"\r\n\r\n")
    try:
        async with asyncio.timeout(0.5):  # a request the server still waits the end of gets no answer
            await reader.read()
    except (TimeoutError, ConnectionError):
        pass
    writer.close()
    await fuzzed.still_served()
