"""What an open PortAudio stream is to the engine, whichever its direction.

:class:`~.capture.DeviceCapture` and :class:`~.playback.DevicePlayback` differ only in their callbacks;
opening with PortAudio's low-latency setting, starting, closing, reporting latency and telling the loop
when PortAudio stopped the stream on its own (a device unplugged) are the same, and live here once.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Literal

from .controls import DeviceInfo
from .stream_format import open_error, pick_stream_format

Direction = Literal["input", "output"]


class DeviceStream(ABC):
    """An opened ``sd.InputStream`` / ``sd.OutputStream`` whose ``_callback`` the subclass defines."""

    direction: Direction

    def __init__(
        self,
        sd: Any,
        device: DeviceInfo,
        *,
        wanted_rate: int,
        block_ms: int,
        loop: asyncio.AbstractEventLoop,
        on_finished: Callable[[], None],
    ) -> None:
        """Open (not start) the stream: the wanted rate and mono when the device takes them, else its
        own rate and/or two channels (see :func:`pick_stream_format`). Subclasses size their buffers from
        ``sample_rate`` and ``block_samples`` afterwards; no callback runs before :meth:`start`."""
        self.device = device
        self.sample_rate, self.channels = pick_stream_format(sd, device, self.direction, wanted_rate)
        self.block_samples = max(1, self.sample_rate * block_ms // 1000)
        self._loop = loop
        self._on_finished = on_finished
        self._closing = False
        stream_class = sd.InputStream if self.direction == "input" else sd.OutputStream
        try:
            self._stream = stream_class(
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
            raise open_error(self.direction, device, error) from None

    @abstractmethod
    def _callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread, every block: copy, count, never block (each direction its own)."""

    @property
    def latency(self) -> float:
        """PortAudio's latency for this stream (seconds)."""
        return float(self._stream.latency)

    @property
    def active(self) -> bool:
        return bool(self._stream.active)

    def start(self) -> None:
        try:
            self._stream.start()
        except Exception as error:
            raise open_error(self.direction, self.device, error) from None

    def close(self) -> None:
        """Stop and close the stream (blocks until PortAudio's thread has finished its last callback)."""
        self._closing = True
        try:
            self._stream.abort()
        finally:
            self._stream.close()

    def _finished(self) -> None:
        # PortAudio thread, once, when the stream stops; only unexpected stops matter.
        if not self._closing:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._on_finished)
