"""Reusing a fetched token while it is fresh and the options have not changed (JS ``TokenSourceCached``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent_tui.session.tokens.details import ConnectionDetails, TokenRequest
from agent_tui.session.tokens.jwt_claims import is_token_fresh
from agent_tui.session.tokens.source import TokenSource


@dataclass(frozen=True)
class _Entry:
    request: TokenRequest
    details: ConnectionDetails
    claims: dict[str, Any]


class CachingTokenSource:
    """Wraps any source so that a prepared or repeated start does not hit the token server again.

    The rules are the JS SDK's, with its pitfall fixed: a cached response is returned only when its token is
    fresh (``nbf ≤ now < exp - 60 s``) and the request equals the one it was fetched for. The request and
    its response are stored together and only after a successful fetch, so a failed fetch with new options
    can never leave the old token filed under them. Fetches are serialised, so concurrent starts share one
    round trip instead of racing to the server.

    ``force=True`` drops the cache before fetching, and :meth:`invalidate` drops it without fetching. The
    Session uses them after ``end()`` and after an unexpected disconnect: agents are dispatched when a room
    is created, so rejoining with the old token (and the old room) would bring no agent back.
    """

    def __init__(self, inner: TokenSource, *, clock: Callable[[], float] = time.time) -> None:
        self._inner = inner
        self._clock = clock
        self._lock = asyncio.Lock()
        self._entry: _Entry | None = None
        # Bumped by invalidate(): a fetch already under way when the cache was invalidated still answers its
        # caller, but must not store a token the owner has just declared stale.
        self._generation = 0

    def __repr__(self) -> str:
        return f"CachingTokenSource({self._inner!r})"

    @property
    def inner(self) -> TokenSource:
        return self._inner

    @property
    def cached(self) -> ConnectionDetails | None:
        """The last response, fresh or not (Swift ``cachedResponse()``); for display and diagnostics."""
        return self._entry.details if self._entry is not None else None

    def invalidate(self) -> None:
        """Forget the cached response, so that the next fetch asks the inner source."""
        self._entry = None
        self._generation += 1

    async def fetch(self, request: TokenRequest, *, force: bool = False) -> ConnectionDetails:
        async with self._lock:
            if force:
                self.invalidate()
            entry = self._entry
            if entry is not None and entry.request == request and is_token_fresh(entry.claims, self._clock()):
                return entry.details
            generation = self._generation
            details = await self._inner.fetch(request, force=force)
            # Decoding here also keeps an unreadable token out of the cache: it raises TokenInvalidError.
            claims = details.claims
            if generation == self._generation:
                self._entry = _Entry(request, details, claims)
            return details


def cached(source: TokenSource, *, clock: Callable[[], float] = time.time) -> CachingTokenSource:
    """``source`` with a cache; a source that already caches is returned as it is, not wrapped twice."""
    if isinstance(source, CachingTokenSource):
        return source
    return CachingTokenSource(source, clock=clock)
