"""The error panel: what happened, what to do, and the choices that make sense (retry, carry on, quit)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from ..problems import Problem


class ErrorPanel(ModalScreen[str]):
    """Dismisses with ``"retry"``, ``"close"`` or ``"quit"``."""

    BINDINGS = [
        Binding("r", "choose('retry')", "Retry", show=False),
        Binding("escape", "choose('close')", "Close", show=False),
        Binding("q", "choose('quit')", "Quit", show=False),
    ]

    def __init__(self, problem: Problem) -> None:
        super().__init__(classes=f"-{problem.kind}")
        self.problem = problem

    def compose(self) -> ComposeResult:
        problem = self.problem
        with Vertical(id="error-box") as box:
            box.border_title = "Problem"
            yield Label(f"✖ {problem.title}", id="error-title")
            yield Static(problem.message, id="error-message")
            if problem.hint:
                yield Static(problem.hint, id="error-hint")
            with Horizontal(id="error-buttons"):
                if problem.retry:
                    yield Button("Retry (r)", id="retry", variant="primary")
                yield Button("Continue (esc)" if not problem.retry else "Close (esc)", id="close")
                yield Button("Quit (q)", id="quit", variant="error")

    def on_mount(self) -> None:
        self.query_one("#retry" if self.problem.retry else "#close", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id:
            self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        if choice == "retry" and not self.problem.retry:
            return
        self.dismiss(choice)
