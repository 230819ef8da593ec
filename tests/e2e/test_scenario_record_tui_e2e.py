"""``--record-scenario`` from the terminal UI: ``agent-tui`` in a real terminal (tmux) talks to the real
demo worker — the user types the time question, the agent answers after its ``get_time`` call, the user
quits — and the file written on the way out holds that conversation as a scenario the parser reads."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from agent_tui.scenario.parser import parse_scenario_text
from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_harness import LiveServer
from tests.e2e.scenario_harness import AGENT_TUI, demo_worker, user_env
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

AGENT_NAME = "demo-record-tui"


@pytest.fixture
async def worker(server: LiveServer) -> AsyncIterator[DemoWorker]:
    async with demo_worker(server, AGENT_NAME) as serving:
        yield serving


def tmux(server: str, *args: str) -> str:
    """A tmux command on a tmux server of the test's own (``-L``), started without a config file."""
    return subprocess.run(
        ["tmux", "-L", server, *args], check=True, capture_output=True, text=True, timeout=10
    ).stdout


def launcher(tmp_path: Path, server: LiveServer, recorded: Path) -> Path:
    """A script that runs the client with the server's key pair in its environment (never on a command
    line, where ``ps`` shows it), then keeps the pane open."""
    env = user_env(server)
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in sorted(env.items()))
    script = tmp_path / "run-client.sh"
    client = [AGENT_TUI, "--text-only", "--agent", AGENT_NAME, "--agent-timeout", "45"]
    script.write_text(
        "#!/bin/sh\n"
        + exports
        + "unset COLUMNS LINES\n"  # the app would take the size from them instead of the terminal
        + f"{shlex.join([*client, '--record-scenario', str(recorded)])}\n"
        + "sleep 30\n",
        encoding="utf-8",
    )
    script.chmod(0o700)
    return script


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.usefixtures("worker")
async def test_the_terminal_ui_records_the_conversation_when_it_ends(
    server: LiveServer, tmp_path: Path
) -> None:
    recorded = tmp_path / "tui.scenario.toml"
    session = f"agent-tui-record-{uuid.uuid4().hex[:6]}"

    def screen() -> str:
        return tmux(session, "capture-pane", "-p", "-t", session)

    async def a_moment() -> None:
        await asyncio.sleep(0.2)  # capture-pane is a process: look five times a second, not fifty

    tmux(session, "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "120", "-y", "40")
    try:
        tmux(session, "set-option", "-t", session, "remain-on-exit", "on")
        tmux(session, "respawn-pane", "-k", "-t", session, str(launcher(tmp_path, server, recorded)))
        await wait_until(
            lambda: "Listening" in screen(), what="the agent listening", within_s=60, between=a_moment
        )
        tmux(session, "send-keys", "-t", session, "-l", "what time is it")
        tmux(session, "send-keys", "-t", session, "Enter")
        await wait_until(lambda: "The time is" in screen(), what="the answer", within_s=30, between=a_moment)
        await wait_until(
            lambda: "Listening" in screen(), what="the agent done answering", within_s=30, between=a_moment
        )
        assert not recorded.exists()  # written when the conversation ends, not before
        tmux(session, "send-keys", "-t", session, "C-q")
        await wait_until(recorded.exists, what="the scenario file", within_s=20, between=a_moment)
    finally:
        kill = ["tmux", "-L", session, "kill-server"]
        await asyncio.to_thread(subprocess.run, kill, check=False, capture_output=True, timeout=10)
    text = recorded.read_text(encoding="utf-8")
    [scenario] = parse_scenario_text(text, recorded)
    assert scenario.agent == AGENT_NAME
    [step] = scenario.steps
    assert (step.action, step.argument, step.expect.tool) == ("send", "what time is it", "get_time")
    assert step.expect.reply is not None and step.expect.reply.lower() in "the time is"
    assert server.api_secret not in text
