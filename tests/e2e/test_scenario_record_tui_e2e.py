"""``--record-scenario`` from the terminal UI: ``agent-tui`` in a real terminal (tmux) talks to the real
demo worker — the user types the time question, the agent answers after its ``get_time`` call, the user
quits — and the file written on the way out holds that conversation as a scenario the parser reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from agent_tui.scenario.parser import parse_scenario_text
from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_harness import LiveServer
from tests.e2e.scenario_harness import AGENT_TUI, demo_worker, user_env
from tests.e2e.tmux_terminal import TmuxTerminal, tmux_missing
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

AGENT_NAME = "demo-record-tui"


@pytest.fixture
async def worker(server: LiveServer) -> AsyncIterator[DemoWorker]:
    async with demo_worker(server, AGENT_NAME) as serving:
        yield serving


@pytest.mark.skipif(tmux_missing(), reason="tmux is not installed")
@pytest.mark.usefixtures("worker")
async def test_the_terminal_ui_records_the_conversation_when_it_ends(
    server: LiveServer, tmp_path: Path
) -> None:
    recorded = tmp_path / "tui.scenario.toml"
    client = [AGENT_TUI, "--text-only", "--agent", AGENT_NAME, "--agent-timeout", "45"]
    command = [*client, "--record-scenario", str(recorded)]
    async with TmuxTerminal(tmp_path, user_env(server), command) as terminal:
        screen, a_moment = terminal.screen, terminal.a_moment
        await wait_until(
            lambda: "Listening" in screen(), what="the agent listening", within_s=60, between=a_moment
        )
        terminal.type("what time is it")
        terminal.press("Enter")
        await wait_until(lambda: "The time is" in screen(), what="the answer", within_s=30, between=a_moment)
        await wait_until(
            lambda: "Listening" in screen(), what="the agent done answering", within_s=30, between=a_moment
        )
        assert not recorded.exists()  # written when the conversation ends, not before
        terminal.press("C-q")
        await wait_until(recorded.exists, what="the scenario file", within_s=20, between=a_moment)
    text = recorded.read_text(encoding="utf-8")
    [scenario] = parse_scenario_text(text, recorded)
    assert scenario.agent == AGENT_NAME
    [step] = scenario.steps
    assert (step.action, step.argument, step.expect.tool) == ("send", "what time is it", "get_time")
    assert step.expect.reply is not None and step.expect.reply.lower() in "the time is"
    assert server.api_secret not in text
