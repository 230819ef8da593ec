"""Audio engine benchmark: agent-tui's engine and ``rtc.MediaDevices`` measured the same way, side by side.

Run: ``python -m bench.bench_audio`` (``--seconds N`` for the CPU run, ``--soak SECONDS`` for the soak).
It starts its own private PulseAudio (tests/audio/pulse_harness.py) and prints figures and ratios; nothing
is asserted — the targets are printed next to the figures.

What is measured, identically for both:

- **capture latency**: from the PortAudio callback that completed a block to the moment the 10 ms frame
  carrying it reaches the published track's sink (an ``rtc.AudioStream`` on the ``LocalAudioTrack``). The
  device block itself is not counted. Frames are matched by content (noise played into the virtual mic
  passes bit-exact), so queues anywhere on the way, including inside ``rtc.AudioSource``, are counted.
- **playback buffer depth**: audio queued between the agent's track and the device, sampled every 10 ms
  while an agent track plays, plus one device block (what the device holds).
- **CPU**: process CPU time (all threads, the FFI's included) over wall time, for N seconds of duplex audio
  with echo cancellation, noise suppression, high-pass filter and gain control on. The agent is a stand-in
  track in the same process; its own CPU is measured alone in the same run and taken off both clients, and
  the *SDK floor* — the ``capture_frame`` and APM calls every 10 ms and the ``AudioStream`` that any 10 ms
  duplex client on this SDK must make, with no devices and no code of ours — shows how much of the figure
  is the client's own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "audio"))

from pulse_harness import PulseServer, pointed_at, start_pulse

from agent_tui.audio.engine import AudioEngine
from agent_tui.audio.settings import AudioSettings

RATE = 48000
FRAME = 480


class CaptureSpy:
    """Wraps ``sounddevice.InputStream`` callbacks to stamp every 10 ms of captured audio by content."""

    def __init__(self) -> None:
        self.stamps: dict[bytes, float] = {}

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        import sounddevice as sd

        original = sd.InputStream
        spy = self

        class SpyStream(original):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, callback: Callable[..., None], **kwargs: Any) -> None:
                def wrapped(indata: Any, frames: int, time_info: Any, status: Any) -> None:
                    now = time.perf_counter()
                    mono = indata[:, 0]
                    for start in range(0, frames - FRAME + 1, FRAME):
                        spy.stamps[mono[start : start + FRAME].tobytes()] = now
                    callback(indata, frames, time_info, status)

                super().__init__(*args, callback=wrapped, **kwargs)

        sd.InputStream = SpyStream
        try:
            yield
        finally:
            sd.InputStream = original


class SinkTap:
    """Reads the published track back and matches each frame to its capture stamp."""

    def __init__(self, source: rtc.AudioSource, spy: CaptureSpy) -> None:
        self._spy = spy
        self.track = rtc.LocalAudioTrack.create_audio_track("bench-mic", source)
        self._stream = rtc.AudioStream(self.track, sample_rate=RATE, num_channels=1)
        self.latencies: list[float] = []
        self.unmatched = 0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async for event in self._stream:
            now = time.perf_counter()
            stamp = self._spy.stamps.pop(bytes(event.frame.data), None)
            if stamp is None:
                self.unmatched += 1
            else:
                self.latencies.append(now - stamp)

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._stream.aclose()


class AgentVoice:
    """A real track standing in for the agent: a tone in real time, 10 ms frames.

    The tone is computed once and the frames are preallocated, so the stand-in costs little more than the
    SDK's own ``capture_frame`` — and that cost is measured alone (:func:`stand_in_alone`) and taken off.
    """

    def __init__(self) -> None:
        self.source = rtc.AudioSource(RATE, 1, queue_size_ms=0)
        self.track = rtc.LocalAudioTrack.create_audio_track("agent", self.source)
        t = np.arange(RATE) / RATE  # one second of 440 Hz: a whole number of periods, so it loops cleanly
        tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        self._frames = [
            rtc.AudioFrame(bytearray(tone[i : i + FRAME].tobytes()), RATE, 1, FRAME)
            for i in range(0, RATE, FRAME)
        ]
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        index = 0
        while True:
            await self.source.capture_frame(self._frames[index % len(self._frames)])
            index += 1
            deadline += 0.01
            await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.source.aclose()


def noise_into_mic(server: PulseServer, seconds: float) -> Any:
    rng = np.random.default_rng(7)
    return server.play_into_mic(rng.integers(-8000, 8000, round(seconds * RATE), dtype=np.int16))


def percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    array = np.array(values) * 1000.0
    return float(np.percentile(array, 50)), float(np.percentile(array, 99))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def no_processing() -> dict[str, bool]:
    return {"aec": False, "noise_suppression": False, "high_pass": False, "auto_gain": False}


# -- capture latency ---------------------------------------------------------------------------------------
async def capture_latency_engine(server: PulseServer, seconds: float) -> tuple[list[float], int]:
    spy = CaptureSpy()
    with spy.installed():
        engine = AudioEngine(
            AudioSettings(
                input_device="pulse", output_device="pulse", preconnect_buffer=False, **no_processing()
            )
        )
        await engine.start()
    assert engine.source is not None, engine.status.reason
    tap = SinkTap(engine.source, spy)
    player = noise_into_mic(server, seconds)
    await asyncio.sleep(seconds + 0.3)
    player.wait(5)
    await tap.aclose()
    await engine.aclose()
    return tap.latencies, tap.unmatched


async def capture_latency_media_devices(server: PulseServer, seconds: float) -> tuple[list[float], int]:
    spy = CaptureSpy()
    devices = rtc.MediaDevices()
    with spy.installed():
        capture = devices.open_input(
            enable_aec=False, noise_suppression=False, high_pass_filter=False, auto_gain_control=False
        )
    tap = SinkTap(capture.source, spy)
    player = noise_into_mic(server, seconds)
    await asyncio.sleep(seconds + 1.3)  # MediaDevices queues up to 1 s inside its AudioSource
    player.wait(5)
    await tap.aclose()
    await capture.aclose()
    await capture.source.aclose()
    return tap.latencies, tap.unmatched


# -- playback depth and CPU ----------------------------------------------------------------------------------
async def duplex_engine(seconds: float, *, aec: bool) -> dict[str, float]:
    settings = AudioSettings(input_device="pulse", output_device="pulse", preconnect_buffer=False)
    if not aec:
        settings = settings.model_copy(update=no_processing())
    engine = AudioEngine(settings)
    await engine.start()
    voice = AgentVoice()
    engine.play(voice.track)  # what the session bridge does on AgentAudioTrackChanged
    await asyncio.sleep(1.0)
    playback = engine.playback.device
    assert playback is not None, engine.status.warning
    playback.jitter.depth_stats()
    before_underruns = engine.stats().playback_underruns
    depths: list[float] = []
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    end = wall0 + seconds
    while time.perf_counter() < end:
        await asyncio.sleep(0.01)
        depths.append(playback.jitter.depth * 1000.0 / playback.sample_rate)
    cpu = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0) * 100.0
    stats = engine.stats()
    block_ms = playback.block_samples * 1000.0 / playback.sample_rate
    await voice.aclose()
    await engine.aclose()
    return {
        "cpu": cpu,
        "depth_mean": float(np.mean(depths)) + block_ms,
        "depth_max": float(np.max(depths)) + block_ms,
        "underruns": float(stats.playback_underruns - before_underruns),
        "device_underflows": float(stats.playback_device_underflows),
        "capture_dropped_ms": stats.capture_dropped_ms,
        "processing_errors": float(stats.processing_errors),
    }


async def cpu_over(seconds: float) -> float:
    """Process CPU (all threads) as % of one core while the loop idles ``seconds``."""
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    await asyncio.sleep(seconds)
    return (cpu_seconds() - cpu0) / (time.perf_counter() - wall0) * 100.0


async def stand_in_alone(seconds: float) -> float:
    """CPU of the agent stand-in by itself: taken off both clients' duplex figures."""
    voice = AgentVoice()
    await asyncio.sleep(1.0)
    cpu = await cpu_over(seconds)
    await voice.aclose()
    return cpu


async def sdk_floor(seconds: float) -> float:
    """CPU of the SDK calls a 10 ms duplex client cannot avoid, with nothing else: every 10 ms one
    ``capture_frame`` on a track's source and one APM forward + reverse pass (all four features on), and
    an ``rtc.AudioStream`` reading the agent's track — no devices, no buffers, no meters. The stand-in's
    own CPU is included here too (subtract it like the clients')."""
    voice = AgentVoice()
    source = rtc.AudioSource(RATE, 1, queue_size_ms=0)
    track = rtc.LocalAudioTrack.create_audio_track("floor-mic", source)
    apm = rtc.AudioProcessingModule(
        echo_cancellation=True, noise_suppression=True, high_pass_filter=True, auto_gain_control=True
    )
    rng = np.random.default_rng(3)
    noise = rng.integers(-3000, 3000, FRAME, dtype=np.int16)
    mic = rtc.AudioFrame(bytearray(noise.tobytes()), RATE, 1, FRAME)
    played = rtc.AudioFrame(bytearray(FRAME * 2), RATE, 1, FRAME)
    stream = rtc.AudioStream(voice.track, sample_rate=RATE, num_channels=1, frame_size_ms=20)

    async def read() -> None:
        async for _ in stream:
            pass

    async def feed() -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            apm.process_reverse_stream(played)
            apm.process_stream(mic)
            await source.capture_frame(mic)
            deadline += 0.01
            await asyncio.sleep(max(0.0, deadline - loop.time()))

    tasks = [asyncio.create_task(read()), asyncio.create_task(feed())]
    await asyncio.sleep(1.0)
    cpu = await cpu_over(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await stream.aclose()
    await voice.aclose()
    await source.aclose()
    del track
    return cpu


async def duplex_media_devices(seconds: float) -> dict[str, float]:
    devices = rtc.MediaDevices()
    capture = devices.open_input(
        enable_aec=True, noise_suppression=True, high_pass_filter=True, auto_gain_control=True
    )
    player = devices.open_output()
    voice = AgentVoice()
    await player.add_track(voice.track)
    await player.start()
    await asyncio.sleep(1.0)
    depths: list[float] = []
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    end = wall0 + seconds
    while time.perf_counter() < end:
        await asyncio.sleep(0.01)
        depths.append(len(player._buffer) / 2 * 1000.0 / RATE)
    cpu = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0) * 100.0
    block_ms = 4800 * 1000.0 / RATE  # MediaDevices' device block
    await voice.aclose()
    await player.aclose()
    await capture.aclose()
    await capture.source.aclose()
    return {
        "cpu": cpu,
        "depth_mean": float(np.mean(depths)) + block_ms,
        "depth_max": float(np.max(depths)) + block_ms,
    }


def ratio(theirs: float, ours: float) -> str:
    return f"{theirs / ours:.1f}x" if ours > 0 else "n/a"


async def run(server: PulseServer, seconds: float, soak: float | None) -> None:
    print("agent-tui audio benchmark (virtual PulseAudio, 48 kHz mono)\n")
    ours_lat, ours_miss = await capture_latency_engine(server, 5.0)
    theirs_lat, theirs_miss = await capture_latency_media_devices(server, 5.0)
    o50, o99 = percentiles(ours_lat)
    t50, t99 = percentiles(theirs_lat)
    print("capture: callback -> frame at the published track's sink (device block not counted)")
    for name, p50, p99, frames, missed in (
        ("agent-tui", o50, o99, len(ours_lat), ours_miss),
        ("MediaDevices", t50, t99, len(theirs_lat), theirs_miss),
    ):
        print(f"  {name:<14} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  ({frames} frames, {missed} unmatched)")
    print(f"  ratio (MediaDevices / agent-tui): p50 {ratio(t50, o50)}, p99 {ratio(t99, o99)}")
    print("  target: <= 10 ms added, >= 5x better than MediaDevices\n")

    ours = await duplex_engine(seconds, aec=True)
    theirs = await duplex_media_devices(seconds)
    stand_in = await stand_in_alone(seconds)
    floor = await sdk_floor(seconds) - stand_in
    print(f"duplex {seconds:g} s, AEC + NS + HPF + AGC on:")
    print(
        f"  playback depth (buffer + device block): agent-tui mean {ours['depth_mean']:.1f} ms, "
        f"max {ours['depth_max']:.1f} ms | MediaDevices mean {theirs['depth_mean']:.1f} ms, "
        f"max {theirs['depth_max']:.1f} ms  (ratio {ratio(theirs['depth_mean'], ours['depth_mean'])})"
    )
    print(
        f"  CPU, % of one core, process total: agent-tui {ours['cpu']:.1f} % | MediaDevices "
        f"{theirs['cpu']:.1f} %  (ratio {ratio(theirs['cpu'], ours['cpu'])})"
    )
    engine_cpu, theirs_cpu = ours["cpu"] - stand_in, theirs["cpu"] - stand_in
    print(
        f"  CPU of the client alone (minus the agent stand-in's {stand_in:.1f} %): agent-tui "
        f"{engine_cpu:.1f} % | MediaDevices {theirs_cpu:.1f} %  (ratio {ratio(theirs_cpu, engine_cpu)}); "
        "target <= 5 %"
    )
    print(
        f"  SDK floor for 10 ms duplex (capture_frame + APM both ways every 10 ms + the agent's AudioStream, "
        f"nothing else): {floor:.1f} %; agent-tui above the floor: {engine_cpu - floor:.1f} %"
    )
    print(
        f"  agent-tui underruns {ours['underruns']:.0f}, device underflows {ours['device_underflows']:.0f}, "
        f"capture dropped {ours['capture_dropped_ms']:.0f} ms, APM errors {ours['processing_errors']:.0f}"
    )
    if soak:
        result = await duplex_engine(soak, aec=True)
        print(
            f"\nsoak {soak:g} s: underruns {result['underruns']:.0f} (target 0), device underflows "
            f"{result['device_underflows']:.0f}, capture dropped {result['capture_dropped_ms']:.0f} ms, "
            f"CPU {result['cpu']:.1f} %, depth max {result['depth_max']:.1f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0, help="duplex run length for CPU and depth")
    parser.add_argument(
        "--soak", type=float, default=None, metavar="SECONDS", help="also run a soak this long"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="agent-tui-bench-") as root:
        server = start_pulse(Path(root))
        try:
            with pointed_at(server):
                asyncio.run(run(server, args.seconds, args.soak))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
