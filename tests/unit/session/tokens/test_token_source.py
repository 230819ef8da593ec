from __future__ import annotations

from datetime import timedelta

import pytest
from livekit import api

from agent_tui.session.errors import TokenConfigError, TokenInvalidError, TokenResponseError
from agent_tui.session.tokens.details import ConnectionDetails, TokenRequest
from agent_tui.session.tokens.source import CustomTokenSource, LiteralTokenSource, TokenSource

SECRET = "a-test-signing-key-that-is-long-enough-0123456789"


def _mint(identity: str = "alice", ttl: timedelta = timedelta(hours=1)) -> str:
    return (
        api.AccessToken("key", SECRET)
        .with_identity(identity)
        .with_ttl(ttl)
        .with_grants(api.VideoGrants(room_join=True, room="r"))
        .to_jwt()
    )


def test_every_source_satisfies_the_protocol() -> None:
    assert isinstance(LiteralTokenSource("wss://h", _mint()), TokenSource)
    assert isinstance(CustomTokenSource(_unused), TokenSource)


async def _unused(request: TokenRequest) -> ConnectionDetails:
    raise AssertionError("not called")


# -- literal ---------------------------------------------------------------------------------------------
async def test_literal_returns_its_details_whatever_the_request() -> None:
    token = _mint()
    source = LiteralTokenSource("wss://h.example", token)
    details = await source.fetch(TokenRequest(room_name="ignored", agent_name="ignored"))
    assert details == ConnectionDetails(server_url="wss://h.example", participant_token=token)
    assert await source.fetch(TokenRequest(), force=True) == details


async def test_literal_rejects_an_unreadable_token_without_echoing_it() -> None:
    bad = "this-is-not-a-jwt-but-is-secret-anyway"
    with pytest.raises(TokenInvalidError) as caught:
        await LiteralTokenSource("wss://h", bad).fetch(TokenRequest())
    assert str(caught.value).startswith(
        "The participant token from the literal token source is not a readable JWT"
    )
    assert "lk token create" in str(caught.value)
    assert bad not in str(caught.value)


async def test_literal_rejects_an_expired_token() -> None:
    token = _mint(ttl=timedelta(seconds=-90))
    with pytest.raises(TokenInvalidError, match=r"expired at .* UTC \(\d+ s ago\)") as caught:
        await LiteralTokenSource("wss://h", token).fetch(TokenRequest())
    assert token not in str(caught.value)


async def test_literal_rejects_a_non_livekit_url_as_a_config_error() -> None:
    with pytest.raises(TokenConfigError, match="is not a ws://, wss://, http:// or https:// URL"):
        await LiteralTokenSource("h.example:7880", _mint()).fetch(TokenRequest())


async def test_literal_callable_is_called_on_every_fetch_sync_or_async() -> None:
    calls: list[str] = []

    def sync_provider() -> ConnectionDetails:
        calls.append("sync")
        return ConnectionDetails(server_url="wss://h", participant_token=_mint(f"u{len(calls)}"))

    async def async_provider() -> ConnectionDetails:
        calls.append("async")
        return ConnectionDetails(server_url="wss://h", participant_token=_mint(f"u{len(calls)}"))

    sync_source = LiteralTokenSource.from_callable(sync_provider)
    first = await sync_source.fetch(TokenRequest())
    second = await sync_source.fetch(TokenRequest())
    assert first.claims["sub"] == "u1"
    assert second.claims["sub"] == "u2"  # never cached
    assert (await LiteralTokenSource.from_callable(async_provider).fetch(TokenRequest())).claims[
        "sub"
    ] == "u3"
    assert calls == ["sync", "sync", "async"]


async def test_literal_callable_results_are_checked_too() -> None:
    source = LiteralTokenSource.from_callable(
        lambda: ConnectionDetails(server_url="wss://h", participant_token=_mint(ttl=timedelta(seconds=-5)))
    )
    with pytest.raises(TokenInvalidError, match="expired"):
        await source.fetch(TokenRequest())


# -- custom ----------------------------------------------------------------------------------------------
async def test_custom_receives_the_request() -> None:
    seen: list[TokenRequest] = []

    async def mint(request: TokenRequest) -> ConnectionDetails:
        seen.append(request)
        return ConnectionDetails(
            server_url="wss://h", participant_token=_mint(request.participant_identity or "x")
        )

    request = TokenRequest(room_name="r", participant_identity="bob", participant_attributes={"a": "1"})
    details = await CustomTokenSource(mint).fetch(request)
    assert seen == [request]
    assert details.claims["sub"] == "bob"


async def test_custom_results_are_checked_as_a_reply() -> None:
    async def bad_url(request: TokenRequest) -> ConnectionDetails:
        return ConnectionDetails(server_url="nope", participant_token=_mint())

    async def bad_token(request: TokenRequest) -> ConnectionDetails:
        return ConnectionDetails(server_url="wss://h", participant_token="x.y")

    with pytest.raises(TokenResponseError, match="custom token source"):
        await CustomTokenSource(bad_url).fetch(TokenRequest())
    with pytest.raises(TokenInvalidError, match="custom token source is not a readable JWT"):
        await CustomTokenSource(bad_token).fetch(TokenRequest())


async def test_custom_errors_propagate_unchanged() -> None:
    async def failing(request: TokenRequest) -> ConnectionDetails:
        raise TokenConfigError("the app's own message")

    with pytest.raises(TokenConfigError, match=r"^the app's own message$"):
        await CustomTokenSource(failing).fetch(TokenRequest())
