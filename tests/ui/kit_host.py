"""A minimal host app for the Agents UI kit's tests: the widgets a test names, inside one provider over a
:class:`~agent_tui.session.testing.FakeConversation` (and optionally the recording audio), nothing
started and nothing animated unless the test says so."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.widget import Widget

from agent_tui.session import AgentState, ConnectionState, Speaker
from agent_tui.session.testing import FakeConversation
from agent_tui.ui import SessionMessage, SessionProvider
from tests.support.recording_audio import RecordingAudio


class KitHost(App[None]):
    """``widgets`` makes the provider's children; ``seen`` holds every session message that bubbled up."""

    def __init__(
        self,
        widgets: Callable[[], Iterable[Widget]],
        *,
        conversation: FakeConversation | None = None,
        audio: RecordingAudio | None = None,
        bubble: bool = True,
        autostart: bool = False,
    ) -> None:
        super().__init__()
        self.conversation = conversation or FakeConversation()
        self.audio = audio
        self._widgets = widgets
        self.seen: list[SessionMessage[Any]] = []
        # Made with the app, as agent-tui's own app does: it subscribes now, so no event is lost.
        self.provider = SessionProvider(
            self.conversation, audio=audio, refresh_hz=None, animate=True, bubble=bubble, autostart=autostart
        )

    def compose(self) -> ComposeResult:
        with self.provider:
            yield from self._widgets()

    @on(SessionMessage)
    def _bubbled(self, message: SessionMessage[Any]) -> None:
        self.seen.append(message)


def listening(conversation: FakeConversation) -> None:
    """Connected, the agent joined and listening."""
    conversation.set_connection(ConnectionState.CONNECTED)
    conversation.set_agent(AgentState.LISTENING)


def exchange(conversation: FakeConversation) -> None:
    """A question and an answer whose interim text is replaced by its final one."""
    conversation.say(Speaker.USER, "what time is it", message_id="u1")
    conversation.say(Speaker.AGENT, "The time", final=False, message_id="a1")
    conversation.say(Speaker.AGENT, "The time is noon.", message_id="a1")
