from __future__ import annotations

import asyncio

import jwt
import pytest

from agent_tui.session.errors import TokenEndpointHTTPError, TokenInvalidError
from agent_tui.session.tokens.cache import CachingTokenSource, cached
from agent_tui.session.tokens.details import ConnectionDetails, TokenRequest

KEY = "a-test-signing-key-that-is-long-enough-0123456789"
NBF = 1_000_000.0
EXP = NBF + 3600


class Clock:
    def __init__(self, now: float = NBF) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Server:
    """An inner source that mints a distinct token per call and can be told to fail or to wait."""

    def __init__(self) -> None:
        self.requests: list[TokenRequest] = []
        self.forced: list[bool] = []
        self.fail_with: Exception | None = None
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.claims: dict[str, object] = {"nbf": NBF, "exp": EXP}

    async def fetch(self, request: TokenRequest, *, force: bool = False) -> ConnectionDetails:
        self.requests.append(request)
        self.forced.append(force)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        token = jwt.encode({**self.claims, "sub": f"call-{len(self.requests)}"}, KEY, algorithm="HS256")
        return ConnectionDetails(server_url="wss://h", participant_token=token)


def _sub(details: ConnectionDetails) -> object:
    return details.claims["sub"]


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source(server: Server, clock: Clock) -> CachingTokenSource:
    return CachingTokenSource(server, clock=clock)


REQUEST = TokenRequest(room_name="r", participant_attributes={"a": "1"}, agent_name="agent")


async def test_same_options_reuse_the_response(server: Server, source: CachingTokenSource) -> None:
    first = await source.fetch(REQUEST)
    second = await source.fetch(
        TokenRequest(room_name="r", participant_attributes={"a": "1"}, agent_name="agent")
    )
    assert second is first
    assert len(server.requests) == 1
    assert source.cached is first


async def test_different_options_refetch_and_replace(server: Server, source: CachingTokenSource) -> None:
    await source.fetch(REQUEST)
    other = await source.fetch(
        TokenRequest(room_name="r", participant_attributes={"a": "2"}, agent_name="agent")
    )
    assert _sub(other) == "call-2"
    assert _sub(await source.fetch(REQUEST)) == "call-3"  # the cache holds one entry: the latest
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("now", "reused"),
    [
        (NBF, True),
        (EXP - 60.001, True),
        (EXP - 60, False),  # within 60 s of expiry: refresh
        (EXP + 1, False),
        (NBF - 0.001, False),  # not yet valid (clock went back)
    ],
)
async def test_freshness_window(
    server: Server, source: CachingTokenSource, clock: Clock, now: float, reused: bool
) -> None:
    await source.fetch(REQUEST)
    clock.now = now
    again = await source.fetch(REQUEST)
    assert (_sub(again) == "call-1") is reused
    assert len(server.requests) == (1 if reused else 2)


async def test_token_without_times_is_reused_indefinitely(
    server: Server, source: CachingTokenSource, clock: Clock
) -> None:
    server.claims = {}
    await source.fetch(REQUEST)
    clock.now = 1e12
    await source.fetch(REQUEST)
    assert len(server.requests) == 1


async def test_force_refetches_and_tells_the_inner_source(server: Server, source: CachingTokenSource) -> None:
    await source.fetch(REQUEST)
    forced = await source.fetch(REQUEST, force=True)
    assert _sub(forced) == "call-2"
    assert server.forced == [False, True]
    assert await source.fetch(REQUEST) is forced


async def test_a_failed_force_leaves_nothing_to_reuse(server: Server, source: CachingTokenSource) -> None:
    # After end() the old room's token must not come back just because the refetch failed.
    await source.fetch(REQUEST)
    server.fail_with = TokenEndpointHTTPError("boom", status=500)
    with pytest.raises(TokenEndpointHTTPError):
        await source.fetch(REQUEST, force=True)
    assert source.cached is None
    server.fail_with = None
    assert _sub(await source.fetch(REQUEST)) == "call-3"


async def test_failure_with_new_options_does_not_poison_the_cache(
    server: Server, source: CachingTokenSource
) -> None:
    first = await source.fetch(REQUEST)
    new_request = TokenRequest(room_name="other")
    server.fail_with = TokenEndpointHTTPError("boom", status=500)
    with pytest.raises(TokenEndpointHTTPError):
        await source.fetch(new_request)
    server.fail_with = None
    # JS would now return the old token for the new options; we must fetch.
    assert _sub(await source.fetch(new_request)) == "call-3"
    # and the old options' entry was replaced by the new one only after that success
    assert source.cached is not None
    assert _sub(source.cached) == "call-3"
    assert first is not source.cached


async def test_failure_keeps_the_old_entry_for_the_old_options(
    server: Server, source: CachingTokenSource
) -> None:
    first = await source.fetch(REQUEST)
    server.fail_with = TokenEndpointHTTPError("boom", status=500)
    with pytest.raises(TokenEndpointHTTPError):
        await source.fetch(TokenRequest(room_name="other"))
    assert await source.fetch(REQUEST) is first
    assert len(server.requests) == 2


async def test_unreadable_token_is_not_cached(server: Server, source: CachingTokenSource) -> None:
    async def bad(request: TokenRequest, *, force: bool = False) -> ConnectionDetails:
        server.requests.append(request)
        return ConnectionDetails(server_url="wss://h", participant_token="garbage")

    server.fetch = bad  # type: ignore[method-assign]
    for _ in range(2):
        with pytest.raises(TokenInvalidError):
            await source.fetch(REQUEST)
    assert source.cached is None
    assert len(server.requests) == 2


async def test_invalidate_makes_the_next_fetch_ask_again(server: Server, source: CachingTokenSource) -> None:
    await source.fetch(REQUEST)
    source.invalidate()
    assert source.cached is None
    assert _sub(await source.fetch(REQUEST)) == "call-2"


async def test_invalidate_during_a_fetch_keeps_its_result_out_of_the_cache(
    server: Server, source: CachingTokenSource
) -> None:
    server.gate = asyncio.Event()
    pending = asyncio.create_task(source.fetch(REQUEST))
    await server.entered.wait()
    source.invalidate()
    server.gate.set()
    assert _sub(await pending) == "call-1"  # the caller still gets its answer
    assert source.cached is None
    assert _sub(await source.fetch(REQUEST)) == "call-2"


async def test_concurrent_fetches_are_serialised_and_share_one_round_trip(
    server: Server, source: CachingTokenSource
) -> None:
    server.gate = asyncio.Event()
    tasks = [asyncio.create_task(source.fetch(REQUEST)) for _ in range(5)]
    await server.entered.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(server.requests) == 1  # the others wait for the lock
    server.gate.set()
    results = await asyncio.gather(*tasks)
    assert all(result is results[0] for result in results)
    assert len(server.requests) == 1


def test_cached_helper_wraps_once(server: Server) -> None:
    wrapped = cached(server)
    assert isinstance(wrapped, CachingTokenSource)
    assert wrapped.inner is server
    assert cached(wrapped) is wrapped
    assert "CachingTokenSource(" in repr(wrapped)
