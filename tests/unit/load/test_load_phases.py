"""A scenario run as Locust requests: the phases' names, times and failures, from a ScenarioResult."""

from __future__ import annotations

from agent_tui.headless.records import iso_timestamp
from agent_tui.load.phases import PhaseSample, phase_samples, turn_name
from agent_tui.scenario.results import Failure, ScenarioResult, StepResult

T0 = 1_700_000_000.0


def message(speaker: str, at: float) -> dict[str, object]:
    return {
        "type": "message",
        "at": at + 0.5,
        "speaker": speaker,
        "text": "x",
        "first_seen": iso_timestamp(at),
    }


def joined_result(
    steps: list[StepResult], *, passed: bool = True, extra: tuple[dict[str, object], ...] = ()
) -> ScenarioResult:
    events: list[dict[str, object]] = [
        {"type": "connection_state", "at": T0 + 0.050, "state": "connecting"},
        {"type": "connection_state", "at": T0 + 0.250, "state": "connected"},
        {"type": "agent_joined", "at": T0 + 1.250, "identity": "agent-1"},
        *extra,
    ]
    return ScenarioResult(
        name="s", source="s.scenario.toml", line=3, run=1, room="test-s-1", passed=passed,
        steps=steps, events=events, started_at=T0, duration_s=9.0,
    )  # fmt: skip


def by_name(samples: list[PhaseSample]) -> dict[str, PhaseSample]:
    return {sample.name: sample for sample in samples}


def test_a_text_conversation_has_every_phase_in_order_with_times_from_its_records() -> None:
    hello = StepResult(
        index=1, action="send", summary='send "hello"', passed=True, started_at=T0 + 2.0, duration_s=2.0
    )
    again = StepResult(
        index=2, action="send", summary='send "again"', passed=True, started_at=T0 + 5.0, duration_s=2.0
    )
    result = joined_result(
        [hello, again],
        extra=(
            message("user", T0 + 2.1),
            message("agent", T0 + 2.9),
            message("user", T0 + 5.2),
            message("agent", T0 + 5.6),
        ),
    )
    samples = phase_samples(result)
    assert [sample.name for sample in samples] == [
        "connect", "agent joined", "first answer", "turn 1", "turn 2", "conversation",
    ]  # fmt: skip
    times = {sample.name: round(sample.response_time_ms) for sample in samples}
    assert times == {
        "connect": 200, "agent joined": 1000, "first answer": 800, "turn 1": 800, "turn 2": 400,
        "conversation": 9000,
    }  # fmt: skip
    assert all(sample.failure is None for sample in samples)


def test_a_spoken_turn_is_its_voice_to_voice_latency() -> None:
    said = StepResult(
        index=1,
        action="say",
        summary='say "time"',
        passed=True,
        latency_ms=640.0,
        started_at=T0 + 2,
        duration_s=3,
    )
    samples = by_name(phase_samples(joined_result([said])))
    assert samples["turn 1 voice-to-voice"].response_time_ms == 640.0
    assert samples["first answer"].response_time_ms == 640.0


def test_steps_without_a_turn_are_not_phases_but_still_count_in_turn_numbers_only_when_talking() -> None:
    wait = StepResult(index=1, action="wait", summary="wait 1", passed=True, started_at=T0 + 2, duration_s=1)
    said = StepResult(
        index=2,
        action="say",
        summary='say "x"',
        passed=True,
        latency_ms=500.0,
        started_at=T0 + 3,
        duration_s=2,
    )
    names = [sample.name for sample in phase_samples(joined_result([wait, said]))]
    assert "turn 1 voice-to-voice" in names and not any("wait" in name for name in names)


def test_a_missed_expectation_fails_its_turn_and_the_conversation_with_expected_vs_got() -> None:
    miss = Failure(expectation="reply", expected="a reply containing 'sunny'", got="'How can I help?'")
    step = StepResult(
        index=1,
        action="send",
        summary='send "hello"',
        passed=False,
        failures=[miss],
        started_at=T0 + 2,
        duration_s=2,
    )
    result = joined_result(
        [step], passed=False, extra=(message("user", T0 + 2.0), message("agent", T0 + 2.5))
    )
    samples = by_name(phase_samples(result))
    assert samples["turn 1"].failure == "reply: expected a reply containing 'sunny', got 'How can I help?'"
    assert samples["turn 1"].response_time_ms == 500.0
    assert samples["connect"].failure is None and samples["agent joined"].failure is None
    conversation = samples["conversation"].failure
    assert conversation is not None and conversation.startswith('step 1 (send "hello"): reply: expected')


def test_an_agent_that_never_joined_fails_agent_joined_and_the_conversation_only() -> None:
    reason = "Agent did not join the room. (waited 20 s)"
    result = ScenarioResult(
        name="s", source="s", line=1, run=1, room="r", passed=False, error=reason,
        started_at=T0, duration_s=20.5,
        events=[{"type": "connection_state", "at": T0 + 0.3, "state": "connected"}],
    )  # fmt: skip
    samples = phase_samples(result)
    assert [(s.name, s.failure) for s in samples] == [
        ("connect", None), ("agent joined", reason), ("conversation", reason),
    ]  # fmt: skip
    assert round(samples[1].response_time_ms) == 20200


def test_a_run_that_never_connected_fails_connect() -> None:
    result = ScenarioResult(
        name="s",
        source="s",
        line=1,
        run=1,
        room="r",
        passed=False,
        error="refused",
        started_at=T0,
        duration_s=0.2,
    )
    assert [(s.name, s.failure) for s in phase_samples(result)] == [
        ("connect", "refused"),
        ("conversation", "refused"),
    ]


def test_a_step_that_timed_out_fails_with_its_error() -> None:
    step = StepResult(
        index=1,
        action="send",
        summary='send "x"',
        passed=False,
        error="the step did not finish within 5 s",
        started_at=T0 + 2,
        duration_s=5,
    )
    samples = by_name(phase_samples(joined_result([step], passed=False)))
    assert samples["turn 1"].failure == "the step did not finish within 5 s"
    assert samples["turn 1"].response_time_ms == 5000.0


def test_turn_names() -> None:
    assert turn_name(2, "send") == "turn 2"
    assert turn_name(3, "push_to_talk") == "turn 3 voice-to-voice"
