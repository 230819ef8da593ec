"""Token admission: what the dev server accepts and the refusal LiveKit would give otherwise."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from http import HTTPStatus

import jwt
import pytest
from livekit import api
from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.models import ParticipantInfo, TrackSource
from livekit.protocol.room import RoomConfiguration

from agent_tui.devserver.auth import TokenAuthority, TokenRefused, bearer_token

KEY = "devkey"
SECRET = "s" * 40


def _token(
    identity: str = "alice",
    *,
    key: str = KEY,
    secret: str = SECRET,
    kind: str = "standard",
    ttl: datetime.timedelta = datetime.timedelta(minutes=5),
    room_config: RoomConfiguration | None = None,
    **grants: object,
) -> str:
    video = api.VideoGrants(room_join=True, room="demo")
    for name, value in grants.items():
        setattr(video, name, value)
    token = (
        api.AccessToken(key, secret)
        .with_identity(identity)
        .with_kind(kind)  # type: ignore[arg-type]
        .with_name("Alice")
        .with_metadata('{"lang":"en"}')
        .with_attributes({"team": "blue"})
        .with_ttl(ttl)
        .with_grants(video)
    )
    if room_config is not None:
        token = token.with_room_config(room_config)
    return token.to_jwt()


AUTHORITY = TokenAuthority(KEY, SECRET)


def test_a_valid_token_yields_the_grant() -> None:
    config = RoomConfiguration(agents=[RoomAgentDispatch(agent_name="demo-agent", metadata="{}")])
    grant = AUTHORITY.admit(_token(kind="agent", can_publish_data=False, room_config=config))
    assert (grant.identity, grant.room, grant.name) == ("alice", "demo", "Alice")
    assert grant.kind == ParticipantInfo.Kind.AGENT
    assert (grant.metadata, dict(grant.attributes)) == ('{"lang":"en"}', {"team": "blue"})
    assert grant.can_publish and grant.can_subscribe and not grant.can_publish_data
    assert not grant.can_update_own_metadata
    assert grant.room_config is not None
    assert [a.agent_name for a in grant.room_config.agents] == ["demo-agent"]
    permission = grant.permission()
    assert permission.agent and permission.can_publish and not permission.can_publish_data


def test_publish_sources_restrict_what_may_be_published() -> None:
    grant = AUTHORITY.admit(_token(can_publish=False, can_publish_sources=["microphone"]))
    assert grant.may_publish_source(TrackSource.MICROPHONE)
    assert not grant.may_publish_source(TrackSource.CAMERA)
    assert not AUTHORITY.admit(_token(can_publish=False)).may_publish_source(TrackSource.MICROPHONE)


# Tokens are minted inside the test, never at collection: the suite runs longer than their lifetime.
@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda: None, "permissions denied: no access token"),
        (lambda: "not-a-jwt", "invalid authorization token"),
        (lambda: _token(secret="x" * 40), "invalid token: Signature verification failed"),
        (lambda: _token(key="other"), "invalid API key: other"),
        (lambda: _token(ttl=datetime.timedelta(minutes=-5)), "invalid token: the token has expired"),
        (lambda: _token(room_join=False), "permissions denied: the token has no roomJoin grant"),
    ],
    ids=["missing", "garbage", "bad-signature", "unknown-key", "expired", "no-join"],
)
def test_bad_tokens_are_refused_with_401_and_a_reason(
    make_token: Callable[[], str | None], reason: str
) -> None:
    token = make_token()
    with pytest.raises(TokenRefused) as refused:
        AUTHORITY.admit(token)
    assert refused.value.status == HTTPStatus.UNAUTHORIZED
    assert str(refused.value).startswith(reason)
    if token:
        assert token not in str(refused.value), "a refusal must never echo the token"


def test_a_token_without_identity_is_a_bad_request() -> None:
    # AccessToken refuses to mint a join token without an identity, so sign the claims directly.
    claims = {"iss": KEY, "exp": int(time.time()) + 60, "video": {"roomJoin": True, "room": "demo"}}
    with pytest.raises(TokenRefused) as refused:
        AUTHORITY.admit(jwt.encode(claims, SECRET, algorithm="HS256"))
    assert refused.value.status == HTTPStatus.BAD_REQUEST


def test_a_token_is_read_from_the_bearer_header_or_the_query() -> None:
    assert bearer_token("Bearer abc", None) == "abc"
    assert bearer_token(None, "xyz") == "xyz"
    assert bearer_token(None, None) is None
    with pytest.raises(TokenRefused, match="Must start with Bearer"):
        bearer_token("Basic abc", None)
