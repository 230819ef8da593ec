"""The [e2ee] settings to the Session's EncryptionOptions: where the key comes from (a file, the
environment, the config file; never a flag value), which wins, and one clear line for each mistake."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from agent_tui.config import ConfigError, Settings, build_settings, secret_file_warning
from agent_tui.session import EncryptionOptions, KeyDerivation
from agent_tui.wiring.encryption import KEY_FILE_LIMIT, encryption_options
from agent_tui.wiring.session import session_options

KEY = "correct horse battery staple"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(("AGENT_TUI_", "LIVEKIT_")):
            monkeypatch.delenv(name)


def settings(cli: dict[str, Any] | None = None, file: dict[str, Any] | None = None) -> Settings:
    return build_settings(cli or {}, file or {})


def key_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "e2ee.key"
    path.write_bytes(content)
    return path


def test_no_key_is_no_encryption() -> None:
    assert encryption_options(settings()) is None
    assert session_options(settings()).encryption is None


def test_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TUI_E2EE__KEY", KEY)
    options = encryption_options(settings())
    assert options == EncryptionOptions(shared_key=KEY.encode())
    assert session_options(settings()).encryption == options


def test_the_key_and_options_from_the_config_file() -> None:
    file = {
        "e2ee": {
            "key": KEY,
            "ratchet_salt": "salt",
            "ratchet_window_size": 4,
            "failure_tolerance": -1,
            "key_ring_size": 8,
            "key_derivation": "hkdf",
        }
    }
    assert encryption_options(settings(file=file)) == EncryptionOptions(
        shared_key=KEY.encode(),
        ratchet_salt=b"salt",
        ratchet_window_size=4,
        failure_tolerance=-1,
        key_ring_size=8,
        key_derivation=KeyDerivation.HKDF,
    )


def test_the_key_file_holds_bytes_and_its_surrounding_whitespace_is_dropped(tmp_path: Path) -> None:
    path = key_file(tmp_path, b"\xffbinary key\x00\n")
    options = encryption_options(settings(file={"e2ee": {"key_file": str(path)}}))
    assert options is not None and options.shared_key == b"\xffbinary key\x00"


def test_a_key_file_on_the_command_line_wins_over_a_key_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_TUI_E2EE__KEY", "the environment's")
    path = key_file(tmp_path, b"the file's")
    options = encryption_options(settings(cli={"e2ee": {"key_file": path, "key": None}}))
    assert options is not None and options.shared_key == b"the file's"


def test_a_key_and_a_key_file_from_the_lower_layers_clash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_TUI_E2EE__KEY", KEY)
    path = key_file(tmp_path, b"other")
    with pytest.raises(ConfigError, match=re.escape("Both e2ee.key and e2ee.key_file are set")):
        encryption_options(settings(file={"e2ee": {"key_file": str(path)}}))


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "is empty"), (b" \n\t\n", "is empty"), (b"k" * (KEY_FILE_LIMIT + 1), "more than 64 KiB")],
)
def test_a_bad_key_file_is_one_line(tmp_path: Path, content: bytes, words: str) -> None:
    path = key_file(tmp_path, content)
    with pytest.raises(ConfigError, match=words) as caught:
        encryption_options(settings(file={"e2ee": {"key_file": str(path)}}))
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_or_unreadable_key_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        encryption_options(settings(file={"e2ee": {"key_file": str(tmp_path / "nope")}}))
    with pytest.raises(ConfigError, match="is a directory"):
        encryption_options(settings(file={"e2ee": {"key_file": str(tmp_path)}}))


def test_a_blank_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TUI_E2EE__KEY", "   ")
    with pytest.raises(ConfigError, match=re.escape("e2ee.key setting is empty")):
        encryption_options(settings())


def test_an_option_out_of_range_is_one_line_without_the_key() -> None:
    with pytest.raises(ConfigError, match="key ring size must be 1 to 256, not 0") as caught:
        encryption_options(settings(file={"e2ee": {"key": KEY, "key_ring_size": 0}}))
    assert "horse" not in str(caught.value)
    with pytest.raises(ConfigError, match="failure tolerance must be -1"):
        encryption_options(settings(file={"e2ee": {"key": KEY, "failure_tolerance": -2}}))
    with pytest.raises(ConfigError, match=re.escape("e2ee.nonsense")):
        settings(file={"e2ee": {"nonsense": 1}})
    with pytest.raises(ConfigError, match=re.escape("e2ee.key_derivation")):
        settings(file={"e2ee": {"key_derivation": "md5"}})


def test_unset_options_are_the_sessions_defaults() -> None:
    assert encryption_options(settings(file={"e2ee": {"key": KEY}})) == EncryptionOptions(
        shared_key=KEY.encode()
    )


def test_the_key_is_a_secret_scrubbed_from_logs_and_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TUI_E2EE__KEY", KEY)
    loaded = settings()
    assert KEY in loaded.secret_values()
    assert KEY not in repr(loaded) and KEY not in repr(session_options(loaded))


def test_a_readable_config_file_holding_the_key_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[e2ee]\nkey = "{KEY}"\n')
    path.chmod(0o644)
    warning = secret_file_warning(path, {"e2ee": {"key": KEY}})
    assert warning is not None and "e2ee.key" in warning and KEY not in warning
    assert secret_file_warning(path, {"e2ee": {"key_file": "x"}}) is None
