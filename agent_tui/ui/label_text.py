"""Changing a one-line label's text without paying for a layout pass of the whole screen.

``Static.update`` lays the screen out again by default, because new text may change the widget's size;
at the app's refresh rate (15 Hz) the elapsed clock and the state spinner did that on every tick, and
layout was most of the app's CPU while the agent spoke. A line whose text is unchanged needs nothing, and
one whose width in cells is unchanged needs only a repaint.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static


def show_line(label: Static, text: str) -> None:
    """Show ``text`` (one line, no markup that changes its width) in ``label``, at the least cost."""
    shown = label.content
    if isinstance(shown, str):
        if shown == text:
            return
        label.update(text, layout=cell_len(shown) != cell_len(text))
        return
    label.update(text)
