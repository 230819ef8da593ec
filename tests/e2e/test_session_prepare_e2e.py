"""Session.prepare end to end, on each server: the token fetched ahead is the one start() connects with,
to the room it was fetched for, and the warm-up reaches the server."""

from __future__ import annotations

import asyncio

import pytest

from agent_tui.session import (
    AgentState,
    ConnectionDetails,
    CustomTokenSource,
    LocalTokenSource,
    Session,
    SessionOptions,
    TokenRequest,
)
from agent_tui.session.warm_up import warm_up
from tests.e2e.e2e_harness import LiveServer
from tests.e2e.stand_in_agent import StandInAgent

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


async def test_start_joins_the_prepared_room_with_the_prepared_token(server: LiveServer) -> None:
    local = LocalTokenSource(server.url, server.api_key, server.api_secret)
    fetched: list[TokenRequest] = []

    async def fetch(request: TokenRequest) -> ConnectionDetails:
        fetched.append(request)
        return await local.fetch(request)

    options = SessionOptions(agent_name="stand-in", participant_identity="user-1")  # a generated room
    session = Session(CustomTokenSource(fetch), options)
    agent = StandInAgent()
    try:
        await session.prepare()
        assert session.prepared and len(fetched) == 1
        room = fetched[0].room_name
        assert room is not None
        start = asyncio.ensure_future(session.start())
        await session.wait_until_connected(timeout=15)
        assert session.room_name == room
        # The agent joins the generated room, as a dispatched agent would.
        token = server.token("agent-1", kind="agent", room=room, attributes={"lk.agent.state": "listening"})
        await agent.room.connect(server.url, token)
        await asyncio.wait_for(start, timeout=15)
        assert session.agent_state is AgentState.LISTENING
        assert len(fetched) == 1  # start used the prepared token
    finally:
        await session.end()
        await agent.close()


async def test_the_warm_up_reaches_the_server(server: LiveServer) -> None:
    assert await warm_up(server.url)
