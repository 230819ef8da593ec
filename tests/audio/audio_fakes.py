"""Stand-ins for the engine's surroundings: a Session with the surface the bridge uses, and track taps.

The bridge between engine and session (:mod:`agent_tui.audio.session_bridge`) only needs a handful of
Session members (events, the microphone publication, the agent's identity and attributes, RPC, byte
streams, mute); :class:`FakeSession` provides exactly those so the engine's wiring is tested without a
server. Media still goes through the real rtc SDK: the "published"
microphone is a real ``LocalAudioTrack`` on the engine's source, read back with ``rtc.AudioStream``, and the
"agent" is a real ``AudioSource`` + ``LocalAudioTrack`` the engine plays.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from livekit import rtc

from agent_tui.audio.engine import AudioEngine
from agent_tui.audio.session_bridge import SessionAudioBridge
from agent_tui.session.agent_state import AgentSnapshot, AgentState
from agent_tui.session.errors import RpcCallError
from agent_tui.session.events import AgentAudioTrackChanged, AgentJoined, AgentStateChanged, EventBus
from agent_tui.session.options import SessionOptions
from agent_tui.session.session import Session
from agent_tui.session.voice_latency import VoiceLatencyMeter

RATE = 48000


class FakePublication:
    def __init__(self, sid: str = "TR_mic") -> None:
        self.sid = sid
        self._subscribed = asyncio.Event()

    def subscribe(self) -> None:
        self._subscribed.set()

    async def wait_for_subscription(self) -> None:
        await self._subscribed.wait()


@dataclass
class SentBytes:
    data: bytes
    name: str
    topic: str
    mime_type: str
    attributes: dict[str, str]
    destination_identities: list[str] | None


class FakeInsight:
    """The part of ``Session.insight`` the engine feeds: the real voice-latency meter."""

    def __init__(self) -> None:
        self.latency = VoiceLatencyMeter()


class FakeSession:
    """The Session surface the engine touches, recording what the engine does with it."""

    def __init__(self) -> None:
        self.events = EventBus()
        self.options = SessionOptions(agent_connect_timeout=5.0, room_connect_timeout=5.0)
        self.agent_attributes: dict[str, str] = {}
        self.agent_audio_track: Any = None
        self.microphone_publication: FakePublication | None = None
        self.agent = AgentSnapshot(state=AgentState.DISCONNECTED, failure=None, identity=None)
        self.insight = FakeInsight()
        self.muted_calls: list[bool] = []
        self.rpc_calls: list[str] = []
        self.rpc_errors: dict[str, int] = {}
        #: How many more calls of a method in ``rpc_errors`` fail (absent: all of them).
        self.rpc_errors_left: dict[str, int] = {}
        self.push_to_talk = False
        self.turn_calls: list[str] = []
        self.sent: list[SentBytes] = []

    @property
    def agent_state(self) -> AgentState:
        return self.agent.state

    # -- what the bridge calls ---------------------------------------------------------------------------
    def set_microphone_muted(self, muted: bool) -> None:
        self.muted_calls.append(muted)

    async def perform_rpc(
        self,
        method: str,
        payload: str = "",
        *,
        destination_identity: str | None = None,
        response_timeout: float = 15.0,
    ) -> str:
        self.rpc_calls.append(method)
        code = self.rpc_errors.get(method)
        left = self.rpc_errors_left.get(method)
        if left is not None:
            self.rpc_errors_left[method] = left - 1
        if code is not None and (left is None or left > 0):
            raise RpcCallError(method=method, code=code, detail="Method not supported at destination")
        return ""

    def set_push_to_talk(self, on: bool) -> None:
        self.push_to_talk = on
        self.insight.latency.set_push_to_talk(on)

    def user_turn_started(self) -> None:
        self.turn_calls.append("started")

    def user_turn_cancelled(self) -> None:
        self.turn_calls.append("cancelled")

    async def send_bytes(
        self,
        data: bytes,
        *,
        name: str,
        topic: str,
        mime_type: str = "application/octet-stream",
        attributes: dict[str, str] | None = None,
        destination_identities: list[str] | None = None,
    ) -> str:
        self.sent.append(
            SentBytes(data, name, topic, mime_type, dict(attributes or {}), destination_identities)
        )
        return "stream-1"

    # -- what the test does ------------------------------------------------------------------------------
    def publish_microphone(self) -> FakePublication:
        self.microphone_publication = FakePublication()
        self.set_state(AgentState.PRE_CONNECT_BUFFERING)
        return self.microphone_publication

    def agent_joins(self, identity: str = "agent-1", attributes: dict[str, str] | None = None) -> None:
        self.agent_attributes = dict(attributes or {})
        self.agent = AgentSnapshot(state=self.agent.state, failure=None, identity=identity)
        self.events.emit(AgentJoined(identity=identity, name="agent", attributes=self.agent_attributes))

    def set_state(self, state: AgentState) -> None:
        previous = self.agent.state
        self.agent = AgentSnapshot(state=state, failure=None, identity=self.agent.identity)
        self.events.emit(AgentStateChanged(state=state, previous=previous))

    def set_agent_track(self, track: Any, identity: str | None = "agent-1") -> None:
        self.agent_audio_track = track
        self.events.emit(
            AgentAudioTrackChanged(track=track, participant_identity=identity if track else None)
        )


def attach(engine: AudioEngine, session: FakeSession | Session) -> SessionAudioBridge:
    """``engine`` linked to ``session`` as the app links them (``aclose()`` the bridge before the engine)."""
    bridge = SessionAudioBridge(engine, session)  # type: ignore[arg-type]
    bridge.attach()
    return bridge


@dataclass
class TrackTap:
    """Collects what a track carries (through ``rtc.AudioStream``), with the arrival time of each frame."""

    stream: rtc.AudioStream
    frames: list[np.ndarray] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    @classmethod
    def start(cls, track: rtc.Track, sample_rate: int = RATE) -> TrackTap:
        tap = cls(rtc.AudioStream(track, sample_rate=sample_rate, num_channels=1))
        tap.task = asyncio.get_running_loop().create_task(tap._run())
        return tap

    async def _run(self) -> None:
        async for event in self.stream:
            self.frames.append(np.frombuffer(event.frame.data, dtype=np.int16).copy())
            self.arrivals.append(time.perf_counter())

    def samples(self) -> np.ndarray:
        return np.concatenate(self.frames) if self.frames else np.zeros(0, dtype=np.int16)

    async def stop(self) -> np.ndarray:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.stream.aclose()
        return self.samples()


class FakeAgentVoice:
    """A real rtc source + local track standing in for the agent's published audio."""

    def __init__(self, sample_rate: int = RATE) -> None:
        self.sample_rate = sample_rate
        self.source = rtc.AudioSource(sample_rate, 1, queue_size_ms=0)
        self.track = rtc.LocalAudioTrack.create_audio_track("agent-voice", self.source)
        self._task: asyncio.Task[None] | None = None

    def speak(self, samples: np.ndarray, *, then_silence: bool = True) -> asyncio.Task[None]:
        """Send ``samples`` in real time (10 ms frames), then silence until :meth:`aclose`."""
        self._task = asyncio.get_running_loop().create_task(self._run(samples, then_silence))
        return self._task

    async def _run(self, samples: np.ndarray, then_silence: bool) -> None:
        loop = asyncio.get_running_loop()
        size = self.sample_rate // 100
        deadline = loop.time()
        position = 0
        while position < len(samples) or then_silence:
            chunk = np.zeros(size, dtype=np.int16)
            piece = samples[position : position + size]
            chunk[: len(piece)] = piece
            position += size
            await self.source.capture_frame(
                rtc.AudioFrame(bytearray(chunk.tobytes()), self.sample_rate, 1, size)
            )
            deadline += 0.01
            await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.source.aclose()


def tone(hz: float, seconds: float, amplitude: float = 0.3, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def dominant_hz(samples: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def loud_span(samples: np.ndarray, threshold: int = 2000, block: int = 480) -> tuple[int, int]:
    """(number of loud 10 ms blocks, index of the first loud sample or -1)."""
    blocks = len(samples) // block
    if blocks == 0:
        return 0, -1
    rms = np.sqrt((samples[: blocks * block].astype(np.float64).reshape(blocks, block) ** 2).mean(axis=1))
    loud = np.nonzero(rms > threshold)[0]
    first = np.nonzero(np.abs(samples) > threshold)[0]
    return len(loud), int(first[0]) if len(first) else -1


def loud_part(samples: np.ndarray, threshold: int = 2000) -> np.ndarray:
    """From the first to the last sample above ``threshold`` (contiguous, so pitch is preserved)."""
    loud = np.nonzero(np.abs(samples) > threshold)[0]
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples[:0]
