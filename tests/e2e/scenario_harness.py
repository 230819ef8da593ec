"""Helpers of the scenario e2e tests that run ``agent-tui`` (or pytest) as a user would, against a test
server and the demo worker: the user's environment and the child process with a time limit."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_harness import LiveServer

AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))


def user_env(server: LiveServer | None = None) -> dict[str, str]:
    """A user with no agent-tui settings and no config file; with ``server``'s URL and key pair in the
    environment (``LIVEKIT_*``) when given, else no LiveKit server of their own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(AGENT_TUI_CONFIG="/dev/null")
    if server is not None:
        env.update(
            LIVEKIT_URL=server.url, LIVEKIT_API_KEY=server.api_key, LIVEKIT_API_SECRET=server.api_secret
        )
    return env


async def run_agent_tui(*args: str, env: dict[str, str], within_s: float) -> tuple[int, str, str]:
    """Run ``agent-tui ARGS``; its exit code, stdout and stderr (killed after ``within_s``)."""
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), within_s)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def demo_worker(server: LiveServer, agent_name: str) -> DemoWorker:
    """The demo worker (no greeting) registered with ``server`` as ``agent_name``; ``async with`` it."""
    return DemoWorker(server.url, agent_name, api_key=server.api_key, api_secret=server.api_secret)
