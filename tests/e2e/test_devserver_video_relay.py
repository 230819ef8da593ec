"""Video forwarding: a subscriber that joins long after the publisher's first keyframe still gets a
picture, and then every change to it.

A server that forwards VP8 has no encoder of its own: the only keyframe a late subscriber can start from
is one the publisher makes on request. libwebrtc makes keyframes only when asked (its interval is 3000
frames), so a late subscriber sees anything at all only if the server asks the publisher for one (the
dev server does when the subscriber's sender starts, and forwards its PLIs); livekit-server does the
same, and the test runs against both.
"""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np
import pytest
from livekit import rtc

from tests.e2e.e2e_harness import Connector
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

WIDTH, HEIGHT, FPS = 64, 48, 15
TOLERANCE = 40  # VP8 at a low bitrate shifts a flat colour a little


class Painter:
    """Publishes a flat picture at FPS; ``colour`` may change while it runs."""

    def __init__(self, room: rtc.Room) -> None:
        self.room = room
        self.colour = (200, 40, 40)
        self.source = rtc.VideoSource(WIDTH, HEIGHT)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        track = rtc.LocalVideoTrack.create_video_track("camera", self.source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA, simulcast=False)
        await self.room.local_participant.publish_track(track, options)
        self.task = asyncio.create_task(self._paint())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _paint(self) -> None:
        while True:
            image = np.empty((HEIGHT, WIDTH, 4), dtype=np.uint8)
            image[:, :, :3] = self.colour
            image[:, :, 3] = 255
            self.source.capture_frame(
                rtc.VideoFrame(WIDTH, HEIGHT, rtc.VideoBufferType.RGBA, image.tobytes())
            )
            await asyncio.sleep(1 / FPS)


class Eyes:
    """Decodes the first video track a room subscribes to and keeps its frames' middle colour."""

    def __init__(self, room: rtc.Room) -> None:
        self.colours: list[tuple[int, int, int]] = []
        self.tasks: list[asyncio.Task[None]] = []
        room.on("track_subscribed", self._on_subscribed)

    def _on_subscribed(self, track: rtc.Track, *_: object) -> None:
        if track.kind == rtc.TrackKind.KIND_VIDEO and not self.tasks:
            self.tasks.append(asyncio.create_task(self._watch(track)))

    async def _watch(self, track: rtc.Track) -> None:
        stream = rtc.VideoStream(track)
        try:
            async for event in stream:
                frame = event.frame.convert(rtc.VideoBufferType.RGB24)
                rgb = np.frombuffer(frame.data, dtype=np.uint8).reshape(frame.height, frame.width, 3)
                middle = rgb[frame.height // 4 : -frame.height // 4, frame.width // 4 : -frame.width // 4]
                self.colours.append(tuple(int(v) for v in np.median(middle.reshape(-1, 3), axis=0)))  # type: ignore[arg-type]
        finally:
            await stream.aclose()

    def sees(self, colour: tuple[int, int, int]) -> bool:
        """The newest frame shows ``colour``."""
        if not self.colours:
            return False
        return max(abs(a - b) for a, b in zip(self.colours[-1], colour, strict=True)) <= TOLERANCE

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_a_late_video_subscriber_gets_a_picture_and_its_changes(connect: Connector) -> None:
    early_room, late_room = rtc.Room(), rtc.Room()
    early, late = Eyes(early_room), Eyes(late_room)
    painter = Painter(await connect("painter"))
    try:
        await connect("early", room=early_room)
        await painter.start()
        await wait_until(
            lambda: early.sees(painter.colour), what="the early subscriber's picture", within_s=15
        )
        # Three seconds of frames forwarded since the publisher's first keyframe.
        seen = len(early.colours)
        await wait_until(lambda: len(early.colours) >= seen + 3 * FPS, what="3 s of video", within_s=15)

        await connect("late", room=late_room)
        await wait_until(lambda: late.sees(painter.colour), what="the late subscriber's picture", within_s=10)
        painter.colour = (40, 40, 200)
        await wait_until(lambda: late.sees(painter.colour), what="the change, late", within_s=5)
        await wait_until(lambda: early.sees(painter.colour), what="the change, early", within_s=5)
    finally:
        await painter.stop()
        await early.close()
        await late.close()
