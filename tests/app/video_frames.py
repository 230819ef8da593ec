"""Fixed test pictures as real ``rtc.VideoFrame`` objects, and a frame source the app's feed reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
from livekit import rtc

BARS = ((255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255))


def bars_rgb(width: int = 160, height: int = 90, marker_x: int | None = None) -> np.ndarray:
    """Colour bars; a black strip along the bottom quarter with a white marker at ``marker_x``."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    bar_w = width // len(BARS)
    for number, colour in enumerate(BARS):
        image[: height * 3 // 4, number * bar_w : (number + 1) * bar_w] = colour
    if marker_x is not None:
        image[height * 3 // 4 + 4 : height - 4, marker_x : marker_x + width // 10] = 255
    return image


def i420(rgb: np.ndarray) -> rtc.VideoFrame:
    """``rgb`` as the I420 frame a decoder would hand us (converted by the SDK's own libyuv)."""
    height, width = rgb.shape[:2]
    rgba = np.concatenate([rgb, np.full((height, width, 1), 255, dtype=np.uint8)], axis=2)
    frame = rtc.VideoFrame(width, height, rtc.VideoBufferType.RGBA, rgba.tobytes())
    return frame.convert(rtc.VideoBufferType.I420)


class FrameSource:
    """Stands in for ``rtc.VideoStream``: frames the test puts, counted opens and closes."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[rtc.VideoFrame] = asyncio.Queue()
        self.opened = 0
        self.closed = 0

    async def open(self, track: object) -> AsyncIterator[rtc.VideoFrame]:
        self.opened += 1
        try:
            while True:
                yield await self.queue.get()
        finally:
            self.closed += 1


class StandInVideoTrack:
    """What the panel needs of a ``RemoteVideoTrack`` (the feed's stream is replaced by FrameSource)."""

    def __init__(self, sid: str = "TR_agentcam") -> None:
        self.sid = sid
