"""One scenario run as Locust requests: each phase of the conversation a request name with its time.

What a load tester wants per conversation is what a caller feels, phase by phase: how long until the room
was joined, until the agent was there (dispatch), until its first answer, each turn's answer, the whole
conversation. All of it is read from the :class:`~agent_tui.scenario.results.ScenarioResult` the runner
returns (its step results and the session's own timestamped records), so the load report and
``agent-tui test`` cannot disagree about a run.

- ``connect``: from starting the session (its first "connecting" record: after any wait for the
  generator's join gate, see :func:`agent_tui.load.locust_user.join_gate`) to the room joined (token and
  signalling);
- ``agent joined``: from the room joined to the agent's participant there (dispatch latency);
- ``first answer``: the first talking step's answer time (below);
- ``turn N``: a text step (``send``): from our message to the first text of the agent's answer;
  ``turn N voice-to-voice``: a spoken step: the client-measured latency from the end of our speech to
  the agent's first audio;
- ``conversation``: the whole run, start to end.

A failure is a sample whose ``failure`` says why ("expected ..., got ..."): a run that could not start
fails at the phase it stopped at, a step that missed an expectation or timed out fails as its turn, and
any failure fails the conversation too, so "conversation" failures count failed conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from agent_tui.scenario.results import ScenarioResult, StepResult

__all__ = [
    "AGENT_JOINED",
    "CONNECT",
    "CONVERSATION",
    "FIRST_ANSWER",
    "PHASE_ORDER",
    "PhaseSample",
    "phase_samples",
    "turn_name",
]

CONNECT: Final = "connect"
AGENT_JOINED: Final = "agent joined"
FIRST_ANSWER: Final = "first answer"
CONVERSATION: Final = "conversation"
#: How the report orders the fixed phases; turns go between first answer and conversation, by number.
PHASE_ORDER: Final = (CONNECT, AGENT_JOINED, FIRST_ANSWER)
#: Steps the agent answers by voice; their turn time is the client-measured voice-to-voice latency.
_SPOKEN: Final = frozenset({"say", "say_wav", "interrupt", "push_to_talk"})


@dataclass(frozen=True)
class PhaseSample:
    """One Locust request: a phase's name, its time in milliseconds, and why it failed (None: it passed)."""

    name: str
    response_time_ms: float
    failure: str | None = None


def turn_name(number: int, action: str) -> str:
    """``turn 2`` for a text turn, ``turn 2 voice-to-voice`` for a spoken one (numbered from 1)."""
    return f"turn {number} voice-to-voice" if action in _SPOKEN else f"turn {number}"


def phase_samples(result: ScenarioResult) -> list[PhaseSample]:
    """The phases of ``result`` in the order they happened, then the whole conversation."""
    records = result.events
    samples: list[PhaseSample] = []
    started = _first_at(records, "connection_state", state="connecting") or result.started_at
    connected = _first_at(records, "connection_state", state="connected")
    joined = _first_at(records, "agent_joined")
    if connected is None:
        samples.append(PhaseSample(CONNECT, _ms(_end_of(result) - started), result.error or "not connected"))
    else:
        samples.append(PhaseSample(CONNECT, _ms(connected - started)))
        if joined is None:
            samples.append(
                PhaseSample(AGENT_JOINED, _ms(_end_of(result) - connected), result.error or "no agent joined")
            )
        else:
            samples.append(PhaseSample(AGENT_JOINED, _ms(max(joined - connected, 0.0))))
    if result.error is not None and joined is not None and not result.steps:
        # Joined, then could not go on (the agent never became ready): the run's own reason.
        samples.append(PhaseSample(FIRST_ANSWER, _ms(_end_of(result) - joined), result.error))
    turns = [_turn(number, step, records) for number, step in enumerate(_talking(result.steps), start=1)]
    if turns:
        first = turns[0]
        samples.append(PhaseSample(FIRST_ANSWER, first.response_time_ms, first.failure))
    samples.extend(turns)
    samples.append(PhaseSample(CONVERSATION, _ms(result.duration_s), _conversation_failure(result)))
    return samples


def _talking(steps: list[StepResult]) -> list[StepResult]:
    return [step for step in steps if step.action == "send" or step.action in _SPOKEN]


def _turn(number: int, step: StepResult, records: list[dict[str, Any]]) -> PhaseSample:
    name = turn_name(number, step.action)
    failure = _step_failure(step)
    if step.action in _SPOKEN:
        if step.latency_ms is not None:
            return PhaseSample(name, step.latency_ms, failure)
        return PhaseSample(name, _ms(step.duration_s), failure or "no voice-to-voice latency measured")
    answer = _text_answer_s(step, records)
    if answer is not None:
        return PhaseSample(name, _ms(answer), failure)
    return PhaseSample(name, _ms(step.duration_s), failure or "no answer")


def _text_answer_s(step: StepResult, records: list[dict[str, Any]]) -> float | None:
    """Our message of ``step`` to the first agent message after it, by their first-seen times."""
    # First-seen times are kept to the millisecond: a message sent as the step began may read as before it.
    begin, end = step.started_at - 0.001, step.started_at + step.duration_s
    ours = [
        seen
        for record in records
        if record.get("type") == "message" and record.get("speaker") == "user"
        if (seen := _first_seen(record)) is not None and begin <= seen <= end
    ]
    if not ours:
        return None
    sent = ours[0]
    theirs = [
        seen
        for record in records
        if record.get("type") == "message" and record.get("speaker") == "agent"
        if (seen := _first_seen(record)) is not None and sent <= seen <= end
    ]
    return min(theirs) - sent if theirs else None


def _step_failure(step: StepResult) -> str | None:
    if step.error is not None:
        return step.error
    if step.failures:
        return "; ".join(f"{f.expectation}: expected {f.expected}, got {f.got}" for f in step.failures)
    return None


def _conversation_failure(result: ScenarioResult) -> str | None:
    if result.passed:
        return None
    if result.error is not None:
        return result.error
    for step in result.steps:
        reason = _step_failure(step)
        if reason is not None:
            return f"step {step.index} ({step.summary}): {reason}"
    return "not every step ran"


def _first_at(records: list[dict[str, Any]], kind: str, **fields: str) -> float | None:
    for record in records:
        if record.get("type") == kind and all(record.get(k) == v for k, v in fields.items()):
            at = record.get("at")
            if isinstance(at, int | float):
                return float(at)
    return None


def _first_seen(record: dict[str, Any]) -> float | None:
    value = record.get("first_seen")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _end_of(result: ScenarioResult) -> float:
    return result.started_at + result.duration_s


def _ms(seconds: float) -> float:
    return max(seconds, 0.0) * 1000.0
