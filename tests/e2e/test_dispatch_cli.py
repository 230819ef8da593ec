"""Three real processes, as a user runs them: ``agent-tui dev-server``, the demo worker, and the headless
client ``agent-tui --no-ui --json --agent NAME --send hello`` with a token minted locally from
``LIVEKIT_API_KEY``/``LIVEKIT_API_SECRET``. The client exits 0 with the worker's reply, and the server
logs the worker registration, the dispatch and the job's status changes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from agent_tui.demo.responder import HELLO_REPLY_TEXT
from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET
from tests.e2e.demo_worker_process import DemoWorker

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))
AGENT_NAME = "demo-cli"


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(AGENT_TUI_CONFIG="/dev/null", PYTHONUNBUFFERED="1")
    return env


async def read_lines(stream: asyncio.StreamReader, into: list[str]) -> None:
    async for raw in stream:
        into.append(raw.decode(errors="replace").rstrip())


async def test_headless_client_gets_the_dispatched_workers_reply_and_the_server_logs_it() -> None:
    server = await asyncio.create_subprocess_exec(
        AGENT_TUI, "dev-server", "--port", "0",
        env=clean_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert server.stdout is not None and server.stderr is not None
    logged: list[str] = []
    log_reader = asyncio.create_task(read_lines(server.stderr, logged))
    worker: DemoWorker | None = None
    try:
        banner = ""
        while "Press Ctrl+C" not in banner:
            line = await asyncio.wait_for(server.stdout.readline(), timeout=30)
            assert line, f"the dev server exited early: {banner!r} {logged}"
            banner += line.decode()
        match = re.search(r"listening on (ws://127\.0\.0\.1:\d+)", banner)
        assert match is not None, banner
        url = match.group(1)

        worker = DemoWorker(url, AGENT_NAME)
        await worker.start()

        client = await asyncio.create_subprocess_exec(
            AGENT_TUI, "--no-ui", "--json", "--url", url, "--agent", AGENT_NAME, "--send", "hello",
            env={**clean_env(), "LIVEKIT_API_KEY": DEFAULT_API_KEY, "LIVEKIT_API_SECRET": DEFAULT_API_SECRET},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(client.communicate(), timeout=90)
        finally:
            if client.returncode is None:
                client.kill()
                await client.wait()
        assert client.returncode == 0, err.decode()
        records = [json.loads(line) for line in out.decode().splitlines()]
        messages = [(r["speaker"], r["text"]) for r in records if r["type"] == "message"]
        assert ("user", "hello") in messages
        assert ("agent", HELLO_REPLY_TEXT) in messages
        assert records[-1]["type"] == "end" and records[-1]["exit_code"] == 0
        assert DEFAULT_API_SECRET not in (out + err).decode()

        log = "\n".join(logged)
        assert f"worker registered agent_name={AGENT_NAME} id={worker.worker_id}" in log, log
        assert re.search(rf"dispatch room=\S+ agent_name={AGENT_NAME} id=AD_\w+", log), log
        assert re.search(
            rf"job assigned id=AJ_\w+ room=\S+ agent_name={AGENT_NAME} worker={worker.worker_id}", log
        )
        assert re.search(rf"job AJ_\w+ status=JS_RUNNING room=\S+ agent_name={AGENT_NAME}", log), log
    finally:
        if worker is not None:
            await worker.stop()
        if server.returncode is None:
            server.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(server.wait(), timeout=15)
            except TimeoutError:
                server.kill()
                await server.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(log_reader, timeout=5)
    assert server.returncode == 0
