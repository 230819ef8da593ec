"""Refusals: bad and expired tokens, missing grants, and the legacy protocol path, as the SDK reports them.

Both servers refuse with the same status and the same words up to the colon; after it the dev server says
why in words, where livekit-server echoes the whole token (which the SDK then logs) and the verifier's
message. A ``room`` query parameter is ignored by both: the token's grant names the room.
"""

from __future__ import annotations

import datetime
import time

import aiohttp
import pytest
from livekit import rtc
from livekit.protocol.room import ListRoomsRequest
from livekit.protocol.rtc import JoinRequest

from agent_tui.devserver import DevServer
from agent_tui.devserver.join_request import encode_join_request
from tests.e2e.e2e_harness import LiveServer, mint_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


async def _connect_error(url: str, token: str, options: rtc.RoomOptions | None = None) -> tuple[str, float]:
    room = rtc.Room()
    started = time.monotonic()
    with pytest.raises(rtc.ConnectError) as refused:
        await room.connect(url, token, options or rtc.RoomOptions())
    return str(refused.value), time.monotonic() - started


@pytest.mark.parametrize(
    ("token_args", "query", "expected", "dev_detail"),
    [
        pytest.param(
            {"api_secret": "s" * 48},
            "",
            "401 Unauthorized - invalid token",
            "invalid token: Signature verification failed",
            id="bad",
        ),
        pytest.param(
            {"ttl": datetime.timedelta(minutes=-5), "signed": True},
            "",
            "401 Unauthorized - invalid token",
            "invalid token: the token has expired",
            id="expired",
        ),
        pytest.param(
            {"room_join": False, "signed": True},
            "?room=e2e-room",
            "401 Unauthorized - permissions denied",
            "permissions denied: the token has no roomJoin grant",
            id="no-join",
        ),
        pytest.param(
            {"api_key": "otherkey"},
            "",
            "401 Unauthorized - invalid API key: otherkey",
            "invalid API key: otherkey",
            id="unknown-key",
        ),
    ],
)
async def test_refused_tokens_fail_fast_with_the_reason(
    server: LiveServer, token_args: dict[str, object], query: str, expected: str, dev_detail: str
) -> None:
    args = dict(token_args)
    if args.pop("signed", False):
        args.update(api_key=server.api_key, api_secret=server.api_secret)
    message, elapsed = await _connect_error(server.url + query, mint_token("user", **args))  # type: ignore[arg-type]
    assert expected in message
    if server.dev is not None:
        assert dev_detail in message
    assert elapsed < 3, "a refused token must not be retried"
    async with server.api() as lk:
        assert not (await lk.room.list_rooms(ListRoomsRequest())).rooms, "a refused client made a room"


async def test_a_room_query_parameter_is_ignored_the_token_names_the_room(server: LiveServer) -> None:
    room = rtc.Room()
    await room.connect(server.url + "?room=another-room", server.token("user"), rtc.RoomOptions())
    try:
        assert room.name == "e2e-room"
    finally:
        await room.disconnect()


async def test_legacy_dual_peer_connection_path_gets_a_clear_404(dev_server: DevServer) -> None:
    """Dev server only: livekit-server speaks the legacy two-connection protocol as well."""
    message, _ = await _connect_error(
        dev_server.url, mint_token("user"), rtc.RoomOptions(single_peer_connection=False)
    )
    assert "404 Not Found" in message
    assert "only the single peer connection protocol at /rtc/v1" in message


async def test_validate_endpoint_and_health_check(server: LiveServer) -> None:
    """What the SDK asks after a refused connection (browsers too: the answers carry CORS headers)."""
    join = {"join_request": encode_join_request(JoinRequest(), compress=True)}
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {server.token('user')}"}
        validate = f"{server.http_url}/rtc/v1/validate"
        async with http.get(validate, headers=headers, params=join) as response:
            assert (response.status, await response.text()) == (200, "success")
        async with http.get(validate, headers=headers) as response:
            assert response.status == 400  # validate checks the join request as the connection would
            assert "join_request" in await response.text()
        expired = server.token("user", ttl=datetime.timedelta(minutes=-5))
        async with http.get(validate, params={"access_token": expired, **join}) as response:
            assert response.status == 401
            assert "expired" in await response.text()
        async with http.get(validate, params=join) as response:
            assert response.status == 401
        async with http.get(f"{server.http_url}/") as response:
            assert (response.status, await response.text()) == (200, "OK")
        async with http.get(f"{server.http_url}/twirp/livekit.RoomService/ListRooms") as response:
            assert response.status == 404
