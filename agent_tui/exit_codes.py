"""The exit codes agent-tui documents, and the one mapping from exceptions to them.

Scripts branch on these numbers, so they are a public interface: the table below is printed in
``--help`` and copied into the README, and nothing else in the code base invents an exit code. This module
imports nothing heavy at import time so that ``--help`` can show the table instantly.
"""

from __future__ import annotations

import functools
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL_ERROR = 1
    USAGE_ERROR = 2
    AUTH_ERROR = 3
    CONNECTION_ERROR = 4
    AGENT_TIMEOUT = 5
    AGENT_LEFT = 6
    TESTS_FAILED = 7
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
    ExitCode.TESTS_FAILED: "agent-tui test: one or more scenarios failed",
    ExitCode.INTERRUPTED: "interrupted by SIGINT (Ctrl-C)",
    ExitCode.TERMINATED: "terminated by SIGTERM",
}


def exit_code_table() -> str:
    return "\n".join(f"  {int(code):>3}  {text}" for code, text in EXIT_CODE_DESCRIPTIONS.items())


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for ``error``: the entry of :func:`_codes_by_error` for the nearest class
    in its hierarchy; the interrupt is 130 as a shell would report it; anything else is a bug of ours: 1.
    """
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(error, SystemExit):
        return error.code if isinstance(error.code, int) else ExitCode.INTERNAL_ERROR
    codes = _codes_by_error()
    for cls in type(error).__mro__:
        if cls in codes:
            return codes[cls]
    return ExitCode.INTERNAL_ERROR


@functools.cache
def _codes_by_error() -> dict[type[BaseException], ExitCode]:
    """The one table from error classes to exit codes (the Session library knows nothing of exit codes).
    Built on first use: importing the error classes would slow ``--help``."""
    from agent_tui.config import ConfigError
    from agent_tui.session import (
        AgentLeftError,
        AgentTimeoutError,
        AuthRejectedError,
        ConnectionFailedError,
        TokenSourceError,
    )

    return {
        ConfigError: ExitCode.USAGE_ERROR,
        TokenSourceError: ExitCode.AUTH_ERROR,
        AuthRejectedError: ExitCode.AUTH_ERROR,
        ConnectionFailedError: ExitCode.CONNECTION_ERROR,
        AgentTimeoutError: ExitCode.AGENT_TIMEOUT,
        AgentLeftError: ExitCode.AGENT_LEFT,
    }
