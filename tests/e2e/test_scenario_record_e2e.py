"""``--record-scenario`` end to end: a headless conversation with the real demo worker is recorded as a
scenario file (the typed question as a ``send`` step, the answer's words and the ``get_time`` call as
expectations), and ``agent-tui test`` replays that file in a new room, and it passes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from agent_tui.scenario.parser import parse_scenario_text
from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_harness import LiveServer
from tests.e2e.scenario_harness import demo_worker, run_agent_tui, user_env

pytestmark = [pytest.mark.e2e]

AGENT_NAME = "demo-record"


@pytest.fixture
async def worker(server: LiveServer) -> AsyncIterator[DemoWorker]:
    async with demo_worker(server, AGENT_NAME) as serving:
        yield serving


@pytest.mark.timeout(150)
@pytest.mark.usefixtures("worker")
async def test_a_recorded_headless_conversation_replays_as_a_passing_scenario(
    server: LiveServer, tmp_path: Path
) -> None:
    recorded = tmp_path / "time.scenario.toml"
    env = user_env(server)
    code, out, err = await run_agent_tui(
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
        env=env,
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

    code, out, err = await run_agent_tui("test", str(recorded), env=env, within_s=70)
    assert code == 0, f"{out}\n{err}"
