"""The top line: room, agent, connection state and how long the session has run."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from agent_tui.session import ConnectionState
from agent_tui.ui.label_text import show_line

_CONNECTION_TEXT = {
    ConnectionState.DISCONNECTED: "○ disconnected",
    ConnectionState.CONNECTING: "◌ connecting…",
    ConnectionState.CONNECTED: "● connected",
    ConnectionState.RECONNECTING: "◌ reconnecting…",
}


def format_elapsed(seconds: float | None) -> str:
    """``MM:SS``, or ``H:MM:SS`` past an hour; ``--:--`` before the session has started."""
    if seconds is None:
        return "--:--"
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class HeaderBar(Horizontal):
    """Labels updated by the app; no timers of its own, so snapshots are stable."""

    def compose(self) -> ComposeResult:
        yield Label("agent-tui", id="header-title")
        yield Label("room —", id="header-room")
        yield Label("agent —", id="header-agent")
        yield Label(
            _CONNECTION_TEXT[ConnectionState.DISCONNECTED], id="header-connection", classes="-disconnected"
        )
        yield Label("", id="header-spacer")
        yield Label(format_elapsed(None), id="header-elapsed")

    def set_room(self, room: str | None) -> None:
        self.query_one("#header-room", Label).update(f"room {room or '—'}")

    def set_agent(self, name: str | None) -> None:
        self.query_one("#header-agent", Label).update(f"agent {name or '—'}")

    def set_connection(self, state: ConnectionState) -> None:
        label = self.query_one("#header-connection", Label)
        label.update(_CONNECTION_TEXT[state])
        for other in ConnectionState:
            label.set_class(other is state, f"-{other.value}")

    def set_elapsed(self, seconds: float | None) -> None:
        show_line(self.query_one("#header-elapsed", Label), format_elapsed(seconds))
