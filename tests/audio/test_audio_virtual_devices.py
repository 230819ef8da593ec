"""The engine on real ``sounddevice`` streams, on the private PulseAudio's virtual devices.

A tone played into the virtual microphone must come out of the track the engine publishes, and the agent's
audio must come out of the virtual speaker. Assertions are about content (pitch, loudness, counts), never
about speed: speed targets live in ``bench/bench_audio.py``.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from livekit import rtc

from agent_tui.audio import devices
from agent_tui.audio.controls import MicMode
from agent_tui.audio.engine import AudioEngine
from agent_tui.audio.settings import AudioSettings
from agent_tui.session.agent_state import AgentState
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
from tests.audio.pulse_harness import PulseServer, pointed_at, start_pulse
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def device_settings(**overrides: object) -> AudioSettings:
    # No APM by default: these tests check that audio moves intact; the echo canceller has its own test.
    values: dict[str, object] = {
        "input_device": "pulse",
        "output_device": "pulse",
        "aec": False,
        "noise_suppression": False,
        "high_pass": False,
        "auto_gain": False,
        "preconnect_buffer": False,
    }
    values.update(overrides)
    return AudioSettings.model_validate(values)


def test_virtual_devices_are_listed(pulse: PulseServer) -> None:
    listed = devices.list_devices()
    names = [device.name for device in listed]
    assert "pulse" in names
    chosen = devices.resolve_device("PULS", "input", listed)
    assert chosen.name == "pulse" and chosen.max_input_channels > 0
    assert devices.resolve_device(chosen.index, "output", listed).index == chosen.index
    assert any(device.is_default_input for device in listed)


async def test_tone_into_the_virtual_mic_arrives_in_the_published_track(pulse: PulseServer) -> None:
    engine = AudioEngine(device_settings())
    await engine.start()
    try:
        assert not engine.status.text_only, engine.status.reason
        assert engine.source is not None
        track = rtc.LocalAudioTrack.create_audio_track("microphone", engine.source)
        tap = TrackTap.start(track)
        player = pulse.play_into_mic(tone(1000, 1.0))
        await asyncio.to_thread(player.wait, 10)
        await asyncio.sleep(0.3)
        received = await tap.stop()
        loud_blocks, _ = loud_span(received)
        assert loud_blocks >= 80, f"only {loud_blocks} loud 10 ms blocks of 100 arrived"
        assert dominant_hz(loud_part(received)) == pytest.approx(1000, abs=5)
        stats = engine.stats()
        assert stats.frames_sent > 100
        assert stats.capture_blocks > 100
        assert stats.capture_latency_p50_ms is not None
        assert engine.input_level().peak_db > -20.0
    finally:
        await engine.aclose()


async def test_mute_and_push_to_talk_gate_what_the_track_carries(pulse: PulseServer) -> None:
    engine = AudioEngine(device_settings(mode=MicMode.PUSH_TO_TALK))
    await engine.start()
    session = FakeSession()
    bridge = attach(engine, session)
    player = pulse.play_into_mic(tone(700, 8.0))
    try:
        assert engine.source is not None
        track = rtc.LocalAudioTrack.create_audio_track("microphone", engine.source)
        tap = TrackTap.start(track)

        def sounding(start: int, end: int | None = None) -> int:
            return sum(1 for frame in tap.frames[start:end] if np.any(frame))

        # The microphone hears the tone (the meter reads before the gate) but the closed gate sends silence.
        await wait_until(lambda: engine.input_level().peak_db > -20.0)
        mark = len(tap.frames)
        await wait_until(lambda: len(tap.frames) >= mark + 30)
        assert sounding(0) == 0, "gate closed, yet audio was sent"

        await engine.talk_start()  # no agent yet: the gate alone applies
        mark = len(tap.frames)
        await wait_until(lambda: sounding(mark) >= 30)

        await engine.talk_end()
        mark = len(tap.frames)
        await wait_until(lambda: len(tap.frames) >= mark + 30)
        assert sounding(mark + 5, mark + 30) == 0, "talk key released, yet audio was sent"

        engine.set_muted(True)
        await engine.talk_start()  # mute wins over the talk key
        mark = len(tap.frames)
        await wait_until(lambda: len(tap.frames) >= mark + 30)
        assert sounding(mark + 5, mark + 30) == 0, "muted, yet audio was sent"
        await engine.talk_end()
        await tap.stop()
        assert session.muted_calls == [True]
        assert session.rpc_calls == []
    finally:
        player.terminate()
        await asyncio.to_thread(player.wait, 5)
        await bridge.aclose()
        await engine.aclose()


async def test_agent_audio_reaches_the_virtual_speaker(pulse: PulseServer) -> None:
    engine = AudioEngine(device_settings())
    await engine.start()
    session = FakeSession()
    bridge = attach(engine, session)
    agent = FakeAgentVoice()
    recording = pulse.record_speaker()
    try:
        assert engine.status.output_name is not None, engine.status.warning
        await asyncio.to_thread(recording.wait_started)
        session.set_agent_track(agent.track)
        agent.speak(tone(440, 1.0))
        await wait_until(lambda: loud_span(recording.samples())[0] >= 95)
        played = await asyncio.to_thread(recording.stop)
        loud_blocks, _ = loud_span(played)
        assert loud_blocks >= 80, f"only {loud_blocks} loud 10 ms blocks of 100 were played; {engine.stats()}"
        assert dominant_hz(loud_part(played)) == pytest.approx(440, abs=5)
        assert engine.output_level().peak_db > -30.0
        stats = engine.stats()
        assert stats.playback_blocks > 100
        print(f"\nplayback: underruns={stats.playback_underruns} depth={stats.playback_depth_ms:.1f} ms")
    finally:
        await agent.aclose()
        await bridge.aclose()
        await engine.aclose()


async def test_interruption_drops_queued_audio(pulse: PulseServer) -> None:
    engine = AudioEngine(device_settings(playback_buffer_ms=200))
    await engine.start()
    session = FakeSession()
    bridge = attach(engine, session)
    agent = FakeAgentVoice()
    try:
        session.agent_joins()
        session.set_state(AgentState.SPEAKING)
        session.set_agent_track(agent.track)
        agent.speak(tone(300, 2.0))
        await wait_until(lambda: engine.stats().playback_depth_ms >= 150)
        before = engine.stats().playback_flushed_ms  # the track switch itself flushed (almost) nothing
        session.set_state(AgentState.LISTENING)  # the user barged in
        await wait_until(lambda: engine.stats().playback_flushed_ms > before)
        assert engine.stats().playback_flushed_ms - before >= 100
    finally:
        await agent.aclose()
        await bridge.aclose()
        await engine.aclose()


async def test_echo_canceller_runs_on_both_paths(pulse: PulseServer) -> None:
    engine = AudioEngine(device_settings(aec=True, noise_suppression=True, high_pass=True, auto_gain=True))
    await engine.start()
    session = FakeSession()
    bridge = attach(engine, session)
    agent = FakeAgentVoice()
    try:
        assert engine.status.aec
        stats = engine.stats()
        assert stats.aec_delay_ms is not None and stats.aec_delay_ms > 0
        session.set_agent_track(agent.track)
        agent.speak(tone(500, 1.0))
        await asyncio.sleep(1.2)
        processor = engine.capture.processor
        assert processor is not None
        assert processor.stats.capture_frames > 50
        assert processor.stats.render_frames > 50
        assert processor.stats.errors == 0
        engine.set_aec(False)
        assert not engine.status.aec
    finally:
        await agent.aclose()
        await bridge.aclose()
        await engine.aclose()


async def test_missing_device_goes_text_only_with_one_line(pulse: PulseServer) -> None:
    engine = AudioEngine(device_settings(input_device="no such microphone", output_device="no such speaker"))
    await engine.start()
    try:
        status = engine.status
        assert status.text_only
        assert status.reason is not None
        assert "no such microphone" in status.reason and "text-only" in status.reason
        assert status.warning is not None and "no such speaker" in status.warning
        assert "\n" not in status.reason
        assert engine.source is None
    finally:
        await engine.aclose()


async def test_live_device_switch_keeps_audio_flowing(pulse: PulseServer) -> None:
    engine = AudioEngine(device_settings())
    await engine.start()
    try:
        sent = engine.stats().frames_sent
        await engine.select_devices(input_device="default", output_device="default")
        assert engine.status.input_name is not None and engine.status.input_name.startswith("default")
        await asyncio.sleep(0.3)
        assert engine.stats().frames_sent > sent + 10
        with pytest.raises(Exception, match="no such device"):
            await engine.select_devices(input_device="no such device", output_device=None)
        assert engine.status.input_name.startswith("default")
    finally:
        await engine.aclose()


async def test_sound_server_dying_mid_session_goes_text_only(tmp_path: object, pulse: PulseServer) -> None:
    """A private second server is killed under the engine: it must say so and keep the session alive."""
    from pathlib import Path

    doomed = start_pulse(Path(str(tmp_path)))
    try:
        with pointed_at(doomed):
            engine = AudioEngine(device_settings())
            statuses: list[object] = []
            engine.subscribe_status(statuses.append)
            await engine.start()
            session = FakeSession()
            warnings: list[str] = []
            session.events.subscribe(lambda event: warnings.append(getattr(event, "message", "")))
            bridge = attach(engine, session)
            try:
                assert not engine.status.text_only, engine.status.reason
                await asyncio.sleep(0.3)
                await asyncio.to_thread(doomed.stop)
                await wait_until(lambda: engine.status.text_only, within_s=15)
                assert engine.status.reason is not None and "stopped" in engine.status.reason
                assert any("stopped" in message for message in warnings)
                assert statuses, "no status notification"
            finally:
                await bridge.aclose()
                await engine.aclose()
    finally:
        doomed.stop()
        devices.refresh()
