"""Waiting on a condition in Pilot tests, instead of a fixed number of fixed pauses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

#: Long enough for a worker's thread hop on a loaded CI machine; a passing wait returns at once.
LIMIT = 5.0


async def wait_until(pilot: Any, condition: Callable[[], object], *, limit: float = LIMIT) -> None:
    """Let the app run (its messages, workers and timers) until ``condition()`` is true; fail after
    ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"the condition was still false after {limit} s")
        await pilot.pause()  # the app's queue runs dry
        await asyncio.sleep(0.005)  # and a thread it is waiting on gets its turn
