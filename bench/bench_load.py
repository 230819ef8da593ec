"""Load-generator capacity: how many conversations ONE ``agent-tui load`` process holds honestly.

Run it inside the test network namespace (``make bench`` does):

    tests/netns/run .venv/bin/python -m bench.bench_load

What a simulated user costs the generator, without an agent (the agent is what a load test measures,
and the demo agent on this machine saturates long before the generator does): N real Sessions in one
process, on one asyncio loop in an OS thread behind the gevent bridge (:mod:`agent_tui.load.bridge`),
as ``agent-tui load`` runs them, each with a microphone fed at real-time pace in 10 ms frames, as the
scenario runner feeds it.

- text: every Session connected, its microphone sending silence (the runner always publishes one);
- voice: the same, the microphone sending speech-like sound, and every Session also receiving and
  decoding another's audio (rooms of two), as a voice conversation sends and hears audio at once.

For each N the loop's lag is probed (a task sleeping 10 ms, how late it wakes) for a fixed window and
the process's CPU read from /proc; the capacity is the largest N whose lag p95 stays under
:data:`agent_tui.load.capacity.MAX_LOOP_LAG_MS`. The server is livekit-server when built (its Go relay
costs the shared 2 cores least), else the dev server. Figures, not verdicts: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from dataclasses import dataclass

import numpy as np

import agent_tui.load  # noqa: F401  (no gevent monkey-patching, before anything imports locust)
from agent_tui.load.bridge import LoopThread
from agent_tui.load.capacity import (
    MAX_LOOP_LAG_MS,
    MAX_MACHINE_CPU_SHARE,
    TEXT_SESSIONS_PER_PROCESS,
    VOICE_SESSIONS_PER_PROCESS,
)

SAMPLE_RATE = 48_000
FRAME = SAMPLE_RATE // 100
WINDOW_S = 8.0
TICK = 0.01
STEPS = (4, 10, 20, 30, 40, 60)  # even: voice callers talk in pairs
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Figures:
    sessions: int
    lag_p50_ms: float
    lag_p95_ms: float
    cpu_percent: float

    @property
    def honest(self) -> bool:
        """The generator keeps up: its loop on time, and its process within its share of the machine."""
        cores = os.cpu_count() or 1
        return self.lag_p95_ms <= MAX_LOOP_LAG_MS and self.cpu_percent <= MAX_MACHINE_CPU_SHARE * cores * 100

    def line(self, mode: str) -> str:
        return (
            f"{mode:5} {self.sessions:3} sessions  loop lag p50 {self.lag_p50_ms:5.1f} ms  "
            f"p95 {self.lag_p95_ms:6.1f} ms  cpu {self.cpu_percent:5.0f}% of a core "
            f"({self.cpu_percent / self.sessions:4.1f}% per session, the SDK's media threads included)"
        )


def process_cpu_s() -> float:
    with open(f"/proc/{os.getpid()}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Caller:
    """One simulated user's generator side: a Session with a microphone paced like the runner's."""

    def __init__(self, url: str, key: str, secret: str, room: str, voice: bool) -> None:
        from livekit import rtc

        from agent_tui.config import Settings
        from agent_tui.session import Session
        from agent_tui.wiring.session import choose_token_source, session_options

        identity = f"caller-{secrets.token_hex(4)}"  # two in a room: a shared identity would evict one
        settings = Settings.model_validate(
            {"url": url, "api_key": key, "api_secret": secret, "room": room, "identity": identity}
        )
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=0)
        self.session = Session(
            choose_token_source(settings),
            session_options(settings),
            microphone=self.source,
            preconnect_buffer=False,
            agent_video=False,
        )
        self.voice = voice
        self.tasks: list[asyncio.Task[None]] = []
        self.frames_heard = 0

    async def start(self) -> None:
        from livekit import rtc

        await self.session.start(wait_for_agent=False)
        self.tasks.append(asyncio.create_task(self._pump()))
        if self.voice:
            room = self.session._room  # the bench listens to the room's other track
            assert room is not None

            def subscribed(track: rtc.Track, *_: object) -> None:
                if isinstance(track, rtc.RemoteAudioTrack):
                    self.tasks.append(asyncio.create_task(self._hear(track)))

            room.on("track_subscribed", subscribed)
            for participant in room.remote_participants.values():
                for publication in participant.track_publications.values():
                    if publication.track is not None:
                        subscribed(publication.track)

    async def _pump(self) -> None:
        from livekit import rtc

        loop = asyncio.get_running_loop()
        frame = rtc.AudioFrame.create(SAMPLE_RATE, 1, FRAME)
        samples = np.frombuffer(frame.data, dtype=np.int16)
        tone = (np.sin(np.arange(FRAME) * 2 * np.pi * 220 / SAMPLE_RATE) * 8000).astype(np.int16)
        noise = np.random.default_rng(7)
        deadline = loop.time()
        while True:
            if self.voice:
                samples[:] = tone + noise.integers(-2000, 2000, FRAME, dtype=np.int16)
            else:
                samples[:] = 0
            await self.source.capture_frame(frame)
            deadline += FRAME / SAMPLE_RATE
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                deadline = loop.time()

    async def _hear(self, track: object) -> None:
        from livekit import rtc

        assert isinstance(track, rtc.RemoteAudioTrack)
        async for _event in rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1):
            self.frames_heard += 1

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.session.end()
        await self.source.aclose()


async def hold(url: str, key: str, secret: str, sessions: int, voice: bool) -> Figures:
    """``sessions`` callers at once on this loop, for :data:`WINDOW_S`; the loop's lag and the CPU."""
    prefix = f"bench-load-{secrets.token_hex(3)}"
    rooms = [f"{prefix}-{i // 2 if voice else i}" for i in range(sessions)]
    callers = [Caller(url, key, secret, room, voice) for room in rooms]
    try:
        for start in range(0, sessions, 5):
            await asyncio.gather(*(caller.start() for caller in callers[start : start + 5]))
        await asyncio.sleep(1.0)  # tracks subscribed, encoders warm
        loop = asyncio.get_running_loop()
        lags: list[float] = []
        cpu_before, began = process_cpu_s(), time.monotonic()
        while time.monotonic() - began < WINDOW_S:
            before = loop.time()
            await asyncio.sleep(TICK)
            lags.append((loop.time() - before - TICK) * 1000)
        cpu = (process_cpu_s() - cpu_before) / (time.monotonic() - began) * 100
        if voice:
            deaf = sum(1 for caller in callers if caller.frames_heard == 0)
            assert not deaf, f"{deaf} voice callers heard nothing"
    finally:
        await asyncio.gather(*(caller.stop() for caller in callers), return_exceptions=True)
    return Figures(sessions, float(np.percentile(lags, 50)), float(np.percentile(lags, 95)), cpu)


async def start_server() -> tuple[str, str, str, object]:
    from agent_tui.livekit_server import LiveKitServerNotFound, LiveKitServerProcess

    try:
        process = LiveKitServerProcess(node_ip="10.99.0.1", departure_timeout=1, empty_timeout=10)
        await process.start()
        print("server: livekit-server", flush=True)
        return process.url, process.api_key, process.api_secret, process
    except LiveKitServerNotFound as error:
        from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET
        from agent_tui.devserver.server import DevServer

        print(f"server: the dev server ({error})", flush=True)
        dev = DevServer(port=0, departure_timeout=0.5)
        await dev.start()
        return dev.url, DEFAULT_API_KEY, DEFAULT_API_SECRET, dev


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load")
    parser.add_argument("--steps", type=int, nargs="+", default=list(STEPS), help="sessions to try")
    args = parser.parse_args()
    bridge = LoopThread(name="bench-load-loop")  # the loop agent-tui load runs conversations on
    url, key, secret, server = bridge.submit(start_server()).result(60)
    capacity: dict[str, int] = {}
    try:
        for mode, voice in (("text", False), ("voice", True)):
            for sessions in args.steps:
                figures = bridge.submit(hold(url, key, secret, sessions, voice)).result(300)
                print(figures.line(mode), flush=True)
                if not figures.honest:
                    break
                capacity[mode] = sessions
    finally:
        bridge.submit(server.stop()).result(30)  # type: ignore[attr-defined]
        bridge.close()
    print(f"load average of the machine meanwhile: {os.getloadavg()[0]:.1f}")
    print(
        f"\ncapacity (loop lag p95 under {MAX_LOOP_LAG_MS:g} ms, "
        f"cpu under {MAX_MACHINE_CPU_SHARE:.0%} of the machine), "
        f"one process, {os.cpu_count()} cores: "
        f"text {capacity.get('text', 0)}, voice {capacity.get('voice', 0)} sessions "
        f"(agent_tui/load/capacity.py says text {TEXT_SESSIONS_PER_PROCESS}, "
        f"voice {VOICE_SESSIONS_PER_PROCESS})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
