"""A one-line audio level meter that repaints only when what it shows changes.

The app polls levels at its own bounded rate (``refresh_hz``); the meter quantises each reading to whole
cells, so a steady level costs no repaint at all and a noisy one at most one per poll. A repaint itself
is a lookup: the line for each (cells, reading) is built once and kept until the styles change, since
building it (segments, styles combined with the widget's) was most of what a meter cost while the
agent spoke.
"""

from __future__ import annotations

import math
from typing import Literal

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from .provider import AudioLevels, provider_of
from .style_memo import StyleMemo

#: Readings at or below this are drawn as an empty meter.
FLOOR_DB = -60.0

#: Lines kept per meter: every (cells, whole-dB reading) a 40-cell meter can show is far fewer.
_LINE_CACHE = 512


def meter_cells(level_db: float, width: int, floor_db: float = FLOOR_DB) -> int:
    """How many of ``width`` cells a dBFS level fills (``-inf`` and NaN fill none)."""
    if width <= 0 or math.isnan(level_db) or level_db <= floor_db:
        return 0
    fraction = min(1.0, (level_db - floor_db) / -floor_db)
    return max(1, round(fraction * width))


def _reading(level_db: float) -> str:
    return f"{level_db:.0f} dB" if math.isfinite(level_db) and level_db > FLOOR_DB else "— dB"


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
        self._styles_memo = StyleMemo(self)
        self._lines: dict[tuple[object, ...], Strip] = {}

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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_memo.clear()
        self._lines.clear()

    def _bar_width(self) -> int:
        return max(0, self.size.width - len(self._label) - 1 - 7)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        styles = self._styles_memo
        if y != 0:
            return Strip.blank(width, styles.base)
        bar = self._bar_width()
        if self._off_text is not None:
            key: tuple[object, ...] = (width, self._off_text)
        else:
            key = (width, meter_cells(self._level, bar), _reading(self._level), level_band(self._level))
        line = self._lines.get(key)
        if line is None:
            if len(self._lines) >= _LINE_CACHE:
                self._lines.clear()
            line = self._lines[key] = self._build_line(width, bar)
        return line

    def _build_line(self, width: int, bar: int) -> Strip:
        styles = self._styles_memo
        base = styles.base
        segments = [Segment(self._label + " ", styles.part("level-meter--label"))]
        if self._off_text is not None:
            segments.append(Segment(self._off_text, styles.part("level-meter--off")))
            return Strip(segments).crop_extend(0, width, base)
        filled = meter_cells(self._level, bar)
        segments.append(Segment("▮" * filled, styles.part(f"level-meter--{level_band(self._level)}")))
        segments.append(Segment("▯" * (bar - filled), styles.part("level-meter--empty")))
        segments.append(Segment(" " + _reading(self._level).rjust(6)[-6:], base + Style(dim=True)))
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
