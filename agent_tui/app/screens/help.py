"""The help screen: every binding with the keys it has after the user's keymap, and how push-to-talk
works in this terminal."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..actions import BOUND_ACTIONS, keys_for


def bindings_table(keymap: dict[str, str]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=False)
    table.add_column("group", style="bold")
    table.add_column("keys", style="bold")
    table.add_column("action")
    last_group = ""
    for action in BOUND_ACTIONS:
        group = action.group if action.group != last_group else ""
        last_group = action.group
        table.add_row(group, " / ".join(keys_for(action.id, keymap)), action.description)
    return table


#: Shown as the remapping example; a test loads it as a config file, so it cannot drift from the schema.
KEYMAP_EXAMPLE = '[app.keymap]\nmute = "f2,ctrl+g"'


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,q", "dismiss_help", "Close", show=False),
    ]

    def __init__(self, *, keymap: dict[str, str], ptt_summary: str) -> None:
        super().__init__()
        self._keys_by_id = keymap
        self._ptt_summary = ptt_summary

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Help — esc to close"
            yield Static(bindings_table(self._keys_by_id), id="help-bindings")
            yield Static(
                Text.assemble(
                    ("Push-to-talk  ", "bold"),
                    self._ptt_summary,
                    "\n\n",
                    ("Keys  ", "bold"),
                    "remap any binding by id in the config file, e.g.\n",
                    (KEYMAP_EXAMPLE, "italic"),
                    "\n\n",
                    ("Commands  ", "bold"),
                    "ctrl+p opens the palette: mute, mode, devices, send file, call RPC, export, "
                    "reconnect, echo cancellation, theme.",
                ),
                id="help-notes",
            )

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
