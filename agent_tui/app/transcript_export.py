"""The transcript as plain text, for "Export transcript" and the ``--transcript`` file at exit."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from agent_tui.ui.transcript_view import CANCELLED_MARK, EntryKind, TranscriptEntry


def format_transcript(entries: Iterable[TranscriptEntry], *, room: str | None, agent: str | None) -> str:
    lines = [f"# agent-tui transcript — room {room or '-'}, agent {agent or '-'}"]
    for entry in entries:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.at))
        if entry.kind is EntryKind.USER:
            who = "You"
        elif entry.kind is EntryKind.AGENT:
            who = entry.label or "Agent"
        elif entry.kind in (EntryKind.TOOL, EntryKind.TIMING):
            who = f"* {entry.kind.value}"
        else:
            who = "*"
        interim = "" if entry.final else " (interim)"
        cancelled = f" {CANCELLED_MARK}" if entry.cancelled else ""
        lines.append(f"[{stamp}] {who}{interim}{cancelled}: {entry.text}")
    return "\n".join(lines) + "\n"


def write_transcript(path: Path, text: str) -> Path:
    """Blocking: run it in a thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
