"""ConversationUser's reports reach Locust: one request per phase, failures with their reasons."""

from __future__ import annotations

from pathlib import Path

from locust.env import Environment

import agent_tui.load  # noqa: F401  (sets LOCUST_SKIP_MONKEY_PATCH before locust is imported)
from agent_tui.config import Settings
from agent_tui.load.locust_user import REQUEST_TYPE, ConversationUser
from agent_tui.scenario.parser import parse_scenario_text
from agent_tui.scenario.results import Failure, ScenarioResult, StepResult

SCENARIO = """\
version = 1
[[scenario]]
name = "hello"
  [[scenario.step]]
  send = "hello"
"""
T0 = 1_700_000_000.0


class Caller(ConversationUser):
    scenario_paths = ("unused",)
    iterations = 1


def caller() -> Caller:
    (scenario,) = parse_scenario_text(SCENARIO, Path("hello.scenario.toml"))
    Caller._loaded = ([scenario], Settings.model_validate({"agent_timeout": 5}))
    environment = Environment(user_classes=[Caller])
    environment.create_local_runner()  # a runner is what records requests into the statistics
    return Caller(environment)


def test_each_phase_is_a_request_and_a_missed_expectation_a_failure_with_its_reason() -> None:
    user = caller()
    miss = Failure(expectation="reply", expected="a reply containing 'sunny'", got="'hi'")
    step = StepResult(
        index=1, action="send", summary='send "hello"', passed=False, failures=[miss],
        started_at=T0 + 2, duration_s=1.5,
    )  # fmt: skip
    result = ScenarioResult(
        name="hello", source="hello.scenario.toml", line=2, run=1, room="r", passed=False,
        steps=[step], started_at=T0, duration_s=4.0,
        events=[
            {"type": "connection_state", "at": T0 + 0.1, "state": "connecting"},
            {"type": "connection_state", "at": T0 + 0.4, "state": "connected"},
            {"type": "agent_joined", "at": T0 + 1.4},
        ],
    )  # fmt: skip
    user.report(user._scenarios[0], result)
    stats = user.environment.stats
    counts = {
        name: entry.num_requests for (name, kind), entry in stats.entries.items() if kind == REQUEST_TYPE
    }
    assert counts == {"connect": 1, "agent joined": 1, "first answer": 1, "turn 1": 1, "conversation": 1}
    assert stats.entries[("agent joined", REQUEST_TYPE)].max_response_time == 1000
    failed = {error.name: str(error.error) for error in stats.errors.values()}
    assert set(failed) == {"first answer", "turn 1", "conversation"}
    assert "expected a reply containing 'sunny', got 'hi'" in failed["turn 1"]


def test_a_conversation_that_never_ended_is_one_failed_conversation_with_the_time_waited() -> None:
    user = caller()
    user.report(user._scenarios[0], "the conversation did not end within 65 s", waited_s=65.0)
    stats = user.environment.stats
    entry = stats.entries[("conversation", REQUEST_TYPE)]
    assert (entry.num_requests, entry.num_failures, entry.max_response_time) == (1, 1, 65000)


def test_every_user_of_a_process_shares_one_maker_of_phrases() -> None:
    """A phrase is synthesised once per load process, not once per simulated caller."""
    from agent_tui.load.locust_user import process_speech
    from agent_tui.scenario.runner import SAMPLE_RATE

    speech = process_speech()
    assert speech is process_speech() and speech.sample_rate == SAMPLE_RATE
