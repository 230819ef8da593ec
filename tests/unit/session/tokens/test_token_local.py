from __future__ import annotations

import time
from datetime import timedelta

import pytest
from livekit import api

from agent_tui.session.errors import TokenConfigError
from agent_tui.session.tokens.details import TokenRequest
from agent_tui.session.tokens.local import LocalTokenSource

URL = "ws://127.0.0.1:7880"
KEY = "APIdevkey123"
SECRET = "a-very-secret-api-secret-that-is-long-enough-42"


def verify(token: str) -> api.access_token.Claims:
    """Decoding with the real secret proves livekit-server would accept the signature."""
    return api.TokenVerifier(KEY, SECRET).verify(token)


async def test_mints_a_verifiable_token_with_identity_grants_and_agent_dispatch() -> None:
    request = TokenRequest(
        room_name="room-7",
        participant_name="Alice",
        participant_identity="alice",
        participant_metadata='{"tier":"gold"}',
        participant_attributes={"lang": "en", "push_to_talk": "1"},
        agent_name="helper",
        agent_metadata='{"job":1}',
        agent_deployment="staging",
    )
    details = await LocalTokenSource(URL, KEY, SECRET).fetch(request)

    assert details.server_url == URL
    assert details.room_name == "room-7"
    assert details.participant_name == "Alice"
    claims = verify(details.participant_token)
    assert claims.identity == "alice"
    assert claims.name == "Alice"
    assert claims.kind == "standard"
    assert claims.metadata == '{"tier":"gold"}'
    assert claims.attributes == {"lang": "en", "push_to_talk": "1"}
    assert claims.video is not None
    assert claims.video.room_join is True
    assert claims.video.room == "room-7"
    assert claims.video.can_publish is True
    assert claims.video.can_subscribe is True
    assert claims.video.can_publish_data is True
    assert claims.video.can_update_own_metadata is True
    assert claims.video.room_admin is None
    assert claims.video.room_create is None
    assert claims.room_config is not None
    [dispatch] = claims.room_config.agents
    assert (dispatch.agent_name, dispatch.metadata, dispatch.deployment) == ("helper", '{"job":1}', "staging")
    assert details.dispatches_agent()
    assert details.agent_names() == ["helper"]


async def test_default_ttl_is_six_hours_and_configurable() -> None:
    before = time.time()
    details = await LocalTokenSource(URL, KEY, SECRET).fetch(TokenRequest(room_name="r"))
    assert details.expires_at is not None
    assert details.expires_at - before == pytest.approx(6 * 3600, abs=5)
    short = await LocalTokenSource(URL, KEY, SECRET, ttl=timedelta(minutes=5)).fetch(
        TokenRequest(room_name="r")
    )
    assert short.expires_at is not None
    assert short.expires_at - before == pytest.approx(300, abs=5)


async def test_without_an_agent_the_token_dispatches_none() -> None:
    details = await LocalTokenSource(URL, KEY, SECRET).fetch(TokenRequest(room_name="r"))
    assert verify(details.participant_token).room_config is None
    assert "roomConfig" not in details.claims
    assert not details.dispatches_agent()


async def test_an_empty_agent_name_dispatches_the_unnamed_agent() -> None:
    details = await LocalTokenSource(URL, KEY, SECRET).fetch(TokenRequest(room_name="r", agent_name=""))
    assert details.claims["roomConfig"] == {"agents": [{}]}
    assert details.dispatches_agent()
    assert details.agent_names() == [""]


async def test_generated_identity_is_short_random_and_doubles_as_name() -> None:
    source = LocalTokenSource(URL, KEY, SECRET)
    first = verify((await source.fetch(TokenRequest(room_name="r"))).participant_token)
    second = verify((await source.fetch(TokenRequest(room_name="r"))).participant_token)
    assert first.identity.startswith("agent-tui-")
    assert len(first.identity) == len("agent-tui-") + 8
    assert first.identity != second.identity
    assert first.name == first.identity


async def test_a_room_name_is_required() -> None:
    with pytest.raises(TokenConfigError, match="needs a room name"):
        await LocalTokenSource(URL, KEY, SECRET).fetch(TokenRequest())


@pytest.mark.parametrize(
    ("url", "key", "secret", "names"),
    [
        (URL, "", SECRET, "LIVEKIT_API_KEY is not set"),
        (URL, KEY, "", "LIVEKIT_API_SECRET is not set"),
        (URL, " ", " ", "LIVEKIT_API_KEY and LIVEKIT_API_SECRET are not set"),
        ("", KEY, SECRET, "LIVEKIT_URL is not set"),
    ],
)
def test_missing_settings_name_the_variables_never_the_secret(
    url: str, key: str, secret: str, names: str
) -> None:
    with pytest.raises(TokenConfigError) as caught:
        LocalTokenSource(url, key, secret)
    assert str(caught.value).startswith(names)
    assert SECRET not in str(caught.value)


def test_ttl_must_be_positive() -> None:
    with pytest.raises(TokenConfigError, match="TTL must be a positive duration"):
        LocalTokenSource(URL, KEY, SECRET, ttl=timedelta(0))


def test_repr_hides_key_and_secret() -> None:
    text = repr(LocalTokenSource(URL, KEY, SECRET))
    assert SECRET not in text
    assert KEY not in text
    assert URL in text


def test_from_env_with_everything_set() -> None:
    source = LocalTokenSource.from_env(
        {"LIVEKIT_URL": URL, "LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET, "OTHER": "x"}
    )
    assert source is not None
    assert repr(source).startswith(f"LocalTokenSource(server_url='{URL}'")


@pytest.mark.parametrize(
    "env", [{}, {"LIVEKIT_URL": URL}, {"LIVEKIT_API_KEY": "", "LIVEKIT_API_SECRET": "  "}]
)
def test_from_env_without_credentials_is_none(env: dict[str, str]) -> None:
    assert LocalTokenSource.from_env(env) is None


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"LIVEKIT_URL": URL, "LIVEKIT_API_KEY": KEY}, "LIVEKIT_API_SECRET"),
        ({"LIVEKIT_URL": URL, "LIVEKIT_API_SECRET": SECRET}, "LIVEKIT_API_KEY"),
        ({"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET}, "LIVEKIT_URL"),
    ],
)
def test_from_env_half_configured_is_an_error(env: dict[str, str], missing: str) -> None:
    with pytest.raises(TokenConfigError, match=f"^{missing} is not set") as caught:
        LocalTokenSource.from_env(env)
    assert SECRET not in str(caught.value)


def test_from_env_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_URL", URL)
    monkeypatch.setenv("LIVEKIT_API_KEY", KEY)
    monkeypatch.setenv("LIVEKIT_API_SECRET", SECRET)
    assert LocalTokenSource.from_env() is not None
