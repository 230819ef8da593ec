"""One asyncio loop per Locust process, in a real OS thread, and greenlets that wait on it cooperatively.

Locust runs its users as gevent greenlets on one thread; the LiveKit rtc SDK and the Session are asyncio.
Running a conversation in a greenlet would mean running an asyncio loop inside gevent's, where any
blocking call of either stalls both. Instead :class:`LoopThread` runs ONE asyncio loop in its own OS
thread for the whole process (every simulated user's conversations are tasks on it, as ``agent-tui test
--jobs N`` runs them), and a greenlet hands it a coroutine with
:func:`asyncio.run_coroutine_threadsafe` and waits on a :class:`gevent.event.AsyncResult`. The loop thread
never touches gevent's objects: when a coroutine ends it queues the outcome and wakes gevent's hub
through an ``async_`` watcher, the one gevent primitive meant to be signalled from another thread; the
hub then settles the waiting greenlets. So a greenlet never blocks the loop and the loop never blocks a
greenlet; a greenlet killed while it waits (Locust stopping a user) cancels its conversation's task.

Locust monkey-patches the standard library with gevent on import unless ``LOCUST_SKIP_MONKEY_PATCH`` is
set. Under that patching an asyncio loop in a second OS thread does not work: its selector becomes
gevent's (a hub of that thread's own, which exits with "LoopExit: This operation would block forever")
and ``asyncio.create_subprocess_exec`` (espeak-ng for ``say``) goes through gevent's ``Popen``, which
fails with "child watchers are only available on the default loop". The loop therefore requires the
unpatched standard library: :func:`require_unpatched` says so in one line instead of hanging.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, Final, TypeVar

import gevent
import gevent.event
import gevent.monkey

__all__ = ["SKIP_PATCH_VARIABLE", "LoopThread", "MonkeyPatchedError", "require_unpatched", "shared_loop"]

T = TypeVar("T")

#: Locust's own switch that turns its gevent monkey-patching off; read when ``locust`` is first imported.
SKIP_PATCH_VARIABLE: Final = "LOCUST_SKIP_MONKEY_PATCH"
#: The modules whose patching breaks an asyncio loop in an OS thread.
_FATAL_PATCHES: Final = ("threading", "select", "selectors", "subprocess")


class MonkeyPatchedError(RuntimeError):
    """gevent has patched the standard library, so no asyncio loop can run in a thread of its own."""


def require_unpatched() -> None:
    """Raise :class:`MonkeyPatchedError` (one line, saying what to set) when gevent patched the modules an
    asyncio loop in a thread needs."""
    patched = [name for name in _FATAL_PATCHES if gevent.monkey.is_module_patched(name)]
    if patched:
        raise MonkeyPatchedError(
            f"gevent has monkey-patched {', '.join(patched)}, which stops the conversations' asyncio loop "
            f"from running in a thread of its own: set {SKIP_PATCH_VARIABLE}=1 in the environment of the "
            "locust process (agent-tui load sets it itself)"
        )


class LoopThread:
    """An asyncio loop running in a daemon OS thread, and a gevent-friendly way to run coroutines on it.

    Create it in the greenlets' thread (its hub is the one woken). :meth:`run` is called from greenlets;
    :meth:`submit` from anywhere, for callers that do not wait cooperatively (tests, the bench)."""

    def __init__(self, name: str = "agent-tui-load-loop") -> None:
        require_unpatched()
        self._hub = gevent.get_hub()
        self._done: collections.deque[tuple[gevent.event.AsyncResult, Future[Any]]] = collections.deque()
        self._waker = self._hub.loop.async_()
        self._waker.start(self._settle)
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), name=name, daemon=True)
        self._thread.start()
        started.wait()  # the loop is about to run: a few microseconds, before any user exists

    # -- the loop's thread ---------------------------------------------------------------------------------
    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(started.set)
        try:
            self.loop.run_forever()
        finally:
            with contextlib.suppress(RuntimeError):
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def _finished(self, result: gevent.event.AsyncResult, future: Future[Any]) -> None:
        """In the loop's thread, or wherever the future completes: queue it and wake the hub."""
        self._done.append((result, future))
        self._waker.send()

    # -- the hub's thread ----------------------------------------------------------------------------------
    def _settle(self) -> None:
        """In the hub: hand every finished outcome to the greenlet waiting for it. A deque's append and
        popleft are atomic, so the loop thread may queue more while this drains."""
        while self._done:
            result, future = self._done.popleft()
            if future.cancelled():
                result.set_exception(asyncio.CancelledError())
            elif (error := future.exception()) is not None:
                result.set_exception(error)
            else:
                result.set(future.result())

    # -- running coroutines --------------------------------------------------------------------------------
    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        """Start ``coroutine`` on the loop; a :class:`concurrent.futures.Future` of its outcome."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """From a greenlet: run ``coroutine`` on the loop and yield to other greenlets until it ends.

        Its exception is raised here. On ``timeout`` (``gevent.Timeout``) or when the greenlet is killed
        the coroutine's task is cancelled (it still cleans up on the loop) and the exception propagates.
        """
        future = self.submit(coroutine)
        result = gevent.event.AsyncResult()
        future.add_done_callback(lambda done: self._finished(result, done))
        try:
            value: T = result.get(timeout=timeout)
        except BaseException:
            future.cancel()
            raise
        return value

    def call(self, function: Callable[[], T], timeout: float | None = None) -> T:
        """From a greenlet: ``function()`` run on the loop's thread (for state only it may touch)."""

        async def call() -> T:
            return function()

        return self.run(call(), timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the loop (its tasks are cancelled and given a chance to clean up) and join the thread."""
        if not self.loop.is_running():
            return

        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.submit(cancel_all()).result(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        self._waker.stop()
        self._waker.close()


def shared_loop() -> LoopThread:
    """The process's one loop thread, started on first use (a forked child starts its own)."""
    return _loop_of(os.getpid())


@functools.cache
def _loop_of(pid: int) -> LoopThread:
    return LoopThread()
