"""The pre-connect buffer: bounded recording, ordering, payload and the wire attributes."""

from __future__ import annotations

import numpy as np
import pytest

from agent_tui.audio.preconnect import (
    MIN_PAYLOAD_BYTES,
    PreConnectBuffer,
    stream_attributes,
)
from agent_tui.audio.resampling import StreamResampler, resample_all

pytestmark = pytest.mark.timeout(20)


def ramp(start: int, count: int) -> np.ndarray:
    return (np.arange(start, start + count) % 20000).astype(np.int16)


def test_keeps_everything_until_full() -> None:
    buffer = PreConnectBuffer(1000, max_seconds=1.0)
    buffer.append(ramp(0, 300))
    buffer.append(ramp(300, 200))
    assert buffer.duration == pytest.approx(0.5)
    assert np.array_equal(buffer.samples(), ramp(0, 500))


@pytest.mark.parametrize("chunks", [[400, 400, 400], [999, 2], [1500], [10] * 250, [700, 1800, 30]])
def test_keeps_the_most_recent_audio_in_order(chunks: list[int]) -> None:
    buffer = PreConnectBuffer(1000, max_seconds=1.0)
    offset = 0
    for size in chunks:
        buffer.append(ramp(offset, size))
        offset += size
    kept = min(offset, 1000)
    assert np.array_equal(buffer.samples(), ramp(offset - kept, kept))
    assert buffer.total_recorded == pytest.approx(offset / 1000)


def test_stop_ends_recording() -> None:
    buffer = PreConnectBuffer(1000, max_seconds=1.0)
    buffer.append(ramp(0, 100))
    buffer.stop()
    buffer.append(ramp(100, 100))
    assert not buffer.recording
    assert len(buffer.samples()) == 100
    buffer.discard()
    assert len(buffer.samples()) == 0


def test_payload_is_pcm16_at_the_payload_rate() -> None:
    buffer = PreConnectBuffer(48000, max_seconds=2.0)
    tone = np.round(8000 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000)).astype(np.int16)
    buffer.append(tone)
    payload = buffer.payload(24000)
    samples = np.frombuffer(payload, dtype="<i2")
    assert abs(len(samples) - 24000) <= 100
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    assert np.argmax(spectrum) * 24000 / len(samples) == pytest.approx(440, abs=3)


def test_tiny_payload_is_not_worth_sending() -> None:
    buffer = PreConnectBuffer(24000, max_seconds=1.0)
    buffer.append(ramp(0, MIN_PAYLOAD_BYTES // 4))
    assert buffer.payload(24000) == b""


def test_attributes_are_strings_named_as_the_agent_expects() -> None:
    assert stream_attributes(track_sid="TR_abc", sample_rate=24000) == {
        "trackId": "TR_abc",
        "sampleRate": "24000",
        "channels": "1",
    }


def test_resample_all_keeps_duration_and_pitch() -> None:
    rate_in, rate_out = 22050, 48000
    tone = np.round(10000 * np.sin(2 * np.pi * 1000 * np.arange(rate_in) / rate_in)).astype(np.int16)
    out = resample_all(tone, rate_in, rate_out)
    assert abs(len(out) - rate_out) <= 200
    spectrum = np.abs(np.fft.rfft(out.astype(float)))
    assert np.argmax(spectrum) * rate_out / len(out) == pytest.approx(1000, abs=3)
    same = resample_all(tone, rate_in, rate_in)
    assert np.array_equal(same, tone) and same is not tone


def test_stream_resampler_converts_chunk_by_chunk() -> None:
    resampler = StreamResampler(44100, 48000)
    tone = np.round(10000 * np.sin(2 * np.pi * 500 * np.arange(44100) / 44100)).astype(np.int16)
    out = np.concatenate([resampler.push(tone[i : i + 441]) for i in range(0, 44100, 441)])
    assert 47000 <= len(out) <= 48000  # the filter holds back a few ms
    spectrum = np.abs(np.fft.rfft(out.astype(float)))
    assert np.argmax(spectrum) * 48000 / len(out) == pytest.approx(500, abs=3)
