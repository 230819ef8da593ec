"""The ``agent-tui`` command: parse, resolve settings, pick a front end (or a subcommand), exit.

Start-up cost matters for ``--help`` and ``--version`` (and for scripts that call us in a loop), so this
module imports only light standard-library modules and :mod:`agent_tui.exit_codes` at the top (not even
asyncio, which costs more than argparse); pydantic, the rtc
SDK and Textual are imported after parsing, by the code that needs them. argparse is used for the same
reason: it is already loaded with the interpreter's standard library and costs nothing extra.

Every failure ends as one line on stderr (``agent-tui: …``) and a documented exit code; a traceback is
printed only with ``--log-level debug``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from agent_tui import __version__
from agent_tui.audio.cli_args import add_audio_arguments, audio_overrides, wants_device_list
from agent_tui.exit_codes import ExitCode, exit_code_for, exit_code_table
from agent_tui.video.cli_args import add_video_arguments, video_overrides

if TYPE_CHECKING:
    from pydantic import SecretStr

    from agent_tui.config import Settings
    from agent_tui.headless.runner import Script

PROG = "agent-tui"
DEV_SERVER_COMMAND = "dev-server"
DEMO_COMMAND = "demo"
DEVICES_COMMAND = "devices"
TEST_COMMAND = "test"
DEMO_TEST_COMMAND = f"{DEMO_COMMAND} {TEST_COMMAND}"
LOAD_COMMAND = "load"
UI_UNAVAILABLE = (
    f"{PROG}: the terminal UI is not available in this build; running headless (use --no-ui to silence this)"
)

DESCRIPTION = """\
Talk to a LiveKit voice agent from the terminal.

Settings come from, highest first: command-line options > environment (AGENT_TUI_*, and
LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, LIVEKIT_TOKEN) > the config file > defaults. The
config file is --config, else AGENT_TUI_CONFIG, else {config}.
The API secret and the token endpoint's headers are read from the environment or the config file
only, never from an option.

A token comes from the first of: a token minted elsewhere (--token-file, LIVEKIT_TOKEN or --token;
with --url), --token-endpoint, --sandbox-id, or minting it locally from LIVEKIT_URL, LIVEKIT_API_KEY
and LIVEKIT_API_SECRET."""

EPILOG = """\
headless mode:
  --no-ui prints one line per event; --json prints JSON Lines instead (schema version 2: every line
  has "v": 2, "type" and "ts"). --json, --send, --send-file, --rpc and --data-track imply --no-ui.
  Script order: --rpc calls, then --send-file files, then --send messages, each sent once the agent
  is listening and has answered the previous one; --data-track NAME prints every frame of the
  agent's data track NAME. --exit-when defaults to "idle" when --send is given; else the
  run lasts until you stop it or the conversation is over (the agent left: exit 6, never came: 5).
  With "agent-left" the agent leaving is a successful end (exit 0); "never" outlives even that.

subcommands:
  agent-tui demo                 try it offline: a local server, a demo agent and this client (extra 'demo')
  agent-tui devices              list audio input and output devices (also --list-devices)
  agent-tui test PATH...         run *.scenario.toml conversations against an agent as tests (exit 7: failed)
  agent-tui demo test PATH...    the same against the offline demo agent (extra 'demo')
  agent-tui load SCENARIO...     many of those conversations at once, on Locust (extra 'load')
  agent-tui dev-server --help    a local LiveKit-compatible server for development (extra 'devserver')

exit codes:
{codes}"""


class UsageError(Exception):
    """A command-line mistake; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (ours), not the usage block followed by the error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


# -- argument types: each raises ArgumentTypeError with the reason, which argparse names the option in --
def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def _rpc_call(text: str) -> tuple[str, str]:
    method, sep, payload = text.partition("=")
    if not sep or not method.strip():
        raise argparse.ArgumentTypeError(f"expected METHOD=PAYLOAD (the payload may be empty), got {text!r}")
    return method.strip(), payload


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _non_empty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


#: More than any participant token needs; a larger "token file" is a wrong path (or /dev/zero).
TOKEN_FILE_LIMIT = 64 * 1024
STDIN_PATH = "-"
TOKEN_OPTION_WARNING = (
    "--token puts the token on the command line, where every user of this machine can read it (ps, "
    "/proc) — use --token-file PATH, --token-file - (standard input) or LIVEKIT_TOKEN instead"
)


def _token_file(text: str) -> SecretStr:
    """The token in file ``text`` (``-``: standard input), stripped, as a SecretStr like ``--token``'s."""
    from pydantic import SecretStr

    where = "standard input" if text == STDIN_PATH else text
    try:
        held = _read_token(text)
    except IsADirectoryError:
        raise argparse.ArgumentTypeError(
            f"{where} is a directory — pass the file that holds the token"
        ) from None
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(f"{where}: no such file — check the path") from None
    except PermissionError:
        raise argparse.ArgumentTypeError(
            f"{where} cannot be read (permission denied) — check its owner and mode"
        ) from None
    except OSError as error:
        raise argparse.ArgumentTypeError(f"{where} cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(
            f"{where} is not text — it should hold the participant token only"
        ) from None
    except EOFError:  # Ctrl-D at the prompt
        held = ""
    if len(held) > TOKEN_FILE_LIMIT:
        raise argparse.ArgumentTypeError(
            f"{where} holds more than {TOKEN_FILE_LIMIT // 1024} KiB — it should hold the token only"
        )
    token = held.strip()
    if not token:
        raise argparse.ArgumentTypeError(
            f"{where} is empty — it should hold the participant token (e.g. from lk token create)"
        )
    return SecretStr(token)


def _read_token(text: str) -> str:
    """What file ``text`` holds (up to one character past the limit); from a terminal on standard input,
    typed without echo."""
    if text != STDIN_PATH:
        with Path(text).expanduser().open(encoding="utf-8") as handle:
            return handle.read(TOKEN_FILE_LIMIT + 1)
    if sys.stdin is None:  # no standard input at all (pythonw, a closed descriptor)
        return ""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("participant token: ")
    return sys.stdin.read(TOKEN_FILE_LIMIT + 1)


def build_parser() -> argparse.ArgumentParser:
    from agent_tui.paths import default_config_file

    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION.format(config=default_config_file()),
        epilog=EPILOG.format(codes=exit_code_table()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        # Only options the user typed reach the settings, so lower layers are not shadowed by defaults.
        argument_default=argparse.SUPPRESS,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")

    agent = parser.add_argument_group("agent and room")
    agent.add_argument("--agent", metavar="NAME", help="the agent to dispatch (its worker's agent_name)")
    agent.add_argument("--agent-metadata", metavar="TEXT", help="metadata passed to the dispatched agent")
    agent.add_argument("--room", metavar="NAME", help="the room to join (default: a new room per run)")
    agent.add_argument("--identity", metavar="ID", help="our participant identity")
    agent.add_argument("--name", metavar="NAME", help="our participant display name")
    agent.add_argument(
        "--attribute",
        dest="attributes",
        metavar="KEY=VALUE",
        type=_key_value,
        action="append",
        help="a participant attribute (repeatable)",
    )
    agent.add_argument(
        "--agent-timeout",
        metavar="SECONDS",
        type=_seconds,
        help="how long the agent may take to join and initialize (default: 20)",
    )

    token = parser.add_argument_group("server and token (pick one way)")
    token.add_argument("--url", metavar="URL", type=_non_empty, help="the LiveKit server URL (LIVEKIT_URL)")
    literal = token.add_mutually_exclusive_group()
    literal.add_argument(
        "--token-file",
        metavar="PATH",
        type=_token_file,
        help="read a participant token minted elsewhere from PATH ('-': standard input); or set "
        "LIVEKIT_TOKEN",
    )
    literal.add_argument(
        "--token",
        metavar="TOKEN",
        type=_non_empty,
        help="the token itself (every local user can read it in ps: prefer --token-file)",
    )
    token.add_argument(
        "--token-endpoint", metavar="URL", type=_non_empty, help="a token server speaking LiveKit's format"
    )
    token.add_argument(
        "--sandbox-id", metavar="ID", type=_non_empty, help="a LiveKit Cloud sandbox token server"
    )

    run = parser.add_argument_group("front end and output")
    run.add_argument("--no-ui", dest="ui", action="store_false", help="run headless: one line per event")
    run.add_argument("--json", action="store_true", help="print JSON Lines instead of text (implies --no-ui)")
    run.add_argument(
        "--transcript", metavar="FILE", type=Path, help="append every final message as JSON Lines"
    )
    run.add_argument(
        "--metrics",
        metavar="FILE",
        type=Path,
        help="append per-turn latency figures (agent-reported and client-measured) as CSV",
    )
    run.add_argument(
        "--record-scenario",
        metavar="FILE",
        type=Path,
        help="when the conversation ends, write it to FILE as a scenario to replay with agent-tui test",
    )
    run.add_argument(
        "--send", metavar="TEXT", dest="sends", action="append", help="send a chat message (repeatable)"
    )
    run.add_argument(
        "--send-file",
        metavar="PATH",
        dest="send_files",
        type=Path,
        action="append",
        help="send a file to the agent as a byte stream (repeatable)",
    )
    run.add_argument(
        "--rpc",
        metavar="METHOD=PAYLOAD",
        dest="rpcs",
        type=_rpc_call,
        action="append",
        help="call METHOD on the agent and print its reply (repeatable)",
    )
    run.add_argument(
        "--data-track",
        metavar="NAME",
        dest="data_tracks",
        type=_non_empty,
        action="append",
        help="receive the agent's data track NAME and print each frame (repeatable)",
    )
    run.add_argument(
        "--exit-when",
        choices=("idle", "agent-left", "never"),
        help="when a headless run ends (default: idle with --send, else when the conversation is over)",
    )
    run.add_argument(
        "--answer-timeout",
        metavar="SECONDS",
        type=_seconds,
        help="how long each --send waits for the answer before going on (default: 60)",
    )

    add_audio_arguments(parser)
    add_video_arguments(parser)

    e2ee = parser.add_argument_group("end-to-end encryption (needs livekit-server or LiveKit Cloud)")
    e2ee.add_argument(
        "--e2ee-key-file",
        metavar="PATH",
        type=Path,
        help="encrypt media end to end with the shared key in PATH (or AGENT_TUI_E2EE__KEY, or [e2ee] key "
        "in the config file; never the key itself on the command line)",
    )

    files = parser.add_argument_group("configuration and logging")
    files.add_argument("--config", metavar="FILE", type=Path, help="the TOML config file to read")
    files.add_argument("--log-file", metavar="FILE", type=Path, help="write the log to FILE")
    files.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error", "critical"),
        type=str.lower,
        help="log level (default: warning); debug also shows tracebacks",
    )
    return parser


#: Options that are settings, by their argparse dest; the rest are the script or the config path.
_SETTING_DESTS = (
    "agent",
    "agent_metadata",
    "room",
    "identity",
    "name",
    "agent_timeout",
    "url",
    "token",
    "token_endpoint",
    "sandbox_id",
    "ui",
    "transcript",
    "metrics",
    "record_scenario",
    "exit_when",
    "answer_timeout",
    "log_file",
    "log_level",
)


#: The explicit ways to get a token, as settings, in the order they win (see agent_tui.wiring.token_choice).
_TOKEN_WAYS = ("token", "token_endpoint", "sandbox_id")


def cli_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the user gave on the command line, as setting name → value."""
    given = vars(args)
    values = {dest: given[dest] for dest in _SETTING_DESTS if dest in given}
    if "token_file" in given:
        values["token"] = given["token_file"]
    if any(way in values for way in _TOKEN_WAYS):
        # A way picked on the command line is meant: a LIVEKIT_TOKEN left in the shell, or a token
        # endpoint in the config file, must not win over it by coming first in the order.
        values.update({way: None for way in _TOKEN_WAYS if way not in values})
    if "attributes" in given:
        values["attributes"] = dict(given["attributes"])
    audio = audio_overrides(args)
    if audio:
        values["audio"] = audio
    video = video_overrides(args)
    if video:
        values["video"] = video
    if "e2ee_key_file" in given:
        # The file named on the command line is meant: a key left in the environment must not clash.
        values["e2ee"] = {"key_file": given["e2ee_key_file"], "key": None}
    if given.get("json"):
        values["output"] = "json"
        values["ui"] = False
    return values


def script_from(args: argparse.Namespace) -> Script:
    """The headless script; a ``--send-file`` that does not exist is a usage error before connecting."""
    from agent_tui.headless.runner import Script

    files = tuple(getattr(args, "send_files", ()))
    for path in files:
        if not path.is_file():
            raise UsageError(f"--send-file {path}: no such file")
    return Script(
        sends=tuple(getattr(args, "sends", ())),
        send_files=files,
        rpcs=tuple(getattr(args, "rpcs", ())),
        data_tracks=tuple(getattr(args, "data_tracks", None) or ()),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (the console script passes it to ``sys.exit``)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:2] == [DEMO_COMMAND, TEST_COMMAND]:
        return _subcommand(DEMO_TEST_COMMAND, arguments[2:])
    if arguments and arguments[0] in SUBCOMMANDS:
        return _subcommand(arguments[0], arguments[1:])
    try:
        args = build_parser().parse_args(arguments)
    except UsageError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR)
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else ExitCode.OK
    debug = getattr(args, "log_level", None) == "debug"
    try:
        return _run(args)
    except UsageError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as error:
        from agent_tui.session import SessionLibraryError

        if isinstance(error, SessionLibraryError):
            return _fail(str(error), exit_code_for(error))
        if debug:
            traceback.print_exc()
        return _fail(
            f"internal error: {type(error).__name__}: {_redact(str(error))} — rerun with --log-level debug "
            "and report the traceback.",
            ExitCode.INTERNAL_ERROR,
        )


def _run(args: argparse.Namespace) -> int:
    if wants_device_list(args):
        return _subcommand(DEVICES_COMMAND, [])
    from agent_tui.config import load_settings
    from agent_tui.logging_setup import LogFileError, logging_for

    given = vars(args)
    for dest, (option, extra) in _OPTION_EXTRAS.items():
        if dest in given:
            require_extra(extra, option)
    if "token" in given:
        _warn(TOKEN_OPTION_WARNING)
    script = script_from(args)
    settings = load_settings(cli_settings(args), config_file=getattr(args, "config", None), on_warning=_warn)
    _check_encryption(settings)
    try:
        with logging_for(settings):
            return _front_end(settings, script)
    except LogFileError as error:
        raise UsageError(str(error)) from None


def _check_encryption(settings: Settings) -> None:
    """A bad key file or encryption setting is one line and exit 2 before anything starts (the front end
    reads the key again when it builds the session)."""
    if settings.e2ee.enabled:
        from agent_tui.wiring.encryption import encryption_options

        encryption_options(settings)


#: Options that need an optional extra, by argparse dest: the option and the extra.
_OPTION_EXTRAS: dict[str, tuple[str, str]] = {
    "camera": ("--camera", "video"),
    "screen": ("--screen", "video"),
    "video_file": ("--video-file", "video"),
}


def require_extra(extra: str, what: str) -> None:
    """A :class:`UsageError` saying which extra ``what`` (a command or an option) needs, when it is not
    installed; the one check every command and option that needs an extra goes through."""
    from agent_tui.extras import extra_problem

    problem = extra_problem(what, extra)
    if problem is not None:
        raise UsageError(problem)


def _front_end(settings: Settings, script: Script) -> int:
    """The terminal UI unless the run is headless; a script (--send, --send-file, --rpc, --data-track) is
    always run headless, because it is meant for machines and the UI has no way to show its progress."""
    if settings.ui and script.empty:
        code = _run_ui(settings)
        if code is not None:
            return code
        print(UI_UNAVAILABLE, file=sys.stderr)
    import asyncio

    from agent_tui.headless.runner import run_headless

    return asyncio.run(run_headless(settings, script))


def _run_ui(settings: Settings) -> int | None:
    """Run the Textual app to its end; None when this build has no UI (Textual or the app missing)."""
    import asyncio

    from agent_tui.wiring.session import run_ui

    return asyncio.run(run_ui(settings))


@dataclass(frozen=True)
class _Subcommand:
    """A subcommand that lives in its own module, imported only when it runs (``--help`` stays fast)."""

    module: str
    add_arguments: str
    run: str
    extra: str | None  # the optional extra it needs, checked before its module is imported


SUBCOMMANDS: dict[str, _Subcommand] = {
    DEMO_COMMAND: _Subcommand("agent_tui.demo.command", "add_arguments", "run", "demo"),
    DEV_SERVER_COMMAND: _Subcommand("agent_tui.devserver.command", "add_arguments", "run", "devserver"),
    DEVICES_COMMAND: _Subcommand(
        "agent_tui.audio.devices_command", "add_devices_arguments", "run_devices", None
    ),
    TEST_COMMAND: _Subcommand("agent_tui.scenario.command", "add_arguments", "run", None),
    DEMO_TEST_COMMAND: _Subcommand("agent_tui.demo.command", "add_test_arguments", "run_test", "demo"),
    LOAD_COMMAND: _Subcommand("agent_tui.load.command", "add_arguments", "run", "load"),
}


def _subcommand(name: str, arguments: list[str]) -> int:
    spec = SUBCOMMANDS[name]
    parser = _Parser(prog=f"{PROG} {name}", allow_abbrev=False)
    try:
        if spec.extra is not None:
            require_extra(spec.extra, f"{PROG} {name}")
        # By name: a subcommand may live in an optional extra, so neither this module nor mypy may
        # assume it is installed.
        command = importlib.import_module(spec.module)
    except UsageError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR)
    except ImportError as error:  # installed, yet something it imports is not
        from agent_tui.extras import needs_extra

        missing = error.name or str(error)
        return _fail(
            needs_extra(f"{PROG} {name}", spec.extra, missing)
            if spec.extra is not None
            else f"{PROG} {name} cannot run: {missing} is not installed — reinstall agent-tui",
            ExitCode.USAGE_ERROR,
        )
    getattr(command, spec.add_arguments)(parser)
    try:
        args = parser.parse_args(arguments)
    except UsageError as error:
        return _fail(str(error), ExitCode.USAGE_ERROR)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else ExitCode.OK
    try:
        return int(getattr(command, spec.run)(args))
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


def _fail(message: str, code: int, stream: TextIO | None = None) -> int:
    print(f"{PROG}: {message}", file=stream if stream is not None else sys.stderr)
    return code


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _redact(text: str) -> str:
    from agent_tui.session import redact

    return redact(text)


def run() -> None:
    """The console script: :func:`main`, then leave without tearing the interpreter down when the rtc
    SDK was used.

    The SDK's native runtime keeps threads alive until the process ends; letting Python finalise its
    objects while those threads still run can abort the process in native code after our work is done
    (a panic that cannot unwind), turning a clean exit code into SIGABRT. Everything we own is closed and
    flushed by now, so skipping finalisation loses nothing.
    """
    code = main()
    if "livekit.rtc" not in sys.modules:
        sys.exit(code)
    import logging
    import os

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
