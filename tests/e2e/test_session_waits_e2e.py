"""The Session's wait helpers end to end: a real rtc room on each side, through each server.

The stand-in agent joins, gets ready and leaves when the test says, so each wait is seen to return at
the moment its goal holds, and to raise the error that names why it no longer can.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from livekit import rtc

from agent_tui.session import (
    AgentFailure,
    AgentLeftError,
    AgentState,
    AgentTimeoutError,
    CachingTokenSource,
    ConnectionState,
    LocalTokenSource,
    Session,
    SessionOptions,
    WaitTimeoutError,
)
from tests.e2e.e2e_harness import ROOM, Connector, LiveServer
from tests.e2e.stand_in_agent import StandInAgent
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


def session_for(
    server: LiveServer, *, microphone: rtc.AudioSource | None = None, **options: object
) -> Session:
    source = CachingTokenSource(LocalTokenSource(server.url, server.api_key, server.api_secret))
    values: dict[str, object] = {
        "agent_name": "stand-in",
        "room_name": ROOM,
        "participant_identity": "user-1",
    }
    values.update(options)
    return Session(source, SessionOptions(**values), microphone=microphone)  # type: ignore[arg-type]


@pytest.fixture
async def agent() -> AsyncIterator[StandInAgent]:
    stand_in = StandInAgent()
    yield stand_in
    await stand_in.close()


async def join(agent: StandInAgent, connect: Connector) -> None:
    await connect("agent-1", kind="agent", room=agent.room, attributes={"lk.agent.state": "initializing"})
    agent.on_connected()


async def test_each_wait_returns_when_its_goal_holds(
    server: LiveServer, agent: StandInAgent, connect: Connector
) -> None:
    microphone = rtc.AudioSource(48_000, 1)
    session = session_for(server, microphone=microphone)
    start = asyncio.ensure_future(session.start())
    try:
        await session.wait_until_connected(timeout=15)
        assert session.connection_state is ConnectionState.CONNECTED
        # The pre-connect buffer records for the agent before it has joined: it can listen already.
        await session.wait_until_agent_can_listen(timeout=15)
        assert session.agent_state is AgentState.PRE_CONNECT_BUFFERING
        with pytest.raises(WaitTimeoutError, match="waiting for the agent to be ready"):
            await session.wait_until_agent_connected(timeout=0.2)
        await join(agent, connect)
        await wait_until(
            lambda: session.agent_state is AgentState.INITIALIZING, what="the agent initializing"
        )
        await agent.set_state("listening")
        await session.wait_until_agent_connected(timeout=15)
        await asyncio.wait_for(start, timeout=15)
        with pytest.raises(WaitTimeoutError, match="waiting for the session to finish"):
            await session.wait_until_finished(timeout=0.2)

        finished = asyncio.ensure_future(session.wait_until_finished(timeout=15))
        await agent.room.disconnect()
        snapshot = await finished
        assert (snapshot.state, snapshot.failure) == (AgentState.FAILED, AgentFailure.LEFT)
        # The agent left: a wait for it says so at once, not as a timeout.
        with pytest.raises(AgentLeftError, match="Agent left the room unexpectedly"):
            await session.wait_until_agent_can_listen(timeout=15)
        assert session.error is None  # the agent's failure is not the session's error
    finally:
        start.cancel()
        await session.end()
        await microphone.aclose()


async def test_the_agent_timeout_and_the_wait_timeout_are_told_apart(server: LiveServer) -> None:
    session = session_for(server, agent_connect_timeout=1.0)
    try:
        await session.start(wait_for_agent=False)
        with pytest.raises(WaitTimeoutError) as waited:
            await session.wait_until_agent_connected(timeout=0.1)
        assert not isinstance(waited.value, AgentTimeoutError)
        with pytest.raises(AgentTimeoutError, match="Agent did not join the room"):
            await session.wait_until_agent_connected(timeout=15)
        assert session.connection_state is ConnectionState.CONNECTED
    finally:
        await session.end()
    assert (await session.wait_until_finished(timeout=1)).state is AgentState.DISCONNECTED
