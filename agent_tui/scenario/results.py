"""What running scenarios produced: one shape shared by the runner, the report, the pytest plugin, the bench.

The runner fills these in; everything that shows or stores results (the live progress, the summary table,
JUnit XML, the ``--json`` record) reads only these, so the different outputs cannot disagree about what
happened. They are plain mutable dataclasses because the runner builds a result step by step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

#: Bumped when a field of the ``--json`` record is removed or changes meaning; adding one does not bump it.
JSON_VERSION = 1


@dataclass
class Failure:
    """One unmet expectation, kept as text so every report can say "expected ... got ..."."""

    expectation: str
    expected: str
    got: str


@dataclass
class StepResult:
    """One step as it ran: what it did, what the agent answered, and every expectation it missed."""

    index: int
    action: str
    summary: str
    passed: bool
    failures: list[Failure] = field(default_factory=list)
    #: The step could not run at all (a timeout, an RPC error), unlike running and missing an expectation.
    error: str | None = None
    reply: str | None = None
    #: The tool calls seen during the step: ``{"name", "arguments", "result"}``.
    tools: list[dict[str, Any]] = field(default_factory=list)
    #: Client-measured voice-to-voice latency of the step's answer.
    latency_ms: float | None = None
    #: The agent's own figures when it publishes them: ``e2e_ms``, ``llm_ttft_ms``, ``tts_ttfb_ms``.
    agent_metrics: dict[str, float] = field(default_factory=dict)
    started_at: float = 0.0
    duration_s: float = 0.0
    #: Seconds from the end of the step's action (sent, or spoken) to the agent's whole answer (back to
    #: listening); set by the runner when the step waited for an answer.
    answer_s: float | None = None

    def answer_time_s(self) -> float:
        """How long the agent took to answer: the whole answer when the runner timed it, else the
        measured latency, else the agent's own e2e figure (both only to its first audio), else 0."""
        if self.answer_s is not None:
            return self.answer_s
        if self.latency_ms is not None:
            return self.latency_ms / 1000.0
        e2e = self.agent_metrics.get("e2e_ms")
        return e2e / 1000.0 if e2e is not None else 0.0


@dataclass
class ScenarioResult:
    """One run of one scenario, in its own room."""

    name: str
    source: str
    line: int
    #: Which run of ``--repeat`` this is, from 1.
    run: int
    room: str | None
    passed: bool
    #: The scenario could not start (auth, connect, the agent never joined); its steps then did not run.
    error: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    #: Every session event as the headless JSONL records it (:mod:`agent_tui.headless.records`).
    events: list[dict[str, Any]] = field(default_factory=list)
    started_at: float = 0.0
    duration_s: float = 0.0

    def answer_time_s(self) -> float:
        """The sum of the agent's answer times, so the bench can tell the runner's overhead from it."""
        return sum(step.answer_time_s() for step in self.steps)


@dataclass
class ProgressEvent:
    """What the runner tells the report while it runs: a scenario started, a step ended, a scenario ended."""

    scenario: str
    run: int
    kind: Literal["started", "step", "finished"]
    step: StepResult | None = None
    result: ScenarioResult | None = None


def to_json(results: list[ScenarioResult]) -> dict[str, Any]:
    """The ``--json`` record: every result with every step and event, under a format version."""
    return {"v": JSON_VERSION, "results": [asdict(result) for result in results]}
