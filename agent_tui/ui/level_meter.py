"""A one-line audio level meter that repaints only when what it shows changes.

The app polls levels at its own bounded rate (``refresh_hz``); the meter quantises each reading to whole
cells, so a steady level costs no repaint at all and a noisy one at most one per poll.
"""

from __future__ import annotations

import math
from typing import Literal

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from .provider import AudioLevels, provider_of

#: Readings at or below this are drawn as an empty meter.
FLOOR_DB = -60.0


def meter_cells(level_db: float, width: int, floor_db: float = FLOOR_DB) -> int:
    """How many of ``width`` cells a dBFS level fills (``-inf`` and NaN fill none)."""
    if width <= 0 or math.isnan(level_db) or level_db <= floor_db:
        return 0
    fraction = min(1.0, (level_db - floor_db) / -floor_db)
    return max(1, round(fraction * width))


def level_band(level_db: float) -> str:
    """Colour band of a level: ``high`` near clipping, ``mid`` for speech, else ``low``."""
    if level_db >= -6:
        return "high"
    if level_db >= -24:
        return "mid"
    return "low"


class LevelMeter(Widget):
    """``label ▮▮▮▮▮▯▯▯▯ -18 dB`` — the label is fixed, the bar takes the rest of the width."""

    COMPONENT_CLASSES = {
        "level-meter--label",
        "level-meter--low",
        "level-meter--mid",
        "level-meter--high",
        "level-meter--empty",
        "level-meter--off",
    }

    DEFAULT_CSS = """
    LevelMeter { height: 1; width: 1fr; }
    LevelMeter > .level-meter--label { color: $foreground-muted; }
    LevelMeter > .level-meter--low { color: $success; }
    LevelMeter > .level-meter--mid { color: $warning; }
    LevelMeter > .level-meter--high { color: $error; }
    LevelMeter > .level-meter--empty { color: $panel-lighten-2; }
    LevelMeter > .level-meter--off { color: $foreground-muted; text-style: italic; }
    """

    def __init__(self, label: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._label = label
        self._level = -math.inf
        self._shown: tuple[int, int] | None = None
        self._off_text: str | None = None

    @property
    def level_db(self) -> float:
        return self._level

    def set_level(self, level_db: float) -> None:
        self._level = level_db
        self._off_text = None
        shown = (
            meter_cells(level_db, self._bar_width()),
            round(level_db) if math.isfinite(level_db) else -999,
        )
        if shown != self._shown:
            self._shown = shown
            self.refresh()

    def set_off(self, text: str) -> None:
        """Show ``text`` instead of a bar (muted, no audio)."""
        if text != self._off_text:
            self._off_text = text
            self._shown = None
            self.refresh()

    def _bar_width(self) -> int:
        return max(0, self.size.width - len(self._label) - 1 - 7)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y != 0:
            return Strip.blank(width, base)
        label_style = base + self.get_component_rich_style("level-meter--label")
        segments = [Segment(self._label + " ", label_style)]
        if self._off_text is not None:
            segments.append(Segment(self._off_text, base + self.get_component_rich_style("level-meter--off")))
            return Strip(segments).crop_extend(0, width, base)
        bar = self._bar_width()
        filled = meter_cells(self._level, bar)
        band = self.get_component_rich_style(f"level-meter--{level_band(self._level)}")
        empty = self.get_component_rich_style("level-meter--empty")
        segments.append(Segment("▮" * filled, base + band))
        segments.append(Segment("▯" * (bar - filled), base + empty))
        reading = f"{self._level:.0f} dB" if math.isfinite(self._level) and self._level > FLOOR_DB else "— dB"
        segments.append(Segment(" " + reading.rjust(6)[-6:], base + Style(dim=True)))
        return Strip(segments).crop_extend(0, width, base)


class AgentLevelMeter(LevelMeter):
    """A :class:`LevelMeter` that follows its :class:`~.provider.SessionProvider`'s ``levels``: the
    agent's voice (``source="agent"``) or the microphone (``"microphone"``, which reads "muted" while
    muted), and "no audio" in a session without audio."""

    def __init__(
        self,
        source: Literal["agent", "microphone"] = "agent",
        *,
        label: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(label or ("voice" if source == "agent" else "mic"), id=id, classes=classes)
        self.source = source

    def on_mount(self) -> None:
        provider = provider_of(self)
        self.watch(provider, "levels", self._show)

    def _show(self, levels: AudioLevels | None) -> None:
        if levels is None:
            self.set_off("no audio")
        elif self.source == "agent":
            self.set_level(levels.agent_db)
        elif levels.mic_db is None:
            self.set_off("muted")
        else:
            self.set_level(levels.mic_db)
