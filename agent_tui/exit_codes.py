"""The exit codes agent-tui documents, and the one mapping from exceptions to them.

Scripts branch on these numbers, so they are a public interface: the table below is printed in
``--help`` and copied into the README, and nothing else in the code base invents an exit code. This module
imports nothing heavy at import time so that ``--help`` can show the table instantly.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL_ERROR = 1
    USAGE_ERROR = 2
    AUTH_ERROR = 3
    CONNECTION_ERROR = 4
    AGENT_TIMEOUT = 5
    AGENT_LEFT = 6
    INTERRUPTED = 130
    TERMINATED = 143


#: One line per code, as printed in ``--help``.
EXIT_CODE_DESCRIPTIONS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.INTERNAL_ERROR: "unexpected internal error",
    ExitCode.USAGE_ERROR: "usage or configuration error",
    ExitCode.AUTH_ERROR: "token or auth error (token source failed, server refused the token)",
    ExitCode.CONNECTION_ERROR: "connection error (server unreachable, connection lost for good)",
    ExitCode.AGENT_TIMEOUT: "the agent did not join or did not finish initializing in time",
    ExitCode.AGENT_LEFT: "the agent left unexpectedly",
    ExitCode.INTERRUPTED: "interrupted by SIGINT (Ctrl-C)",
    ExitCode.TERMINATED: "terminated by SIGTERM",
}


def exit_code_table() -> str:
    return "\n".join(f"  {int(code):>3}  {text}" for code, text in EXIT_CODE_DESCRIPTIONS.items())


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for ``error``.

    The core's errors (and :class:`~agent_tui.config.ConfigError`, which is one of them) carry their own
    code; the interrupt is 130 as a shell would report it; anything else is a bug of ours, hence 1.
    """
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(error, SystemExit):
        return error.code if isinstance(error.code, int) else ExitCode.INTERNAL_ERROR
    from agent_tui.session.errors import exit_code_for as core_exit_code_for

    return core_exit_code_for(error)
