"""Agent dispatch end to end: the Session asks for an agent by name, a real livekit-agents worker
(the offline demo agent) is dispatched, joins, speaks and answers; unknown names time out; a late
worker picks up a pending dispatch; a crashed worker's job is freed and the agent leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from demo_worker_process import DemoWorker
from e2e_harness import wait_until
from livekit.protocol import agent as agent_pb

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer
from agent_tui.session import (
    AgentFailure,
    AgentJoined,
    AgentLeft,
    AgentState,
    AgentStateChanged,
    AgentTimeoutError,
    CachingTokenSource,
    LocalTokenSource,
    Session,
    SessionEvent,
    SessionOptions,
    Speaker,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

AGENT_NAME = "demo-dispatch"
ROOM = "dispatch-room"
GREETING = "Hello, I am the demo agent. Ask me what time it is, or say help."


def session_for(server: DevServer, *, agent_name: str = AGENT_NAME, timeout: float = 30.0) -> Session:
    source = CachingTokenSource(LocalTokenSource(server.url, DEFAULT_API_KEY, DEFAULT_API_SECRET))
    options = SessionOptions(
        agent_name=agent_name, room_name=ROOM, participant_identity="user-1", agent_connect_timeout=timeout
    )
    return Session(source, options)


def record(session: Session) -> list[SessionEvent]:
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    return events


def agent_states(events: list[SessionEvent]) -> list[AgentState]:
    return [e.state for e in events if isinstance(e, AgentStateChanged)]


def final_agent_texts(session: Session) -> list[str]:
    return [m.text for m in session.messages if m.speaker is Speaker.AGENT and m.final]


def jobs_of(server: DevServer, room: str = ROOM) -> list[agent_pb.Job]:
    return [job for dispatch in server.dispatcher.list(room) for job in dispatch.state.jobs]


@pytest.fixture
async def worker(dev_server: DevServer) -> AsyncIterator[DemoWorker]:
    """A registered demo worker (greeting on) serving AGENT_NAME; stopped, job processes included, after."""
    demo_worker = DemoWorker(dev_server.url, AGENT_NAME, extra_args=())
    try:
        await demo_worker.start()
        yield demo_worker
    finally:
        await demo_worker.stop()


async def test_session_dispatches_the_worker_by_name_and_it_speaks_and_answers(
    dev_server: DevServer, worker: DemoWorker
) -> None:
    session = session_for(dev_server)
    events = record(session)
    try:
        await session.start()  # returns once the dispatched agent is listening
        joined = [e for e in events if isinstance(e, AgentJoined)]
        assert len(joined) == 1
        assert joined[0].attributes["lk.agent.name"] == AGENT_NAME
        assert joined[0].attributes["lk.agent_name"] == AGENT_NAME
        [job] = jobs_of(dev_server)
        assert job.agent_name == AGENT_NAME
        assert job.state.participant_identity == joined[0].identity
        assert job.state.worker_id == worker.worker_id
        await wait_until(
            lambda: jobs_of(dev_server)[0].state.status == agent_pb.JobStatus.JS_RUNNING,
            what="the job to run",
        )

        # The greeting: the agent speaks (its audio output waits for our subscription), and its
        # transcription arrives as one final message.
        await wait_until(lambda: GREETING in final_agent_texts(session), what="the greeting", within_s=30)
        await wait_until(
            lambda: session.agent_state is AgentState.LISTENING, what="the greeting to end", within_s=15
        )
        greeting_states = agent_states(events)
        assert greeting_states[: greeting_states.index(AgentState.SPEAKING) + 1][-2:] == [
            AgentState.LISTENING,
            AgentState.SPEAKING,
        ]

        mark = len(events)
        sent = await session.send_chat("what time is it")
        assert sent.speaker is Speaker.USER
        await wait_until(
            lambda: any(t.startswith("The time is") for t in final_agent_texts(session)),
            what="the answer to the chat message",
            within_s=30,
        )
        after_chat = agent_states(events[mark:])
        assert AgentState.THINKING in after_chat and AgentState.SPEAKING in after_chat
        texts = [(m.speaker, m.text) for m in session.messages]
        assert texts.index((Speaker.USER, "what time is it")) < next(
            i for i, (s, t) in enumerate(texts) if s is Speaker.AGENT and t.startswith("The time is")
        )
    finally:
        await session.end()
    # The room closes once only the agent is left, which ends the job; the worker reports it.
    running = dev_server.dispatcher.workers[worker.worker_id or ""].jobs
    await wait_until(
        lambda: not dev_server.rooms and not running, what="the room to close and the job to end"
    )


async def test_an_agent_name_no_worker_serves_times_out_as_did_not_join(dev_server: DevServer) -> None:
    session = session_for(dev_server, agent_name="nobody-serves-this", timeout=2.0)
    try:
        with pytest.raises(AgentTimeoutError, match="did not join"):
            await session.start()
        assert session.agent_failure is AgentFailure.DID_NOT_JOIN
        [job] = jobs_of(dev_server)
        assert job.agent_name == "nobody-serves-this"
        assert job.state.status == agent_pb.JobStatus.JS_PENDING
        assert not job.state.worker_id
    finally:
        await session.end()


async def test_a_worker_registering_during_the_wait_gets_the_pending_job(dev_server: DevServer) -> None:
    session = session_for(dev_server, timeout=90.0)
    late = DemoWorker(dev_server.url, AGENT_NAME)
    try:
        starting = asyncio.create_task(session.start())
        await wait_until(lambda: bool(jobs_of(dev_server)), what="the dispatch to be pending")
        assert not starting.done()
        assert jobs_of(dev_server)[0].state.status == agent_pb.JobStatus.JS_PENDING
        await late.start()
        await asyncio.wait_for(starting, timeout=60)
        assert session.agent_state is AgentState.LISTENING
        [job] = jobs_of(dev_server)
        assert job.state.worker_id == late.worker_id
    finally:
        await session.end()
        await late.stop()


async def test_killing_the_worker_frees_its_job_and_the_session_sees_the_agent_leave(
    dev_server: DevServer,
) -> None:
    crashing = DemoWorker(dev_server.url, AGENT_NAME)
    session = session_for(dev_server)
    events = record(session)
    try:
        await crashing.start()
        await session.start()
        crashing.crash()
        await wait_until(
            lambda: any(isinstance(e, AgentLeft) for e in events), what="the agent to leave", within_s=15
        )
        [left] = [e for e in events if isinstance(e, AgentLeft)]
        assert left.unexpected
        assert session.agent_failure is AgentFailure.LEFT
        [job] = jobs_of(dev_server)
        assert job.state.status == agent_pb.JobStatus.JS_FAILED
        assert job.state.error == "worker disconnected"
        assert not dev_server.dispatcher.workers
        assert left.identity not in dev_server.rooms[ROOM].participants
    finally:
        await asyncio.wait_for(session.end(), timeout=15)
        await crashing.stop()
