"""A one-line banner under the header for what the user must not miss: connecting, reconnecting,
connection lost. Hidden when all is well, so it costs no space then."""

from __future__ import annotations

from textual.widgets import Static


class Banner(Static):
    VARIANTS = ("info", "warning", "error")

    def show(self, text: str, variant: str = "info") -> None:
        self.update(text)
        for name in self.VARIANTS:
            self.set_class(name == variant, f"-{name}")
        self.display = True

    def hide(self) -> None:
        self.display = False
