"""The engine with files instead of devices, wired to a stand-in Session.

No sound server is needed: ``--input-wav`` / ``--output-wav`` / ``--record`` never touch PortAudio.
Media still goes through the real rtc SDK (the microphone source is read back from a local track, the
"agent" is a real local track the engine plays). Covers the WAV paths, the pre-connect buffer hand-off,
push-to-talk RPCs and the failure messages.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import sys
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc

from agent_tui.audio import session_bridge
from agent_tui.audio.controls import AudioStatus, MicMode
from agent_tui.audio.engine import AudioEngine
from agent_tui.audio.preconnect import TOPIC
from agent_tui.audio.settings import AudioSettings
from agent_tui.audio.wav_io import read_wav
from agent_tui.session.errors import SessionLibraryError
from agent_tui.session.events import SessionEvent, SessionWarning
from agent_tui.session.options import SessionOptions
from agent_tui.session.session import Session
from agent_tui.session.tokens.source import LiteralTokenSource
from tests.audio.audio_fakes import (
    FakeAgentVoice,
    FakeSession,
    TrackTap,
    attach,
    dominant_hz,
    loud_part,
    loud_span,
    tone,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    data = np.repeat(samples[:, None], channels, axis=1) if channels > 1 else samples
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(data.astype("<i2").tobytes())
    return path


def file_settings(tmp_path: Path, **overrides: object) -> AudioSettings:
    values: dict[str, object] = {"output_wav": tmp_path / "agent.wav", "preconnect_buffer": False}
    values.update(overrides)
    return AudioSettings.model_validate(values)


async def test_input_wav_is_resampled_and_streamed_then_silence(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "in.wav", tone(1000, 0.5, rate=22050), 22050, channels=2)
    engine = AudioEngine(file_settings(tmp_path, input_wav=clip, input_wav_start="immediately"))
    await engine.start()
    try:
        assert engine.source is not None and not engine.status.text_only
        assert engine.status.input_name == f"file:{clip}"
        track = rtc.LocalAudioTrack.create_audio_track("microphone", engine.source)
        tap = TrackTap.start(track)
        await asyncio.wait_for(engine.wait_input_done(), 10)
        mark = len(tap.frames)
        await wait_until(lambda: len(tap.frames) >= mark + 20)
        received = await tap.stop()
        loud_blocks, _ = loud_span(received)
        assert 45 <= loud_blocks <= 51  # 0.5 s of tone, whole
        assert dominant_hz(loud_part(received)) == pytest.approx(1000, abs=5)
        assert not np.any(np.concatenate(tap.frames[mark + 2 :])), "the WAV's end must be followed by silence"
        assert all(len(frame) == 480 for frame in tap.frames)
        assert engine.input_started_at is not None
    finally:
        await engine.aclose()


async def test_input_wav_waits_for_a_listener(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "in.wav", tone(800, 0.3), 48000)
    engine = AudioEngine(file_settings(tmp_path, input_wav=clip))
    await engine.start()
    session = FakeSession()
    bridge = attach(engine, session)
    try:
        assert engine.source is not None
        tap = TrackTap.start(rtc.LocalAudioTrack.create_audio_track("microphone", engine.source))
        publication = session.publish_microphone()
        await wait_until(lambda: len(tap.frames) >= 30)
        assert engine.input_started_at is None
        assert not np.any(tap.samples()), "nobody listens yet: the WAV must not start"
        publication.subscribe()
        await asyncio.wait_for(engine.wait_input_done(), 10)
        await wait_until(lambda: loud_span(tap.samples())[0] >= 28)
        await tap.stop()
    finally:
        await bridge.aclose()
        await engine.aclose()


async def test_output_wav_keeps_wall_clock_time_and_the_agents_words(tmp_path: Path) -> None:
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(4800, dtype=np.int16), 48000)
    engine = AudioEngine(file_settings(tmp_path, input_wav=quiet))
    await engine.start()
    session = FakeSession()
    bridge = attach(engine, session)
    agent = FakeAgentVoice()
    try:
        assert engine.status.output_name == f"file:{tmp_path / 'agent.wav'}"
        await asyncio.sleep(0.3)  # a gap before the agent speaks must stay a gap in the file
        session.set_agent_track(agent.track)
        agent.speak(tone(440, 0.5))
        await wait_until(lambda: engine.output_level().peak_db > -20.0)
        await asyncio.sleep(0.6)
    finally:
        await agent.aclose()
        await bridge.aclose()
        await engine.aclose()
    samples, rate = read_wav(tmp_path / "agent.wav")
    assert rate == 48000
    loud_blocks, first = loud_span(samples)
    assert 45 <= loud_blocks <= 51
    assert first >= 0.25 * rate, "the silence before the agent spoke was not kept"
    assert dominant_hz(loud_part(samples)) == pytest.approx(440, abs=5)


async def test_record_writes_user_left_and_agent_right(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "in.wav", tone(600, 0.5), 48000)
    engine = AudioEngine(
        file_settings(tmp_path, input_wav=clip, input_wav_start="immediately", record_dir=tmp_path / "rec")
    )
    await engine.start()
    session = FakeSession()
    bridge = attach(engine, session)
    agent = FakeAgentVoice()
    try:
        path = engine.recording_path
        assert path is not None and path.parent == tmp_path / "rec"
        await asyncio.wait_for(engine.wait_input_done(), 10)
        session.set_agent_track(agent.track)
        agent.speak(tone(900, 0.5))
        await wait_until(lambda: engine.output_level().peak_db > -20.0)
        await asyncio.sleep(0.6)
    finally:
        await agent.aclose()
        await bridge.aclose()
        await engine.aclose()
    with wave.open(str(path), "rb") as reader:
        assert reader.getnchannels() == 2 and reader.getframerate() == 48000
        stereo = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").reshape(-1, 2)
    left, right = stereo[:, 0].copy(), stereo[:, 1].copy()
    assert dominant_hz(loud_part(left)) == pytest.approx(600, abs=5)
    assert dominant_hz(loud_part(right)) == pytest.approx(900, abs=5)
    assert loud_span(right)[1] > loud_span(left)[1], "the agent answered after the user spoke"


async def test_preconnect_buffer_reaches_the_agent_after_it_subscribes(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "in.wav", tone(1000, 0.4), 48000)
    engine = AudioEngine(
        file_settings(tmp_path, input_wav=clip, input_wav_start="immediately", preconnect_buffer=True)
    )
    await engine.start()
    assert engine.preconnect_enabled
    session = FakeSession()
    bridge = attach(engine, session)
    try:
        publication = session.publish_microphone()
        await asyncio.wait_for(engine.wait_input_done(), 10)  # the user spoke while connecting
        session.agent_joins("agent-7")
        await asyncio.sleep(0.1)
        assert session.sent == [], "the agent has not subscribed yet: sending now would go stale"
        publication.subscribe()
        await wait_until(lambda: len(session.sent) == 1)
    finally:
        await bridge.aclose()
        await engine.aclose()
    sent = session.sent[0]
    assert sent.topic == TOPIC
    assert sent.destination_identities == ["agent-7"]
    assert sent.attributes == {"trackId": "TR_mic", "sampleRate": "24000", "channels": "1"}
    audio = np.frombuffer(sent.data, dtype="<i2")
    assert dominant_hz(loud_part(audio), rate=24000) == pytest.approx(1000, abs=5)
    assert loud_span(audio, block=240)[0] >= 36  # the whole 0.4 s
    stats = engine.stats()
    assert stats.preconnect_sent_s is not None and stats.preconnect_sent_s >= 0.4


PttRig = tuple[AudioEngine, FakeSession]


@pytest.fixture
async def ptt(tmp_path: Path) -> AsyncIterator[PttRig]:
    """An engine in push-to-talk (set when it is made, as ``--push-to-talk`` does) bridged to a stand-in
    session."""
    engine = AudioEngine(file_settings(tmp_path, mode=MicMode.PUSH_TO_TALK))
    await engine.start()
    session = FakeSession()
    bridge = attach(engine, session)
    try:
        yield engine, session
    finally:
        await bridge.aclose()
        await engine.aclose()


async def test_push_to_talk_calls_the_turn_rpcs_of_an_agent_that_has_them(ptt: PttRig) -> None:
    engine, session = ptt
    session.agent_joins(attributes={"push-to-talk": "1"})
    assert engine.status.turn_rpcs is True
    await engine.talk_start()
    assert engine.status.talking
    await engine.talk_end()
    await engine.talk_start()
    await engine.talk_cancel()
    await engine.talk_end()  # no turn in progress: nothing to end
    assert session.rpc_calls == ["start_turn", "end_turn", "start_turn", "cancel_turn"]


async def test_push_to_talk_falls_back_to_the_gate_when_the_agent_answers_1400(ptt: PttRig) -> None:
    engine, session = ptt
    statuses: list[AudioStatus] = []
    engine.subscribe_status(statuses.append)
    session.agent_joins()
    session.rpc_errors["start_turn"] = 1400
    assert engine.status.turn_rpcs is None
    await engine.talk_start()
    assert engine.status.talking  # the gate opened regardless
    await engine.talk_end()
    await engine.talk_start()
    await engine.talk_end()
    assert session.rpc_calls == ["start_turn"]
    assert engine.status.turn_rpcs is False
    assert statuses[-1].turn_rpcs is False
    session.agent_joins("agent-2")  # a new agent may have them: ask again
    session.rpc_errors.clear()
    await engine.talk_start()
    assert session.rpc_calls == ["start_turn", "start_turn"]


async def test_push_to_talk_set_before_attaching_reaches_the_latency_meter(ptt: PttRig) -> None:
    # --push-to-talk sets the mode when the engine is made, before it is attached to the session: the
    # meter must still end turns at the key release rather than at its own VAD's decision.
    engine, session = ptt
    assert session.insight.latency.push_to_talk
    engine.set_mode(MicMode.OPEN)
    assert not session.insight.latency.push_to_talk and not session.push_to_talk


async def test_push_to_talk_outlives_a_restart_of_the_session(tmp_path: Path) -> None:
    # A Session makes a new latency meter each time it starts again (F5): it must stay in push-to-talk.
    engine = AudioEngine(file_settings(tmp_path, mode=MicMode.PUSH_TO_TALK))
    await engine.start()
    session = Session(LiteralTokenSource("ws://127.0.0.1:1", "not-a-real-token"), SessionOptions())
    bridge = attach(engine, session)
    try:
        first = session.insight.latency
        assert first.push_to_talk
        with pytest.raises(SessionLibraryError):
            await session.start()  # fails at once (no real token), and ends as a failed start does
        assert session.insight.latency is not first and session.insight.latency.push_to_talk
    finally:
        await bridge.aclose()
        await engine.aclose()


async def test_a_press_before_the_agent_registered_its_turn_rpcs_waits_for_them(ptt: PttRig) -> None:
    # The agent advertises push-to-talk when it joins and registers the methods a moment later.
    engine, session = ptt
    warnings: list[SessionEvent] = []
    session.events.subscribe(lambda e: warnings.append(e) if isinstance(e, SessionWarning) else None)
    session.agent_joins(attributes={"push-to-talk": "1"})
    session.rpc_errors["start_turn"] = 1400
    session.rpc_errors_left["start_turn"] = 3
    await engine.talk_start()
    assert session.rpc_calls == ["start_turn"] * 4
    assert engine.status.turn_rpcs is True and warnings == []
    await engine.talk_end()
    assert session.rpc_calls[-1] == "end_turn"


async def test_a_press_the_agent_never_registers_its_turn_rpcs_for_is_said_on_screen(
    ptt: PttRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_bridge, "TURN_RPC_REGISTER_WAIT", 0.3)
    engine, session = ptt
    warnings: list[str] = []
    session.events.subscribe(lambda e: warnings.append(e.message) if isinstance(e, SessionWarning) else None)
    session.agent_joins(attributes={"push-to-talk": "1"})
    session.rpc_errors["start_turn"] = 1400
    await engine.talk_start()
    [warning] = warnings
    assert "did not hear this turn" in warning and "start_turn" in warning
    assert len(session.rpc_calls) > 1 and set(session.rpc_calls) == {"start_turn"}
    # not taken for an agent without the RPCs: the next press asks again
    assert engine.status.turn_rpcs is True
    await engine.talk_end()
    session.rpc_errors.clear()
    session.rpc_calls.clear()
    await engine.talk_start()
    assert session.rpc_calls == ["start_turn"] and len(warnings) == 1


async def test_a_press_before_the_agent_joined_waits_for_it(ptt: PttRig) -> None:
    engine, session = ptt
    asyncio.get_running_loop().call_later(0.2, session.agent_joins, "agent-1", {"push-to-talk": "1"})
    await engine.talk_start()
    assert session.rpc_calls == ["start_turn"]


async def test_a_turn_the_agent_cancelled_is_marked_cancelled(ptt: PttRig) -> None:
    engine, session = ptt
    session.agent_joins(attributes={"push-to-talk": "1"})
    await engine.talk_start()
    await engine.talk_cancel()
    assert session.rpc_calls == ["start_turn", "cancel_turn"]
    assert session.turn_calls == ["started", "cancelled"]
    # switching to open mic mid-turn cancels it too
    await engine.talk_start()
    engine.set_mode(MicMode.OPEN)
    await wait_until(lambda: session.turn_calls[-1] == "cancelled")
    assert session.rpc_calls[-1] == "cancel_turn" and not session.push_to_talk
    # an agent without the turn RPCs did not cancel anything: what it heard stays as it was
    engine.set_mode(MicMode.PUSH_TO_TALK)
    session.agent_joins("agent-2")
    session.rpc_errors.update(start_turn=1400, cancel_turn=1400)
    session.turn_calls.clear()
    await engine.talk_start()
    await engine.talk_cancel()
    assert session.turn_calls == ["started"] and engine.status.turn_rpcs is False


async def test_mute_before_publishing_is_applied_to_the_track(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "in.wav", tone(500, 0.2), 48000)
    engine = AudioEngine(file_settings(tmp_path, input_wav=clip))
    await engine.start()
    session = FakeSession()
    bridge = attach(engine, session)
    try:
        engine.set_muted(True)
        assert engine.status.muted
        session.publish_microphone()
        assert session.muted_calls == [True, True]  # once at set_muted (no track yet), once on publish
        engine.set_muted(False)
        assert session.muted_calls[-1] is False
    finally:
        await bridge.aclose()
        await engine.aclose()


async def test_text_only_when_disabled(tmp_path: Path) -> None:
    engine = AudioEngine(AudioSettings(enabled=False))
    await engine.start()
    assert engine.source is None
    assert engine.status.text_only and engine.status.reason == "Audio is off (--text-only)."
    await engine.aclose()


async def test_unreadable_input_wav_goes_text_only(tmp_path: Path) -> None:
    (tmp_path / "bad.wav").write_bytes(b"not a wav")
    engine = AudioEngine(file_settings(tmp_path, input_wav=tmp_path / "bad.wav"))
    await engine.start()
    try:
        assert engine.status.text_only and engine.source is None
        assert engine.status.reason is not None and "bad.wav" in engine.status.reason
    finally:
        await engine.aclose()


class _NoPortAudio(importlib.abc.MetaPathFinder):
    """Makes ``import sounddevice`` fail the way it does when libportaudio2 is missing."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")


async def test_missing_portaudio_goes_text_only_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    engine = AudioEngine(AudioSettings(preconnect_buffer=False))
    await engine.start()
    try:
        status = engine.status
        assert status.text_only and engine.source is None
        assert status.reason is not None and "apt-get install libportaudio2" in status.reason
        assert status.warning is not None and "PortAudio" in status.warning
    finally:
        await engine.aclose()
