"""The Session core end to end: the real rtc SDK on both sides, through the dev server.

The agent side is :class:`StandInAgent`, a real ``rtc.Room`` of kind AGENT speaking livekit-agents'
conventions; tests with the livekit-agents framework itself live beside the dispatch tests.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from livekit import rtc

from agent_tui.session import (
    AgentFailure,
    AgentLeft,
    AgentState,
    AgentStateChanged,
    AgentTimeoutError,
    AuthRejectedError,
    ByteStreamReceived,
    CachingTokenSource,
    ConnectionFailedError,
    ConnectionState,
    ConnectionStateChanged,
    LiteralTokenSource,
    LocalTokenSource,
    MessageChanged,
    MessageKind,
    RpcCallError,
    Session,
    SessionEvent,
    SessionOptions,
    Speaker,
    TokenInvalidError,
)
from tests.e2e.e2e_harness import ROOM, Connector, LiveServer, mint_token
from tests.e2e.stand_in_agent import StandInAgent
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

AGENT_NAME = "stand-in"


def session_for(server: LiveServer, *, rooms: list[rtc.Room] | None = None, **options: object) -> Session:
    """A Session for ``server``; each room it connects is appended to ``rooms`` (tests that drive one)."""
    source = CachingTokenSource(LocalTokenSource(server.url, server.api_key, server.api_secret))
    values: dict[str, object] = {
        "agent_name": AGENT_NAME,
        "room_name": ROOM,
        "participant_identity": "user-1",
    }
    values.update(options)

    def room() -> rtc.Room:
        made = rtc.Room()
        if rooms is not None:
            rooms.append(made)
        return made

    return Session(source, SessionOptions(**values), room_factory=room)  # type: ignore[arg-type]


def record(session: Session) -> list[SessionEvent]:
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    return events


@pytest.fixture
async def agent(connect: Connector) -> AsyncIterator[StandInAgent]:
    stand_in = StandInAgent()
    yield stand_in
    await stand_in.close()


async def join(agent: StandInAgent, connect: Connector, *, state: str = "initializing") -> None:
    await connect("agent-1", kind="agent", room=agent.room, attributes={"lk.agent.state": state})
    agent.on_connected()


async def started(session: Session, agent: StandInAgent, connect: Connector) -> None:
    """Start the session while the agent joins and becomes ready, as a dispatched agent would."""
    start = asyncio.ensure_future(session.start())
    await wait_until(lambda: session.connection_state is ConnectionState.CONNECTED, what="session connected")
    await join(agent, connect)
    # livekit-server announces a participant only once its connection is up, with the attributes it has
    # by then: wait to see "initializing" before moving on, or the session might never see it.
    await wait_until(lambda: session.agent_state is AgentState.INITIALIZING, what="the agent initializing")
    await agent.set_state("listening")
    await asyncio.wait_for(start, timeout=15)


@dataclass
class Live:
    """A started session with the stand-in agent ready, and every event it published since creation."""

    session: Session
    events: list[SessionEvent]
    #: The rooms the session connected (through its ``room_factory``), the last one current.
    rooms: list[rtc.Room]


@pytest.fixture
async def live(server: LiveServer, agent: StandInAgent, connect: Connector) -> AsyncIterator[Live]:
    rooms: list[rtc.Room] = []
    session = session_for(server, rooms=rooms)
    events = record(session)
    try:
        await started(session, agent, connect)
        yield Live(session, events, rooms)
    finally:
        await session.end()


async def test_start_follows_the_agent_to_listening(
    server: LiveServer, agent: StandInAgent, connect: Connector
) -> None:
    session = session_for(server)
    events = record(session)
    try:
        await started(session, agent, connect)
        assert session.dispatches_agent
        assert session.agent_state is AgentState.LISTENING
        assert session.agent.identity == "agent-1"
        states = [e.state for e in events if isinstance(e, AgentStateChanged)]
        assert states == [AgentState.CONNECTING, AgentState.INITIALIZING, AgentState.LISTENING]
        connections = [e.state for e in events if isinstance(e, ConnectionStateChanged)]
        assert connections == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
        assert session.room_name == ROOM and session.local_identity == "user-1"
        assert session.server_url == server.url
    finally:
        await session.end()
    assert session.connection_state is ConnectionState.DISCONNECTED
    assert session.agent_state is AgentState.DISCONNECTED
    last = [e for e in events if isinstance(e, ConnectionStateChanged)][-1]
    assert last.state is ConnectionState.DISCONNECTED and last.deliberate


async def test_chat_round_trip_with_transcripts_interim_then_final(live: Live, agent: StandInAgent) -> None:
    session, events = live.session, live.events
    sent = await session.send_chat("what time is it")
    assert sent.speaker is Speaker.USER and sent.kind is MessageKind.CHAT
    await wait_until(
        lambda: any(m.speaker is Speaker.AGENT and m.final for m in session.messages),
        what="agent's final reply",
    )
    await wait_until(lambda: session.agent_state is AgentState.LISTENING, what="listening again")
    assert agent.chats == [("user-1", "what time is it")]
    texts = [(m.speaker, m.kind, m.text, m.final) for m in session.messages]
    assert texts == [
        (Speaker.USER, MessageKind.CHAT, "what time is it", True),
        (Speaker.USER, MessageKind.TRANSCRIPT, "what time is it", True),
        (Speaker.AGENT, MessageKind.TRANSCRIPT, "You said: what time is it", True),
    ]
    agent_updates = [
        e.message for e in events if isinstance(e, MessageChanged) and e.message.speaker is Speaker.AGENT
    ]
    assert any(not m.final and m.text == "You said: " for m in agent_updates), "no interim agent text"
    assert agent_updates[-1].final
    user_updates = [
        e.message.text
        for e in events
        if isinstance(e, MessageChanged)
        and e.message.kind is MessageKind.TRANSCRIPT
        and e.message.speaker is Speaker.USER
    ]
    # Interim first, then final; each update a prefix of the final words. Not every interim: under load
    # a newer stream of the segment can open before an older one's text arrives, and the newest owns it.
    assert user_updates[-1] == "what time is it", user_updates
    assert all("what time is it".startswith(text) for text in user_updates), user_updates
    assert len({text for text in user_updates if text}) >= 2, f"no interim user text: {user_updates}"
    states = [e.state for e in events if isinstance(e, AgentStateChanged)]
    assert states[-3:] == [AgentState.THINKING, AgentState.SPEAKING, AgentState.LISTENING]


async def test_rpc_both_ways(server: LiveServer, agent: StandInAgent, connect: Connector) -> None:
    session = session_for(server)
    calls: list[str] = []

    async def whoami(data: rtc.RpcInvocationData) -> str:
        calls.append(data.caller_identity)
        return "user-1 here"

    session.register_rpc_method("client.whoami", whoami)  # before start: registered on connect
    try:
        await started(session, agent, connect)
        assert await session.perform_rpc("echo", "ping") == "echo:ping"
        reply = await agent.room.local_participant.perform_rpc(
            destination_identity="user-1", method="client.whoami", payload=""
        )
        assert reply == "user-1 here" and calls == ["agent-1"]
        with pytest.raises(RpcCallError, match=r"not supported|1400"):
            await session.perform_rpc("no-such-method")
    finally:
        await session.end()


async def test_attributes_are_shared_both_ways(live: Live, agent: StandInAgent) -> None:
    session, events = live.session, live.events
    await agent.room.local_participant.set_attributes({"topic": "weather"})
    await wait_until(lambda: session.agent_attributes.get("topic") == "weather", what="agent attribute")
    assert any(e.type == "agent_attributes" and e.changed.get("topic") == "weather" for e in events)  # type: ignore[attr-defined]
    await session.set_attributes({"mood": "curious"})
    remote = agent.room.remote_participants
    await wait_until(lambda: remote["user-1"].attributes.get("mood") == "curious", what="user attribute")
    await wait_until(
        lambda: session.local_attributes.get("mood") == "curious", what="own attribute confirmed"
    )


async def test_byte_streams_arrive_intact_both_ways(
    server: LiveServer, agent: StandInAgent, connect: Connector, tmp_path: Path
) -> None:
    session = session_for(server)
    received: list[ByteStreamReceived] = []
    session.receive_byte_streams("files", received.append)
    payload = bytes(range(256)) * 300  # 76,800 bytes: several chunks
    path = tmp_path / "upload.bin"
    path.write_bytes(payload)
    try:
        await started(session, agent, connect)
        await session.send_file(path, topic="files")
        await wait_until(lambda: bool(agent.files), what="agent received the file")
        assert agent.files == [("upload.bin", payload)]
        await agent.room.local_participant.send_bytes(payload[::-1], name="reply.bin", topic="files")
        await wait_until(lambda: bool(received), what="session received the file")
        assert received[0].data == payload[::-1] and received[0].name == "reply.bin"
        assert received[0].sender_identity == "agent-1"
    finally:
        await session.end()


async def test_signal_drop_resumes_without_losing_messages(live: Live, agent: StandInAgent) -> None:
    session, events = live.session, live.events
    await session.send_chat("before")
    await wait_until(lambda: len(agent.chats) == 1, what="first chat")
    room = live.rooms[-1]
    await room.simulate_scenario(rtc.SimulateScenarioKind.SIMULATE_SIGNAL_RECONNECT)
    await asyncio.sleep(0.5)
    await session.send_chat("after")
    await wait_until(lambda: len(agent.chats) == 2, what="second chat", within_s=20)
    assert [text for _, text in agent.chats] == ["before", "after"]
    await wait_until(
        lambda: sum(m.speaker is Speaker.AGENT and m.final for m in session.messages) == 2,
        what="both replies",
        within_s=20,
    )
    assert session.connection_state is ConnectionState.CONNECTED
    assert not any(isinstance(e, AgentLeft) for e in events)


async def test_agent_leaving_is_reported_as_left_unexpectedly(live: Live, agent: StandInAgent) -> None:
    session, events = live.session, live.events
    await agent.room.disconnect()
    await wait_until(lambda: session.agent_state is AgentState.FAILED, what="agent failure")
    assert session.agent_failure is AgentFailure.LEFT
    assert session.agent_state.is_finished
    assert str(session.agent_failure.value) == "Agent left the room unexpectedly."
    assert [e.unexpected for e in events if isinstance(e, AgentLeft)] == [True]
    await session.end()
    assert session.agent_failure is None  # cleared on disconnect


async def test_agent_that_never_joins_hits_the_connect_timeout(server: LiveServer) -> None:
    session = session_for(server, agent_connect_timeout=1.0)
    try:
        with pytest.raises(AgentTimeoutError, match="Agent did not join the room"):
            await asyncio.wait_for(session.start(), timeout=10)
        assert session.agent_state is AgentState.FAILED
        assert session.agent_failure is AgentFailure.DID_NOT_JOIN
        assert session.connection_state is ConnectionState.CONNECTED  # a late agent may still come
    finally:
        await session.end()


async def test_a_late_agent_clears_the_timeout(
    server: LiveServer, agent: StandInAgent, connect: Connector
) -> None:
    session = session_for(server, agent_connect_timeout=0.5)
    try:
        with pytest.raises(AgentTimeoutError):
            await session.start()
        await join(agent, connect, state="listening")
        await wait_until(lambda: session.agent_state is AgentState.LISTENING, what="late agent")
        assert session.agent_failure is None
    finally:
        await session.end()


def literal(server: LiveServer, token: str) -> Session:
    return Session(LiteralTokenSource(server.url, token), SessionOptions(room_name=ROOM))


@pytest.mark.parametrize(
    ("make_token", "error", "match"),
    [
        (
            lambda s: mint_token("u", api_key=s.api_key, api_secret="x" * 40),
            AuthRejectedError,
            "refused the token",
        ),
        (lambda s: mint_token("u", api_key="other-key"), AuthRejectedError, "refused the token"),
        (
            lambda s: s.token("u", room="another-room", room_join=False),
            AuthRejectedError,
            "refused the token",
        ),
        (lambda s: s.token("u", ttl=datetime.timedelta(seconds=-60)), TokenInvalidError, "expired"),
    ],
    ids=["bad-signature", "unknown-key", "no-room-join", "expired"],
)
async def test_bad_tokens_fail_with_a_clear_error(
    server: LiveServer, make_token: Callable[[LiveServer], str], error: type[Exception], match: str
) -> None:
    token = make_token(server)
    session = literal(server, token)
    with pytest.raises(error, match=match) as raised:
        await asyncio.wait_for(session.start(), timeout=20)
    assert token not in str(raised.value)
    assert server.api_secret not in str(raised.value)
    assert session.connection_state is ConnectionState.DISCONNECTED


async def test_unreachable_server_is_a_connection_error() -> None:
    token = mint_token("u")
    session = Session(
        LiteralTokenSource("ws://127.0.0.1:9", token), SessionOptions(room_name=ROOM, room_connect_timeout=10)
    )
    with pytest.raises(ConnectionFailedError, match="Could not connect"):
        await asyncio.wait_for(session.start(), timeout=30)
    assert session.connection_state is ConnectionState.DISCONNECTED


async def test_end_cleans_up_and_a_new_start_gets_a_new_room(
    server: LiveServer, agent: StandInAgent, connect: Connector
) -> None:
    # Warm the rtc SDK's own threads up first so the thread count compares like with like.
    warm = session_for(server, agent_name=None, room_name="warm-up")
    await warm.start()
    await warm.end()
    threads_before = {t.ident for t in threading.enumerate()}
    tasks_before = asyncio.all_tasks()

    session = session_for(server, room_name=None, agent_name=None)
    await session.start()
    first_room = session.room_name
    await session.send_chat("hello")
    await session.end()
    await session.end()  # idempotent
    await asyncio.sleep(0.2)
    # The dev server runs in this process too; its own tasks (closing the empty room) are not ours.
    leftover = {
        t
        for t in asyncio.all_tasks() - tasks_before
        if not t.done() and not t.get_name().startswith("devserver")
    }
    assert leftover == set(), leftover
    assert {t.ident for t in threading.enumerate()} <= threads_before
    assert session.connection_state is ConnectionState.DISCONNECTED

    await session.start()
    try:
        assert session.room_name != first_room  # agents are dispatched per room: a new start, a new room
    finally:
        await session.end()
