"""The background tasks one audio part owns (the engine, the session bridge, the pipelines).

Each part keeps a strong reference to the tasks it started (the loop only keeps weak ones), logs the failure
of any of them (a task's exception must not vanish with the task) and cancels them all when it closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class AudioTasks:
    """A set of running tasks, failures logged on ``log``; single-threaded (the event loop's)."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], *, name: str | None = None
    ) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def cancel(self) -> list[asyncio.Task[Any]]:
        """Cancel every task still running; returns them, for the caller to await."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks

    async def aclose(self) -> None:
        """Cancel every task and wait until they have all finished."""
        await asyncio.gather(*self.cancel(), return_exceptions=True)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("audio task failed", exc_info=task.exception())
