"""The pytest plugin end to end: a pytest run (pytester, in a child process) collects two text scenarios
and runs them through real rooms against the real demo worker — one passes (the time asked by chat,
answered after a ``get_time`` call), one fails, and its report says expected vs got for each miss."""

from __future__ import annotations

import asyncio
import os
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_harness import LiveServer
from tests.e2e.scenario_harness import demo_worker, user_env

pytest_plugins = ["pytester"]
pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "agent_tui.scenario.pytest_plugin"
AGENT_NAME = "demo-pytest-plugin"

SCENARIOS = f"""\
version = 1

[defaults]
agent = "{AGENT_NAME}"

[[scenario]]
name = "tells the time by chat"

  [[scenario.step]]
  send = "what time is it"
    [scenario.step.expect]
    reply = "the time is"
    tool = "get_time"

[[scenario]]
name = "expects the wrong answer"

  [[scenario.step]]
  send = "what time is it"
    [scenario.step.expect]
    reply = "it is raining"
    tool = "get_weather"
"""


@pytest.fixture
async def worker(server: LiveServer) -> AsyncIterator[DemoWorker]:
    async with demo_worker(server, AGENT_NAME) as serving:
        yield serving


def plugin_args() -> list[str]:
    """``-p`` the plugin unless its entry point is installed (pytest then loads it by itself)."""
    installed = any(entry.value == PLUGIN for entry in entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN]


@pytest.mark.timeout(150)
@pytest.mark.usefixtures("worker")
async def test_pytest_runs_scenario_files_as_tests_against_the_demo_agent(
    server: LiveServer, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makefile(".scenario.toml", time=SCENARIOS)
    # The child inherits this environment: the user's, with the server, and the checkout on the path.
    env = user_env(server)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    junit = pytester.path / "junit.xml"
    # In a thread: the dev server serves the child from this test's event loop.
    result = await asyncio.to_thread(
        pytester.runpytest_subprocess,
        *plugin_args(),
        "--agent-tui-scenarios",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        timeout=130,
    )
    output = result.stdout.str()
    result.assert_outcomes(passed=1, failed=1)
    assert "time.scenario.toml::tells the time by chat PASSED" in output or "1 passed" in output
    report = output.split("_ scenario: expects the wrong answer _", 1)[1].split("=====", 1)[0]
    assert 'step 1 (send "what time is it"):' in report
    assert "reply: expected" in report and "it is raining" in report and "The time is" in report
    assert "tool: expected" in report and "get_weather" in report
    assert "Traceback" not in report

    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {"tells the time by chat", "expects the wrong answer"}
    assert cases["tells the time by chat"].find("failure") is None
    assert cases["expects the wrong answer"].find("failure") is not None
    properties = {p.get("name"): p.get("value") for p in cases["tells the time by chat"].iter("property")}
    assert properties["room"], properties
