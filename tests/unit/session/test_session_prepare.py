"""Session.prepare: the token fetched ahead for the next start's room, one fetch when a start overlaps
it, and a warm-up that is only ever a hint."""

from __future__ import annotations

import asyncio
import time

import pytest
from livekit import api

from agent_tui.session import (
    ConnectionDetails,
    ConnectionFailedError,
    CustomTokenSource,
    Session,
    SessionOptions,
    SessionStateError,
    TokenRequest,
)
from agent_tui.session.warm_up import http_url, warm_up

#: Nothing listens on the discard port: a connect there is refused at once.
REFUSED_URL = "ws://127.0.0.1:9"


class CountingSource:
    """A custom token source that mints a real token for each request and remembers the requests;
    ``gate`` holds fetches back until the test opens it."""

    def __init__(self) -> None:
        self.requests: list[TokenRequest] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.source = CustomTokenSource(self._mint)

    async def _mint(self, request: TokenRequest) -> ConnectionDetails:
        self.requests.append(request)
        await self.gate.wait()
        token = (
            api.AccessToken("key", "a-secret-long-enough-for-hmac-sha256-keys")
            .with_identity("user-1")
            .with_grants(api.VideoGrants(room_join=True, room=request.room_name or "r"))
        )
        return ConnectionDetails(server_url=REFUSED_URL, participant_token=token.to_jwt())

    @property
    def rooms(self) -> list[str | None]:
        return [request.room_name for request in self.requests]


def session_for(source: CountingSource) -> Session:
    return Session(source.source, SessionOptions(room_connect_timeout=5.0))


async def test_start_uses_the_prepared_token_and_its_room() -> None:
    source = CountingSource()
    session = session_for(source)
    await session.prepare()
    assert session.prepared and len(source.requests) == 1
    with pytest.raises(ConnectionFailedError):
        await session.start()
    assert len(source.requests) == 1  # no second fetch
    assert session.room_name == source.rooms[0]
    assert not session.prepared  # used once: the next start gets a new room and token


async def test_preparing_again_keeps_the_room() -> None:
    source = CountingSource()
    session = session_for(source)
    await session.prepare()
    await session.prepare()
    assert len(set(source.rooms)) == 1


async def test_a_start_during_a_prepare_waits_for_its_token_instead_of_fetching_twice() -> None:
    source = CountingSource()
    source.gate.clear()
    session = session_for(source)
    preparing = asyncio.ensure_future(session.prepare())
    starting = asyncio.ensure_future(session.start())
    await asyncio.sleep(0)
    source.gate.set()
    with pytest.raises(ConnectionFailedError):
        await starting
    await preparing
    assert len(source.requests) == 1


async def test_a_failed_prepare_leaves_the_fetch_to_start() -> None:
    calls: list[TokenRequest] = []

    async def refuse(request: TokenRequest) -> ConnectionDetails:
        calls.append(request)
        return ConnectionDetails(server_url="not a url", participant_token="x")

    session = Session(CustomTokenSource(refuse), SessionOptions())
    with pytest.raises(Exception) as prepared:
        await session.prepare()
    assert not session.prepared
    with pytest.raises(type(prepared.value)):
        await session.start()
    assert len(calls) == 2


async def test_the_microphone_is_set_before_start_only() -> None:
    source = CountingSource()
    session = session_for(source)
    session.set_microphone(None)
    source.gate.clear()
    starting = asyncio.ensure_future(session.start())
    await asyncio.sleep(0)
    with pytest.raises(SessionStateError):
        session.set_microphone(None)
    source.gate.set()
    with pytest.raises(ConnectionFailedError):
        await starting


@pytest.mark.parametrize(
    ("server_url", "expected"),
    [
        ("ws://127.0.0.1:7880", "http://127.0.0.1:7880/"),
        ("wss://example.livekit.cloud", "https://example.livekit.cloud/"),
        ("WSS://host:443/base?access_token=x", "https://host:443/base"),
        ("https://host", "https://host/"),
        ("ftp://host", None),
        ("not a url", None),
    ],
)
def test_the_warm_up_url_is_the_servers_http_url(server_url: str, expected: str | None) -> None:
    assert http_url(server_url) == expected


async def test_a_warm_up_that_fails_says_so_and_does_not_raise() -> None:
    began = time.monotonic()
    assert await warm_up(REFUSED_URL, timeout_s=1.0) is False
    assert await warm_up("not a url") is False
    assert time.monotonic() - began < 2.0
