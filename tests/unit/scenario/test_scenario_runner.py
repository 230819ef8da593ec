"""The runner's decisions that need no room: each run's settings and room, the step timeout, speech."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from agent_tui.config import load_settings
from agent_tui.scenario.parser import parse_scenario_text
from agent_tui.scenario.runner import DEFAULT_STEP_TIMEOUT, run_scenario, scenario_settings, step_timeout_for
from agent_tui.scenario.speech import Speech, SpeechError

TEXT = """\
version = 1
[[scenario]]
name = "Tells the TIME, by voice!"
agent = "demo"
metadata = "m"
agent_metadata = "am"
attributes = { tier = "gold" }
step_timeout = 9
  [[scenario.step]]
  say = "what time is it"
  timeout = 3
  [[scenario.step]]
  send = "hi"
[[scenario]]
name = "plain"
  [[scenario.step]]
  send = "hi"
"""


@pytest.fixture
def scenarios(tmp_path: Path) -> list:
    return parse_scenario_text(TEXT, tmp_path / "a.scenario.toml")


def settings(**values: object):
    base = {"url": "ws://127.0.0.1:9", "api_key": "k", "api_secret": "s", "agent": "cli-agent"}
    return load_settings({**base, **values}, config_file=None)


def test_each_run_gets_the_scenarios_connection_and_a_new_room(scenarios: list) -> None:
    voice, plain = scenarios
    given = settings(attributes={"team": "a", "tier": "silver"}, room="fixed")
    first = scenario_settings(voice, given, 1)
    again = scenario_settings(voice, given, 1)
    assert first.room is not None and first.room.startswith("test-tells-the-time-by-voice-1-")
    assert first.room != again.room != "fixed"
    assert (first.agent, first.participant_metadata, first.agent_metadata) == ("demo", "m", "am")
    assert first.attributes == {"team": "a", "tier": "gold"}
    other = scenario_settings(plain, given, 2)
    assert other.agent == "cli-agent" and other.attributes == given.attributes and "-2-" in (other.room or "")
    assert given.room == "fixed"  # copied, not changed


def test_the_step_timeout_is_the_steps_then_the_options_then_the_files(scenarios: list) -> None:
    voice, plain = scenarios
    assert step_timeout_for(voice.steps[0], voice, 5.0) == 3.0
    assert step_timeout_for(voice.steps[1], voice, 5.0) == 5.0
    assert step_timeout_for(voice.steps[1], voice, None) == 9.0
    assert step_timeout_for(plain.steps[0], plain, None) == DEFAULT_STEP_TIMEOUT


def test_a_run_that_cannot_connect_is_a_result_with_the_error_and_its_code(scenarios: list) -> None:
    _, plain = scenarios
    seen: list[str] = []
    result = asyncio.run(
        run_scenario(plain, settings(agent_timeout=2), on_progress=lambda event: seen.append(event.kind))
    )
    assert result.passed is False and result.steps == []
    assert result.error is not None and "ws://127.0.0.1:9" in result.error
    assert result.events[-1]["type"] == "error" and result.events[-1]["exit_code"] == 4
    assert seen == ["started", "finished"]
    assert "s" not in (result.error or "").split()  # the secret never appears


needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None and os.environ.get("CI") != "true", reason="espeak-ng is not installed"
)


@needs_espeak
def test_a_phrase_is_synthesised_once_at_the_microphones_rate() -> None:
    async def main() -> None:
        speech = Speech(48_000)
        first, second = await asyncio.gather(speech.say("what time is it"), speech.say("what time is it"))
        assert first is second
        assert 0.5 < len(first) / 48_000 < 3.0 and int(abs(first).max()) > 3000
        other = await speech.say("what time is it", "en-us+f3")
        assert other is not first  # made per voice

    asyncio.run(main())


def test_an_unreadable_wav_is_a_speech_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav")
    with pytest.raises(SpeechError, match=r"bad\.wav"):
        asyncio.run(Speech(48_000).wav(bad))


def test_a_bug_in_one_run_is_that_runs_error_and_the_others_still_run(
    scenarios: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_tui.scenario import runner

    started: list[str] = []

    async def broken_start(self: runner._Conversation, gate: object = None) -> None:
        started.append(self.scenario.name)
        raise RuntimeError("boom")

    monkeypatch.setattr(runner._Conversation, "start", broken_start)
    results = asyncio.run(runner.run_all(scenarios, settings(), jobs=2, repeat=2))
    assert [(r.name, r.run) for r in results] == [(s.name, n) for s in scenarios for n in (1, 2)]
    assert all(r.error == "internal error: RuntimeError: boom" for r in results)
    assert all(r.events[-1]["exit_code"] == 1 for r in results)
    assert len(started) == 4


def test_fail_fast_starts_no_run_after_a_failure(scenarios: list, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_tui.scenario import runner

    async def broken_start(self: runner._Conversation, gate: object = None) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(runner._Conversation, "start", broken_start)
    results = asyncio.run(runner.run_all(scenarios, settings(), jobs=1, repeat=2, fail_fast=True))
    assert [(r.name, r.run) for r in results] == [(scenarios[0].name, 1)]
