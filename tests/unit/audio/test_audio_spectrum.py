"""The spectrum tap: a tone's loudness lands in its band, in the RMS meter's dBFS; silence reads nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agent_tui.audio.spectrum import WINDOW, SpectrumTap, band_edges

RATE = 48_000


def tone(hz: float, amplitude: float, samples: int) -> np.ndarray:
    t = np.arange(samples) / RATE
    return (np.sin(2 * np.pi * hz * t) * amplitude * 32767).astype(np.int16)


def test_band_edges_are_log_spaced_from_low_to_high() -> None:
    edges = band_edges(4, 100.0, 1600.0)
    assert edges == pytest.approx([100.0, 200.0, 400.0, 800.0, 1600.0])
    with pytest.raises(ValueError, match="at least one band"):
        band_edges(0)


def test_a_tone_reads_its_rms_in_its_own_band_and_far_less_elsewhere() -> None:
    tap = SpectrumTap(RATE)
    tap.add(tone(1000.0, 0.5, 4800))
    levels = tap.bands(8)
    edges = band_edges(8)
    own = next(i for i in range(8) if edges[i] <= 1000.0 < edges[i + 1])
    assert levels[own] == pytest.approx(20 * math.log10(0.5) - 3.01, abs=1.0)  # -9 dBFS, as the RMS meter
    assert all(level < levels[own] - 30 for i, level in enumerate(levels) if abs(i - own) > 1)


def test_silence_and_a_cleared_tap_read_minus_infinity() -> None:
    tap = SpectrumTap(RATE)
    assert tap.bands(3) == [-math.inf] * 3
    tap.add(tone(500.0, 0.5, 960))
    assert max(tap.bands(3)) > -20
    tap.clear()
    assert tap.bands(3) == [-math.inf] * 3


def test_frames_added_in_pieces_read_as_the_same_samples_added_at_once() -> None:
    signal = tone(700.0, 0.3, WINDOW * 3 + 123) + tone(3000.0, 0.2, WINDOW * 3 + 123)
    whole, pieces = SpectrumTap(RATE), SpectrumTap(RATE)
    whole.add(signal)
    for start in range(0, len(signal), 480):  # 10 ms frames, wrapping the ring many times
        pieces.add(signal[start : start + 480])
    assert pieces.bands(6) == pytest.approx(whole.bands(6))
