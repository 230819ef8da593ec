"""Waiting on a condition, the one way every test waits: poll it, return the moment it holds, fail
naming what did not happen. A fixed sleep is either too short on a loaded CI machine or wasted time
everywhere else; this is neither."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

#: How often the condition is looked at: often enough that a passing wait costs nothing noticeable.
POLL_S = 0.02


async def wait_until(
    condition: Callable[[], object],
    *,
    what: str = "the condition",
    within_s: float = 10.0,
    between: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Return once ``condition()`` is true; fail (``pytest.fail``) naming ``what`` after ``within_s``.

    ``between`` runs between looks instead of a plain pause — a Textual Pilot's ``pause`` lets the app
    drain its message queue, so the condition sees what the app has done.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {within_s:g}s waiting for {what}")
        if between is not None:
            await between()
            await asyncio.sleep(0.005)  # and a thread the app waits on gets its turn
        else:
            await asyncio.sleep(POLL_S)
