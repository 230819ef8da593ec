"""The core's error family.

Every error carries one line that says what happened and what to do, and never a token or a secret:
front ends print ``str(error)`` as it is. Each class knows its CLI exit code so the mapping lives in one
place (:func:`exit_code_for`) instead of being re-derived by every front end.
"""

from __future__ import annotations

from typing import ClassVar


class AgentTuiError(Exception):
    """Root of every error the core raises on purpose."""

    exit_code: ClassVar[int] = 1


class TokenSourceError(AgentTuiError):
    """The token could not be obtained or is unusable (exit code 3)."""

    exit_code: ClassVar[int] = 3


class TokenEndpointUnreachableError(TokenSourceError):
    """The token server refused the connection or its host name did not resolve."""


class TokenEndpointTimeoutError(TokenSourceError):
    """The token server did not answer in time."""


class TokenEndpointHTTPError(TokenSourceError):
    """The token server answered with a non-2xx status."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class TokenResponseError(TokenSourceError):
    """The token server's reply is not JSON or lacks the fields we need."""


class TokenInvalidError(TokenSourceError):
    """The participant token is not a JWT we can read, or it has expired."""


class TokenConfigError(TokenSourceError):
    """No way to get a token was configured, or the configuration is incomplete."""


class SessionError(AgentTuiError):
    """The session could not run to its end."""


class ConnectionFailedError(SessionError):
    """The LiveKit server is unreachable or the connection was lost for good (exit code 4)."""

    exit_code: ClassVar[int] = 4


class AuthRejectedError(SessionError):
    """The LiveKit server refused the token (exit code 3)."""

    exit_code: ClassVar[int] = 3


class AgentTimeoutError(SessionError):
    """The agent did not join, or did not finish initializing, within the timeout (exit code 5)."""

    exit_code: ClassVar[int] = 5


class AgentLeftError(SessionError):
    """The agent left the room while the session was running (exit code 6)."""

    exit_code: ClassVar[int] = 6


class SessionStateError(SessionError):
    """A method was called in a state where it cannot work (for example ``send`` before ``start``)."""


def exit_code_for(error: BaseException) -> int:
    """The CLI exit code documented for ``error``; 1 for anything we did not raise on purpose."""
    if isinstance(error, AgentTuiError):
        return error.exit_code
    return 1


class RpcCallError(SessionError):
    """An RPC call to the agent failed: the agent answered with an error, or did not answer in time."""

    def __init__(self, *, method: str, code: int, detail: str) -> None:
        super().__init__(f"RPC {method!r} failed: {detail} (code {code}).")
        self.method = method
        self.code = code
        self.detail = detail
