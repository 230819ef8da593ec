"""RMS and peak levels in dBFS, accumulated per frame and read at the front end's own pace.

Front ends poll the level at their frame rate (the TUI at ~30 Hz, the JSONL runner far less often), while
audio arrives at 100 frames a second. So the meter only accumulates a sum of squares and a peak per frame
(one cast into a preallocated float buffer, one dot product, a min and a max: no per-frame allocation
beyond numpy scalars) and the logarithms are taken only when someone reads. A read covers every frame since
the previous read, so a short loud syllable between two UI frames still shows up; with nothing new the last
reading is repeated.

0 dBFS is a square wave at full scale (RMS of 32768); a full-scale sine therefore reads -3 dB RMS, 0 dB peak.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .controls import Level
from .ring_buffer import Int16Array

FULL_SCALE = 32768.0
SILENCE = Level(rms_db=-math.inf, peak_db=-math.inf)


def to_dbfs(value: float) -> float:
    """A linear amplitude relative to full scale, in dB (``-inf`` for zero)."""
    return 20.0 * math.log10(value) if value > 0.0 else -math.inf


def measure(samples: Int16Array) -> Level:
    """The level of one block, for tests and one-off measurements (allocates; not for the audio path)."""
    if len(samples) == 0:
        return SILENCE
    as_float = samples.astype(np.float64)
    rms = math.sqrt(float(np.dot(as_float, as_float)) / len(samples)) / FULL_SCALE
    peak = float(np.max(np.abs(as_float))) / FULL_SCALE
    return Level(rms_db=to_dbfs(rms), peak_db=to_dbfs(peak))


class FrameRms:
    """The linear RMS (0..1 of full scale) of one frame at a time, with a preallocated scratch buffer.

    The voice-latency meter needs a per-frame energy on the loop's hot path; this avoids allocating a
    float copy of every 10 ms frame.
    """

    __slots__ = ("_scratch",)

    def __init__(self, max_frame_samples: int = 4800) -> None:
        self._scratch: npt.NDArray[np.float32] = np.zeros(max_frame_samples, dtype=np.float32)

    def __call__(self, samples: Int16Array) -> float:
        size = min(len(samples), len(self._scratch))
        if size == 0:
            return 0.0
        scratch = self._scratch[:size]
        np.copyto(scratch, samples[:size], casting="unsafe")
        return math.sqrt(float(np.dot(scratch, scratch)) / size) / FULL_SCALE


class LevelMeter:
    """Accumulates frames and reports their combined level on :meth:`read` (single-threaded: the loop's)."""

    __slots__ = ("_count", "_last", "_peak", "_scratch", "_sum_squares")

    def __init__(self, max_frame_samples: int = 4800) -> None:
        self._scratch: npt.NDArray[np.float32] = np.zeros(max_frame_samples, dtype=np.float32)
        self._sum_squares = 0.0
        self._peak = 0
        self._count = 0
        self._last = SILENCE

    def add(self, samples: Int16Array) -> None:
        """Account for one frame (any length; long frames are measured in scratch-sized pieces)."""
        total = len(samples)
        offset = 0
        while offset < total:
            size = min(total - offset, len(self._scratch))
            piece = samples[offset : offset + size]
            scratch = self._scratch[:size]
            np.copyto(scratch, piece, casting="unsafe")
            self._sum_squares += float(np.dot(scratch, scratch))
            peak = max(int(piece.max()), -int(piece.min()))
            self._peak = max(self._peak, peak)
            offset += size
        self._count += total

    def read(self) -> Level:
        """The level over every frame since the last read (the last reading again if there was none)."""
        if self._count:
            rms = math.sqrt(self._sum_squares / self._count) / FULL_SCALE
            self._last = Level(rms_db=to_dbfs(rms), peak_db=to_dbfs(self._peak / FULL_SCALE))
            self._sum_squares = 0.0
            self._peak = 0
            self._count = 0
        return self._last

    def reset(self) -> None:
        """Back to silence (the stream stopped; a stale reading would be a lie)."""
        self._sum_squares = 0.0
        self._peak = 0
        self._count = 0
        self._last = SILENCE
