"""The whole demo pipeline in one process, without a room: speech in, tool call, speech out.

A paced fake microphone plays espeak-ng speech into the worker's own AgentSession (silero VAD,
pocketsphinx, rules, espeak-ng); a fake speaker captures the reply, which pocketsphinx recognises
with a grammar of the expected phrases. The same in push-to-talk mode through the RPC handlers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.voice import io
from livekit.plugins import silero

from agent_tui.demo.agent import DemoAgent
from agent_tui.demo.ptt import PTT_METHODS, PTT_RESPONSE, PushToTalk
from agent_tui.demo.speech import recognize, synthesize
from agent_tui.demo.stt_pocketsphinx import PocketsphinxSTT, jsgf_from_phrases
from agent_tui.demo.tts_espeak import ESPEAK_MISSING_MESSAGE, EspeakTTS
from agent_tui.demo.worker import DemoConfig, build_session

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None and os.environ.get("CI") != "true",
    reason=ESPEAK_MISSING_MESSAGE,
)

QUESTION = "hello what time is it"
ANSWER_SPOKEN = "the time is twelve thirty four"  # espeak-ng reads "12:34" this way
FIXED_NOW = datetime(2024, 1, 2, 12, 34)


class PacedMicrophone(io.AudioInput):
    """20 ms frames at 48 kHz in real time: queued speech, else silence; dropped while detached
    (as RoomIO's input does when the session disables audio)."""

    RATE = 48000
    SAMPLES = 960

    def __init__(self) -> None:
        super().__init__(label="paced-microphone")
        self._queue = bytearray()
        self._next: float | None = None
        self._attached = True

    def on_attached(self) -> None:
        self._attached = True

    def on_detached(self) -> None:
        self._attached = False

    def say(self, audio: rtc.AudioFrame) -> float:
        resampler = rtc.AudioResampler(audio.sample_rate, self.RATE)
        frames = resampler.push(audio) + resampler.flush()
        self._queue += b"".join(f.data.tobytes() for f in frames)
        return sum(f.duration for f in frames)

    async def __anext__(self) -> rtc.AudioFrame:
        loop = asyncio.get_running_loop()
        size = self.SAMPLES * 2
        while True:
            now = loop.time()
            self._next = (self._next or now) + self.SAMPLES / self.RATE
            await asyncio.sleep(max(0.0, self._next - now))
            chunk = bytes(self._queue[:size]).ljust(size, b"\x00")
            del self._queue[:size]  # what is said into a muted microphone is lost
            if self._attached:
                return rtc.AudioFrame(chunk, self.RATE, 1, self.SAMPLES)


class CapturingSpeaker(io.AudioOutput):
    """Keeps every segment the agent speaks; 'plays' it instantly."""

    def __init__(self) -> None:
        super().__init__(label="capturing-speaker", capabilities=io.AudioOutputCapabilities(False))
        self.segments: list[list[rtc.AudioFrame]] = []
        self._current: list[rtc.AudioFrame] = []

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._current:
            self.on_playback_started(created_at=time.time())
        self._current.append(frame)

    def flush(self) -> None:
        super().flush()
        self._finish(interrupted=False)

    def clear_buffer(self) -> None:
        self._finish(interrupted=True)

    def _finish(self, *, interrupted: bool) -> None:
        if not self._current:
            return
        segment, self._current = self._current, []
        self.segments.append(segment)
        self.on_playback_finished(playback_position=sum(f.duration for f in segment), interrupted=interrupted)


class Harness:
    def __init__(self, session: AgentSession[None]) -> None:
        self.session = session
        self.mic = PacedMicrophone()
        self.speaker = CapturingSpeaker()
        self.transcripts: list[tuple[str, bool]] = []
        self.items: list[Any] = []
        session.input.audio = self.mic
        session.output.audio = self.speaker
        session.on("user_input_transcribed", self._on_transcript)
        session.on("conversation_item_added", lambda ev: self.items.append(ev.item))
        session.on("function_tools_executed", self.items.append)

    def _on_transcript(self, ev: Any) -> None:
        self.transcripts.append((ev.transcript, ev.is_final))

    async def wait_for_answer(self, prefix: str, within_s: float = 10) -> str:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            for item in self.items:
                text = getattr(item, "text_content", None)
                if getattr(item, "role", None) == "assistant" and text and text.startswith(prefix):
                    return text
            await asyncio.sleep(0.05)
        raise AssertionError(f"no assistant reply starting {prefix!r}; items: {self.items}")


@pytest.fixture(scope="module")
def vad() -> silero.VAD:
    return silero.VAD.load()


@pytest.fixture
async def question() -> rtc.AudioFrame:
    return await synthesize(QUESTION)


async def _harness(vad: silero.VAD, *, ptt: bool) -> AsyncIterator[Harness]:
    stt = PocketsphinxSTT(grammar=jsgf_from_phrases([QUESTION, "goodbye"]))
    config = DemoConfig(ptt=ptt)
    async with build_session(config, vad=vad, stt=stt, tts=EspeakTTS()) as session:
        harness = Harness(session)
        await session.start(DemoAgent(clock=lambda: FIXED_NOW, greeting=None), record=False)
        yield harness


@pytest.fixture
async def vad_harness(vad: silero.VAD) -> AsyncIterator[Harness]:
    async for harness in _harness(vad, ptt=False):
        yield harness


@pytest.fixture
async def ptt_harness(vad: silero.VAD) -> AsyncIterator[Harness]:
    async for harness in _harness(vad, ptt=True):
        yield harness


class FakeRegistrar:
    def __init__(self) -> None:
        self.methods: dict[str, Any] = {}

    def register_rpc_method(self, method_name: str, handler: Any) -> None:
        self.methods[method_name] = handler


def _rpc(method: str) -> rtc.RpcInvocationData:
    return rtc.RpcInvocationData(
        request_id="r1", caller_identity="user", payload="", response_timeout=10, method=method
    )


@pytest.mark.timeout(30)
async def test_voice_turn_with_vad(vad_harness: Harness, question: rtc.AudioFrame) -> None:
    h = vad_harness
    await asyncio.sleep(0.3)
    h.mic.say(question)
    answer = await h.wait_for_answer("The time is")
    assert answer == "The time is 12:34."
    finals = [text for text, final in h.transcripts if final and text]
    interims = [text for text, final in h.transcripts if not final and text]
    assert finals == [QUESTION]
    assert interims, "interim transcripts must reach the session"
    assert any(type(item).__name__ == "FunctionToolsExecutedEvent" for item in h.items)
    spoken = await recognize(h.speaker.segments[-1], [ANSWER_SPOKEN, QUESTION])
    assert spoken == ANSWER_SPOKEN


@pytest.mark.timeout(30)
async def test_push_to_talk_turn(ptt_harness: Harness, question: rtc.AudioFrame) -> None:
    h = ptt_harness
    ptt = PushToTalk(h.session)
    registrar = FakeRegistrar()
    ptt.register(registrar)
    assert tuple(registrar.methods) == PTT_METHODS
    ptt.disable_audio_input()
    assert not h.session.input.audio_enabled

    # speech while the talk key is up is not heard
    spoken = h.mic.say(question)
    await asyncio.sleep(spoken + 0.8)
    assert h.transcripts == []

    # key down, speak, key up: the agent answers
    assert await registrar.methods["start_turn"](_rpc("start_turn")) == PTT_RESPONSE
    assert h.session.input.audio_enabled
    spoken = h.mic.say(question)
    await asyncio.sleep(spoken + 0.2)
    assert await registrar.methods["end_turn"](_rpc("end_turn")) == PTT_RESPONSE
    assert not h.session.input.audio_enabled
    assert await h.wait_for_answer("The time is") == "The time is 12:34."
    assert [text for text, final in h.transcripts if final and text] == [QUESTION]


@pytest.mark.timeout(30)
async def test_push_to_talk_cancel_drops_the_turn(ptt_harness: Harness, question: rtc.AudioFrame) -> None:
    h = ptt_harness
    ptt = PushToTalk(h.session)
    ptt.disable_audio_input()
    await ptt.start_turn(_rpc("start_turn"))
    spoken = h.mic.say(question)
    await asyncio.sleep(spoken / 2)
    assert await ptt.cancel_turn(_rpc("cancel_turn")) == PTT_RESPONSE
    assert not h.session.input.audio_enabled
    await asyncio.sleep(spoken / 2 + 1.0)
    assert not [i for i in h.items if getattr(i, "role", None) == "assistant"]
    assert not [text for text, final in h.transcripts if final and text]

    # the next turn starts clean: only its own words reach the agent
    await ptt.start_turn(_rpc("start_turn"))
    spoken = h.mic.say(await synthesize("goodbye"))
    await asyncio.sleep(spoken + 0.2)
    await ptt.end_turn(_rpc("end_turn"))
    assert await h.wait_for_answer("Goodbye") == "Goodbye. Thanks for trying the demo."
    users = [i.text_content for i in h.items if getattr(i, "role", None) == "user"]
    assert users == ["goodbye"]
