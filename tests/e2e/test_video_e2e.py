"""``--video-file`` and ``--screen`` end to end: what the Session publishes reaches a probe participant.

The clip (colour bars over a strip with a marker moving 8 px per frame, generated here) is published
through :class:`VideoController` → :class:`VideoPublisher` → :meth:`Session.publish_video`, relayed by the
dev server (its VP8 frames forwarded as they are) and received by a plain ``rtc.Room`` with the real SDK.
The probe checks the bar colours, that the marker moves forward at the clip's pace, and the source kind.

The screen share captures a private Xvfb display (:mod:`virtual_display`) painted with four known colours
and then repainted: the probe checks the size, the source kind, each colour (so a red/blue swap or a flip
shows) and that the change arrives.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc

from agent_tui.session import LiteralTokenSource, Session, SessionOptions
from agent_tui.video.controller import VideoController
from agent_tui.video.frame_reader import SourceKind
from agent_tui.video.settings import VideoSettings
from tests.e2e.e2e_harness import Connector, LiveServer
from tests.e2e.e2e_video import (
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
from tests.e2e.virtual_display import VirtualDisplay, quadrant_colours, running
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

#: VP8 at a low bitrate, twice through I420, blurs edges and shifts flat colours a little.
COLOUR_TOLERANCE = 40


def _rgb(frame: rtc.VideoFrame) -> np.ndarray:
    converted = frame.convert(rtc.VideoBufferType.RGB24)
    return np.frombuffer(converted.data, dtype=np.uint8).reshape(converted.height, converted.width, 3)


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[VirtualDisplay]:
    """A private Xvfb display (skipped without Xvfb, failed under CI); DISPLAY is left alone."""
    with running(tmp_path) as display:
        yield display


def _subscribed_video(
    probe: rtc.Room,
) -> asyncio.Future[tuple[rtc.RemoteVideoTrack, rtc.RemoteTrackPublication]]:
    """The first video track ``probe`` subscribes to, with its publication."""
    subscribed: asyncio.Future[tuple[rtc.RemoteVideoTrack, rtc.RemoteTrackPublication]] = (
        asyncio.get_running_loop().create_future()
    )

    def on_subscribed(
        track: rtc.Track, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if isinstance(track, rtc.RemoteVideoTrack) and not subscribed.done():
            subscribed.set_result((track, publication))

    probe.on("track_subscribed", on_subscribed)
    return subscribed


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
    server: LiveServer, connect: Connector, tmp_path: Path
) -> None:
    clip = write_clip(tmp_path / "bars.mkv")
    probe = await connect("probe")
    subscribed = _subscribed_video(probe)

    session = Session(LiteralTokenSource(server.url, server.token("user")), SessionOptions())
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


#: The screen before and after the change, as painted: top-left, top-right, bottom-left, bottom-right. Red
#: and blue (yellow and cyan) in different cells make a red/blue swap or a flipped picture show.
SCREEN_BEFORE: tuple[tuple[int, int, int], ...] = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255))
SCREEN_AFTER: tuple[tuple[int, int, int], ...] = ((255, 255, 0), (255, 0, 255), (0, 255, 255), (0, 0, 0))


def _shows(rgb: np.ndarray, colours: tuple[tuple[int, int, int], ...]) -> bool:
    return all(
        max(abs(m - e) for m, e in zip(measured, expected, strict=True)) <= COLOUR_TOLERANCE
        for measured, expected in zip(quadrant_colours(rgb), colours, strict=True)
    )


@pytest.mark.timeout(60)
async def test_the_screen_reaches_a_probe_as_a_screen_share_with_its_colours_and_changes(
    server: LiveServer, connect: Connector, x_display: VirtualDisplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--screen`` for real: mss grabs the Xvfb display, the probe gets it as SCREEN_SHARE at its size,
    with its colours, and sees the screen change."""
    x_display.paint(SCREEN_BEFORE)
    monkeypatch.setenv("DISPLAY", x_display.name)  # only while this test runs
    probe = await connect("probe")
    subscribed = _subscribed_video(probe)

    session = Session(LiteralTokenSource(server.url, server.token("user")), SessionOptions())
    warnings: list[str] = []
    controller = VideoController(session, VideoSettings(screen=True, fps=FPS), on_warning=warnings.append)
    await session.start()
    try:
        await wait_until(lambda: controller.publishing(SourceKind.SCREEN), what="the screen to be published")
        track, publication = await asyncio.wait_for(subscribed, timeout=15)
        assert publication.source == rtc.TrackSource.SOURCE_SCREENSHARE
        assert not publication.simulcasted
        receiving = asyncio.ensure_future(_receive(track, seconds=6.0))
        await asyncio.sleep(2.5)
        painted_at = time.monotonic()
        x_display.paint(SCREEN_AFTER)  # returns once the X server has drawn it
        frames = await receiving
    finally:
        await controller.aclose()
        await session.end()
    assert warnings == []

    # --fps holds for a screen share too (the SDK's own preset for a screen this narrow would be 5 fps).
    assert len(frames) >= 6 * FPS * 0.5, f"only {len(frames)} frames in 6 s at {FPS} fps"
    sizes = {(rgb.shape[1], rgb.shape[0]) for _, rgb in frames}
    assert sizes == {x_display.size}, f"received sizes {sizes}, the screen is {x_display.size}"
    before = [rgb for arrived, rgb in frames if arrived < painted_at]
    assert len(before) >= 5, f"only {len(before)} frames in the first 2.5 s"
    for rgb in before[len(before) // 4 :]:
        assert _shows(rgb, SCREEN_BEFORE), f"the screen was received as {quadrant_colours(rgb)}"

    # The change arrives soon, and from then on every frame shows the new screen.
    changed = next(
        (n for n, (arrived, rgb) in enumerate(frames) if arrived >= painted_at and _shows(rgb, SCREEN_AFTER)),
        None,
    )
    assert changed is not None, f"the change never arrived; last frame {quadrant_colours(frames[-1][1])}"
    assert frames[changed][0] - painted_at < 2.0, f"the change took {frames[changed][0] - painted_at:.2f} s"
    after = [rgb for _, rgb in frames[changed:]]
    assert len(after) >= 5, f"only {len(after)} frames after the change"
    for rgb in after:
        assert _shows(rgb, SCREEN_AFTER), f"the new screen was received as {quadrant_colours(rgb)}"


async def test_no_camera_is_a_warning_and_the_session_goes_on(server: LiveServer) -> None:
    session = Session(LiteralTokenSource(server.url, server.token("user")), SessionOptions())
    warnings: list[str] = []
    controller = VideoController(
        session, VideoSettings(camera=True, camera_device="/dev/video97"), on_warning=warnings.append
    )
    await session.start()
    try:
        await wait_until(lambda: bool(warnings), what="the camera warning")
        assert warnings == [
            "Camera off: No camera at /dev/video97 — plug one in, or name another with --camera DEVICE."
        ]
        assert not controller.wanted(SourceKind.CAMERA) and session.video_publications == {}
        await session.send_chat("still here")  # the session goes on
    finally:
        await controller.aclose()
        await session.end()


async def test_the_avatar_workers_video_is_the_agents_and_closing_unsubscribes(
    server: LiveServer, connect: Connector
) -> None:
    """An avatar worker publishes the face with ``lk.publish_on_behalf``; the Session picks it as the
    agent's video, and switching agent video off unsubscribes (nothing is received or decoded)."""
    from agent_tui.session import AgentVideoTrackChanged

    agent = await connect("agent-1", kind="agent", attributes={"lk.agent.state": "listening"})
    room = rtc.Room()
    session = Session(
        LiteralTokenSource(server.url, server.token("user")), SessionOptions(), room_factory=lambda: room
    )
    changes: list[AgentVideoTrackChanged] = []
    session.events.subscribe(lambda e: changes.append(e) if isinstance(e, AgentVideoTrackChanged) else None)
    await session.start(wait_for_agent=False)
    avatar = await connect("avatar-1", kind="agent", attributes={"lk.publish_on_behalf": "agent-1"})
    source = rtc.VideoSource(64, 48)
    track = rtc.LocalVideoTrack.create_video_track("face", source)
    feeding = asyncio.ensure_future(_feed(source))
    try:
        await avatar.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
        )
        await wait_until(lambda: session.agent_video_track is not None, what="the avatar's video")
        assert changes[-1].participant_identity == "avatar-1"
        session.set_agent_video_subscribed(False)
        assert session.agent_video_track is None and changes[-1].track is None
        remote = room.remote_participants["avatar-1"]
        await wait_until(
            lambda: not any(p.subscribed for p in remote.track_publications.values()),
            what="the video to be unsubscribed",
        )
        session.set_agent_video_subscribed(True)
        await wait_until(lambda: session.agent_video_track is not None, what="the video again")
    finally:
        feeding.cancel()
        await session.end()
    assert agent.isconnected()


async def _feed(source: rtc.VideoSource) -> None:
    image = np.full((48, 64, 4), 200, dtype=np.uint8)
    while True:
        source.capture_frame(rtc.VideoFrame(64, 48, rtc.VideoBufferType.RGBA, image.tobytes()))
        await asyncio.sleep(1 / 15)
