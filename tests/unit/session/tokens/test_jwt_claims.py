from __future__ import annotations

import base64
import json

import jwt
import pytest

from agent_tui.session.errors import TokenInvalidError
from agent_tui.session.tokens.jwt_claims import (
    check_not_expired,
    decode_claims,
    expires_at,
    is_token_fresh,
    not_before,
)

KEY = "a-test-signing-key-that-is-long-enough-0123456789"


def _token(claims: dict[str, object]) -> str:
    return jwt.encode(claims, KEY, algorithm="HS256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_decodes_payload_without_the_signing_key() -> None:
    token = _token({"sub": "alice", "exp": 2000, "nbf": 1000, "roomConfig": {"agents": [{"agentName": "a"}]}})
    claims = decode_claims(token)
    assert claims == {
        "sub": "alice",
        "exp": 2000,
        "nbf": 1000,
        "roomConfig": {"agents": [{"agentName": "a"}]},
    }
    assert expires_at(claims) == 2000.0
    assert not_before(claims) == 1000.0


def test_surrounding_whitespace_is_tolerated() -> None:
    assert decode_claims(f"  {_token({'sub': 'x'})}\n") == {"sub": "x"}


HEADER = _b64(b'{"alg":"HS256","typ":"JWT"}')
PAYLOAD = _b64(b'{"sub":"x"}')


def _raw(payload: bytes) -> str:
    return f"{HEADER}.{_b64(payload)}.sig"


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("just-text", "it has 1 dot-separated part, a JWT has 3"),
        (f"{HEADER}.{PAYLOAD}", "it has 2 dot-separated parts"),
        (f"{HEADER}.{PAYLOAD}.sig.extra", "it has 4 dot-separated parts"),
        (f".{PAYLOAD}.sig", "its header is empty"),
        (f"{HEADER}..sig", "its payload is empty"),
        (f"{HEADER}.pay load.sig", "its payload is not base64url"),
        (_raw(b"{not json"), "its payload is not JSON"),
        (_raw(b"[1, 2]"), "its payload is not a JSON object"),
        (_raw(bytes([0xFF, 0xFE])), "its payload is not base64url-encoded UTF-8"),
        (f"{HEADER}.{PAYLOAD[:-1]}A.sig", "its payload"),
        (f"{_b64(b'[]')}.{PAYLOAD}.sig", "its header is not a JSON object"),
        (_raw(json.dumps({"exp": "2030"}).encode()), "its exp claim is not a number"),
        (_raw(b'{"nbf": true}'), "its nbf claim is not a number"),
        (_raw(b'{"exp": NaN}'), "its exp claim is not a number"),
        (_raw(b'{"exp": 1' + b"0" * 400 + b"}"), "its exp claim is not a number"),
    ],
)
def test_malformed_tokens_name_the_defect_and_never_echo_the_token(token: str, problem: str) -> None:
    with pytest.raises(TokenInvalidError) as caught:
        decode_claims(token, subject="The test token", fix="mint another")
    message = str(caught.value)
    assert message.startswith("The test token is not a readable JWT (")
    assert problem in message
    assert message.endswith(" — mint another.")
    if len(token.strip()) > 8:
        assert token.strip() not in message
    assert "\n" not in message


def test_a_payload_segment_of_impossible_length_is_rejected() -> None:
    # 4n+1 base64 characters cannot encode whole bytes.
    with pytest.raises(TokenInvalidError, match="its payload"):
        decode_claims(f"{HEADER}.{'A' * 5}.sig")


@pytest.mark.parametrize(
    ("claims", "now", "fresh"),
    [
        ({}, 1e12, True),
        ({"exp": 100}, 1e12, True),  # without nbf the JS rule cannot judge: fresh
        ({"nbf": 100}, 0, True),  # without exp likewise
        ({"nbf": 100, "exp": 1000}, 99.999, False),  # not yet valid
        ({"nbf": 100, "exp": 1000}, 100, True),  # nbf is inclusive
        ({"nbf": 100, "exp": 1000}, 939.999, True),
        ({"nbf": 100, "exp": 1000}, 940, False),  # 60 s before exp it is time to refresh
        ({"nbf": 100, "exp": 1000}, 2000, False),
        ({"nbf": 100.5, "exp": 1000.5}, 940.4, True),
        ({"nbf": "100", "exp": 1000}, 500, False),  # unreadable claim: refetch rather than trust
        ({"nbf": 100, "exp": None}, 500, False),
    ],
)
def test_freshness_window(claims: dict[str, object], now: float, fresh: bool) -> None:
    assert is_token_fresh(claims, now) is fresh


def test_freshness_leeway_is_configurable() -> None:
    claims = {"nbf": 0, "exp": 100}
    assert is_token_fresh(claims, 95, leeway=0) is True
    assert is_token_fresh(claims, 95, leeway=10) is False


def test_check_not_expired_has_no_leeway_and_says_when() -> None:
    claims = {"exp": 1_700_000_000}
    check_not_expired(claims, 1_699_999_999.5, subject="T", fix="f")
    check_not_expired({}, 1e12, subject="T", fix="f")
    with pytest.raises(TokenInvalidError) as caught:
        check_not_expired(claims, 1_700_000_300, subject="The token", fix="mint a new one")
    assert str(caught.value) == "The token expired at 2023-11-14 22:13:20 UTC (5 min ago) — mint a new one."


def test_check_not_expired_copes_with_absurd_times() -> None:
    with pytest.raises(TokenInvalidError, match="expired at Unix time -100000000000000000000"):
        check_not_expired({"exp": -1e20}, 0, subject="T", fix="f")
