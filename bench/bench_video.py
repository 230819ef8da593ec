"""Video benchmark: the dev server's CPU per relayed VP8 stream, and the video panel's CPU in the app.

Figures, never asserts (``make bench``). Run alone inside the test network namespace:

    tests/netns/run .venv/bin/python -m bench.bench_video

- server: the dev server runs as its own process; its CPU over a fixed window while one participant
  publishes a 640x480 15 fps moving pattern (VP8, simulcast off) that another receives, minus the same
  window with both connected and nothing published (the anchor). aiortc decodes every published VP8
  stream and encodes it again for each subscriber, so this is one decode plus one encode.
- panel: the Textual app (headless driver: layout and compositing happen, nothing reaches a terminal) for
  a few seconds with the agent's video arriving at 15 fps (640x360 I420 frames from the SDK's own
  converter) and drawn at the default ``panel_fps``, against the same app with no video (the anchor).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
from livekit import rtc

from bench.bench_devserver import connect, start_server, stop_server

REPO = Path(__file__).resolve().parent.parent
WINDOW_S = 8.0


def moving_pattern(index: int, width: int, height: int) -> np.ndarray:
    """RGBA bars with a moving square, so the encoder has real work every frame."""
    image = np.zeros((height, width, 4), dtype=np.uint8)
    image[..., 3] = 255
    bar = width // 8
    for number in range(8):
        image[:, number * bar : (number + 1) * bar, :3] = ((number * 37) % 256, (number * 91) % 256, 200)
    left = (index * 8) % (width - 64)
    image[height // 2 - 32 : height // 2 + 32, left : left + 64, :3] = 255
    return image


async def bench_server_cpu() -> tuple[float, float]:
    """Server CPU (% of a core): both connected and idle, then relaying one VP8 stream."""
    server = await start_server()
    try:
        publisher = await connect(server.url, "pub")
        subscriber = await connect(server.url, "sub")
        await asyncio.sleep(1.0)
        before = server.cpu_seconds()
        await asyncio.sleep(WINDOW_S)
        idle = (server.cpu_seconds() - before) / WINDOW_S * 100
        source = rtc.VideoSource(640, 480)
        track = rtc.LocalVideoTrack.create_video_track("bench", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA, simulcast=False)
        await publisher.local_participant.publish_track(track, options)

        async def feed() -> None:
            index = 0
            while True:
                image = moving_pattern(index, 640, 480)
                source.capture_frame(rtc.VideoFrame(640, 480, rtc.VideoBufferType.RGBA, image.tobytes()))
                index += 1
                await asyncio.sleep(1 / 15)

        feeding = asyncio.ensure_future(feed())
        received = 0
        subscribed: asyncio.Future[rtc.Track] = asyncio.get_running_loop().create_future()
        subscriber.on("track_subscribed", lambda t, *_: subscribed.done() or subscribed.set_result(t))
        stream = rtc.VideoStream(await asyncio.wait_for(subscribed, 15))

        async def drain() -> None:
            nonlocal received
            async for _ in stream:
                received += 1

        draining = asyncio.ensure_future(drain())
        await asyncio.sleep(2.0)
        before, frames_before = server.cpu_seconds(), received
        await asyncio.sleep(WINDOW_S)
        busy = (server.cpu_seconds() - before) / WINDOW_S * 100
        fps = (received - frames_before) / WINDOW_S
        feeding.cancel()
        draining.cancel()
        await stream.aclose()
        await publisher.disconnect()
        await subscriber.disconnect()
        print(f"  (the subscriber received {fps:.1f} fps)")
        return idle, busy
    finally:
        await stop_server(server)


async def app_cpu(seconds: float, *, video: bool) -> tuple[float, int]:
    """CPU seconds per wall second of the app, and frames drawn."""
    sys.path.insert(0, str(REPO))
    from agent_tui.app import AgentTuiApp, UiSettings
    from agent_tui.session import AgentVideoTrackChanged, LiteralTokenSource, Session, SessionOptions

    session = Session(LiteralTokenSource("ws://127.0.0.1:1", "x"), SessionOptions(agent_name="bench"))
    app = AgentTuiApp(session, audio=None, ui=UiSettings(), autostart=False, animate=True)
    frames = [
        rtc.VideoFrame(640, 360, rtc.VideoBufferType.RGBA, moving_pattern(i, 640, 360).tobytes()).convert(
            rtc.VideoBufferType.I420
        )
        for i in range(30)
    ]

    async def fifteen_fps(track: object) -> AsyncIterator[rtc.VideoFrame]:
        index = 0
        while True:
            yield frames[index % len(frames)]
            index += 1
            await asyncio.sleep(1 / 15)

    async with app.run_test(size=(160, 48)) as pilot:
        app.video_feed.open_stream = fifteen_fps  # type: ignore[assignment]
        if video:

            class Track:
                sid = "TR_bench"

            session.events.emit(AgentVideoTrackChanged(track=Track(), participant_identity="a"))  # type: ignore[arg-type]
        await pilot.pause(0.5)
        started, cpu = time.monotonic(), time.process_time()
        await asyncio.sleep(seconds)
        used = (time.process_time() - cpu) / (time.monotonic() - started)
        drawn = app.video_panel.frames_drawn
    return used, drawn


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    without, _ = await app_cpu(args.seconds, video=False)
    with_video, drawn = await app_cpu(args.seconds, video=True)
    print(
        f"app CPU: {without * 100:.1f}% without video (anchor) | {with_video * 100:.1f}% with the video "
        f"panel ({drawn / args.seconds:.1f} frames drawn/s at 160x48 cells) "
        f"-> x{with_video / max(without, 1e-9):.1f}"
    )
    if os.environ.get("AGENT_TUI_NETNS") != "1":
        print("server CPU per VP8 stream: skipped (needs tests/netns/run)")
        return 0
    idle, busy = await bench_server_cpu()
    print(
        f"dev server CPU relaying one 640x480 15 fps VP8 stream: {idle:.1f}% idle (anchor), {busy:.1f}% "
        f"relaying -> {busy - idle:.1f}% of a core per stream (decode + re-encode)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
