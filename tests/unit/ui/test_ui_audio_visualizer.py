"""The bar visualizer's rules: bands to bar heights while speaking, the state animations, the rows."""

from __future__ import annotations

import math

import pytest

from agent_tui.session import AgentState
from agent_tui.ui.audio_visualizer import FLOOR, bar_heights, bar_rows
from agent_tui.ui.provider import AudioLevels


def speaking(*bands: float) -> AudioLevels:
    return AudioLevels(agent_db=-20.0, agent_bands=bands, mic_db=None)


def test_speaking_bars_are_the_loudest_band_of_their_group_between_quiet_and_loud() -> None:
    levels = speaking(-12.0, -90.0, -36.0, -48.0, -math.inf, -math.inf)
    heights, lit = bar_heights(AgentState.SPEAKING, 0, 3, levels)
    assert heights == pytest.approx([1.0, 0.5, FLOOR])
    assert lit == frozenset()


def test_more_bars_than_bands_repeat_the_bands() -> None:
    heights, _ = bar_heights(AgentState.SPEAKING, 0, 4, speaking(-12.0, -60.0))
    assert heights == pytest.approx([1.0, 1.0, FLOOR, FLOOR])


def test_thinking_runs_one_highlight_left_to_right() -> None:
    lit = [next(iter(bar_heights(AgentState.THINKING, frame, 5, None)[1])) for frame in range(0, 20, 2)]
    assert lit == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]


@pytest.mark.parametrize("bars", [1, 4, 7])
def test_connecting_sweeps_out_from_the_middle_and_back(bars: int) -> None:
    steps = [bar_heights(AgentState.CONNECTING, frame, bars, None)[1] for frame in range(0, 3 * 2 * bars, 3)]
    outermost = frozenset({0, bars - 1})
    assert outermost in steps  # it reaches the ends
    first = steps[0]
    assert abs(min(first) - (bars - 1) / 2) <= 0.5  # it starts in the middle
    assert all(min(step) + max(step) == bars - 1 for step in steps)  # always symmetric


def test_listening_breathes_the_middle_bar_and_idle_is_flat() -> None:
    breath = [bar_heights(AgentState.LISTENING, frame, 5, None)[0][2] for frame in range(30)]
    assert min(breath) == pytest.approx(FLOOR) and max(breath) > FLOOR + 0.3
    for state in (AgentState.IDLE, AgentState.DISCONNECTED, AgentState.FAILED):
        assert bar_heights(state, 7, 5, None) == ([FLOOR] * 5, frozenset())
    # no audio while speaking (a text-only session): the bars rest
    assert bar_heights(AgentState.SPEAKING, 3, 3, None)[0] == [FLOOR] * 3


def test_rows_fill_from_the_bottom_in_eighths() -> None:
    assert bar_rows([1.0, 0.5, 0.0, 1 / 16], 2) == [["█", " ", " ", " "], ["█", "█", " ", "▁"]]
