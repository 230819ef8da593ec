"""The playback jitter buffer: prefill, underruns, flushes and the latency cap."""

from __future__ import annotations

import numpy as np
import pytest

from agent_tui.audio.jitter_buffer import JitterBuffer

pytestmark = pytest.mark.timeout(10)

FRAME = 480


def frame(value: int, size: int = FRAME) -> np.ndarray:
    return np.full(size, value, dtype=np.int16)


def pull(buffer: JitterBuffer, size: int = FRAME) -> tuple[int, np.ndarray]:
    out = np.full(size, 12345, dtype=np.int16)
    got = buffer.pull_into(out)
    return got, out


def test_silence_until_prefill_then_plays_in_order() -> None:
    buffer = JitterBuffer(prefill=2 * FRAME, max_depth=8 * FRAME)
    buffer.set_active(True)
    buffer.push(frame(1))
    got, out = pull(buffer)
    assert got == 0 and not out.any()  # still buffering: silence, not an underrun
    buffer.push(frame(2))
    got, out = pull(buffer)
    assert got == FRAME and (out == 1).all()
    got, out = pull(buffer)
    assert got == FRAME and (out == 2).all()
    assert buffer.underruns == 0


def test_running_dry_while_live_counts_one_underrun_and_rebuffers() -> None:
    buffer = JitterBuffer(prefill=FRAME, max_depth=4 * FRAME)
    buffer.set_active(True)
    buffer.push(frame(7, FRAME + 100))
    pull(buffer)
    got, out = pull(buffer)
    assert got == 100 and (out[:100] == 7).all() and not out[100:].any()
    assert buffer.underruns == 1
    got, _ = pull(buffer)  # buffering again: silence, no second underrun
    assert got == 0 and buffer.underruns == 1


def test_tail_after_the_stream_ends_plays_without_underrun() -> None:
    buffer = JitterBuffer(prefill=4 * FRAME, max_depth=8 * FRAME)
    buffer.set_active(True)
    buffer.push(frame(3, 200))
    buffer.set_active(False)  # the track went away with less than the prefill queued
    got, out = pull(buffer)
    assert got == 200 and (out[:200] == 3).all()
    assert buffer.underruns == 0


def test_flush_drops_everything_queued_at_the_next_pull() -> None:
    buffer = JitterBuffer(prefill=FRAME, max_depth=8 * FRAME)
    buffer.set_active(True)
    for value in range(5):
        buffer.push(frame(value))
    pull(buffer)
    buffer.request_flush()
    got, out = pull(buffer)
    assert got == 0 and not out.any()
    assert buffer.flushed_samples == 4 * FRAME
    buffer.push(frame(9))
    got, out = pull(buffer)
    assert got == FRAME and (out == 9).all()


def test_depth_is_capped_by_skipping_back_to_prefill() -> None:
    buffer = JitterBuffer(prefill=2 * FRAME, max_depth=4 * FRAME)
    buffer.set_active(True)
    for value in range(6):  # a burst after a stall: 6 frames queued, cap is 4
        buffer.push(frame(value))
    got, out = pull(buffer)
    assert got == FRAME and (out == 4).all()  # oldest dropped; the newest 2 frames remain
    assert buffer.trimmed_samples == 4 * FRAME
    assert buffer.depth == FRAME


def test_overflowing_the_ring_drops_the_newest_and_counts() -> None:
    buffer = JitterBuffer(prefill=FRAME, max_depth=2 * FRAME, capacity=3 * FRAME)
    assert buffer.push(frame(1, 4 * FRAME)) == FRAME
    assert buffer.overflow_dropped == FRAME


def test_depth_stats_reset_after_reading() -> None:
    buffer = JitterBuffer(prefill=FRAME, max_depth=8 * FRAME)
    buffer.set_active(True)
    buffer.push(frame(1, 3 * FRAME))
    pull(buffer)
    pull(buffer)
    mean, peak = buffer.depth_stats()
    assert mean == 2.5 * FRAME and peak == 3 * FRAME
    assert buffer.depth_stats() == (0.0, 0)


def test_rejects_inconsistent_sizes() -> None:
    with pytest.raises(ValueError):
        JitterBuffer(prefill=10, max_depth=5)
