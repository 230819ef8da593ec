"""What ``agent-tui test`` shows and writes: the live progress, the summary table, JUnit XML and JSON.

Everything here reads :mod:`agent_tui.scenario.results` only, so the terminal, the CI system's JUnit view
and the ``--json`` record always tell the same story. On a terminal the progress is one bar redrawn in
place (and a failing scenario's lines printed above it); anywhere else it is one plain line per finished
scenario and per failing step, because CI logs keep every byte and a redrawn line turns into noise there.
Colour is used on a terminal only.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from agent_tui.scenario.results import Failure, ProgressEvent, ScenarioResult, StepResult, to_json

#: Longest "got" text a progress line or table cell shows; the JUnit and JSON records keep all of it.
SHOWN_TEXT = 160
BAR_CELLS = 20
#: Most lines the failing step of one scenario takes in the table.
FAILING_LINES = 3
#: The table's width when the output is not a terminal and COLUMNS is not set.
DEFAULT_WIDTH = 120

_GREEN = "\x1b[32m"
_RED = "\x1b[31m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"
_CLEAR_LINE = "\x1b[2K"


# -- one line per failure ------------------------------------------------------------------------------
def _shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    return _cut(" ".join(text.split()), limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def failure_text(failure: Failure, *, limit: int = SHOWN_TEXT) -> str:
    """``reply: expected "time", got "hello there"`` — the one form every output uses."""
    return (
        f"{failure.expectation}: expected {_shorten(failure.expected, limit)}, "
        f"got {_shorten(failure.got, limit)}"
    )


def step_problems(step: StepResult, *, limit: int = SHOWN_TEXT) -> list[str]:
    """Each way ``step`` went wrong: the error that stopped it, then every unmet expectation."""
    problems = [_shorten(step.error, limit)] if step.error else []
    problems.extend(failure_text(failure, limit=limit) for failure in step.failures)
    return problems


def step_message(step: StepResult, *, limit: int = SHOWN_TEXT) -> str:
    """``step 2 (say "what time is it"): reply: expected ..., got ...; tool: ...``."""
    problems = "; ".join(step_problems(step, limit=limit)) or "failed"
    return f"step {step.index} ({_shorten(step.summary, limit)}): {problems}"


def first_failing_step(result: ScenarioResult) -> StepResult | None:
    return next((step for step in result.steps if not step.passed), None)


def result_message(result: ScenarioResult, *, limit: int = SHOWN_TEXT) -> str:
    """Why ``result`` did not pass, in one line: the start error or the first failing step."""
    if result.error is not None:
        return f"could not start: {_shorten(result.error, limit)}"
    step = first_failing_step(result)
    if step is None:
        return "failed" if not result.passed else ""
    failing = sum(1 for s in result.steps if not s.passed)
    more = f" (+{failing - 1} more failing step{'s' if failing > 2 else ''})" if failing > 1 else ""
    return step_message(step, limit=limit) + more


# -- figures -------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile of ``values`` by linear interpolation between ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def voice_latencies(results: Iterable[ScenarioResult]) -> list[float]:
    """Every client-measured voice-to-voice latency of the results' steps, in ms."""
    return [step.latency_ms for result in results for step in result.steps if step.latency_ms is not None]


def agent_e2e(results: Iterable[ScenarioResult]) -> list[float]:
    """Every ``e2e_ms`` the agent published for the results' steps."""
    return [
        step.agent_metrics["e2e_ms"]
        for result in results
        for step in result.steps
        if "e2e_ms" in step.agent_metrics
    ]


def _p50_p95(values: Sequence[float]) -> str:
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    if p50 is None or p95 is None:
        return "-"
    return f"{p50:.0f}/{p95:.0f}"


# -- grouping runs of one scenario ---------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioRuns:
    """Every run of one scenario (more than one with ``--repeat``), in run order."""

    source: str
    name: str
    runs: tuple[ScenarioResult, ...]

    @property
    def passed(self) -> int:
        return sum(1 for run in self.runs if run.passed)

    @property
    def result(self) -> str:
        """PASS, FAIL or ERROR for one run; the pass rate ``2/3`` for several."""
        if len(self.runs) > 1:
            return f"{self.passed}/{len(self.runs)}"
        only = self.runs[0]
        if only.passed:
            return "PASS"
        return "ERROR" if only.error is not None else "FAIL"

    @property
    def all_passed(self) -> bool:
        return self.passed == len(self.runs)

    def first_failure(self) -> ScenarioResult | None:
        return next((run for run in self.runs if not run.passed), None)


def group_runs(results: Iterable[ScenarioResult]) -> list[ScenarioRuns]:
    """The results by scenario (file and name), in the order each scenario first appears."""
    grouped: dict[tuple[str, str], list[ScenarioResult]] = {}
    for result in results:
        grouped.setdefault((result.source, result.name), []).append(result)
    return [
        ScenarioRuns(source, name, tuple(sorted(runs, key=lambda r: r.run)))
        for (source, name), runs in grouped.items()
    ]


def _repeated(results: Sequence[ScenarioResult]) -> bool:
    return any(len(group.runs) > 1 or group.runs[0].run > 1 for group in group_runs(results))


# -- the summary table ---------------------------------------------------------------------------------
_HEADERS = ("scenario", "result", "failing step", "voice p50/p95", "e2e p50/p95")
_LATENCY_NOTE = "latency in ms: voice = measured here, voice to voice; e2e = the agent's own figure"
#: The narrowest the scenario and failing step columns get, however narrow the terminal.
_MIN_NAME = 10
_MIN_FAILING = 6


def summary_table(results: Sequence[ScenarioResult], *, width: int, color: bool = False) -> str:
    """The table printed after the run, fitted to ``width`` columns, then a totals line.

    The failing step column takes what the others leave (they are short) and wraps onto up to
    :data:`FAILING_LINES` lines, so expected vs got stays readable on a narrow terminal; the scenario
    column is cut only when a name would take more than a quarter of the width.
    """
    groups = group_runs(results)
    rows = [
        (
            group.name,
            group.result,
            _failing_cell(group),
            _p50_p95(voice_latencies(group.runs)),
            _p50_p95(agent_e2e(group.runs)),
        )
        for group in groups
    ]
    widths = [max([len(header)] + [len(row[i]) for row in rows]) for i, header in enumerate(_HEADERS)]
    gaps = 2 * (len(_HEADERS) - 1)
    widths[0] = min(widths[0], max(_MIN_NAME, width // 4))
    fixed = widths[0] + widths[1] + widths[3] + widths[4] + gaps
    widths[2] = max(min(widths[2], width - fixed), _MIN_FAILING)
    lines = [_row(_HEADERS, widths, color=False, bold=color)]
    lines.append("  ".join("─" * w for w in widths))
    for group, row in zip(groups, rows, strict=True):
        failing = _wrap(row[2], widths[2])
        lines.append(
            _row((row[0], row[1], failing[0], row[3], row[4]), widths, color=color, good=group.all_passed)
        )
        lines.extend(_row(("", "", more, "", ""), widths, color=False) for more in failing[1:])
    lines.append("")
    if any(row[3] != "-" or row[4] != "-" for row in rows):
        lines.append(_shorten(_LATENCY_NOTE, width))
    lines.append(totals_line(results, groups))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``, no more than :data:`FAILING_LINES` (the last cut)."""
    lines = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > FAILING_LINES:
        rest = " ".join(lines[FAILING_LINES - 1 :])
        lines = [*lines[: FAILING_LINES - 1], _cut(rest, width)]
    return lines


def _failing_cell(group: ScenarioRuns) -> str:
    failed = group.first_failure()
    if failed is None:
        return ""
    message = result_message(failed, limit=SHOWN_TEXT)
    return f"run {failed.run}: {message}" if len(group.runs) > 1 else message


def _row(
    cells: Sequence[str], widths: Sequence[int], *, color: bool, good: bool = True, bold: bool = False
) -> str:
    fitted = [_shorten(cell, width).ljust(width) for cell, width in zip(cells, widths, strict=True)]
    if color:
        fitted[1] = (_GREEN if good else _RED) + fitted[1] + _RESET
    line = "  ".join(fitted)
    return f"{_BOLD}{line}{_RESET}" if bold else line


def totals_line(results: Sequence[ScenarioResult], groups: Sequence[ScenarioRuns] | None = None) -> str:
    """``3 scenarios: 2 passed, 1 failed (9 runs, 7 passed) in 12.3 s``."""
    groups = group_runs(results) if groups is None else groups
    passed = sum(1 for group in groups if group.all_passed)
    errors = sum(1 for group in groups if not group.all_passed and all(r.error for r in group.runs))
    failed = len(groups) - passed - errors
    parts = [f"{passed} passed", f"{failed} failed"] + ([f"{errors} could not start"] if errors else [])
    runs = (
        f" ({len(results)} runs, {sum(1 for r in results if r.passed)} passed)" if _repeated(results) else ""
    )
    wall = _wall_time(results)
    noun = "scenario" if len(groups) == 1 else "scenarios"
    return f"{len(groups)} {noun}: {', '.join(parts)}{runs} in {wall:.1f} s"


def _wall_time(results: Sequence[ScenarioResult]) -> float:
    if not results:
        return 0.0
    start = min(r.started_at for r in results)
    return max(r.started_at + r.duration_s for r in results) - start


# -- live progress -------------------------------------------------------------------------------------
class Progress:
    """The ``on_progress`` callback of the runner: shows each scenario as it runs.

    ``total`` is the number of runs to expect (scenarios times ``repeat``). On a terminal one bar line is
    redrawn in place — done/total, passed, failed, the scenario running — and the lines of a failing
    scenario are printed above it; otherwise one plain line per failing step and per finished scenario.
    Call :meth:`close` before printing anything else (it clears the bar).
    """

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        *,
        repeat: int = 1,
        tty: bool | None = None,
        width: int | None = None,
    ) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._tty = _isatty(self._stream) if tty is None else tty
        self._width = width
        self._total = total
        self._done = 0
        self._passed = 0
        self._failed = 0
        self._running: list[str] = []
        self._bar_shown = False
        self._repeat = repeat

    @property
    def tty(self) -> bool:
        return self._tty

    def __call__(self, event: ProgressEvent) -> None:
        label = self._label(event.scenario, event.run)
        if event.kind == "started":
            self._running.append(label)
        elif event.kind == "step" and event.step is not None and not event.step.passed:
            self._line(f"FAIL  {label}: {step_message(event.step)}", bad=True)
        elif event.kind == "finished" and event.result is not None:
            self._finished(label, event.result)
        if self._tty:
            self._draw()

    def _finished(self, label: str, result: ScenarioResult) -> None:
        if label in self._running:
            self._running.remove(label)
        self._done += 1
        if result.passed:
            self._passed += 1
            if not self._tty:
                self._line(f"PASS  {label} ({result.duration_s:.1f} s)", bad=False)
            return
        self._failed += 1
        if result.error is not None:
            self._line(f"ERROR {label}: could not start: {_shorten(result.error, SHOWN_TEXT)}", bad=True)
        else:
            failing = sum(1 for step in result.steps if not step.passed)
            self._line(f"FAIL  {label} ({failing} failing step(s), {result.duration_s:.1f} s)", bad=True)

    def _label(self, scenario: str, run: int) -> str:
        return f"{scenario} #{run}" if self._repeat > 1 else scenario

    def bar(self) -> str:
        """The progress line as it is drawn now (without the control codes)."""
        filled = round(BAR_CELLS * self._done / self._total) if self._total else BAR_CELLS
        current = f" ▸ {self._running[-1]}" if self._running else ""
        text = (
            f"[{'█' * filled}{'·' * (BAR_CELLS - filled)}] {self._done}/{self._total}"
            f"  passed {self._passed}  failed {self._failed}{current}"
        )
        return _cut(text, self._columns() - 1)

    def _draw(self) -> None:
        self._write(f"\r{_CLEAR_LINE}{self.bar()}")
        self._bar_shown = True

    def _line(self, text: str, *, bad: bool) -> None:
        if self._tty:
            colour = _RED if bad else _GREEN
            tag, _, rest = text.partition(" ")
            self._write(f"\r{_CLEAR_LINE}{colour}{tag}{_RESET} {rest}\n")
            self._bar_shown = False
        else:
            self._write(text + "\n")

    def close(self) -> None:
        """Clear the bar, so the summary starts on a clean line."""
        if self._tty and self._bar_shown:
            self._write(f"\r{_CLEAR_LINE}")
            self._bar_shown = False

    def _columns(self) -> int:
        return self._width if self._width is not None else terminal_width()

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (BrokenPipeError, ValueError):  # a closed pipe or stream must not stop the run
            pass


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def terminal_width() -> int:
    """The terminal's width (COLUMNS first), or :data:`DEFAULT_WIDTH` when there is none."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def print_summary(results: Sequence[ScenarioResult], stream: TextIO | None = None) -> None:
    """The summary table on ``stream`` (stdout), coloured and fitted when it is a terminal."""
    out = stream if stream is not None else sys.stdout
    tty = _isatty(out)
    out.write("\n" + summary_table(results, width=terminal_width(), color=tty))
    out.flush()


# -- JUnit XML -----------------------------------------------------------------------------------------
def junit_tree(results: Sequence[ScenarioResult]) -> ET.ElementTree[ET.Element]:
    """JUnit XML as CI systems read it: one ``testsuite`` per scenario file, one ``testcase`` per run.

    A scenario that could not start is an ``error``; one that ran and missed an expectation (or had a
    step that could not run) is a ``failure`` whose message is its first failing step and whose body
    lists every one. The latency figures ride along as ``properties``.
    """
    repeated = _repeated(results)
    by_file: dict[str, list[ScenarioResult]] = {}
    for result in results:
        by_file.setdefault(result.source, []).append(result)
    root = ET.Element("testsuites", name="agent-tui test")
    for source, runs in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=source)
        for result in runs:
            suite.append(_testcase(result, repeated=repeated))
        _counts(suite, runs)
        suite.set("timestamp", _timestamp(min(r.started_at for r in runs)))
    _counts(root, list(results))
    ET.indent(root)
    return ET.ElementTree(root)


def _counts(element: ET.Element, results: Sequence[ScenarioResult]) -> None:
    element.set("tests", str(len(results)))
    element.set("failures", str(sum(1 for r in results if not r.passed and r.error is None)))
    element.set("errors", str(sum(1 for r in results if r.error is not None)))
    element.set("skipped", "0")
    element.set("time", _seconds(sum(r.duration_s for r in results)))


def _testcase(result: ScenarioResult, *, repeated: bool) -> ET.Element:
    name = f"{result.name} #{result.run}" if repeated else result.name
    case = ET.Element(
        "testcase",
        classname=result.source,
        name=name,
        time=_seconds(result.duration_s),
        file=result.source,
        line=str(result.line),
    )
    properties = ET.SubElement(case, "properties")
    figures = {"room": result.room or "", "run": str(result.run), **latency_properties(result)}
    for key, value in figures.items():
        if value:
            ET.SubElement(properties, "property", name=key, value=value)
    if result.error is not None:
        error = ET.SubElement(case, "error", message=f"could not start: {result.error}", type="ScenarioError")
        error.text = result.error
    elif not result.passed:
        failing = [step for step in result.steps if not step.passed]
        first = failing[0] if failing else None
        message = step_message(first, limit=1000) if first is not None else "failed"
        failure = ET.SubElement(case, "failure", message=message, type="ScenarioFailure")
        failure.text = "\n".join(_failure_body(failing))
    out = ET.SubElement(case, "system-out")
    out.text = "\n".join(_step_log(result.steps))
    return case


def _failure_body(failing: Sequence[StepResult]) -> Iterable[str]:
    for step in failing:
        yield f"step {step.index} ({step.summary}):"
        for problem in step_problems(step, limit=100_000):
            yield f"  {problem}"


def _step_log(steps: Sequence[StepResult]) -> Iterable[str]:
    for step in steps:
        state = "ok" if step.passed else "FAILED"
        yield f"step {step.index} {state}: {step.summary} ({step.duration_s:.2f} s)"
        if step.reply is not None:
            yield f"  reply: {step.reply}"
        for tool in step.tools:
            yield f"  tool: {tool.get('name')}({tool.get('arguments', '')}) -> {tool.get('result', '')}"
        if step.latency_ms is not None:
            yield f"  voice latency: {step.latency_ms:.0f} ms"
        for key, value in sorted(step.agent_metrics.items()):
            yield f"  agent {key}: {value:.0f}"


def latency_properties(result: ScenarioResult) -> dict[str, str]:
    """The run's latency percentiles in whole ms, by name (``voice_latency_p50_ms``, ...), those it has."""
    figures: dict[str, str] = {}
    for name, values in (("voice_latency", voice_latencies([result])), ("agent_e2e", agent_e2e([result]))):
        for label, fraction in (("p50", 0.5), ("p95", 0.95)):
            value = percentile(values, fraction)
            if value is not None:
                figures[f"{name}_{label}_ms"] = f"{value:.0f}"
    return figures


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _timestamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))


def write_junit(results: Sequence[ScenarioResult], path: Path) -> None:
    """Write :func:`junit_tree` to ``path`` (UTF-8, with the XML declaration)."""
    junit_tree(results).write(path, encoding="utf-8", xml_declaration=True)


# -- JSON ----------------------------------------------------------------------------------------------
def write_json(results: Sequence[ScenarioResult], path: Path) -> None:
    """Write the full record (:func:`~agent_tui.scenario.results.to_json`) to ``path``."""
    text = json.dumps(to_json(list(results)), indent=2, ensure_ascii=False, default=str)
    path.write_text(text + "\n", encoding="utf-8")
