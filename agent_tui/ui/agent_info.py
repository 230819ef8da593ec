"""``AgentInfo``: who the agent is and what it shares: its name, the room, and its attributes live.

Follows the provider's ``agent_name``, ``room`` and ``agent_attributes`` (the agent's shared state:
LiveKit's own ``lk.*`` keys dimmed, the keys that changed last in bold). Styling: ``#agent-info-name``,
``#agent-info-room`` and the :class:`~.attributes_panel.AttributesPanel` inside.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from .attributes_panel import AttributesPanel
from .provider import provider_of

__all__ = ["AgentInfo"]


class AgentInfo(Vertical):
    """See the module docstring."""

    DEFAULT_CSS = """
    AgentInfo { height: auto; }
    AgentInfo #agent-info-name { text-style: bold; }
    AgentInfo #agent-info-room { color: $foreground-muted; }
    AgentInfo AttributesPanel { height: auto; max-height: 12; }
    """

    def compose(self) -> ComposeResult:
        yield Label("No agent yet", id="agent-info-name")
        yield Label("", id="agent-info-room")
        yield AttributesPanel(id="agent-info-attributes")

    def on_mount(self) -> None:
        provider = provider_of(self)
        name = self.query_one("#agent-info-name", Label)
        room = self.query_one("#agent-info-room", Label)
        attributes = self.query_one(AttributesPanel)
        self.watch(provider, "agent_name", lambda value: name.update(value or "No agent yet"))
        self.watch(provider, "room", lambda value: room.update(f"room: {value}" if value else ""))
        self.watch(provider, "agent_attributes", lambda shown: attributes.set_attributes(*shown))
