"""Re-cut a stream of int16 chunks of any size into fixed-size frames.

The echo canceller needs exactly 10 ms frames and the LiveKit source is fed in 10 ms frames, but devices
deliver whatever block size they were opened with and the resampler returns chunks of varying length.
The slicer keeps at most one partial frame between calls in a preallocated buffer, so steady-state slicing
allocates nothing and adds no latency beyond the part of a frame that has not arrived yet.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .ring_buffer import Int16Array


class FrameSlicer:
    """Collects samples and calls ``on_frame`` with a view of every complete frame, oldest first.

    The view passed to ``on_frame`` is only valid during the call (it is the slicer's own buffer, or a
    slice of the caller's chunk): callers that keep the audio copy it.
    """

    __slots__ = ("_fill", "_frame_samples", "_partial")

    def __init__(self, frame_samples: int) -> None:
        if frame_samples <= 0:
            raise ValueError("frame_samples must be positive")
        self._frame_samples = frame_samples
        self._partial: Int16Array = np.zeros(frame_samples, dtype=np.int16)
        self._fill = 0

    @property
    def frame_samples(self) -> int:
        return self._frame_samples

    @property
    def pending(self) -> int:
        """Samples held back because they do not make a whole frame yet."""
        return self._fill

    def push(self, chunk: Int16Array, on_frame: Callable[[Int16Array], object]) -> int:
        """Add ``chunk``; returns the number of frames emitted."""
        size = self._frame_samples
        emitted = 0
        offset = 0
        total = len(chunk)
        if self._fill:
            take = min(size - self._fill, total)
            self._partial[self._fill : self._fill + take] = chunk[:take]
            self._fill += take
            offset = take
            if self._fill < size:
                return 0
            on_frame(self._partial)
            self._fill = 0
            emitted += 1
        while total - offset >= size:
            on_frame(chunk[offset : offset + size])
            offset += size
            emitted += 1
        rest = total - offset
        if rest:
            self._partial[:rest] = chunk[offset:]
            self._fill = rest
        return emitted

    def reset(self) -> None:
        """Forget the partial frame (after a flush or a device change)."""
        self._fill = 0
