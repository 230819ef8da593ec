"""End-to-end harness: a dev server and real ``livekit.rtc`` participants inside the test namespace.

WebRTC media needs a non-loopback interface (libwebrtc ignores ``lo``) and tests must never send a
packet off the machine, so these tests only run under ``tests/netns/run``, which puts the test process
in a private user+network namespace holding a veth pair and nothing else. Outside it they skip with
the reason the wrapper gave, except on CI (``CI=true``), where a missing namespace is a failure: CI
must exercise them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from e2e_harness import Connector, mint_token
from livekit import rtc

from agent_tui.devserver import DevServer


def _namespace_problem() -> str | None:
    if os.environ.get("AGENT_TUI_NETNS") == "1":
        return None
    reason = os.environ.get("AGENT_TUI_NETNS_UNAVAILABLE")
    if reason:
        return f"test network namespace unavailable: {reason}"
    return "e2e tests need the private test network namespace; run them via tests/netns/run"


@pytest.fixture(autouse=True)
def _inside_test_namespace() -> None:
    """Skip (or on CI fail) every e2e test when not inside the private network namespace."""
    problem = _namespace_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{problem} (CI=true: e2e tests must run)", pytrace=False)
    pytest.skip(problem)


@pytest.fixture
async def dev_server() -> AsyncIterator[DevServer]:
    """A started dev server on a free port of 127.0.0.1, stopped after the test."""
    server = DevServer(port=0, departure_timeout=0.5)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def connect(dev_server: DevServer) -> AsyncIterator[Connector]:
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
        participant_token = mint_token(identity, kind=kind, **token_args)
        await asyncio.wait_for(
            room.connect(dev_server.url, participant_token, options or rtc.RoomOptions()), timeout=15
        )
        return room

    try:
        yield _connect
    finally:
        for room in rooms:
            if room.isconnected():
                await asyncio.wait_for(room.disconnect(), timeout=10)
