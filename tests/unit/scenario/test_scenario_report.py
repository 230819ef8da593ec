"""The report: the summary table (pass, fail, repeat, could not start), the live progress in both
forms, and JUnit XML and JSON read back."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent_tui.scenario.report import (
    Progress,
    percentile,
    summary_table,
    write_json,
    write_junit,
)
from agent_tui.scenario.results import Failure, ProgressEvent, ScenarioResult, StepResult

SOURCE = "tests/time.scenario.toml"
OTHER = "tests/greet.scenario.toml"


def step(
    index: int,
    *,
    failures: list[Failure] | None = None,
    error: str | None = None,
    latency_ms: float | None = None,
    e2e_ms: float | None = None,
) -> StepResult:
    return StepResult(
        index=index,
        action="say",
        summary='say "what time is it"',
        passed=not failures and error is None,
        failures=failures or [],
        error=error,
        reply="The time is 12:00 UTC.",
        tools=[{"name": "get_time", "arguments": "{}", "result": "12:00 UTC"}],
        latency_ms=latency_ms,
        agent_metrics={} if e2e_ms is None else {"e2e_ms": e2e_ms},
        started_at=1000.0 + index,
        duration_s=1.0,
    )


def scenario(
    name: str,
    steps: list[StepResult],
    *,
    run: int = 1,
    source: str = SOURCE,
    error: str | None = None,
    started_at: float = 1000.0,
) -> ScenarioResult:
    return ScenarioResult(
        name=name,
        source=source,
        line=4,
        run=run,
        room=f"room-{name}-{run}",
        passed=error is None and all(s.passed for s in steps),
        error=error,
        steps=steps,
        started_at=started_at,
        duration_s=2.5,
    )


WRONG_REPLY = Failure(expectation="reply", expected='"goodbye"', got='"The time is 12:00 UTC."')
NO_TOOL = Failure(expectation="tool", expected="get_weather", got="get_time")


def table_rows(text: str) -> dict[str, list[str]]:
    """The table's data rows by scenario name, split on the two-space column gaps."""
    lines = text.splitlines()
    rows = lines[2 : lines.index("")]
    return {cells[0]: cells for cells in ([c.strip() for c in row.split("  ") if c.strip()] for row in rows)}


# -- the summary table ---------------------------------------------------------------------------------
def test_a_passing_scenario_shows_pass_and_its_latency_percentiles() -> None:
    result = scenario("asks the time", [step(1, latency_ms=800, e2e_ms=500), step(2, latency_ms=1000)])
    text = summary_table([result], width=120)
    row = table_rows(text)["asks the time"]
    assert row == ["asks the time", "PASS", "900/990", "500/500"]
    assert text.splitlines()[-1] == "1 scenario: 1 passed, 0 failed in 2.5 s"
    assert "\x1b[" not in text


def test_a_failing_scenario_names_the_step_and_expected_vs_got() -> None:
    result = scenario("asks the time", [step(1), step(2, failures=[WRONG_REPLY, NO_TOOL])])
    row = table_rows(summary_table([result], width=200))["asks the time"]
    assert row[1] == "FAIL"
    assert row[2] == (
        'step 2 (say "what time is it"): reply: expected "goodbye", got "The time is 12:00 UTC."; '
        "tool: expected get_weather, got get_time"
    )
    assert row[3:] == ["-", "-"]


def test_a_step_that_could_not_run_shows_its_error() -> None:
    result = scenario("asks the time", [step(1, error="no reply within 20 s")])
    row = table_rows(summary_table([result], width=200))["asks the time"]
    assert row[1:3] == ["FAIL", 'step 1 (say "what time is it"): no reply within 20 s']


def test_repeat_shows_the_pass_rate_and_the_first_failing_run() -> None:
    runs = [
        scenario("asks the time", [step(1)], run=1),
        scenario("asks the time", [step(1, failures=[WRONG_REPLY])], run=2),
        scenario("asks the time", [step(1)], run=3),
    ]
    text = summary_table(runs, width=200)
    row = table_rows(text)["asks the time"]
    assert row[1] == "2/3"
    assert row[2].startswith('run 2: step 1 (say "what time is it"): reply: expected "goodbye"')
    assert text.splitlines()[-1] == "1 scenario: 0 passed, 1 failed (3 runs, 2 passed) in 2.5 s"


def test_a_scenario_that_could_not_start_is_an_error() -> None:
    results = [
        scenario("asks the time", [step(1)]),
        scenario("greets", [], source=OTHER, error="the agent did not join within 20 s"),
    ]
    text = summary_table(results, width=200)
    row = table_rows(text)["greets"]
    assert row[1:3] == ["ERROR", "could not start: the agent did not join within 20 s"]
    assert text.splitlines()[-1] == "2 scenarios: 1 passed, 0 failed, 1 could not start in 2.5 s"


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_table_fits_the_width(width: int) -> None:
    long_got = Failure(expectation="reply", expected='"x"', got='"' + "very long answer " * 30 + '"')
    results = [
        scenario("a scenario with a rather long name that goes on and on", [step(1, failures=[long_got])])
    ]
    text = summary_table(results, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" in text


def test_a_narrow_table_wraps_the_failing_step_under_its_column() -> None:
    result = scenario("asks the time", [step(1, failures=[WRONG_REPLY])])
    lines = summary_table([result], width=100).splitlines()
    column = lines[0].index("failing step")
    first = next(i for i, line in enumerate(lines) if line.startswith("asks the time"))
    wrapped = [lines[first][column:].split("  ")[0]] + [
        line[column:] for line in lines[first + 1 :] if line.startswith(" " * column) and line.strip()
    ]
    assert len(wrapped) > 1
    assert " ".join(part.strip() for part in wrapped) == (
        'step 1 (say "what time is it"): reply: expected "goodbye", got "The time is 12:00 UTC."'
    )


def test_color_codes_only_when_asked() -> None:
    results = [scenario("ok", [step(1)]), scenario("bad", [step(1, failures=[WRONG_REPLY])])]
    colored = summary_table(results, width=120, color=True)
    assert "\x1b[32mPASS" in colored and "\x1b[31mFAIL" in colored
    assert "\x1b[" not in summary_table(results, width=120)


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([100.0, 200.0, 300.0, 400.0], 0.5) == 250.0
    assert percentile([100.0, 200.0, 300.0, 400.0], 0.95) == pytest.approx(385.0)


# -- live progress -------------------------------------------------------------------------------------
def feed(progress: Progress, result: ScenarioResult) -> None:
    progress(ProgressEvent(scenario=result.name, run=result.run, kind="started"))
    for s in result.steps:
        progress(ProgressEvent(scenario=result.name, run=result.run, kind="step", step=s))
    progress(ProgressEvent(scenario=result.name, run=result.run, kind="finished", result=result))


def test_plain_progress_is_one_line_per_scenario_and_per_failing_step() -> None:
    out = io.StringIO()
    progress = Progress(3, out, tty=False)
    feed(progress, scenario("ok", [step(1), step(2)]))
    feed(progress, scenario("bad", [step(1), step(2, failures=[WRONG_REPLY])]))
    feed(progress, scenario("greets", [], error="connection refused"))
    progress.close()
    assert out.getvalue().splitlines() == [
        "PASS  ok (2.5 s)",
        'FAIL  bad: step 2 (say "what time is it"): reply: expected "goodbye", got "The time is 12:00 UTC."',
        "FAIL  bad (1 failing step(s), 2.5 s)",
        "ERROR greets: could not start: connection refused",
    ]


def test_plain_progress_names_the_run_with_repeat() -> None:
    out = io.StringIO()
    progress = Progress(2, out, repeat=2, tty=False)
    feed(progress, scenario("ok", [step(1)], run=1))
    feed(progress, scenario("ok", [step(1)], run=2))
    assert out.getvalue().splitlines() == ["PASS  ok #1 (2.5 s)", "PASS  ok #2 (2.5 s)"]


def test_terminal_progress_redraws_one_bar_in_place() -> None:
    out = io.StringIO()
    progress = Progress(2, out, tty=True, width=80)
    progress(ProgressEvent(scenario="asks the time", run=1, kind="started"))
    assert progress.bar() == "[····················] 0/2  passed 0  failed 0 ▸ asks the time"
    done = scenario("asks the time", [step(1)])
    progress(ProgressEvent(scenario=done.name, run=1, kind="finished", result=done))
    feed(progress, scenario("bad", [step(1, failures=[WRONG_REPLY])]))
    assert progress.bar() == "[████████████████████] 2/2  passed 1  failed 1"
    progress.close()
    written = out.getvalue()
    # Only a failing scenario's lines end in a newline (printed above the bar); the bar is redrawn.
    printed = [part.rsplit("\r\x1b[2K", 1)[-1] for part in written.split("\n")[:-1]]
    assert printed == [
        '\x1b[31mFAIL\x1b[0m  bad: step 1 (say "what time is it"): reply: expected "goodbye", '
        'got "The time is 12:00 UTC."',
        "\x1b[31mFAIL\x1b[0m  bad (1 failing step(s), 2.5 s)",
    ]
    assert written.count("\r") >= 4
    assert written.endswith("\r\x1b[2K")


def test_the_bar_is_cut_to_the_terminal_width() -> None:
    progress = Progress(1, io.StringIO(), tty=True, width=40)
    progress(
        ProgressEvent(
            scenario="a very long scenario name indeed, longer than the line", run=1, kind="started"
        )
    )
    assert len(progress.bar()) == 39


# -- JUnit XML and JSON --------------------------------------------------------------------------------
def test_junit_xml_has_a_suite_per_file_a_case_per_run_and_every_failure(tmp_path: Path) -> None:
    results = [
        scenario("asks the time", [step(1, latency_ms=900, e2e_ms=600)]),
        scenario("wrong answer", [step(1), step(2, failures=[WRONG_REPLY]), step(3, error="rpc failed")]),
        scenario("greets", [], source=OTHER, error="the agent never joined"),
    ]
    path = tmp_path / "junit.xml"
    write_junit(results, path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == [SOURCE, OTHER]
    assert (suites[SOURCE].get("tests"), suites[SOURCE].get("failures")) == ("2", "1")
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert list(cases) == ["asks the time", "wrong answer", "greets"]
    passing = cases["asks the time"]
    assert passing.get("classname") == SOURCE and passing.get("time") == "2.500"
    assert passing.find("failure") is None and passing.find("error") is None
    props = {p.get("name"): p.get("value") for p in passing.iter("property")}
    assert props["voice_latency_p50_ms"] == "900" and props["agent_e2e_p95_ms"] == "600"
    failure = cases["wrong answer"].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        'step 2 (say "what time is it"): reply: expected "goodbye", got "The time is 12:00 UTC."'
    )
    assert failure.text is not None
    assert (
        'reply: expected "goodbye"' in failure.text
        and "step 3" in failure.text
        and "rpc failed" in failure.text
    )
    error = cases["greets"].find("error")
    assert error is not None and error.get("message") == "could not start: the agent never joined"
    assert cases["greets"].get("classname") == OTHER


def test_junit_names_each_run_with_repeat(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit([scenario("s", [step(1)], run=1), scenario("s", [step(1)], run=2)], path)
    names = [case.get("name") for case in ET.parse(path).getroot().iter("testcase")]
    assert names == ["s #1", "s #2"]


def test_write_json_is_the_full_record(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json([scenario("wrong answer", [step(1, failures=[WRONG_REPLY])])], path)
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["v"] == 1
    assert record["results"][0]["steps"][0]["failures"][0]["expected"] == '"goodbye"'
