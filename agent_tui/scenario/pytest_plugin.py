"""The pytest plugin (entry point ``pytest11``, name ``agent_tui``): ``*.scenario.toml`` files as test items.

An agent developer's existing ``pytest`` run then includes their scenarios, one item per scenario, each
run through a real room with :func:`agent_tui.scenario.runner.run_scenario` and the settings the CLI
would use (environment and config file). It collects only when asked — ``--agent-tui-scenarios`` or
``agent_tui_scenarios = true`` in the ini — because being installed must never change someone's test run
by surprise (agent-tui's own suite included).

This module is imported by every pytest run in an environment where agent-tui is installed, so it
imports pytest alone at the top; the parser, the settings and the runner (which loads the rtc SDK) are
imported when a scenario file is collected or run.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from agent_tui.config import Settings
    from agent_tui.scenario.model import Scenario
    from agent_tui.scenario.results import ScenarioResult

OPTION = "--agent-tui-scenarios"
INI = "agent_tui_scenarios"
TIMEOUT_OPTION = "--agent-tui-timeout"
#: What a scenario file's name ends with (the model's FILE_SUFFIX; repeated so collecting stays light).
FILE_SUFFIX = ".scenario.toml"

_SETTINGS = pytest.StashKey["Settings | BaseException"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agent-tui", "agent-tui scenarios")
    group.addoption(
        OPTION,
        action="store_true",
        default=False,
        help=f"collect *{FILE_SUFFIX} files as tests (one per scenario), run against a real room",
    )
    group.addoption(
        TIMEOUT_OPTION,
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds each scenario step may take (as agent-tui test --timeout)",
    )
    parser.addini(INI, type="bool", default=False, help=f"collect *{FILE_SUFFIX} files (as {OPTION})")


def enabled(config: pytest.Config) -> bool:
    """Whether scenario files are collected in this run: the option or the ini setting says so."""
    return bool(config.getoption(OPTION) or config.getini(INI))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if file_path.name.endswith(FILE_SUFFIX) and enabled(parent.config):
        file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
        return file
    return None


class ScenarioFile(pytest.File):
    """One scenario file; a bad one is a collection error of one line (the parser's), never a traceback."""

    def collect(self) -> Iterator[ScenarioItem]:
        from agent_tui.scenario.parser import ScenarioFileError, load_scenarios

        try:
            scenarios = load_scenarios([self.path])
        except ScenarioFileError as error:
            raise self.CollectError(str(error)) from None
        for scenario in scenarios:
            yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioFailed(Exception):
    """The scenario ran and missed an expectation (or could not start); carries the result to report."""

    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.name)
        self.result = result


class ScenarioItem(pytest.Item):
    """One ``[[scenario]]``, run in its own new room when pytest runs the item."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        # ``-k voice`` selects by tag as ``agent-tui test --filter`` does; marks would need registering.
        self.extra_keyword_matches.update(scenario.tags)

    def runtest(self) -> None:
        from agent_tui.scenario.runner import run_scenario

        settings = _settings(self.config)
        timeout = self.config.getoption(TIMEOUT_OPTION)
        result = asyncio.run(run_scenario(self.scenario, settings, step_timeout=timeout))
        for name, value in _properties(result).items():
            self.user_properties.append((name, value))
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScenarioFailed):
            return failure_report(excinfo.value.result)
        if isinstance(excinfo.value, _OneLineError):
            return str(excinfo.value)
        from agent_tui.session import SessionLibraryError

        if isinstance(excinfo.value, SessionLibraryError):  # a token, auth or connection problem
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, max(self.scenario.line - 1, 0), f"scenario: {self.scenario.name}"


class _OneLineError(Exception):
    """A problem every item of the run shares (the settings), reported as its one line."""


def _settings(config: pytest.Config) -> Settings:
    """The settings as ``agent-tui`` would load them (environment, then the config file), once per run;
    a configuration error fails each item with its one line."""
    if _SETTINGS not in config.stash:
        from agent_tui.config import ConfigError, load_settings

        def warn(message: str) -> None:
            warnings.warn(f"agent-tui: {message}", UserWarning, stacklevel=1)

        try:
            config.stash[_SETTINGS] = load_settings({}, on_warning=warn)
        except ConfigError as error:
            config.stash[_SETTINGS] = error
    loaded = config.stash[_SETTINGS]
    if isinstance(loaded, BaseException):
        raise _OneLineError(str(loaded))
    return loaded


def failure_report(result: ScenarioResult) -> str:
    """What a failing item shows: where the scenario is, then each failing step with expected vs got."""
    from agent_tui.scenario.report import step_problems

    where = f"{result.source}:{result.line}"
    room = f" in room {result.room}" if result.room else ""
    if result.error is not None:
        return f"scenario {result.name!r} ({where}) could not start{room}: {result.error}"
    lines = [f"scenario {result.name!r} ({where}) failed{room}:"]
    for step in result.steps:
        if step.passed:
            continue
        lines.append(f"  step {step.index} ({step.summary}):")
        lines.extend(f"    {problem}" for problem in step_problems(step, limit=2000))
        if step.reply is not None and not any(f.expectation.startswith("reply") for f in step.failures):
            lines.append(f"    (the agent answered: {step.reply})")
    return "\n".join(lines)


def _properties(result: ScenarioResult) -> dict[str, str]:
    """The room and the latency percentiles, for pytest's own JUnit XML (``record_property`` style)."""
    from agent_tui.scenario.report import latency_properties

    return {"room": result.room or "", **latency_properties(result)}
