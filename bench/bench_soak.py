"""Long-session soak (``make soak-long``): a spoken conversation with the real demo for an hour or two.

Issue #18 asks that a long conversation with audio, meters and a growing transcript keep the client's
memory and CPU flat. A leak or a cost that grows with the transcript shows only over a long run, so this
runs the real thing, as a user would, for ``--minutes``:

* ``agent-tui demo`` in a pseudo-terminal (the Textual app, as ``bench_app`` launches it), with the
  embedded dev server and the real demo agent worker it starts;
* a private PulseAudio (``tests/audio/pulse_harness.py``) as its microphone and speaker, so the audio
  engine, the meters and the echo canceller run on real device streams;
* every ``--ask-every`` seconds the question "what time is it" (espeak-ng, the demo's own voice) is
  played into the virtual microphone; the agent hears it (a one-phrase grammar makes the recogniser
  exact) and answers, so the transcript keeps growing;
* an observer joins the same room (a token from the dev server's own ``/token`` endpoint, nothing
  subscribed) and counts the agent's transcriptions on ``lk.transcription``: the proof that the
  conversation went on, taken from what the agent published, not from the client under measurement.

Every ``--sample-seconds`` (60 by default) it prints one line: RSS (``/proc/PID/status`` VmRSS) and CPU
over the interval (``/proc/PID/stat`` utime + stime, % of one core) of the demo process (the client and,
in the same process, the embedded dev server), of the worker, and of the worker's job processes together.
At the end: the warm-up left out (the first 10 % of the run, or ``--warmup-minutes``), min / max / mean
after it, the drift (mean of the last quarter of the post-warm-up samples against the first quarter, in
%) and whether it is within 10 %. Samples go to ``--out`` (CSV, or JSON when the name ends in .json).

Everything runs inside the private network namespace (``tests/netns/run``): the dev server binds
127.0.0.1, media uses the namespace's veth, and nothing can leave the machine.

Run: ``tests/netns/run .venv/bin/python -m bench.bench_soak --minutes 120 --out soak.csv``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import fcntl
import json
import os
import pty
import re
import signal
import statistics
import struct
import sys
import tempfile
import termios
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "audio"))

from pulse_harness import RATE, PulseServer, start_pulse  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
QUESTION = "what time is it"
ROOM = "soak"
FLAT_WITHIN = 10.0  # %
#: The agent greets for about 6 s after joining; the first question waits for the greeting to end.
FIRST_QUESTION_AFTER_S = 10.0
START_TIMEOUT_S = 90.0
_URL_RE = re.compile(rb"ok \((ws://127\.0\.0\.1:\d+)\)")
_ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of ``pid`` in seconds, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_rss_mb(pid: int) -> float | None:
    """VmRSS of ``pid`` in MB, or None when it is gone."""
    try:
        for text in Path(f"/proc/{pid}/status").read_text().splitlines():
            if text.startswith("VmRSS:"):
                return int(text.split()[1]) / 1024
    except OSError:
        return None
    return None


def children_of(pid: int) -> list[int]:
    """The direct children of ``pid``, from every process's ``/proc/N/stat`` parent field."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(entry.name))
    return found


def descendants_of(pid: int) -> list[int]:
    pending, found = children_of(pid), []
    while pending:
        child = pending.pop()
        found.append(child)
        pending += children_of(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class Sample:
    """One interval's figures; CPU is % of one core over the interval, RSS the value at its end."""

    minute: float
    client_rss_mb: float
    client_cpu: float
    worker_rss_mb: float
    worker_cpu: float
    jobs_rss_mb: float
    jobs_cpu: float
    job_processes: int
    asked: int
    heard: int
    answered: int


@dataclass
class Group:
    """A set of processes whose CPU is summed over an interval: each pid's CPU since it was last read
    (a process started during the interval counts from zero, one gone counts what was last read)."""

    last: dict[int, float] = field(default_factory=dict)

    def interval(self, pids: list[int]) -> tuple[float, float]:
        """(CPU seconds over the interval, RSS MB now) of ``pids``."""
        cpu, rss = 0.0, 0.0
        now: dict[int, float] = {}
        for pid in pids:
            seconds, resident = proc_cpu_seconds(pid), proc_rss_mb(pid)
            if seconds is None or resident is None:
                continue
            now[pid] = seconds
            cpu += seconds - self.last.get(pid, 0.0)
            rss += resident
        self.last = now
        return cpu, rss


class Terminal:
    """``agent-tui demo`` in a pseudo-terminal of 120 x 36, its output drained by a thread (a full pty
    would block the app) and kept for the dev server's URL and, on failure, the last screenful."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            os.execve(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
        self.seen = bytearray()
        self.bytes_read = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.bytes_read += len(chunk)
                self.seen += chunk
                del self.seen[:-200_000]

    def find(self, pattern: re.Pattern[bytes]) -> re.Match[bytes] | None:
        with self._lock:
            return pattern.search(bytes(self.seen))

    def tail(self, chars: int = 1500) -> str:
        """The last ``chars`` of what the app wrote, escape sequences and runs of space folded."""
        with self._lock:
            text = _ANSI_RE.sub(b" ", bytes(self.seen[-max(20_000, chars * 4) :])).decode(errors="replace")
        return re.sub(r"\s+", " ", text)[-chars:]

    def alive(self) -> bool:
        return os.waitpid(self.pid, os.WNOHANG) == (0, 0)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (the demo ends the client, then the worker, then the server), SIGKILL after
        ``timeout``; returns the exit status."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        status: int | None = None
        while time.monotonic() < deadline:
            pid, raw = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(raw)
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        return status


class Observer:
    """A participant in the soak's room that subscribes to nothing and counts transcriptions:
    the user's (what the agent heard) and the agent's (its answers), by the stream's segment."""

    def __init__(self) -> None:
        from livekit import rtc

        self.room = rtc.Room()
        self.heard: set[str] = set()
        self.answered: set[str] = set()
        self.last_answer = ""
        self._tasks: set[asyncio.Task[None]] = set()

    async def join(self, url: str) -> None:
        import aiohttp
        from livekit import rtc

        body = {"room_name": ROOM, "participant_identity": "soak-observer"}
        async with aiohttp.ClientSession() as http:
            answer = await http.post(url.replace("ws://", "http://") + "/token", json=body)
            token = (await answer.json())["participant_token"]
        self.room.register_text_stream_handler("lk.transcription", self._on_stream)
        await self.room.connect(url, token, rtc.RoomOptions(auto_subscribe=False))

    def _on_stream(self, reader: object, identity: str) -> None:
        task = asyncio.create_task(self._read(reader, identity))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, reader: object, identity: str) -> None:
        text = await reader.read_all()  # type: ignore[attr-defined]
        attributes: dict[str, str] = reader.info.attributes or {}  # type: ignore[attr-defined]
        if not text.strip() or attributes.get("lk.transcription_final") == "false":
            return
        segment = attributes.get("lk.segment_id") or reader.info.stream_id  # type: ignore[attr-defined]
        if identity.startswith("soak-user"):
            self.heard.add(segment)
        else:  # the agent's own words
            self.answered.add(segment)
            self.last_answer = text.strip()

    async def leave(self) -> None:
        await self.room.disconnect()


async def question_samples() -> np.ndarray:
    """The question in the demo's own voice, resampled from espeak-ng's 22.05 kHz to the devices' 48."""
    from agent_tui.demo.speech import synthesize

    frame = await synthesize(QUESTION)
    spoken = np.frombuffer(frame.data, dtype=np.int16).astype(np.float64)
    times = np.arange(int(len(spoken) * RATE / frame.sample_rate)) / RATE
    return np.interp(times, np.arange(len(spoken)) / frame.sample_rate, spoken).astype(np.int16)


def summary(samples: list[Sample], warmup_minutes: float, how: str) -> list[str]:
    """The after-warm-up figures, one line per measure, each with its drift and verdict."""
    steady = [s for s in samples if s.minute > warmup_minutes]
    lines = [f"warm-up left out: the first {warmup_minutes:.1f} min ({how}); {len(steady)} samples after it"]
    if len(steady) < 4:
        lines.append("too few samples after the warm-up for a drift (need 4): run longer")
        return lines
    quarter = max(1, len(steady) // 4)
    for label, key in (
        ("client RSS", "client_rss_mb"),
        ("client CPU", "client_cpu"),
        ("worker RSS", "worker_rss_mb"),
        ("worker CPU", "worker_cpu"),
        ("jobs RSS", "jobs_rss_mb"),
        ("jobs CPU", "jobs_cpu"),
    ):
        values = [float(getattr(s, key)) for s in steady]
        first, last = statistics.mean(values[:quarter]), statistics.mean(values[-quarter:])
        drift = (last - first) / first * 100 if first > 0 else float("nan")
        unit = "MB" if key.endswith("mb") else "%"
        verdict = "flat" if abs(drift) <= FLAT_WITHIN else "NOT flat"
        lines.append(
            f"{label:11} min {min(values):7.1f} max {max(values):7.1f} mean {statistics.mean(values):7.1f} "
            f"{unit:2}  drift {drift:+6.1f} % (last quarter vs first) -> {verdict} within {FLAT_WITHIN:g} %"
        )
    return lines


def write_samples(path: Path, samples: list[Sample]) -> None:
    rows = [asdict(sample) for sample in samples]
    if path.suffix == ".json":
        path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        return
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(Sample.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(rows)


def demo_environment(pulse: PulseServer, folder: Path) -> dict[str, str]:
    """The user's environment without agent-tui's or LiveKit's variables (the demo is its own server),
    pointed at the private PulseAudio, with a one-phrase grammar for the agent's recogniser."""
    grammar = folder / "question.jsgf"
    from agent_tui.demo.stt_pocketsphinx import jsgf_from_phrases

    grammar.write_text(jsgf_from_phrases([QUESTION], name="q"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    for key in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "XDG_RUNTIME_DIR"):
        env[key] = pulse.env[key]
    env.update(
        AGENT_TUI_CONFIG="/dev/null",
        AGENT_TUI_DEMO_JSGF=str(grammar),
        AGENT_TUI_NETNS="1",
        TERM="xterm-256color",
        COLUMNS="120",
        LINES="36",
    )
    return env


async def soak(args: argparse.Namespace, pulse: PulseServer, folder: Path) -> int:
    question = await question_samples()
    agent_tui = str(Path(sys.executable).with_name("agent-tui"))
    argv = [agent_tui, "demo", "--room", ROOM, "--identity", "soak-user"]
    argv += ["--input-device", "pulse", "--output-device", "pulse"]
    logs = args.keep_logs or folder
    logs.mkdir(parents=True, exist_ok=True)
    argv += ["--worker-log", str(logs / "worker.log"), "--log-file", str(logs / "client.log")]
    terminal = Terminal(argv, demo_environment(pulse, folder))
    observer = Observer()
    samples: list[Sample] = []
    asked = 0
    players = []
    try:
        started = time.monotonic()
        while (match := terminal.find(_URL_RE)) is None:
            if not terminal.alive() or time.monotonic() - started > START_TIMEOUT_S:
                print(f"bench_soak: the demo did not start its server: {terminal.tail()}", file=sys.stderr)
                return 1
            await asyncio.sleep(0.2)
        url = match.group(1).decode()
        worker = None
        while worker is None:
            worker = next((p for p in children_of(terminal.pid) if "agent_tui.demo" in cmdline(p)), None)
            if time.monotonic() - started > START_TIMEOUT_S:
                print("bench_soak: no demo worker process appeared", file=sys.stderr)
                return 1
            await asyncio.sleep(0.2)
        # The observer must not be the one to create the room: the client's token dispatches the agent
        # when it creates the room, so the observer waits until the app shows the agent listening.
        while "Listening" not in terminal.tail(200_000):
            if not terminal.alive() or time.monotonic() - started > START_TIMEOUT_S:
                print(f"bench_soak: the agent never listened: {terminal.tail()}", file=sys.stderr)
                return 1
            await asyncio.sleep(0.5)
        listening_after = time.monotonic() - started
        await observer.join(url)
        present = sorted(observer.room.remote_participants)
        if "soak-user" not in present or len(present) < 2:
            print(f"bench_soak: the room holds {present}, not the client and the agent", file=sys.stderr)
            return 1
        print(
            f"agent-tui demo pid {terminal.pid} (client + embedded dev server, {url}), worker pid {worker}; "
            f"{args.minutes:g} min, a sample every {args.sample_seconds:g} s, a question every "
            f"{args.ask_every:g} s; the agent listened {listening_after:.1f} s after launch",
            flush=True,
        )
        client, workers, jobs = Group(), Group(), Group()
        client.interval([terminal.pid])
        workers.interval([worker])
        jobs.interval(descendants_of(worker))
        began = last_sample = time.monotonic()
        next_question = began + FIRST_QUESTION_AFTER_S
        end = began + args.minutes * 60
        while time.monotonic() < end:
            await asyncio.sleep(0.5)
            if not terminal.alive():
                print(f"bench_soak: agent-tui demo exited early: {terminal.tail()}", file=sys.stderr)
                return 1
            now = time.monotonic()
            if now >= next_question:
                players = [p for p in players if p.poll() is None]
                players.append(pulse.play_into_mic(question))
                asked += 1
                next_question = now + args.ask_every
            if now - last_sample >= args.sample_seconds:
                wall, last_sample = now - last_sample, now
                client_cpu, client_rss = client.interval([terminal.pid])
                worker_cpu, worker_rss = workers.interval([worker])
                job_pids = descendants_of(worker)
                jobs_cpu, jobs_rss = jobs.interval(job_pids)
                sample = Sample(
                    round((now - began) / 60, 2),
                    round(client_rss, 1), round(client_cpu / wall * 100, 2),
                    round(worker_rss, 1), round(worker_cpu / wall * 100, 2),
                    round(jobs_rss, 1), round(jobs_cpu / wall * 100, 2), len(job_pids),
                    asked, len(observer.heard), len(observer.answered),
                )  # fmt: skip
                samples.append(sample)
                print(
                    f"{sample.minute:6.1f} min  client RSS {sample.client_rss_mb:6.1f} MB CPU "
                    f"{sample.client_cpu:5.1f} %  worker RSS {sample.worker_rss_mb:6.1f} MB CPU "
                    f"{sample.worker_cpu:5.1f} %  jobs({sample.job_processes}) RSS {sample.jobs_rss_mb:6.1f} "
                    f"MB CPU {sample.jobs_cpu:5.1f} %  asked {asked} heard {sample.heard} "
                    f"answered {sample.answered}",
                    flush=True,
                )
    finally:
        for player in players:
            player.terminate()
        with contextlib.suppress(Exception):
            await observer.leave()
        status = terminal.stop()
        if args.out is not None:
            write_samples(args.out, samples)
    if args.warmup_minutes is not None:
        warmup, how = args.warmup_minutes, "--warmup-minutes"
    else:
        warmup, how = args.minutes * 0.1, "10 % of the run"
    print()
    for text in summary(samples, warmup, how):
        print(text)
    print(
        f"conversation: {asked} questions played, {len(observer.heard)} heard by the agent, "
        f"{len(observer.answered)} agent transcriptions (the greeting included); last: "
        f"{observer.last_answer[:80]!r}"
    )
    print(f"the app wrote {terminal.bytes_read / 1e6:.1f} MB to its terminal; agent-tui demo exit {status}")
    if args.out is not None:
        print(f"samples written to {args.out}")
    if not observer.answered:
        print(f"bench_soak: the agent said nothing; the app's screen: {terminal.tail()}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    from bench.bench_devserver import outside_the_namespace

    parser = argparse.ArgumentParser(
        prog="bench_soak", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--minutes", type=float, default=120.0, help="how long the conversation runs")
    parser.add_argument("--sample-seconds", type=float, default=60.0, help="how often RSS and CPU are read")
    parser.add_argument("--ask-every", type=float, default=20.0, help="seconds between spoken questions")
    parser.add_argument(
        "--warmup-minutes",
        type=float,
        default=None,
        help="left out of the summary (default: 10 %% of the run)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the samples here (.csv, or .json)")
    parser.add_argument(
        "--keep-logs",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep the client's and the worker's logs here",
    )
    args = parser.parse_args(argv)
    if outside_the_namespace("bench_soak"):
        return 2
    with tempfile.TemporaryDirectory(prefix="agent-tui-soak-") as root:
        pulse = start_pulse(Path(root))
        try:
            return asyncio.run(soak(args, pulse, Path(root)))
        finally:
            pulse.stop()


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
