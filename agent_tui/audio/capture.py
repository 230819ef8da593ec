"""Microphone capture: a ``sounddevice`` input stream whose callback only copies into a ring.

The hand-off, and why it looks like this:

1. PortAudio calls :meth:`DeviceCapture._callback` on its own thread every block (10 ms by default, opened
   with PortAudio's ``'low'`` latency). The callback copies the block into a preallocated
   :class:`SampleRing`, stamps the block's end position and arrival time into two preallocated arrays, and
   bumps counters. It creates no buffers, logs nothing and takes no lock the event loop could hold; it
   cannot stall on the loop, it can only find the ring full, and then it counts the dropped samples.
2. To wake the loop it uses ``loop.call_soon_threadsafe`` at most once per wake-up: a flag set by the
   callback and cleared by the loop before it drains keeps at most one wake-up in flight, however late the
   loop runs, so the hand-off is bounded too.
3. On the loop, the engine's capture pump reads 10 ms frames out of the ring (resampling first when the
   device could not open at the track's rate) and feeds them to ``rtc.AudioSource.capture_frame``.

The ring holds 200 ms: anything older than that would only arrive late, so it is dropped and counted.
Block stamps give the capture-callback → ``capture_frame`` latency per frame for the statistics.

Device loss: PortAudio stops the stream (the ``finished_callback`` fires) or callbacks simply stop; the
engine's watchdog notices either and goes text-only with one message.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from .controls import DeviceInfo
from .errors import AudioDeviceError
from .ring_buffer import SampleRing

RING_SECONDS = 0.2
_STAMPS = 64  # block stamps kept; a power of two so a mask picks the slot


def open_error(direction: str, device: DeviceInfo, error: BaseException) -> AudioDeviceError:
    """One line for a device that would not open (busy, gone, unsupported format)."""
    text = str(error).strip() or type(error).__name__
    hint = "is it in use by another program, or unplugged?"
    return AudioDeviceError(f"Could not open the {direction} device {device.name!r}: {text} — {hint}")


def pick_stream_format(sd: Any, device: DeviceInfo, direction: str, wanted_rate: int) -> tuple[int, int]:
    """A (sample rate, channels) the device accepts: the wanted rate and mono when possible.

    Falls back to the device's own default rate (the engine resamples) and to two channels for hardware
    that cannot open mono (the engine uses the first channel).
    """
    check = sd.check_input_settings if direction == "input" else sd.check_output_settings
    max_channels = device.max_input_channels if direction == "input" else device.max_output_channels
    rates = [wanted_rate]
    default_rate = round(device.default_samplerate)
    if default_rate and default_rate != wanted_rate:
        rates.append(default_rate)
    channel_options = [1] + ([2] if max_channels >= 2 else [])
    last_error: BaseException | None = None
    for rate in rates:
        for channels in channel_options:
            try:
                check(device=device.index, samplerate=rate, channels=channels, dtype="int16")
                return rate, channels
            except Exception as error:
                last_error = error
    raise open_error(direction, device, last_error or RuntimeError("no usable format"))


class DeviceCapture:
    """One open input stream and its ring (see the module docstring)."""

    def __init__(
        self,
        sd: Any,
        device: DeviceInfo,
        *,
        wanted_rate: int,
        block_ms: int,
        loop: asyncio.AbstractEventLoop,
        on_ready: Callable[[], None],
        on_finished: Callable[[], None],
    ) -> None:
        self.device = device
        self.sample_rate, self.channels = pick_stream_format(sd, device, "input", wanted_rate)
        self.block_samples = max(1, self.sample_rate * block_ms // 1000)
        self.ring = SampleRing(max(round(self.sample_rate * RING_SECONDS), 4 * self.block_samples))
        self._loop = loop
        self._on_ready = on_ready
        self._on_finished = on_finished
        self._wake_pending = False
        self._closing = False
        self.callbacks = 0
        self.overflows = 0
        self.dropped_samples = 0
        self._stamp_end: npt.NDArray[np.int64] = np.zeros(_STAMPS, dtype=np.int64)
        self._stamp_time: npt.NDArray[np.float64] = np.zeros(_STAMPS, dtype=np.float64)
        self._block_seq = 0
        self._stamp_read_seq = 0
        try:
            self._stream = sd.InputStream(
                device=device.index,
                samplerate=self.sample_rate,
                blocksize=self.block_samples,
                channels=self.channels,
                dtype="int16",
                latency="low",
                callback=self._callback,
                finished_callback=self._finished,
            )
        except Exception as error:
            raise open_error("input", device, error) from None

    @property
    def latency(self) -> float:
        """PortAudio's input latency for this stream (seconds)."""
        return float(self._stream.latency)

    @property
    def active(self) -> bool:
        return bool(self._stream.active)

    def start(self) -> None:
        try:
            self._stream.start()
        except Exception as error:
            raise open_error("input", self.device, error) from None

    def close(self) -> None:
        """Stop and close the stream (blocks until PortAudio's thread has finished its last callback)."""
        self._closing = True
        try:
            self._stream.abort()
        finally:
            self._stream.close()

    # -- audio thread ---------------------------------------------------------------------------------------
    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.callbacks += 1
        if status and status.input_overflow:
            self.overflows += 1
        ring = self.ring
        written = ring.write(indata[:, 0])
        if written < frames:
            self.dropped_samples += frames - written
        slot = self._block_seq & (_STAMPS - 1)
        self._stamp_end[slot] = ring.total_written
        self._stamp_time[slot] = time.perf_counter()
        self._block_seq += 1
        if not self._wake_pending and not self._closing:
            self._wake_pending = True
            # try/except rather than contextlib.suppress: no context-manager object per audio block.
            try:  # noqa: SIM105
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # the loop is closed: the engine is shutting down
                pass

    def _finished(self) -> None:
        # PortAudio thread, once, when the stream stops; only unexpected stops matter.
        if not self._closing:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._on_finished)

    # -- event loop -----------------------------------------------------------------------------------------
    def _wake(self) -> None:
        self._wake_pending = False  # cleared before draining, so a block written meanwhile wakes us again
        self._on_ready()

    def arrival_time(self, sample_end: int) -> float | None:
        """``perf_counter`` time of the callback that delivered sample ``sample_end - 1`` (None: unknown)."""
        seq = self._stamp_read_seq
        newest = self._block_seq
        if newest - seq > _STAMPS:
            seq = newest - _STAMPS
        while seq < newest:
            slot = seq & (_STAMPS - 1)
            if self._stamp_end[slot] >= sample_end:
                self._stamp_read_seq = seq
                return float(self._stamp_time[slot])
            seq += 1
        self._stamp_read_seq = seq
        return None
