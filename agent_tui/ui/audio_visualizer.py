"""``AgentAudioVisualizer``: the agent's voice as bars by frequency band, and the state animations.

The web's ``BarVisualizer`` in a terminal. While the agent speaks, each bar is the loudness of its part of
the spectrum (the provider's ``levels.agent_bands``, 100 Hz to 8 kHz, grouped into ``bars`` bars).
Otherwise the bars show what the agent is doing, on the provider's ``frame`` clock:

* connecting and initializing: a highlight sweeps out from the middle and back;
* listening: the middle bar breathes slowly;
* thinking: a highlight runs left to right, quickly;
* idle, disconnected, failed: all bars flat and dim.

Heights use the eighth blocks (``▁`` to ``█``), so a bar three rows high has 24 steps. The bars are
drawn by :func:`bar_heights` (what each bar's height is, 0 to 1) and :func:`bar_rows` (those heights
as text), both pure. Styling: the component classes ``audio-visualizer--bar``,
``audio-visualizer--highlight`` (the animated bar) and ``audio-visualizer--quiet`` (the flat states),
and the state classes ``-<state>`` on the widget.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from agent_tui.session import AgentState

from .provider import AudioLevels, provider_of

__all__ = ["AgentAudioVisualizer", "bar_heights", "bar_rows"]

#: A band this loud or louder fills its bar; this quiet or quieter leaves only the floor.
LOUD_DB = -12.0
QUIET_DB = -60.0
#: The height of a bar at rest: a line, so the bars are visible before anything happens.
FLOOR = 0.1
EIGHTHS = " ▁▂▃▄▅▆▇█"
#: Frames per animation step, at the provider's default 20 frames a second.
SWEEP_FRAMES = 3
THINK_FRAMES = 2
BREATH_FRAMES = 30

_MOVING = (AgentState.CONNECTING, AgentState.INITIALIZING, AgentState.PRE_CONNECT_BUFFERING)
_ANIMATED = (AgentState.SPEAKING, AgentState.THINKING, AgentState.LISTENING, *_MOVING)


def _loudness(db: float) -> float:
    """0 to 1 from :data:`QUIET_DB` to :data:`LOUD_DB`."""
    if not math.isfinite(db) or db <= QUIET_DB:
        return 0.0
    return min(1.0, (db - QUIET_DB) / (LOUD_DB - QUIET_DB))


def _grouped(bands: Sequence[float], bars: int) -> list[float]:
    """``bands`` in ``bars`` groups, each as loud as its loudest band."""
    if not bands:
        return [-math.inf] * bars
    groups: list[float] = []
    for index in range(bars):
        low = index * len(bands) // bars
        high = max(low + 1, (index + 1) * len(bands) // bars)
        groups.append(max(bands[low:high]))
    return groups


def bar_heights(
    state: AgentState, frame: int, bars: int, levels: AudioLevels | None
) -> tuple[list[float], frozenset[int]]:
    """Each bar's height (0 to 1) and the highlighted bars, for this state and frame."""
    if state is AgentState.SPEAKING and levels is not None:
        return [max(FLOOR, _loudness(db)) for db in _grouped(levels.agent_bands, bars)], frozenset()
    heights = [FLOOR] * bars
    if state in _MOVING:
        half = (bars + 1) // 2  # places from the middle out
        step = (frame // SWEEP_FRAMES) % (2 * half)
        offset = step if step < half else 2 * half - 1 - step  # out, then back in
        lit = frozenset({(bars - 1) // 2 - offset, bars // 2 + offset})
    elif state is AgentState.THINKING:
        lit = frozenset({(frame // THINK_FRAMES) % bars})
    elif state is AgentState.LISTENING:
        middle = bars // 2
        phase = (frame % BREATH_FRAMES) / BREATH_FRAMES
        heights[middle] = FLOOR + 0.35 * (1 - math.cos(2 * math.pi * phase)) / 2
        return heights, frozenset({middle})
    else:
        return heights, frozenset()
    for index in lit:
        heights[index] = 0.5 if state in _MOVING else 0.6
    return heights, lit


def bar_rows(heights: Sequence[float], rows: int) -> list[list[str]]:
    """The bars as ``rows`` rows of one character per bar, top row first."""
    grid: list[list[str]] = [[" "] * len(heights) for _ in range(rows)]
    for column, height in enumerate(heights):
        eighths = round(max(0.0, min(1.0, height)) * rows * 8)
        for row in range(rows):
            filled = eighths - (rows - 1 - row) * 8
            grid[row][column] = EIGHTHS[max(0, min(8, filled))]
    return grid


class AgentAudioVisualizer(Widget):
    """See the module docstring. ``bars`` is the number of bars; each is as wide as fits, with a gap."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "audio-visualizer--bar",
        "audio-visualizer--highlight",
        "audio-visualizer--quiet",
    }
    DEFAULT_CSS = """
    AgentAudioVisualizer { height: 3; width: 1fr; }
    AgentAudioVisualizer > .audio-visualizer--bar { color: $accent; }
    AgentAudioVisualizer > .audio-visualizer--highlight { color: $accent-lighten-2; }
    AgentAudioVisualizer > .audio-visualizer--quiet { color: $panel-lighten-2; }
    """

    def __init__(
        self,
        bars: int = 7,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if bars < 1:
            raise ValueError("an audio visualizer needs at least one bar")
        self.bars = bars
        self._state = AgentState.DISCONNECTED
        self._frame = 0
        self._levels: AudioLevels | None = None
        self._grid: list[list[str]] = []
        self._highlight: frozenset[int] = frozenset()
        self._unwant: Callable[[], None] | None = None

    def on_mount(self) -> None:
        provider = provider_of(self)
        self._unwant = provider.want_bands()
        provider.read_audio()  # the bands from now, not only from the next tick
        self._state, self._levels = provider.agent_state, provider.levels
        self.watch(provider, "agent_state", self._state_changed)
        self.watch(provider, "levels", self._levels_changed, init=False)
        self.watch(provider, "frame", self._frame_changed, init=False)

    def on_unmount(self) -> None:
        if self._unwant is not None:
            self._unwant()

    def _state_changed(self, state: AgentState) -> None:
        for each in AgentState:
            self.set_class(each is state, f"-{each.value}")
        self._state = state
        self._update()

    def _levels_changed(self, levels: AudioLevels | None) -> None:
        self._levels = levels
        if self._state is AgentState.SPEAKING:
            self._update()

    def _frame_changed(self, frame: int) -> None:
        self._frame = frame
        if self._state is not AgentState.SPEAKING:
            self._update()

    @property
    def heights(self) -> list[float]:
        """The bars' heights now (0 to 1), for tests and hosts."""
        return bar_heights(self._state, self._frame, self.bars, self._levels)[0]

    def _update(self) -> None:
        heights, highlight = bar_heights(self._state, self._frame, self.bars, self._levels)
        grid = bar_rows(heights, max(1, self.size.height))
        if grid != self._grid or highlight != self._highlight:
            self._grid, self._highlight = grid, highlight
            self.refresh()

    def on_resize(self) -> None:
        self._grid = []
        self._update()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if not self._grid or y >= len(self._grid):
            return Strip.blank(width, self.rich_style)
        row = self._grid[y]
        base = self.rich_style
        bar_width = max(1, (width + 1) // self.bars - 1)
        quiet = self._state not in _ANIMATED
        style = base + self.get_component_rich_style(
            "audio-visualizer--quiet" if quiet else "audio-visualizer--bar"
        )
        lit = base + self.get_component_rich_style("audio-visualizer--highlight")
        used = self.bars * (bar_width + 1) - 1
        left = max(0, (width - used) // 2)
        segments = [Segment(" " * left, base)] if left else []
        for column, cell in enumerate(row):
            chosen: Style = lit if column in self._highlight else style
            segments.append(Segment(cell * bar_width, chosen))
            if column < self.bars - 1:
                segments.append(Segment(" ", base))
        return Strip(segments).crop_extend(0, width, base)
