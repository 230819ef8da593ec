"""Layout containers that paint nothing of their own and give what they hold a clipping region of its own.

Two facts about Textual's compositor make these worth having. Each frame it repaints every widget whose
*clipping region* — its parent's region — meets the box drawn around that frame's changes, whole and line
by line, even when the widget itself did not change. And a container paints its background through the
same per-line machinery as a widget with content. So while the agent speaks, the spinner and two level
meters in the sidebar made the transcript, its scroll bar, the attributes panel, the chat input and every
container around them go through the compositor fifteen times a second.

A pane fixes both: it is ``BLANK`` (its lines are one cached blank strip in its background), and a widget
alone in a pane is clipped to the pane, so it is left out of frames whose changes are elsewhere.
"""

from __future__ import annotations

from textual.containers import Horizontal, Vertical


class VerticalPane(Vertical):
    """A :class:`~textual.containers.Vertical` that paints only its background."""

    BLANK = True


class HorizontalPane(Horizontal):
    """A :class:`~textual.containers.Horizontal` that paints only its background."""

    BLANK = True
