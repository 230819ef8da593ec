"""The ``/agent`` worker protocol and the dispatcher, driven by protocol-level fake workers.

A fake worker is an aiohttp WebSocket speaking the same protobufs as livekit-agents, so each step of
the exchange (registration, availability, assignment, job status, disconnect) can be checked exactly
and deterministically. Dispatches are made through the Twirp API into rooms nobody joined, so no
media moves and the tests run on 127.0.0.1 outside the test namespace.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from livekit import api
from livekit.protocol import agent as agent_pb

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer
from tests.support.waiting import wait_until
from tests.unit.devserver.fake_worker import FakeWorker, worker_token

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def lkapi(server: DevServer) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(server.url, DEFAULT_API_KEY, DEFAULT_API_SECRET)
    try:
        yield client
    finally:
        await client.aclose()


async def dispatch(
    lkapi: api.LiveKitAPI, room: str, agent_name: str, metadata: str = ""
) -> api.AgentDispatch:
    return await lkapi.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(agent_name=agent_name, room=room, metadata=metadata)
    )


async def named_dispatches(lkapi: api.LiveKitAPI, room: str) -> list[api.AgentDispatch]:
    """The room's dispatches but the automatic one (no agent name) every room gets, as on livekit-server."""
    return [d for d in await lkapi.agent_dispatch.list_dispatch(room) if d.agent_name]


def named_jobs(server: DevServer, room: str) -> list[agent_pb.Job]:
    """The jobs of the room's dispatches that name an agent, as the dispatcher holds them now."""
    return [job for d in server.dispatcher.list(room) if d.agent_name for job in d.state.jobs]


async def test_worker_without_the_agent_grant_is_refused_before_the_upgrade(server: DevServer) -> None:
    http_url = server.url.replace("ws://", "http://")
    async with aiohttp.ClientSession() as http:
        for token, reason in (
            (worker_token(agent=False), "no agent grant"),
            (worker_token(secret="s" * 48), "Signature verification failed"),
        ):
            headers = {"Authorization": f"Bearer {token}", "Upgrade": "websocket", "Connection": "Upgrade"}
            async with http.get(f"{http_url}/agent", headers=headers) as response:
                assert response.status == 401
                assert reason in await response.text()
    assert not server.dispatcher.workers


async def test_registration_is_answered_first_with_a_worker_id(
    server: DevServer, http: aiohttp.ClientSession
) -> None:
    worker = FakeWorker(http, server.url, "demo")
    worker_id = await worker.register()
    assert worker_id.startswith("AW_")
    assert server.dispatcher.workers[worker_id].agent_name == "demo"
    await worker.send(agent_pb.WorkerMessage(ping=agent_pb.WorkerPing(timestamp=1234)))
    pong = (await worker.next("pong")).pong
    assert pong.last_timestamp == 1234 and pong.timestamp > 0
    await worker.close()
    await wait_until(lambda: not server.dispatcher.workers, what="the worker to be forgotten")


async def test_offer_assignment_token_and_job_status(
    server: DevServer, http: aiohttp.ClientSession, lkapi: api.LiveKitAPI
) -> None:
    worker = FakeWorker(http, server.url, "demo")
    await worker.register()
    created = await dispatch(lkapi, "room-a", "demo", metadata='{"task":"x"}')
    assert created.id.startswith("AD_") and created.room == "room-a" and created.agent_name == "demo"

    job = (await worker.next("availability")).availability.job
    assert job.id.startswith("AJ_")
    assert (job.room.name, job.agent_name, job.dispatch_id, job.metadata) == (
        "room-a",
        "demo",
        created.id,
        '{"task":"x"}',
    )
    assert job.room.sid == server.rooms["room-a"].sid
    assert job.type == agent_pb.JobType.JT_ROOM

    assignment = await worker.accept(job, "agent-custom", {"push-to-talk": "1"})
    assert assignment.job.id == job.id
    assert server.dispatcher.explain("demo") == (
        f"worker {worker.worker_id} took the job, but its agent (agent-custom) did not get ready in the room"
    )
    assert assignment.url == ""  # the worker joins the URL it registered with
    claims = api.TokenVerifier(DEFAULT_API_KEY, DEFAULT_API_SECRET).verify(assignment.token)
    assert claims.identity == "agent-custom"
    assert claims.kind == "agent"
    assert claims.name == "Demo" and claims.metadata == '{"k":1}'
    assert claims.attributes == {"lk.agent.name": "demo", "lk.agent_name": "demo", "push-to-talk": "1"}
    assert claims.video is not None
    assert claims.video.room_join and claims.video.room == "room-a" and claims.video.agent
    assert claims.video.can_publish and claims.video.can_subscribe and claims.video.can_update_own_metadata

    [listed] = await named_dispatches(lkapi, "room-a")
    [state] = listed.state.jobs
    assert (state.state.status, state.state.participant_identity) == (
        agent_pb.JobStatus.JS_PENDING,
        "agent-custom",
    )
    await worker.job_status(job.id, agent_pb.JobStatus.JS_RUNNING)
    await wait_until(
        lambda: server.dispatcher.workers[worker.worker_id].jobs[job.id].proto.state.started_at,
        what="running",
    )
    await worker.job_status(job.id, agent_pb.JobStatus.JS_SUCCESS)
    await wait_until(lambda: not server.dispatcher.workers[worker.worker_id].jobs, what="the job to end")
    [listed] = await named_dispatches(lkapi, "room-a")
    assert listed.state.jobs[0].state.status == agent_pb.JobStatus.JS_SUCCESS
    assert listed.state.jobs[0].state.ended_at >= listed.state.jobs[0].state.started_at > 0
    await worker.close()


async def test_a_dispatch_with_no_worker_gets_no_job_and_a_later_worker_is_not_offered_it(
    server: DevServer, http: aiohttp.ClientSession, lkapi: api.LiveKitAPI
) -> None:
    """As livekit-server 1.13.5: a job is placed when the dispatch is made, or never."""
    other = FakeWorker(http, server.url, "other-agent")
    await other.register()
    await dispatch(lkapi, "room-b", "late-agent")
    await wait_until(lambda: not named_jobs(server, "room-b"), what="the job to be dropped")
    assert other.messages.empty(), "a worker of another agent name must not be offered the job"
    [dispatched] = await named_dispatches(lkapi, "room-b")
    assert dispatched.agent_name == "late-agent" and not dispatched.state.jobs
    assert (
        server.dispatcher.explain("late-agent")
        == "no worker serving 'late-agent' was available to take the job"
    )

    late = FakeWorker(http, server.url, "late-agent")
    await late.register()
    await asyncio.sleep(0.2)
    assert late.messages.empty(), "a worker that registers later is not offered an old dispatch"
    await dispatch(lkapi, "room-b", "late-agent")  # a new dispatch is
    job = (await late.next("availability")).availability.job
    assert job.room.name == "room-b"
    await late.accept(job, "agent-late")
    await late.close()
    await other.close()


async def test_workers_under_one_name_share_jobs_by_load(
    server: DevServer, http: aiohttp.ClientSession, lkapi: api.LiveKitAPI
) -> None:
    busy, idle = FakeWorker(http, server.url, "pool"), FakeWorker(http, server.url, "pool")
    await busy.register()
    await idle.register()
    await busy.report(0.6)
    await idle.report(0.1)
    await wait_until(lambda: server.dispatcher.workers[busy.worker_id].load > 0.5, what="the load reports")

    await dispatch(lkapi, "room-1", "pool")
    first = (await idle.next("availability")).availability.job
    await idle.accept(first, "agent-1")
    await idle.report(0.8)  # the job made it busier than the other one
    await wait_until(lambda: server.dispatcher.workers[idle.worker_id].load > 0.7, what="the new load")

    await dispatch(lkapi, "room-2", "pool")
    second = (await busy.next("availability")).availability.job
    assert second.room.name == "room-2"
    await busy.accept(second, "agent-2")

    # Equal loads: the worker with fewer jobs gets the next one; a full worker gets none.
    await busy.report(0.5)
    await idle.report(0.5, agent_pb.WorkerStatus.WS_FULL)
    await wait_until(
        lambda: server.dispatcher.workers[idle.worker_id].status == agent_pb.WorkerStatus.WS_FULL,
        what="idle full",
    )
    await dispatch(lkapi, "room-3", "pool")
    third = (await busy.next("availability")).availability.job
    assert third.room.name == "room-3"
    assert idle.messages.empty()
    await busy.close()
    await idle.close()


async def test_a_refused_offer_goes_to_the_next_worker_and_when_all_refuse_there_is_no_job(
    server: DevServer, http: aiohttp.ClientSession, lkapi: api.LiveKitAPI
) -> None:
    first, second = FakeWorker(http, server.url, "picky"), FakeWorker(http, server.url, "picky")
    await first.register()
    await second.register()
    await dispatch(lkapi, "room-c", "picky")
    offered = (await first.next("availability")).availability.job
    await first.send(
        agent_pb.WorkerMessage(availability=agent_pb.AvailabilityResponse(job_id=offered.id, available=False))
    )
    job = (await second.next("availability")).availability.job
    assert job.id == offered.id
    await second.send(
        agent_pb.WorkerMessage(availability=agent_pb.AvailabilityResponse(job_id=job.id, available=False))
    )
    # Both refused: no job, and nobody is asked again (livekit-server does the same).
    await wait_until(lambda: not named_jobs(server, "room-c"), what="the job to be dropped")
    assert server.dispatcher.explain("picky") == (
        "no worker serving 'picky' was available to take the job (2 refused it)"
    )
    await first.report(0.1, agent_pb.WorkerStatus.WS_FULL)
    await first.report(0.1, agent_pb.WorkerStatus.WS_AVAILABLE)
    await asyncio.sleep(0.2)
    assert first.messages.empty() and second.messages.empty()
    await first.close()
    await second.close()


async def test_a_disconnecting_worker_frees_its_jobs(
    server: DevServer, http: aiohttp.ClientSession, lkapi: api.LiveKitAPI
) -> None:
    worker = FakeWorker(http, server.url, "fragile")
    await worker.register()
    await dispatch(lkapi, "room-d", "fragile")
    job = (await worker.next("availability")).availability.job
    await worker.accept(job, "agent-d")
    await worker.job_status(job.id, agent_pb.JobStatus.JS_RUNNING)
    await worker.close()
    await wait_until(lambda: not server.dispatcher.workers, what="the worker to leave")
    [listed] = await named_dispatches(lkapi, "room-d")
    state = listed.state.jobs[0].state
    assert (state.status, state.error) == (agent_pb.JobStatus.JS_FAILED, "worker disconnected")


async def test_deleting_a_dispatch_terminates_its_job(
    server: DevServer, http: aiohttp.ClientSession, lkapi: api.LiveKitAPI
) -> None:
    worker = FakeWorker(http, server.url, "demo")
    await worker.register()
    created = await dispatch(lkapi, "room-e", "demo")
    job = (await worker.next("availability")).availability.job
    await worker.accept(job, "agent-e")
    deleted = await lkapi.agent_dispatch.delete_dispatch(created.id, "room-e")
    assert deleted.id == created.id and deleted.state.deleted_at > 0
    assert (await worker.next("termination")).termination.job_id == job.id
    assert await named_dispatches(lkapi, "room-e") == []
    with pytest.raises(api.ServerError) as missing:
        await lkapi.agent_dispatch.delete_dispatch(created.id, "room-e")
    assert (missing.value.code, missing.value.status) == ("not_found", 404)
    await worker.close()
