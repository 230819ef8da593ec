"""Push-to-talk by voice, end to end: the demo agent in ``--ptt`` mode (a real livekit-agents worker with
manual turn detection and the ``start_turn`` / ``end_turn`` / ``cancel_turn`` RPCs) and a client driven the
way the app drives it: the audio engine's ``talk_start`` / ``talk_end`` / ``talk_cancel`` over an input WAV.

- the key held while speaking: the agent hears the question, calls its ``get_time`` tool and answers;
  the key goes down right after the agent joined, when it has advertised push-to-talk but may not have
  registered its turn RPCs yet, and the turn is heard all the same;
- speech with the key up never reaches the agent (a second participant hears silence on our track) and
  the turn that follows is answered on its own words;
- a cancelled turn gets no answer, its words are marked cancelled, and the next turn is answered on its
  own words.

Each WAV holds the spoken phrases at known places with digital silence between them; the test presses
and releases the key on what the engine's microphone meter hears (before the gate), as a user would.
Every test starts its own worker (3-8 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
import wave
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from livekit import rtc

from agent_tui.audio.controls import MicMode
from agent_tui.audio.engine import AudioEngine
from agent_tui.audio.session_bridge import SessionAudioBridge
from agent_tui.audio.settings import AudioSettings
from agent_tui.demo.responder import HELLO_REPLY_TEXT
from agent_tui.demo.speech import synthesize
from agent_tui.demo.stt_pocketsphinx import jsgf_from_phrases
from agent_tui.session import (
    CachingTokenSource,
    LocalTokenSource,
    Message,
    MessageKind,
    Session,
    SessionEvent,
    SessionOptions,
    Speaker,
)
from agent_tui.session.agent_stream.events import ToolCall, VoiceLatency
from agent_tui.session.events import SessionWarning
from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_audio import AudioRecorder
from tests.e2e.e2e_harness import LiveServer
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

AGENT_NAME = "demo-ptt"
ROOM = "ptt-room"
USER = "user-1"
QUESTION = "what time is it"
HELLO = "hello"
TIME_ANSWER = re.compile(r"^The time is (\d\d:\d\d)\.$")
#: The WAV's phrases peak far above this; its silence is digital zero.
SPEECH_PEAK_DBFS = -40.0
#: How long the microphone must have been quiet for the phrase to count as said (espeak-ng's pauses
#: between words are shorter).
PHRASE_END_S = 0.4
#: Louder than this is speech on the track another participant receives; quieter than SILENT_DBFS is silence.
AUDIBLE_DBFS = -40.0
SILENT_DBFS = -60.0


# -- fixtures and helpers ---------------------------------------------------------------------------------
@pytest.fixture
async def worker(server: LiveServer, tmp_path: Path) -> AsyncIterator[DemoWorker]:
    """The demo worker in push-to-talk mode, no greeting, with a grammar that makes pocketsphinx hear the
    spoken phrases exactly."""
    grammar = tmp_path / "phrases.jsgf"
    grammar.write_text(jsgf_from_phrases([QUESTION, HELLO]), encoding="utf-8")
    async with DemoWorker(
        server.url,
        AGENT_NAME,
        extra_args=("--no-greeting", "--ptt", "--jsgf", str(grammar)),
        api_key=server.api_key,
        api_secret=server.api_secret,
    ) as demo_worker:
        yield demo_worker


async def speech_wav(path: Path, parts: Sequence[float | str]) -> Path:
    """A WAV of ``parts`` in order: a number is that many seconds of silence, a string is spoken."""
    chunks: list[bytes] = []
    rate = 22050
    for part in parts:
        if isinstance(part, str):
            frame = await synthesize(part)
            rate = frame.sample_rate
            chunks.append(bytes(frame.data))
        else:
            chunks.append(bytes(2 * round(part * rate)))
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"".join(chunks))
    return path


class Conversation:
    """The client: an audio engine in push-to-talk mode over a WAV, attached to a Session, and every
    event the session published."""

    def __init__(self, server: LiveServer, wav: Path, tmp_path: Path) -> None:
        self.engine = AudioEngine(
            AudioSettings(
                input_wav=wav,
                output_wav=tmp_path / "agent.wav",
                preconnect_buffer=False,
                mode=MicMode.PUSH_TO_TALK,
            )
        )
        self.server = server
        self.events: list[SessionEvent] = []
        self.session: Session | None = None
        self.bridge: SessionAudioBridge | None = None

    async def start(self) -> Session:
        await self.engine.start()
        tokens = CachingTokenSource(
            LocalTokenSource(self.server.url, self.server.api_key, self.server.api_secret)
        )
        options = SessionOptions(
            agent_name=AGENT_NAME, room_name=ROOM, participant_identity=USER, agent_connect_timeout=40.0
        )
        session = Session(tokens, options, microphone=self.engine.source, preconnect_buffer=False)
        self.session = session
        session.events.subscribe(self.events.append)
        # Before start, as the app does; the mode was set before this.
        self.bridge = SessionAudioBridge(self.engine, session)
        self.bridge.attach()
        await session.start()
        return session

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.end()
        if self.bridge is not None:
            await self.bridge.aclose()
        await self.engine.aclose()

    # -- what the microphone hears (the WAV, before the gate) --------------------------------------------
    def hears_speech(self) -> bool:
        return self.engine.input_level().peak_db >= SPEECH_PEAK_DBFS

    async def until_a_phrase_was_said(self, what: str) -> None:
        """Until the microphone heard speech and then PHRASE_END_S of quiet."""
        await wait_until(self.hears_speech, what=f"{what} to begin on the microphone", within_s=30)
        loop = asyncio.get_running_loop()
        last_loud = loop.time()

        def quiet() -> bool:
            nonlocal last_loud
            if self.hears_speech():
                last_loud = loop.time()
            return loop.time() - last_loud >= PHRASE_END_S

        await wait_until(quiet, what=f"{what} to end on the microphone", within_s=30)

    def assert_silent_so_far(self, before: str) -> None:
        assert not self.hears_speech(), f"{before} came after the next phrase began in the WAV"

    # -- what the session saw ------------------------------------------------------------------------------
    def user_transcripts(self) -> list[Message]:
        assert self.session is not None
        return [
            m
            for m in self.session.messages
            if m.speaker is Speaker.USER and m.kind is MessageKind.TRANSCRIPT and m.text
        ]

    def agent_finals(self) -> list[str]:
        assert self.session is not None
        return [m.text for m in self.session.messages if m.speaker is Speaker.AGENT and m.final and m.text]

    def of_type(self, kind: type[SessionEvent]) -> list[SessionEvent]:
        return [e for e in self.events if isinstance(e, kind)]

    async def until_answered(self, answered: Callable[[str], bool], what: str) -> str:
        await wait_until(lambda: any(answered(t) for t in self.agent_finals()), what=what, within_s=30)
        return next(t for t in self.agent_finals() if answered(t))

    async def hold_the_key_for(self, phrase: str) -> float:
        """Press, let the WAV say ``phrase``, release; returns how long the press took (``start_turn``)."""
        self.assert_silent_so_far(f"the press for {phrase!r}")
        began = time.perf_counter()
        await self.engine.talk_start()
        pressed_s = time.perf_counter() - began
        self.assert_silent_so_far(f"the agent's answer to the press for {phrase!r}")
        await self.until_a_phrase_was_said(repr(phrase))
        await self.engine.talk_end()
        return pressed_s


@contextlib.asynccontextmanager
async def conversation(server: LiveServer, wav: Path, tmp_path: Path) -> AsyncIterator[Conversation]:
    client = Conversation(server, wav, tmp_path)
    try:
        yield client
    finally:
        await client.aclose()


class Listener:
    """Another participant in the room, recording what it receives of our microphone track."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.room = rtc.Room()
        self.recorder: AudioRecorder | None = None

    async def join(self) -> None:
        def on_subscribed(track: rtc.Track, _publication: object, participant: rtc.RemoteParticipant) -> None:
            if track.kind == rtc.TrackKind.KIND_AUDIO and participant.identity == USER:
                self.recorder = AudioRecorder(track)

        self.room.on("track_subscribed", on_subscribed)
        await self.room.connect(self.server.url, self.server.token("listener", room=ROOM))
        await wait_until(
            lambda: self.recorder is not None and bool(self.recorder.frames),
            what="the listener to receive our microphone track",
            within_s=20,
        )

    def loudest_dbfs(self, start: float, end: float) -> float:
        """The loudest frame that arrived in [start, end] (``time.perf_counter``); fails when none did."""
        recorder = self.recorder
        assert recorder is not None
        window = [
            frame
            for frame, at in zip(recorder.frames, recorder.arrived_at, strict=False)
            if start <= at <= end and len(frame)
        ]
        assert window, "no frames of our microphone arrived at the listener in the window"
        loudest = max(float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) / 32768.0 for frame in window)
        return 20.0 * math.log10(loudest) if loudest > 0 else -math.inf

    async def aclose(self) -> None:
        if self.recorder is not None:
            await self.recorder.close()
        await self.room.disconnect()


# -- (1) the key held while speaking --------------------------------------------------------------------
async def test_the_key_held_while_speaking_gets_the_answer_with_the_get_time_call(
    server: LiveServer, worker: DemoWorker, tmp_path: Path
) -> None:
    wav = await speech_wav(tmp_path / "question.wav", [4.0, QUESTION, 1.5])
    async with conversation(server, wav, tmp_path) as client:
        session = await client.start()
        assert session.insight.latency.push_to_talk, "the latency meter does not know it is push-to-talk"
        # Pressed at once: the agent has advertised push-to-talk, its RPCs may not be registered yet.
        pressed_s = await client.hold_the_key_for(QUESTION)
        answer = await client.until_answered(lambda t: TIME_ANSWER.match(t) is not None, "the time")
        await wait_until(lambda: bool(client.of_type(VoiceLatency)), what="the turn's latency", within_s=30)
        await wait_until(lambda: bool(client.of_type(ToolCall)), what="the get_time call", within_s=10)

    [call] = client.of_type(ToolCall)
    assert isinstance(call, ToolCall) and call.name == "get_time"
    assert [(m.text, m.final, m.cancelled) for m in client.user_transcripts()] == [(QUESTION, True, False)]
    assert client.agent_finals() == [answer]
    [turn] = client.of_type(VoiceLatency)
    assert isinstance(turn, VoiceLatency) and turn.source == "ptt"
    assert client.of_type(SessionWarning) == []
    print(
        f"\n[{server.kind}] press (start_turn) took {pressed_s * 1000:.0f} ms; "
        f"key release -> the agent's voice {turn.latency_ms:.0f} ms; {answer!r}"
    )


# -- (2) speech with the key up -------------------------------------------------------------------------
async def test_speech_with_the_key_up_never_reaches_the_agent(
    server: LiveServer, worker: DemoWorker, tmp_path: Path
) -> None:
    wav = await speech_wav(tmp_path / "two.wav", [5.0, QUESTION, 3.0, HELLO, 1.5])
    listener = Listener(server)
    async with conversation(server, wav, tmp_path) as client:
        try:
            await client.start()
            await listener.join()
            await wait_until(client.hears_speech, what="the question to begin (key up)", within_s=30)
            key_up_from = time.perf_counter()
            await client.until_a_phrase_was_said("the question (key up)")
            key_up_to = time.perf_counter()
            await client.hold_the_key_for(HELLO)
            released = time.perf_counter()
            await client.until_answered(lambda t: t == HELLO_REPLY_TEXT, "the answer to hello")
            await wait_until(lambda: time.perf_counter() > released + 0.5, what="the listener to catch up")
            key_up = listener.loudest_dbfs(key_up_from, key_up_to)
            held = listener.loudest_dbfs(key_up_to, released + 0.5)
        finally:
            await listener.aclose()

    assert key_up < SILENT_DBFS, f"with the key up our track carried {key_up:.1f} dBFS"
    assert held > AUDIBLE_DBFS, f"with the key held our track peaked at only {held:.1f} dBFS"
    assert [(m.text, m.cancelled) for m in client.user_transcripts()] == [(HELLO, False)]
    assert client.agent_finals() == [HELLO_REPLY_TEXT]
    assert client.of_type(ToolCall) == []
    print(f"\n[{server.kind}] our track at the listener: key up {key_up:.1f} dBFS, key held {held:.1f} dBFS")


# -- (3) a cancelled turn ---------------------------------------------------------------------------------
async def test_a_cancelled_turn_gets_no_answer_and_the_next_turn_is_answered_on_its_own_words(
    server: LiveServer, worker: DemoWorker, tmp_path: Path
) -> None:
    wav = await speech_wav(tmp_path / "two.wav", [4.0, QUESTION, 5.0, HELLO, 1.5])
    async with conversation(server, wav, tmp_path) as client:
        await client.start()
        client.assert_silent_so_far("the press for the question")
        await client.engine.talk_start()
        await client.until_a_phrase_was_said("the question")
        await wait_until(
            lambda: any(m.text == QUESTION for m in client.user_transcripts()),
            what="the agent to transcribe the question",
            within_s=10,
        )
        await client.engine.talk_cancel()
        assert [(m.text, m.cancelled) for m in client.user_transcripts()] == [(QUESTION, True)]
        await client.hold_the_key_for(HELLO)
        await client.until_answered(lambda t: t == HELLO_REPLY_TEXT, "the answer to hello")
        await wait_until(
            lambda: any(m.text == HELLO and m.final for m in client.user_transcripts()),
            what="the final transcript of hello",
            within_s=10,
        )

    assert client.agent_finals() == [HELLO_REPLY_TEXT], "the cancelled question was answered"
    assert client.of_type(ToolCall) == []
    assert [(m.text, m.cancelled) for m in client.user_transcripts()] == [(QUESTION, True), (HELLO, False)]
    assert client.of_type(SessionWarning) == []
