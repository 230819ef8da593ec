"""``AgentChatTranscript``: both sides of the conversation from the provider, interim speech in place.

A :class:`~.transcript_view.TranscriptView` (follows the newest line unless scrolled back, bounded to
``max_entries``) that its :class:`~.provider.SessionProvider` fills: every message change it follows
becomes one entry, keyed by the provider's session generation and the
message id, so a final transcript replaces its interim text and a restarted session never overwrites
the previous one's lines. The agent's tool calls are lines of their own, rewritten in place as they run
and finish (:mod:`.tool_lines`); when the calls running change, :class:`ToolsRunning` bubbles up. The
host adds its own lines with :meth:`add_notice` (or any entry kind, :class:`~.transcript_view.EntryKind`,
with ``upsert``). Styling: the component
classes ``transcript--user``, ``--agent``, ``--notice``, ``--error``, ``--tool``, ``--timing``,
``--interim``, ``--cancelled``, ``--time``, ``--text``, ``--empty``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.message import Message as TextualMessage

from agent_tui.session import Message, Speaker, ToolCall, ToolResult, ToolUpdate

from .messages import AgentArrived, InsightReceived, SessionMessage, TranscriptMessage
from .provider import SessionProvider, provider_of
from .tool_lines import ToolLines
from .transcript_view import EntryKind, TranscriptEntry, TranscriptView, format_clock

__all__ = ["AgentChatTranscript"]


class AgentChatTranscript(TranscriptView):
    """See the module docstring."""

    class ToolsRunning(TextualMessage):
        """The agent's tool calls running now changed: their names (empty when none runs)."""

        def __init__(self, running: tuple[str, ...]) -> None:
            super().__init__()
            self.running = running

    def __init__(
        self,
        *,
        max_entries: int = 5000,
        clock_format: Callable[[float], str] = format_clock,
        empty_text: str = "No messages yet. Speak, or type below and press Enter.",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            max_entries=max_entries, clock_format=clock_format, empty_text=empty_text, id=id, classes=classes
        )
        self._provider: SessionProvider | None = None
        self._unfollow: Callable[[], None] | None = None
        self._notices = 0
        self.tools = ToolLines(self)

    def on_mount(self) -> None:
        provider = self._provider = provider_of(self)
        for said in provider.session.messages:  # what was said before this widget came
            self.show_message(said)
        self._unfollow = provider.follow(self._followed)

    def on_unmount(self) -> None:
        if self._unfollow is not None:
            self._unfollow()

    def _followed(self, message: SessionMessage[Any]) -> None:
        if isinstance(message, TranscriptMessage):
            self.show_message(message.event.message)
        elif isinstance(message, AgentArrived):
            self._tools_changed(self.tools.agent_changed)
        elif isinstance(message, InsightReceived):
            event = message.event
            if isinstance(event, ToolCall | ToolUpdate | ToolResult):
                self._tools_changed(lambda: self.tools.show(event))

    def _tools_changed(self, change: Callable[[], None]) -> None:
        before = self.tools.running
        change()
        if self.tools.running != before:
            # Made on this widget's own loop: a message made in the provider's handler (where followers
            # run) has the provider as its sender and stops bubbling there, short of the host.
            self.call_later(self._report_running, self.tools.running)

    def _report_running(self, running: tuple[str, ...]) -> None:
        self.post_message(self.ToolsRunning(running))

    def show_message(self, said: Message) -> None:
        """Add or update the entry of one message (the provider calls it for each change)."""
        agent = said.speaker is Speaker.AGENT
        generation = self._provider.generation if self._provider is not None else 0
        self.upsert(
            TranscriptEntry(
                key=f"{generation}:{said.id}",
                kind=EntryKind.AGENT if agent else EntryKind.USER,
                text=said.text,
                at=said.first_seen,
                final=said.final,
                label="Agent" if agent else "You",
                cancelled=said.cancelled,
            )
        )

    def add_notice(self, text: str, *, error: bool = False, at: float | None = None) -> None:
        """A line of the host's own (a file saved, an RPC's reply, the connection lost)."""
        self._notices += 1
        self.upsert(
            TranscriptEntry(
                key=f"notice:{self._notices}",
                kind=EntryKind.ERROR if error else EntryKind.NOTICE,
                text=text,
                at=time.time() if at is None else at,
            )
        )
