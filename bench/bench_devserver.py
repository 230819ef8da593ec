"""Server benchmark: the dev server and livekit-server side by side, measured the same way in one run.

Run it inside the test network namespace (media must not use loopback nor leave the machine):

    tests/netns/run .venv/bin/python -m bench.bench_devserver

Each server runs as its own process (the dev server as ``python -m agent_tui.devserver``, livekit-server
as built by ``make livekit-server``) so that its CPU time can be read from /proc apart from the clients'.
Figures, not verdicts: nothing here asserts a timing. Without a livekit-server binary its half is
skipped with the reason.

- connect: wall time of a bare ``rtc.Room.connect`` (signalling, ICE, DTLS, data channels).
- session: ``Session.start()`` with a dispatch to the real demo worker until the agent listens.
- latency: a 10 ms tone burst every 500 ms, from ``AudioSource.capture_frame`` on the publisher to the
  first loud frame out of the subscriber's ``AudioStream``: the whole path, the SDK's encoder and jitter
  buffer on both ends as well as the relay. livekit-server forwards RTP, so its figure is the path
  without a relay's own work, and the difference between the two is what the dev server's relay adds.
- cpu: the server process's CPU over a fixed window with N relayed streams, minus the same window with
  the same participants connected but silent (the anchor), divided by N.
- voice: ``agent-tui demo`` with a spoken question (``--input-wav``): the client-measured voice-to-voice
  latency of its answer (end of speech to first audible reply), and demo start to the agent listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from livekit import rtc

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET
from agent_tui.livekit_server import LiveKitServerNotFound, LiveKitServerProcess

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from demo_worker_process import DemoWorker  # noqa: E402
from e2e_harness import mint_token  # noqa: E402

SAMPLE_RATE = 48_000
FRAME = 480  # 10 ms
BURST_EVERY = 50  # frames: one burst per 500 ms
CONNECT_RUNS = 15
LATENCY_SECONDS = 15
CPU_WINDOW_S = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


SESSION_RUNS = 5
NODE_IP = "10.99.0.1"


@dataclass
class ServerProcess:
    """A server under measurement: its URL and keys, and the process whose CPU is read."""

    process: asyncio.subprocess.Process | None
    url: str
    name: str = "dev server"
    api_key: str = DEFAULT_API_KEY
    api_secret: str = DEFAULT_API_SECRET
    livekit: LiveKitServerProcess | None = None

    @property
    def pid(self) -> int:
        pid = self.livekit.pid if self.livekit is not None else self.process.pid if self.process else None
        assert pid is not None
        return pid

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def token(self, identity: str, **options: object) -> str:
        return mint_token(identity, api_key=self.api_key, api_secret=self.api_secret, **options)  # type: ignore[arg-type]


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


async def start_livekit_server() -> ServerProcess:
    """livekit-server as the tests run it (:class:`LiveKitServerNotFound` when it is not built)."""
    process = LiveKitServerProcess(node_ip=NODE_IP, departure_timeout=1, empty_timeout=10)
    await process.start()
    return ServerProcess(
        None, process.url, "livekit-server", process.api_key, process.api_secret, livekit=process
    )


async def stop_server(server: ServerProcess) -> None:
    if server.livekit is not None:
        await server.livekit.stop()
        return
    assert server.process is not None
    server.process.send_signal(2)
    await asyncio.wait_for(server.process.wait(), timeout=15)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


async def connect(
    url: str, identity: str, kind: str = "standard", server: ServerProcess | None = None
) -> rtc.Room:
    room = rtc.Room()
    token = (server.token if server else mint_token)(identity, room="bench", kind=kind)
    await room.connect(url, token, rtc.RoomOptions())
    return room


async def bench_connect(server: ServerProcess) -> list[float]:
    times = []
    for run in range(CONNECT_RUNS):
        room = rtc.Room()
        started = time.perf_counter()
        await room.connect(server.url, server.token(f"c{run}", room="bench-connect"), rtc.RoomOptions())
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


class BurstListener:
    """Stamps the bursts arriving on every audio track ``room`` subscribes to, from now on."""

    def __init__(self, room: rtc.Room) -> None:
        self.arrivals: list[float] = []
        self._readers: list[asyncio.Task[None]] = []
        room.on("track_subscribed", self._subscribed)

    def _subscribed(self, track: rtc.Track, *_: object) -> None:
        self._readers.append(asyncio.create_task(detect_bursts(track, self.arrivals)))

    def stop(self) -> None:
        for reader in self._readers:
            reader.cancel()


def match_latencies(sent: list[float], arrived: list[float]) -> list[float]:
    """Pair each arrival with the latest burst sent before it (bursts are 500 ms apart)."""
    latencies = []
    for arrival in arrived:
        earlier = [s for s in sent if s <= arrival]
        if earlier and arrival - earlier[-1] < 0.45:
            latencies.append(arrival - earlier[-1])
    return latencies


async def bench_latency(server: ServerProcess) -> tuple[list[float], int]:
    url = server.url
    publisher_room = await connect(url, "speaker", kind="agent", server=server)
    listener_room = rtc.Room()
    listener = BurstListener(listener_room)
    await listener_room.connect(url, server.token("listener", room="bench"), rtc.RoomOptions())
    publisher = BurstPublisher(publisher_room)
    await publisher.start()
    await asyncio.sleep(LATENCY_SECONDS)
    await publisher.stop()
    listener.stop()
    await listener_room.disconnect()
    await publisher_room.disconnect()
    # Skip the first second: subscription set-up, not steady state.
    steady = [s for s in publisher.burst_times if s > publisher.burst_times[0] + 1.0]
    return match_latencies(steady, listener.arrivals), len(steady)


async def bench_cpu(server: ServerProcess, participants: int) -> tuple[float, float, int]:
    """Server CPU (% of one core) connected-but-silent, then with everyone publishing; and stream count."""
    rooms = [await connect(server.url, f"p{n}", server=server) for n in range(participants)]
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


async def bench_session_start(server: ServerProcess) -> list[float]:
    """``Session.start()`` (token, connect, dispatch, agent joins and listens), each in a new room."""
    from agent_tui.session import LocalTokenSource, Session, SessionOptions

    worker = DemoWorker(server.url, "bench-demo", api_key=server.api_key, api_secret=server.api_secret)
    await worker.start()
    times = []
    try:
        for _ in range(SESSION_RUNS):
            session = Session(
                LocalTokenSource(server.url, server.api_key, server.api_secret),
                SessionOptions(agent_name="bench-demo"),
            )
            started = time.perf_counter()
            await session.start()
            times.append(time.perf_counter() - started)
            await session.end()
            await asyncio.sleep(1.5)  # the job ends and the worker's process pool refills
    finally:
        await worker.stop()
    return times


async def bench_demo_voice(livekit: bool) -> tuple[list[float], float | None, str]:
    """One ``agent-tui demo`` run with a spoken question: (voice-to-voice ms, s to listening, error)."""
    from agent_tui.demo.speech import synthesize
    from agent_tui.demo.stt_pocketsphinx import jsgf_from_phrases

    with tempfile.TemporaryDirectory() as folder:
        question = Path(folder) / "question.wav"
        frame = await synthesize("what time is it")
        samples = np.frombuffer(frame.data, dtype=np.int16)
        with wave.open(str(question), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(frame.sample_rate)
            # after the greeting (about 6 s of speech), as a person would ask
            lead = np.zeros(frame.sample_rate * 8, np.int16)
            writer.writeframes(np.concatenate([lead, samples]).tobytes())
        grammar = Path(folder) / "q.jsgf"
        grammar.write_text(jsgf_from_phrases(["what time is it"], name="q"), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
        env.update(AGENT_TUI_CONFIG="/dev/null", AGENT_TUI_DEMO_JSGF=str(grammar))
        argv = [str(Path(sys.executable).with_name("agent-tui")), "demo", "--json"]
        argv += ["--input-wav", str(question), "--output-wav", str(Path(folder) / "a.wav")]
        argv += ["--worker-log", str(Path(folder) / "w.log")]
        if livekit:
            argv.append("--livekit-server")
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        assert process.stdout is not None
        listening: float | None = None
        latencies: list[float] = []
        async for raw in process.stdout:
            record = json.loads(raw)
            if listening is None and record.get("type") == "agent_state" and record["state"] == "listening":
                listening = time.perf_counter() - started
            if record.get("type") == "voice_latency":
                latencies.append(float(record["latency_ms"]))
        _, err = await process.communicate()
        problem = "" if process.returncode == 0 else err.decode(errors="replace").strip().splitlines()[-1:]
        return latencies, listening, str(problem or "")


def line(label: str, values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    if not values:
        return f"{label}: no figure"
    p50, p99 = percentile(values, 50) * scale, percentile(values, 99) * scale
    low = min(values) * scale
    return f"{label} ({len(values)}): p50 {p50:.0f} {unit}, p99 {p99:.0f} {unit}, min {low:.0f} {unit}"


async def measure(server: ServerProcess) -> dict[str, float]:
    """Every figure for one server, printed as it comes; returns the p50s and per-stream CPU."""
    figures: dict[str, float] = {}
    connects = await bench_connect(server)
    print(line("  connect (bare rtc.Room.connect)", connects), flush=True)
    figures["connect p50 ms"] = percentile(connects, 50) * 1000

    latencies, sent = await bench_latency(server)
    print(line(f"  audio capture -> subscriber frame ({sent} bursts sent)", latencies), flush=True)
    if latencies:
        figures["audio relay p50 ms"] = percentile(latencies, 50) * 1000
        figures["audio relay p99 ms"] = percentile(latencies, 99) * 1000

    for participants in (2, 3):
        idle, busy, streams = await bench_cpu(server, participants)
        per_stream = (busy - idle) / streams
        print(
            f"  server CPU, {participants} participants: {idle:.1f}% connected and silent (anchor), "
            f"{busy:.1f}% relaying {streams} streams -> {per_stream:.1f}% of a core per stream",
            flush=True,
        )
        figures[f"CPU per stream ({participants} participants) %"] = per_stream

    starts = await bench_session_start(server)
    print(line("  Session.start() -> demo agent listening", starts), flush=True)
    figures["session start p50 ms"] = percentile(starts, 50) * 1000
    return figures


Job = Callable[[str, ServerProcess], Awaitable[None]]


def outside_the_namespace(bench: str) -> bool:
    """Say why ``bench`` cannot run here when it is not inside the test network namespace."""
    if os.environ.get("AGENT_TUI_NETNS") == "1":
        return False
    reason = os.environ.get("AGENT_TUI_NETNS_UNAVAILABLE", "not started via tests/netns/run")
    print(f"{bench}: needs the private test network namespace ({reason})", file=sys.stderr)
    return True


async def for_each_server(job: Job, *, after: Callable[[str], Awaitable[None]] | None = None) -> None:
    """Run ``job`` on the dev server, then on livekit-server (skipped with the reason when it is not
    built), each started fresh and stopped after; ``after`` runs once each server is stopped."""
    for name, start in (("dev server", start_server), ("livekit-server", start_livekit_server)):
        print(f"{name}:", flush=True)
        try:
            server = await start()
        except LiveKitServerNotFound as error:
            print(f"  skipped: {error}")
            continue
        try:
            await job(name, server)
        finally:
            await stop_server(server)
        if after is not None:
            await after(name)


async def main() -> int:
    if outside_the_namespace("bench_devserver"):
        return 2
    results: dict[str, dict[str, float]] = {}

    async def measure_one(name: str, server: ServerProcess) -> None:
        results[name] = await measure(server)

    async def demo_voice(name: str) -> None:
        latencies, listening, problem = await bench_demo_voice(livekit=name == "livekit-server")
        if problem:
            print(f"  agent-tui demo (voice): failed: {problem}")
        else:
            heard = (
                f"voice-to-voice {', '.join(f'{v:.0f}' for v in latencies)} ms" if latencies else "no latency"
            )
            print(f"  agent-tui demo (voice): agent listening after {listening:.1f} s, {heard}", flush=True)
            if latencies:
                results[name]["demo voice-to-voice ms"] = statistics.mean(latencies)

    await for_each_server(measure_one, after=demo_voice)
    if len(results) == 2:
        dev, real = results["dev server"], results["livekit-server"]
        print("dev server / livekit-server:")
        for key in dev:
            if key in real and real[key] > 0:
                print(f"  {key}: {dev[key]:.1f} / {real[key]:.1f} = {dev[key] / real[key]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
