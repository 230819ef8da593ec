"""The TokenSource interface and the two sources that need no network: literal and custom."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from agent_tui.session.errors import TokenConfigError, TokenResponseError
from agent_tui.session.tokens.details import ConnectionDetails, TokenRequest, check_usable


@runtime_checkable
class TokenSource(Protocol):
    """Anything that turns fetch options into connection details.

    One configurable interface serves every kind. The JS SDK also has a "fixed" interface without options;
    here a fixed source simply ignores the request, so the Session never has to ask which kind it holds.
    ``force`` asks a caching source to skip its cache; sources that do not cache ignore it.
    """

    async def fetch(self, request: TokenRequest, *, force: bool = False) -> ConnectionDetails: ...


LiteralProvider = Callable[[], ConnectionDetails | Awaitable[ConnectionDetails]]


class LiteralTokenSource:
    """Connection details the caller already has (``--token``, a test), or a function that produces them.

    Never cached: the caller owns these credentials, and a function form exists precisely so that it can
    hand out a new token on every fetch. The request options are ignored because the token is already
    minted; the token is still checked on each fetch, so an expired one fails here with a clear message
    rather than as an opaque rejection by the server.
    """

    _ORIGIN = "the literal token source"
    _FIX = "pass the participant token exactly as minted, e.g. by `lk token create`"
    _URL_FIX = "pass the LiveKit server URL, e.g. wss://my-project.livekit.cloud"
    _EXPIRED_FIX = "mint a new one, e.g. with `lk token create`"

    def __init__(self, server_url: str, participant_token: str) -> None:
        details = ConnectionDetails(server_url=server_url, participant_token=participant_token)
        self._provide: LiteralProvider = lambda: details

    @classmethod
    def from_callable(cls, provide: LiteralProvider) -> LiteralTokenSource:
        """A literal source whose details come from ``provide`` (sync or async), called on every fetch."""
        source = cls.__new__(cls)
        source._provide = provide
        return source

    async def fetch(self, request: TokenRequest, *, force: bool = False) -> ConnectionDetails:
        details = self._provide()
        if inspect.isawaitable(details):
            details = await details
        check_usable(
            details,
            now=time.time(),
            origin=self._ORIGIN,
            fix=self._FIX,
            bad_url=TokenConfigError,
            url_fix=self._URL_FIX,
            expired_fix=self._EXPIRED_FIX,
        )
        return details


CustomProvider = Callable[[TokenRequest], Awaitable[ConnectionDetails]]


class CustomTokenSource:
    """Whatever async function the application supplies (Kotlin ``fromCustom``, JS ``TokenSource.custom``).

    It does not cache by itself; wrap it in :class:`~agent_tui.session.tokens.cache.CachingTokenSource` to
    get the JS behaviour. Its result is checked like a server's reply, because a custom function is in
    effect a token server living in-process.
    """

    _ORIGIN = "the custom token source"
    _FIX = "make the custom token function return a LiveKit server URL and a current participant token"

    def __init__(self, fn: CustomProvider) -> None:
        self._fn = fn

    async def fetch(self, request: TokenRequest, *, force: bool = False) -> ConnectionDetails:
        details = await self._fn(request)
        check_usable(details, now=time.time(), origin=self._ORIGIN, fix=self._FIX, bad_url=TokenResponseError)
        return details
