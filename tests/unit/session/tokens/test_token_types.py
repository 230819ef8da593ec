from __future__ import annotations

import dataclasses
import logging

import jwt
import pytest
from livekit import api

from agent_tui.session.errors import TokenConfigError, TokenInvalidError, TokenResponseError
from agent_tui.session.tokens.details import ConnectionDetails, TokenRequest, check_usable

KEY = "a-test-signing-key-that-is-long-enough-0123456789"


def _token(claims: dict[str, object]) -> str:
    return jwt.encode(claims, KEY, algorithm="HS256")


# -- TokenRequest ----------------------------------------------------------------------------------------
def test_requests_compare_and_hash_by_value_including_attributes() -> None:
    a = TokenRequest(room_name="r", participant_attributes={"a": "1", "b": "2"})
    b = TokenRequest(room_name="r", participant_attributes={"b": "2", "a": "1"})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != TokenRequest(room_name="r", participant_attributes={"a": "1"})
    assert TokenRequest(participant_attributes={"a": "1"}) == TokenRequest(participant_attributes={"a": "1"})
    assert TokenRequest() == TokenRequest(participant_attributes={})


def test_request_attributes_are_a_frozen_copy() -> None:
    attributes = {"a": "1"}
    request = TokenRequest(participant_attributes=attributes)
    attributes["a"] = "changed"
    assert request.participant_attributes == {"a": "1"}
    with pytest.raises(TypeError):
        request.participant_attributes["a"] = "x"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.room_name = "other"  # type: ignore[misc]
    assert dict(request.participant_attributes) == {"a": "1"}
    assert "participant_attributes={'a': '1'}" in repr(request)


def test_empty_request_body_is_an_empty_object() -> None:
    assert TokenRequest().to_request_json() == {}


def test_request_body_is_snake_case_and_omits_unset_options() -> None:
    request = TokenRequest(
        room_name="room",
        participant_name="Alice",
        participant_identity="alice",
        participant_metadata='{"m":1}',
        participant_attributes={"k": "v"},
        agent_name="helper",
        agent_metadata="job",
        agent_deployment="staging",
    )
    assert request.to_request_json() == {
        "room_name": "room",
        "participant_name": "Alice",
        "participant_identity": "alice",
        "participant_metadata": '{"m":1}',
        "participant_attributes": {"k": "v"},
        "room_config": {"agents": [{"agent_name": "helper", "metadata": "job", "deployment": "staging"}]},
    }
    assert TokenRequest(room_name="room").to_request_json() == {"room_name": "room"}


@pytest.mark.parametrize(
    ("request_", "agents"),
    [
        (TokenRequest(agent_name="a"), [{"agent_name": "a"}]),
        (TokenRequest(agent_metadata="m"), [{"metadata": "m"}]),
        (TokenRequest(agent_deployment="d"), [{"deployment": "d"}]),
        # An empty name is a request for the project's unnamed agent, not for no agent.
        (TokenRequest(agent_name=""), [{"agent_name": ""}]),
    ],
)
def test_room_config_appears_when_any_agent_field_is_set(
    request_: TokenRequest, agents: list[dict[str, str]]
) -> None:
    assert request_.names_agent
    assert request_.to_request_json() == {"room_config": {"agents": agents}}


def test_no_room_config_without_agent_fields() -> None:
    request = TokenRequest(room_name="r", participant_attributes={"a": "b"})
    assert not request.names_agent
    assert "room_config" not in request.to_request_json()


# -- ConnectionDetails -----------------------------------------------------------------------------------
def test_token_never_appears_in_repr_str_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    token = _token({"sub": "alice"})
    details = ConnectionDetails(server_url="wss://x", participant_token=token, room_name="r")
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("got %s / %r", details, details)
    assert token not in repr(details)
    assert token not in str(details)
    assert token not in caplog.text
    assert "wss://x" in repr(details)


def test_dispatch_read_from_livekit_minted_token_with_camel_case_keys() -> None:
    token = (
        api.AccessToken("key", KEY)
        .with_identity("alice")
        .with_grants(api.VideoGrants(room_join=True, room="r"))
        .with_room_config(
            api.RoomConfiguration(
                agents=[api.RoomAgentDispatch(agent_name="one"), api.RoomAgentDispatch(agent_name="two")]
            )
        )
        .to_jwt()
    )
    details = ConnectionDetails(server_url="wss://x", participant_token=token)
    assert details.claims["roomConfig"] == {"agents": [{"agentName": "one"}, {"agentName": "two"}]}
    assert details.dispatches_agent()
    assert details.agent_names() == ["one", "two"]
    assert details.expires_at is not None
    assert details.not_before is not None
    assert details.expires_at - details.not_before == pytest.approx(6 * 3600, abs=2)


@pytest.mark.parametrize(
    ("claims", "names"),
    [
        ({"roomConfig": {"agents": [{"agent_name": "snake"}]}}, ["snake"]),
        ({"room_config": {"agents": [{"agentName": "outer-snake"}]}}, ["outer-snake"]),
        ({"roomConfig": {"agents": [{}]}}, [""]),  # the unnamed agent is still a dispatch
        ({"roomConfig": {"agents": [{"metadata": "m"}]}}, [""]),
        ({"roomConfig": {"agents": []}}, []),
        ({"roomConfig": {}}, []),
        ({"roomConfig": {"agents": "nope"}}, []),
        ({"roomConfig": "nope"}, []),
        ({"roomConfig": {"agents": [1, {"agentName": 7}]}}, [""]),
        ({}, []),
    ],
)
def test_agent_names_from_either_casing(claims: dict[str, object], names: list[str]) -> None:
    details = ConnectionDetails(server_url="wss://x", participant_token=_token(claims))
    assert details.agent_names() == names
    assert details.dispatches_agent() is bool(names)


def test_missing_times_are_none() -> None:
    details = ConnectionDetails(server_url="wss://x", participant_token=_token({"sub": "a"}))
    assert details.expires_at is None
    assert details.not_before is None


def test_unreadable_token_raises_on_claims() -> None:
    details = ConnectionDetails(server_url="wss://x", participant_token="not-a-jwt")
    with pytest.raises(TokenInvalidError, match="not a readable JWT"):
        details.dispatches_agent()


# -- check_usable ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["wss://h", "ws://127.0.0.1:7880", "https://h.livekit.cloud", "HTTP://h/"])
def test_usable_server_urls(url: str) -> None:
    details = ConnectionDetails(server_url=url, participant_token=_token({"exp": 2000}))
    check_usable(details, now=1000, origin="o", fix="f", bad_url=TokenConfigError)


@pytest.mark.parametrize("url", ["", "h.livekit.cloud", "ftp://h", "wss://", "wss:///", "wss//h"])
def test_unusable_server_urls_raise_the_given_class(url: str) -> None:
    details = ConnectionDetails(server_url=url, participant_token=_token({}))
    with pytest.raises(TokenResponseError, match=r"^The server URL from origin X .* — fix it\.$"):
        check_usable(details, now=None, origin="origin X", fix="fix it", bad_url=TokenResponseError)


def test_expired_token_uses_the_expired_fix() -> None:
    details = ConnectionDetails(server_url="wss://h", participant_token=_token({"exp": 1000}))
    check_usable(details, now=None, origin="o", fix="f", bad_url=TokenConfigError)
    with pytest.raises(TokenInvalidError, match=r"^The participant token from o expired at .* — clock\.$"):
        check_usable(details, now=1001, origin="o", fix="f", bad_url=TokenConfigError, expired_fix="clock")
