"""The Agents UI kit's minimal example (``examples/voice_client.py``) as a user runs it: a real terminal
(tmux), the real demo worker, the real server. No sound card here, so the client's audio engine runs
text-only and the control bar offers only the call; the user types, the agent answers in the kit's
transcript, and the state indicator follows the agent."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_harness import LiveServer
from tests.e2e.scenario_harness import demo_worker, user_env
from tests.e2e.tmux_terminal import TmuxTerminal, tmux_missing
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

AGENT_NAME = "demo-ui-kit"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "voice_client.py"


@pytest.fixture
async def worker(server: LiveServer) -> AsyncIterator[DemoWorker]:
    async with demo_worker(server, AGENT_NAME) as serving:
        yield serving


@pytest.mark.skipif(tmux_missing(), reason="tmux is not installed")
@pytest.mark.usefixtures("worker")
async def test_the_minimal_voice_client_talks_to_the_demo_agent(server: LiveServer, tmp_path: Path) -> None:
    command = [sys.executable, str(EXAMPLE), AGENT_NAME]
    async with TmuxTerminal(tmp_path, user_env(server), command) as terminal:
        screen, a_moment = terminal.screen, terminal.a_moment
        await wait_until(
            lambda: "Listening" in screen(), what="the agent listening", within_s=60, between=a_moment
        )
        assert "End call" in screen()
        terminal.type("hello")
        terminal.press("Enter")
        await wait_until(
            lambda: "how can i help" in screen().lower(),
            what="the agent's answer",
            within_s=40,
            between=a_moment,
        )
        shown = screen()
        assert "You" in shown and "hello" in shown and "Agent" in shown
        assert server.api_secret not in shown
        terminal.press("C-q")
        await wait_until(
            lambda: "Listening" not in screen(), what="the app gone", within_s=20, between=a_moment
        )
