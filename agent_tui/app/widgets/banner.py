"""A one-line banner under the header for what the user must not miss: connecting, reconnecting,
connection lost. Hidden when all is well, so it costs no space then."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.widgets import Static

Variant = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class BannerNote:
    """One line for the banner; no note hides it."""

    text: str
    variant: Variant = "info"


class Banner(Static):
    VARIANTS = ("info", "warning", "error")

    def show(self, text: str, variant: str = "info") -> None:
        self.update(text)
        for name in self.VARIANTS:
            self.set_class(name == variant, f"-{name}")
        self.display = True

    def hide(self) -> None:
        self.display = False

    def show_note(self, note: BannerNote | None) -> None:
        if note is None:
            self.hide()
        else:
            self.show(note.text, note.variant)
