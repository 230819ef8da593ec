"""The one place a capture thread meets the event loop: a slot holding the newest frame.

A reader thread calls :meth:`LatestFrame.put`; the event loop is woken with one thread-safe call per
batch and delivers only the newest frame. When the loop is busy (a burst of UI work), older frames are
replaced rather than queued, so video never adds latency or memory and never floods the loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestFrame(Generic[T]):
    """Newest-wins hand-off from one thread to a ``sink`` called on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sink: Callable[[T], None]) -> None:
        self._loop = loop
        self._sink = sink
        self._lock = threading.Lock()
        self._frame: T | None = None
        self._scheduled = False
        self.delivered = 0
        self.replaced = 0

    def put(self, frame: T) -> bool:
        """Offer ``frame`` (from any thread); False once the loop is closed (the reader should stop)."""
        with self._lock:
            if self._frame is not None:
                self.replaced += 1
            self._frame = frame
            if self._scheduled:
                return True
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the loop is closed
            return False
        return True

    def _deliver(self) -> None:
        with self._lock:
            frame, self._frame = self._frame, None
            self._scheduled = False
        if frame is not None:
            self.delivered += 1
            self._sink(frame)
