"""The sample ring (SPSC hand-off) and the frame slicer (re-cutting chunks into 10 ms frames)."""

from __future__ import annotations

import numpy as np
import pytest

from agent_tui.audio.frame_slicer import FrameSlicer
from agent_tui.audio.ring_buffer import SampleRing

pytestmark = pytest.mark.timeout(10)


def ramp(start: int, count: int) -> np.ndarray:
    return (np.arange(start, start + count) % 30000).astype(np.int16)


def test_ring_round_trips_across_the_wrap_point() -> None:
    ring = SampleRing(10)
    out = np.zeros(10, dtype=np.int16)
    produced = consumed = 0
    collected: list[np.ndarray] = []
    for size in (7, 5, 9, 3, 10, 1):
        written = ring.write(ramp(produced, size))
        produced += written
        got = ring.read_into(out)
        collected.append(out[:got].copy())
        consumed += got
    assert produced == consumed
    assert np.array_equal(np.concatenate(collected), ramp(0, produced))


def test_ring_write_reports_what_did_not_fit() -> None:
    ring = SampleRing(8)
    assert ring.write(ramp(0, 5)) == 5
    assert ring.write(ramp(5, 5)) == 3
    assert ring.free == 0
    assert ring.write(ramp(10, 1)) == 0
    out = np.zeros(8, dtype=np.int16)
    assert ring.read_into(out) == 8
    assert np.array_equal(out, ramp(0, 8))


def test_ring_read_respects_count_and_skip() -> None:
    ring = SampleRing(16)
    ring.write(ramp(0, 12))
    out = np.zeros(16, dtype=np.int16)
    assert ring.read_into(out, 4) == 4
    assert ring.skip(3) == 3
    assert ring.read_into(out) == 5
    assert np.array_equal(out[:5], ramp(7, 5))
    assert ring.skip(10) == 0
    ring.write(ramp(0, 6))
    assert ring.discard_all() == 6
    assert ring.available == 0
    assert ring.total_written == 18 and ring.total_read == 18


def test_ring_rejects_empty_capacity() -> None:
    with pytest.raises(ValueError):
        SampleRing(0)


@pytest.mark.parametrize("chunks", [[480] * 4, [256, 512, 1000, 152], [1, 479, 960, 2000, 480], [4800]])
def test_slicer_emits_whole_frames_in_order(chunks: list[int]) -> None:
    slicer = FrameSlicer(480)
    frames: list[np.ndarray] = []
    offset = 0
    for size in chunks:
        slicer.push(ramp(offset, size), lambda frame: frames.append(frame.copy()))
        offset += size
    assert all(len(frame) == 480 for frame in frames)
    assert len(frames) == offset // 480
    assert slicer.pending == offset % 480
    if frames:
        assert np.array_equal(np.concatenate(frames), ramp(0, len(frames) * 480))


def test_slicer_reset_drops_the_partial_frame() -> None:
    slicer = FrameSlicer(4)
    frames: list[np.ndarray] = []
    slicer.push(ramp(0, 3), frames.append)
    slicer.reset()
    assert slicer.pending == 0
    slicer.push(ramp(100, 4), lambda frame: frames.append(frame.copy()))
    assert len(frames) == 1 and np.array_equal(frames[0], ramp(100, 4))
