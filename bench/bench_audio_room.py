"""Three audio front ends in a real room, measured the same way: agent-tui's engine, ``rtc.MediaDevices`` and
``rtc.PlatformAudio`` (the SDK's own device module, WebRTC's ADM with its built-in echo cancellation).

``bench_audio`` compares the first two without a room, frame by frame; PlatformAudio cannot be measured that
way — its microphone only runs for a track published in a room, and it plays what the room delivers by itself
— so here each front end does what it does in a conversation, through livekit-server (the dev server when
livekit-server is not built), inside the private network namespace:

- the client publishes its microphone and plays the agent's voice; the "agent" is a second room in this
  process publishing a 440 Hz tone and listening to the client's microphone;
- a 60 ms 1 kHz burst is played into the virtual microphone every 500 ms. A reference stream opened on the
  same PulseAudio source stamps each burst as the device delivers it, and the agent stamps it as it arrives
  from the room: **mic → agent** latency is the difference (device, processing, encoder, network, the
  agent's jitter buffer — the same path for all three, only the front end differs);
- **CPU**: this process's CPU over the window, all threads, with echo cancellation, noise suppression,
  high-pass filter and gain control on for the two that make them optional (PlatformAudio always has them).
  The agent room and the reference stream cost the same in each run; their cost is measured alone, with no
  client, and taken off.

Run: ``tests/netns/run .venv/bin/python -m bench.bench_audio_room [--seconds 15]``. Figures, never verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc

from agent_tui.audio.engine import AudioEngine
from agent_tui.audio.settings import AudioSettings
from agent_tui.livekit_server import LiveKitServerNotFound

from .bench_audio import RATE, AgentVoice, cpu_seconds
from .bench_devserver import (
    BurstListener,
    ServerProcess,
    match_latencies,
    outside_the_namespace,
    start_livekit_server,
    start_server,
    stop_server,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "audio"))

from pulse_harness import PulseServer, pointed_at, start_pulse

BURST_EVERY_S = 0.5
BURST_S = 0.06
#: Steady state only: subscription, the echo canceller's convergence and the encoders' start are left out.
SETTLE_S = 2.0

#: A front end: started with the client room and the agent's track, it returns its own closer.
FrontEnd = Callable[[rtc.Room, "asyncio.Future[rtc.Track]"], Awaitable[Callable[[], Awaitable[None]]]]


def bursts(seconds: float) -> np.ndarray:
    """Silence with a 1 kHz burst every 500 ms, for the virtual microphone."""
    samples = np.zeros(round(seconds * RATE), dtype=np.int16)
    t = np.arange(round(BURST_S * RATE)) / RATE
    burst = (14_000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    step = round(BURST_EVERY_S * RATE)
    for start in range(step // 2, len(samples) - len(burst), step):
        samples[start : start + len(burst)] = burst
    return samples


class ReferenceTap:
    """The device's view of the bursts: a 10 ms PortAudio input on the same source, stamping each onset."""

    def __init__(self) -> None:
        import sounddevice as sd

        self.onsets: list[float] = []
        self._quiet = True
        self._stream = sd.InputStream(
            device="pulse", samplerate=RATE, channels=1, dtype="int16", blocksize=480, latency="low",
            callback=self._callback,
        )  # fmt: skip
        self._stream.start()

    def _callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        level = float(np.abs(data[:, 0]).max())
        if self._quiet and level > 4000:
            self.onsets.append(time.perf_counter())
        self._quiet = level < 1000

    def close(self) -> None:
        self._stream.abort()
        self._stream.close()


async def engine_front_end(
    client: rtc.Room, agent_track: asyncio.Future[rtc.Track]
) -> Callable[[], Awaitable[None]]:
    engine = AudioEngine(AudioSettings(input_device="pulse", output_device="pulse", preconnect_buffer=False))
    await engine.start()
    assert engine.source is not None, engine.status.reason
    track = rtc.LocalAudioTrack.create_audio_track("mic", engine.source)
    await client.local_participant.publish_track(track, _mic_options())
    engine.play(await agent_track)  # what the session bridge does when the agent's track arrives

    async def close() -> None:
        await engine.aclose()

    return close


async def media_devices_front_end(
    client: rtc.Room, agent_track: asyncio.Future[rtc.Track]
) -> Callable[[], Awaitable[None]]:
    devices = rtc.MediaDevices()
    capture = devices.open_input(
        enable_aec=True, noise_suppression=True, high_pass_filter=True, auto_gain_control=True
    )
    player = devices.open_output()
    track = rtc.LocalAudioTrack.create_audio_track("mic", capture.source)
    await client.local_participant.publish_track(track, _mic_options())
    await player.add_track(await agent_track)
    await player.start()

    async def close() -> None:
        await player.aclose()
        await capture.aclose()
        await capture.source.aclose()

    return close


async def platform_audio_front_end(
    client: rtc.Room, agent_track: asyncio.Future[rtc.Track]
) -> Callable[[], Awaitable[None]]:
    platform = rtc.PlatformAudio()
    source = platform.create_audio_source()
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)  # type: ignore[arg-type]
    await client.local_participant.publish_track(track, _mic_options())
    await agent_track  # played by the device module itself once subscribed

    async def close() -> None:
        source.close()
        platform.close()

    return close


def _mic_options() -> rtc.TrackPublishOptions:
    return rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)


async def in_a_room(
    server: ServerProcess, pulse: PulseServer, front_end: FrontEnd | None, seconds: float, room: str
) -> dict[str, float]:
    """One run: the agent room, the reference tap and (unless None: the anchor) one front end."""
    agent = rtc.Room()
    listener = BurstListener(agent)
    await agent.connect(server.url, server.token("agent", room=room, kind="agent"), rtc.RoomOptions())
    voice = AgentVoice()
    await agent.local_participant.publish_track(voice.track, _mic_options())
    client = rtc.Room()
    agent_track: asyncio.Future[rtc.Track] = asyncio.get_running_loop().create_future()

    def subscribed(track: rtc.Track, *_: object) -> None:
        if not agent_track.done():
            agent_track.set_result(track)

    client.on("track_subscribed", subscribed)
    close: Callable[[], Awaitable[None]] | None = None
    tap = ReferenceTap()
    player = None
    try:
        if front_end is not None:
            await client.connect(server.url, server.token("client", room=room), rtc.RoomOptions())
            close = await asyncio.wait_for(front_end(client, agent_track), timeout=20)
        player = pulse.play_into_mic(bursts(seconds + SETTLE_S + 1.0))
        await asyncio.sleep(SETTLE_S)
        started_at, cpu0, wall0 = time.perf_counter(), cpu_seconds(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0) * 100.0
    finally:
        if player is not None:
            player.kill()
        tap.close()
        listener.stop()
        if close is not None:
            await close()
        await client.disconnect()
        await voice.aclose()
        await agent.disconnect()
    sent = [onset for onset in tap.onsets if onset >= started_at]
    latencies = match_latencies(sent, [arrival for arrival in listener.arrivals if arrival >= started_at])
    return {
        "cpu": cpu,
        "p50": float(np.percentile(latencies, 50)) * 1000.0 if latencies else float("nan"),
        "p99": float(np.percentile(latencies, 99)) * 1000.0 if latencies else float("nan"),
        "heard": float(len(latencies)),
        "sent": float(len(sent)),
    }


FRONT_ENDS: dict[str, FrontEnd] = {
    "agent-tui": engine_front_end,
    "MediaDevices": media_devices_front_end,
    "PlatformAudio": platform_audio_front_end,
}


async def one(pulse: PulseServer, name: str, seconds: float) -> dict[str, float]:
    """One measurement on a fresh server; ``name`` is a front end or ``anchor``."""
    try:
        server = await start_livekit_server()
    except LiveKitServerNotFound:
        server = await start_server()
    try:
        result = await in_a_room(server, pulse, FRONT_ENDS.get(name), seconds, f"{name}-room")
        result["livekit"] = float(server.name == "livekit-server")
        return result
    finally:
        await stop_server(server)


def measure_in_child(name: str, seconds: float) -> dict[str, float]:
    """Each measurement in its own process: the SDK's device modules are not made to be opened and
    closed one after another in one process (the third in a row crashed it), and a fresh process
    also starts every front end from the same state."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_audio_room", "--one", name, "--seconds", str(seconds)],
        capture_output=True, text=True, timeout=seconds + 120, check=False,
    )  # fmt: skip
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    raise RuntimeError(f"{name}: no result (exit {done.returncode}): {done.stderr.strip()[-300:]}")


def report(seconds: float, rounds: int) -> None:
    results: dict[str, list[dict[str, float]]] = {name: [] for name in ["anchor", *FRONT_ENDS]}
    for _ in range(rounds):  # interleaved, so a busy spell on the machine hits all of them alike
        for name, runs in results.items():
            runs.append(measure_in_child(name, seconds))
    where = "livekit-server" if results["anchor"][0]["livekit"] else "the dev server"
    print(f"audio front ends in a room on {where}, AEC + NS + HPF + AGC on, {seconds:g} s x {rounds} rounds:")
    anchor = statistics.median(r["cpu"] for r in results["anchor"])
    print(f"  anchor (agent room + reference tap, no client): {anchor:.1f} % of one core, taken off below")
    cpus: dict[str, float] = {}
    for name in FRONT_ENDS:
        runs = results[name]
        cpus[name] = statistics.median(r["cpu"] for r in runs) - anchor
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        heard = sum(r["heard"] for r in runs)
        sent = sum(r["sent"] for r in runs)
        print(
            f"  {name:<14} CPU {cpus[name]:5.1f} % of one core   mic -> agent p50 {p50:6.1f} ms  "
            f"p99 {p99:6.1f} ms  ({heard:.0f}/{sent:.0f} bursts heard)"
        )
    ours = cpus["agent-tui"]
    if ours > 0:
        for name in ("MediaDevices", "PlatformAudio"):
            print(f"  CPU ratio {name} / agent-tui: {cpus[name] / ours:.2f}x (>= 1: agent-tui is no dearer)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", choices=["anchor", *FRONT_ENDS], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if outside_the_namespace("bench_audio_room"):
        return 0
    if args.one is None:
        report(args.seconds, args.rounds)
        return 0
    with tempfile.TemporaryDirectory(prefix="agent-tui-bench-room-") as root:
        pulse = start_pulse(Path(root))
        try:
            with pointed_at(pulse):
                print(json.dumps(asyncio.run(one(pulse, args.one, args.seconds))))
        finally:
            pulse.stop()
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
