"""The demo's one automatic second dispatch (:mod:`agent_tui.demo.dispatch_retry`), against the real
dispatcher of an embedded dev server and protocol-level fake workers (no media, 127.0.0.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from livekit import api
from livekit.protocol import agent as agent_pb

from agent_tui.demo.dispatch_retry import DispatchRetry
from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer
from tests.support.waiting import wait_until
from tests.unit.devserver.fake_worker import FakeWorker

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def worker(server: DevServer) -> AsyncIterator[FakeWorker]:
    async with aiohttp.ClientSession() as http:
        fake = FakeWorker(http, server.url, "demo")
        await fake.register()
        yield fake
        await fake.close()


@pytest.fixture
async def retried(server: DevServer) -> AsyncIterator[list[str]]:
    said: list[str] = []
    retry = DispatchRetry(server.dispatcher, "demo", on_retry=said.append, after_s=0.3)
    retry.start()
    yield said
    retry.close()


async def dispatch(server: DevServer, room: str, agent_name: str = "demo") -> None:
    async with api.LiveKitAPI(server.url, DEFAULT_API_KEY, DEFAULT_API_SECRET) as lkapi:
        await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=agent_name, room=room, metadata='{"m":1}')
        )


def named_dispatches(server: DevServer, room: str) -> list[api.AgentDispatch]:
    return [d for d in server.dispatcher.list(room) if d.agent_name]


async def test_a_job_that_fails_before_its_agent_joins_is_dispatched_once_more_at_once(
    server: DevServer, worker: FakeWorker, retried: list[str]
) -> None:
    await dispatch(server, "room-a")
    first = (await worker.next("availability")).availability.job
    await worker.accept(first, "agent-1")
    await worker.job_status(first.id, agent_pb.JobStatus.JS_FAILED, "process killed")

    second = (await worker.next("availability")).availability.job
    assert second.id != first.id and second.room.name == "room-a" and second.metadata == '{"m":1}'
    assert len(retried) == 1 and "its job failed (process killed)" in retried[0]
    dispatches = named_dispatches(server, "room-a")
    assert [d.state.jobs[-1].id for d in dispatches] == [second.id]  # the failed one is gone


async def test_a_job_whose_agent_never_joins_is_ended_and_dispatched_again(
    server: DevServer, worker: FakeWorker, retried: list[str]
) -> None:
    await dispatch(server, "room-b")
    first = (await worker.next("availability")).availability.job
    await worker.accept(first, "agent-1")
    await worker.job_status(first.id, agent_pb.JobStatus.JS_RUNNING)

    # The stuck job is told to stop before the new one is offered: two agents never meet in the room.
    termination = (await worker.next("termination")).termination
    assert termination.job_id == first.id
    second = (await worker.next("availability")).availability.job
    assert second.id != first.id
    assert len(retried) == 1 and "did not join within 0.3 s" in retried[0]


async def test_only_one_retry_per_room(server: DevServer, worker: FakeWorker, retried: list[str]) -> None:
    await dispatch(server, "room-c")
    first = (await worker.next("availability")).availability.job
    await worker.accept(first, "agent-1")
    await worker.job_status(first.id, agent_pb.JobStatus.JS_FAILED, "boom")
    second = (await worker.next("availability")).availability.job
    await worker.accept(second, "agent-2")
    await worker.job_status(second.id, agent_pb.JobStatus.JS_FAILED, "boom again")

    await wait_until(
        lambda: all(j.state.status == agent_pb.JobStatus.JS_FAILED for d in named_dispatches(server, "room-c")
                    for j in d.state.jobs),
        what="the second job to be failed",
    )  # fmt: skip
    assert worker.messages.empty(), "a third offer was made"
    assert len(retried) == 1


async def test_other_agents_and_jobs_that_end_well_are_left_alone(
    server: DevServer, worker: FakeWorker, retried: list[str]
) -> None:
    async with aiohttp.ClientSession() as http:
        other = FakeWorker(http, server.url, "someone-else")
        await other.register()
        await dispatch(server, "room-d", agent_name="someone-else")
        job = (await other.next("availability")).availability.job
        await other.accept(job, "other-1")
        await other.job_status(job.id, agent_pb.JobStatus.JS_FAILED, "theirs")

        await dispatch(server, "room-e")
        mine = (await worker.next("availability")).availability.job
        await worker.accept(mine, "agent-1")
        await worker.job_status(mine.id, agent_pb.JobStatus.JS_SUCCESS)

        # An absence has no event to wait on: watch for longer than the retry delay (0.3 s).
        await asyncio.sleep(0.6)
        assert retried == []
        assert worker.messages.empty() and other.messages.empty()
        await other.close()
