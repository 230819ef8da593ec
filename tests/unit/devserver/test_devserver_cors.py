"""CORS on the dev server's HTTP answers, as livekit-server 1.13.5 gives them (probed side by side)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from agent_tui.devserver import DevServer


@pytest.fixture
async def http_url() -> AsyncIterator[str]:
    async with DevServer(port=0) as server:
        yield server.url.replace("ws://", "http://")


async def test_a_preflight_is_answered_204_with_what_the_browser_asked_for(http_url: str) -> None:
    headers = {
        "Origin": "http://127.0.0.1:8000",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.options(f"{http_url}/rtc/v1/validate", headers=headers) as got,
    ):
        assert got.status == 204
        assert got.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
        assert got.headers["Access-Control-Allow-Methods"] == "GET"
        assert got.headers["Access-Control-Allow-Headers"] == "authorization"
        assert got.headers["Access-Control-Max-Age"] == "86400"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/rtc/v1/validate"),
        ("GET", "/rtc"),
        ("POST", "/twirp/livekit.RoomService/ListRooms"),
        ("POST", "/token"),
    ],
)
async def test_every_answer_may_be_read_by_a_page_refusals_included(
    http_url: str, method: str, path: str
) -> None:
    async with aiohttp.ClientSession() as http, http.request(method, f"{http_url}{path}", data=b"{") as got:
        assert got.headers.get("Access-Control-Allow-Origin") == "*", (got.status, dict(got.headers))
        assert got.status >= 400  # a refusal: no token, legacy path, malformed body
