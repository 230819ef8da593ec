"""``agent-tui test PATH...``: run scenario files against an agent, report, exit 0 or 7.

The connection is the CLI's (the same options, environment and config file, taken from ``agent-tui``'s
own parser so their spelling cannot drift); a scenario's ``agent``, attributes and metadata override
them per scenario, and every run gets a new room. ``agent-tui demo test PATH...`` runs the same thing
against the offline demo (:mod:`agent_tui.demo.command` starts the server and the worker, then calls
:func:`run_tests`).

Exit codes: 0 every run passed; 7 (:data:`~agent_tui.exit_codes.ExitCode.TESTS_FAILED`) one failed; 2 a
bad scenario file, a bad option, no scenario to run; when *every* run could not even start for the same
reason, that reason's code (3 auth, 4 connection, 5 the agent never came), as ``agent-tui`` itself exits.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from agent_tui.exit_codes import ExitCode, exit_code_table

if TYPE_CHECKING:
    from agent_tui.config import Settings
    from agent_tui.scenario.model import Scenario
    from agent_tui.scenario.results import ScenarioResult

__all__ = ["TestOptions", "add_arguments", "add_test_options", "load", "run", "run_tests", "spoken_phrases"]

PREFIX: Final = "agent-tui test"

DESCRIPTION: Final = """\
Run scripted conversations (*.scenario.toml files, or folders of them) against a voice agent, each
scenario in a new room, by voice and by text, and check what the agent answers, which tools it calls and
how fast it is. The README's "Scenario tests" section describes the file format."""

EPILOG: Final = """\
connection: as for agent-tui (options, environment, config file); a scenario's own agent, attributes and
metadata win. Against the offline demo agent: agent-tui demo test PATH...

exit codes (7: one or more scenarios failed; 3/4/5 when no scenario could even start for that reason):
{codes}"""

#: The connection options taken over from ``agent-tui`` (by argparse dest).
CONNECTION_DESTS: Final = (
    "agent",
    "agent_metadata",
    "identity",
    "name",
    "attributes",
    "agent_timeout",
    "url",
    "token_file",
    "token",
    "token_endpoint",
    "sandbox_id",
    "config",
    "log_file",
    "log_level",
)
#: Codes that, when every run could not start with it, are the exit code instead of 7.
_START_CODES: Final = (ExitCode.AUTH_ERROR, ExitCode.CONNECTION_ERROR, ExitCode.AGENT_TIMEOUT)


@dataclass(frozen=True)
class TestOptions:
    """How to run the scenarios, from the command line."""

    __test__ = False  # not a pytest test class

    jobs: int = 1
    repeat: int = 1
    fail_fast: bool = False
    step_timeout: float | None = None
    junit: Path | None = None
    json: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TestOptions:
        return cls(
            jobs=args.jobs,
            repeat=args.repeat,
            fail_fast=args.fail_fast,
            step_timeout=args.timeout,
            junit=args.junit,
            json=args.json_file,
        )


def positive_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_number(what: str) -> Callable[[str], float]:
    """An argparse type for a number above 0; its error names ``what`` the number counts."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    parse.__name__ = what  # argparse's own messages name the type by it
    return parse


positive_seconds = positive_number("seconds")


def add_test_options(parser: argparse.ArgumentParser) -> None:
    """The paths and the options of running and reporting, shared by ``test`` and ``demo test``."""
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="*.scenario.toml files, or folders of them"
    )
    running = parser.add_argument_group("running")
    running.add_argument(
        "--jobs",
        type=positive_count,
        default=1,
        metavar="N",
        help="run up to N scenarios at once (default: 1)",
    )
    running.add_argument(
        "--repeat",
        type=positive_count,
        default=1,
        metavar="K",
        help="run each scenario K times and report its pass rate (default: 1)",
    )
    running.add_argument(
        "--filter",
        action="append",
        metavar="S",
        dest="filters",
        help="only scenarios whose name or a tag contains S or matches the glob S (repeatable)",
    )
    running.add_argument(
        "--fail-fast", action="store_true", help="start no more scenarios once one has failed"
    )
    running.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="how long each step may take, unless the step sets its own timeout (default: the file's "
        "step_timeout, else 30)",
    )
    output = parser.add_argument_group("reports")
    output.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML for CI systems to FILE")
    output.add_argument(
        "--json",
        dest="json_file",
        type=Path,
        metavar="FILE",
        help="write the full record (every step, every event, every figure) as JSON to FILE",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``agent-tui test``'s options: its own, then the connection options of ``agent-tui``."""

    parser.description = DESCRIPTION
    parser.epilog = EPILOG.format(codes=exit_code_table())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_test_options(parser)
    add_connection_options(parser)


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``agent-tui``'s connection options (:data:`CONNECTION_DESTS`), for ``test`` and ``load``: the same
    Action objects, so their spelling, defaults and help cannot drift from the main command's."""
    from agent_tui.cli import build_parser

    connection = parser.add_argument_group("connection (as for agent-tui)")
    for action in build_parser()._actions:
        if action.dest in CONNECTION_DESTS:
            # Sharing an Action object between parsers is what argparse's own parents= does.
            connection._add_action(action)


def run(args: argparse.Namespace) -> int:
    """``agent-tui test``: load the files, resolve the settings as ``agent-tui`` does, run, report."""
    from agent_tui.cli import cli_settings
    from agent_tui.config import ConfigError, load_settings
    from agent_tui.logging_setup import LogFileError, logging_for

    scenarios = load(args.paths, args.filters, sys.stderr)
    if isinstance(scenarios, int):
        return scenarios
    try:
        settings = load_settings(
            cli_settings(args), config_file=getattr(args, "config", None), on_warning=_warn
        )
    except ConfigError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR)
    try:
        with logging_for(settings):
            return asyncio.run(run_tests(scenarios, settings, TestOptions.from_args(args)))
    except LogFileError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR)
    except Exception as error:  # a bug of ours: one line, and the traceback only on request
        from agent_tui.session import redact

        if settings.log_level == "debug":
            traceback.print_exc()
        message = (
            f"internal error: {type(error).__name__}: {error} — rerun with --log-level debug and report it"
        )
        return _fail(redact(message, *settings.secret_values()), ExitCode.INTERNAL_ERROR)


def load(paths: Sequence[Path], filters: Sequence[str] | None, stderr: TextIO) -> list[Scenario] | int:
    """The scenarios to run, or the exit code (2) after one line on ``stderr`` saying what is wrong."""
    from agent_tui.scenario.parser import ScenarioFileError, load_scenarios

    try:
        scenarios = load_scenarios(paths)
    except ScenarioFileError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR, stderr)
    if not scenarios:
        where = ", ".join(str(path) for path in paths)
        return _fail(f"no *.scenario.toml files in {where}", ExitCode.USAGE_ERROR, stderr)
    if filters:
        scenarios = [scenario for scenario in scenarios if any(_matches(scenario, f) for f in filters)]
        if not scenarios:
            wanted = ", ".join(repr(f) for f in filters)
            return _fail(f"no scenario's name or tag matches --filter {wanted}", ExitCode.USAGE_ERROR, stderr)
    return scenarios


def _matches(scenario: Scenario, pattern: str) -> bool:
    wanted = pattern.lower()
    return any(
        wanted in text.lower() or fnmatch.fnmatchcase(text.lower(), wanted)
        for text in (scenario.name, *scenario.tags)
    )


def spoken_phrases(scenarios: Sequence[Scenario]) -> list[str] | None:
    """Every phrase the scenarios say (``say``, ``interrupt``, ``push_to_talk``), in order; None when
    one of them plays a WAV, whose words are unknown."""
    from agent_tui.scenario.model import Interrupt, PushToTalk

    phrases: list[str] = []
    for scenario in scenarios:
        for step in scenario.steps:
            argument = step.argument
            if step.action == "say_wav":
                return None
            if step.action == "say" and isinstance(argument, str):
                phrases.append(argument)
            elif isinstance(argument, Interrupt | PushToTalk):
                phrases.append(argument.say)
    return phrases


async def run_tests(
    scenarios: Sequence[Scenario],
    settings: Settings,
    options: TestOptions,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``scenarios``, show the progress and the summary, write the reports; the exit code."""
    from agent_tui.config import ConfigError
    from agent_tui.scenario.report import Progress, print_summary, write_json, write_junit
    from agent_tui.scenario.runner import run_all
    from agent_tui.wiring.token_choice import choose_token_source

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        choose_token_source(settings)  # no way to get a token: one line before any run, not one per run
    except ConfigError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR, err)
    progress = Progress(len(scenarios) * options.repeat, out, repeat=options.repeat)
    try:
        results = await run_all(
            scenarios,
            settings,
            jobs=options.jobs,
            repeat=options.repeat,
            fail_fast=options.fail_fast,
            step_timeout=options.step_timeout,
            on_progress=progress,
        )
    finally:
        progress.close()
    print_summary(results, out)
    code = exit_code(results)
    for path, write in ((options.junit, write_junit), (options.json, write_json)):
        if path is None:
            continue
        try:
            write(results, path)
        except OSError as error:
            _fail(f"cannot write {path} ({error.strerror or error})", ExitCode.USAGE_ERROR, err)
            code = code or ExitCode.USAGE_ERROR
    return code


def exit_code(results: Sequence[ScenarioResult]) -> int:
    """0 when every run passed; the start-up code every run failed with, when they all share one of
    :data:`_START_CODES`; else 7."""
    if results and all(result.passed for result in results):
        return ExitCode.OK
    codes = {_start_code(result) for result in results}
    if len(codes) == 1:
        (only,) = codes
        if only in _START_CODES:
            return only
    return ExitCode.TESTS_FAILED


def _start_code(result: ScenarioResult) -> int | None:
    if result.error is None:
        return None
    for record in result.events:
        if record.get("type") == "error" and isinstance(record.get("exit_code"), int):
            code: int = record["exit_code"]
            return code
    return None


def _fail(message: str, code: int, stream: TextIO | None = None) -> int:
    print(f"{PREFIX}: {message}", file=stream if stream is not None else sys.stderr)
    return code


def _warn(message: str) -> None:
    print(f"{PREFIX}: warning: {message}", file=sys.stderr)
