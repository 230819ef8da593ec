"""Demo start-up benchmark: ``agent-tui demo`` from launch to the agent listening, phase by phase.

Issue #18 asks for the demo to reach a listening agent within 3 s warm. This runs ``agent-tui demo
--json`` (the headless client, with a silent ``--input-wav`` as the microphone and ``--output-wav`` as
the speaker, so the audio path is set up as with devices) a few times as fresh processes, after one
discarded run that warms the disk cache, and prints each phase's time since the launch, from what the
demo itself says:

* its stderr: the first line (the demo's imports done), the server listening, the worker registered;
* its JSON Lines: the room joined (the client connected), the agent joined, the agent listening;
* the worker's own log (``--worker-log``, livekit-agents' JSON records, wall-clock stamps): its imports
  done ("starting worker"), its first job process ready ("process initialized"), the dispatch ("received
  job request") and the RoomIO link in the job.

The anchors, measured in the same run on the same machine between the demo's runs: a fresh
``python -c "import livekit.rtc"`` (the least any LiveKit client process pays before it can connect) and
a fresh ``python -c "import livekit.agents"`` (the least a livekit-agents worker pays before it can
register, the floor under the demo's critical path), so the ratios say how far above those floors the demo
is, whatever the machine's speed or load.

Run inside the test network namespace: ``tests/netns/run .venv/bin/python -m bench.bench_demo_start``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

#: Phases in the order they happen, with how each is recognised: (label, source, what to look for).
PHASES: tuple[tuple[str, str, str], ...] = (
    ("demo imports done (first line)", "stderr", ""),
    ("dev server listening", "stderr", "ok (ws://"),
    ("worker imports done", "worker", "starting worker"),
    ("worker job process ready", "worker", "process initialized"),
    ("worker registered", "stderr", "registered as"),
    ("client connected (room joined)", "json", "session"),
    ("dispatch received by the worker", "worker", "received job request"),
    ("job linked to the client", "worker", "RoomIO linked to participant"),
    ("agent joined", "json", "agent_joined"),
    ("agent listening", "json", "listening"),
)
TIMEOUT_S = 60.0


def _silence(path: Path, seconds: float = 30.0) -> None:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(48_000)
        writer.writeframes(bytes(int(48_000 * seconds) * 2))


def _worker_marks(log: Path, launched_wall: float) -> dict[str, float]:
    """The first time each worker phase appears in its log, in seconds since the launch."""
    marks: dict[str, float] = {}
    wanted = {needle: label for label, source, needle in PHASES if source == "worker"}
    with contextlib.suppress(OSError):
        for raw in log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                continue
            message = str(record.get("message", ""))
            for needle, label in wanted.items():
                if label not in marks and message.startswith(needle) and "timestamp" in record:
                    stamp = datetime.datetime.fromisoformat(record["timestamp"]).timestamp()
                    marks[label] = stamp - launched_wall
    return marks


async def one_run(folder: Path) -> dict[str, float]:
    """One ``agent-tui demo`` launch: each phase's seconds since the launch (missing: it never came)."""
    wav = folder / "silence.wav"
    if not wav.exists():
        _silence(wav)
    worker_log = folder / "worker.log"
    worker_log.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(AGENT_TUI_CONFIG="/dev/null", AGENT_TUI_NETNS="1")
    argv = [str(Path(sys.executable).with_name("agent-tui")), "demo", "--json", "--exit-when", "never"]
    argv += ["--input-wav", str(wav), "--output-wav", str(folder / "out.wav")]
    argv += ["--worker-log", str(worker_log), "--log-file", str(folder / "client.log")]
    marks: dict[str, float] = {}
    launched_wall, launched = time.time(), time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None

    async def read_stderr(stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            text = raw.decode(errors="replace")
            for label, source, needle in PHASES:
                if source == "stderr" and label not in marks and needle in text:
                    marks[label] = time.perf_counter() - launched

    async def read_json(stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            with contextlib.suppress(json.JSONDecodeError):
                record = json.loads(raw)
                kind = record.get("type")
                for label, source, needle in PHASES:
                    if source != "json" or label in marks:
                        continue
                    if kind == needle or (kind == "agent_state" and record.get("state") == needle):
                        marks[label] = time.perf_counter() - launched
                if "agent listening" in marks:
                    return

    errors = asyncio.create_task(read_stderr(process.stderr))
    try:
        await asyncio.wait_for(read_json(process.stdout), TIMEOUT_S)
    except TimeoutError:
        pass
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()
        errors.cancel()
        await asyncio.gather(errors, return_exceptions=True)
    marks.update(_worker_marks(worker_log, launched_wall))
    return marks


ANCHORS = ("livekit.rtc", "livekit.agents")


def anchor_seconds(module: str) -> float:
    """A fresh interpreter importing ``module``, from launch to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    from bench.bench_devserver import outside_the_namespace

    parser = argparse.ArgumentParser(prog="bench_demo_start")
    parser.add_argument("--runs", type=int, default=5, help="measured runs, after one warm-up run")
    args = parser.parse_args(argv)
    if outside_the_namespace("bench_demo_start"):
        return 2
    runs: list[dict[str, float]] = []
    anchors: dict[str, list[float]] = {module: [] for module in ANCHORS}
    with tempfile.TemporaryDirectory(prefix="agent-tui-demo-start-") as root:
        asyncio.run(one_run(Path(root)))  # warms the disk cache; not counted
        for _ in range(args.runs):
            for module, times in anchors.items():
                times.append(anchor_seconds(module))
            runs.append(asyncio.run(one_run(Path(root))))
    print(f"agent-tui demo --json: seconds since launch, {args.runs} warm runs (median, then each run)")
    for label, _, _ in PHASES:
        values = [run[label] for run in runs if label in run]
        median = f"{statistics.median(values):5.2f}" if values else "    -"
        each = " ".join(f"{run[label]:5.2f}" if label in run else "    -" for run in runs)
        print(f"  {label:34} {median}   [{each}]")
    listening = [run["agent listening"] for run in runs if "agent listening" in run]
    if not listening:
        print("the agent never listened", file=sys.stderr)
        return 1
    median = statistics.median(listening)
    print(f"launch to the agent listening                    {median:5.2f} s (median of {len(listening)})")
    for module, times in anchors.items():
        anchor = statistics.median(times)
        print(
            f"anchor: a fresh python -c 'import {module}'{' ' * (15 - len(module))}{anchor:5.2f} s "
            f"(median of {len(times)}): the demo takes {median / anchor:4.1f} x"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
