"""The agent's voice by frequency band, for a bar visualizer: the last few tens of ms, read on demand.

The web's ``BarVisualizer`` shows the agent's voice as bars by frequency. Audio arrives at 50 frames a
second and a front end draws at its own rate, so the tap only copies each frame into a preallocated
ring (no allocation on the audio path), and the FFT runs when someone reads: over the newest
:data:`WINDOW` samples, Hann-windowed, its power summed into log-spaced bands between
:data:`LOW_HZ` and :data:`HIGH_HZ` (where speech carries its energy), each given in dBFS so a
full-scale sine wholly inside one band reads about -3 dB there, like :mod:`.levels`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt

from .ring_buffer import Int16Array

__all__ = ["HIGH_HZ", "LOW_HZ", "WINDOW", "SpectrumTap", "band_edges"]

#: Samples per reading: 1024 at 48 kHz is 21 ms, one FFT bin per 47 Hz.
WINDOW = 1024
LOW_HZ = 100.0
HIGH_HZ = 8000.0
FULL_SCALE = 32768.0


def band_edges(count: int, low_hz: float = LOW_HZ, high_hz: float = HIGH_HZ) -> list[float]:
    """``count + 1`` frequencies from ``low_hz`` to ``high_hz``, equally spaced on a log scale."""
    if count < 1:
        raise ValueError("a spectrum needs at least one band")
    ratio = (high_hz / low_hz) ** (1.0 / count)
    return [low_hz * ratio**index for index in range(count + 1)]


class SpectrumTap:
    """The newest :data:`WINDOW` samples of one stream; :meth:`bands` reads them (single-threaded)."""

    __slots__ = ("_filled", "_position", "_ring", "_window", "sample_rate")

    def __init__(self, sample_rate: int, window: int = WINDOW) -> None:
        self.sample_rate = sample_rate
        self._ring: npt.NDArray[np.int16] = np.zeros(window, dtype=np.int16)
        self._position = 0
        self._filled = 0
        self._window: npt.NDArray[np.float64] | None = None

    def add(self, samples: Int16Array) -> None:
        """Keep the newest samples of ``samples`` (any length), overwriting the oldest."""
        size = len(self._ring)
        if len(samples) >= size:
            self._ring[:] = samples[-size:]
            self._position = 0
            self._filled = size
            return
        first = min(len(samples), size - self._position)
        self._ring[self._position : self._position + first] = samples[:first]
        rest = len(samples) - first
        if rest:
            self._ring[:rest] = samples[first:]
        self._position = (self._position + len(samples)) % size
        self._filled = min(size, self._filled + len(samples))

    def clear(self) -> None:
        """Forget what was heard (the agent's track ended): the bars fall to nothing."""
        self._ring[:] = 0
        self._filled = 0

    def bands(self, count: int) -> list[float]:
        """The newest window's level in each of ``count`` bands, in dBFS (``-inf`` for silence)."""
        edges = band_edges(count, LOW_HZ, min(HIGH_HZ, self.sample_rate / 2))
        if self._filled == 0:
            return [-math.inf] * count
        size = len(self._ring)
        if self._window is None:
            self._window = np.hanning(size)
        ordered = np.roll(self._ring, -self._position).astype(np.float64) / FULL_SCALE
        spectrum = np.fft.rfft(ordered * self._window)
        # Power per bin, scaled so a full-scale sine sums to 0.5 (its mean square), as the RMS meter's.
        power = np.abs(spectrum) ** 2 * (2.0 / (float(np.sum(self._window**2)) * size))
        frequencies = np.fft.rfftfreq(size, 1.0 / self.sample_rate)
        levels: list[float] = []
        for low, high in itertools.pairwise(edges):
            total = float(np.sum(power[(frequencies >= low) & (frequencies < high)]))
            levels.append(10.0 * math.log10(total) if total > 0.0 else -math.inf)
        return levels
