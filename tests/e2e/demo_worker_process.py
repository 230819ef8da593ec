"""The project's demo agent as a real livekit-agents worker process, for the dispatch tests.

``python -m agent_tui.demo start`` registers with the server named by ``LIVEKIT_URL`` and serves jobs
with local speech (pocketsphinx, espeak-ng) and a rule-based LLM, so nothing leaves the machine. The
worker starts job processes of its own; it runs in a new session (process group) so that cleanup can
end all of them, even after the test killed the worker itself to simulate a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Sequence

from agent_tui import demo
from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET

# Imports, model loading and the first idle job process take about 3-5 s on a 2-core machine.
REGISTER_WITHIN_S = 60.0


class DemoWorker:
    """One demo worker process registered under ``agent_name``; see the module docstring."""

    def __init__(
        self,
        url: str,
        agent_name: str,
        *,
        extra_args: Sequence[str] = ("--no-greeting",),
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
    ) -> None:
        self.url = url
        self.api_key = api_key
        self.api_secret = api_secret
        self.agent_name = agent_name
        self.extra_args = list(extra_args)
        self.lines: list[str] = []
        self.worker_id: str | None = None
        self.registered_after_s: float | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> DemoWorker:
        """``async with DemoWorker(...) as worker``: started (registered) inside, stopped on the way out."""
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    @property
    def pid(self) -> int:
        """The worker's process id (also its process group id)."""
        assert self._process is not None
        return self._process.pid

    async def start(self) -> str:
        """Start the worker and wait until the server accepted its registration; returns its id."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AGENT_TUI_DEMO_", "LIVEKIT_"))
            and k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY")
        }
        env.update(
            LIVEKIT_URL=self.url,
            LIVEKIT_API_KEY=self.api_key,
            LIVEKIT_API_SECRET=self.api_secret,
            PYTHONUNBUFFERED="1",
        )
        argv = demo.worker_command(agent_name=self.agent_name, extra_args=self.extra_args)
        started = time.monotonic()
        self._process = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=REGISTER_WITHIN_S)
        except TimeoutError:
            raise AssertionError(f"the demo worker did not register: {self.output()}") from None
        self.registered_after_s = time.monotonic() - started
        assert self.worker_id is not None, self.output()
        return self.worker_id

    def crash(self) -> None:
        """SIGKILL the worker process alone, as a crash would (its job processes are left behind)."""
        assert self._process is not None
        self._process.kill()

    async def stop(self) -> None:
        """End the worker and everything it started: SIGTERM, then SIGKILL for whatever remains."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), timeout=10)
        # Job processes of a worker that was killed, or that did not drain in time.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.returncode is None:
            await process.wait()
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reader, timeout=5)

    def output(self) -> str:
        """What the worker printed so far (for failure messages)."""
        return "\n".join(self.lines[-60:])

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for raw in self._process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            ready = demo.parse_ready_line(line)
            if ready is not None and ready[0] == self.agent_name:
                self.worker_id = ready[1]
                self._ready.set()
