"""A single-producer / single-consumer ring of int16 samples, safe between one audio thread and the loop.

Why a ring and not a queue of frames: the PortAudio callback must not allocate, log or take a lock the
event loop can hold. A preallocated numpy array with two monotonically increasing counters needs none of
that: the producer only ever advances ``_written`` and the consumer only ever advances ``_read``, each
counter has exactly one writer, and under CPython every counter update is a single atomic store. The
producer publishes the counter *after* copying the samples and the consumer advances its counter *after*
copying them out, so neither side ever sees a half-written block.

Overflow policy is the caller's: :meth:`write` copies what fits and returns how much that was, so the
capture side can count dropped samples instead of letting latency build up behind a slow consumer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]


class SampleRing:
    """Fixed-capacity ring of mono int16 samples (see the module docstring for the threading contract)."""

    __slots__ = ("_buffer", "_capacity", "_read", "_written")

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._buffer: Int16Array = np.zeros(capacity, dtype=np.int16)
        self._capacity = capacity
        self._written = 0  # total samples ever written; only the producer stores it
        self._read = 0  # total samples ever read; only the consumer stores it

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def available(self) -> int:
        """Samples ready for the consumer."""
        return self._written - self._read

    @property
    def free(self) -> int:
        """Room left for the producer."""
        return self._capacity - (self._written - self._read)

    @property
    def total_written(self) -> int:
        return self._written

    @property
    def total_read(self) -> int:
        return self._read

    # -- producer side --------------------------------------------------------------------------------------
    def write(self, samples: Int16Array) -> int:
        """Copy as many of ``samples`` as fit; returns the number written (the rest is the caller's drop)."""
        count = min(len(samples), self._capacity - (self._written - self._read))
        if count <= 0:
            return 0
        start = self._written % self._capacity
        first = min(count, self._capacity - start)
        self._buffer[start : start + first] = samples[:first]
        if count > first:
            self._buffer[: count - first] = samples[first:count]
        self._written += count  # publish only after the copy
        return count

    # -- consumer side --------------------------------------------------------------------------------------
    def read_into(self, out: Int16Array, count: int | None = None) -> int:
        """Copy up to ``count`` (default ``len(out)``) samples into ``out``; returns how many were copied."""
        wanted = len(out) if count is None else min(count, len(out))
        count = min(wanted, self._written - self._read)
        if count <= 0:
            return 0
        start = self._read % self._capacity
        first = min(count, self._capacity - start)
        out[:first] = self._buffer[start : start + first]
        if count > first:
            out[first:count] = self._buffer[: count - first]
        self._read += count  # release the space only after the copy
        return count

    def skip(self, count: int) -> int:
        """Drop up to ``count`` of the oldest samples (consumer side); returns how many were dropped."""
        count = max(0, min(count, self._written - self._read))
        self._read += count
        return count

    def discard_all(self) -> int:
        """Drop everything queued (consumer side); returns how many samples were dropped."""
        return self.skip(self._written - self._read)
