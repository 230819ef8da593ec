"""LiveKit's JS SDK as a participant in a test: ``tests/browser/driver.mjs`` in Debian's Chromium.

``async with BrowserClient.open() as browser:`` starts the driver (Node.js, playwright-core, Chromium
headless with no background networking, a fresh profile and a fake microphone); ``await browser.call(
"connect", url, token)`` runs ``window.lk.connect(url, token)`` in the page and returns its result, or
raises :class:`BrowserError` with the JS error's name, message and ``ConnectionErrorReason``; room events
arrive in :attr:`events`, and :meth:`wait_for` waits for one. Where Node, Chromium or the npm packages are
missing the test skips with the reason (on CI it fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.e2e_harness import cannot_run

BROWSER_DIR = Path(__file__).resolve().parents[1] / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class BrowserError(Exception):
    """A JS error thrown by the SDK in the page: ``name``, ``message``, ``reason_name``, ``status``."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('name')}: {error.get('message')}")
        self.name = str(error.get("name"))
        self.message = str(error.get("message"))
        self.reason_name = error.get("reasonName")
        self.status = error.get("status")


def browser_problem() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed (the browser tests drive Chromium with playwright-core)"
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium; make test does)"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "the browser tests' npm packages are missing: run 'npm ci' in tests/browser (make test does)"
    return None


def require_browser() -> None:
    problem = browser_problem()
    if problem is None:
        return
    cannot_run(problem, which="the browser tests")


class BrowserClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls) -> AsyncIterator[BrowserClient]:
        require_browser()
        process = await asyncio.create_subprocess_exec(
            "node", str(BROWSER_DIR / "driver.mjs"),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=BROWSER_DIR, env={**os.environ, "CHROMIUM": CHROMIUM},
        )  # fmt: skip
        client = cls(process)
        try:
            ready = asyncio.ensure_future(client._ready.wait())
            exited = asyncio.ensure_future(process.wait())
            await asyncio.wait({ready, exited}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
            for task in (ready, exited):
                task.cancel()
            if not client._ready.is_set():
                assert process.stderr is not None
                if process.returncode is None:
                    process.kill()
                said = (await process.stderr.read()).decode(errors="replace").strip().splitlines()[-8:]
                pytest.fail(f"the browser driver did not start: {' | '.join(said)}", pytrace=False)
            yield client
        finally:
            await client.close()

    async def call(self, op: str, *args: Any, within_s: float = 30.0) -> Any:
        """``window.lk[op](*args)`` in the page; its result, or :class:`BrowserError`."""
        assert self._process.stdin is not None
        self._next_id += 1
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._answers[self._next_id] = answer
        self._process.stdin.write(
            json.dumps({"id": self._next_id, "op": op, "args": list(args)}).encode() + b"\n"
        )
        await self._process.stdin.drain()
        reply = await asyncio.wait_for(answer, within_s)
        if not reply["ok"]:
            raise BrowserError(reply["error"])
        return reply.get("result")

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], *, what: str, within_s: float = 20.0
    ) -> dict[str, Any]:
        """The first room event (so far or to come) for which ``predicate`` holds."""
        deadline = asyncio.get_running_loop().time() + within_s
        while True:
            for event in self.events:
                if predicate(event):
                    return event
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                pytest.fail(
                    f"timed out after {within_s:g}s waiting for {what}; browser events: {self.events[-10:]}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def close(self) -> None:
        if self._process.returncode is None:
            with contextlib.suppress(Exception):
                await self.call("disconnect", within_s=5)
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        assert self._process.stdout is not None
        async for raw in self._process.stdout:
            line = json.loads(raw)
            if line.get("ready"):
                self._ready.set()
            elif "event" in line:
                self.events.append(line["event"])
                self._changed.set()
            elif "id" in line and (answer := self._answers.pop(line["id"], None)) and not answer.done():
                answer.set_result(line)
