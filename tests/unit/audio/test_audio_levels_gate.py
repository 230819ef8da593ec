"""Level metering in dBFS and the microphone gate rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agent_tui.audio.controls import MicMode
from agent_tui.audio.gate import MicGate
from agent_tui.audio.levels import SILENCE, LevelMeter, measure, to_dbfs

pytestmark = pytest.mark.timeout(10)


def sine(amplitude: float, samples: int = 4800, rate: int = 48000, hz: float = 1000.0) -> np.ndarray:
    t = np.arange(samples) / rate
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_full_scale_sine_reads_minus_3_db_rms_and_0_db_peak() -> None:
    level = measure(sine(1.0))
    assert level.rms_db == pytest.approx(-3.01, abs=0.05)
    assert level.peak_db == pytest.approx(0.0, abs=0.01)


def test_half_scale_is_6_db_lower() -> None:
    assert measure(sine(0.5)).rms_db == pytest.approx(-9.03, abs=0.05)


def test_silence_is_minus_infinity() -> None:
    assert measure(np.zeros(480, dtype=np.int16)) == SILENCE
    assert to_dbfs(0.0) == -math.inf


def test_meter_accumulates_frames_since_the_last_read() -> None:
    meter = LevelMeter(max_frame_samples=480)
    quiet = np.zeros(480, dtype=np.int16)
    loud = sine(0.5, 480)
    meter.add(quiet)
    meter.add(loud)  # one loud frame between two reads is not lost
    meter.add(quiet)
    level = meter.read()
    assert level.peak_db == pytest.approx(measure(loud).peak_db, abs=0.01)
    expected_rms = math.sqrt(float(np.dot(loud.astype(float), loud.astype(float))) / (3 * 480)) / 32768
    assert level.rms_db == pytest.approx(to_dbfs(expected_rms), abs=0.01)
    assert meter.read() == level  # nothing new: same reading
    meter.reset()
    assert meter.read() == SILENCE


def test_meter_measures_frames_longer_than_its_scratch() -> None:
    meter = LevelMeter(max_frame_samples=100)
    block = sine(0.25, 4800)
    meter.add(block)
    assert meter.read().rms_db == pytest.approx(measure(block).rms_db, abs=0.01)


def test_meter_handles_most_negative_sample() -> None:
    meter = LevelMeter(max_frame_samples=10)
    meter.add(np.array([-32768, 0], dtype=np.int16))
    assert meter.read().peak_db == pytest.approx(0.0)


def test_open_mic_gate_follows_mute_only() -> None:
    gate = MicGate()
    assert gate.is_open
    gate.set_muted(True)
    assert not gate.is_open
    gate.set_muted(False)
    assert gate.is_open
    assert not gate.talk_start()  # no turns in open-mic mode
    assert gate.is_open


def test_push_to_talk_opens_only_while_talking() -> None:
    gate = MicGate(MicMode.PUSH_TO_TALK)
    assert not gate.is_open
    assert gate.talk_start()
    assert gate.is_open and gate.talking
    assert not gate.talk_start()  # already talking
    gate.set_muted(True)
    assert not gate.is_open  # mute wins
    gate.set_muted(False)
    assert gate.talk_end()
    assert not gate.is_open
    assert not gate.talk_end()


def test_mode_change_ends_a_turn() -> None:
    gate = MicGate(MicMode.PUSH_TO_TALK)
    gate.talk_start()
    gate.set_mode(MicMode.OPEN)
    assert not gate.talking and gate.is_open
    gate.set_mode(MicMode.PUSH_TO_TALK)
    assert not gate.is_open
