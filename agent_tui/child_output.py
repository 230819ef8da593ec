"""A child process's output, read to its end: written to a log file line by line, with a short tail.

The demo worker and livekit-server both run as children whose output must be read continuously (a full
pipe would stall them), kept in a log the user can open, and remembered briefly for the one-line error
that says why a start failed. One reader serves both; each says what to do with a line (``on_line``)
and how to clean it first (``scrub``: the server's secret never reaches its log).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final

__all__ = ["ChildOutput"]

_READ_CHUNK: Final = 65536
_TAIL_LINES: Final = 40


class ChildOutput:
    """Lines of one child's stdout: a log file (when given) and the last :data:`_TAIL_LINES` of them."""

    def __init__(
        self,
        log_path: Path | None,
        *,
        what: str,
        scrub: Callable[[str], str] = lambda line: line,
        on_line: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.log_path = log_path
        self.log_error: str | None = None
        """Why the log file could not be written, if it could not (the child runs anyway)."""
        self._what = what
        self._scrub = scrub
        self._on_line = on_line
        self._log: IO[str] | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)

    @property
    def tail(self) -> list[str]:
        """The last non-empty lines, oldest first."""
        return list(self._tail)

    @property
    def logging(self) -> bool:
        """Whether the log file is (or was meant to be and could be) written."""
        return self._log is not None or (self.log_path is not None and self.log_error is None)

    def open(self) -> None:
        if self.log_path is None:
            return
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("w", encoding="utf-8", errors="replace")
        except OSError as error:
            self.log_error = f"cannot write {self._what}'s log {self.log_path} ({error.strerror or error})"

    def close(self) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    async def read(self, stream: asyncio.StreamReader) -> None:
        """Read ``stream`` to its end, line by line."""
        pending = b""
        while chunk := await stream.read(_READ_CHUNK):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._line(line.decode("utf-8", errors="replace"))
        if pending:
            self._line(pending.decode("utf-8", errors="replace"))

    def _line(self, line: str) -> None:
        line = self._scrub(line.rstrip("\r"))
        if self._log is not None:
            try:
                self._log.write(line + "\n")
                self._log.flush()
            except OSError as error:
                self.log_error = f"cannot write {self._what}'s log ({error.strerror or error})"
                self.close()
        if line.strip():
            self._tail.append(line)
        self._on_line(line)
