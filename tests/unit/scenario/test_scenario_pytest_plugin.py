"""The pytest plugin, run by pytester: what it collects (and only when asked), a bad file as one line,
a configuration problem as one line, and the failure report. Running scenarios against a live agent is
in tests/e2e/test_scenario_pytest_plugin_e2e.py."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from agent_tui.scenario.pytest_plugin import failure_report
from agent_tui.scenario.results import Failure, ScenarioResult, StepResult

pytest_plugins = ["pytester"]

PLUGIN = "agent_tui.scenario.pytest_plugin"
PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"

TIME = """\
version = 1

[[scenario]]
name = "asks the time"
agent = "demo"
tags = ["text"]

  [[scenario.step]]
  send = "what time is it"
    [scenario.step.expect]
    reply = "time"
    tool = "get_time"

[[scenario]]
name = "greets"

  [[scenario.step]]
  send = "hello"
"""

VOICE = """\
version = 1

[[scenario]]
name = "by voice"
voice = "en-us+f3"
tags = ["voice"]

  [[scenario.step]]
  say = "what time is it"
  timeout = 30
"""

BAD = """\
version = 1

[[scenario]]
name = "typo"

  [[scenario.step]]
  send = "hello"
    [scenario.step.expect]
    reply_regex = "hi"
"""


def plugin_args() -> list[str]:
    """``-p`` the plugin unless its entry point is installed (then pytest loads it by itself; this module
    imported it first, so it cannot be rewritten, which is fine); and not the SVG snapshot plugin, whose
    session-wide temporary folder an inner pytest run would remove."""
    installed = any(entry.value == PLUGIN for entry in entry_points(group="pytest11"))
    quiet = [
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    ]
    return ["-p", "no:textual-snapshot", *quiet] + ([] if installed else ["-p", PLUGIN])


@pytest.fixture
def sample(pytester: pytest.Pytester) -> pytest.Pytester:
    """A folder with two scenario files (one nested) and a TOML file that is not a scenario."""
    pytester.makefile(".scenario.toml", **{"checks/time": TIME, "checks/deeper/voice": VOICE})
    pytester.makefile(".toml", notes='title = "not a scenario"')
    return pytester


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_the_entry_point_names_the_plugin() -> None:
    entry = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["entry-points"]["pytest11"]
    assert entry == {"agent_tui": PLUGIN}


def test_the_option_collects_one_item_per_scenario(sample: pytest.Pytester) -> None:
    result = sample.runpytest(*plugin_args(), "--agent-tui-scenarios", "--collect-only", "-q")
    assert collected(result) == [
        "checks/deeper/voice.scenario.toml::by voice",
        "checks/time.scenario.toml::asks the time",
        "checks/time.scenario.toml::greets",
    ]
    assert result.ret == pytest.ExitCode.OK


def test_the_ini_setting_collects_too_and_k_selects_by_tag(sample: pytest.Pytester) -> None:
    sample.makeini("[pytest]\nagent_tui_scenarios = true\n")
    result = sample.runpytest(*plugin_args(), "--collect-only", "-q", "-k", "text or voice")
    assert collected(result) == [
        "checks/deeper/voice.scenario.toml::by voice",
        "checks/time.scenario.toml::asks the time",
    ]


def test_help_names_the_options_and_the_ini_setting(pytester: pytest.Pytester) -> None:
    help_text = pytester.runpytest(*plugin_args(), "--help").stdout.str()
    for name in ("--agent-tui-scenarios", "--agent-tui-timeout=SECONDS", "agent_tui_scenarios (bool)"):
        assert name in help_text


def test_nothing_is_collected_without_opting_in(sample: pytest.Pytester) -> None:
    result = sample.runpytest(*plugin_args(), "--collect-only", "-q")
    assert collected(result) == []
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_bad_file_is_a_collection_error_of_one_line(sample: pytest.Pytester) -> None:
    bad = sample.makefile(".scenario.toml", bad=BAD)
    result = sample.runpytest(*plugin_args(), "--agent-tui-scenarios", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest stops on collection errors
    lines = result.outlines
    header = next(i for i, line in enumerate(lines) if "ERROR collecting bad.scenario.toml" in line)
    body = lines[header + 1 : next(i for i in range(header + 1, len(lines)) if lines[i].startswith("="))]
    assert body == [
        f"{bad}:9: key 'scenario[1].step[1].expect.reply_regex': unknown key (known: reply, reply_matches, "
        + body[0].split("(known: reply, reply_matches, ", 1)[1]
    ]
    assert "Traceback" not in result.stdout.str()
    # The good files are still collected and named.
    assert "checks/time.scenario.toml::greets" in collected(result)


def test_a_configuration_problem_fails_each_item_with_its_one_line(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = sample.path / "agent-tui.toml"
    config.write_text('colour = "blue"\n', encoding="utf-8")
    monkeypatch.setenv("AGENT_TUI_CONFIG", str(config))
    result = sample.runpytest(*plugin_args(), "--agent-tui-scenarios", "-q", "-k", "greets")
    result.assert_outcomes(failed=1, deselected=2)
    failure = result.stdout.str().split("_ scenario: greets _", 1)[1].split("=====", 1)[0]
    [line] = [line for line in failure.splitlines() if line.strip() and not set(line) <= {"_", " "}]
    assert "colour" in line and str(config) in line


# -- the report of a failing item ------------------------------------------------------------------------
def step(index: int, *, failures: list[Failure] | None = None, error: str | None = None) -> StepResult:
    return StepResult(
        index=index,
        action="send",
        summary='send "what time is it"',
        passed=not failures and error is None,
        failures=failures or [],
        error=error,
        reply="Hello there.",
    )


def test_the_failure_report_shows_each_failing_step_with_expected_vs_got() -> None:
    result = ScenarioResult(
        name="asks the time",
        source="checks/time.scenario.toml",
        line=3,
        run=1,
        room="room-1",
        passed=False,
        steps=[
            step(1),
            step(
                2,
                failures=[Failure("reply", '"time"', '"Hello there."'), Failure("tool", "get_time", "none")],
            ),
            step(3, failures=[Failure("tool", "get_time", "none")]),
            step(4, error="no answer within 20 s"),
        ],
    )
    assert failure_report(result).splitlines() == [
        "scenario 'asks the time' (checks/time.scenario.toml:3) failed in room room-1:",
        '  step 2 (send "what time is it"):',
        '    reply: expected "time", got "Hello there."',
        "    tool: expected get_time, got none",
        '  step 3 (send "what time is it"):',
        "    tool: expected get_time, got none",
        "    (the agent answered: Hello there.)",
        '  step 4 (send "what time is it"):',
        "    no answer within 20 s",
        "    (the agent answered: Hello there.)",
    ]


def test_the_failure_report_of_a_scenario_that_could_not_start() -> None:
    result = ScenarioResult(
        name="greets", source="a.scenario.toml", line=1, run=1, room=None, passed=False, error="auth rejected"
    )
    assert failure_report(result) == "scenario 'greets' (a.scenario.toml:1) could not start: auth rejected"
