"""The agent's expression end to end, on each server: ``lk.expression`` on the stand-in agent's
transcript streams (header and trailer, as livekit-agents' RoomIO sends it) becomes the Session's
``agent_expression`` and events, decays after two more agent segments, and reaches headless JSONL."""

from __future__ import annotations

import asyncio
import json

import pytest

from agent_tui.session import (
    AgentExpression,
    AgentExpressionChanged,
    AgentMood,
    CachingTokenSource,
    LocalTokenSource,
    Session,
    SessionEvent,
    SessionOptions,
)
from tests.e2e.e2e_harness import ROOM, LiveServer
from tests.e2e.stand_in_agent import StandInAgent
from tests.e2e.test_headless_e2e import run_cli
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

#: What livekit-agents' ``expression_attribute`` writes for a Cartesia ``<emotion value="excited">``.
EXCITED = {"lk.expression": json.dumps({"expression": "excited", "mood": "excited"}, separators=(",", ":"))}


async def test_the_expression_is_state_and_events_and_decays(
    server: LiveServer, agent_in_room: StandInAgent
) -> None:
    source = CachingTokenSource(LocalTokenSource(server.url, server.api_key, server.api_secret))
    session = Session(source, SessionOptions(agent_name="stand-in", room_name=ROOM, participant_identity="u"))
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    try:
        await session.start()
        await agent_in_room.send_agent_transcript(
            ["Wow, ", "that is great!"], header=EXCITED, trailer=EXCITED
        )
        await wait_until(lambda: session.agent_expression.mood is AgentMood.EXCITED, what="the mood")
        assert session.agent_expression == AgentExpression(AgentMood.EXCITED, "excited")
        await agent_in_room.send_agent_transcript(["Anything else?"])
        await agent_in_room.send_agent_transcript(["Bye then."])
        await wait_until(lambda: session.agent_expression.is_neutral, what="the mood to decay")
        changes = [(e.mood, e.expression) for e in events if isinstance(e, AgentExpressionChanged)]
        assert changes == [(AgentMood.EXCITED, "excited"), (None, None)]
    finally:
        await session.end()


async def test_headless_json_has_an_agent_expression_record(
    server: LiveServer, agent_in_room: StandInAgent
) -> None:
    async def speak_when_asked() -> None:
        await wait_until(lambda: bool(agent_in_room.chats), what="the question", within_s=30)
        await agent_in_room.send_agent_transcript(["Great question!"], trailer=EXCITED)

    speaking = asyncio.ensure_future(speak_when_asked())
    code, out, err = await run_cli(
        server,
        "--no-ui", "--json", "--url", server.url, "--room", ROOM, "--agent", "stand-in", "--send", "hi",
    )  # fmt: skip
    await speaking
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    expressions = [(r["mood"], r["expression"]) for r in records if r["type"] == "agent_expression"]
    assert ("excited", "excited") in expressions
