"""parse_token_response: examples, then properties over arbitrary input (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_tui.session.errors import TokenInvalidError, TokenResponseError
from agent_tui.session.tokens.details import ConnectionDetails
from agent_tui.session.tokens.endpoint import parse_token_response

KEY = "a-test-signing-key-that-is-long-enough-0123456789"
NOW = 1_800_000_000.0
TOKEN = jwt.encode({"sub": "alice", "nbf": NOW - 10, "exp": NOW + 3600}, KEY, algorithm="HS256")


def _body(value: object) -> bytes:
    return json.dumps(value).encode()


# -- examples --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "reply",
    [
        {"server_url": "wss://h", "participant_token": TOKEN},
        {"serverUrl": "wss://h", "participantToken": TOKEN},
        {"server_url": "wss://h", "participantToken": TOKEN},
        {"server_url": None, "serverUrl": "wss://h", "participant_token": TOKEN},
        {"server_url": "wss://h", "participant_token": f"  {TOKEN}\n", "extra": {"ignored": [1, 2]}},
    ],
)
def test_both_casings_and_mixes_are_read(reply: dict[str, Any]) -> None:
    details = parse_token_response(_body(reply), "application/json", now=NOW)
    assert details == ConnectionDetails(server_url="wss://h", participant_token=TOKEN)


def test_snake_case_wins_when_both_are_present() -> None:
    reply = {"server_url": "wss://snake", "serverUrl": "wss://camel", "participant_token": TOKEN}
    assert parse_token_response(_body(reply), None).server_url == "wss://snake"


def test_optional_names_in_either_casing_and_wrong_types_ignored() -> None:
    reply: dict[str, object] = {
        "server_url": "wss://h",
        "participant_token": TOKEN,
        "roomName": "r",
        "participant_name": "Al",
    }
    details = parse_token_response(_body(reply), None)
    assert (details.room_name, details.participant_name) == ("r", "Al")
    reply = {"server_url": "wss://h", "participant_token": TOKEN, "room_name": 5, "participantName": ""}
    details = parse_token_response(_body(reply), None)
    assert (details.room_name, details.participant_name) == (None, None)


def test_utf8_bom_is_tolerated() -> None:
    body = b"\xef\xbb\xbf" + _body({"server_url": "wss://h", "participant_token": TOKEN})
    assert parse_token_response(body, None).participant_token == TOKEN


def test_expiry_is_checked_only_with_now() -> None:
    body = _body({"server_url": "wss://h", "participant_token": TOKEN})
    assert parse_token_response(body, None).participant_token == TOKEN
    assert parse_token_response(body, None, now=NOW + 3599).participant_token == TOKEN
    with pytest.raises(TokenInvalidError, match="handed out an expired token"):
        parse_token_response(body, None, now=NOW + 3600)


@pytest.mark.parametrize(
    ("body", "content_type", "error", "match"),
    [
        (b"<!doctype html><p>hi</p>", None, TokenResponseError, "answered HTML, not JSON"),
        (b"{oops", "text/html", TokenResponseError, "answered HTML, not JSON"),
        (b"\xff\xfe\x00", None, TokenResponseError, "not UTF-8 text"),
        (b"   ", None, TokenResponseError, "an empty body"),
        (b"null", None, TokenResponseError, "JSON null, not an object"),
        (b'"text"', None, TokenResponseError, "JSON a string, not an object"),
        (b"true", None, TokenResponseError, "JSON a boolean, not an object"),
        pytest.param(b"[" * 100_000, None, TokenResponseError, "not JSON", id="deep-nesting"),
        (
            b'{"server_url": "wss://h", "participant_token": ""}',
            None,
            TokenResponseError,
            "an empty participant_token",
        ),
        (
            b'{"server_url": "wss://h", "participantToken": {}}',
            None,
            TokenResponseError,
            "participantToken that is JSON an object",
        ),
        (
            b'{"server_url": "lk.example", "participant_token": "a.b.c"}',
            None,
            TokenResponseError,
            "server URL",
        ),
        (
            b'{"server_url": "wss://h", "participant_token": "a.b"}',
            None,
            TokenInvalidError,
            "not a readable JWT",
        ),
    ],
)
def test_bad_replies(body: bytes, content_type: str | None, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        parse_token_response(body, content_type, origin="token endpoint https://t/x")


def test_a_bad_server_url_is_blamed_on_the_server_url_field() -> None:
    body = _body({"server_url": "lk.example:7880", "participant_token": TOKEN})
    with pytest.raises(TokenResponseError) as caught:
        parse_token_response(body, None, origin="token endpoint https://t/x")
    assert str(caught.value) == (
        "The server URL from token endpoint https://t/x ('lk.example:7880') is not a ws://, wss://, "
        "http:// or https:// URL — the token server must answer the LiveKit server URL in server_url."
    )


def test_given_secrets_are_blanked_from_quoted_bodies() -> None:
    with pytest.raises(TokenResponseError) as caught:
        parse_token_response(b"<html>hi key-1234567</html>", None, secrets=["key-1234567"])
    assert "key-1234567" not in str(caught.value)
    assert "(page text: hi …)" in str(caught.value)


def test_origin_opens_the_message() -> None:
    with pytest.raises(TokenResponseError, match=r"^Token endpoint https://t/x answered an empty body"):
        parse_token_response(b"", None, origin="token endpoint https://t/x")
    with pytest.raises(TokenResponseError, match=r"^The token endpoint answered an empty body"):
        parse_token_response(b"", None)


# -- properties ------------------------------------------------------------------------------------------
json_leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "server_url",
        "serverUrl",
        "participant_token",
        "participantToken",
        "room_name",
        "roomName",
        "participant_name",
        "participantName",
    ]
)
json_objects = st.dictionaries(field_names | st.text(max_size=10), json_values, max_size=8)
content_types = (
    st.none() | st.sampled_from(["application/json", "text/html", "text/plain"]) | st.text(max_size=20)
)
nows = st.none() | st.floats(min_value=0, max_value=4e9)


def _parse_or_clear_error(
    body: bytes, content_type: str | None, now: float | None
) -> ConnectionDetails | None:
    """The property itself: a result, or one of the two documented errors with a one-line message."""
    try:
        return parse_token_response(body, content_type, origin="token endpoint https://t/x", now=now)
    except (TokenResponseError, TokenInvalidError) as error:
        message = str(error)
        assert message
        assert "\n" not in message
        assert message.startswith(
            (
                "Token endpoint https://t/x ",
                "The server URL from token endpoint",
                "The participant token from token endpoint",
            )
        )
        return None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=200), content_type=content_types, now=nows)
def test_arbitrary_bytes_give_a_result_or_a_clear_error(
    body: bytes, content_type: str | None, now: float | None
) -> None:
    _parse_or_clear_error(body, content_type, now)


@settings(max_examples=300)
@given(reply=json_objects, content_type=content_types, now=nows)
def test_arbitrary_json_objects_give_a_result_or_a_clear_error(
    reply: dict[str, Any], content_type: str | None, now: float | None
) -> None:
    details = _parse_or_clear_error(_body(reply), content_type, now)
    if details is not None:
        # Success is only possible when the required fields were there, in one casing or the other.
        assert any(isinstance(reply.get(k), str) for k in ("server_url", "serverUrl"))
        assert any(isinstance(reply.get(k), str) for k in ("participant_token", "participantToken"))


claims = st.fixed_dictionaries(
    {"sub": st.text(max_size=10)},
    optional={
        "nbf": st.integers(min_value=0, max_value=4_000_000_000),
        "exp": st.integers(min_value=0, max_value=4_000_000_000),
        "roomConfig": st.fixed_dictionaries(
            {"agents": st.lists(st.fixed_dictionaries({"agentName": st.text(max_size=5)}), max_size=2)}
        ),
    },
)
server_urls = st.sampled_from(["wss://h.example", "ws://127.0.0.1:7880", "https://x.livekit.cloud"])


@settings(max_examples=200)
@given(
    token_claims=claims,
    server_url=server_urls,
    url_key=st.sampled_from(["server_url", "serverUrl"]),
    token_key=st.sampled_from(["participant_token", "participantToken"]),
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k[0].isupper()), json_values, max_size=3
    ),
    now=nows,
)
def test_well_formed_replies_parse_in_either_casing(
    token_claims: dict[str, Any],
    server_url: str,
    url_key: str,
    token_key: str,
    extra: dict[str, Any],
    now: float | None,
) -> None:
    token = jwt.encode(token_claims, KEY, algorithm="HS256")
    body = _body({**extra, url_key: server_url, token_key: token})
    expired = now is not None and "exp" in token_claims and token_claims["exp"] <= now
    try:
        details = parse_token_response(body, "application/json", now=now)
    except TokenInvalidError as error:
        assert expired
        assert "expired" in str(error)
        assert token not in str(error)
    else:
        assert not expired
        assert details.server_url == server_url
        assert details.participant_token == token
        assert details.claims == token_claims


# Places a careless parser might quote a token from: each renders a body around it.
TOKEN_CARRIERS = [
    lambda t: t.encode(),  # plain text instead of JSON
    lambda t: f"<html><body>your token: {t}</body></html>".encode(),
    lambda t: f"token={t}&url=wss://h".encode(),
    lambda t: _body({"server_url": t, "participant_token": t}),  # token in the URL field
    lambda t: _body({"server_url": "ftp://x", "participant_token": t}),
    lambda t: _body({t: "wss://h"}),  # token as a key of an incomplete reply
    lambda t: _body({"serverUrl": "wss://h", "participantToken": [t]}),
    lambda t: _body([t]),
    lambda t: _body({"server_url": "wss://h", "participant_token": t})[:-1],  # cut short
]


@settings(max_examples=200)
@given(
    token_claims=claims,
    carrier=st.sampled_from(TOKEN_CARRIERS),
    prefix=st.text(max_size=20),
    content_type=content_types,
    now=nows,
)
def test_no_error_message_contains_the_token(
    token_claims: dict[str, Any], carrier: Any, prefix: str, content_type: str | None, now: float | None
) -> None:
    token = jwt.encode(token_claims, KEY, algorithm="HS256")
    body = prefix.encode() + carrier(token)
    try:
        parse_token_response(body, content_type, now=now)
    except (TokenResponseError, TokenInvalidError) as error:
        assert token not in str(error)
        for part in token.split("."):
            if len(part) >= 16:
                assert part not in str(error)
