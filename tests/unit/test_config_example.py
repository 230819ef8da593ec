"""config.example.toml stays in step with the settings model."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from agent_tui.config import Settings, build_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
#: A commented-out setting or table header: "# key = value" or "# [table]".
_SETTING = re.compile(r"^# ((?:[A-Za-z_][A-Za-z0-9_-]*) = .*|\[[A-Za-z_][A-Za-z0-9_]*\].*)$")


def uncommented() -> str:
    """The example with every setting line uncommented, as a user would enable them all."""
    return "\n".join(
        match.group(1) if (match := _SETTING.match(line)) else line
        for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
    )


def test_every_key_is_a_setting_and_every_setting_is_documented() -> None:
    data = tomllib.loads(uncommented())
    assert set(data) == set(Settings.model_fields)


def test_the_example_values_are_valid_settings() -> None:
    build_settings({}, tomllib.loads(uncommented()), file_origin=str(EXAMPLE))


def test_documented_defaults_are_the_real_defaults() -> None:
    data = tomllib.loads(uncommented())
    for name, field in Settings.model_fields.items():
        if field.default is not None and not field.default_factory and name in data:
            assert data[name] == field.default, name


def test_the_example_as_shipped_sets_nothing() -> None:
    assert tomllib.loads(EXAMPLE.read_text(encoding="utf-8")) == {}
