"""The results' derived figures and the ``--json`` record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_tui.scenario.results import JSON_VERSION, Failure, ScenarioResult, StepResult, to_json


def _step(index: int, *, latency_ms: float | None = None, e2e_ms: float | None = None) -> StepResult:
    return StepResult(
        index=index,
        action="say",
        summary='say "what time is it"',
        passed=True,
        latency_ms=latency_ms,
        agent_metrics={} if e2e_ms is None else {"e2e_ms": e2e_ms},
    )


def _result(steps: list[StepResult], **fields: Any) -> ScenarioResult:
    return ScenarioResult(
        name="s", source="a.scenario.toml", line=3, run=1, room="r", passed=True, steps=steps, **fields
    )


def test_answer_time_prefers_the_whole_answer_then_the_measured_latency_then_the_agents_e2e() -> None:
    timed = _step(4, latency_ms=700)
    timed.answer_s = 2.5
    result = _result([_step(1, latency_ms=800, e2e_ms=500), _step(2, e2e_ms=1200), _step(3), timed])
    assert result.answer_time_s() == pytest.approx(0.8 + 1.2 + 2.5)


def test_the_json_record_holds_every_step_failure_and_event_under_its_version() -> None:
    step = _step(1, latency_ms=640)
    step.passed = False
    step.failures.append(Failure(expectation="reply", expected='"time"', got='"hello"'))
    step.tools.append({"name": "get_time", "arguments": "{}", "result": "12:00 UTC"})
    result = _result([step], events=[{"type": "message", "at": 1.5, "text": "hello"}])
    result.run, result.passed = 2, False
    record = json.loads(json.dumps(to_json([result])))
    assert record["v"] == JSON_VERSION == 1
    [only] = record["results"]
    assert (only["name"], only["run"], only["passed"], only["error"]) == ("s", 2, False, None)
    assert only["events"] == [{"type": "message", "at": 1.5, "text": "hello"}]
    [saved] = only["steps"]
    assert saved["failures"] == [{"expectation": "reply", "expected": '"time"', "got": '"hello"'}]
    assert saved["tools"][0]["name"] == "get_time"
    assert saved["latency_ms"] == 640
