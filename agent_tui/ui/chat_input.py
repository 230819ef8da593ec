"""``AgentChatInput``: the chat line. Enter sends what was typed on ``lk.chat`` through the provider's
session, and the transcript shows it once the Session has it.

A message that could not be sent is given back to the line (unless something new was typed meanwhile)
and the failure is a notification, so nothing typed is lost. Blank lines are not sent. The line is
limited to :data:`MAX_CHAT_LENGTH` characters. The ``Input.Submitted`` message still bubbles, for
hosts that want it.
"""

from __future__ import annotations

from textual import work
from textual.widgets import Input

from .provider import provider_of

__all__ = ["MAX_CHAT_LENGTH", "AgentChatInput"]

#: The Go console's limit; a chat line is not a document.
MAX_CHAT_LENGTH = 1000


class AgentChatInput(Input):
    """See the module docstring."""

    DEFAULT_CSS = """
    AgentChatInput { border: round $panel; }
    AgentChatInput:focus { border: round $primary; }
    """

    def __init__(
        self,
        *,
        placeholder: str = "Type a message and press Enter",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(placeholder=placeholder, max_length=MAX_CHAT_LENGTH, id=id, classes=classes)

    def on_mount(self) -> None:
        provider_of(self)  # fail now, clearly, rather than on the first Enter

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input is not self:
            return
        text = event.value.strip()
        if not text:
            return
        self.value = ""
        self.send(text)

    @work(group="chat", exit_on_error=False)
    async def send(self, text: str) -> None:
        """Send ``text`` as a chat message; on failure give it back and say why."""
        try:
            await provider_of(self).session.send_chat(text)
        except Exception as error:
            if not self.value:
                self.value = text
            self.notify(f"Not sent: {error}", severity="error")
