"""WAV files in place of devices: read a file into the microphone track, write audio without blocking.

Reading happens once, off the event loop (``asyncio.to_thread``), and converts any PCM WAV (8/16/24/32-bit,
any rate, any channel count) to mono int16 at the track's rate with ``rtc.AudioResampler``. Writing goes
through :class:`WavWriter`, whose own thread owns the file: the loop only enqueues bytes, so a slow disk
never stalls audio or the UI.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import wave
from pathlib import Path

import numpy as np

from .errors import AudioFileError
from .resampling import resample_all
from .ring_buffer import Int16Array


def _pcm_to_int16(raw: bytes, sample_width: int) -> Int16Array:
    if sample_width == 1:  # unsigned 8-bit
        return ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    if sample_width == 2:
        return np.frombuffer(raw, dtype="<i2").astype(np.int16)
    if sample_width == 3:
        bytes3 = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        # The two high bytes of a little-endian 24-bit sample are its 16-bit value.
        return (bytes3[:, 1].astype(np.uint16) | (bytes3[:, 2].astype(np.uint16) << 8)).view(np.int16)
    if sample_width == 4:
        return (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)
    raise AudioFileError(f"Unsupported WAV sample width: {sample_width * 8} bits.")


def read_wav(path: Path) -> tuple[Int16Array, int]:
    """A PCM WAV as mono int16 (channels averaged) and its sample rate. Blocking: call off the loop."""
    try:
        with wave.open(str(path), "rb") as reader:
            channels = reader.getnchannels()
            width = reader.getsampwidth()
            rate = reader.getframerate()
            raw = reader.readframes(reader.getnframes())
    except FileNotFoundError:
        raise AudioFileError(f"Input WAV not found: {path}") from None
    except (wave.Error, EOFError, OSError) as error:
        raise AudioFileError(f"Cannot read {path} as a PCM WAV file: {error}") from None
    samples = _pcm_to_int16(raw, width)
    if channels > 1:
        frames = len(samples) // channels
        samples = samples[: frames * channels].reshape(frames, channels).mean(axis=1).round().astype(np.int16)
    return samples, rate


def load_wav(path: Path, sample_rate: int) -> Int16Array:
    """:func:`read_wav` resampled to ``sample_rate``. Blocking: call off the loop."""
    samples, rate = read_wav(path)
    return resample_all(samples, rate, sample_rate)


class WavWriter:
    """A 16-bit PCM WAV written by its own thread; :meth:`write` never blocks the caller."""

    def __init__(self, path: Path, *, channels: int, sample_rate: int) -> None:
        self.path = path
        self.channels = channels
        self.sample_rate = sample_rate
        self.frames_written = 0
        self.error: str | None = None
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Not a context manager on purpose: the writer thread owns the file until close().
            self._wave = wave.open(str(path), "wb")  # noqa: SIM115
        except OSError as error:
            raise AudioFileError(f"Cannot write {path}: {error.strerror or error}") from None
        self._wave.setnchannels(channels)
        self._wave.setsampwidth(2)
        self._wave.setframerate(sample_rate)
        self._thread = threading.Thread(target=self._run, name=f"wav-writer:{path.name}", daemon=True)
        self._thread.start()

    @classmethod
    async def open(cls, path: Path, *, channels: int, sample_rate: int) -> WavWriter:
        """Open off the loop (creating the directory), so a slow file system cannot stall it."""
        return await asyncio.to_thread(cls, path, channels=channels, sample_rate=sample_rate)

    def write(self, samples: Int16Array) -> None:
        """Queue interleaved int16 samples (copied now, written later)."""
        if len(samples):
            self._queue.put(samples.astype("<i2", copy=False).tobytes())

    def close(self) -> None:
        """Write what is queued and finalise the header. Blocking: use :meth:`aclose` on the loop."""
        self._queue.put(None)
        self._thread.join()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def _run(self) -> None:
        try:
            while True:
                data = self._queue.get()
                if data is None:
                    break
                if self.error is None:
                    try:
                        self._wave.writeframes(data)
                        self.frames_written += len(data) // (2 * self.channels)
                    except OSError as error:
                        self.error = f"Writing {self.path} failed: {error.strerror or error}"
        finally:
            try:
                self._wave.close()
            except OSError as error:
                self.error = self.error or f"Closing {self.path} failed: {error.strerror or error}"
