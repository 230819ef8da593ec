"""The library's error family, rooted in :class:`SessionLibraryError`.

Every error carries one line that says what happened and what to do, and never a token or a secret:
front ends print ``str(error)`` as it is. What a program does with one (agent-tui's exit codes, say) is
the front end's business: :mod:`agent_tui.exit_codes` maps these classes to numbers.
"""

from __future__ import annotations


class SessionLibraryError(Exception):
    """Root of every error the library raises on purpose; catch it to catch them all. A front end may
    subclass it for its own one-line errors (a bad setting, a missing device)."""


class TokenSourceError(SessionLibraryError):
    """The token could not be obtained or is unusable."""


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


class SessionError(SessionLibraryError):
    """The session could not run to its end."""


class ConnectionFailedError(SessionError):
    """The LiveKit server is unreachable or the connection was lost for good."""


class EncryptionRefusedError(ConnectionFailedError):
    """The server did not take our end-to-end encrypted track: a server that decodes media to relay it
    (agent-tui's dev server) cannot carry encrypted media, and refuses it."""


class AuthRejectedError(SessionError):
    """The LiveKit server refused the token."""


class AgentTimeoutError(SessionError):
    """The agent did not join, or did not finish initializing, within the timeout."""


class AgentLeftError(SessionError):
    """The agent left the room while the session was running."""


class WaitTimeoutError(SessionError, TimeoutError):
    """A ``wait_until_*`` call ran out of the time its caller gave it. This is the caller's deadline,
    not a verdict on the agent: :class:`AgentTimeoutError` (the agent connect timeout fired) and
    :class:`AgentLeftError` are raised instead when the agent is failed. Also a :class:`TimeoutError`,
    so ``except TimeoutError`` catches it as it catches :func:`asyncio.wait_for`'s."""

    def __init__(self, message: str, *, goal: str, timeout: float) -> None:
        super().__init__(message)
        self.goal = goal
        self.timeout = timeout


class SessionStateError(SessionError):
    """A method was called in a state where it cannot work (for example ``send`` before ``start``)."""


class DataTrackError(SessionError):
    """A data track could not be published, or a frame could not be pushed on ours (unpublished, the
    room gone, or frames pushed faster than the SDK sends them)."""


class RpcCallError(SessionError):
    """An RPC call to the agent failed: the agent answered with an error, or did not answer in time."""

    def __init__(self, *, method: str, code: int, detail: str) -> None:
        super().__init__(f"RPC {method!r} failed: {detail} (code {code}).")
        self.method = method
        self.code = code
        self.detail = detail


class RpcPayloadTooLargeError(RpcCallError):
    """An RPC payload is over the 15 KiB a destination without RPC over data streams can take; raised
    before sending (or when the SDK refuses a request or response for that reason)."""

    def __init__(self, *, method: str, code: int, detail: str, size: int | None, limit: int) -> None:
        super().__init__(method=method, code=code, detail=detail)
        self.size = size
        self.limit = limit
