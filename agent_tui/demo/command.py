"""``agent-tui demo``: a dev server, the offline demo agent and the client, started and stopped as one.

What runs where:

* the **dev server** runs in this process, on this event loop, bound to 127.0.0.1 on a free port, with a
  fresh random API secret per run (only this process and the worker ever need it);
* the **demo worker** (:mod:`agent_tui.demo.worker`) is a child process managed by
  :class:`~agent_tui.demo.supervisor.WorkerProcess`: its own process group, SIGTERM then SIGKILL on the
  way out, and a stdin *lifeline* pipe that makes it kill its group if this process dies without
  stopping it (the supervisor's docstring explains the choice over ``PR_SET_PDEATHSIG``);
* the **client** runs in this process through the same code as ``agent-tui`` (the terminal UI, or the
  headless runner with ``--no-ui``/``--json``/``--send``), with settings pointing at the dev server and
  asking for the demo agent by name.

Order matters on the way out: the client's session ends first (the agent then finishes its job and
leaves cleanly), then the worker, then the server. It is the same on every path: a normal end, Ctrl-C or
SIGTERM (during start-up or in a headless run), an error in the client, the worker dying. If this
process itself is killed, the lifeline takes the worker down and the server dies with the process.

With ``--livekit-server [PATH]`` the open-source LiveKit server takes the dev server's place: a child
process (:mod:`agent_tui.livekit_server`) with the same fresh key pair, signalling on 127.0.0.1, media on
this machine's own address, no STUN or any other outside address, and a death signal that ends it with
this process.

Exit codes are the client's. The demo adds one case: a worker that exits during start-up or does not
register within :data:`~agent_tui.demo.supervisor.READY_TIMEOUT` seconds is exit 5, "the agent did not
join", with the worker's last words on one line. A dev server that cannot listen is exit 1; no
livekit-server binary is exit 2, one that does not start exit 4.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import errno
import importlib
import logging
import secrets
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO, TypeVar

from agent_tui.audio.cli_args import add_audio_arguments, audio_overrides, wants_device_list
from agent_tui.demo import DEFAULT_AGENT_NAME
from agent_tui.exit_codes import ExitCode, exit_code_for, exit_code_table

if TYPE_CHECKING:
    from agent_tui.config import Settings
    from agent_tui.demo.dispatch_retry import DispatchRetry
    from agent_tui.demo.supervisor import WorkerProcess
    from agent_tui.headless.runner import Script


__all__ = ["PREFIX", "add_arguments", "add_test_arguments", "reminder", "run", "run_test"]

_log = logging.getLogger(__name__)

PREFIX: Final = "agent-tui demo"
#: The dev server's API key for the run; the secret is random per run.
DEMO_API_KEY: Final = "demo"
WORKER_LOG_NAME: Final = "demo-worker.log"
#: livekit-server's own log (``--livekit-server``), beside the worker's.
LIVEKIT_SERVER_LOG_NAME: Final = "demo-livekit-server.log"
#: How soon the dev server closes a room its user has left. The server's default (10 s, to let a
#: participant come back) would keep the agent's job, and so the worker's drain on exit, waiting that
#: long; in the demo a room has one user, and once they are gone the conversation is over.
DEPARTURE_TIMEOUT: Final = 1.0
#: How long the client may take to end by itself after the worker died, before the demo ends it.
CLIENT_GRACE: Final = 3.0
#: How long an "agent left" waits for news of the worker's exit (the child watcher reports it a moment
#: after the server has dropped the agent), and how often it looks.
WORKER_EXIT_GRACE: Final = 1.0
WORKER_EXIT_POLL: Final = 0.02

DESCRIPTION: Final = """\
Try agent-tui with no account and no network: start a LiveKit-compatible dev server on 127.0.0.1,
the offline demo agent (local speech recognition and synthesis, a rule-based "LLM" with a get_time
tool) and the client connected to it, all on this machine; stop all three on exit.

Ask it "what time is it", say "help", or anything else to hear it repeated."""

EPILOG: Final = """\
To run scenario files (agent-tui test) against the demo agent: agent-tui demo test PATH...

To talk to your own agent instead (LiveKit Cloud or your own server):
  LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... agent-tui --url wss://PROJECT.livekit.cloud --agent NAME
  agent-tui --token-endpoint https://example.com/token --agent NAME

exit codes (the client's; 5 also when the demo agent fails to start):
{codes}"""

#: How long the demo agent may take to join a scenario's room (``agent-tui demo test``), by default.
TEST_AGENT_TIMEOUT: Final = 60.0
TEST_DESCRIPTION: Final = """\
Start the dev server and the demo agent as 'agent-tui demo' does, run the scenario files against the demo
agent (as 'agent-tui test' runs them against any agent), report, stop both. The demo agent is given a
grammar of the phrases the scenarios say, so its offline recogniser hears them exactly, and no greeting.
Exit codes as for agent-tui test: 0 all passed, 7 one failed, 2 a bad file."""

#: The client options the demo takes over from ``agent-tui`` (by argparse dest). Not taken: --url,
#: --token, --token-endpoint and --sandbox-id (the demo is its own server) and --agent (the demo
#: agent's name is --agent-name, which names it to both the worker and the client).
_CLIENT_DESTS: Final = (
    "agent_metadata",
    "room",
    "identity",
    "name",
    "attributes",
    "agent_timeout",
    "ui",
    "json",
    "transcript",
    "sends",
    "send_files",
    "rpcs",
    "exit_when",
    "answer_timeout",
    "config",
    "log_file",
    "log_level",
)

_T = TypeVar("_T")


def redact(text: str, *values: str) -> str:
    """``text`` with credentials scrubbed (the session's own redaction, imported when needed)."""
    from agent_tui.session import redact as scrub

    return scrub(text, *values)


class DemoError(Exception):
    """A demo piece failed to start; ``code`` is the exit code and the message one line."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options: its own, then the client's that make sense here, taken from ``agent-tui``'s
    parser itself so their spelling, types and help cannot drift apart."""
    from agent_tui.cli import build_parser

    parser.description = DESCRIPTION
    parser.epilog = EPILOG.format(codes=exit_code_table())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter

    _add_demo_options(parser.add_argument_group("demo agent"))

    main_parser = build_parser()
    titles = {
        "agent and room": "client: agent and room",
        "front end and output": "client: front end and output",
    }
    groups: dict[str, argparse._ArgumentGroup] = {}
    for group in main_parser._action_groups:
        for action in group._group_actions:
            if action.dest not in _CLIENT_DESTS:
                continue
            title = titles.get(group.title or "", group.title or "client")
            target = groups.get(title) or groups.setdefault(title, parser.add_argument_group(title))
            # Sharing an Action object between parsers is what argparse's own parents= does.
            target._add_action(action)
    add_audio_arguments(parser)


def _add_demo_options(demo: argparse._ArgumentGroup) -> None:
    """The demo agent's own options, shared by ``agent-tui demo`` and ``agent-tui demo test``."""
    demo.add_argument(
        "--agent-name",
        default=DEFAULT_AGENT_NAME,
        metavar="NAME",
        help=f"the name the demo agent registers and the client asks for (default: {DEFAULT_AGENT_NAME})",
    )
    demo.add_argument(
        "--ptt",
        action="store_true",
        help="push-to-talk: the agent takes turns only while the talk key is held (sets --push-to-talk)",
    )
    demo.add_argument(
        "--livekit-server",
        nargs="?",
        const="",
        metavar="PATH",
        help="run the open-source livekit-server instead of the embedded dev server (PATH defaults to "
        "the one 'make livekit-server' builds, then livekit-server on PATH)",
    )
    demo.add_argument(
        "--worker-log",
        metavar="FILE",
        type=Path,
        help="where the demo agent's own log goes (default: demo-worker.log in agent-tui's log folder)",
    )


def add_test_arguments(parser: argparse.ArgumentParser) -> None:
    """``agent-tui demo test PATH...``: the scenario runner's paths and options, and the demo agent's."""
    from agent_tui.cli import build_parser
    from agent_tui.scenario.command import add_test_options

    parser.description = TEST_DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_test_options(parser)
    group = parser.add_argument_group("demo agent")
    _add_demo_options(group)
    for action in build_parser()._actions:
        if action.dest == "agent_timeout":
            timeout = copy.copy(action)
            timeout.help = (
                f"how long the demo agent may take to join each run's room (default: {TEST_AGENT_TIMEOUT:g})"
            )
            group._add_action(timeout)


def run(args: argparse.Namespace) -> int:
    """Run the demo to its end; returns the exit code."""
    if wants_device_list(args):
        from agent_tui.audio.devices_command import run_devices

        return run_devices(argparse.Namespace(json=False))
    from agent_tui.cli import UsageError, script_from
    from agent_tui.config import ConfigError

    if not args.agent_name.strip() or args.agent_name != args.agent_name.strip():
        return _fail(f"--agent-name must be a name without surrounding spaces, got {args.agent_name!r}", 2)
    try:
        script = script_from(args)
    except UsageError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR)
    secret = secrets.token_urlsafe(32)
    try:
        settings = _client_settings(args, url="ws://127.0.0.1:0", api_secret=secret)
    except ConfigError as error:
        return _fail(str(error), exit_code_for(error))
    return asyncio.run(_Demo(args, script, settings, secret, sys.stderr).run())


def run_test(args: argparse.Namespace) -> int:
    """``agent-tui demo test``: the files checked first (a bad one is exit 2 before anything starts),
    then the demo as usual with the scenario runner as its client. Every scenario talks to the demo agent
    (a file's ``agent`` names the agent of a real deployment); the worker gets a grammar of the phrases
    said, so its recogniser hears exactly them, and no greeting, so the first step need not wait for one."""
    from dataclasses import replace

    from agent_tui.config import ConfigError
    from agent_tui.headless.runner import Script
    from agent_tui.scenario.command import TestOptions, load, run_tests, spoken_phrases

    if not args.agent_name.strip() or args.agent_name != args.agent_name.strip():
        return _fail(f"--agent-name must be a name without surrounding spaces, got {args.agent_name!r}", 2)
    loaded = load(args.paths, args.filters, sys.stderr)
    if isinstance(loaded, int):
        return loaded
    scenarios = [replace(scenario, agent=None) for scenario in loaded]
    secret = secrets.token_urlsafe(32)
    try:
        settings = _client_settings(args, url="ws://127.0.0.1:0", api_secret=secret)
    except ConfigError as error:
        return _fail(str(error), exit_code_for(error))
    if "agent_timeout" not in settings.model_fields_set:
        # The worker starts a process per job and loads its speech models there: with --jobs on a busy
        # machine that takes longer than a single conversation's default allows.
        settings = settings.model_copy(update={"agent_timeout": TEST_AGENT_TIMEOUT})
    options = TestOptions.from_args(args)

    async def client(settings: Settings) -> int:
        return await run_tests(scenarios, settings, options)

    with tempfile.TemporaryDirectory(prefix="agent-tui-demo-test-") as folder:
        worker_args = ["--no-greeting"]
        phrases = spoken_phrases(scenarios)
        if phrases:
            from agent_tui.demo.stt_pocketsphinx import jsgf_from_phrases

            grammar = Path(folder) / "phrases.jsgf"
            grammar.write_text(jsgf_from_phrases(phrases), encoding="utf-8")
            worker_args += ["--jsgf", str(grammar)]
        demo = _Demo(args, Script(), settings, secret, sys.stderr, client=client, worker_args=worker_args)
        return asyncio.run(demo.run())


def reminder(server_name: str = "the dev server") -> str:
    """Said at start and, after a full-screen UI, at the end: where this runs and how to go elsewhere."""
    return (
        f"{PREFIX}: {server_name}, the demo agent and this client all run on this machine; "
        "nothing is sent anywhere else.\n"
        "  To use LiveKit Cloud or your own server instead:\n"
        "    LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... agent-tui --url wss://PROJECT.livekit.cloud "
        "--agent NAME\n"
        "    or, with a token server: agent-tui --token-endpoint https://.../token --agent NAME\n"
    )


def _client_settings(args: argparse.Namespace, *, url: str, api_secret: str) -> Settings:
    """The client's settings: the user's (options, environment, config file) with the demo's server, keys
    and agent on top. Every other token source is switched off explicitly, because choosing a token
    source prefers them to local minting and a user's shell may well set one."""
    from agent_tui.cli import cli_settings
    from agent_tui.config import load_settings

    values: dict[str, Any] = cli_settings(args)
    values.update(
        url=url,
        api_key=DEMO_API_KEY,
        api_secret=api_secret,
        token=None,
        token_endpoint=None,
        sandbox_id=None,
        agent=args.agent_name,
    )
    if args.ptt:
        from agent_tui.audio.controls import MicMode

        values["audio"] = {**audio_overrides(args), "mode": MicMode.PUSH_TO_TALK}
    return load_settings(values, config_file=getattr(args, "config", None), on_warning=_warn)


class _Progress:
    """``starting the dev server… ok (…)`` lines on stderr; dots while a slow step runs on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._open = False
        self._dots: asyncio.Task[None] | None = None

    def say(self, text: str) -> None:
        self._finish_line()
        self._write(text if text.endswith("\n") else text + "\n")

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[Callable[[str], None]]:
        """``with progress.step("starting x") as done: …; done("ok")``; the line ends "failed" if the
        block raises before ``done``."""
        self._finish_line()
        self._write(f"{text}… ")
        self._open = True
        if _isatty(self._stream):
            self._dots = asyncio.get_running_loop().create_task(self._tick())
        finished = False

        def done(result: str) -> None:
            nonlocal finished
            finished = True
            self._stop_dots()
            self._write(f"{result}\n")
            self._open = False

        try:
            yield done
        except (asyncio.CancelledError, KeyboardInterrupt):
            if not finished:
                done("interrupted")
            raise
        finally:
            if not finished:
                done("failed")

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self._write(".")

    def _stop_dots(self) -> None:
        if self._dots is not None:
            self._dots.cancel()
            self._dots = None

    def _finish_line(self) -> None:
        if self._open:
            self._stop_dots()
            self._write("\n")
            self._open = False

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
            self._stream.flush()


class _Demo:
    """One ``agent-tui demo`` run; lives exactly as long as :meth:`run`."""

    def __init__(
        self,
        args: argparse.Namespace,
        script: Script,
        settings: Settings,
        secret: str,
        stderr: TextIO,
        *,
        client: Callable[[Settings], Awaitable[int]] | None = None,
        worker_args: Sequence[str] = (),
    ) -> None:
        """``client`` replaces the UI or headless client (``demo test`` runs the scenarios there);
        ``worker_args`` are passed to the demo worker."""
        self._args = args
        self._run_client = client
        self._worker_args = tuple(worker_args)
        self._script = script
        self._settings = settings
        self._secret = secret
        self._stderr = stderr
        self._progress = _Progress(stderr)
        self._worker: WorkerProcess | None = None
        self._url: str | None = None
        self._stopping = False
        self._worker_exit_reported = False
        self._client_stopped_for_worker = False
        self._server_name = "the dev server"
        self._running_server: Any = None

    async def run(self) -> int:
        """The whole demo, logging set up as ``agent-tui`` sets it up, for all of it: the dev server and
        the rtc SDK keep logging while the worker stops, after the client is done, and with no handler
        their warnings would reach Python's last-resort handler on stderr."""
        from agent_tui.logging_setup import LogFileError, logging_for

        try:
            with logging_for(self._settings):
                return await self._run()
        except LogFileError as error:
            return self._error(str(error), ExitCode.USAGE_ERROR)

    async def _run(self) -> int:
        started = time.monotonic()
        code: int = ExitCode.INTERNAL_ERROR
        try:
            code = await self._interruptible(self._launch_and_talk(started))
        except DemoError as error:
            code = self._error(str(error), error.code)
        except Exception as error:
            code = self._unexpected(error)
        finally:
            await self._interruptible(self._stop(self._running_server), on_signal=self._hurry)
        return code

    async def _launch_and_talk(self, started: float) -> int:
        port = 0
        if getattr(self._args, "livekit_server", None) is None:
            # The worker spends its first second importing livekit-agents and starting its job processes
            # before it connects: started now, on the port the dev server is about to take, that second
            # overlaps this process's own imports and the server's start instead of following them.
            from agent_tui.livekit_server.process import free_port

            port = free_port()
            await self._start_worker(f"ws://127.0.0.1:{port}")
        self._running_server = server = self._server(port)
        self._progress.say(reminder(self._server_name))
        return await self._start_and_talk(server, started)

    def _server(self, port: int = 0) -> Any:
        """The embedded dev server on ``port`` (0: any free one), or livekit-server with
        ``--livekit-server``: either has ``start``, ``stop`` and ``url``, and takes the demo's key pair."""
        choice = getattr(self._args, "livekit_server", None)
        if choice is None:
            from agent_tui.devserver import DevServer

            self._server_name = "the dev server"
            return DevServer(
                host="127.0.0.1",
                port=port,
                api_key=DEMO_API_KEY,
                api_secret=self._secret,
                departure_timeout=DEPARTURE_TIMEOUT,
            )
        from agent_tui.livekit_server import LiveKitServerNotFound, LiveKitServerProcess

        self._server_name = "livekit-server"
        log_path: Path = getattr(self._args, "worker_log", None) or _default_worker_log()
        try:
            return LiveKitServerProcess(
                binary=choice or None,
                api_key=DEMO_API_KEY,
                api_secret=self._secret,
                host="127.0.0.1",
                departure_timeout=DEPARTURE_TIMEOUT,
                log_path=log_path.with_name(LIVEKIT_SERVER_LOG_NAME),
            )
        except LiveKitServerNotFound as error:
            raise DemoError(str(error), ExitCode.USAGE_ERROR) from None

    # -- start-up and the conversation ---------------------------------------------------------------------
    async def _start_and_talk(self, server: Any, started: float) -> int:
        from agent_tui.demo.supervisor import WorkerNotReady
        from agent_tui.livekit_server import LiveKitServerStartError

        with self._progress.step(f"starting {self._server_name}") as done:
            try:
                await self._start_server(server)
            except OSError as error:
                raise DemoError(
                    f"cannot start {self._server_name} on 127.0.0.1 ({error.strerror or error})",
                    ExitCode.INTERNAL_ERROR,
                ) from None
            except LiveKitServerStartError as error:
                raise DemoError(str(error), ExitCode.CONNECTION_ERROR) from None
            done(f"ok ({server.url})")
        self._url = server.url
        if self._server_name == "the dev server":  # livekit-server has no token endpoint
            from agent_tui.devserver.command import web_app_hint

            hint = web_app_hint(server.url, agent_name=self._args.agent_name, keys_shown=False)
            self._progress.say(hint.rstrip())

        if self._worker is None:  # livekit-server: its URL is known only now
            await self._start_worker(server.url)
        worker = self._worker
        assert worker is not None
        preparing = self._prepare_client()
        with self._progress.step("starting the demo agent (loading the speech models)") as done:
            try:
                await worker.wait_registered()
            except WorkerNotReady as error:
                raise DemoError(str(error), ExitCode.AGENT_TIMEOUT) from None
            done(f"registered as '{worker.registered_agent_name}' ({time.monotonic() - started:.1f} s)")
        if worker.log_error is not None:
            self._progress.say(f"{PREFIX}: warning: {worker.log_error}")

        self._progress.say(f"connecting the client to agent '{self._args.agent_name}'…")
        await preparing
        retry = self._retry_stuck_dispatches(server)
        client = asyncio.create_task(self._client(), name="demo-client")
        watcher = asyncio.create_task(self._watch_worker(worker, client))
        code: int | None = None
        try:
            code = await client
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not self._client_stopped_for_worker or (current is not None and current.cancelling()):
                raise
            code = ExitCode.AGENT_LEFT
        finally:
            if retry is not None:
                retry.close()
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            if code == ExitCode.AGENT_LEFT:
                await self._grace_for_worker_exit(worker)
            self._report_worker_exit(worker)  # in case the client noticed first
        if code == ExitCode.AGENT_TIMEOUT:
            self._explain_absent_agent(server, worker)
        # The UI ends quietly when cancelled, so its own code says nothing about why it ended.
        return ExitCode.AGENT_LEFT if self._client_stopped_for_worker else code

    async def _start_worker(self, url: str) -> None:
        """Start the demo worker registering with ``url`` (it has not registered when this returns)."""
        from agent_tui.demo.supervisor import WorkerProcess

        log_path: Path = getattr(self._args, "worker_log", None) or _default_worker_log()
        self._worker = WorkerProcess(
            url=url,
            api_key=DEMO_API_KEY,
            api_secret=self._secret,
            agent_name=self._args.agent_name,
            ptt=self._args.ptt,
            extra_args=self._worker_args,
            log_path=log_path,
        )
        await self._worker.start()

    async def _start_server(self, server: Any) -> None:
        """Start ``server``. When the port chosen for the early worker was taken in between (another
        program bound it first), the server takes any free port and the worker starts again for it."""
        try:
            await server.start()
        except OSError as error:
            early_worker = self._worker
            dev_server = self._server_name == "the dev server"
            if error.errno != errno.EADDRINUSE or early_worker is None or not dev_server:
                raise
            await early_worker.stop()
            self._worker = None
            server.port = 0
            await server.start()

    def _prepare_client(self) -> asyncio.Future[None]:
        """Import the client's modules in a thread while the worker registers: the first screen (or the
        headless runner) then starts the moment the agent can be asked for, not a few hundred ms later."""
        if self._run_client is not None:  # ``demo test``: the scenario runner is imported already
            nothing: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            nothing.set_result(None)
            return nothing
        ui = self._settings.ui and self._script.empty
        front_end = "agent_tui.app.runner" if ui else "agent_tui.headless.runner"  # Textual: about 0.35 s
        return asyncio.ensure_future(asyncio.to_thread(_import_all, (front_end, *_CONVERSATION_MODULES)))

    def _retry_stuck_dispatches(self, server: Any) -> DispatchRetry | None:
        """The embedded dev server's jobs for the demo agent, watched for one that fails or whose agent
        never comes (:mod:`agent_tui.demo.dispatch_retry`); livekit-server's are not ours to see."""
        dispatcher = getattr(server, "dispatcher", None)
        if dispatcher is None:
            return None
        from agent_tui.demo.dispatch_retry import DispatchRetry

        def tell(text: str) -> None:
            # The full-screen UI owns the terminal: there it goes to the log, as the worker's lines do.
            if self._settings.ui and self._script.empty:
                _log.warning("%s", text)
            else:
                self._progress.say(f"{PREFIX}: {text}")

        retry = DispatchRetry(dispatcher, self._args.agent_name, on_retry=tell)
        retry.start()
        return retry

    def _explain_absent_agent(self, server: Any, worker: WorkerProcess) -> None:
        """The embedded dev server saw the dispatch: say which step failed, and where the agent's log is."""
        dispatcher = getattr(server, "dispatcher", None)
        if dispatcher is None:  # livekit-server: its own log says what it did with the dispatch
            step = f"the demo agent did not join (livekit-server's log: {server.log_path})"
        else:
            step = dispatcher.explain(self._args.agent_name) or "the dev server dispatched nothing"
        self._progress.say(f"{PREFIX}: {step}; the demo agent's log: {worker.log_path}")

    async def _watch_worker(self, worker: WorkerProcess, client: asyncio.Task[int]) -> None:
        """When the worker dies under a running client, say so and end the client: the demo's agent is
        gone for good, and a UI or a listen-only headless run (``--exit-when never``) would otherwise
        wait for it forever. The client gets :data:`CLIENT_GRACE` seconds to end by itself first, so
        that a headless run that does end on "agent left" reports it in its own words (its ``end``
        record, exit 6)."""
        await worker.wait_exited()
        self._report_worker_exit(worker)
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(client), CLIENT_GRACE)
            return
        if not client.done():
            self._client_stopped_for_worker = True
            client.cancel()

    async def _grace_for_worker_exit(self, worker: WorkerProcess) -> None:
        """The agent left: when its worker died, the client can see the agent go before the worker's
        exit has been reaped (the server drops the agent the moment the worker's socket closes). Give
        the report :data:`WORKER_EXIT_GRACE` seconds, so the user is told the worker died."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WORKER_EXIT_GRACE
        # Polled: Python 3.11's Process.wait() also waits for the worker's pipes, which its job process
        # (alive a moment longer) still holds, while returncode is set as soon as the exit is reaped.
        while worker.returncode is None and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(WORKER_EXIT_POLL)

    def _report_worker_exit(self, worker: WorkerProcess) -> None:
        if worker.returncode is None or self._stopping or self._worker_exit_reported:
            return
        self._worker_exit_reported = True
        from agent_tui.demo.supervisor import describe_status

        self._progress.say(
            f"{PREFIX}: the demo agent stopped unexpectedly ({describe_status(worker.returncode)}); "
            f"its log: {worker.log_path}"
        )

    async def _client(self) -> int:
        """The client, as ``agent-tui`` runs it (:func:`agent_tui.cli._front_end`), but on this loop."""
        # The settings were validated before anything started; only the server's port was unknown then.
        settings = self._settings.model_copy(update={"url": self._url})
        if self._run_client is not None:
            return await self._run_client(settings)
        if settings.ui and self._script.empty:
            from agent_tui.wiring.session import run_ui

            code = await run_ui(settings)
            if code is not None:
                self._progress.say(reminder(self._server_name))  # the full-screen UI covered the first
                return code
            from agent_tui.cli import UI_UNAVAILABLE

            self._progress.say(UI_UNAVAILABLE)
        from agent_tui.headless.runner import run_headless

        return await run_headless(settings, self._script)

    # -- the way out ----------------------------------------------------------------------------------------
    async def _stop(self, server: Any) -> None:
        self._stopping = True
        worker = self._worker
        if worker is not None and worker.pid is not None:
            with self._progress.step("stopping the demo agent") as done:
                began = time.monotonic()
                await worker.stop()
                done(f"ok ({time.monotonic() - began:.1f} s)")
        if server is None:  # it could not be made (no livekit-server binary)
            return
        with self._progress.step(f"stopping {self._server_name}") as done:
            began = time.monotonic()
            await server.stop()
            done(f"ok ({time.monotonic() - began:.1f} s)")

    def _hurry(self, _signum: int) -> None:
        """A signal while stopping: do not wait for the worker to drain."""
        if self._worker is not None:
            self._worker.kill_now()

    async def _interruptible(
        self, work: Awaitable[_T], *, on_signal: Callable[[int], None] | None = None
    ) -> _T:
        """Run ``work`` with SIGINT/SIGTERM handled: by default they cancel it (exit 130/143, via
        :class:`_Interrupted`), or they call ``on_signal``. The handlers are removed afterwards, so a
        headless client installs its own and a second signal reaches the defaults."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(work)
        received: list[int] = []

        def handle(signum: int) -> None:
            received.append(signum)
            if on_signal is not None:
                on_signal(signum)
            else:
                task.cancel()

        installed = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, handle, signum)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
            installed.append(signum)
        try:
            result = await task
        except asyncio.CancelledError:
            if received and on_signal is None:
                raise DemoError("", _signal_exit_code(received[0])) from None
            raise
        finally:
            for signum in installed:
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(signum)
        if received and on_signal is None:
            # The work swallowed the cancellation (Textual ends its app quietly when cancelled): the
            # signal still decides the exit code.
            raise DemoError("", _signal_exit_code(received[0]))
        return result

    def _error(self, message: str, code: int) -> int:
        if message:
            self._progress.say(f"{PREFIX}: {redact(message, self._secret)}")
        return code

    def _unexpected(self, error: Exception) -> int:
        """One line, as ``agent-tui`` does: the error's own code for agent-tui's errors (a session or
        configuration problem inside the UI), else an internal error with the traceback on request."""
        from agent_tui.session import SessionLibraryError

        if isinstance(error, SessionLibraryError):
            return self._error(str(error), exit_code_for(error))
        if self._settings.log_level == "debug":
            text = "".join(traceback.format_exception(error))
            self._progress.say(redact(text, self._secret))
        return self._error(
            f"internal error: {type(error).__name__}: {error} — rerun with --log-level debug and report "
            "the traceback.",
            ExitCode.INTERNAL_ERROR,
        )


#: What :func:`agent_tui.wiring.session.open_conversation` imports when it starts (the audio engine and
#: its bridge, the video controller: about 0.2 s here), for :meth:`_Demo._prepare_client`.
_CONVERSATION_MODULES: Final = (
    "agent_tui.wiring.session",
    "agent_tui.audio.engine",
    "agent_tui.audio.session_bridge",
    "agent_tui.video.controller",
    "agent_tui.scenario.record",
)


def _import_all(modules: Sequence[str]) -> None:
    """Import ``modules``; one that fails is left for the client to import, and to report, itself."""
    for name in modules:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _signal_exit_code(signum: int) -> int:
    return ExitCode.INTERRUPTED if signum == signal.SIGINT else ExitCode.TERMINATED


def _default_worker_log() -> Path:
    from agent_tui.paths import log_dir

    return log_dir() / WORKER_LOG_NAME


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _fail(message: str, code: int) -> int:
    print(f"{PREFIX}: {message}", file=sys.stderr)
    return code


def _warn(message: str) -> None:
    print(f"{PREFIX}: warning: {message}", file=sys.stderr)
