"""Which token source the settings choose, in the documented order, and the errors when none fits."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from agent_tui.config import ConfigError, Settings
from agent_tui.exit_codes import exit_code_for
from agent_tui.session import (
    CachingTokenSource,
    EndpointTokenSource,
    LiteralTokenSource,
    LocalTokenSource,
    SandboxTokenSource,
)
from agent_tui.wiring.session import create_session, session_options
from agent_tui.wiring.token_choice import NO_TOKEN_SOURCE, choose_token_source

URL = "wss://lk.example"
LOCAL = {"url": URL, "api_key": "APIkey", "api_secret": SecretStr("secret-value")}


def chosen(**values: object) -> object:
    return choose_token_source(Settings.model_construct(**{**Settings().model_dump(), **values}))


def test_literal_token_wins_over_everything() -> None:
    source = chosen(token=SecretStr("t"), token_endpoint="https://t.example", sandbox_id="sb", **LOCAL)
    assert isinstance(source, LiteralTokenSource)


def test_endpoint_then_sandbox_then_local_all_cached() -> None:
    endpoint = chosen(token_endpoint="https://t.example/token", sandbox_id="sb", **LOCAL)
    assert isinstance(endpoint, CachingTokenSource) and isinstance(endpoint.inner, EndpointTokenSource)
    sandbox = chosen(sandbox_id="sb", **LOCAL)
    assert isinstance(sandbox, CachingTokenSource) and isinstance(sandbox.inner, SandboxTokenSource)
    local = chosen(**LOCAL)
    assert isinstance(local, CachingTokenSource) and isinstance(local.inner, LocalTokenSource)


def test_literal_token_needs_the_url() -> None:
    with pytest.raises(ConfigError, match="--url"):
        chosen(token=SecretStr("t"))


def test_nothing_configured_lists_the_four_ways() -> None:
    with pytest.raises(ConfigError) as caught:
        chosen()
    assert str(caught.value) == NO_TOKEN_SOURCE
    assert exit_code_for(caught.value) == 2


@pytest.mark.parametrize(
    ("values", "missing", "not_missing"),
    [
        ({"api_key": "k"}, ["LIVEKIT_API_SECRET", "LIVEKIT_URL"], []),
        ({"api_key": "k", "url": URL}, ["LIVEKIT_API_SECRET"], ["LIVEKIT_URL"]),
        (
            {"api_secret": SecretStr("s"), "url": URL},
            ["LIVEKIT_API_KEY"],
            ["LIVEKIT_URL", "LIVEKIT_API_SECRET"],
        ),
    ],
)
def test_half_local_setup_names_what_is_missing(
    values: dict[str, object], missing: list[str], not_missing: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        chosen(**values)
    for name in missing:
        assert name in str(caught.value)
    for name in not_missing:
        assert name not in str(caught.value)


def test_url_alone_is_not_a_token_source() -> None:
    with pytest.raises(ConfigError, match="No way to get a token"):
        chosen(url=URL)


def test_source_configuration_errors_become_config_errors() -> None:
    with pytest.raises(ConfigError, match="sandbox id"):
        chosen(sandbox_id="---")


def test_session_options_carry_every_setting() -> None:
    settings = Settings(
        agent="bot",
        agent_metadata="{}",
        room="r",
        identity="me",
        name="Me",
        participant_metadata="pm",
        attributes={"a": "1"},
        agent_timeout=3.5,
    )
    options = session_options(settings)
    assert (options.agent_name, options.agent_metadata, options.room_name) == ("bot", "{}", "r")
    assert (options.participant_identity, options.participant_name, options.participant_metadata) == (
        "me",
        "Me",
        "pm",
    )
    assert dict(options.participant_attributes) == {"a": "1"}
    assert options.agent_connect_timeout == 3.5


def test_create_session_uses_the_chosen_source() -> None:
    session = create_session(Settings(url=URL, token=SecretStr("t"), agent="bot"))
    assert session.options.agent_name == "bot"
