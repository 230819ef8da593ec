"""Video benchmark: the dev server's CPU per relayed VP8 stream, and the video panel's CPU in the app.

Figures, never asserts (``make bench``). Run alone inside the test network namespace:

    tests/netns/run .venv/bin/python -m bench.bench_video

- server: the dev server runs as its own process; its CPU over a fixed window while one participant
  publishes a 640x480 15 fps moving pattern (VP8, simulcast off) that another receives, minus the same
  window with both connected and nothing published (the anchor). The dev server forwards the encoded
  frames (reassembled by aiortc and packetized again), so this is no decode and no encode.
- panel: the Textual app (headless driver: layout and compositing happen, nothing reaches a terminal) for
  a few seconds with the agent's video arriving at 15 fps (640x360 I420 frames from the SDK's own
  converter) and drawn at the default ``panel_fps``, against the same app with no video (the anchor);
  once per drawing protocol (half blocks, kitty, sixel; a 10x20-pixel cell assumed), with the time each
  frame's encoding took inside that run (half-block strips, or the kitty / sixel escape) and its size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass
class PanelRun:
    """One run of the app: CPU seconds per wall second, frames drawn, and each encoding's time and size."""

    cpu: float
    drawn: int
    encode_ms: list[float] = field(default_factory=list)
    encoded_bytes: list[int] = field(default_factory=list)


@contextmanager
def timed_encoder(
    module: Any, name: str, run: PanelRun, size: Callable[[Any], int] | None = None
) -> Iterator[None]:
    """Time every call of ``module.name`` (the panel's encoder) into ``run`` while the block runs, and
    record the ``size`` of what it returned when given."""
    original = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = original(*args, **kwargs)
        run.encode_ms.append((time.perf_counter() - started) * 1000)
        if size is not None:
            run.encoded_bytes.append(size(result))
        return result

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, original)


async def app_cpu(seconds: float, *, video: bool, graphics: str = "halfblock") -> PanelRun:
    """The app with the panel drawing with ``graphics``: CPU, frames drawn, encoding times."""
    sys.path.insert(0, str(REPO))
    from agent_tui.app import AgentTuiApp, AppSettings
    from agent_tui.session import AgentVideoTrackChanged, LiteralTokenSource, Session, SessionOptions
    from agent_tui.ui import video_panel
    from agent_tui.video.cell_pixels import FALLBACK_CELL
    from agent_tui.video.settings import VideoSettings

    session = Session(LiteralTokenSource("ws://127.0.0.1:1", "x"), SessionOptions(agent_name="bench"))
    app = AgentTuiApp(
        session,
        audio=None,
        app_settings=AppSettings(),
        video_settings=VideoSettings(graphics=graphics),
        cell_pixels=FALLBACK_CELL,
        autostart=False,
        animate=True,
    )
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

    run = PanelRun(0.0, 0)
    if graphics == "halfblock":
        encoder = timed_encoder(video_panel, "halfblock_strips", run)
    else:
        encoder = timed_encoder(video_panel, "encode_picture", run, lambda picture: len(picture.escape))
    with encoder:
        async with app.run_test(size=(160, 48)) as pilot:
            app.video_feed.open_stream = fifteen_fps  # type: ignore[assignment]
            if video:

                class Track:
                    sid = "TR_bench"

                session.events.emit(AgentVideoTrackChanged(track=Track(), participant_identity="a"))  # type: ignore[arg-type]
            await pilot.pause(0.5)
            run.encode_ms.clear()
            run.encoded_bytes.clear()
            drawn = app.video_panel.frames_drawn
            started, cpu = time.monotonic(), time.process_time()
            await asyncio.sleep(seconds)
            run.cpu = (time.process_time() - cpu) / (time.monotonic() - started)
            run.drawn = app.video_panel.frames_drawn - drawn
    return run


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    without = (await app_cpu(args.seconds, video=False)).cpu
    print(f"app CPU without video (anchor): {without * 100:.1f}%")
    for graphics in ("halfblock", "kitty", "sixel"):
        run = await app_cpu(args.seconds, video=True, graphics=graphics)
        encode = "no frame encoded"
        if run.encode_ms:
            encode = f"encode {statistics.median(run.encode_ms):.1f} ms/frame (max {max(run.encode_ms):.1f})"
        if run.encoded_bytes:
            encode += f", {statistics.median(run.encoded_bytes) / 1024:.0f} KiB/frame to the terminal"
        print(
            f"app CPU with the video panel drawing {graphics}: {run.cpu * 100:.1f}% "
            f"(x{run.cpu / max(without, 1e-9):.1f}; {run.drawn / args.seconds:.1f} frames drawn/s at 160x48 "
            f"cells) — {encode}"
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
