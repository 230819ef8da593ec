"""Changing a one-line label's text without paying for a layout pass of the whole screen.

``Static.update`` lays the screen out again by default, because new text may change the widget's size;
at the app's refresh rate (15 Hz) the elapsed clock and the state spinner did that on every tick, and
layout was most of the app's CPU while the agent spoke. A line whose text is unchanged needs nothing, and
one whose width in cells is unchanged needs only a repaint.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.strip import Strip
from textual.widgets import Label, Static


def show_line(label: Static, text: str) -> None:
    """Show ``text`` (one line, no markup that changes its width) in ``label``, at the least cost."""
    shown = label.content
    if isinstance(shown, str):
        if shown == text:
            return
        label.update(text, layout=cell_len(shown) != cell_len(text))
        return
    label.update(text)


class CycleLabel(Label):
    """A one-line label whose text comes round again and again (an animation's frames): each text's
    rendered line is kept, so a repaint at the animation's rate costs a lookup rather than laying out the
    text anew; the lines are dropped when the label's styles change (its colour follows a class)."""

    #: Distinct texts kept; an animation has a handful, a text that never repeats just cycles the cache.
    KEEP = 32

    def __init__(self, content: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(content, id=id, classes=classes)
        self._lines: dict[tuple[str, int, int], Strip] = {}

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

    def render_line(self, y: int) -> Strip:
        shown = self.content
        if not isinstance(shown, str) or self.size.height != 1:
            return super().render_line(y)
        key = (shown, self.size.width, y)
        line = self._lines.get(key)
        if line is None:
            if len(self._lines) >= self.KEEP:
                self._lines.clear()
            line = self._lines[key] = super().render_line(y)
        return line
