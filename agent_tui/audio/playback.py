"""Speaker playback: a ``sounddevice`` output stream whose callback never blocks.

The loop pushes the agent's audio into a :class:`JitterBuffer`; the output callback pulls one block from it
(silence when there is nothing, counted as an underrun only while a live stream runs dry), then copies what
it just played into a second ring for the echo canceller's render path. Both rings are preallocated and
single-producer/single-consumer, so the callback allocates no buffers, logs nothing and waits for nothing;
the loop reads the played ring from the capture pump (see :mod:`.processing`).

Interrupting the agent is a flush request on the jitter buffer that the callback honours at its next block,
so what is queued stops playing within one block — ``rtc.MediaDevices`` appends to a plain ``bytearray``
and cannot do this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .controls import DeviceInfo
from .device_stream import DeviceStream
from .jitter_buffer import JitterBuffer
from .ring_buffer import SampleRing

#: Above this many queued samples beyond the prefill, the consumer skips back (latency cap).
MAX_DEPTH_FACTOR = 4
PLAYED_RING_SECONDS = 0.5


class DevicePlayback(DeviceStream):
    """One open output stream, its jitter buffer and its played-audio ring."""

    direction = "output"

    def __init__(
        self,
        sd: Any,
        device: DeviceInfo,
        *,
        wanted_rate: int,
        block_ms: int,
        buffer_ms: int,
        loop: asyncio.AbstractEventLoop,
        on_finished: Callable[[], None],
    ) -> None:
        super().__init__(
            sd, device, wanted_rate=wanted_rate, block_ms=block_ms, loop=loop, on_finished=on_finished
        )
        prefill = max(1, self.sample_rate * buffer_ms // 1000)
        max_depth = max(prefill * MAX_DEPTH_FACTOR, prefill + 4 * self.block_samples)
        self.jitter = JitterBuffer(prefill=prefill, max_depth=max_depth)
        self.played = SampleRing(round(self.sample_rate * PLAYED_RING_SECONDS))
        #: Set by the engine while the echo canceller wants the played audio.
        self.feed_played = False
        self.callbacks = 0
        self.device_underflows = 0

    # -- audio thread ---------------------------------------------------------------------------------------
    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.callbacks += 1
        if status and status.output_underflow:
            self.device_underflows += 1
        mono = outdata[:, 0]
        self.jitter.pull_into(mono)
        if self.channels > 1:
            outdata[:, 1:] = outdata[:, :1]
        if self.feed_played:
            self.played.write(mono)
