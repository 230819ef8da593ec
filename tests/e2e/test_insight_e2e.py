"""Agent insight end to end against the demo agent, a real livekit-agents 1.8.9 worker, on the dev server.

What the agent's session stream (``lk.agent.session``) gives a client, checked where the user sees it:

- a typed "what time is it" makes the demo's LLM call its ``get_time`` function tool: the CLI's ``--json``
  shows ``tool_call`` and ``tool_result`` (with the time the agent then says) and ``turn_metrics``, and
  ``--metrics`` writes the turn's figures;
- a client that joins after a turn sees that turn in its transcript, from the history it fetched on join,
  with the ``get_time`` call and its result between the question and the answer (and a late ``--json``
  run writes them as ``tool_call`` / ``tool_result`` lines marked ``from_history``);
- text mode stops the agent's audio (no energy on its track while it answers) and turning it off brings
  the voice back;
- a spoken question (espeak-ng WAV through the audio engine) gives a client-measured latency between the
  agent's own ``e2e`` figure and the wall time of the turn.

Every test starts its own worker (3-8 s); the worker and its job processes are killed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import math
import os
import re
import signal
import sys
import time
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from livekit import rtc

from agent_tui.audio.engine import AudioEngine
from agent_tui.audio.session_bridge import SessionAudioBridge
from agent_tui.audio.settings import AudioSettings
from agent_tui.audio.wav_io import load_wav
from agent_tui.demo.responder import HELLO_REPLY_TEXT
from agent_tui.demo.speech import synthesize
from agent_tui.demo.stt_pocketsphinx import jsgf_from_phrases
from agent_tui.session import (
    AgentState,
    CachingTokenSource,
    LocalTokenSource,
    MessageChanged,
    Session,
    SessionEvent,
    SessionOptions,
    Speaker,
)
from agent_tui.session.agent_stream.events import (
    AgentFramework,
    AgentInfo,
    ChatHistory,
    ChatMessageItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    ToolCall,
    ToolResult,
    TurnMetrics,
    VoiceLatency,
)
from agent_tui.session.voice_latency import VoiceLatencyConfig, dbfs_to_linear
from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_harness import LiveServer
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))
AGENT_NAME = "demo-insight"
ROOM = "insight-room"
QUESTION = "what time is it"
TIME_ANSWER = re.compile(r"^The time is (\d\d:\d\d)\.$")
#: Louder than this (RMS, dBFS) is the agent speaking; espeak-ng's speech sits around -20 dBFS.
AUDIBLE_DBFS = -40.0
#: Quieter than this everywhere is silence: the decoded track of an agent that sends nothing.
SILENT_DBFS = -60.0

_E = TypeVar("_E", bound=SessionEvent)


# -- fixtures and helpers ---------------------------------------------------------------------------------
@pytest.fixture
async def worker(server: LiveServer, tmp_path: Path) -> AsyncIterator[DemoWorker]:
    """The demo worker, no greeting (so the agent's track is silent until asked), with a grammar that
    makes pocketsphinx hear the spoken question exactly."""
    grammar = tmp_path / "questions.jsgf"
    grammar.write_text(jsgf_from_phrases([QUESTION, "hello"]), encoding="utf-8")
    async with DemoWorker(
        server.url,
        AGENT_NAME,
        extra_args=("--no-greeting", "--jsgf", str(grammar)),
        api_key=server.api_key,
        api_secret=server.api_secret,
    ) as demo_worker:
        yield demo_worker


def tokens(server: LiveServer) -> CachingTokenSource:
    return CachingTokenSource(LocalTokenSource(server.url, server.api_key, server.api_secret))


def session_for(
    server: LiveServer, identity: str, *, dispatch: bool = True, microphone: rtc.AudioSource | None = None
) -> Session:
    options = SessionOptions(
        agent_name=AGENT_NAME if dispatch else None,
        room_name=ROOM,
        participant_identity=identity,
        agent_connect_timeout=40.0,
    )
    if microphone is None:
        return Session(tokens(server), options)
    return Session(tokens(server), options, microphone=microphone, preconnect_buffer=False)


def record(session: Session) -> list[SessionEvent]:
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    return events


def of_type(events: list[SessionEvent], kind: type[_E]) -> list[_E]:
    return [e for e in events if isinstance(e, kind)]


def agent_finals(session: Session) -> list[str]:
    return [m.text for m in session.messages if m.speaker is Speaker.AGENT and m.final]


async def ask(session: Session, text: str, answered: Callable[[str], bool]) -> str:
    """Send ``text`` as chat and return the agent's next final message that satisfies ``answered``."""
    before = len(agent_finals(session))
    await session.send_chat(text)

    def answer() -> str | None:
        return next((t for t in agent_finals(session)[before:] if answered(t)), None)

    await wait_until(lambda: answer() is not None, what=f"the answer to {text!r}", within_s=30)
    found = answer()
    assert found is not None
    return found


async def until_listening(session: Session) -> None:
    await wait_until(
        lambda: session.agent_state is AgentState.LISTENING, what="the agent to listen again", within_s=30
    )


def dbfs(rms: float) -> float:
    return 20.0 * math.log10(rms) if rms > 0 else -math.inf


class TrackEnergy:
    """The RMS of every frame the agent's track delivers to us, with its arrival time (monotonic)."""

    def __init__(self, track: rtc.Track) -> None:
        self._stream = rtc.AudioStream(track, sample_rate=48000, num_channels=1)
        self.frames: list[tuple[float, float]] = []
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for event in self._stream:
            samples = np.frombuffer(event.frame.data, dtype=np.int16).astype(np.float64)
            rms = float(np.sqrt(np.mean(samples**2))) / 32768.0 if len(samples) else 0.0
            self.frames.append((time.monotonic(), rms))

    def loudest_dbfs(self, start: float, end: float) -> float:
        """The loudest frame received in [start, end]; fails if no frame arrived (nothing to judge)."""
        window = [rms for at, rms in self.frames if start <= at <= end]
        assert window, "no audio frames arrived from the agent's track in the window"
        return dbfs(max(window))

    async def quiet_for(self, seconds: float, *, within_s: float = 20.0) -> None:
        """Until the track has been below AUDIBLE_DBFS for ``seconds`` (a reply's audio has drained)."""

        def quiet() -> bool:
            now = time.monotonic()
            recent = [rms for at, rms in self.frames if at >= now - seconds]
            started = bool(self.frames) and self.frames[0][0] <= now - seconds
            return started and all(dbfs(rms) < AUDIBLE_DBFS for rms in recent)

        await wait_until(quiet, what=f"{seconds:g} s of quiet on the agent's track", within_s=within_s)

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._stream.aclose()


def cli_env(server: LiveServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(
        LIVEKIT_API_KEY=server.api_key,
        LIVEKIT_API_SECRET=server.api_secret,
        AGENT_TUI_CONFIG="/dev/null",
        PYTHONUNBUFFERED="1",
    )
    return env


# -- (1) a tool call, through the CLI ---------------------------------------------------------------------
async def test_cli_json_shows_the_get_time_call_its_result_and_the_turns_metrics(
    server: LiveServer, worker: DemoWorker, tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics.csv"
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, "--no-ui", "--json", "--url", server.url, "--room", ROOM, "--agent", AGENT_NAME,
        "--no-audio", "--agent-timeout", "45", "--send", QUESTION, "--send", "hello",
        "--metrics", str(metrics),
        env=cli_env(server), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    records = [json.loads(line) for line in out.decode().splitlines()]
    types = [r["type"] for r in records]

    [call] = [r for r in records if r["type"] == "tool_call"]
    [result] = [r for r in records if r["type"] == "tool_result"]
    assert call["name"] == "get_time" and json.loads(call["arguments"] or "{}") == {}
    assert result["call_id"] == call["call_id"] and result["name"] == "get_time"
    assert not result["is_error"] and re.fullmatch(r"\d\d:\d\d", result["output"])
    answers = [r["text"] for r in records if r["type"] == "message" and r["speaker"] == "agent"]
    assert f"The time is {result['output']}." in answers
    # the call is announced before its result, and both before the spoken answer's final text
    answer_index = next(
        i for i, r in enumerate(records) if r["type"] == "message" and r["text"].startswith("The time is")
    )
    assert types.index("tool_call") < types.index("tool_result") < answer_index

    # The agent's own figures for the reply. They come with the reply's conversation item, which the agent
    # commits after its speech ends, at about the time it listens again: the second --send keeps the run
    # going until they are in (with one --send, ``--exit-when idle`` may end the run first).
    replies = [r for r in records if r["type"] == "turn_metrics" and r["role"] == "assistant"]
    assert replies, "\n".join(
        f"{r['type']} {r.get('role') or r.get('state') or r.get('text') or ''}" for r in records
    )
    assert any(r["metrics"]["llm_ttft_ms"] is not None and r["metrics"]["llm_ttft_ms"] >= 0 for r in replies)
    assert any(r["metrics"]["tts_ttfb_ms"] is not None and r["metrics"]["tts_ttfb_ms"] > 0 for r in replies)

    # what the agent says about itself, fetched once it answered the ping
    [info] = [r for r in records if r["type"] == "agent_info"]
    assert "get_time" in info["tools"]
    [framework] = [r for r in records if r["type"] == "agent_framework"]
    assert framework["sdk"] == "python" and framework["sdk_version"] == "1.8.9"

    with metrics.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, "the --metrics file has no rows"
    figures = [(r["metrics"]["llm_ttft_ms"], r["metrics"]["tts_ttfb_ms"]) for r in replies]
    print(f"\ntyped turns, agent-reported (llm ttft ms, tts ttfb ms): {figures}")


# -- (1) and (2): typed events, and the history a later client fetches --------------------------------------
async def test_a_client_joining_after_a_turn_sees_it_from_the_fetched_history(
    server: LiveServer, worker: DemoWorker
) -> None:
    first = session_for(server, "user-1")
    first_events = record(first)
    late = session_for(server, "user-2", dispatch=False)
    late_events = record(late)
    try:
        await first.start()
        await wait_until(lambda: first.insight.available, what="the session stream ping", within_s=15)
        answer = await ask(first, QUESTION, lambda t: TIME_ANSWER.match(t) is not None)
        await wait_until(
            lambda: any(m.role == "assistant" for m in of_type(first_events, TurnMetrics)),
            what="the reply's metrics",
            within_s=30,
        )
        [call] = of_type(first_events, ToolCall)
        [result] = of_type(first_events, ToolResult)
        assert (call.name, result.name, result.call_id) == ("get_time", "get_time", call.call_id)
        match = TIME_ANSWER.match(answer)
        assert match is not None and result.output == match.group(1)
        [info] = of_type(first_events, AgentInfo)
        assert info.tools == ("get_time",) or "get_time" in info.tools
        assert of_type(first_events, AgentFramework)[0].sdk_version == "1.8.9"
        await until_listening(first)

        # A second client, no dispatch of its own: it finds the agent in the room and asks what was said.
        await late.start()
        await wait_until(
            lambda: any(e.items for e in of_type(late_events, ChatHistory)),
            what="the late client's history",
            within_s=15,
        )
        history = next(e for e in of_type(late_events, ChatHistory) if e.items)
        said = [(i.role, i.text) for i in history.items if isinstance(i, ChatMessageItem)]
        assert ("user", QUESTION) in said and ("assistant", answer) in said
        assert [i.name for i in history.items if isinstance(i, FunctionCallItem)] == ["get_time"]
        [output] = [i for i in history.items if isinstance(i, FunctionCallOutputItem)]
        assert output.output == result.output
        # ... merged into its transcript, in the order it happened, though it never saw them live
        transcript = [(m.speaker, m.text) for m in late.messages]
        assert transcript.index((Speaker.USER, QUESTION)) < transcript.index((Speaker.AGENT, answer))
        # ... with the tool call from the history, once, with its result, between the question and the answer
        [late_call] = of_type(late_events, ToolCall)
        [late_result] = of_type(late_events, ToolResult)
        assert late_call.from_history and late_result.from_history  # it saw no live tool event
        assert (late_call.call_id, late_call.name) == (call.call_id, "get_time")
        assert json.loads(late_call.arguments or "{}") == json.loads(call.arguments or "{}")
        assert (late_result.call_id, late_result.output) == (call.call_id, result.output)
        assert not late_result.is_error
        merged = [
            e.message.text if isinstance(e, MessageChanged) else type(e).__name__
            for e in late_events
            if isinstance(e, MessageChanged | ToolCall | ToolResult)
        ]
        assert (
            merged.index(QUESTION)
            < merged.index("ToolCall")
            < merged.index("ToolResult")
            < merged.index(answer)
        )

        # A late headless run writes the same call as JSON Lines, marked as coming from the history.
        records = await late_json_run(server, "user-3")
        [history_call] = [r for r in records if r["type"] == "tool_call"]
        [history_result] = [r for r in records if r["type"] == "tool_result"]
        assert history_call["from_history"] and history_result["from_history"]
        assert (history_call["call_id"], history_call["name"]) == (call.call_id, "get_time")
        assert (history_result["call_id"], history_result["output"]) == (call.call_id, result.output)
        order = [r["text"] if r["type"] == "message" else r["type"] for r in records]
        assert (
            order.index("chat_history")
            < order.index(QUESTION)
            < order.index("tool_call")
            < order.index("tool_result")
            < order.index(answer)
        )
    finally:
        await late.end()
        await first.end()


async def late_json_run(server: LiveServer, identity: str) -> list[dict[str, object]]:
    """``agent-tui --json`` joining the room without a dispatch of its own, until it has written the
    history's ``tool_result`` (or 30 s passed); then SIGINT, and every line it wrote."""
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, "--json", "--url", server.url, "--room", ROOM, "--identity", identity, "--no-audio",
        "--exit-when", "never",
        env=cli_env(server), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[bytes] = []

    async def until_the_result() -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            lines.append(line)
            if json.loads(line)["type"] == "tool_result":
                return

    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until_the_result(), timeout=30)
        with contextlib.suppress(ProcessLookupError):  # already gone: its lines say why
            process.send_signal(signal.SIGINT)
        rest, err = await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    records = [json.loads(line) for line in [*lines, *rest.splitlines()]]
    assert records and records[-1]["type"] == "end", err.decode()
    return records


# -- (3) text mode ----------------------------------------------------------------------------------------
async def test_text_mode_silences_the_agents_audio_and_turning_it_off_brings_it_back(
    server: LiveServer, worker: DemoWorker
) -> None:
    session = session_for(server, "user-1")
    energy: TrackEnergy | None = None
    try:
        await session.start()
        await wait_until(lambda: session.insight.available, what="the session stream ping", within_s=15)
        await wait_until(lambda: session.agent_audio_track is not None, what="the agent's audio track")
        track = session.agent_audio_track
        assert track is not None
        energy = TrackEnergy(track)
        await wait_until(lambda: bool(energy and energy.frames), what="frames from the agent's track")

        # Voice: the answer is heard.
        start = time.monotonic()
        await ask(session, "hello", lambda t: t == HELLO_REPLY_TEXT)
        await until_listening(session)
        await energy.quiet_for(0.5)
        voiced = energy.loudest_dbfs(start, time.monotonic())
        assert voiced > AUDIBLE_DBFS, f"the spoken answer peaked at {voiced:.1f} dBFS"

        # Text mode: the answer arrives as text, and the track stays silent throughout.
        await session.insight.set_text_mode(True)
        start = time.monotonic()
        await ask(session, QUESTION, lambda t: TIME_ANSWER.match(t) is not None)
        await until_listening(session)
        await asyncio.sleep(1.5)  # TTS would have produced its first audio long before this
        silent = energy.loudest_dbfs(start, time.monotonic())
        assert silent < SILENT_DBFS, f"text mode, yet the agent's track reached {silent:.1f} dBFS"

        # Voice again.
        await session.insight.set_text_mode(False)
        start = time.monotonic()
        await ask(session, "hello", lambda t: t == HELLO_REPLY_TEXT)
        await until_listening(session)
        await energy.quiet_for(0.5)
        again = energy.loudest_dbfs(start, time.monotonic())
        assert again > AUDIBLE_DBFS, f"voice mode again, yet the answer peaked at {again:.1f} dBFS"
        print(f"\nagent track peak: voice {voiced:.1f} dBFS, text mode {silent:.1f}, voice again {again:.1f}")
    finally:
        if energy is not None:
            await energy.aclose()
        await session.end()


# -- (4) a spoken turn's latency --------------------------------------------------------------------------
def last_loud_offset_s(path: Path, rate: int = 48000) -> float:
    """Where, in the WAV as the engine sends it (10 ms frames at ``rate``), the last frame the meter calls
    speech starts: the meter's end of the user's turn, relative to the WAV's first sample."""
    samples = load_wav(path, rate).astype(np.float64)
    size = rate // 100
    threshold = dbfs_to_linear(VoiceLatencyConfig().speech_threshold_dbfs)
    loud = [
        index
        for index in range(0, len(samples) // size + 1)
        if len(chunk := samples[index * size : (index + 1) * size])
        and np.sqrt(np.mean(chunk**2)) / 32768.0 >= threshold
    ]
    assert loud, "the question WAV has no frame above the speech threshold"
    return loud[-1] * size / rate


async def test_a_spoken_turns_measured_latency_lies_between_the_agents_e2e_and_the_turns_wall_time(
    server: LiveServer, worker: DemoWorker, tmp_path: Path
) -> None:
    """The bound, from what each figure measures (times on this process's monotonic clock, unless said):

    * ``latency_ms`` (:mod:`agent_tui.session.voice_latency`) runs from the moment the engine *sent* the
      WAV's last 10 ms frame at or above -40 dBFS (``user_end``) to the moment our ``AudioStream``
      *received* the agent's first frame at or above -50 dBFS after 0.2 s of quiet (``reply_start``).
    * The agent's ``e2e_ms`` (livekit-agents 1.8.9, VAD turn detection) runs, on the agent's wall clock,
      from its estimate of the end of speech (silero's END_OF_SPEECH time minus the silence and inference
      durations, replaced by the STT's own end time when a final transcript supplies one) on the audio as
      it *arrived* there, to the moment it *queued* its first reply frame, silent lead-in included. Ours
      adds the uplink, the downlink (the agent's send queue, the relay, our jitter buffer) and the TTS's
      silent lead-in, all positive, and any lateness of the agent's end-of-speech estimate. The one part
      of the agent's span outside ours is a word tail our threshold still calls speech and silero
      already calls silence (the final unvoiced /t/ of "it", tens of ms), hence
      ``latency_ms >= e2e_ms - 100``. Measured here: about 1160 ms against 660 ms.
    * The wall time of the turn runs from the WAV's first sample leaving the engine (``input_started_at``)
      to the moment this test saw the ``VoiceLatency`` event (just after ``reply_start``). The engine sends
      the WAV in real time, so the meter's span is that minus the WAV's part before its last loud frame:
      ``latency_ms <= wall_ms - last_loud_offset_ms + 10`` (one frame of pacing slack), which also
      pins the turn's end to the last loud frame rather than the end of the hangover, and so
      ``latency_ms <= wall_ms``.
    """
    question = await synthesize(QUESTION)
    lead = np.zeros(question.sample_rate, dtype=np.int16)  # 1 s: the agent's STT is listening by then
    wav = tmp_path / "question.wav"
    with wave.open(str(wav), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(question.sample_rate)
        writer.writeframes(lead.tobytes() + bytes(question.data))
    loud_end_s = last_loud_offset_s(wav)

    engine = AudioEngine(
        AudioSettings(input_wav=wav, output_wav=tmp_path / "agent.wav", preconnect_buffer=False)
    )
    await engine.start()
    session = session_for(server, "user-1", microphone=engine.source)
    bridge = SessionAudioBridge(engine, session)
    bridge.attach()
    loop = asyncio.get_running_loop()
    seen: list[tuple[VoiceLatency, float]] = []
    events = record(session)
    session.events.subscribe(lambda e: seen.append((e, loop.time())) if isinstance(e, VoiceLatency) else None)
    try:
        await session.start()
        await asyncio.wait_for(engine.wait_input_done(), 30)
        await wait_until(lambda: bool(seen), what="a voice-latency measurement", within_s=30)
        await wait_until(
            lambda: any(TIME_ANSWER.match(t) for t in agent_finals(session)),
            what="the spoken answer",
            within_s=30,
        )
        await wait_until(
            lambda: any(m.role == "assistant" and m.e2e_ms is not None for m in of_type(events, TurnMetrics)),
            what="the agent's e2e figure",
            within_s=30,
        )
        started = engine.input_started_at
    finally:
        await session.end()
        await bridge.aclose()
        await engine.aclose()
    assert started is not None
    [(turn, seen_at)] = seen
    [e2e_ms] = [
        m.e2e_ms for m in of_type(events, TurnMetrics) if m.role == "assistant" and m.e2e_ms is not None
    ]
    heard = [e for e in of_type(events, ToolCall) if e.name == "get_time"]
    assert heard, "the spoken question did not reach the tool (pocketsphinx misheard it?)"
    wall_ms = (seen_at - started) * 1000.0
    print(
        f"\nvoice turn: measured here {turn.latency_ms:.0f} ms, agent e2e {e2e_ms:.0f} ms, "
        f"wall {wall_ms:.0f} ms from the WAV's start (last loud frame at {loud_end_s * 1000:.0f} ms)"
    )
    assert turn.source == "vad" and not turn.overlapped
    assert turn.user_end >= started + loud_end_s - 0.005  # the end is the WAV's last loud frame, not earlier
    assert turn.latency_ms >= e2e_ms - 100.0
    assert turn.latency_ms <= wall_ms - loud_end_s * 1000.0 + 10.0
    assert turn.latency_ms <= wall_ms
