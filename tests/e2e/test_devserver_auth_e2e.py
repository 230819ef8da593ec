"""Refusals: bad, expired and wrong-room tokens, and the legacy protocol path, as the SDK reports them."""

from __future__ import annotations

import datetime
import time

import aiohttp
import pytest
from e2e_harness import mint_token
from livekit import rtc

from agent_tui.devserver import DevServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


async def _connect_error(url: str, token: str, options: rtc.RoomOptions | None = None) -> tuple[str, float]:
    room = rtc.Room()
    started = time.monotonic()
    with pytest.raises(rtc.ConnectError) as refused:
        await room.connect(url, token, options or rtc.RoomOptions())
    return str(refused.value), time.monotonic() - started


@pytest.mark.parametrize(
    ("token_args", "query", "expected"),
    [
        pytest.param(
            {"api_secret": "s" * 48},
            "",
            "401 Unauthorized - invalid token: Signature verification failed",
            id="bad",
        ),
        pytest.param(
            {"ttl": datetime.timedelta(minutes=-5)},
            "",
            "401 Unauthorized - invalid token: the token has expired",
            id="expired",
        ),
        pytest.param(
            {},
            "?room=another-room",
            "401 Unauthorized - permissions denied: the token is for room 'e2e-room', not 'another-room'",
            id="wrong-room",
        ),
        pytest.param(
            {"room_join": False},
            "",
            "401 Unauthorized - permissions denied: the token has no roomJoin grant",
            id="no-join",
        ),
        pytest.param(
            {"api_key": "otherkey"}, "", "401 Unauthorized - invalid API key: otherkey", id="unknown-key"
        ),
    ],
)
async def test_refused_tokens_fail_fast_with_the_reason(
    dev_server: DevServer, token_args: dict[str, object], query: str, expected: str
) -> None:
    message, elapsed = await _connect_error(dev_server.url + query, mint_token("user", **token_args))  # type: ignore[arg-type]
    assert expected in message
    assert elapsed < 3, "a refused token must not be retried"
    assert not dev_server.rooms, "a refused client must not create a room"


async def test_legacy_dual_peer_connection_path_gets_a_clear_404(dev_server: DevServer) -> None:
    message, _ = await _connect_error(
        dev_server.url, mint_token("user"), rtc.RoomOptions(single_peer_connection=False)
    )
    assert "404 Not Found" in message
    assert "only the single peer connection protocol at /rtc/v1" in message


async def test_validate_endpoint_and_health_check(dev_server: DevServer) -> None:
    http_url = dev_server.url.replace("ws://", "http://")
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {mint_token('user')}"}
        async with http.get(f"{http_url}/rtc/v1/validate", headers=headers) as response:
            assert (response.status, await response.text()) == (200, "success")
        expired = mint_token("user", ttl=datetime.timedelta(minutes=-5))
        async with http.get(f"{http_url}/rtc/v1/validate", params={"access_token": expired}) as response:
            assert response.status == 401
            assert "expired" in await response.text()
        async with http.get(f"{http_url}/rtc/v1/validate") as response:
            assert response.status == 401
        async with http.get(f"{http_url}/") as response:
            assert (response.status, await response.text()) == (200, "OK")
        async with http.get(f"{http_url}/twirp/livekit.RoomService/ListRooms") as response:
            assert response.status == 404
