"""Settings: precedence of the layers, LiveKit's variables, the config file's errors, the secret warning."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from agent_tui.app.screens.help import KEYMAP_EXAMPLE
from agent_tui.config import (
    ConfigError,
    Settings,
    build_settings,
    load_settings,
    read_config_file,
    secret_file_warning,
)
from agent_tui.exit_codes import exit_code_for


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AGENT_TUI_*/LIVEKIT_* from the developer's shell, and a private user config dir."""
    for name in list(os.environ):
        if name.upper().startswith(("AGENT_TUI_", "LIVEKIT_")):
            monkeypatch.delenv(name)
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    return home


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_defaults_without_any_layer() -> None:
    loaded = load_settings({})
    assert loaded == Settings()
    assert loaded.agent_timeout == 20.0
    assert loaded.answer_timeout == 60.0
    assert loaded.log_level == "warning"
    assert loaded.ui is True
    assert loaded.output == "text"
    assert loaded.exit_when is None
    assert loaded.token_endpoint_method == "POST"


@pytest.mark.parametrize(
    ("key", "env_name", "file_value", "env_value", "cli_value", "expected"),
    [
        (
            "agent",
            "AGENT_TUI_AGENT",
            '"from-file"',
            "from-env",
            "from-cli",
            ("from-file", "from-env", "from-cli"),
        ),
        ("agent_timeout", "AGENT_TUI_AGENT_TIMEOUT", "7", "8", 9.0, (7.0, 8.0, 9.0)),
        ("room", "AGENT_TUI_ROOM", '"f"', "e", "c", ("f", "e", "c")),
        ("log_level", "AGENT_TUI_LOG_LEVEL", '"error"', "INFO", "debug", ("error", "info", "debug")),
    ],
)
def test_each_layer_overrides_the_one_below(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    env_name: str,
    file_value: str,
    env_value: str,
    cli_value: Any,
    expected: tuple[Any, Any, Any],
) -> None:
    config = write(tmp_path / "c.toml", f"{key} = {file_value}\n")
    assert getattr(load_settings({}, config_file=config), key) == expected[0]
    monkeypatch.setenv(env_name, env_value)
    assert getattr(load_settings({}, config_file=config), key) == expected[1]
    assert getattr(load_settings({key: cli_value}, config_file=config), key) == expected[2]


def test_default_config_file_in_the_user_config_dir_is_read(isolated_env: Path) -> None:
    config_dir = isolated_env / "config" / "agent-tui"
    config_dir.mkdir(parents=True)
    write(config_dir / "config.toml", 'agent = "from-default-file"\n')
    assert load_settings({}).agent == "from-default-file"


def test_agent_tui_config_names_the_file_and_config_option_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = write(tmp_path / "env.toml", 'agent = "env-file"\n')
    cli_file = write(tmp_path / "cli.toml", 'agent = "cli-file"\n')
    monkeypatch.setenv("AGENT_TUI_CONFIG", str(env_file))
    assert load_settings({}).agent == "env-file"
    assert load_settings({}, config_file=cli_file).agent == "cli-file"


def test_livekit_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_URL", "wss://lk.example")
    monkeypatch.setenv("LIVEKIT_API_KEY", "APIkey")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "s3cret-value")
    loaded = load_settings({})
    assert loaded.url == "wss://lk.example"
    assert loaded.api_key == "APIkey"
    assert loaded.api_secret is not None
    assert loaded.api_secret.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(loaded)
    assert "s3cret-value" not in str(loaded)


def test_livekit_token_is_read_as_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "c.toml", 'token = "from-the-file"\n')
    monkeypatch.setenv("LIVEKIT_TOKEN", "eyJ-from-the-environment")
    loaded = load_settings({}, config_file=config)
    assert isinstance(loaded.token, SecretStr)
    assert loaded.token.get_secret_value() == "eyJ-from-the-environment"
    assert "eyJ-from-the-environment" in loaded.secret_values()
    assert "eyJ-from-the-environment" not in repr(loaded) + str(loaded)
    monkeypatch.setenv("AGENT_TUI_TOKEN", "ours")
    loaded = load_settings({}, config_file=config)
    assert loaded.token is not None and loaded.token.get_secret_value() == "ours"


def test_agent_tui_variables_win_over_livekit_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_URL", "wss://livekit.example")
    monkeypatch.setenv("AGENT_TUI_URL", "wss://ours.example")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "theirs")
    monkeypatch.setenv("AGENT_TUI_API_SECRET", "ours")
    loaded = load_settings({})
    assert loaded.url == "wss://ours.example"
    assert loaded.api_secret is not None and loaded.api_secret.get_secret_value() == "ours"


def test_livekit_variable_wins_over_the_file_and_loses_to_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "c.toml", 'url = "wss://file.example"\n')
    monkeypatch.setenv("LIVEKIT_URL", "wss://env.example")
    assert load_settings({}, config_file=config).url == "wss://env.example"
    assert load_settings({"url": "wss://cli.example"}, config_file=config).url == "wss://cli.example"


def test_livekit_alias_names_are_not_config_file_keys(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", 'livekit_url = "wss://x.example"\n')
    with pytest.raises(ConfigError, match="livekit_url"):
        load_settings({}, config_file=config)


def test_tables_merge_key_by_key_higher_layer_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(
        tmp_path / "c.toml",
        '[attributes]\nrole = "tester"\nteam = "qa"\n[token_endpoint_headers]\nX-Key = "k"\n',
    )
    loaded = load_settings({}, config_file=config)
    assert loaded.attributes == {"role": "tester", "team": "qa"}
    assert loaded.token_endpoint_headers == {"X-Key": "k"}
    monkeypatch.setenv("AGENT_TUI_ATTRIBUTES", '{"role": "env"}')
    assert load_settings({}, config_file=config).attributes == {"role": "env", "team": "qa"}
    from_cli = load_settings({"attributes": {"role": "cli", "new": "1"}}, config_file=config)
    assert from_cli.attributes == {"role": "cli", "team": "qa", "new": "1"}


def test_table_from_one_variable_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TUI_ATTRIBUTES__ROLE", "tester")
    assert load_settings({}).attributes == {"role": "tester"}


def test_table_variable_that_is_not_json_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TUI_ATTRIBUTES", "role=tester")
    with pytest.raises(ConfigError, match="JSON object"):
        load_settings({})


def test_unknown_key_is_an_error_naming_it_and_the_file(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", 'agnet = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings({}, config_file=config)
    message = str(caught.value)
    assert "'agnet'" in message
    assert str(config) in message
    assert "did you mean 'agent'" in message
    assert exit_code_for(caught.value) == 2


def test_invalid_value_in_file_names_key_and_file(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", 'agent_timeout = "abc"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings({}, config_file=config)
    message = str(caught.value)
    assert "'agent_timeout'" in message
    assert str(config) in message
    assert "\n" not in message


def test_invalid_value_in_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TUI_AGENT_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="environment variable AGENT_TUI_AGENT_TIMEOUT"):
        load_settings({})


def test_invalid_livekit_url_names_livekits_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_URL", "localhost:7880")
    with pytest.raises(ConfigError, match=r"environment variable LIVEKIT_URL.*ws://"):
        load_settings({})


@pytest.mark.parametrize(
    "text", ["agent_timeout = nan", "agent_timeout = inf", "agent_timeout = 0", "agent_timeout = -1"]
)
def test_timeouts_must_be_positive_and_finite(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="agent_timeout"):
        load_settings({}, config_file=write(tmp_path / "c.toml", text + "\n"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('exit_when = "sometimes"', "exit_when"),
        ('log_level = "loud"', "log_level"),
        ('output = "xml"', "output"),
        ('token_endpoint = "ftp://x"', "token_endpoint"),
        ('token_endpoint_method = "DELETE"', "token_endpoint_method"),
        ("attributes = 3", "attributes"),
        ("[attributes]\nn = 3", "attributes.n"),
    ],
)
def test_invalid_values_are_config_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=f"'{expected}'"):
        load_settings({}, config_file=write(tmp_path / "c.toml", text + "\n"))


def test_values_are_normalised(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.toml",
        'log_level = "DEBUG"\nexit_when = "Agent-Left"\ntoken_endpoint_method = "get"\nroom = "  "\n'
        'transcript = "~/t.jsonl"\n',
    )
    loaded = load_settings({}, config_file=config)
    assert loaded.log_level == "debug"
    assert loaded.exit_when == "agent-left"
    assert loaded.token_endpoint_method == "GET"
    assert loaded.room is None
    assert loaded.transcript == Path("~/t.jsonl").expanduser()


def test_the_help_screens_keymap_example_is_a_valid_config_file(tmp_path: Path) -> None:
    loaded = load_settings({}, config_file=write(tmp_path / "keys.toml", KEYMAP_EXAMPLE + "\n"))
    assert loaded.app.keymap == {"mute": "f2,ctrl+g"}


def test_missing_explicit_file_is_an_error_but_a_missing_default_is_not(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({}, config_file=tmp_path / "nope.toml")
    assert load_settings({}) == Settings()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('agent = "unterminated\n', "not valid TOML"),
        (b"\xff\xfe agent", "not UTF-8"),
    ],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = tmp_path / "c.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError, match=expected) as caught:
        read_config_file(path, required=True)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_directory_as_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        read_config_file(tmp_path, required=True)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_world_readable_file_with_a_secret_is_warned_about(tmp_path: Path) -> None:
    warnings: list[str] = []
    readable = write(tmp_path / "c.toml", 'api_secret = "topsecretvalue"\n', mode=0o644)
    loaded = load_settings({}, config_file=readable, on_warning=warnings.append)
    assert loaded.api_secret is not None
    assert len(warnings) == 1
    assert str(readable) in warnings[0] and "chmod 600" in warnings[0]
    assert "topsecretvalue" not in warnings[0]

    warnings.clear()
    readable.chmod(0o600)
    load_settings({}, config_file=readable, on_warning=warnings.append)
    assert warnings == []


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_readable_file_without_a_secret_is_not_warned_about(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'agent = "a"\nurl = "wss://x.example"\n', mode=0o644)
    assert secret_file_warning(path, {"agent": "a", "url": "wss://x.example"}) is None
    for key in ("token", "token_endpoint_headers"):
        assert secret_file_warning(path, {key: "x"}) is not None


def test_cli_layer_rejects_unknown_settings() -> None:
    with pytest.raises(ConfigError, match="'api_secrt'"):
        build_settings({"api_secrt": "x"}, {})


def test_effective_exit_when() -> None:
    assert Settings().effective_exit_when(has_sends=True) == "idle"
    assert Settings().effective_exit_when(has_sends=False) == "over"
    assert Settings(exit_when="agent-left").effective_exit_when(has_sends=True) == "agent-left"


def test_secret_values_lists_every_credential() -> None:
    loaded = Settings(
        api_secret=SecretStr("sec"),
        token=SecretStr("tok"),
        token_endpoint_headers={"Authorization": "Bearer x"},
    )
    assert sorted(loaded.secret_values()) == ["Bearer x", "sec", "tok"]


# -- property-based: whatever the file holds, the loader answers with settings or one ConfigError ----------
_KEYS = st.sampled_from([*Settings.model_fields, "agnet", "livekit_url", "", "x.y"])
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["wss://a.example", "https://t.example/x", "debug", "idle", "json", "POST"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.one_of(_KEYS, st.text(max_size=10), st.integers()), _VALUES, max_size=6))
def test_any_mapping_gives_settings_or_a_config_error(data: dict[Any, Any]) -> None:
    try:
        result = build_settings({}, data, file_origin="c.toml")
    except ConfigError as error:
        assert "\n" not in str(error)
    else:
        assert isinstance(result, Settings)
        assert math.isfinite(result.agent_timeout) and result.agent_timeout > 0


_TOML_LINES = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda key, value: f"{key} = {value}",
        _KEYS,
        st.sampled_from(
            ['"x"', "1", "1.5", "true", "nan", "[1, 2]", "{a = 1}", '"wss://h.example"', '"', "'"]
        ),
    ),
    st.sampled_from(["[attributes]", "[token_endpoint_headers]", "[x]", "[[attributes]]", "a.b = 1"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOML_LINES, max_size=6).map("\n".join))
def test_any_file_text_gives_settings_or_a_config_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            result = load_settings({}, config_file=path)
        except ConfigError as error:
            assert "\n" not in str(error)
        else:
            assert isinstance(result, Settings)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_any_file_bytes_give_settings_or_a_config_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config.toml"
        path.write_bytes(content)
        with contextlib.suppress(ConfigError):
            load_settings({}, config_file=path)


def test_the_old_tui_table_is_read_as_app_with_a_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    path = write(tmp_path / "old.toml", '[tui]\ntheme = "nord"\n')
    loaded = load_settings({}, config_file=path, on_warning=warnings.append)
    assert loaded.app.theme == "nord"
    (warning,) = warnings
    assert "[tui]" in warning and "[app]" in warning and str(path) in warning

    both = write(tmp_path / "both.toml", '[tui]\ntheme = "nord"\n[app]\ntheme = "dracula"\n')
    with pytest.raises(ConfigError, match=r"both \[tui\] and \[app\]"):
        load_settings({}, config_file=both)


def test_an_old_tui_variable_is_named_with_its_new_name(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_TUI_TUI__THEME", "nord")
    warnings: list[str] = []
    loaded = load_settings({}, on_warning=warnings.append)
    assert loaded.app.theme != "nord"  # not read: the warning says what to set instead
    assert warnings == ["AGENT_TUI_TUI__THEME is not read — the setting is now AGENT_TUI_APP__THEME."]
