"""How a distributed run ends without losing the conversations still in flight at ``--duration``.

Locust's ``MasterRunner.quit()`` sends its workers ``quit`` and waits half a second for their last
reports. A worker, though, first stops its users within ``--stop-timeout`` (letting a conversation in
flight finish) and only then sends its last report: every conversation that ended in that grace was
lost, and a run whose conversations were all slower than ``--duration`` reported "no conversation
finished" although each one ended (seen on CI: 4 of 4 finished, 0 counted). Here the master waits for
each worker's report of zero users, which a worker sends only once each of its users is done and
its figures are in that same report, and for no longer than the grace plus a report interval.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from locust.runners import MasterRunner

__all__ = ["REPORT_SLACK_S", "quit_master"]

#: Beyond the workers' stop timeout: one of Locust's worker report intervals (3 s) and a margin.
REPORT_SLACK_S: Final = 4.0


def quit_master(runner: MasterRunner, grace_s: float) -> list[str]:
    """Quit ``runner``'s workers and the runner, once each worker reported zero users or after
    ``grace_s`` plus :data:`REPORT_SLACK_S`; the ids of the workers whose last report never came."""
    import gevent
    from locust.rpc import Message

    waiting = {client.id for client in runner.clients.all}

    def on_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
        if data.get("user_count") == 0:
            waiting.discard(client_id)

    events = runner.environment.events
    events.worker_report.add_listener(on_report)  # type: ignore[no-untyped-call]
    try:
        runner.stop(send_stop_to_client=False)
        for client_id in sorted(waiting):
            runner.server.send_to_client(Message("quit", None, client_id))  # type: ignore[no-untyped-call]
        deadline = time.monotonic() + grace_s + REPORT_SLACK_S
        while waiting and time.monotonic() < deadline:
            gevent.sleep(0.1)
    finally:
        events.worker_report.remove_listener(on_report)  # type: ignore[no-untyped-call]
        runner.greenlet.kill(block=True)
    return sorted(waiting)
