"""Small input dialogs opened from the palette: call an RPC method, send a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


@dataclass(frozen=True)
class RpcRequest:
    method: str
    payload: str


@dataclass(frozen=True)
class FileRequest:
    path: Path
    topic: str


class RpcDialog(ModalScreen[RpcRequest | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, *, method: str = "", payload: str = "") -> None:
        super().__init__()
        self._method = method
        self._payload = payload

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Call an RPC method on the agent"
            yield Label("Method")
            yield Input(self._method, placeholder="e.g. get_weather", id="rpc-method")
            yield Label("Payload (text, often JSON)")
            yield Input(self._payload, placeholder='e.g. {"city": "Paris"}', id="rpc-payload")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Call", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        method = self.query_one("#rpc-method", Input).value.strip()
        if not method:
            self.notify("Enter the method name.", severity="warning")
            self.query_one("#rpc-method", Input).focus()
            return
        self.dismiss(RpcRequest(method=method, payload=self.query_one("#rpc-payload", Input).value))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class FileDialog(ModalScreen[FileRequest | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, *, topic: str) -> None:
        super().__init__()
        self._topic = topic

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Send a file or image to the agent"
            yield Label("Path")
            yield Input(placeholder="~/Pictures/photo.jpg", id="file-path")
            yield Label("Topic")
            yield Input(self._topic, id="file-topic")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        raw = self.query_one("#file-path", Input).value.strip()
        topic = self.query_one("#file-topic", Input).value.strip() or self._topic
        if not raw:
            self.notify("Enter the path of the file to send.", severity="warning")
            return
        self.dismiss(FileRequest(path=Path(raw).expanduser(), topic=topic))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
