"""Audio probes for the e2e tests and the benchmark: a sine publisher and a measuring recorder.

"A frame arrived" proves little about a relay; these measure what arrived: its energy (RMS) and its
dominant frequency, so a test can tell the agent's 880 Hz from the user's 440 Hz, silence, or noise.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time

import numpy as np
from livekit import rtc

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 480  # 10 ms
AMPLITUDE = 12_000
IDEAL_RMS = AMPLITUDE / math.sqrt(2)


class TonePublisher:
    """Publishes a microphone track carrying a continuous sine of ``frequency`` Hz."""

    def __init__(self, room: rtc.Room, frequency: float, *, name: str = "tone") -> None:
        self.frequency = frequency
        self._room = room
        self._source = rtc.AudioSource(SAMPLE_RATE, 1)
        self.track = rtc.LocalAudioTrack.create_audio_track(name, self._source)
        self._task: asyncio.Task[None] | None = None
        self.publication: rtc.LocalTrackPublication | None = None
        # Wall-clock capture time of each frame's first sample, by frame index (for latency measurement).
        self.captured_at: list[float] = []

    async def start(self) -> rtc.LocalTrackPublication:
        """Publish the track and start feeding it in real time."""
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        self.publication = await self._room.local_participant.publish_track(self.track, options)
        self._task = asyncio.create_task(self._feed())
        return self.publication

    async def stop(self) -> None:
        """Stop feeding (the track stays published)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._source.aclose()

    async def _feed(self) -> None:
        await feed_tone(self._source, self.frequency, captured_at=self.captured_at)


async def feed_tone(
    source: rtc.AudioSource, frequency: float, *, captured_at: list[float] | None = None
) -> None:
    """Feed ``source`` (48 kHz mono) a continuous sine of ``frequency`` Hz in real time, until cancelled;
    ``captured_at`` gets each frame's wall-clock capture time. For a source a Session publishes itself."""
    index = 0
    while True:
        t = (np.arange(FRAME_SAMPLES) + index * FRAME_SAMPLES) / SAMPLE_RATE
        samples = (AMPLITUDE * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
        if captured_at is not None:
            captured_at.append(time.perf_counter())
        # capture_frame paces the feed: it returns once the source's 1 s queue has room.
        await source.capture_frame(rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES))
        index += 1


class AudioRecorder:
    """Records a remote audio track as mono 48 kHz samples, with each frame's arrival time."""

    def __init__(self, track: rtc.Track) -> None:
        self._stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1)
        self.frames: list[np.ndarray] = []
        self.arrived_at: list[float] = []
        self._task = asyncio.create_task(self._record())

    async def _record(self) -> None:
        async for event in self._stream:
            self.arrived_at.append(time.perf_counter())
            self.frames.append(np.frombuffer(event.frame.data, dtype=np.int16).copy())

    async def close(self) -> None:
        """Stop recording."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._stream.aclose()

    def last_seconds(self, seconds: float) -> np.ndarray:
        """The most recent ``seconds`` of audio as float64 samples."""
        if not self.frames:
            return np.zeros(0)
        samples = np.concatenate(self.frames).astype(np.float64)
        return samples[-int(seconds * SAMPLE_RATE) :]

    def received_seconds(self) -> float:
        """How much audio has arrived."""
        return sum(len(frame) for frame in self.frames) / SAMPLE_RATE


def rms(samples: np.ndarray) -> float:
    """Root-mean-square level of ``samples``."""
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


def dominant_frequency(samples: np.ndarray) -> float:
    """The frequency (Hz) of the strongest spectral peak of ``samples``."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def band_energy_ratio(samples: np.ndarray, frequency: float, *, width_hz: float = 20.0) -> float:
    """Share of the spectral energy of ``samples`` within ``width_hz`` of ``frequency``."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    band = np.abs(freqs - frequency) <= width_hz
    return float(spectrum[band].sum() / spectrum.sum()) if spectrum.sum() else 0.0
