"""Dev server benchmark: connect time, audio relay latency, server CPU per relayed stream.

Run it inside the test network namespace (media must not use loopback nor leave the machine):

    tests/netns/run .venv/bin/python bench/bench_devserver.py

The server runs as its own process (``python -m agent_tui.devserver``) so that its CPU time can be read
from /proc apart from the clients'. Figures, not verdicts: nothing here asserts a timing.

- connect: wall time of a bare ``rtc.Room.connect`` (signalling, ICE, DTLS, data channels).
- latency: a 10 ms tone burst every 500 ms, from ``AudioSource.capture_frame`` on the publisher to the
  first loud frame out of the subscriber's ``AudioStream``. This is the whole path: the SDK's encoder and
  jitter buffer on both ends as well as the relay (aiortc jitter buffer and decode, fan-out, re-encode);
  without a second server to compare with, the relay's own share cannot be isolated here.
- cpu: the server process's CPU over a fixed window with N relayed streams, minus the same window with
  the same participants connected but silent (the anchor), divided by N.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from livekit import rtc

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from e2e_harness import mint_token  # noqa: E402

SAMPLE_RATE = 48_000
FRAME = 480  # 10 ms
BURST_EVERY = 50  # frames: one burst per 500 ms
CONNECT_RUNS = 15
LATENCY_SECONDS = 15
CPU_WINDOW_S = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class ServerProcess:
    process: asyncio.subprocess.Process
    url: str

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


async def start_server() -> ServerProcess:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agent_tui.devserver", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode()
        if not line:
            raise RuntimeError("the dev server exited during start-up")
        match = re.search(r"listening on (ws://\S+)", line)
        if match:
            return ServerProcess(process, match.group(1))


async def stop_server(server: ServerProcess) -> None:
    server.process.send_signal(2)
    await asyncio.wait_for(server.process.wait(), timeout=15)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


async def connect(url: str, identity: str, kind: str = "standard") -> rtc.Room:
    room = rtc.Room()
    await room.connect(url, mint_token(identity, room="bench", kind=kind), rtc.RoomOptions())
    return room


async def bench_connect(url: str) -> list[float]:
    times = []
    for run in range(CONNECT_RUNS):
        room = rtc.Room()
        started = time.perf_counter()
        await room.connect(url, mint_token(f"c{run}", room="bench-connect"), rtc.RoomOptions())
        times.append(time.perf_counter() - started)
        await room.disconnect()
    return times


class BurstPublisher:
    """Publishes silence with a 10 ms 1 kHz burst every 500 ms, paced by the wall clock."""

    def __init__(self, room: rtc.Room, *, bursts: bool = True) -> None:
        # A short source queue: capture time is then close to send time, not up to a second earlier.
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=20)
        self.track = rtc.LocalAudioTrack.create_audio_track("bench", self.source)
        self.room = room
        self.bursts = bursts
        self.burst_times: list[float] = []
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(self.track, options)
        self.task = asyncio.create_task(self._feed())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.source.aclose()

    async def _feed(self) -> None:
        silence = np.zeros(FRAME, dtype=np.int16)
        t = np.arange(FRAME) / SAMPLE_RATE
        burst = (12_000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
        start = time.perf_counter()
        index = 0
        while True:
            delay = start + index * FRAME / SAMPLE_RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            loud = self.bursts and index % BURST_EVERY == 0
            if loud:
                self.burst_times.append(time.perf_counter())
            samples = burst if loud else silence
            await self.source.capture_frame(rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, FRAME))
            index += 1


async def detect_bursts(track: rtc.Track, arrivals: list[float]) -> None:
    stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1)
    quiet = True
    async for event in stream:
        level = float(
            np.sqrt(np.mean(np.frombuffer(event.frame.data, dtype=np.int16).astype(np.float64) ** 2))
        )
        if quiet and level > 2000:
            arrivals.append(time.perf_counter())
        quiet = level < 500


def match_latencies(sent: list[float], arrived: list[float]) -> list[float]:
    """Pair each arrival with the latest burst sent before it (bursts are 500 ms apart)."""
    latencies = []
    for arrival in arrived:
        earlier = [s for s in sent if s <= arrival]
        if earlier and arrival - earlier[-1] < 0.45:
            latencies.append(arrival - earlier[-1])
    return latencies


async def bench_latency(url: str) -> tuple[list[float], int]:
    publisher_room = await connect(url, "speaker", kind="agent")
    listener_room = rtc.Room()
    arrivals: list[float] = []
    readers: list[asyncio.Task[None]] = []
    listener_room.on(
        "track_subscribed",
        lambda track, *_: readers.append(asyncio.create_task(detect_bursts(track, arrivals))),
    )
    await listener_room.connect(url, mint_token("listener", room="bench"), rtc.RoomOptions())
    publisher = BurstPublisher(publisher_room)
    await publisher.start()
    await asyncio.sleep(LATENCY_SECONDS)
    await publisher.stop()
    for reader in readers:
        reader.cancel()
    await listener_room.disconnect()
    await publisher_room.disconnect()
    # Skip the first second: subscription set-up, not steady state.
    steady = [s for s in publisher.burst_times if s > publisher.burst_times[0] + 1.0]
    return match_latencies(steady, arrivals), len(steady)


async def bench_cpu(server: ServerProcess, participants: int) -> tuple[float, float, int]:
    """Server CPU (% of one core) connected-but-silent, then with everyone publishing; and stream count."""
    rooms = [await connect(server.url, f"p{n}") for n in range(participants)]
    await asyncio.sleep(1.0)
    before = server.cpu_seconds()
    await asyncio.sleep(CPU_WINDOW_S)
    idle = (server.cpu_seconds() - before) / CPU_WINDOW_S * 100
    publishers = [BurstPublisher(room, bursts=False) for room in rooms]
    for publisher in publishers:
        await publisher.start()
    await asyncio.sleep(2.0)  # subscriptions settle
    before = server.cpu_seconds()
    await asyncio.sleep(CPU_WINDOW_S)
    busy = (server.cpu_seconds() - before) / CPU_WINDOW_S * 100
    for publisher in publishers:
        await publisher.stop()
    for room in rooms:
        await room.disconnect()
    await asyncio.sleep(1.0)
    return idle, busy, participants * (participants - 1)


async def main() -> int:
    if os.environ.get("AGENT_TUI_NETNS") != "1":
        reason = os.environ.get("AGENT_TUI_NETNS_UNAVAILABLE", "not started via tests/netns/run")
        print(f"bench_devserver: needs the private test network namespace ({reason})", file=sys.stderr)
        return 2
    server = await start_server()
    try:
        connects = await bench_connect(server.url)
        p50, p99 = percentile(connects, 50) * 1000, percentile(connects, 99) * 1000
        print(f"connect (bare rtc.Room.connect, {CONNECT_RUNS} runs): p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
              f"min {min(connects) * 1000:.0f} ms")  # fmt: skip

        latencies, sent = await bench_latency(server.url)
        if latencies:
            p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
            print(f"audio capture -> subscriber frame ({len(latencies)}/{sent} bursts): p50 {p50:.0f} ms, "
                  f"p99 {p99:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms")  # fmt: skip
        else:
            print(f"audio capture -> subscriber frame: no burst detected out of {sent}")

        for participants in (2, 3):
            idle, busy, streams = await bench_cpu(server, participants)
            per_stream = (busy - idle) / streams
            print(
                f"server CPU, {participants} participants: {idle:.1f}% connected and silent (anchor), "
                f"{busy:.1f}% relaying {streams} streams -> {per_stream:.1f}% of a core per stream"
            )
    finally:
        await stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
