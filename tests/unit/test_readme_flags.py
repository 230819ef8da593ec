"""The README documents every flag: each long option of ``agent-tui`` and of its subcommands appears in it."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

from agent_tui import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def long_options(parser: argparse.ArgumentParser) -> set[str]:
    return {
        option
        for action in parser._actions  # argparse has no public list of its options
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }


def test_every_agent_tui_flag_is_in_the_readme() -> None:
    missing = sorted(option for option in long_options(cli.build_parser()) if f"`{option}" not in README)
    assert missing == [], f"flags missing from README.md: {missing}"


@pytest.mark.parametrize("name", sorted(cli.SUBCOMMANDS))
def test_every_subcommand_flag_is_in_the_readme(name: str) -> None:
    spec = cli.SUBCOMMANDS[name]
    parser = argparse.ArgumentParser(prog=f"agent-tui {name}")
    getattr(importlib.import_module(spec.module), spec.add_arguments)(parser)
    missing = sorted(option for option in long_options(parser) if f"`{option}" not in README)
    assert missing == [], f"agent-tui {name} flags missing from README.md: {missing}"
