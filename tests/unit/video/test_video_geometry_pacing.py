"""Publish sizes, fitting a picture to cells, and real-time pacing with a frame-rate cap."""

from __future__ import annotations

import pytest

from agent_tui.video.geometry import even, fit_cells, publish_size
from agent_tui.video.pacing import MAX_LAG_S, RealTimePacer

pytestmark = pytest.mark.timeout(10)


def test_publish_size_keeps_small_sources_and_shrinks_large_ones() -> None:
    assert publish_size((640, 480), None, (1280, 720)) == (640, 480)
    assert publish_size((3840, 2160), None, (1280, 720)) == (1280, 720)
    assert publish_size((2560, 1600), None, (1280, 720)) == (1152, 720)
    assert publish_size((643, 483), None, (1280, 720)) == (644, 484)  # I420 needs even sizes
    assert publish_size((3840, 2160), (320, 240), (1280, 720)) == (320, 240)
    assert even(0.4) == 2


def test_fit_cells_keeps_the_aspect_with_two_pixels_per_row() -> None:
    assert fit_cells((1280, 720), (80, 24)) == (80, 44)  # 16:9 across the width
    assert fit_cells((720, 1280), (80, 24)) == (27, 48)  # portrait: limited by the height
    assert fit_cells((640, 480), (0, 10)) == (0, 0)
    width, height = fit_cells((1920, 1080), (33, 11))
    assert width <= 33 and height <= 22 and height % 2 == 0


def test_frames_leave_at_their_media_times() -> None:
    pacer = RealTimePacer(max_fps=30)
    first = pacer.decide(0.0, now=100.0)
    assert first.send and first.sleep_s == 0
    second = pacer.decide(0.1, now=100.02)
    assert second.send and second.sleep_s == pytest.approx(0.08)


def test_the_cap_drops_frames_that_come_too_soon() -> None:
    pacer = RealTimePacer(max_fps=10)
    sent = [pacer.decide(i / 30, now=100 + i / 30).send for i in range(9)]
    assert sent == [True, False, False, True, False, False, True, False, False]


def test_a_loop_continues_the_timeline() -> None:
    pacer = RealTimePacer(max_fps=30)
    pacer.decide(0.0, now=0.0)
    pacer.decide(1.9, now=1.9)
    pacer.looped(2.0)
    again = pacer.decide(0.0, now=1.95)
    assert again.send and again.sleep_s == pytest.approx(0.05)


def test_far_behind_re_anchors_instead_of_bursting() -> None:
    pacer = RealTimePacer(max_fps=30)
    pacer.decide(0.0, now=0.0)
    late = pacer.decide(0.1, now=0.1 + MAX_LAG_S + 1)
    assert late.send and late.sleep_s == 0
    following = pacer.decide(0.2, now=0.1 + MAX_LAG_S + 1)
    assert following.sleep_s == pytest.approx(0.1)
