"""The capture pipeline on its own: a WAV input into a stand-in ``rtc.AudioSource``, no devices, no engine.

What leaves the pipeline must be what the gate lets through, in 10 ms frames, paced in real time; the
meter hears the microphone before the gate, while the pre-connect buffer, the recorder and the observer
get what the agent will hear."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from livekit import rtc

from agent_tui.audio.capture_pipeline import CapturePipeline
from agent_tui.audio.controls import MicMode
from agent_tui.audio.gate import MicGate
from agent_tui.audio.preconnect import PreConnectBuffer

pytestmark = pytest.mark.timeout(10)

RATE = 48000
FRAME = RATE // 100


class FakeSource:
    """Records each frame handed to ``capture_frame`` (a copy: the pipeline reuses its buffer)."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        self.frames.append(np.frombuffer(frame.data, dtype=np.int16).copy())


def loud(frames: list[np.ndarray]) -> int:
    return sum(1 for frame in frames if np.any(frame))


async def test_a_wav_waits_for_its_start_then_goes_through_the_gate() -> None:
    gate = MicGate(MicMode.PUSH_TO_TALK)
    pipeline = CapturePipeline(RATE, FRAME, gate)
    source = FakeSource()
    observed: list[np.ndarray] = []
    pipeline.source = source  # type: ignore[assignment]
    pipeline.wav = np.full(RATE // 5, 6000, dtype=np.int16)  # 0.2 s, 20 frames
    pipeline.preconnect = PreConnectBuffer(RATE)
    pipeline.on_frame = lambda samples, now: observed.append(samples.copy())
    pump = asyncio.get_running_loop().create_task(pipeline.run_wav())
    try:
        await asyncio.sleep(0.1)
        assert source.frames and loud(source.frames) == 0, "silence until the WAV may start"
        assert pipeline.input_started_at is None
        pipeline.start_wav()
        await asyncio.sleep(0.05)
        assert loud(source.frames) == 0, "push-to-talk with the key up: the gate sends silence"
        assert pipeline.meter.read().peak_db > -20.0, "the meter hears the microphone before the gate"
        gate.talk_start()
        await asyncio.wait_for(pipeline.wait_input_done(), 5)
        await asyncio.sleep(0.03)
    finally:
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
    assert pipeline.input_started_at is not None
    assert all(len(frame) == FRAME for frame in source.frames)
    assert 0 < loud(source.frames) < 20, "only the part after the key went down was sent"
    assert loud(observed) == loud(source.frames), "the observer gets the frames as sent"
    assert pipeline.frames_sent == len(source.frames)
    assert pipeline.preconnect.duration == pytest.approx(len(source.frames) / 100, abs=0.02)
    assert np.count_nonzero(pipeline.preconnect.samples()) == loud(source.frames) * FRAME


async def test_a_failing_source_is_counted_not_raised() -> None:
    pipeline = CapturePipeline(RATE, FRAME, MicGate())

    class Broken:
        async def capture_frame(self, frame: rtc.AudioFrame) -> None:
            raise RuntimeError("closed")

    pipeline.source = Broken()  # type: ignore[assignment]
    pump = asyncio.get_running_loop().create_task(pipeline.run_wav())
    await asyncio.sleep(0.05)
    pump.cancel()
    await asyncio.gather(pump, return_exceptions=True)
    assert pipeline.errors >= 3 and pipeline.frames_sent == 0
    assert pipeline.latency_percentiles() == (None, None)
