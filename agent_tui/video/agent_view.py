"""Reads the agent's video track for the panel: only while the panel is open, at most ``fps`` frames a
second, each sampled straight to the panel's pixel size.

The stream is opened when a track is attached and closed when it is detached (the panel closed, the
agent left): a closed panel costs nothing here, and the Session unsubscribes the track so the SDK does
not decode it either. Frames arriving faster than ``fps`` are dropped before any conversion; the
stream's queue holds one frame, so a busy loop sees the newest frame, never a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

import numpy as np
from livekit import rtc

from .frame_sampling import sample_rgb

log = logging.getLogger(__name__)


async def track_frames(track: rtc.RemoteVideoTrack) -> AsyncIterator[rtc.VideoFrame]:
    """The frames of ``track`` as the SDK decodes them (a one-frame queue: never a backlog)."""
    stream = rtc.VideoStream(track, capacity=1)
    try:
        async for event in stream:
            yield event.frame
    finally:
        with contextlib.suppress(Exception):
            await stream.aclose()


class AgentVideoFeed:
    """Delivers ``on_frame(rgb)`` for the attached track, sampled at ``picture_size(frame size)``: the
    panel's answer (its cells for half blocks, its pixels for kitty and sixel), asked on every frame so a
    resized panel gets the right size at once; ``(0, 0)`` skips the frame (the panel has no room, or the
    terminal is still busy with the last picture) and the next one is tried as soon as it comes."""

    def __init__(
        self,
        on_frame: Callable[[np.ndarray], None],
        *,
        picture_size: Callable[[tuple[int, int]], tuple[int, int]],
        fps: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_frame = on_frame
        self._picture_size = picture_size
        self._gap = 1.0 / fps
        self._clock = clock
        self._track: rtc.RemoteVideoTrack | None = None
        self._task: asyncio.Task[None] | None = None
        self._next_due = 0.0
        self.frames_received = 0
        self.frames_shown = 0
        self.source_size: tuple[int, int] | None = None
        #: Where frames come from; tests and the benchmark replace it to feed frames without a room.
        self.open_stream: Callable[[rtc.RemoteVideoTrack], AsyncIterator[rtc.VideoFrame]] = track_frames

    @property
    def track(self) -> rtc.RemoteVideoTrack | None:
        return self._track

    def attach(self, track: rtc.RemoteVideoTrack | None) -> None:
        """Read ``track`` from now on (None: stop reading)."""
        if track is self._track:
            return
        self._cancel()
        self._track = track
        if track is not None:
            self._task = asyncio.ensure_future(self._read(track))

    def offer(self, frame: rtc.VideoFrame) -> bool:
        """One received frame: shown (True) unless it came before the next one is due or the panel cannot
        take it (no room, the terminal still busy). Public so tests and benchmarks can feed frames without
        a room."""
        self.frames_received += 1
        self.source_size = (frame.width, frame.height)
        now = self._clock()
        if now < self._next_due:
            return False
        width, height = self._picture_size((frame.width, frame.height))
        if width == 0 or height == 0:
            return False
        # Keep the cadence (a 15 fps stream shown at 10 fps alternates 1 and 2 frames apart) without
        # letting a frame right after an idle spell be followed by another at once.
        self._next_due = max(self._next_due + self._gap, now + self._gap / 2)
        self.frames_shown += 1
        self._on_frame(sample_rgb(frame, width, height))
        return True

    async def _read(self, track: rtc.RemoteVideoTrack) -> None:
        try:
            async for frame in self.open_stream(track):
                self.offer(frame)
        except Exception:  # a display problem must never end the conversation
            log.exception("reading the agent's video failed")

    def _cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()

    async def aclose(self) -> None:
        task = self._task
        self._cancel()
        self._track = None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
