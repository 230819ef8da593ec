"""Joining, participant info, attributes and leaving, seen through the real rtc SDK."""

from __future__ import annotations

import asyncio
import time

import pytest
from livekit import rtc
from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration

from agent_tui.devserver import DevServer
from agent_tui.devserver.room import Room
from tests.e2e.e2e_harness import ROOM, Connector, mint_token
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


async def test_user_and_agent_see_each_other_with_kind_metadata_and_attributes(connect: Connector) -> None:
    user = await connect("user")
    agent = await connect(
        "agent",
        kind="agent",
        metadata='{"lang":"en"}',
        attributes={"lk.agent.state": "initializing"},
    )

    await wait_until(lambda: "agent" in user.remote_participants, what="the user to see the agent")
    seen_agent = user.remote_participants["agent"]
    assert seen_agent.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
    assert seen_agent.metadata == '{"lang":"en"}'
    assert seen_agent.attributes == {"lk.agent.state": "initializing"}
    assert seen_agent.sid.startswith("PA_")
    assert list(agent.remote_participants) == ["user"]
    assert agent.remote_participants["user"].kind == rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD
    assert user.name == agent.name == "e2e-room"
    assert user.connection_state == rtc.ConnectionState.CONN_CONNECTED


async def test_agent_state_transitions_are_observed_in_order(connect: Connector) -> None:
    user = await connect("user")
    agent = await connect("agent", kind="agent")
    await wait_until(lambda: "agent" in user.remote_participants, what="the agent to join")

    observed: list[str] = []

    @user.on("participant_attributes_changed")
    def _on_changed(changed: dict[str, str], participant: rtc.Participant) -> None:
        if participant.identity == "agent" and "lk.agent.state" in changed:
            observed.append(changed["lk.agent.state"])

    for state in ("initializing", "listening", "thinking", "speaking", "listening"):
        await agent.local_participant.set_attributes({"lk.agent.state": state})
    await wait_until(lambda: len(observed) == 5, what="five agent state changes")
    assert observed == ["initializing", "listening", "thinking", "speaking", "listening"]
    assert user.remote_participants["agent"].attributes["lk.agent.state"] == "listening"


async def test_attributes_metadata_and_name_travel_both_ways(connect: Connector) -> None:
    user = await connect("user")
    agent = await connect("agent", kind="agent")
    await wait_until(lambda: "agent" in user.remote_participants, what="the agent to join")

    await user.local_participant.set_attributes({"mood": "curious", "lang": "en"})
    await agent.local_participant.set_metadata('{"voice":"alloy"}')
    await agent.local_participant.set_name("Agent Smith")
    await user.local_participant.set_attributes({"mood": ""})  # empty value deletes the key

    await wait_until(
        lambda: agent.remote_participants["user"].attributes == {"lang": "en"},
        what="the user's attributes at the agent",
    )
    seen_agent = user.remote_participants["agent"]
    await wait_until(lambda: seen_agent.name == "Agent Smith", what="the agent's new name at the user")
    assert seen_agent.metadata == '{"voice":"alloy"}'
    # The sender learns its own update from the server too (the rtc SDK merges it into what it had).
    await wait_until(
        lambda: user.local_participant.attributes.get("lang") == "en", what="the user's own attributes"
    )


async def test_attribute_update_without_the_grant_is_refused(connect: Connector) -> None:
    user = await connect("user", can_update_own_metadata=False)
    agent = await connect("agent", kind="agent")
    await wait_until(lambda: "user" in agent.remote_participants, what="the agent to see the user")

    # The Python SDK does not surface the refusal; it returns once the server has answered the request.
    await user.local_participant.set_attributes({"mood": "sneaky"})
    # An update the server accepts afterwards reaches the agent over the same ordered signalling link, so
    # once the agent sees its own change, an accepted change of the user's would already be visible.
    await agent.local_participant.set_attributes({"lk.agent.state": "listening"})
    await wait_until(
        lambda: agent.local_participant.attributes.get("lk.agent.state") == "listening",
        what="the agent's own attribute update",
    )
    assert agent.remote_participants["user"].attributes == {}
    assert user.local_participant.attributes == {}


async def test_agent_leaving_is_seen_by_the_user(connect: Connector) -> None:
    user = await connect("user")
    agent = await connect("agent", kind="agent")
    await wait_until(lambda: "agent" in user.remote_participants, what="the agent to join")
    left = asyncio.Event()

    @user.on("participant_disconnected")
    def _on_left(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == "agent":
            left.set()

    started = time.monotonic()
    await agent.disconnect()
    await asyncio.wait_for(left.wait(), timeout=5)
    assert time.monotonic() - started < 5
    assert "agent" not in user.remote_participants


async def test_same_identity_rejoining_replaces_the_stale_session(connect: Connector) -> None:
    user = await connect("user")
    first = await connect("agent", kind="agent")
    first_sid = first.local_participant.sid
    replaced = asyncio.Event()
    first.on("disconnected", lambda *_: replaced.set())

    second = await connect("agent", kind="agent")
    await asyncio.wait_for(replaced.wait(), timeout=5)
    await wait_until(
        lambda: "agent" in user.remote_participants and user.remote_participants["agent"].sid != first_sid,
        what="the user to see the new agent session",
    )
    assert second.local_participant.sid != first_sid


class RoomEvents:
    """A room listener recording what a dispatcher would see."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, list[str]]] = []

    def room_created(self, room: Room) -> None:
        config = room.creator.room_config
        agents = [agent.agent_name for agent in config.agents] if config is not None else []
        self.events.append(("created", room.name, agents))

    def room_closed(self, room: Room) -> None:
        self.events.append(("closed", room.name, []))


async def test_rooms_open_with_their_creator_and_close_after_the_departure_timeout() -> None:
    listener = RoomEvents()
    config = RoomConfiguration(agents=[RoomAgentDispatch(agent_name="demo-agent")])
    async with DevServer(port=0, departure_timeout=2.0) as server:
        server.add_listener(listener)
        user = rtc.Room()
        await user.connect(server.url, mint_token("user", room_config=config), rtc.RoomOptions())
        room_sid = await user.sid
        await user.disconnect()
        # Back within the departure timeout: the same room, not a new one.
        await user.connect(server.url, mint_token("user"), rtc.RoomOptions())
        assert await user.sid == room_sid
        await user.disconnect()
        assert listener.events == [("created", ROOM, ["demo-agent"])]
        await wait_until(lambda: not server.rooms, what="the empty room to close", within_s=5)
        assert listener.events == [("created", ROOM, ["demo-agent"]), ("closed", ROOM, [])]
