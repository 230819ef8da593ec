"""``--video-file`` end to end: a synthetic clip published by the Session reaches a probe participant.

The clip (colour bars over a strip with a marker moving 8 px per frame, generated here) is published
through :class:`VideoController` → :class:`VideoPublisher` → :meth:`Session.publish_video`, relayed by the
dev server (VP8 decoded and re-encoded by aiortc) and received by a plain ``rtc.Room`` with the real SDK.
The probe checks the bar colours, that the marker moves forward at the clip's pace, and the source kind.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import numpy as np
import pytest
from e2e_harness import Connector, mint_token, wait_until
from e2e_video import (
    BARS,
    FPS,
    FRAMES,
    MARKER_STEP,
    MARKER_W,
    bar_colours,
    marker_centre,
    marker_left,
    write_clip,
)
from livekit import rtc

from agent_tui.devserver import DevServer
from agent_tui.session import LiteralTokenSource, Session, SessionOptions
from agent_tui.video.controller import VideoController
from agent_tui.video.frame_reader import SourceKind
from agent_tui.video.settings import VideoSettings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

#: VP8 at a low bitrate, twice through I420, blurs edges and shifts flat colours a little.
COLOUR_TOLERANCE = 40


def _rgb(frame: rtc.VideoFrame) -> np.ndarray:
    converted = frame.convert(rtc.VideoBufferType.RGB24)
    return np.frombuffer(converted.data, dtype=np.uint8).reshape(converted.height, converted.width, 3)


async def _receive(track: rtc.RemoteVideoTrack, seconds: float) -> list[tuple[float, np.ndarray]]:
    frames: list[tuple[float, np.ndarray]] = []
    stream = rtc.VideoStream(track)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        async with asyncio.timeout(seconds + 5):
            async for event in stream:
                frames.append((time.monotonic(), _rgb(event.frame)))
                if loop.time() > deadline:
                    break
    finally:
        await stream.aclose()
    return frames


async def test_a_video_file_reaches_a_probe_with_its_colours_and_motion(
    dev_server: DevServer, connect: Connector, tmp_path: Path
) -> None:
    clip = write_clip(tmp_path / "bars.mkv")
    probe = await connect("probe")
    subscribed: asyncio.Future[tuple[rtc.RemoteVideoTrack, rtc.RemoteTrackPublication]] = (
        asyncio.get_running_loop().create_future()
    )

    def on_subscribed(
        track: rtc.Track, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if isinstance(track, rtc.RemoteVideoTrack) and not subscribed.done():
            subscribed.set_result((track, publication))

    probe.on("track_subscribed", on_subscribed)

    session = Session(LiteralTokenSource(dev_server.url, mint_token("user")), SessionOptions())
    warnings: list[str] = []
    controller = VideoController(session, VideoSettings(video_file=clip, fps=FPS), on_warning=warnings.append)
    await session.start()
    try:
        await wait_until(lambda: controller.publishing(SourceKind.CAMERA), what="the clip to be published")
        track, publication = await asyncio.wait_for(subscribed, timeout=15)
        assert publication.source == rtc.TrackSource.SOURCE_CAMERA
        assert not publication.simulcasted
        frames = await _receive(track, seconds=5.0)
    finally:
        await controller.aclose()
        await session.end()
    assert warnings == []
    assert len(frames) >= 40, f"only {len(frames)} frames in 5 s (the clip runs at {FPS} fps)"

    # Colours: every bar, in every frame after the encoder has settled.
    settled = frames[len(frames) // 4 :]
    for _, rgb in settled:
        for measured, expected in zip(bar_colours(rgb), BARS, strict=True):
            error = max(abs(m - e) for m, e in zip(measured, expected, strict=True))
            assert error <= COLOUR_TOLERANCE, f"bar {expected} received as {measured}"

    # Motion: every marker position is one the clip has, and it moves forward one step per clip frame.
    valid = [marker_left(i) + MARKER_W / 2 for i in range(FRAMES)]
    indices = []
    for _, rgb in settled:
        centre = marker_centre(rgb)
        assert centre is not None, "the marker is missing"
        nearest = min(range(FRAMES), key=lambda i: abs(valid[i] - centre))
        assert abs(valid[nearest] - centre) <= MARKER_STEP / 2, f"marker at {centre:.1f} px"
        indices.append(nearest)
    steps = [(b - a) % FRAMES for a, b in itertools.pairwise(indices)]
    assert len(set(indices)) >= FRAMES // 2, f"the marker visited only {sorted(set(indices))}"
    # Forward only (a repeated frame is 0; a dropped one skips ahead), never backwards.
    assert all(step <= 5 for step in steps), f"the marker jumped: {steps}"

    # Pace: the clip is sent in real time (2 s per loop), not as fast as it decodes.
    span = frames[-1][0] - settled[0][0]
    advanced = sum(steps)
    assert advanced / FPS == pytest.approx(span, rel=0.3), f"{advanced} clip frames in {span:.2f} s"
