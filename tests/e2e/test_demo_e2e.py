"""The demo agent end to end: the real CLI against a real livekit-agents worker, and ``agent-tui demo``.

* text: ``agent-tui --no-ui --json --agent demo --send "what time is it"`` against the dev server and a
  demo worker subprocess: exit 0, the time in the answer, the state sequence in the JSONL;
* voice: a question synthesised with espeak-ng goes in as ``--input-wav``, the demo agent (pocketsphinx
  with a JSGF grammar of questions) hears it and answers, the answer comes out as ``--output-wav`` and is
  recognised with pocketsphinx and a JSGF grammar of spoken times. A grammar, because pocketsphinx's
  general language model misrecognises espeak-ng's voice (audio-and-terminal.md §3) while a grammar is
  exact for the phrases it holds; the grammar holds the expected answer and the times a few minutes
  either side, so a wrong time is heard as a wrong time (not the whole clock: after Opus, "thirteen"
  and "thirty" are too close to tell apart reliably);
* the same through ``agent-tui demo`` (greeting on);
* ``agent-tui demo``: starts, converses, stops with no process left behind; the same after SIGINT during
  start-up or mid-run, SIGTERM, SIGKILL of the demo itself (the worker's lifeline), a crash of the
  worker, and a worker that fails to start.

Every test runs inside ``tests/netns/run`` (WebRTC media needs a non-loopback interface, and nothing may
leave the machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
import wave
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from livekit import rtc

from agent_tui.demo.responder import GREETING_TEXT
from agent_tui.demo.speech import synthesize
from agent_tui.demo.stt_pocketsphinx import PocketsphinxSTT, jsgf_from_phrases
from agent_tui.demo.supervisor import WorkerProcess
from agent_tui.devserver import DEFAULT_API_SECRET
from tests.e2e.e2e_harness import DemoServer, LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))
QUESTION = "what time is it"
#: What the worker's STT may hear in these tests (exact recognition of synthesised speech).
QUESTIONS = (QUESTION, "hello", "help", "goodbye")
ANSWER_RE = re.compile(r"^The time is (\d\d):(\d\d)\.$")

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
#: How many minutes either side of the expected answer the answer grammar also holds: enough near misses
#: that a wrong time would be heard as one, few enough to leave out the words pocketsphinx confuses
#: across the whole clock ("thirteen" and "thirty" after Opus).
NEAR_MISSES = 3


def number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens = next(word for word, value in _TENS.items() if value == n // 10 * 10)
    return tens if n % 10 == 0 else f"{tens} {_ONES[n % 10]}"


def time_words(hhmm: str) -> str:
    """How espeak-ng reads "the time is HH:MM.": "14:05" is "fourteen zero five", "09:00" "nine zero
    zero", "00:30" "zero thirty", "01:10" "one ten" (checked with ``espeak-ng -x``)."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    if minute == 0:
        minutes = "zero zero"
    elif minute < 10:
        minutes = f"zero {_ONES[minute]}"
    else:
        minutes = number_words(minute)
    return f"the time is {number_words(hour)} {minutes}"


def answer_phrases(hhmm: str) -> dict[str, str]:
    """The spoken answers for ``hhmm`` and the times around it, as phrase → ``HH:MM``."""
    base = datetime.strptime(hhmm, "%H:%M")
    times = [(base + timedelta(minutes=d)).strftime("%H:%M") for d in range(-NEAR_MISSES, NEAR_MISSES + 1)]
    return {time_words(t): t for t in times}


async def recognise_time(audio: rtc.AudioFrame, expected: str) -> str | None:
    """The ``HH:MM`` pocketsphinx hears in ``audio``, among ``expected`` and its near misses (None: none of
    them)."""
    phrases = answer_phrases(expected)
    stt = PocketsphinxSTT(grammar=jsgf_from_phrases(phrases, name="answer"))
    event = await stt.recognize(audio)
    words = event.alternatives[0].text if event.alternatives else ""
    return phrases.get(words)


# -- helpers --------------------------------------------------------------------------------------------
def cli_env(server: LiveServer | None = None) -> dict[str, str]:
    """The environment of a user with no agent-tui settings and no config file, and the key pair of
    ``server`` if given (else none: the demo needs none)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(AGENT_TUI_CONFIG="/dev/null")
    if server is not None:
        env.update(LIVEKIT_API_KEY=server.api_key, LIVEKIT_API_SECRET=server.api_secret)
    return env


async def run_cli(
    server: LiveServer, *args: str, within_s: float = 90
) -> tuple[int, list[dict[str, Any]], str]:
    """Run ``agent-tui`` against ``server`` to its end; returns the exit code, JSONL records and stderr."""
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, *args, env=cli_env(server), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=within_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, [json.loads(line) for line in out.decode().splitlines()], err.decode()


def messages(records: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(r["speaker"], r["kind"], r["text"]) for r in records if r["type"] == "message"]


def agent_answer(records: list[dict[str, Any]]) -> tuple[str, datetime]:
    """The agent's time answer and when it arrived."""
    answers = [r for r in records if r["type"] == "message" and r["speaker"] == "agent"]
    assert answers, f"no agent message in {messages(records)}"
    answer = answers[-1]
    assert ANSWER_RE.match(answer["text"]), answer["text"]
    return answer["text"], datetime.fromisoformat(answer["ts"].replace("Z", "+00:00"))


def assert_is_the_time(answer: str, at: datetime) -> None:
    """``answer`` gives the local time at ``at`` (or a minute either side: the clock may have ticked)."""
    match = ANSWER_RE.match(answer)
    assert match is not None, answer
    local = at.astimezone()
    allowed = {(local + timedelta(minutes=d)).strftime("%H:%M") for d in (-1, 0, 1)}
    assert f"{match[1]}:{match[2]}" in allowed, (answer, sorted(allowed))


def assert_state_sequence(records: list[dict[str, Any]]) -> None:
    """The agent went listening → thinking → speaking → listening, and the run ended with exit 0."""
    states = [r["state"] for r in records if r["type"] == "agent_state"]
    wanted = ["listening", "thinking", "speaking", "listening"]
    position = 0
    for state in states:
        if position < len(wanted) and state == wanted[position]:
            position += 1
    assert position == len(wanted), states
    assert records[-1]["type"] == "end" and records[-1]["exit_code"] == 0, records[-1]


def write_wav(path: Path, frame: rtc.AudioFrame, *, lead_s: float = 0.3, tail_s: float = 0.5) -> Path:
    samples = np.frombuffer(frame.data, dtype=np.int16)
    rate = frame.sample_rate
    padded = np.concatenate(
        [np.zeros(int(lead_s * rate), np.int16), samples, np.zeros(int(tail_s * rate), np.int16)]
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(padded.tobytes())
    return path


def read_wav(path: Path) -> rtc.AudioFrame:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        channels, rate, count = wav.getnchannels(), wav.getframerate(), wav.getnframes()
        data = wav.readframes(count)
    return rtc.AudioFrame(data, rate, channels, count)


def last_utterance(frame: rtc.AudioFrame, *, gap_s: float = 1.0, pad_s: float = 0.3) -> rtc.AudioFrame:
    """The last stretch of sound in a mono ``frame`` that follows at least ``gap_s`` of silence.

    espeak-ng pauses about 0.3 s between sentences, so a one-second gap separates utterances."""
    samples = np.frombuffer(frame.data, dtype=np.int16)
    rate = frame.sample_rate
    block = rate // 50  # 20 ms
    levels = [
        float(np.sqrt(np.mean(samples[i : i + block].astype(np.float64) ** 2)))
        for i in range(0, len(samples) - block + 1, block)
    ]
    voiced = [i for i, level in enumerate(levels) if level > 300.0]
    assert voiced, "the recording is silent"
    start = voiced[-1]
    for earlier in reversed(voiced[:-1]):
        if (start - earlier) * block >= gap_s * rate:
            break
        start = earlier
    first = max(0, start * block - int(pad_s * rate))
    last = min(len(samples), (voiced[-1] + 1) * block + int(pad_s * rate))
    clip = samples[first:last].copy()
    return rtc.AudioFrame(clip.tobytes(), rate, 1, len(clip))


# -- a demo worker for the plain CLI --------------------------------------------------------------------
@pytest.fixture
async def demo_worker(server: LiveServer, tmp_path: Path) -> AsyncIterator[WorkerProcess]:
    """``python -m agent_tui.demo start --no-greeting --jsgf QUESTIONS`` registered with the server."""
    grammar = tmp_path / "questions.jsgf"
    grammar.write_text(jsgf_from_phrases(QUESTIONS, name="questions"), encoding="utf-8")
    worker = WorkerProcess(
        url=server.url,
        api_key=server.api_key,
        api_secret=server.api_secret,
        agent_name="demo",
        extra_args=["--no-greeting", "--jsgf", str(grammar)],
        log_path=tmp_path / "worker.log",
    )
    try:
        await worker.start()
        await worker.wait_registered(60)
        yield worker
    finally:
        await worker.stop()


async def test_text_question_gets_the_time_with_the_state_sequence(
    server: LiveServer, demo_worker: WorkerProcess, tmp_path: Path
) -> None:
    transcript = tmp_path / "transcript.jsonl"
    code, records, err = await run_cli(
        server, "--no-ui", "--json", "--text-only", "--url", server.url, "--agent", "demo",
        "--send", QUESTION, "--transcript", str(transcript),
    )  # fmt: skip
    assert code == 0, err
    answer, at = agent_answer(records)
    assert_is_the_time(answer, at)
    said = messages(records)
    assert said.index(("user", "chat", QUESTION)) < said.index(("agent", "transcript", answer))
    assert_state_sequence(records)
    # The answer came from the agent's get_time tool, executed by the framework.
    assert [r["name"] for r in records if r["type"] == "tool_call"] == ["get_time"]
    saved = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert [(m["speaker"], m["text"]) for m in saved] == [("user", QUESTION), ("agent", answer)]


async def test_spoken_question_is_heard_and_the_spoken_answer_recognised(
    server: LiveServer, demo_worker: WorkerProcess, tmp_path: Path
) -> None:
    question = write_wav(tmp_path / "question.wav", await synthesize(QUESTION))
    answer_wav = tmp_path / "answer.wav"
    transcript = tmp_path / "transcript.jsonl"
    started = time.monotonic()
    code, records, err = await run_cli(
        server, "--no-ui", "--json", "--url", server.url, "--agent", "demo",
        "--input-wav", str(question), "--output-wav", str(answer_wav), "--transcript", str(transcript),
    )  # fmt: skip
    round_trip = time.monotonic() - started
    assert code == 0, err
    said = messages(records)
    assert ("user", "transcript", QUESTION) in said, said
    answer, at = agent_answer(records)
    assert_is_the_time(answer, at)
    assert_state_sequence(records)

    match = ANSWER_RE.match(answer)
    assert match is not None
    expected = f"{match[1]}:{match[2]}"
    assert await recognise_time(read_wav(answer_wav), expected) == expected, answer

    saved = [(m["speaker"], m["text"]) for m in map(json.loads, transcript.read_text().splitlines())]
    assert saved == [("user", QUESTION), ("agent", answer)]
    heard_at = next(r["ts"] for r in records if r["type"] == "message" and r["speaker"] == "user")
    speaking_at = next(r["ts"] for r in records if r["type"] == "agent_state" and r["state"] == "speaking")
    reply_s = (_when(speaking_at) - _when(heard_at)).total_seconds()
    print(f"voice: question transcribed → answer audio {reply_s:.2f} s; CLI start to exit {round_trip:.1f} s")


def _when(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


# -- agent-tui demo -------------------------------------------------------------------------------------
class DemoRun:
    """``agent-tui demo …`` as a child process, with every process it starts recorded while it runs."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self.seen: dict[int, tuple[float, str]] = {}  # pid -> (create time, command line)
        self.worker_pid: int | None = None
        self._changed = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._read(process.stdout, self.stdout_lines)),
            asyncio.create_task(self._read(process.stderr, self.stderr_lines)),
            asyncio.create_task(self._watch_tree()),
        ]

    @classmethod
    async def start(cls, *args: str, env: dict[str, str] | None = None) -> DemoRun:
        process = await asyncio.create_subprocess_exec(
            AGENT_TUI, "demo", *args,
            env={**cli_env(), **(env or {})}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout_lines]

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    async def wait_for(self, condition: Callable[[], bool], what: str, within_s: float = 60) -> None:
        deadline = time.monotonic() + within_s
        while not condition():
            if self.process.returncode is not None:
                await asyncio.sleep(0.2)  # let the readers catch up, then look once more
                if condition():
                    return
                pytest.fail(f"the demo exited ({self.process.returncode}) before {what}:\n{self.stderr}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"timed out waiting for {what}:\n{self.stderr}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def finish(self, within_s: float = 60) -> int:
        try:
            code = await asyncio.wait_for(self.process.wait(), within_s)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            for task in self._tasks[:2]:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(task, 5)
            self._tasks[2].cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        return code

    def survivors(self) -> list[str]:
        """Every process the demo started that still runs (zombies do not count: they are gone, only not
        yet reaped), plus anything still in the worker's process group."""
        alive = []
        for pid, (created, cmdline) in self.seen.items():
            with contextlib.suppress(psutil.NoSuchProcess):
                process = psutil.Process(pid)
                if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid}: {cmdline}")
        if self.worker_pid is not None:
            for process in psutil.process_iter(["pid", "cmdline", "status"]):
                with contextlib.suppress(ProcessLookupError, psutil.Error):
                    if (
                        os.getpgid(process.pid) == self.worker_pid
                        and process.info["status"] != psutil.STATUS_ZOMBIE
                    ):
                        alive.append(f"{process.pid} (worker's group): {process.info['cmdline']}")
        return sorted(set(alive))

    async def assert_no_survivors(self, within_s: float = 10) -> None:
        """Nothing the demo started is left (allowing a moment for the lifeline's kill to land)."""
        assert self.seen, "no child process was ever seen"
        deadline = time.monotonic() + within_s
        left = self.survivors()
        for _ in range(int(within_s / 0.1)):
            if not left or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
            left = self.survivors()
        assert not left, left

    async def _read(self, stream: asyncio.StreamReader | None, into: list[str]) -> None:
        assert stream is not None
        async for raw in stream:
            into.append(raw.decode(errors="replace").rstrip("\n"))
            self._changed.set()

    async def _watch_tree(self) -> None:
        """Record every descendant, often enough to catch short-lived job processes."""
        try:
            root = psutil.Process(self.process.pid)
        except psutil.NoSuchProcess:
            return
        while True:
            with contextlib.suppress(psutil.Error):
                for child in root.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        if child.pid not in self.seen:
                            cmdline = " ".join(child.cmdline())
                            self.seen[child.pid] = (child.create_time(), cmdline)
                            if "agent_tui.demo" in cmdline and self.worker_pid is None:
                                self.worker_pid = child.pid
            await asyncio.sleep(0.05)


def demo_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["--json", "--text-only", "--worker-log", str(tmp_path / "demo-worker.log"), *extra]


def agent_listening(run: DemoRun) -> Callable[[], bool]:
    return lambda: any(r.get("state") == "listening" for r in run.records if r["type"] == "agent_state")


async def test_demo_starts_converses_and_stops_with_nothing_left_behind(
    tmp_path: Path, demo_server: DemoServer
) -> None:
    started = time.monotonic()
    run = await DemoRun.start(*demo_args(tmp_path, "--send", QUESTION, *demo_server.args))
    await run.wait_for(agent_listening(run), "the agent to listen")
    listening_after = time.monotonic() - started
    code = await run.finish()
    total = time.monotonic() - started
    assert code == 0, run.stderr
    answer, at = agent_answer(run.records)
    assert_is_the_time(answer, at)
    assert_state_sequence(run.records)
    # The progress lines and the reminder, on stderr (stdout is the client's JSONL only).
    err = run.stderr
    assert "all run on this machine" in err and "--url wss://" in err and "--token-endpoint" in err
    assert re.search(rf"starting {demo_server.name}… ok \(ws://127\.0\.0\.1:\d+\)", err), err
    assert re.search(r"starting the demo agent .*… registered as 'demo'", err), err
    assert "stopping the demo agent… ok (" in err and f"stopping {demo_server.name}… ok (" in err
    log = (tmp_path / "demo-worker.log").read_text()
    assert "agent-tui demo: worker registered agent_name=demo" in log
    assert DEFAULT_API_SECRET not in err
    await run.assert_no_survivors()
    print(f"demo: agent listening after {listening_after:.1f} s, whole run {total:.1f} s")


async def test_demo_voice_end_to_end(tmp_path: Path, demo_server: DemoServer) -> None:
    """``agent-tui demo`` with voice: greeting on, the question in a WAV, the answer to a WAV. The worker
    is given the questions' grammar through the environment (``AGENT_TUI_DEMO_JSGF`` reaches it like any
    ``AGENT_TUI_DEMO_*`` setting): its default general language model hears espeak-ng's "what time is it"
    as "well i visit" now and then. The question comes after the greeting (about 6 s of speech), as a
    person would ask it."""
    grammar = tmp_path / "questions.jsgf"
    grammar.write_text(jsgf_from_phrases(QUESTIONS, name="questions"), encoding="utf-8")
    question = write_wav(tmp_path / "question.wav", await synthesize(QUESTION), lead_s=8.0)
    answer_wav = tmp_path / "answer.wav"
    run = await DemoRun.start(
        "--json", "--worker-log", str(tmp_path / "demo-worker.log"),
        "--input-wav", str(question), "--output-wav", str(answer_wav), *demo_server.args,
        env={"AGENT_TUI_DEMO_JSGF": str(grammar)},
    )  # fmt: skip
    code = await run.finish(within_s=90)
    assert code == 0, run.stderr
    said = messages(run.records)
    assert said[0] == ("agent", "transcript", GREETING_TEXT), said
    assert ("user", "transcript", QUESTION) in said, said
    answer, at = agent_answer(run.records)
    assert_is_the_time(answer, at)
    match = ANSWER_RE.match(answer)
    assert match is not None
    expected = f"{match[1]}:{match[2]}"
    # The recording holds the greeting too; the answer is its last utterance.
    assert await recognise_time(last_utterance(read_wav(answer_wav)), expected) == expected, answer
    await run.assert_no_survivors()


@pytest.mark.parametrize("when", ["during start-up", "mid-run"])
async def test_sigint_stops_everything_with_exit_130(tmp_path: Path, when: str) -> None:
    run = await DemoRun.start(*demo_args(tmp_path))  # no --send: it would run until stopped
    if when == "during start-up":
        await run.wait_for(lambda: run.worker_pid is not None, "the worker to start")
    else:
        await run.wait_for(agent_listening(run), "the agent to listen")
    run.process.send_signal(signal.SIGINT)
    code = await run.finish()
    assert code == 130, run.stderr
    if when == "mid-run":
        assert run.records[-1]["type"] == "end" and run.records[-1]["exit_code"] == 130
    else:
        assert "registered as" not in run.stderr and "interrupted" in run.stderr
    assert "stopping the demo agent… ok (" in run.stderr
    await run.assert_no_survivors()


async def test_sigterm_mid_run_exits_143(tmp_path: Path, demo_server: DemoServer) -> None:
    run = await DemoRun.start(*demo_args(tmp_path, *demo_server.args))
    await run.wait_for(agent_listening(run), "the agent to listen")
    run.process.send_signal(signal.SIGTERM)
    assert await run.finish() == 143, run.stderr
    await run.assert_no_survivors()


async def test_a_killed_demo_takes_its_worker_with_it(tmp_path: Path, demo_server: DemoServer) -> None:
    run = await DemoRun.start(*demo_args(tmp_path, *demo_server.args))
    await run.wait_for(agent_listening(run), "the agent to listen")
    assert run.worker_pid is not None
    run.process.kill()  # no handler runs: only the worker's stdin lifeline can clean up
    assert await run.finish() == -signal.SIGKILL
    await run.assert_no_survivors()


async def test_a_crashed_worker_ends_the_run_with_agent_left(tmp_path: Path, demo_server: DemoServer) -> None:
    run = await DemoRun.start(*demo_args(tmp_path, *demo_server.args))
    await run.wait_for(agent_listening(run), "the agent to listen")
    assert run.worker_pid is not None
    os.kill(run.worker_pid, signal.SIGKILL)  # the worker alone, as a crash; its job process lives on
    code = await run.finish()
    assert code == 6, run.stderr
    assert "the demo agent stopped unexpectedly (killed by SIGKILL)" in run.stderr
    await run.assert_no_survivors()


async def test_a_worker_that_cannot_start_is_exit_5_in_one_line(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, "demo", *demo_args(tmp_path, "--send", QUESTION),
        env={**cli_env(), "AGENT_TUI_DEMO_RATE": "fast"},  # the worker rejects it and exits 2
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode == 5, err.decode()
    errors = [line for line in err.decode().splitlines() if line.startswith("agent-tui demo: the demo agent")]
    assert len(errors) == 1, err.decode()
    assert "exited during start-up (exit code 2)" in errors[0] and "'fast'" in errors[0], errors[0]
    assert out == b""


async def test_the_demo_starts_and_answers_on_a_machine_whose_cpu_is_busy(
    tmp_path: Path, demo_server: DemoServer
) -> None:
    """A first run shares the machine with cold caches and compilers: with every core busy the demo
    agent still takes the job (it used to report itself full by CPU and the client saw "did not join")."""
    burners = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", "while True: pass")
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        run = await DemoRun.start(*demo_args(tmp_path, "--send", QUESTION, *demo_server.args))
        code = await run.finish(within_s=120)
    finally:
        for burner in burners:
            burner.kill()
            await burner.wait()
    assert code == 0, run.stderr
    answer, at = agent_answer(run.records)
    assert_is_the_time(answer, at)
    await run.assert_no_survivors()
