"""The chat line: what is typed here is sent on ``lk.chat`` and shows up in the transcript."""

from __future__ import annotations

from textual.widgets import Input

#: The Go console's limit; a chat line is not a document.
MAX_CHAT_LENGTH = 1000


class ChatInput(Input):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="Type a message and press Enter (F1 for help)",
            max_length=MAX_CHAT_LENGTH,
            id=id,
        )
