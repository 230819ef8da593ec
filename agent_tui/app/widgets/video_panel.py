"""The agent's video, drawn with half blocks inside the app's layout.

The widget only draws: the app attaches the agent's track to an :class:`AgentVideoFeed`, which calls
:meth:`VideoPanel.show_frame` with a picture already sized to the panel. Drawing a frame is building one
strip per row once; Textual then repaints at most at its own frame rate, and frames arriving faster
than the terminal takes them just replace the pending picture (the feed's own rate limit comes first).
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from agent_tui.video.renderer_halfblock import halfblock_strips


class VideoPanel(Widget):
    """Shows the newest frame centred, or a one-line note when there is none."""

    DEFAULT_CSS = """
    VideoPanel { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._strips: list[Strip] = []
        self._note = "Waiting for the agent's video…"
        self.frames_drawn = 0

    @property
    def has_picture(self) -> bool:
        return bool(self._strips)

    def show_frame(self, rgb: np.ndarray) -> None:
        """Draw ``rgb`` (height, width, 3), already fitted to this panel (two pixel rows per cell row)."""
        self._strips = halfblock_strips(rgb)
        self.frames_drawn += 1
        self.refresh()

    def show_note(self, note: str) -> None:
        """Drop the picture and show ``note`` instead (no video yet, the agent stopped its camera)."""
        self._strips = []
        self._note = note
        self.refresh()

    def cells(self) -> tuple[int, int]:
        """The drawing area in cells (columns, rows)."""
        return self.content_size.width, self.content_size.height

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size.width, self.content_size.height
        if not self._strips:
            if y == height // 2:
                text = self._note[:width]
                pad = max(0, (width - len(text)) // 2)
                line = Strip([Segment(" " * pad + text, Style(dim=True, italic=True))])
                return line.extend_cell_length(width)
            return Strip.blank(width)
        top = max(0, (height - len(self._strips)) // 2)
        row = y - top
        if not 0 <= row < len(self._strips):
            return Strip.blank(width)
        strip = self._strips[row]
        left = max(0, (width - strip.cell_length) // 2)
        if left:
            strip = Strip([Segment(" " * left), *strip], left + strip.cell_length)
        return strip.extend_cell_length(width).crop(0, width)
