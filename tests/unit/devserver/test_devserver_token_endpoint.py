"""The dev server's token endpoint: LiveKit's standard request in, a token for it out (pure rules)."""

from __future__ import annotations

import json

import pytest
from livekit import api

from agent_tui.devserver.token_endpoint import TokenRequestError, mint_for_request

KEY, SECRET = "devkey", "s" * 40


def claims(answer: dict[str, str]) -> api.Claims:
    return api.TokenVerifier(KEY, SECRET).verify(answer["participant_token"])


def test_a_full_request_becomes_a_token_for_that_room_identity_and_agent() -> None:
    body = {
        "room_name": "support",
        "participant_identity": "web-7",
        "participant_name": "Ada",
        "participant_metadata": '{"tier":"gold"}',
        "participant_attributes": {"lang": "fr"},
        "room_config": {"agents": [{"agent_name": "demo", "metadata": "m"}]},
    }
    answer = mint_for_request(
        json.dumps(body).encode(), server_url="ws://127.0.0.1:7880", api_key=KEY, api_secret=SECRET
    )
    assert answer["server_url"] == "ws://127.0.0.1:7880"
    got = claims(answer)
    assert (got.identity, got.name, got.metadata, got.attributes) == (
        "web-7",
        "Ada",
        '{"tier":"gold"}',
        {"lang": "fr"},
    )
    assert got.video is not None and got.video.room == "support" and got.video.room_join
    assert got.video.can_publish and got.video.can_subscribe and got.video.can_update_own_metadata
    assert got.room_config is not None
    assert [(a.agent_name, a.metadata) for a in got.room_config.agents] == [("demo", "m")]


def test_an_empty_request_gets_a_new_room_and_identity_and_no_agent() -> None:
    got = claims(mint_for_request(b"{}", server_url="ws://h:1", api_key=KEY, api_secret=SECRET))
    assert (
        got.identity.startswith("web-user-") and got.video is not None and got.video.room.startswith("web-")
    )
    assert got.room_config is None or not got.room_config.agents


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "JSON object"),
        (b'{"room_name": 5}', "room_name must be a string"),
        (b'{"participant_attributes": {"a": 1}}', "participant_attributes"),
        (b'{"room_config": "x"}', "room_config must be a JSON object"),
        (b'{"room_config": {"agents": "nope"}}', "not a RoomConfiguration"),
    ],
)
def test_a_bad_request_is_refused_with_the_reason(body: bytes, says: str) -> None:
    with pytest.raises(TokenRequestError, match=says):
        mint_for_request(body, server_url="ws://h:1", api_key=KEY, api_secret=SECRET)
