"""What ``agent-tui load`` prints: a live progress line while it runs, then a table of the phases.

Both read Locust's own statistics (:class:`locust.stats.RequestStats`; on the master of a distributed run,
the aggregate of every worker's), so the table, Locust's CSV/HTML reports and its web UI agree. Times are
Locust's: whole milliseconds, percentiles from its response-time buckets (exact below 100 ms, to 10 ms
below 1 s, to 100 ms below 10 s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TextIO

from agent_tui.load.locust_user import REQUEST_TYPE
from agent_tui.load.phases import CONVERSATION, FIRST_ANSWER, PHASE_ORDER

if TYPE_CHECKING:
    from locust.stats import RequestStats, StatsEntry

__all__ = ["PhaseRow", "failure_lines", "format_table", "phase_rows", "progress_line"]

_TURN: Final = re.compile(r"turn (\d+)")
_COLUMNS: Final = ("phase", "count", "failures", "p50 ms", "p95 ms", "p99 ms", "max ms")
#: Failure reasons shown under the table, most frequent first; the rest are in Locust's CSV/HTML reports.
MAX_FAILURE_LINES: Final = 8


@dataclass(frozen=True)
class PhaseRow:
    """One phase's figures: how many, how many failed, and its time percentiles in milliseconds."""

    name: str
    count: int
    failures: int
    p50: int
    p95: int
    p99: int
    max: int

    @classmethod
    def of(cls, entry: StatsEntry) -> PhaseRow:
        return cls(
            name=entry.name,
            count=entry.num_requests,
            failures=entry.num_failures,
            p50=entry.get_response_time_percentile(0.5),
            p95=entry.get_response_time_percentile(0.95),
            p99=entry.get_response_time_percentile(0.99),
            max=round(entry.max_response_time),
        )


def _order(name: str) -> tuple[int, int, str]:
    """Fixed phases first, turns by number, the conversation last, anything else (a locustfile's own
    requests) after it by name."""
    if name in PHASE_ORDER:
        return (0, PHASE_ORDER.index(name), name)
    if (turn := _TURN.match(name)) is not None:
        return (1, int(turn.group(1)), name)
    if name == CONVERSATION:
        return (2, 0, name)
    return (3, 0, name)


def phase_rows(stats: RequestStats, request_type: str = REQUEST_TYPE) -> list[PhaseRow]:
    """The rows of every phase of ``request_type`` that has samples, in the order of a conversation."""
    entries = [
        entry
        for (name, method), entry in stats.entries.items()
        if method == request_type and (entry.num_requests or entry.num_failures)
    ]
    return [PhaseRow.of(entry) for entry in sorted(entries, key=lambda entry: _order(entry.name))]


def format_table(rows: list[PhaseRow]) -> str:
    """The rows as an aligned text table with a header line."""
    cells = [list(_COLUMNS)] + [
        [row.name, *(str(value) for value in (row.count, row.failures, row.p50, row.p95, row.p99, row.max))]
        for row in rows
    ]
    widths = [max(len(line[column]) for line in cells) for column in range(len(_COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(widths[column]) if column == 0 else cell.rjust(widths[column])
            for column, cell in enumerate(line)
        ).rstrip()
        for line in cells
    ]
    return "\n".join(lines)


def failure_lines(stats: RequestStats, request_type: str = REQUEST_TYPE) -> list[str]:
    """``3x turn 1: reply: expected ..., got ...``, the most frequent reasons first."""
    errors = sorted(
        (error for error in stats.errors.values() if error.method == request_type),
        key=lambda error: (-error.occurrences, error.name),
    )
    lines = [f"{error.occurrences}x {error.name}: {_reason(error.error)}" for error in errors]
    if len(lines) > MAX_FAILURE_LINES:
        rest = len(lines) - MAX_FAILURE_LINES
        lines = [*lines[:MAX_FAILURE_LINES], f"... and {rest} more reasons (see --csv / --html)"]
    return lines


def _reason(error: object) -> str:
    text = str(error)
    # Locust keeps a failure as repr-like text ("PhaseFailure('...')"); show the reason itself.
    match = re.fullmatch(r"\w+\((['\"])(.*)\1\)", text, flags=re.DOTALL)
    return match.group(2) if match else text


def progress_line(stats: RequestStats, users: int, wanted: int, remaining_s: float) -> str:
    """``users 5/5 · conversations 12 (1 failed) · first answer p95 850 ms · 42 s left``."""
    conversation = stats.entries.get((CONVERSATION, REQUEST_TYPE))
    first = stats.entries.get((FIRST_ANSWER, REQUEST_TYPE))
    done = conversation.num_requests if conversation is not None else 0
    failed = conversation.num_failures if conversation is not None else 0
    parts = [f"users {users}/{wanted}", f"conversations {done}" + (f" ({failed} failed)" if failed else "")]
    if first is not None and first.num_requests:
        parts.append(f"first answer p95 {first.get_response_time_percentile(0.95)} ms")
    parts.append(f"{max(remaining_s, 0):.0f} s left")
    return " · ".join(parts)


def print_report(stats: RequestStats, out: TextIO) -> None:
    """The table and the failure reasons, after the run."""
    rows = phase_rows(stats)
    if not rows:
        print("no conversation finished: no figures to report", file=out)
        return
    print(format_table(rows), file=out)
    reasons = failure_lines(stats)
    if reasons:
        print("\nfailures:", file=out)
        for line in reasons:
            print(f"  {line}", file=out)
