"""The demo agent's "language model": a small, pure, rule-based responder.

The demo must run fully offline and give the same answer to the same words every time, so that
end-to-end tests (typed text, or speech recognised with a JSGF grammar) can assert on the agent's
exact reply. A real LLM can do neither, so this module classifies the user's words into a handful of
intents and answers each one with a fixed phrasing. It knows nothing about livekit-agents; the
framework adapter lives in :mod:`agent_tui.demo.llm_rules`.

The time intent is answered in two steps, like an LLM with tools: the responder asks for the
``get_time`` tool (:attr:`Reply.tool`), and once the tool has produced the time,
:func:`time_answer` turns it into the spoken answer. That split is what makes the function call and
its output visible to clients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "ECHO_PREFIX",
    "GET_TIME_TOOL",
    "GOODBYE_TEXT",
    "GREETING_TEXT",
    "HELLO_REPLY_TEXT",
    "HELP_TEXT",
    "NOT_HEARD_TEXT",
    "TIME_FORMAT",
    "TIME_TOOL_ERROR_TEXT",
    "Intent",
    "Reply",
    "classify",
    "format_time",
    "normalize",
    "respond",
    "time_answer",
]

GET_TIME_TOOL = "get_time"
"""Name of the function tool the time intent calls; shared by the agent and the LLM adapter."""

TIME_FORMAT = "%H:%M"
"""How ``get_time`` formats the clock: 24-hour ``HH:MM``, easy to match in a test and to speak."""

GREETING_TEXT = "Hello, I am the demo agent. Ask me what time it is, or say help."
"""Spoken when the agent joins; it names the two things a first-time user can try."""

HELLO_REPLY_TEXT = "Hello there. How can I help you?"
HELP_TEXT = "I can tell you the time, repeat what you say, and say goodbye. Try asking: what time is it?"
GOODBYE_TEXT = "Goodbye. Thanks for trying the demo."
NOT_HEARD_TEXT = "Sorry, I did not catch that. Could you say it again?"
TIME_TOOL_ERROR_TEXT = "Sorry, I could not read the clock."
ECHO_PREFIX = "You said: "
"""The echo reply is ``ECHO_PREFIX + <normalised user text>``; tests strip the prefix to compare."""


class Intent(StrEnum):
    """What the user asked for. Order of checks in :func:`classify` sets the precedence."""

    TIME = "time"
    GOODBYE = "goodbye"
    HELP = "help"
    GREETING = "greeting"
    ECHO = "echo"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class Reply:
    """The responder's decision for one user turn.

    Exactly one of ``text`` and ``tool`` is set: either the agent says ``text`` now, or it must first
    call the named tool and answer with :func:`time_answer` once the tool returns.
    """

    intent: Intent
    text: str | None = None
    tool: str | None = None


_WORD_RE = re.compile(r"[a-z0-9']+")

# Whole-phrase patterns over the normalised text (lower case, single spaces, no punctuation).
# They are anchored on word boundaries so "timer" or "bye-law" style near misses do not match.
_TIME_RE = re.compile(
    r"\b(what time|the time|time is it|current time|what's the time|whats the time|clock)\b"
)
_GOODBYE_RE = re.compile(r"\b(goodbye|good bye|bye|see you|good night|farewell)\b")
_HELP_RE = re.compile(r"\b(help|what can you do|what do you do)\b")
_GREETING_RE = re.compile(r"^(hello|hi|hey|hiya|howdy|greetings|good (morning|afternoon|evening))\b")


def normalize(text: str) -> str:
    """Lower-case ``text`` and keep only its words, separated by single spaces.

    Speech recognisers give lower-case words without punctuation while typed chat has both; the
    rules must treat "What time is it?" and "what time is it" the same.
    """
    return " ".join(_WORD_RE.findall(text.lower().replace("\u2019", "'")))


def classify(text: str) -> Intent:
    """Return the intent of ``text``.

    Precedence is time, goodbye, help, greeting, echo: "hello, what time is it" is a time question,
    and only a message that is nothing but a greeting gets the greeting reply.
    """
    words = normalize(text)
    if not words:
        return Intent.EMPTY
    if _TIME_RE.search(words):
        return Intent.TIME
    if _GOODBYE_RE.search(words):
        return Intent.GOODBYE
    if _HELP_RE.search(words):
        return Intent.HELP
    if _GREETING_RE.search(words):
        return Intent.GREETING
    return Intent.ECHO


def respond(text: str) -> Reply:
    """Decide the reply to one user message (see :class:`Reply`)."""
    intent = classify(text)
    if intent is Intent.TIME:
        return Reply(intent=intent, tool=GET_TIME_TOOL)
    if intent is Intent.GOODBYE:
        return Reply(intent=intent, text=GOODBYE_TEXT)
    if intent is Intent.HELP:
        return Reply(intent=intent, text=HELP_TEXT)
    if intent is Intent.GREETING:
        return Reply(intent=intent, text=HELLO_REPLY_TEXT)
    if intent is Intent.EMPTY:
        return Reply(intent=intent, text=NOT_HEARD_TEXT)
    return Reply(intent=intent, text=ECHO_PREFIX + normalize(text))


def format_time(moment: datetime) -> str:
    """The ``get_time`` tool's output for ``moment`` (see :data:`TIME_FORMAT`)."""
    return moment.strftime(TIME_FORMAT)


def time_answer(tool_output: str) -> str:
    """The spoken answer once ``get_time`` returned ``tool_output``."""
    return f"The time is {tool_output.strip()}."
