"""One automatic second dispatch of the demo agent when its first job fails or its agent never comes.

A first ``agent-tui demo`` on a fresh machine once saw the worker take the job and its agent never join
the room (the job process was killed while loading under load; fixed at the cause in the worker, see
:mod:`agent_tui.demo.worker`). The demo holds the dev server in its own process, so it can see that
happen and do what a user would do with Retry, once and sooner: end the stuck dispatch and dispatch the
agent again, as a client could through the AgentDispatchService. Only the embedded dev server is
watched this way; livekit-server keeps its own counsel, and its log says what it did.

Rules (unit-tested in ``tests/unit/demo/test_demo_dispatch_retry.py``):

- a job of the demo's agent that ends failed before its agent joined is retried at once;
- a job that was assigned and whose agent is not in the room :data:`RETRY_AFTER_S` seconds later is
  ended and retried;
- at most one retry per room, so a worker that cannot run the agent at all fails in one more step
  instead of looping; the demo says when it retries, and the "did not join" explanation stays as it is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from livekit.protocol import agent as agent_pb

if TYPE_CHECKING:
    from agent_tui.devserver.dispatch import Dispatcher, Job

_log = logging.getLogger(__name__)

#: How long a taken job's agent may take to join before the dispatch is made again. The worker keeps an
#: idle process ready, so a healthy job's agent joins within a second or two even on a busy machine; the
#: client waits 20 s by default, which leaves the second job most of its own time.
RETRY_AFTER_S: Final = 8.0


class DispatchRetry:
    """Watches ``dispatcher``'s jobs for ``agent_name`` and makes one more dispatch per room when needed."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        agent_name: str,
        *,
        on_retry: Callable[[str], None],
        after_s: float = RETRY_AFTER_S,
    ) -> None:
        self._dispatcher = dispatcher
        self._agent_name = agent_name
        self._on_retry = on_retry
        self._after_s = after_s
        self._retried_rooms: set[str] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._stop_observing: Callable[[], None] | None = None

    def start(self) -> None:
        self._stop_observing = self._dispatcher.observe_jobs(self._job_changed)

    def close(self) -> None:
        if self._stop_observing is not None:
            self._stop_observing()
            self._stop_observing = None
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # ------------------------------------------------------------------------------------------------
    def _job_changed(self, job: Job) -> None:
        if job.dispatch.agent_name != self._agent_name:
            return
        status = job.proto.state.status
        if status == agent_pb.JobStatus.JS_FAILED:
            self._cancel_timer(job)
            if not self._agent_present(job):
                self._retry(job, f"its job failed ({job.proto.state.error or 'no reason given'})")
        elif job.ended:
            self._cancel_timer(job)
        elif job.worker is not None and job.id not in self._timers:
            # Assigned (or a later status of an assigned job): give its agent time to join.
            loop = asyncio.get_running_loop()
            self._timers[job.id] = loop.call_later(self._after_s, self._check_joined, job)

    def _check_joined(self, job: Job) -> None:
        self._timers.pop(job.id, None)
        if job.ended or self._agent_present(job):
            return
        self._retry(job, f"its agent did not join within {self._after_s:g} s of the worker taking the job")

    def _retry(self, job: Job, why: str) -> None:
        record = job.dispatch
        room = record.room
        still_wanted = any(d.id == record.id for d in self._dispatcher.list(room.name))
        if room.name in self._retried_rooms or not still_wanted:  # retried, or the room is gone
            return
        self._retried_rooms.add(room.name)
        self._on_retry(f"the demo agent did not come: {why}; dispatching it once more")
        _log.info("redispatching agent_name=%s room=%s: %s", record.agent_name, room.name, why)
        # End the stuck dispatch first (its job is told to stop, so two agents never meet in the room).
        self._dispatcher.delete(room.name, record.id)
        self._dispatcher.dispatch(
            room, record.agent_name, metadata=record.metadata, attributes=record.attributes
        )

    def _agent_present(self, job: Job) -> bool:
        identity = job.proto.state.participant_identity
        return bool(identity) and identity in job.dispatch.room.participants

    def _cancel_timer(self, job: Job) -> None:
        timer = self._timers.pop(job.id, None)
        if timer is not None:
            timer.cancel()
