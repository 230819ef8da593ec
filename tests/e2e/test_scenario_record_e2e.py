"""``--record-scenario`` end to end: a headless conversation with the real demo worker is recorded as a
scenario file (the typed question as a ``send`` step, the answer's words and the ``get_time`` call as
expectations), and ``agent-tui test`` replays that file in a new room, and it passes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from agent_tui.scenario.parser import parse_scenario_text
from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_harness import LiveServer

pytestmark = [pytest.mark.e2e]

AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))
AGENT_NAME = "demo-record"


@pytest.fixture
async def worker(server: LiveServer) -> AsyncIterator[DemoWorker]:
    async with DemoWorker(
        server.url, AGENT_NAME, api_key=server.api_key, api_secret=server.api_secret
    ) as demo_worker:
        yield demo_worker


async def agent_tui(server: LiveServer, *args: str, within_s: float) -> tuple[int, str, str]:
    """Run ``agent-tui ARGS`` as a user with the server in the environment and no config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(
        LIVEKIT_URL=server.url,
        LIVEKIT_API_KEY=server.api_key,
        LIVEKIT_API_SECRET=server.api_secret,
        AGENT_TUI_CONFIG="/dev/null",
    )
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


@pytest.mark.timeout(150)
@pytest.mark.usefixtures("worker")
async def test_a_recorded_headless_conversation_replays_as_a_passing_scenario(
    server: LiveServer, tmp_path: Path
) -> None:
    recorded = tmp_path / "time.scenario.toml"
    code, out, err = await agent_tui(
        server,
        "--no-ui",
        "--no-audio",
        "--agent",
        AGENT_NAME,
        "--agent-timeout",
        "45",
        "--send",
        "what time is it",
        "--record-scenario",
        str(recorded),
        within_s=70,
    )
    assert code == 0, f"{out}\n{err}"
    assert "The time is" in out
    text = recorded.read_text(encoding="utf-8")
    [scenario] = parse_scenario_text(text, recorded)
    assert scenario.agent == AGENT_NAME
    [step] = scenario.steps
    assert (step.action, step.argument) == ("send", "what time is it")
    assert step.expect.tool == "get_time"
    assert step.expect.reply is not None and step.expect.reply.lower() in "the time is"
    assert "# the agent answered: The time is" in text
    assert server.api_secret not in text and server.url not in text

    code, out, err = await agent_tui(server, "test", str(recorded), within_s=70)
    assert code == 0, f"{out}\n{err}"
