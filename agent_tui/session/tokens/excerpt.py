"""Quoting untrusted text (a token server's reply, a URL) inside a one-line error message.

A failing token server's body is the best clue a user gets, but it may echo what it was sent (API keys in
headers) or what it minted (a token), and it may be a whole HTML page. Messages are printed and logged as
they are, so the quote is scrubbed by :func:`~agent_tui.session.redaction.redact`, put on one printable line
and cut short.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent_tui.session.redaction import REDACTED, redact


def excerpt(text: str, *, limit: int = 120, secrets: Iterable[str] = ()) -> str:
    """At most ``limit`` printable characters of ``text`` on one line, credentials replaced by '…'.

    ``secrets`` are values known to be sensitive (our own request headers), replaced even where no pattern
    would recognise them. Scrubbing happens before cutting, so a secret that straddles the limit cannot
    leave a readable prefix behind.
    """
    text = " ".join(redact(text, *secrets).split())
    text = "".join(char if char.isprintable() else "?" for char in text)
    if len(text) > limit:
        text = text[:limit].rstrip() + REDACTED
    return text
