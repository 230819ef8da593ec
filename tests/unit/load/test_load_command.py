"""``agent-tui load``'s options, its worker command lines and the generator-capacity warning."""

from __future__ import annotations

import argparse

import pytest

from agent_tui.load.capacity import TEXT_SESSIONS_PER_PROCESS, VOICE_SESSIONS_PER_PROCESS, capacity_warning
from agent_tui.load.command import LoadOptions, _without_distribution, add_arguments


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="agent-tui load")
    add_arguments(parser)
    return parser.parse_args(argv)


def test_durations_take_locusts_units_and_spawn_rate_defaults_to_all_at_once() -> None:
    options = LoadOptions.from_args(parse("calls/", "--users", "7", "--duration", "2m"))
    assert (options.users, options.spawn_rate, options.duration) == (7, 7.0, 120.0)
    assert parse("x", "--users", "1", "--duration", "90s").duration == 90.0
    assert parse("x", "--users", "1", "--duration", "1h").duration == 3600.0
    assert parse("x", "--users", "1", "--duration", "45").duration == 45.0


@pytest.mark.parametrize(
    "argv",
    [
        ("x", "--users", "0", "--duration", "5"),
        ("x", "--users", "1", "--duration", "soon"),
        ("x", "--users", "1", "--duration", "5", "--spawn-rate", "0"),
        ("x", "--users", "1", "--duration", "5", "--master", "--worker"),
        ("x", "--duration", "5"),
    ],
)
def test_bad_options_are_usage_errors(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 2


def test_the_connection_options_are_agent_tuis() -> None:
    args = parse("x", "--users", "1", "--duration", "5", "--agent", "my-agent", "--agent-timeout", "40")
    assert (args.agent, args.agent_timeout) == ("my-agent", 40.0)


def test_a_worker_gets_the_same_command_line_without_the_distribution_and_reports() -> None:
    argv = [
        "calls/", "--users", "4", "--processes", "2", "--csv", "run", "--html=r.html", "--master",
        "--agent", "a", "--master-port", "6000", "--iterations", "1",
    ]  # fmt: skip
    assert _without_distribution(argv) == ["calls/", "--users", "4", "--agent", "a", "--iterations", "1"]


def test_the_warning_names_the_measured_capacity_by_kind_and_processes() -> None:
    assert capacity_warning(TEXT_SESSIONS_PER_PROCESS, 1, voice=False) is None
    assert capacity_warning(VOICE_SESSIONS_PER_PROCESS * 2, 2, voice=True) is None
    warning = capacity_warning(VOICE_SESSIONS_PER_PROCESS + 1, 1, voice=True)
    assert warning is not None and f"capacity of {VOICE_SESSIONS_PER_PROCESS} voice" in warning
    assert "\n" not in warning and "--processes" in warning
