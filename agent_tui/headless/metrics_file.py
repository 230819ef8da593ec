"""``--metrics FILE``: one CSV row per turn figure, for spreadsheets and regression scripts.

Rows come from two sources that a reader wants side by side: the agent's own per-turn metrics
(``source=agent``: end of turn, LLM time to first token, TTS time to first byte, end to end) and the
voice-to-voice latency this client measured (``source=client``). Each row is flushed at once, like the
transcript, so a killed run keeps what it measured.
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from agent_tui.session import SessionEvent, TurnMetrics, VoiceLatency

COLUMNS = (
    "ts",
    "source",
    "turn",
    "role",
    "end_of_turn_ms",
    "llm_ttft_ms",
    "tts_ttfb_ms",
    "e2e_ms",
    "latency_ms",
)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


class MetricsFile:
    """An append-only CSV of per-turn figures; the header is written when the file is new."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._writer = csv.writer(stream)

    @classmethod
    def open(cls, path: Path) -> MetricsFile:
        path = path.expanduser()
        new = not path.exists() or path.stat().st_size == 0
        stream = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115 - owned by the instance
        if new:
            os.chmod(path, 0o600)
        metrics = cls(stream)
        if new:
            metrics._write(COLUMNS)
        return metrics

    def observe(self, event: SessionEvent) -> None:
        ts = datetime.fromtimestamp(event.at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if isinstance(event, TurnMetrics) and not event.metrics.empty:
            self._write(
                (ts, "agent", event.message_id, event.role, _ms(event.end_of_turn_ms), _ms(event.llm_ttft_ms),
                 _ms(event.tts_ttfb_ms), _ms(event.e2e_ms), "")
            )  # fmt: skip
        elif isinstance(event, VoiceLatency):
            self._write((ts, "client", str(event.turn), "user", "", "", "", "", _ms(event.latency_ms)))

    def _write(self, row: tuple[str, ...]) -> None:
        self._writer.writerow(row)
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()
