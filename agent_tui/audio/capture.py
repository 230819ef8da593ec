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
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from .controls import DeviceInfo
from .device_stream import DeviceStream
from .ring_buffer import SampleRing

RING_SECONDS = 0.2
_STAMPS = 64  # block stamps kept; a power of two so a mask picks the slot


class DeviceCapture(DeviceStream):
    """One open input stream and its ring (see the module docstring)."""

    direction = "input"

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
        super().__init__(
            sd, device, wanted_rate=wanted_rate, block_ms=block_ms, loop=loop, on_finished=on_finished
        )
        self.ring = SampleRing(max(round(self.sample_rate * RING_SECONDS), 4 * self.block_samples))
        self._on_ready = on_ready
        self._wake_pending = False
        self.callbacks = 0
        self.overflows = 0
        self.dropped_samples = 0
        self._stamp_end: npt.NDArray[np.int64] = np.zeros(_STAMPS, dtype=np.int64)
        self._stamp_time: npt.NDArray[np.float64] = np.zeros(_STAMPS, dtype=np.float64)
        self._block_seq = 0
        self._stamp_read_seq = 0

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
