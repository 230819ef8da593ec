"""The stereo timeline of ``--record`` and WAV reading/writing."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from agent_tui.audio.errors import AudioFileError
from agent_tui.audio.recorder import LEFT, RIGHT, StereoAligner, recording_path
from agent_tui.audio.wav_io import WavWriter, load_wav, read_wav

pytestmark = pytest.mark.timeout(20)


def block(value: int, size: int = 10) -> np.ndarray:
    return np.full(size, value, dtype=np.int16)


def test_continuous_sides_interleave_in_step() -> None:
    aligner = StereoAligner(slack=15)
    out = []
    for step in range(1, 4):
        aligner.add(LEFT, block(step), now=10 * step)
        aligner.add(RIGHT, block(-step), now=10 * step)
        out.append(aligner.drain(now=10 * step))
    stereo = np.concatenate(out)
    assert stereo.shape == (30, 2)
    assert list(stereo[::10, 0]) == [1, 2, 3] and list(stereo[::10, 1]) == [-1, -2, -3]


def test_a_silent_side_is_padded_so_the_other_is_written() -> None:
    aligner = StereoAligner(slack=15)
    written = 0
    for step in range(1, 6):
        aligner.add(LEFT, block(1), now=10 * step)
        written += len(aligner.drain(now=10 * step))
    assert written >= 30  # the agent side never spoke, yet the user's side reached the file
    assert aligner.position(RIGHT) >= 50 - 15


def test_late_agent_audio_lands_where_it_was_heard() -> None:
    aligner = StereoAligner(slack=5)
    aligner.add(LEFT, block(1, 100), now=100)
    aligner.add(RIGHT, block(7, 20), now=80)  # heard from 60 to 80
    stereo = np.concatenate([aligner.drain(now=100), aligner.finish()])
    right = stereo[:, 1]
    assert not right[:60].any() and (right[60:80] == 7).all() and not right[80:].any()
    assert len(stereo) == 100


def test_finish_pads_the_shorter_side() -> None:
    aligner = StereoAligner(slack=1000)
    aligner.add(LEFT, block(1, 30), now=30)
    aligner.add(RIGHT, block(2, 10), now=30)
    stereo = aligner.finish()
    assert stereo.shape == (30, 2) and not stereo[10:, 1].any()


def test_recording_path_is_timestamped(tmp_path: Path) -> None:
    path = recording_path(tmp_path, now=0)
    assert path.parent == tmp_path and path.name.startswith("conversation-") and path.suffix == ".wav"


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_read_wav_any_width_and_channels(tmp_path: Path, width: int) -> None:
    rate, hz = 16000, 500
    signal = 0.5 * np.sin(2 * np.pi * hz * np.arange(rate // 2) / rate)
    if width == 1:
        raw = np.round(signal * 127 + 128).astype(np.uint8).repeat(2)
        data = raw.tobytes()
    elif width == 3:
        values = np.round(signal * (2**23 - 1)).astype("<i4").repeat(2)
        data = b"".join(int(v).to_bytes(3, "little", signed=True) for v in values)
    else:
        dtype = {2: "<i2", 4: "<i4"}[width]
        data = np.round(signal * (2 ** (8 * width - 1) - 1)).astype(dtype).repeat(2).tobytes()
    path = tmp_path / "in.wav"
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(data)
    samples, got_rate = read_wav(path)
    assert got_rate == rate and len(samples) == rate // 2
    assert np.max(np.abs(samples)) == pytest.approx(16384, rel=0.02)
    resampled = load_wav(path, 48000)
    assert abs(len(resampled) - 24000) <= 100


def test_read_wav_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="not found"):
        read_wav(tmp_path / "missing.wav")
    (tmp_path / "junk.wav").write_bytes(b"RIFFjunk")
    with pytest.raises(AudioFileError, match="Cannot read"):
        read_wav(tmp_path / "junk.wav")


async def test_writer_writes_from_its_own_thread(tmp_path: Path) -> None:
    writer = await WavWriter.open(tmp_path / "sub" / "out.wav", channels=2, sample_rate=24000)
    for value in range(10):
        writer.write(np.full(480, value, dtype=np.int16))
    await writer.aclose()
    with wave.open(str(writer.path), "rb") as reader:
        assert reader.getnchannels() == 2 and reader.getframerate() == 24000
        assert reader.getnframes() == 2400
    assert writer.frames_written == 2400 and writer.error is None


async def test_writer_reports_an_unwritable_place(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AudioFileError, match="Cannot write"):
        await WavWriter.open(blocker / "out.wav", channels=1, sample_rate=48000)
    await asyncio.sleep(0)
