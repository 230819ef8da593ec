"""Sample-rate conversion through ``rtc.AudioResampler`` (libsoxr inside LiveKit's FFI).

Two uses: whole buffers (a WAV file, the pre-connect buffer) with :func:`resample_all`, and a running
stream (a capture device that cannot do 48 kHz) with :class:`StreamResampler`. Both run on the event loop,
never in an audio callback: the resampler allocates its output.
"""

from __future__ import annotations

import numpy as np
from livekit import rtc

from .ring_buffer import Int16Array


def _frames_to_array(frames: list[rtc.AudioFrame]) -> Int16Array:
    if not frames:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate([np.frombuffer(frame.data, dtype=np.int16) for frame in frames])


def resample_all(
    samples: Int16Array,
    from_rate: int,
    to_rate: int,
    *,
    quality: rtc.AudioResamplerQuality = rtc.AudioResamplerQuality.HIGH,
) -> Int16Array:
    """Resample a whole mono buffer; returns a copy even when the rates match."""
    if from_rate == to_rate or len(samples) == 0:
        return np.array(samples, dtype=np.int16, copy=True)
    resampler = rtc.AudioResampler(from_rate, to_rate, num_channels=1, quality=quality)
    out = resampler.push(bytearray(np.ascontiguousarray(samples, dtype=np.int16).tobytes()))
    out += resampler.flush()
    return _frames_to_array(out)


class StreamResampler:
    """Resample a live mono stream chunk by chunk (the resampler keeps its filter state between pushes)."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        # MEDIUM: the live path favours low delay and CPU; quality is far above what speech codecs keep.
        self._resampler = rtc.AudioResampler(
            from_rate, to_rate, num_channels=1, quality=rtc.AudioResamplerQuality.MEDIUM
        )

    def push(self, samples: Int16Array) -> Int16Array:
        if len(samples) == 0:
            return np.zeros(0, dtype=np.int16)
        return _frames_to_array(self._resampler.push(bytearray(samples.tobytes())))
