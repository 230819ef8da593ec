"""A widget's Rich styles, kept from one repaint to the next.

Textual recomputes a widget's ``rich_style`` by walking all its ancestors on every call, and clears the
cache of its component styles on every ``refresh()``. A line-API widget that repaints at the meters' rate
(15 Hz) or paints thirty transcript lines per message paid for that walk on every line: a third of the
transcript's paint time and most of a level meter's. The styles only change when the stylesheet applies
new rules to the widget (a theme change, a class or pseudo-class such as ``:focus`` toggled on it or an
ancestor), which is when Textual calls ``notify_style_update``; the widget clears its memo there.
"""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


class StyleMemo:
    """The widget's own style and its component styles combined with it, computed once per style update."""

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self._base: Style | None = None
        self._parts: dict[str, Style] = {}
        #: Bumped by every :meth:`clear`: what a widget painted with an older generation is stale.
        self.generation = 0

    def clear(self) -> None:
        """Forget every style (call from the widget's ``notify_style_update``)."""
        self._base = None
        self._parts.clear()
        self.generation += 1

    @property
    def base(self) -> Style:
        """The widget's ``rich_style``."""
        base = self._base
        if base is None:
            base = self._base = self._widget.rich_style
        return base

    def part(self, component: str) -> Style:
        """The widget's style with the component class ``component``'s on top."""
        style = self._parts.get(component)
        if style is None:
            style = self._parts[component] = self.base + self._widget.get_component_rich_style(component)
        return style

    def component(self, component: str) -> Style:
        """The component class's own style, not combined with the widget's."""
        key = "\0" + component
        style = self._parts.get(key)
        if style is None:
            style = self._parts[key] = self._widget.get_component_rich_style(component)
        return style
