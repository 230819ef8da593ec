"""The gevent/asyncio bridge: greenlets wait on the loop thread cooperatively and never stall it.

The loop-lag probe is a task on the bridge's loop that sleeps 10 ms at a time and records how late it
wakes; the greenlet-side probe does the same with ``gevent.sleep``. With 200 greenlets waiting on
conversations-like coroutines, and even a greenlet that computes for 300 ms without yielding, both stay
on time, so neither side blocks the other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import gevent
import pytest

from agent_tui.load.bridge import LoopThread, MonkeyPatchedError, require_unpatched

pytestmark = pytest.mark.timeout(30)

TICK = 0.01


@pytest.fixture
def bridge() -> Iterator[LoopThread]:
    thread = LoopThread(name="test-bridge")
    yield thread
    thread.close()


async def _lag_probe(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(TICK)
        lags.append(loop.time() - before - TICK)


def _greenlet_probe(lags: list[float], until: list[bool]) -> None:
    while not until:
        before = time.monotonic()
        gevent.sleep(TICK)
        lags.append(time.monotonic() - before - TICK)


def test_many_waiting_greenlets_leave_the_loop_responsive(bridge: LoopThread) -> None:
    loop_lags: list[float] = []
    hub_lags: list[float] = []
    stop = bridge.call(asyncio.Event)
    probe = bridge.submit(_lag_probe(loop_lags, stop))
    done: list[bool] = []
    hub_probe = gevent.spawn(_greenlet_probe, hub_lags, done)

    async def conversation(number: int) -> int:
        for _ in range(20):  # 20 awaits spread over ~0.5 s, like a session's many small events
            await asyncio.sleep(0.025)
        return number

    def user(number: int) -> int:
        return bridge.run(conversation(number), timeout=10)

    began = time.monotonic()
    users = [gevent.spawn(user, number) for number in range(200)]
    gevent.sleep(0.1)
    busy_until = time.monotonic() + 0.3
    while time.monotonic() < busy_until:  # a greenlet that never yields for 300 ms
        pass
    gevent.joinall(users, timeout=10, raise_error=True)
    elapsed = time.monotonic() - began
    done.append(True)
    hub_probe.join(2)
    bridge.loop.call_soon_threadsafe(stop.set)
    probe.result(2)

    assert sorted(user.value for user in users) == list(range(200))
    assert elapsed < 3.0, f"200 users of 0.5 s each took {elapsed:.2f} s: they did not wait concurrently"
    assert len(loop_lags) > 30
    # The busy greenlet holds the GIL, not the loop's thread: the interpreter switches every 5 ms.
    assert max(loop_lags) < 0.1, f"the loop stalled for {max(loop_lags) * 1000:.0f} ms"
    assert sorted(hub_lags)[len(hub_lags) // 2] < 0.02, "greenlets were starved while users waited"


def test_the_coroutines_exception_is_raised_in_the_greenlet(bridge: LoopThread) -> None:
    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("agent said no")

    with pytest.raises(ValueError, match="agent said no"):
        gevent.spawn(bridge.run, fails()).get(timeout=5)


def test_a_killed_greenlet_cancels_its_conversation(bridge: LoopThread) -> None:
    started = bridge.call(asyncio.Event)
    cancelled: list[bool] = []

    async def long_call() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    waiter = gevent.spawn(bridge.run, long_call())
    while not bridge.call(started.is_set):
        gevent.sleep(TICK)
    waiter.kill(block=True, timeout=5)
    deadline = time.monotonic() + 5
    while not cancelled and time.monotonic() < deadline:
        gevent.sleep(TICK)
    assert cancelled == [True]


def test_a_timeout_cancels_the_coroutine_and_raises_gevents_timeout(bridge: LoopThread) -> None:
    with pytest.raises(gevent.Timeout):
        gevent.spawn(bridge.run, asyncio.sleep(60), 0.05).get(timeout=5)


def test_monkey_patching_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gevent.monkey, "is_module_patched", lambda name: name == "threading")
    with pytest.raises(MonkeyPatchedError, match="LOCUST_SKIP_MONKEY_PATCH=1") as error:
        require_unpatched()
    assert "\n" not in str(error.value)
