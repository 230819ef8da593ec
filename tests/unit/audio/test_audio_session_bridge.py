"""The bridge between the audio engine and the Session, on its own: a stand-in engine that records what it
is told, and the session fake (:class:`~agent_tui.session.testing.FakeConversation`) grown the few Session
members the bridge also uses (the microphone publication, the agent's identity, byte streams, the latency
meter, the push-to-talk turn calls). No audio moves here: tests/audio runs the bridge on a real engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from agent_tui.audio.controls import AudioStatus, MicMode
from agent_tui.audio.preconnect import PAYLOAD_SAMPLE_RATE, TOPIC, PreConnectBuffer
from agent_tui.audio.session_bridge import SessionAudioBridge
from agent_tui.session import (
    AgentAudioTrackChanged,
    AgentJoined,
    SessionWarning,
    TextModeChanged,
    VoiceLatency,
)
from agent_tui.session.agent_state import AgentSnapshot, AgentState
from agent_tui.session.options import SessionOptions
from agent_tui.session.testing import FakeConversation
from agent_tui.session.voice_latency import VoiceLatencyMeter
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(10)

RATE = 48000
#: Stand-ins for the agent's ``rtc.RemoteAudioTrack`` (the bridge only hands them on).
TRACK_0: Any = "track-0"
TRACK_1: Any = "track-1"


class FakePublication:
    sid = "TR_mic"

    def __init__(self) -> None:
        self.subscribed = asyncio.Event()

    async def wait_for_subscription(self) -> None:
        await self.subscribed.wait()


@dataclass
class FakeInsight:
    latency: VoiceLatencyMeter


class BridgedConversation(FakeConversation):
    """:class:`FakeConversation` with the Session members beyond the front ends' Protocol that the bridge
    needs; every call still lands in :attr:`calls`."""

    def __init__(self) -> None:
        super().__init__(options=SessionOptions(room_connect_timeout=2.0, agent_connect_timeout=2.0))
        self.agent = AgentSnapshot(state=AgentState.DISCONNECTED, failure=None, identity=None)
        self.agent_audio_track: Any = None
        self.microphone_publication: FakePublication | None = None
        self.insight = FakeInsight(VoiceLatencyMeter())
        self.rpc_error: BaseException | None = None

    def agent_arrives(self, identity: str = "agent-1", attributes: dict[str, str] | None = None) -> None:
        self.agent = AgentSnapshot(state=AgentState.LISTENING, failure=None, identity=identity)
        self.feed(AgentJoined(identity=identity, name="bot", attributes=attributes or {}))

    def publish_microphone(self) -> FakePublication:
        self.microphone_publication = FakePublication()
        self.set_agent(AgentState.PRE_CONNECT_BUFFERING)
        return self.microphone_publication

    async def perform_rpc(self, method: str, payload: str = "", **options: Any) -> str:
        self.calls.append(("perform_rpc", (method, payload)))
        if self.rpc_error is not None:
            raise self.rpc_error
        return ""

    async def send_bytes(self, data: bytes, **options: Any) -> str:
        self.calls.append(("send_bytes", (data, options)))
        return "stream-1"

    def set_push_to_talk(self, on: bool) -> None:
        self.calls.append(("set_push_to_talk", on))

    def user_turn_started(self) -> None:
        self.calls.append(("user_turn_started", None))

    def user_turn_cancelled(self) -> None:
        self.calls.append(("user_turn_cancelled", None))

    def named(self, name: str) -> list[Any]:
        return [argument for call, argument in self.calls if call == name]


#: The engine calls the bridge makes that only need recording.
RECORDED = (
    "play",
    "flush_playback",
    "set_text_mode",
    "listener_arrived",
    "preconnect_delivered",
    "warn",
    "refresh_status",
)


class FakeEngine:
    """The engine's seams the bridge drives, recording each call."""

    def __init__(self, *, mode: MicMode = MicMode.OPEN, preconnect: bool = True) -> None:
        self.source: object | None = object()
        self.preconnect = PreConnectBuffer(RATE) if preconnect else None
        self.mode = mode
        self.muted = False
        self.talking = False
        self.observer: Any = None
        self.calls: list[tuple[str, Any]] = []

    @property
    def status(self) -> AudioStatus:
        return AudioStatus(
            text_only=False,
            reason=None,
            input_name="file:in.wav",
            output_name=None,
            mode=self.mode,
            muted=self.muted,
            talking=self.talking,
            aec=False,
        )

    def set_observer(self, observer: Any) -> None:
        self.observer = observer
        self.calls.append(("set_observer", observer))

    def __getattr__(self, name: str) -> Any:
        if name not in RECORDED:
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, args[0] if args else None))

    def named(self, name: str) -> list[Any]:
        return [argument for call, argument in self.calls if call == name]


def bridged(engine: FakeEngine, session: BridgedConversation) -> SessionAudioBridge:
    bridge = SessionAudioBridge(engine, session)  # type: ignore[arg-type]
    bridge.attach()
    return bridge


async def test_the_preconnect_buffer_goes_to_the_agent_once_it_listens() -> None:
    engine, session = FakeEngine(), BridgedConversation()
    assert engine.preconnect is not None
    engine.preconnect.append((np.sin(np.arange(RATE // 2) / 10) * 8000).astype(np.int16))  # 0.5 s
    bridge = bridged(engine, session)
    try:
        publication = session.publish_microphone()
        await asyncio.sleep(0.05)
        assert session.named("send_bytes") == [] and engine.named("listener_arrived") == []
        publication.subscribed.set()
        await wait_until(lambda: engine.named("listener_arrived"))  # the WAV input may start
        await asyncio.sleep(0.05)
        assert session.named("send_bytes") == [], "no agent in the room yet: nobody to send it to"
        session.agent_arrives("agent-7")
        await wait_until(lambda: session.named("send_bytes"))
    finally:
        await bridge.aclose()
    [(data, options)] = session.named("send_bytes")
    assert options["topic"] == TOPIC and options["destination_identities"] == ["agent-7"]
    assert options["attributes"] == {"trackId": "TR_mic", "sampleRate": "24000", "channels": "1"}
    assert len(data) == pytest.approx(PAYLOAD_SAMPLE_RATE, abs=64)  # 0.5 s of int16 at 24 kHz
    [seconds] = engine.named("preconnect_delivered")
    assert seconds == pytest.approx(0.5, abs=0.01)
    assert not engine.preconnect.recording and engine.preconnect.duration == 0, "sent once, then dropped"


async def test_a_failed_preconnect_send_is_one_warning() -> None:
    engine, session = FakeEngine(), BridgedConversation()
    assert engine.preconnect is not None
    engine.preconnect.append(np.full(RATE, 5000, dtype=np.int16))

    async def refuse(data: bytes, **options: Any) -> str:
        raise RuntimeError("data channel closed")

    session.send_bytes = refuse  # type: ignore[method-assign]
    bridge = bridged(engine, session)
    try:
        session.agent_arrives()
        session.publish_microphone().subscribed.set()
        await wait_until(lambda: engine.named("warn"))
    finally:
        await bridge.aclose()
    [warning] = engine.named("warn")
    assert "pre-connect audio could not be sent" in warning and "data channel closed" in warning
    assert engine.named("preconnect_delivered") == []


async def test_push_to_talk_start_end_and_cancel_call_the_turn_rpcs() -> None:
    engine, session = FakeEngine(mode=MicMode.PUSH_TO_TALK), BridgedConversation()
    bridge = bridged(engine, session)
    try:
        assert session.named("set_push_to_talk") == [True], "the mode set before attaching is passed on"
        session.agent_arrives(attributes={"push-to-talk": "1"})
        assert bridge.turn_rpcs is True
        engine.talking = True
        await bridge.talk_started()
        engine.talking = False
        await bridge.talk_ended()
        engine.talking = True
        await bridge.talk_started()
        engine.talking = False
        await bridge.talk_cancelled()
    finally:
        await bridge.aclose()
    assert [method for method, _ in session.named("perform_rpc")] == [
        "start_turn",
        "end_turn",
        "start_turn",
        "cancel_turn",
    ]
    assert [call for call, _ in session.calls if call.startswith("user_turn")] == [
        "user_turn_started",
        "user_turn_started",
        "user_turn_cancelled",
    ]


async def test_leaving_push_to_talk_mid_turn_cancels_the_turn() -> None:
    engine, session = FakeEngine(mode=MicMode.PUSH_TO_TALK), BridgedConversation()
    bridge = bridged(engine, session)
    try:
        session.agent_arrives(attributes={"push-to-talk": "1"})
        bridge.mode_changed(MicMode.OPEN, turn_abandoned=True)
        await wait_until(lambda: session.named("user_turn_cancelled"))
        assert session.named("set_push_to_talk")[-1] is False
        assert [method for method, _ in session.named("perform_rpc")] == ["cancel_turn"]
    finally:
        await bridge.aclose()


async def test_the_agents_track_is_played_and_flushed_when_interrupted_or_in_text_mode() -> None:
    engine, session = FakeEngine(), BridgedConversation()
    session.agent_audio_track = TRACK_0
    bridge = bridged(engine, session)
    try:
        assert engine.named("play") == [TRACK_0], "a track there before attaching plays at once"
        session.feed(AgentAudioTrackChanged(track=TRACK_1, participant_identity="agent-1"))
        session.set_agent(AgentState.SPEAKING)
        session.set_agent(AgentState.THINKING)  # interrupted
        session.feed(TextModeChanged(on=True))
        assert engine.named("play") == [TRACK_0, TRACK_1]
        assert engine.named("flush_playback") == [None]
        assert engine.named("set_text_mode") == [True]
    finally:
        await bridge.aclose()


async def test_muting_before_the_microphone_is_published_mutes_the_track_once_it_is() -> None:
    engine, session = FakeEngine(), BridgedConversation()
    bridge = bridged(engine, session)
    try:
        engine.muted = True
        bridge.muted_changed(True)
        session.publish_microphone()
        session.set_agent(AgentState.LISTENING)
        assert session.named("set_microphone_muted") == [True, True]  # at mute, then once on publish
    finally:
        await bridge.aclose()


async def test_frames_and_warnings_reach_the_session() -> None:
    engine, session = FakeEngine(), BridgedConversation()
    seen: list[object] = []
    session.events.subscribe(seen.append)
    bridge = bridged(engine, session)
    try:
        bridge.warning("The speaker stopped.")
        loud = np.full(480, 8000, dtype=np.int16)
        for step in range(100):  # the user speaks 0.5 s, the agent answers 0.3 s later
            now = step * 0.01
            bridge.microphone_frame(loud if step < 50 else loud * 0, now)
            bridge.agent_frame(loud if step >= 80 else loud * 0, now)
    finally:
        await bridge.aclose()
    assert [event.message for event in seen if isinstance(event, SessionWarning)] == ["The speaker stopped."]
    [latency] = [event for event in seen if isinstance(event, VoiceLatency)]
    assert latency.latency_ms == pytest.approx(310, abs=20), "from the user's last loud frame to the reply's"


async def test_detaching_lets_go_of_the_session_and_the_engine() -> None:
    engine, session = FakeEngine(), BridgedConversation()
    bridge = bridged(engine, session)
    assert engine.observer is bridge
    bridge.attach()  # a second attach changes nothing
    assert engine.named("set_observer") == [bridge]
    await bridge.aclose()
    assert engine.observer is None
    assert engine.named("play") == [None], "the agent's track is no longer played"
    session.feed(AgentAudioTrackChanged(track=TRACK_1, participant_identity="agent-1"))
    session.publish_microphone().subscribed.set()
    session.agent_arrives()
    await asyncio.sleep(0.05)
    assert engine.named("play") == [None], "still subscribed to the session's events"
    assert engine.named("listener_arrived") == [] and session.named("send_bytes") == []
    await bridge.talk_ended()  # a turn RPC after detaching is not sent
    assert session.named("perform_rpc") == []
