"""The agent's attributes (the shared state), updated live; LiveKit's own ``lk.*`` keys are dimmed so
the application's state stands out."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


def render_attributes(attributes: Mapping[str, str], changed: frozenset[str] = frozenset()) -> Text:
    if not attributes:
        return Text("No attributes yet.", style="dim")
    text = Text()
    for index, key in enumerate(sorted(attributes, key=lambda k: (k.startswith("lk."), k))):
        if index:
            text.append("\n")
        style = "dim" if key.startswith("lk.") else ("bold" if key in changed else "")
        text.append(key, style=f"{style} italic".strip())
        text.append(" = ", style="dim")
        text.append(attributes[key], style=style)
    return text


class AttributesPanel(VerticalScroll):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._attributes: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(render_attributes({}), id="attributes-body")

    def set_attributes(self, attributes: Mapping[str, str], changed: Mapping[str, str] | None = None) -> None:
        self._attributes = dict(attributes)
        self.query_one("#attributes-body", Static).update(
            render_attributes(attributes, frozenset(changed or ()))
        )

    @property
    def attributes(self) -> dict[str, str]:
        return dict(self._attributes)
