"""The server API through livekit-api's ``LiveKitAPI`` against rooms with real participants.

Explicit dispatch brings the demo worker's agent into a room the user is already in; the RoomService
methods then act on it and on ordinary rtc participants, and the clients see the effects.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from demo_worker_process import DemoWorker
from e2e_harness import ROOM, Connector, wait_until
from livekit import api, rtc
from livekit.protocol import agent as agent_pb

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer
from agent_tui.session import (
    AgentFailure,
    AgentLeft,
    AgentState,
    CachingTokenSource,
    LocalTokenSource,
    Session,
    SessionEvent,
    SessionOptions,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

AGENT_NAME = "demo-explicit"


@pytest.fixture
async def lkapi(dev_server: DevServer) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(dev_server.url, DEFAULT_API_KEY, DEFAULT_API_SECRET)
    try:
        yield client
    finally:
        await client.aclose()


async def test_explicit_dispatch_list_and_remove_the_agent(
    dev_server: DevServer, lkapi: api.LiveKitAPI
) -> None:
    worker = DemoWorker(dev_server.url, AGENT_NAME)
    source = CachingTokenSource(LocalTokenSource(dev_server.url, DEFAULT_API_KEY, DEFAULT_API_SECRET))
    # No agent in the token: the room exists before anyone asks for the agent.
    session = Session(
        source, SessionOptions(room_name=ROOM, participant_identity="user-1", agent_connect_timeout=60)
    )
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    try:
        await worker.start()
        await session.start(wait_for_agent=False)
        assert await lkapi.agent_dispatch.list_dispatch(ROOM) == []

        created = await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=AGENT_NAME, room=ROOM, metadata='{"from":"api"}')
        )
        await asyncio.wait_for(session.wait_for_agent(), timeout=60)
        assert session.agent_state is AgentState.LISTENING

        participants = (
            await lkapi.room.list_participants(api.ListParticipantsRequest(room=ROOM))
        ).participants
        by_identity = {p.identity: p for p in participants}
        agent_identity = next(
            i for i, p in by_identity.items() if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
        )
        assert set(by_identity) == {"user-1", agent_identity}
        assert by_identity[agent_identity].attributes["lk.agent.name"] == AGENT_NAME
        [dispatch] = await lkapi.agent_dispatch.list_dispatch(ROOM)
        assert (dispatch.id, dispatch.agent_name, dispatch.metadata) == (
            created.id,
            AGENT_NAME,
            '{"from":"api"}',
        )
        assert dispatch.state.jobs[0].state.participant_identity == agent_identity
        assert dispatch.state.jobs[0].state.worker_id == worker.worker_id

        await lkapi.room.remove_participant(api.RoomParticipantIdentity(room=ROOM, identity=agent_identity))
        await wait_until(
            lambda: any(isinstance(e, AgentLeft) for e in events), what="the Session to see the agent leave"
        )
        assert session.agent_failure is AgentFailure.LEFT
        participants = (
            await lkapi.room.list_participants(api.ListParticipantsRequest(room=ROOM))
        ).participants
        assert [p.identity for p in participants] == ["user-1"]
        # The job ends with the agent's room connection, and the worker says so.
        await wait_until(
            lambda: (
                dev_server.dispatcher.list(ROOM)[0].state.jobs[0].state.status
                == agent_pb.JobStatus.JS_SUCCESS
            ),
            what="the worker to report the job ended",
            within_s=20,
        )
    finally:
        await session.end()
        await worker.stop()


async def test_update_participant_send_data_and_delete_room_reach_the_clients(
    connect: Connector, lkapi: api.LiveKitAPI
) -> None:
    user = await connect("user")
    agent = await connect("agent", kind="agent")
    await wait_until(lambda: "user" in agent.remote_participants, what="the agent to see the user")

    updated = await lkapi.room.update_participant(
        api.UpdateParticipantRequest(
            room=ROOM, identity="user", name="Ada", metadata='{"tier":"gold"}', attributes={"lang": "fr"}
        )
    )
    assert (updated.name, updated.metadata, dict(updated.attributes)) == (
        "Ada",
        '{"tier":"gold"}',
        {"lang": "fr"},
    )
    seen = agent.remote_participants["user"]
    await wait_until(
        lambda: seen.attributes == {"lang": "fr"} and seen.name == "Ada", what="the update at the agent"
    )
    assert seen.metadata == '{"tier":"gold"}'
    await wait_until(lambda: user.local_participant.attributes == {"lang": "fr"}, what="the user's own view")

    received: asyncio.Queue[rtc.DataPacket] = asyncio.Queue()
    user.on("data_received", received.put_nowait)
    await lkapi.room.send_data(
        api.SendDataRequest(
            room=ROOM,
            data=b"from the server",
            kind=api.DataPacket.Kind.RELIABLE,
            destination_identities=["user"],
            topic="news",
        )
    )
    packet = await asyncio.wait_for(received.get(), timeout=10)
    assert (packet.data, packet.topic, packet.participant) == (b"from the server", "news", None)

    reasons: dict[str, int] = {}
    for name, room in (("user", user), ("agent", agent)):
        room.on("disconnected", lambda reason, name=name: reasons.setdefault(name, reason))
    await lkapi.room.delete_room(api.DeleteRoomRequest(room=ROOM))
    await wait_until(lambda: len(reasons) == 2, what="both clients to be disconnected")
    assert set(reasons.values()) == {rtc.DisconnectReason.ROOM_DELETED}
    assert (await lkapi.room.list_rooms(api.ListRoomsRequest())).rooms == []
