"""``--transcript FILE``: every final message appended as a JSON line, on disk as soon as it is final.

The file is opened in append mode (a second run adds to it, never truncates it), created private
(``0600``: a conversation is personal), and flushed after every line, so that a crash, a ``kill -9`` or
a lost terminal loses nothing that was already said. Lines use the ``message`` shape of
:mod:`agent_tui.headless.jsonl`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from agent_tui.headless import jsonl
from agent_tui.headless.records import Record


class TranscriptFile:
    def __init__(self, handle: TextIO, path: Path) -> None:
        self._handle = handle
        self.path = path

    @classmethod
    def open(cls, path: Path) -> TranscriptFile:
        """Open ``path`` for appending; raises :class:`OSError` when it cannot be created or written."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return cls(os.fdopen(fd, "a", encoding="utf-8", newline="\n"), path)

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def write(self, record: Record) -> None:
        """Append one ``message`` record and flush it to the operating system."""
        if record["type"] != "message":
            raise ValueError(f"the transcript holds message records only, not {record['type']!r}")
        self._handle.write(jsonl.render(record) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()
