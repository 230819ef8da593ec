"""The pre-connect audio buffer: what the user said while the session was still connecting.

LiveKit's JS, Swift and Android SDKs record the microphone from the moment a session starts and hand the
recording to the agent once it listens, so the user's first words are not lost; the Python SDK only sets
the track feature flag. The wire contract (livekit-agents ``voice/room_io/_pre_connect_audio.py``):

- a byte stream on topic ``lk.agent.pre-connect-audio-buffer`` sent to the agent only;
- attributes ``trackId`` (the published microphone track's sid), ``sampleRate`` and ``channels``;
- any MIME type other than opus means raw little-endian int16 PCM;
- the agent waits for it (at most ~3 s) only when the publication carries ``TF_PRECONNECT_BUFFER``, from
  the moment it subscribes to the microphone, and drops a buffer that finished arriving more than 1 s
  before it asked. So the buffer is sent right after the agent subscribes, never earlier.

This module holds the recording (the most recent ``max_seconds`` in a preallocated ring, so a slow
connection keeps the words nearest to the moment live audio takes over) and builds the payload. The
capture pipeline records into it; sending is the session bridge's job (:mod:`.session_bridge`), because
it needs the session.
"""

from __future__ import annotations

import numpy as np

from .resampling import resample_all
from .ring_buffer import Int16Array

TOPIC = "lk.agent.pre-connect-audio-buffer"
STREAM_NAME = "preconnect-buffer"
MIME_TYPE = "audio/pcm"
#: Like the Swift SDK: 24 kHz halves the bytes on the data channel and still exceeds what STT uses.
PAYLOAD_SAMPLE_RATE = 24000
#: Like the Android SDK: a buffer this small (≈20 ms at 24 kHz) carries no words; do not send it.
MIN_PAYLOAD_BYTES = 1024
DEFAULT_MAX_SECONDS = 10.0


def stream_attributes(*, track_sid: str, sample_rate: int, channels: int = 1) -> dict[str, str]:
    """The attributes the agent requires; every value is a string on the wire."""
    return {"trackId": track_sid, "sampleRate": str(sample_rate), "channels": str(channels)}


class PreConnectBuffer:
    """Records mono int16 frames until :meth:`stop`; keeps the last ``max_seconds`` (single-threaded)."""

    def __init__(self, sample_rate: int, max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        self.sample_rate = sample_rate
        self._capacity = max(1, round(sample_rate * max_seconds))
        self._buffer: Int16Array = np.zeros(self._capacity, dtype=np.int16)
        self._written = 0
        self._recording = True

    @property
    def recording(self) -> bool:
        return self._recording

    @property
    def duration(self) -> float:
        """Seconds of audio held (at most ``max_seconds``)."""
        return min(self._written, self._capacity) / self.sample_rate

    @property
    def total_recorded(self) -> float:
        """Seconds recorded since the start, including what the ring has already overwritten."""
        return self._written / self.sample_rate

    def append(self, samples: Int16Array) -> None:
        if not self._recording or len(samples) == 0:
            return
        capacity = self._capacity
        if len(samples) >= capacity:
            # Only the newest `capacity` samples survive; sample i lives at ring position i % capacity.
            self._written += len(samples)
            tail = samples[-capacity:]
            start = self._written % capacity
            self._buffer[start:] = tail[: capacity - start]
            self._buffer[:start] = tail[capacity - start :]
            return
        start = self._written % capacity
        first = min(len(samples), capacity - start)
        self._buffer[start : start + first] = samples[:first]
        if len(samples) > first:
            self._buffer[: len(samples) - first] = samples[first:]
        self._written += len(samples)

    def stop(self) -> None:
        """Stop recording (the agent listens live now, or the buffer will not be used)."""
        self._recording = False

    def discard(self) -> None:
        self._recording = False
        self._written = 0

    def samples(self) -> Int16Array:
        """The recording in order, oldest first (a copy)."""
        capacity = self._capacity
        if self._written <= capacity:
            return self._buffer[: self._written].copy()
        start = self._written % capacity
        return np.concatenate([self._buffer[start:], self._buffer[:start]])

    def payload(self, sample_rate: int = PAYLOAD_SAMPLE_RATE) -> bytes:
        """Little-endian int16 PCM at ``sample_rate`` (b"" when there is nothing worth sending)."""
        data = resample_all(self.samples(), self.sample_rate, sample_rate).astype("<i2").tobytes()
        return data if len(data) > MIN_PAYLOAD_BYTES else b""
