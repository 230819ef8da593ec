"""The phase table and the progress line, read from Locust's own RequestStats."""

from __future__ import annotations

import io

from locust.stats import RequestStats

import agent_tui.load  # noqa: F401  (sets LOCUST_SKIP_MONKEY_PATCH before locust is imported)
from agent_tui.load.locust_user import PhaseFailure
from agent_tui.load.report import failure_lines, format_table, phase_rows, print_report, progress_line


def stats_with(samples: dict[str, list[int]], failures: dict[str, list[str]] | None = None) -> RequestStats:
    stats = RequestStats()
    for name, times in samples.items():
        for time_ms in times:
            stats.log_request("agent-tui", name, time_ms, 0)
    for name, reasons in (failures or {}).items():
        for reason in reasons:
            stats.log_error("agent-tui", name, PhaseFailure(reason))
    return stats


def test_rows_follow_the_conversation_with_counts_and_percentiles() -> None:
    stats = stats_with({
        "conversation": [9000, 9100],
        "turn 10": [300],
        "turn 2": [400, 420],
        "agent joined": [1000, 1200],
        "connect": [240, 260],
        "first answer": [800, 900],
        "turn 1": [800, 900],
    })  # fmt: skip
    stats.log_request("GET", "/elsewhere", 5, 0)  # a locustfile's own request is not a phase
    rows = phase_rows(stats)
    assert [row.name for row in rows] == [
        "connect", "agent joined", "first answer", "turn 1", "turn 2", "turn 10", "conversation",
    ]  # fmt: skip
    joined = rows[1]
    assert (joined.count, joined.failures, joined.max) == (2, 0, 1200)
    assert joined.p50 == joined.p95 == joined.p99 == 1200  # Locust's percentile of two samples: the upper


def test_percentiles_are_locusts_own() -> None:
    stats = stats_with({"turn 1": list(range(1, 101))})
    (row,) = phase_rows(stats)
    entry = stats.entries[("turn 1", "agent-tui")]
    assert (row.p50, row.p95, row.p99) == (
        entry.get_response_time_percentile(0.5),
        entry.get_response_time_percentile(0.95),
        entry.get_response_time_percentile(0.99),
    )
    assert (row.p50, row.p95, row.p99, row.max) == (51, 96, 100, 100)


def test_the_table_aligns_and_the_failures_say_why_most_frequent_first() -> None:
    stats = stats_with(
        {"turn 1": [500, 700, 650], "conversation": [5000, 5100, 5200]},
        {"turn 1": ["reply: expected 'sunny', got 'hi'"] * 2 + ["the step did not finish within 5 s"]},
    )
    table = format_table(phase_rows(stats)).splitlines()
    assert table[0].split() == [
        "phase",
        "count",
        "failures",
        "p50",
        "ms",
        "p95",
        "ms",
        "p99",
        "ms",
        "max",
        "ms",
    ]
    assert table[1].split()[:4] == ["turn", "1", "3", "3"]
    assert len({len(line) for line in table}) == 1 or all(line.rstrip() == line for line in table)
    assert failure_lines(stats) == [
        "2x turn 1: reply: expected 'sunny', got 'hi'",
        "1x turn 1: the step did not finish within 5 s",
    ]
    out = io.StringIO()
    print_report(stats, out)
    assert "failures:" in out.getvalue() and "expected 'sunny'" in out.getvalue()


def test_no_conversation_says_so() -> None:
    out = io.StringIO()
    print_report(RequestStats(), out)
    assert out.getvalue() == "no conversation finished: no figures to report\n"


def test_the_progress_line() -> None:
    stats = stats_with({"conversation": [5000, 6000], "first answer": [700, 900]}, {"conversation": ["no"]})
    assert progress_line(stats, 3, 5, 41.6) == (
        "users 3/5 · conversations 2 (1 failed) · first answer p95 900 ms · 42 s left"
    )
    assert progress_line(RequestStats(), 0, 5, 60) == "users 0/5 · conversations 0 · 60 s left"
