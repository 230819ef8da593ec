"""End-to-end harness: a LiveKit server and real ``livekit.rtc`` participants inside the test namespace.

Every test that takes the ``server`` fixture (or ``connect``, built on it) runs twice: against our dev
server (``[dev]``) and against the real livekit-server (``[livekit]``), each fresh for the test. Tests
that look inside the dev server take ``dev_server`` and run against it alone; a test marked
``@pytest.mark.servers("livekit")`` runs against livekit-server alone. ``AGENT_TUI_TEST_SERVERS=dev``
(or ``livekit``) narrows a run to one of them. ``AGENT_TUI_TEST_SERVERS=url`` runs the server tests
against a server of your own instead (``AGENT_TUI_TEST_URL``, ``AGENT_TUI_TEST_API_KEY``,
``AGENT_TUI_TEST_API_SECRET``), outside the namespace, on your network; each test deletes the rooms it
made, so give it a server (or project) of its own. livekit-server is the binary ``make livekit-server`` builds
(or ``AGENT_TUI_LIVEKIT_SERVER``, or one on PATH); where there is none its half skips with the reason,
except on CI, where it must run.

WebRTC media needs a non-loopback interface (libwebrtc ignores ``lo``) and tests must never send a
packet off the machine, so these tests only run under ``tests/netns/run``, which puts the test process
in a private user+network namespace holding a veth pair and nothing else. Outside it they skip with
the reason the wrapper gave, except on CI (``CI=true``), where a missing namespace is a failure: CI
must exercise them.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from livekit import rtc
from livekit.protocol.room import DeleteRoomRequest, ListRoomsRequest

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer
from agent_tui.livekit_server import LiveKitServerProcess
from tests.e2e.e2e_harness import (
    NODE_IP,
    Connector,
    DemoServer,
    LiveServer,
    ServerKind,
    cannot_run,
    livekit_server_binary,
)
from tests.e2e.stand_in_agent import StandInAgent

SERVER_KINDS: tuple[ServerKind, ...] = ("dev", "livekit", "url")
#: A server of the user's own: where it is and its key pair (``AGENT_TUI_TEST_SERVERS=url``).
URL_VARIABLES = ("AGENT_TUI_TEST_URL", "AGENT_TUI_TEST_API_KEY", "AGENT_TUI_TEST_API_SECRET")


def _wanted_kinds() -> list[ServerKind]:
    value = os.environ.get("AGENT_TUI_TEST_SERVERS", "").strip()
    if not value or value == "both":
        return ["dev", "livekit"]
    kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in SERVER_KINDS]
    if unknown:
        raise pytest.UsageError(
            f"AGENT_TUI_TEST_SERVERS: unknown server {unknown[0]!r} (dev, livekit, both or url)"
        )
    missing = [name for name in URL_VARIABLES if "url" in kinds and not os.environ.get(name)]
    if missing:
        raise pytest.UsageError(f"AGENT_TUI_TEST_SERVERS=url needs {', '.join(missing)} set as well")
    return kinds  # type: ignore[return-value]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "servers(*kinds): run this e2e test against these servers only (dev, livekit)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test that needs a server (or ``agent-tui demo`` with one) once per server kind;
    dev-only when it looks inside ours."""
    for fixture in ("server", "demo_server"):
        if fixture not in metafunc.fixturenames:
            continue
        kinds = _wanted_kinds()
        marker = metafunc.definition.get_closest_marker("servers")
        if marker is not None:
            kinds = [kind for kind in kinds if kind in marker.args]
        if "dev_server" in metafunc.fixturenames:
            kinds = [kind for kind in kinds if kind == "dev"]
        metafunc.parametrize(fixture, kinds, indirect=True)


def _namespace_problem() -> str | None:
    if os.environ.get("AGENT_TUI_NETNS") == "1":
        return None
    reason = os.environ.get("AGENT_TUI_NETNS_UNAVAILABLE")
    if reason:
        return f"test network namespace unavailable: {reason}"
    return "e2e tests need the private test network namespace; run them via tests/netns/run"


@pytest.fixture(autouse=True)
def _inside_test_namespace(request: pytest.FixtureRequest) -> None:
    """Skip (or on CI fail) every e2e test when not inside the private network namespace (except those
    run against a server of the user's own, which is on the user's network)."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("server") == "url":
        return
    problem = _namespace_problem()
    if problem is None:
        return
    cannot_run(problem, which="e2e tests")


@pytest.fixture
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """A fresh LiveKit server for this test: the dev server or livekit-server (see the module docstring).

    Both let a room outlive its last participant for 0.5-1 s only, so a test's rooms are gone soon
    after it; livekit-server's log is kept in the test's temporary folder.
    """
    kind: ServerKind = getattr(request, "param", "dev")
    if kind == "url":
        url, key, secret = (os.environ[name] for name in URL_VARIABLES)
        own = LiveServer("url", url, key, secret)
        began = time.time()
        try:
            yield own
        finally:
            await _delete_rooms_made_since(own, began)
        return
    if kind == "dev":
        dev = DevServer(port=0, departure_timeout=0.5)
        await dev.start()
        try:
            yield LiveServer("dev", dev.url, DEFAULT_API_KEY, DEFAULT_API_SECRET, dev=dev)
        finally:
            await dev.stop()
        return
    binary = livekit_server_binary()
    log = tmp_path_factory.mktemp("livekit-server") / "livekit-server.log"
    process = LiveKitServerProcess(
        binary=binary, node_ip=NODE_IP, departure_timeout=1, empty_timeout=10, log_path=log
    )
    await process.start()
    try:
        yield LiveServer("livekit", process.url, process.api_key, process.api_secret)
    finally:
        await process.stop()


async def _delete_rooms_made_since(server: LiveServer, began: float) -> None:
    """A shared server keeps a room for a while after its last participant left, and a room's agents
    are dispatched only when it is created: the next test must not find this one's rooms."""
    async with server.api() as lk:
        for room in (await lk.room.list_rooms(ListRoomsRequest())).rooms:
            if room.creation_time >= int(began) - 1:
                await lk.room.delete_room(DeleteRoomRequest(room=room.name))


@pytest.fixture
def demo_server(request: pytest.FixtureRequest) -> DemoServer:
    """``agent-tui demo`` with its embedded dev server, or with ``--livekit-server PATH``."""
    kind: ServerKind = getattr(request, "param", "dev")
    if kind == "url":
        pytest.skip("agent-tui demo runs a server of its own: not a test for AGENT_TUI_TEST_SERVERS=url")
    if kind == "dev":
        return DemoServer("dev", (), "the dev server")
    return DemoServer("livekit", ("--livekit-server", livekit_server_binary()), "livekit-server")


@pytest.fixture
def dev_server(server: LiveServer) -> DevServer:
    """The dev server itself, for tests that look inside it (they run against the dev server only)."""
    assert server.dev is not None, "dev_server is parametrized to the dev server only"
    return server.dev


@pytest.fixture
async def connect(server: LiveServer) -> AsyncIterator[Connector]:
    """Connect an ``rtc.Room`` (fresh, or ``room=`` one that already has its handlers) as ``identity``;
    ``kind="agent"`` for the agent side. Every room is disconnected after the test."""
    rooms: list[rtc.Room] = []

    async def _connect(
        identity: str,
        *,
        kind: str = "standard",
        options: rtc.RoomOptions | None = None,
        room: rtc.Room | None = None,
        **token_args: Any,
    ) -> rtc.Room:
        room = room or rtc.Room()
        rooms.append(room)
        participant_token = server.token(identity, kind=kind, **token_args)
        await asyncio.wait_for(
            room.connect(server.url, participant_token, options or rtc.RoomOptions()), timeout=15
        )
        return room

    try:
        yield _connect
    finally:
        for room in rooms:
            if room.isconnected():
                await asyncio.wait_for(room.disconnect(), timeout=10)


@pytest.fixture
async def agent_in_room(connect: Connector) -> AsyncIterator[StandInAgent]:
    """The stand-in agent, in the room and listening, before the test's client joins."""
    agent = StandInAgent()
    await connect("agent-1", kind="agent", room=agent.room, attributes={"lk.agent.state": "listening"})
    agent.on_connected()
    yield agent
    await agent.close()
