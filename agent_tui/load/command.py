"""``agent-tui load SCENARIO...``: many conversations at once against an agent, on Locust, headless.

Locust's Python API does the load: an :class:`~locust.env.Environment` with a
:class:`~agent_tui.load.locust_user.ConversationUser` class made for the scenario files and the
connection, a local runner (or a master and workers, on this machine with ``--processes K`` or on
many with ``--master`` / ``--worker``), Locust's CSV writer and HTML report when asked. This module only
starts it, prints a live progress line from Locust's statistics, and ends with the phase table
(:mod:`.report`).

Exit codes: 0 no phase failed; 7 (:data:`~agent_tui.exit_codes.ExitCode.TESTS_FAILED`) a phase failed or
no conversation finished; 2 a bad option, file or configuration; 4 the workers did not come.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

import agent_tui.load  # noqa: F401  (before locust: no gevent monkey-patching)
from agent_tui.exit_codes import ExitCode, exit_code_table

if TYPE_CHECKING:
    from locust.env import Environment
    from locust.runners import Runner

    from agent_tui.config import Settings
    from agent_tui.scenario.model import Scenario

__all__ = ["LoadOptions", "add_arguments", "run"]

PREFIX: Final = "agent-tui load"
DEFAULT_MASTER_PORT: Final = 5557
#: Seconds conversations still running at ``--duration`` get to finish (Locust's ``--stop-timeout``).
DEFAULT_STOP_TIMEOUT: Final = 10.0
#: How long a master waits for its workers to connect.
WORKERS_TIMEOUT: Final = 60.0
#: How long a worker that is done may take to send its last report before its process exits.
WORKER_FLUSH_S: Final = 5.0
#: Seconds between progress lines when stdout is not a terminal.
PLAIN_PROGRESS_EVERY: Final = 5.0

DESCRIPTION: Final = """\
Hold many scripted conversations (*.scenario.toml) with a voice agent at once, on Locust: each
simulated user runs one conversation per iteration in a new room, and every phase (connect, agent
joined, first answer, each turn, the whole conversation) is a Locust request with its time. Ends with a
table per phase: count, failures, p50/p95/p99/max. The README's "Load testing" section says more."""

EPILOG: Final = """\
many machines: start `agent-tui load SCENARIO --master --expect-workers K ...` on one, and
`agent-tui load SCENARIO --worker --master-host HOST` on each of K others (same files, same
connection settings). Locust's own command line works too: LOCUST_SKIP_MONKEY_PATCH=1 locust -f
your_locustfile.py (see agent_tui.load.locust_user).

exit codes (7: a phase failed, or no conversation finished):
{codes}"""


@dataclass(frozen=True)
class LoadOptions:
    """The run, from the command line."""

    users: int
    spawn_rate: float
    duration: float
    iterations: int | None
    stop_timeout: float
    processes: int
    step_timeout: float | None
    csv: str | None
    html: Path | None
    master: bool
    worker: bool
    master_host: str
    master_port: int
    expect_workers: int

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LoadOptions:
        return cls(
            users=args.users,
            spawn_rate=args.spawn_rate if args.spawn_rate is not None else float(args.users),
            duration=args.duration,
            iterations=args.iterations,
            stop_timeout=args.stop_timeout,
            processes=args.processes,
            step_timeout=args.timeout,
            csv=args.csv,
            html=args.html,
            master=args.master,
            worker=args.worker,
            master_host=args.master_host,
            master_port=args.master_port,
            expect_workers=args.expect_workers,
        )


def _duration(text: str) -> float:
    """Seconds, or with a unit as Locust's ``--run-time`` takes it: ``90``, ``90s``, ``2m``, ``1h``."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    number, scale = (text[:-1], units[text[-1]]) if text and text[-1] in units else (text, 1.0)
    try:
        value = float(number) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration (90, 90s, 2m), got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The scenario paths, the load, the reports, the distribution, then ``agent-tui``'s connection."""
    from agent_tui.scenario.command import (
        add_connection_options,
        positive_count,
        positive_number,
        positive_seconds,
    )

    parser.description = DESCRIPTION
    parser.epilog = EPILOG.format(codes=exit_code_table())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="SCENARIO", help="*.scenario.toml files, or folders of them"
    )
    load = parser.add_argument_group("load")
    load.add_argument(
        "--users", type=positive_count, required=True, metavar="N", help="simulated users at once"
    )
    load.add_argument(
        "--spawn-rate",
        type=positive_number("users per second"),
        metavar="R",
        help="users started per second (default: all at once)",
    )
    load.add_argument(
        "--duration", type=_duration, required=True, metavar="T", help="how long: seconds, or 90s, 2m, 1h"
    )
    load.add_argument(
        "--iterations",
        type=positive_count,
        metavar="K",
        help="each user holds K conversations, then stops (the run ends when all have, or at --duration)",
    )
    load.add_argument(
        "--stop-timeout",
        type=positive_seconds,
        default=DEFAULT_STOP_TIMEOUT,
        metavar="SECONDS",
        help="at --duration, how long conversations in flight may take to finish; then they are called "
        f"off, unreported (default: {DEFAULT_STOP_TIMEOUT:g})",
    )
    load.add_argument(
        "--filter",
        action="append",
        metavar="S",
        dest="filters",
        help="only scenarios whose name or a tag contains S or matches the glob S (repeatable)",
    )
    load.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="how long each step may take (as agent-tui test)",
    )
    reports = parser.add_argument_group("reports (Locust's own)")
    reports.add_argument("--csv", metavar="PREFIX", help="write Locust's CSV reports to PREFIX_*.csv")
    reports.add_argument("--html", type=Path, metavar="FILE", help="write Locust's HTML report to FILE")
    spread = parser.add_argument_group("more generators")
    spread.add_argument(
        "--processes",
        type=positive_count,
        default=1,
        metavar="K",
        help="K worker processes on this machine under a local master (default: 1, no master)",
    )
    roles = spread.add_mutually_exclusive_group()
    roles.add_argument("--master", action="store_true", help="coordinate workers on other machines")
    roles.add_argument("--worker", action="store_true", help="generate load for the master at --master-host")
    spread.add_argument("--master-host", default="127.0.0.1", metavar="H", help="the master (for --worker)")
    spread.add_argument(
        "--master-port",
        type=positive_count,
        default=DEFAULT_MASTER_PORT,
        metavar="P",
        help="its port (default: 5557)",
    )
    spread.add_argument(
        "--expect-workers",
        type=positive_count,
        default=1,
        metavar="K",
        help="a --master starts once K workers came",
    )
    add_connection_options(parser)


def run(args: argparse.Namespace) -> int:
    """``agent-tui load``: load the files, resolve the settings as ``agent-tui`` does, run Locust."""
    from agent_tui.cli import cli_settings
    from agent_tui.config import ConfigError, load_settings
    from agent_tui.logging_setup import LogFileError, logging_for
    from agent_tui.scenario.command import load
    from agent_tui.wiring.token_choice import choose_token_source

    scenarios = load(args.paths, args.filters, sys.stderr)
    if isinstance(scenarios, int):
        return scenarios
    options = LoadOptions.from_args(args)
    if options.processes > 1 and (options.master or options.worker):
        return _fail("--processes starts its own master and workers: not with --master or --worker", 2)
    try:
        settings = load_settings(
            cli_settings(args), config_file=getattr(args, "config", None), on_warning=_warn
        )
        choose_token_source(settings)  # no way to get a token: one line now, not one per conversation
    except ConfigError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR)
    try:
        with logging_for(settings):
            return run_load(scenarios, settings, options, sys.stdout)
    except LogFileError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR)


def user_class(scenarios: Sequence[Scenario], settings: Settings, options: LoadOptions) -> type:
    """A :class:`ConversationUser` for these scenarios and this connection; the same class name in every
    process, since a master tells its workers which class to spawn by name."""
    from agent_tui.load.locust_user import ConversationUser

    paths = sorted({str(scenario.source) for scenario in scenarios})
    cls = type(
        "ConversationUser",
        (ConversationUser,),
        {
            "abstract": False,
            "scenario_paths": tuple(paths),
            "settings": settings,
            "step_timeout": options.step_timeout,
            "iterations": options.iterations,
            "_loaded": (list(scenarios), settings),
            "__module__": __name__,
        },
    )
    return cls


def _speaks(scenarios: Sequence[Scenario]) -> bool:
    from agent_tui.load.phases import turn_name

    return any(turn_name(1, step.action).endswith("voice-to-voice") for s in scenarios for step in s.steps)


def run_load(scenarios: Sequence[Scenario], settings: Settings, options: LoadOptions, out: TextIO) -> int:
    """Run Locust headless for ``options``; the exit code."""
    from locust.env import Environment

    from agent_tui.load.capacity import capacity_warning

    if not options.worker:
        generators = options.expect_workers if options.master else options.processes
        warning = capacity_warning(options.users, generators, voice=_speaks(scenarios))
        if warning is not None:
            _warn(warning)
    cls = user_class(scenarios, settings, options)
    environment = Environment(user_classes=[cls], stop_timeout=options.stop_timeout, catch_exceptions=True)
    if options.worker:
        return _work(environment, options)
    workers: list[subprocess.Popen[bytes]] = []
    if options.processes > 1:
        from agent_tui.livekit_server.process import free_port

        port = free_port()
        runner: Runner = environment.create_master_runner("127.0.0.1", port)
        workers = [_start_worker(port) for _ in range(options.processes)]
        expected = options.processes
    elif options.master:
        runner = environment.create_master_runner("*", options.master_port)
        expected = options.expect_workers
    else:
        runner = environment.create_local_runner()
        expected = 0
    try:
        return _lead(environment, runner, options, expected, out)
    finally:
        for worker in workers:
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _work(environment: Environment, options: LoadOptions) -> int:
    """A worker: generate load until the master says quit."""
    runner = environment.create_worker_runner(options.master_host, options.master_port)
    assert runner.greenlet is not None
    runner.greenlet.join()
    # Locust sends the last report (every conversation that ended while stopping) just before it ends
    # its greenlets; a process that exits at once drops what its socket has not sent yet (seen: one of
    # two workers' last reports lost). Wait, boundedly, for the socket to hand it over.
    client = runner.client
    client.close(linger=int(WORKER_FLUSH_S * 1000))  # type: ignore[no-untyped-call]
    client.socket.context.term()
    return ExitCode.OK


def _lead(environment: Environment, runner: Runner, options: LoadOptions, workers: int, out: TextIO) -> int:
    """Start the users (once ``workers`` came), show the progress, stop, report; the exit code."""
    import gevent
    from locust.stats import CSV_STATS_INTERVAL_SEC, PERCENTILES_TO_REPORT, StatsCSVFileWriter, stats_history

    from agent_tui.load.report import print_report, progress_line

    if workers:
        deadline = time.monotonic() + WORKERS_TIMEOUT
        while runner.worker_count < workers:  # type: ignore[attr-defined]
            if time.monotonic() > deadline:
                runner.quit()
                return _fail(
                    f"{runner.worker_count} of {workers} workers connected within {WORKERS_TIMEOUT:g} s",  # type: ignore[attr-defined]
                    ExitCode.CONNECTION_ERROR,
                )
            gevent.sleep(0.2)
    csv_writer = None
    if options.csv is not None:
        try:
            csv_writer = StatsCSVFileWriter(
                environment, PERCENTILES_TO_REPORT, options.csv, full_history=False
            )
        except OSError as error:
            runner.quit()
            return _fail(f"cannot write {options.csv}_*.csv ({error.strerror or error})", 2)
        writing = gevent.spawn(csv_writer.stats_writer)
    gevent.spawn(stats_history, runner)
    spawned: list[int] = []
    environment.events.spawning_complete.add_listener(  # type: ignore[no-untyped-call]
        lambda user_count: spawned.append(user_count)  # noqa: PLW0108  (Locust passes it by keyword)
    )
    runner.start(options.users, options.spawn_rate)
    began = time.monotonic()
    tty = out.isatty()
    last_plain = 0.0
    try:
        while (left := options.duration - (time.monotonic() - began)) > 0:
            users = runner.user_count
            if options.iterations is not None and spawned and users == 0:
                break  # every user held its conversations
            line = progress_line(environment.stats, users, options.users, left)
            if tty:
                out.write(f"\r\x1b[2K{line}")
                out.flush()
            elif time.monotonic() - last_plain >= PLAIN_PROGRESS_EVERY:
                print(line, file=out, flush=True)
                last_plain = time.monotonic()
            gevent.sleep(0.5)
    finally:
        if tty:
            out.write("\r\x1b[2K")
        _quit(runner, options.stop_timeout)
    if csv_writer is not None:
        # The writer rewrites the files every CSV_STATS_INTERVAL_SEC: let it write the final figures once.
        gevent.sleep(CSV_STATS_INTERVAL_SEC * 1.5)
        writing.kill()
        csv_writer.close_files()
    print(file=out)
    print_report(environment.stats, out)
    code = _exit_code(environment)
    if options.html is not None:
        code = _write_html(environment, options.html) or code
    return code


def _quit(runner: Runner, grace_s: float) -> None:
    """End the run, keeping the figures of conversations that finish within ``grace_s``."""
    from locust.runners import MasterRunner

    from agent_tui.load.shutdown import quit_master

    if not isinstance(runner, MasterRunner):
        runner.quit()  # a local runner stops its users within the stop timeout itself
        return
    silent = quit_master(runner, grace_s)
    if silent:
        _warn(f"{len(silent)} worker(s) sent no last report: their conversations in flight are not counted")


def _exit_code(environment: Environment) -> int:
    from agent_tui.load.locust_user import REQUEST_TYPE
    from agent_tui.load.phases import CONVERSATION

    conversations = environment.stats.entries.get((CONVERSATION, REQUEST_TYPE))
    if conversations is None or conversations.num_requests == 0:
        return ExitCode.TESTS_FAILED
    return ExitCode.TESTS_FAILED if environment.stats.total.num_failures else ExitCode.OK


def _write_html(environment: Environment, path: Path) -> int:
    from locust.html import get_html_report

    try:
        report = get_html_report(environment, show_download_link=False)  # type: ignore[no-untyped-call]
        path.write_text(report, encoding="utf-8")
    except OSError as error:
        return _fail(f"cannot write {path} ({error.strerror or error})", ExitCode.USAGE_ERROR)
    return 0


def _start_worker(port: int) -> subprocess.Popen[bytes]:
    """A worker process of this same command line, for the local master on ``port``."""
    arguments = _without_distribution(sys.argv[2:] if sys.argv[1:2] == ["load"] else sys.argv[1:])
    return subprocess.Popen(
        [sys.executable, "-m", "agent_tui", "load", *arguments, "--worker", "--master-port", str(port)],
        env={**os.environ, "LOCUST_SKIP_MONKEY_PATCH": "1"},
        stdout=subprocess.DEVNULL,
    )


def _without_distribution(arguments: Sequence[str]) -> list[str]:
    """``arguments`` without the options of distribution (``--processes K``, ``--master``, reports)."""
    with_value = {"--processes", "--master-port", "--master-host", "--expect-workers", "--csv", "--html"}
    kept: list[str] = []
    skip = False
    for argument in arguments:
        if skip:
            skip = False
            continue
        name = argument.split("=", 1)[0]
        if name in with_value:
            skip = "=" not in argument
            continue
        if name in ("--master", "--worker"):
            continue
        kept.append(argument)
    return kept


def _fail(message: str, code: int, stream: TextIO | None = None) -> int:
    print(f"{PREFIX}: {message}", file=stream if stream is not None else sys.stderr)
    return code


def _warn(message: str) -> None:
    print(f"{PREFIX}: warning: {message}", file=sys.stderr)
