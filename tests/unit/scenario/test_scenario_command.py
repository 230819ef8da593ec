"""``agent-tui test`` before and after the runs: bad files and options are exit 2 in one line, results
become 0, 7 or the start-up code they all share; ``demo test`` knows the phrases to recognise."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent_tui import cli
from agent_tui.config import load_settings
from agent_tui.exit_codes import ExitCode
from agent_tui.scenario.command import TestOptions, exit_code, run_tests, spoken_phrases
from agent_tui.scenario.parser import parse_scenario_text
from agent_tui.scenario.results import ScenarioResult

GOOD = """\
version = 1
[[scenario]]
name = "voice"
tags = ["smoke"]
  [[scenario.step]]
  say = "what time is it"
  [[scenario.step]]
  interrupt = { say = "stop" }
[[scenario]]
name = "text"
  [[scenario.step]]
  send = "hello"
  [[scenario.step]]
  push_to_talk = { say = "hello there" }
"""


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["test", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_bad_file_is_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.scenario.toml"
    bad.write_text('version = 1\n[[scenario]]\nname = "a"\n[[scenario.step]]\nsend = "x"\nsay = "y"\n')
    code, out, err = run_cli(capsys, str(bad))
    assert code == ExitCode.USAGE_ERROR and out == ""
    assert (
        err
        == f"agent-tui test: {bad}:4: key 'scenario[1].step[1]': a step needs exactly one action of "
        + ("say, send, say_wav, wait, rpc, interrupt, push_to_talk, text_mode (it has say, send)\n")
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("{empty}",), "no *.scenario.toml files in"),
        (("{good}", "--filter", "nothing"), "no scenario's name or tag matches --filter 'nothing'"),
        (("{good}", "--jobs", "0"), "--jobs: must be at least 1, got 0"),
        (("{good}", "--timeout", "-1"), "--timeout: must be above 0"),
        (("{missing}",), "no such file or folder"),
    ],
)
def test_usage_mistakes_are_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], words: str
) -> None:
    good = tmp_path / "good.scenario.toml"
    good.write_text(GOOD)
    (tmp_path / "empty").mkdir()
    paths = {"good": str(good), "empty": str(tmp_path / "empty"), "missing": str(tmp_path / "missing")}
    code, _, err = run_cli(capsys, *(arg.format(**paths) for arg in args))
    assert code == ExitCode.USAGE_ERROR
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_no_way_to_get_a_token_is_exit_2_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenarios = parse_scenario_text(GOOD, tmp_path / "good.scenario.toml")
    settings = load_settings(
        {"url": None, "api_key": None, "api_secret": None, "token": None}, config_file=None
    )
    code = asyncio.run(run_tests(scenarios, settings, TestOptions()))
    assert code == ExitCode.USAGE_ERROR
    assert "No way to get a token is configured" in capsys.readouterr().err


def result(passed: bool, code: int | None = None) -> ScenarioResult:
    events = [{"type": "error", "exit_code": code}] if code is not None else []
    return ScenarioResult(
        name="s", source="f", line=1, run=1, room="r", passed=passed,
        error="could not start" if code is not None else None, events=events,
    )  # fmt: skip


def test_exit_codes_from_results() -> None:
    assert exit_code([result(True), result(True)]) == ExitCode.OK
    assert exit_code([result(True), result(False)]) == ExitCode.TESTS_FAILED
    assert exit_code([result(False, 4), result(False, 4)]) == ExitCode.CONNECTION_ERROR
    assert exit_code([result(False, 5)]) == ExitCode.AGENT_TIMEOUT
    assert exit_code([result(False, 3), result(False, 4)]) == ExitCode.TESTS_FAILED
    assert exit_code([result(False, 3), result(False)]) == ExitCode.TESTS_FAILED
    assert exit_code([]) == ExitCode.TESTS_FAILED


def test_the_phrases_said_for_the_demos_grammar(tmp_path: Path) -> None:
    scenarios = parse_scenario_text(GOOD, tmp_path / "good.scenario.toml")
    assert spoken_phrases(scenarios) == ["what time is it", "stop", "hello there"]
    (tmp_path / "q.wav").write_bytes(b"")
    wav = parse_scenario_text(
        'version = 1\n[[scenario]]\nname = "w"\n[[scenario.step]]\nsay_wav = "q.wav"\n',
        tmp_path / "w.scenario.toml",
    )
    assert spoken_phrases(wav) is None  # a WAV's words are unknown: no grammar
