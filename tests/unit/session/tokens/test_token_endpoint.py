"""EndpointTokenSource and SandboxTokenSource against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from aiohttp import web
from livekit import api

from agent_tui.session.errors import (
    TokenConfigError,
    TokenEndpointHTTPError,
    TokenEndpointTimeoutError,
    TokenEndpointUnreachableError,
    TokenInvalidError,
    TokenResponseError,
    TokenSourceError,
)
from agent_tui.session.tokens.cache import CachingTokenSource
from agent_tui.session.tokens.details import ConnectionDetails, TokenRequest
from agent_tui.session.tokens.endpoint import EndpointTokenSource, SandboxTokenSource

pytestmark = pytest.mark.timeout(30)

SECRET = "a-test-signing-key-that-is-long-enough-0123456789"
API_KEY_HEADER = "sk-test-0f3c9a77-api-key"


def mint(ttl: timedelta = timedelta(hours=1), agent: str | None = "helper") -> str:
    token = (
        api.AccessToken("key", SECRET)
        .with_identity("alice")
        .with_ttl(ttl)
        .with_grants(api.VideoGrants(room_join=True, room="room-1"))
    )
    if agent is not None:
        token.with_room_config(api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=agent)]))
    return token.to_jwt()


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TokenServer:
    """A token server whose reply each test chooses; it records every request it gets."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.token = mint()
        self.handler: Handler = self.snake_reply
        self.release = asyncio.Event()
        self.base_url = ""

    @property
    def url(self) -> str:
        return f"{self.base_url}/token"

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(
                request.method,
                request.path_qs,
                {k.lower(): v for k, v in request.headers.items()},
                await request.read(),
            )
        )
        return await self.handler(request)

    async def snake_reply(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"server_url": "wss://lk.example", "participant_token": self.token, "room_name": "room-1"},
            status=201,
        )

    def reply(self, body: bytes | str, *, status: int = 200, content_type: str = "application/json") -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            data = body.encode() if isinstance(body, str) else body
            return web.Response(body=data, status=status, headers={"Content-Type": content_type})

        self.handler = handler


@pytest.fixture
async def server() -> AsyncIterator[TokenServer]:
    token_server = TokenServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", token_server.dispatch)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    token_server.base_url = f"http://{host}:{port}"
    try:
        yield token_server
    finally:
        token_server.release.set()
        await runner.cleanup()


def endpoint(server: TokenServer, **kwargs: object) -> EndpointTokenSource:
    options: dict[str, object] = {"headers": {"X-Api-Key": API_KEY_HEADER}, "timeout": 5.0, **kwargs}
    return EndpointTokenSource(server.url, **options)  # type: ignore[arg-type]


FULL_REQUEST = TokenRequest(
    room_name="room-1",
    participant_name="Alice",
    participant_identity="alice",
    participant_metadata='{"tier":"gold"}',
    participant_attributes={"lang": "en"},
    agent_name="helper",
    agent_metadata='{"job":1}',
)


# -- success ---------------------------------------------------------------------------------------------
async def test_posts_the_standard_body_and_reads_a_snake_case_reply(server: TokenServer) -> None:
    details = await endpoint(server).fetch(FULL_REQUEST)

    assert len(server.seen) == 1
    seen = server.seen[0]
    assert seen.method == "POST"
    assert seen.path == "/token"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-api-key"] == API_KEY_HEADER
    assert seen.json() == {
        "room_name": "room-1",
        "participant_name": "Alice",
        "participant_identity": "alice",
        "participant_metadata": '{"tier":"gold"}',
        "participant_attributes": {"lang": "en"},
        "room_config": {"agents": [{"agent_name": "helper", "metadata": '{"job":1}'}]},
    }
    assert details == ConnectionDetails(
        server_url="wss://lk.example", participant_token=server.token, room_name="room-1"
    )
    assert details.dispatches_agent()
    assert details.agent_names() == ["helper"]


async def test_reads_a_camel_case_reply_like_agent_starter_react(server: TokenServer) -> None:
    server.reply(
        json.dumps(
            {
                "serverUrl": "wss://lk.example",
                "roomName": "room-9",
                "participantName": "Alice",
                "participantToken": server.token,
            }
        ),
        status=200,
    )
    details = await endpoint(server).fetch(TokenRequest())
    assert details == ConnectionDetails(
        server_url="wss://lk.example",
        participant_token=server.token,
        room_name="room-9",
        participant_name="Alice",
    )
    assert server.seen[0].json() == {}


@pytest.mark.parametrize("status", [200, 201, 202, 203])
async def test_any_2xx_is_success(server: TokenServer, status: int) -> None:
    server.reply(json.dumps({"server_url": "wss://h", "participant_token": server.token}), status=status)
    assert (await endpoint(server).fetch(TokenRequest())).participant_token == server.token


async def test_json_with_a_wrong_content_type_is_still_accepted(server: TokenServer) -> None:
    server.reply(
        json.dumps({"server_url": "wss://h", "participant_token": server.token}), content_type="text/plain"
    )
    assert (await endpoint(server).fetch(TokenRequest())).server_url == "wss://h"


async def test_method_and_headers_are_configurable(server: TokenServer) -> None:
    source = EndpointTokenSource(
        server.url,
        method="put",
        headers={"Authorization": "Bearer abc", "content-type": "application/json; v=2"},
    )
    await source.fetch(TokenRequest(room_name="r"))
    seen = server.seen[0]
    assert seen.method == "PUT"
    assert seen.headers["authorization"] == "Bearer abc"
    assert seen.headers["content-type"] == "application/json; v=2"  # the user's header wins, once
    assert seen.json() == {"room_name": "r"}


async def test_a_shared_client_is_used_and_left_open(server: TokenServer) -> None:
    async with httpx.AsyncClient() as client:
        source = EndpointTokenSource(server.url, client=client)
        await source.fetch(TokenRequest())
        await source.fetch(TokenRequest())
        assert not client.is_closed
    assert len(server.seen) == 2


# -- bad replies -----------------------------------------------------------------------------------------
async def test_html_reply_asks_whether_the_url_is_the_endpoint(server: TokenServer) -> None:
    server.reply(
        "<!DOCTYPE html><html><head><title>My App</title><script>var x=1;</script></head>"
        "<body><h1>Welcome</h1></body></html>",
        content_type="text/html; charset=utf-8",
    )
    with pytest.raises(TokenResponseError) as caught:
        await endpoint(server).fetch(TokenRequest())
    message = str(caught.value)
    assert message.startswith(
        f"Token endpoint {server.url} answered HTML, not JSON — is the URL the token endpoint"
    )
    assert "My App Welcome" in message
    assert "<" not in message
    assert "var x" not in message


async def test_a_2xx_page_echoing_our_headers_does_not_leak_them(server: TokenServer) -> None:
    server.reply(f"<html><body>Hello, {API_KEY_HEADER}</body></html>", content_type="text/html")
    with pytest.raises(TokenResponseError) as caught:
        await endpoint(server).fetch(TokenRequest())
    assert "answered HTML, not JSON" in str(caught.value)
    assert API_KEY_HEADER not in str(caught.value)


async def test_500_reports_status_and_a_sanitised_excerpt(server: TokenServer) -> None:
    body = (
        f"Traceback:\n\n  minting for key={API_KEY_HEADER}   failed; token was {server.token}\n"
        + "padding " * 100
    )
    server.reply(body, status=500, content_type="text/plain")
    with pytest.raises(TokenEndpointHTTPError) as caught:
        await endpoint(server).fetch(TokenRequest())
    error = caught.value
    message = str(error)
    assert error.status == 500
    assert message.startswith(
        f"Token endpoint {server.url} answered 500 Internal Server Error: Traceback: minting"
    )
    assert message.endswith(". Check the token server's logs.")
    assert server.token not in message
    assert API_KEY_HEADER not in message
    assert "\n" not in message
    excerpt = message.split("Error: ", 1)[1].rsplit(". Check", 1)[0]
    assert len(excerpt) <= 121


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "Check the credentials (headers) the token server expects."),
        (403, "Check the credentials (headers) the token server expects."),
        (404, "Check the URL path and the HTTP method."),
        (422, "The token server refused the request: check the room, participant and agent options"),
        (503, "Check the token server's logs."),
    ],
)
async def test_non_2xx_statuses_say_what_to_check(server: TokenServer, status: int, hint: str) -> None:
    server.reply("<html><body><h1>Nope</h1></body></html>", status=status, content_type="text/html")
    with pytest.raises(TokenEndpointHTTPError) as caught:
        await endpoint(server).fetch(TokenRequest())
    assert caught.value.status == status
    assert f"answered {status} " in str(caught.value)
    assert ": Nope. " in str(caught.value)
    assert hint in str(caught.value)


async def test_empty_error_body_is_named(server: TokenServer) -> None:
    server.reply(b"", status=502)
    with pytest.raises(TokenEndpointHTTPError, match="answered 502 Bad Gateway with an empty body"):
        await endpoint(server).fetch(TokenRequest())


async def test_redirects_are_reported_not_followed(server: TokenServer) -> None:
    async def redirect(request: web.Request) -> web.StreamResponse:
        if request.path == "/token":
            raise web.HTTPFound(f"{server.base_url}/moved?sig=hidden-signature-value")
        return await server.snake_reply(request)

    server.handler = redirect
    with pytest.raises(TokenEndpointHTTPError) as caught:
        await endpoint(server).fetch(TokenRequest())
    assert caught.value.status == 302
    assert f"a redirect to {server.base_url}/moved?… — use the final URL" in str(caught.value)
    assert "hidden-signature-value" not in str(caught.value)
    assert [seen.path for seen in server.seen] == ["/token"]


@pytest.mark.parametrize(
    ("body", "content_type", "match"),
    [
        ("hello, world", "text/plain", r"answered something that is not JSON \(hello, world\)"),
        ("", "application/json", "answered an empty body, not JSON"),
        ("[1, 2]", "application/json", "answered JSON an array, not an object"),
        (
            '{"server_url": "wss://h"}',
            "application/json",
            "without participant_token \\(or participantToken\\)",
        ),
        (
            '{"participantToken": "x"}',
            "application/json",
            "without server_url \\(or serverUrl\\); its keys: part",
        ),
        (
            '{"server_url": 7, "participant_token": "x"}',
            "application/json",
            "server_url that is JSON a number",
        ),
    ],
)
async def test_bad_2xx_bodies_are_response_errors(
    server: TokenServer, body: str, content_type: str, match: str
) -> None:
    server.reply(body, content_type=content_type)
    with pytest.raises(TokenResponseError, match=match):
        await endpoint(server).fetch(TokenRequest())


async def test_unreadable_token_in_reply(server: TokenServer) -> None:
    server.reply(json.dumps({"server_url": "wss://h", "participant_token": "opaque-session-cookie"}))
    with pytest.raises(TokenInvalidError) as caught:
        await endpoint(server).fetch(TokenRequest())
    message = str(caught.value)
    assert message.startswith(f"The participant token from token endpoint {server.url} is not a readable JWT")
    assert "opaque-session-cookie" not in message


async def test_expired_token_in_reply_blames_the_server_clock(server: TokenServer) -> None:
    server.token = mint(ttl=timedelta(minutes=-10))
    with pytest.raises(TokenInvalidError) as caught:
        await endpoint(server).fetch(TokenRequest())
    message = str(caught.value)
    assert "expired at" in message
    assert "(10 min ago)" in message
    assert "the token server handed out an expired token; check its clock" in message
    assert server.token not in message


async def test_oversized_reply_is_refused(server: TokenServer) -> None:
    server.reply(b'{"padding": "' + b"x" * (1 << 20) + b'"}')
    with pytest.raises(TokenResponseError, match="answered more than 1 MiB"):
        await endpoint(server).fetch(TokenRequest())


# -- transport failures ----------------------------------------------------------------------------------
async def test_slow_reply_times_out_quickly_and_names_the_timeout(server: TokenServer) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await server.release.wait()
        return await server.snake_reply(request)

    server.handler = slow
    started = time.monotonic()
    with pytest.raises(TokenEndpointTimeoutError) as caught:
        await endpoint(server, timeout=0.2).fetch(TokenRequest())
    assert time.monotonic() - started < 2.0
    assert str(caught.value).startswith(f"Token endpoint {server.url} did not answer within 0.2 s")


async def test_a_trickling_reply_is_bounded_by_the_overall_timeout(server: TokenServer) -> None:
    # Each chunk arrives well within the timeout, so only a deadline on the whole exchange can stop it.
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(100):
            await response.write(b" ")
            await asyncio.sleep(0.05)
        return response

    server.handler = trickle
    started = time.monotonic()
    with pytest.raises(TokenEndpointTimeoutError, match=r"did not answer within 0\.3 s"):
        await endpoint(server, timeout=0.3).fetch(TokenRequest())
    assert time.monotonic() - started < 2.0


async def test_closed_port_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/token"
    with pytest.raises(TokenEndpointUnreachableError) as caught:
        await EndpointTokenSource(url, headers={"X-Api-Key": API_KEY_HEADER}).fetch(TokenRequest())
    message = str(caught.value)
    assert message.startswith(f"Cannot reach token endpoint {url} (")
    assert "is the token server running" in message
    assert API_KEY_HEADER not in message


async def test_credentials_in_the_url_never_reach_messages(server: TokenServer) -> None:
    server.reply("nope", status=500)
    url = server.url.replace("http://", "http://user:pa55word@") + "?api_key=query-secret-value"
    with pytest.raises(TokenEndpointHTTPError) as caught:
        await EndpointTokenSource(url).fetch(TokenRequest())
    assert f"Token endpoint {server.url}?… answered 500" in str(caught.value)
    assert "pa55word" not in str(caught.value)
    assert "query-secret-value" not in str(caught.value)


# -- configuration ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["", "localhost:8080/token", "ftp://h/token", "wss://h/token", "http://", "http://[::1/"]
)
def test_non_http_urls_are_config_errors(url: str) -> None:
    with pytest.raises(TokenConfigError, match="is not an http:// or https:// URL"):
        EndpointTokenSource(url)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"timeout": float("nan")}, "timeout must be a positive number"),
        ({"method": "GET /x"}, "is not an HTTP method"),
        ({"headers": {"X-Key": "ключ"}}, "headers are not valid HTTP headers"),
    ],
)
def test_bad_options_are_config_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(TokenConfigError, match=match):
        EndpointTokenSource("https://h/token", **kwargs)  # type: ignore[arg-type]


def test_repr_shows_neither_headers_nor_query() -> None:
    source = EndpointTokenSource("https://h/token?k=v", headers={"X-Api-Key": API_KEY_HEADER})
    assert repr(source) == "EndpointTokenSource(url='https://h/token?…', method='POST')"


def test_all_errors_belong_to_one_family() -> None:
    for error in (
        TokenConfigError,
        TokenEndpointHTTPError,
        TokenEndpointTimeoutError,
        TokenEndpointUnreachableError,
        TokenInvalidError,
        TokenResponseError,
    ):
        assert issubclass(error, TokenSourceError)


# -- caching over the wire -------------------------------------------------------------------------------
async def test_cached_endpoint_serves_concurrent_starts_with_one_request(server: TokenServer) -> None:
    async def slowish(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.05)
        return await server.snake_reply(request)

    server.handler = slowish
    source = CachingTokenSource(endpoint(server))
    results = await asyncio.gather(*(source.fetch(FULL_REQUEST) for _ in range(5)))
    assert len(server.seen) == 1
    assert all(result is results[0] for result in results)
    await source.fetch(FULL_REQUEST, force=True)
    assert len(server.seen) == 2


async def test_cached_endpoint_refetches_after_a_failure(server: TokenServer) -> None:
    source = CachingTokenSource(endpoint(server))
    server.reply("down", status=503)
    with pytest.raises(TokenEndpointHTTPError):
        await source.fetch(FULL_REQUEST)
    server.handler = server.snake_reply
    assert (await source.fetch(FULL_REQUEST)).participant_token == server.token
    assert len(server.seen) == 2


# -- sandbox ---------------------------------------------------------------------------------------------
STANDARD_HEADERS = {
    "host",
    "accept",
    "accept-encoding",
    "connection",
    "user-agent",
    "content-length",
    "content-type",
}


async def test_sandbox_posts_to_its_path_with_only_the_trimmed_id(server: TokenServer) -> None:
    source = SandboxTokenSource("  --my-sandbox-1a2b3c.\n", base_url=server.base_url + "/")
    details = await source.fetch(TokenRequest(room_name="r", agent_name="helper"))
    assert details.participant_token == server.token
    seen = server.seen[0]
    assert seen.method == "POST"
    assert seen.path == "/api/v2/sandbox/connection-details"
    assert seen.headers["x-sandbox-id"] == "my-sandbox-1a2b3c"
    assert set(seen.headers) <= STANDARD_HEADERS | {"x-sandbox-id"}
    assert seen.json() == {"room_name": "r", "room_config": {"agents": [{"agent_name": "helper"}]}}


async def test_sandbox_defaults_to_livekit_cloud() -> None:
    url = "https://cloud-api.livekit.io/api/v2/sandbox/connection-details"
    assert repr(SandboxTokenSource("abc")) == f"SandboxTokenSource(url='{url}', method='POST')"


async def test_sandbox_rejection_points_at_the_id(server: TokenServer) -> None:
    server.reply('{"error": "sandbox not found"}', status=404)
    with pytest.raises(TokenEndpointHTTPError) as caught:
        await SandboxTokenSource("secret-sandbox-id", base_url=server.base_url).fetch(TokenRequest())
    message = str(caught.value)
    assert message.startswith(
        f"Sandbox token server {server.base_url}/api/v2/sandbox/connection-details answered 404"
    )
    assert "Check the sandbox id" in message
    assert "secret-sandbox-id" not in message


@pytest.mark.parametrize("sandbox_id", ["", "  ", "--..--"])
def test_empty_sandbox_id_is_a_config_error(sandbox_id: str) -> None:
    with pytest.raises(TokenConfigError, match="sandbox id is empty"):
        SandboxTokenSource(sandbox_id)
