"""Agent dispatch: which worker runs which agent in which room, and what became of each job.

A *dispatch* asks for one agent (by name) in one room: made automatically for each agent named in the
room configuration of the token that created the room, or through the AgentDispatchService API. Each
dispatch becomes one *job*, offered to the registered workers of that agent name:

1. pick the available worker with the lowest reported load (fewest jobs on a tie, then the one that
   registered first), so several workers under one name share the jobs;
2. send it an ``AvailabilityRequest``; on ``available``, mint the job's room token for the identity and
   attributes the worker chose (:mod:`.job_token`) and send the ``JobAssignment``; on a refusal or no
   answer, offer it to the next worker;
3. with no worker left to ask, the dispatch gets no job, as on livekit-server (1.13.5 logs "no worker
   available to handle job" and never tries again): a worker that registers later does not pick it
   up. A client waiting for an agent name nobody serves sees its own agent-connect timeout, not an error
   from the server, and ``ListDispatch`` shows the dispatch with no job.

The worker then reports the job's status until it ends. When a worker disconnects, its unfinished jobs
are freed: marked failed and their agent participants removed from the room, so clients see the agent
leave at once instead of after the signal resume window. (A livekit-agents worker that reconnects
reports its old jobs with ``migrate_job``; on one machine a worker connection only drops when the
worker dies, so the dev server does not keep jobs for that.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from livekit.protocol import agent as agent_pb
from livekit.protocol.agent_dispatch import AgentDispatch, AgentDispatchState
from livekit.protocol.models import DisconnectReason, ParticipantPermission

from .identifiers import DISPATCH_PREFIX, JOB_PREFIX, new_sid
from .job_token import mint_job_token
from .room import Room

_log = logging.getLogger("agent_tui.devserver")

# A worker answers an availability request within milliseconds; one that does not is skipped.
AVAILABILITY_TIMEOUT_S: Final = 5.0

_ENDED: Final = frozenset(
    {agent_pb.JobStatus.JS_SUCCESS, agent_pb.JobStatus.JS_FAILED, agent_pb.JobStatus.JS_CANCELLED}
)

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


def status_name(status: int) -> str:
    """``JS_RUNNING`` for a JobStatus value (log lines)."""
    return agent_pb.JobStatus.Name(status)


class Worker:
    """One registered worker connection, as the dispatcher sees it.

    ``send`` queues a ServerMessage on the worker's WebSocket (never blocks); the ``/agent`` endpoint
    feeds the worker's messages back through :class:`Dispatcher`.
    """

    def __init__(
        self,
        *,
        agent_name: str,
        permissions: ParticipantPermission,
        version: str,
        send: Callable[[agent_pb.ServerMessage], None],
        worker_id: str,
        job_type: agent_pb.JobType = agent_pb.JobType.JT_ROOM,
    ) -> None:
        self.id = worker_id
        self.agent_name = agent_name
        self.job_type = job_type
        self.permissions = permissions
        self.version = version
        self.send = send
        self.status: agent_pb.WorkerStatus = agent_pb.WorkerStatus.WS_AVAILABLE
        self.load = 0.0
        self.registered_at = time.monotonic()
        self.jobs: dict[str, Job] = {}
        self.connected = True
        self._answers: dict[str, asyncio.Future[agent_pb.AvailabilityResponse | None]] = {}

    @property
    def available(self) -> bool:
        """Whether the worker takes new jobs (connected and not reporting itself full)."""
        return self.connected and self.status == agent_pb.WorkerStatus.WS_AVAILABLE

    async def ask(self, job: agent_pb.Job) -> agent_pb.AvailabilityResponse | None:
        """Offer ``job``; the worker's answer, or None if it left or did not answer in time."""
        future: asyncio.Future[agent_pb.AvailabilityResponse | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._answers[job.id] = future
        self.send(agent_pb.ServerMessage(availability=agent_pb.AvailabilityRequest(job=job)))
        try:
            async with asyncio.timeout(AVAILABILITY_TIMEOUT_S):
                return await future
        except TimeoutError:
            _log.info("worker %s did not answer the offer of job %s in time", self.id, job.id)
            return None
        finally:
            self._answers.pop(job.id, None)

    def answered(self, response: agent_pb.AvailabilityResponse) -> None:
        """The worker's answer to an offer (ignored when nobody waits for it any more)."""
        future = self._answers.get(response.job_id)
        if future is not None and not future.done():
            future.set_result(response)

    def disconnected(self) -> None:
        """The connection ended: outstanding offers are answered 'no'."""
        self.connected = False
        for future in self._answers.values():
            if not future.done():
                future.set_result(None)


@dataclass
class Job:
    """A job: the protobuf the worker was sent (its ``state`` kept current) and who runs it."""

    proto: agent_pb.Job
    dispatch: DispatchRecord
    worker: Worker | None = None

    @property
    def id(self) -> str:
        """The job id (``AJ_…``)."""
        return self.proto.id

    @property
    def ended(self) -> bool:
        """Whether the job has finished (successfully or not)."""
        return self.proto.state.status in _ENDED


@dataclass
class DispatchRecord:
    """One dispatch of an agent into a room, and its jobs."""

    id: str
    agent_name: str
    room: Room
    metadata: str
    attributes: Mapping[str, str]
    created_at: float = field(default_factory=time.time)
    jobs: list[Job] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def proto(self) -> AgentDispatch:
        """The dispatch as the AgentDispatchService returns it."""
        return AgentDispatch(
            id=self.id,
            agent_name=self.agent_name,
            room=self.room.name,
            metadata=self.metadata,
            attributes=dict(self.attributes),
            state=AgentDispatchState(
                jobs=[job.proto for job in self.jobs], created_at=int(self.created_at * 1e9)
            ),
        )


class Dispatcher:
    """Workers, dispatches and jobs of one server; also its room listener (see the module docstring)."""

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        find_room: Callable[[str], Room | None],
        spawn: Spawn,
    ) -> None:
        self._api_key = api_key
        self._api_secret = api_secret
        self._find_room = find_room
        self._spawn = spawn
        self.workers: dict[str, Worker] = {}
        self._dispatches: dict[str, dict[str, DispatchRecord]] = {}
        self._outcomes: dict[str, str] = {}
        self._job_observers: list[Callable[[Job], None]] = []

    # -------------------------------------------------------------------------------- room events

    def room_created(self, room: Room) -> None:
        """Dispatch each agent the creator's token names, once per room.

        With none named, the room gets one dispatch with an empty agent name, as livekit-server gives
        every such room: workers registered without an agent name get the room (automatic dispatch),
        now or when one registers while the room lives, and ``ListDispatch`` shows it either way.
        """
        config = room.creator.room_config
        named = list(config.agents) if config is not None else []
        seen: set[str] = set()
        for wanted in named:
            if wanted.agent_name in seen:
                continue
            seen.add(wanted.agent_name)
            self.dispatch(room, wanted.agent_name, metadata=wanted.metadata, attributes=wanted.attributes)
        if not named:
            self.dispatch(room, "", metadata="", attributes={})

    def room_closed(self, room: Room) -> None:
        """Forget the room's dispatches: pending ones stop waiting, running jobs are told to end."""
        for record in list(self._dispatches.get(room.name, {}).values()):
            if record.room is room:
                self._end_dispatch(record)

    # ------------------------------------------------------------------------------------ workers

    def register(self, worker: Worker) -> None:
        """A worker registered: it serves its agent name from now on (new dispatches only)."""
        self.workers[worker.id] = worker
        _log.info(
            "worker registered agent_name=%s id=%s version=%s",
            worker.agent_name or "(automatic)",
            worker.id,
            worker.version,
        )

    def update_worker(self, worker: Worker, update: agent_pb.UpdateWorkerStatus) -> None:
        """A status/load report: what the next dispatch's choice of worker goes by."""
        worker.load = update.load
        if update.HasField("status"):
            worker.status = update.status

    def update_job(self, worker: Worker, update: agent_pb.UpdateJobStatus) -> None:
        """A job status report from the worker running it."""
        job = worker.jobs.get(update.job_id)
        if job is None:
            return
        self._set_status(job, update.status, update.error)

    def unregister(self, worker: Worker) -> None:
        """The worker's connection ended: free its jobs and remove their agents from the rooms."""
        if self.workers.pop(worker.id, None) is None:
            return
        worker.disconnected()
        _log.info("worker left agent_name=%s id=%s jobs=%d", worker.agent_name, worker.id, len(worker.jobs))
        for job in list(worker.jobs.values()):
            self._set_status(job, agent_pb.JobStatus.JS_FAILED, "worker disconnected")
            self._remove_agent(job)

    # --------------------------------------------------------------------------------- dispatches

    def dispatch(
        self, room: Room, agent_name: str, *, metadata: str, attributes: Mapping[str, str]
    ) -> DispatchRecord:
        """Dispatch ``agent_name`` into ``room``: a job is offered now, or as soon as a worker can take it."""
        record = DispatchRecord(
            id=new_sid(DISPATCH_PREFIX),
            agent_name=agent_name,
            room=room,
            metadata=metadata,
            attributes=dict(attributes),
        )
        self._dispatches.setdefault(room.name, {})[record.id] = record
        _log.info("dispatch room=%s agent_name=%s id=%s", room.name, agent_name or "(automatic)", record.id)
        record.task = self._spawn(self._place(record))
        return record

    def observe_jobs(self, observer: Callable[[Job], None]) -> Callable[[], None]:
        """Call ``observer`` with a job when it is assigned to a worker and at each status change; returns
        the function that stops it. For the process that holds the server (the demo), which can act on a
        job that failed or whose agent never came, as a client could through the dispatch API."""
        self._job_observers.append(observer)

        def stop() -> None:
            with contextlib.suppress(ValueError):
                self._job_observers.remove(observer)

        return stop

    def explain(self, agent_name: str) -> str | None:
        """What became of the last dispatch of ``agent_name``, in words (for "the agent did not join")."""
        return self._outcomes.get(agent_name)

    def list(self, room_name: str, dispatch_id: str = "") -> list[AgentDispatch]:
        """The dispatches of ``room_name`` (only ``dispatch_id`` if given)."""
        records = self._dispatches.get(room_name, {}).values()
        return [r.proto() for r in records if not dispatch_id or r.id == dispatch_id]

    def delete(self, room_name: str, dispatch_id: str) -> AgentDispatch | None:
        """Delete a dispatch: stop waiting for a worker, end its running job. None if there is none."""
        record = self._dispatches.get(room_name, {}).get(dispatch_id)
        if record is None:
            return None
        self._end_dispatch(record)
        deleted = record.proto()
        deleted.state.deleted_at = time.time_ns()
        _log.info("dispatch deleted room=%s id=%s", room_name, dispatch_id)
        return deleted

    async def close(self) -> None:
        """Stop every pending dispatch (server shutdown)."""
        for records in list(self._dispatches.values()):
            for record in list(records.values()):
                self._end_dispatch(record)
        self._dispatches.clear()

    # ------------------------------------------------------------------------------------ placing

    async def _place(self, record: DispatchRecord) -> None:
        """Offer the dispatch's job to each available worker in turn; none left: no job (see above)."""
        job = agent_pb.Job(
            id=new_sid(JOB_PREFIX),
            dispatch_id=record.id,
            type=agent_pb.JobType.JT_ROOM,
            room=record.room.info(),
            metadata=record.metadata,
            agent_name=record.agent_name,
            attributes=dict(record.attributes),
            state=agent_pb.JobState(status=agent_pb.JobStatus.JS_PENDING, updated_at=time.time_ns()),
        )
        placed = Job(proto=job, dispatch=record)
        record.jobs.append(placed)
        refused: set[str] = set()
        while (worker := self._pick(record.agent_name, exclude=refused)) is not None:
            answer = await worker.ask(job)
            if answer is None or not answer.available or not worker.connected:
                refused.add(worker.id)
                continue
            self._assign(placed, worker, answer)
            return
        record.jobs.remove(placed)
        self._outcomes[record.agent_name] = (
            f"no worker serving '{record.agent_name}' was available to take the job"
            + (f" ({len(refused)} refused it)" if refused else "")
        )
        _log.info(
            "not dispatching agent_name=%s room=%s: no worker available%s",
            record.agent_name or "(automatic)",
            record.room.name,
            f" ({len(refused)} refused)" if refused else "",
        )

    def _pick(self, agent_name: str, *, exclude: set[str]) -> Worker | None:
        candidates = [
            w
            for w in self.workers.values()
            if w.agent_name == agent_name
            and w.job_type == agent_pb.JobType.JT_ROOM  # the only kind of job this server creates
            and w.available
            and w.id not in exclude
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda w: (w.load, len(w.jobs), w.registered_at))

    def _assign(self, job: Job, worker: Worker, answer: agent_pb.AvailabilityResponse) -> None:
        identity = answer.participant_identity or f"agent-{job.id}"
        token = mint_job_token(
            self._api_key,
            self._api_secret,
            room=job.dispatch.room.name,
            identity=identity,
            name=answer.participant_name,
            metadata=answer.participant_metadata,
            attributes=answer.participant_attributes,
            agent_name=job.dispatch.agent_name,
            permissions=worker.permissions,
        )
        job.worker = worker
        job.proto.state.participant_identity = identity
        job.proto.state.worker_id = worker.id
        worker.jobs[job.id] = job
        worker.send(agent_pb.ServerMessage(assignment=agent_pb.JobAssignment(job=job.proto, token=token)))
        self._outcomes[job.dispatch.agent_name] = (
            f"worker {worker.id} took the job, but its agent ({identity}) did not get ready in the room"
        )
        self._tell_observers(job)
        _log.info(
            "job assigned id=%s room=%s agent_name=%s worker=%s identity=%s",
            job.id,
            job.dispatch.room.name,
            job.dispatch.agent_name or "(automatic)",
            worker.id,
            identity,
        )

    # --------------------------------------------------------------------------------- job state

    def _set_status(self, job: Job, status: agent_pb.JobStatus, error: str = "") -> None:
        state = job.proto.state
        if state.status == status or job.ended:
            return
        now = time.time_ns()
        state.status = status
        state.error = error
        state.updated_at = now
        if status == agent_pb.JobStatus.JS_RUNNING and not state.started_at:
            state.started_at = now
        if job.ended:
            state.ended_at = now
            if job.worker is not None:
                job.worker.jobs.pop(job.id, None)
        if status == agent_pb.JobStatus.JS_FAILED:
            self._outcomes[job.dispatch.agent_name] = f"the job failed{f': {error}' if error else ''}"
        _log.info(
            "job %s status=%s room=%s agent_name=%s%s",
            job.id,
            status_name(status),
            job.dispatch.room.name,
            job.dispatch.agent_name or "(automatic)",
            f" error={error}" if error else "",
        )
        self._tell_observers(job)

    def _tell_observers(self, job: Job) -> None:
        for observer in list(self._job_observers):
            try:
                observer(job)
            except Exception as error:  # an observer's bug must not stop the server's own bookkeeping
                _log.warning("a job observer failed: %s", error)

    def _remove_agent(self, job: Job) -> None:
        room = self._find_room(job.dispatch.room.name)
        identity = job.proto.state.participant_identity
        participant = room.participants.get(identity) if room is not None else None
        if room is not None and participant is not None:
            self._spawn(room.remove(participant, DisconnectReason.PARTICIPANT_REMOVED, notify=True))

    def _end_dispatch(self, record: DispatchRecord) -> None:
        records = self._dispatches.get(record.room.name, {})
        if records.get(record.id) is record:
            del records[record.id]
            if not records:
                self._dispatches.pop(record.room.name, None)
        if record.task is not None and not record.task.done():
            record.task.cancel()
        for job in record.jobs:
            if job.ended:
                continue
            if job.worker is not None and job.worker.connected:
                job.worker.send(agent_pb.ServerMessage(termination=agent_pb.JobTermination(job_id=job.id)))
            else:
                self._set_status(job, agent_pb.JobStatus.JS_CANCELLED)
