"""``--record-scenario FILE``: the conversation just held, written as a scenario file to replay.

What the user typed becomes a ``send`` step and what they said (their final transcripts) a ``say``
step; what the agent answered after each becomes an ``expect`` with a few distinctive words of the
answer as ``reply`` and the first tool it called as ``tool``. Those are guesses from one conversation
(an agent rarely words an answer the same way twice), so the file says so in comments and keeps the
whole answer beside each expectation for the user to edit.

The recorder only listens to the session's events (messages and live tool calls), so it works the same
for the terminal UI and the headless runner, and the file is written when the front end is done with the
session. TOML is written by hand (the standard library reads TOML but does not write it); every string
goes through :func:`toml_string`, and a test reads the output back with ``tomllib`` and the parser.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agent_tui.session import (
    EventBus,
    Message,
    MessageChanged,
    MessageKind,
    SessionEvent,
    Speaker,
    ToolCall,
)

if TYPE_CHECKING:
    from agent_tui.config import Settings

#: Most words a recorded ``reply`` expectation holds: enough to mean something, few enough to survive
#: an agent rewording its answer.
PHRASE_WORDS = 3
#: Longest the answer quoted in a comment gets.
QUOTED_ANSWER = 300

#: Words that say nothing about an answer; a recorded phrase neither starts nor ends with one.
_STOPWORDS = frozenset(
    re.split(
        r"\s+",
        """a about an and are as at be but by can could do does for from had has have he her his how i if in
        into is it it's its just me my no not of on or our she so than that the their them then there these
        they this to too us was we were what when where which who will with would you your yes okay ok sure
        well here""".strip(),
    )
)
#: The typographic apostrophe, read as the plain one.
_APOSTROPHE = "\u2019"
#: A word of an answer: letters, inner apostrophes or hyphens (no digits: times and counts change).
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
#: Where a phrase must not run across: sentence and clause punctuation, and anything with a digit.
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]\"\u201c\u201d]|\S*\d\S*")


@dataclass
class Turn:
    """One user turn and what followed it: the step to replay and the expectations to check."""

    action: Literal["send", "say"]
    text: str
    replies: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    started_at: float = 0.0

    @property
    def reply(self) -> str:
        return " ".join(reply.strip() for reply in self.replies if reply.strip())


@dataclass
class RecordedConversation:
    """The recorded conversation: what the agent said before the user's first turn, then the turns."""

    opening: list[str] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)


def conversation_from(
    messages: Sequence[Message], tool_calls: Sequence[tuple[float, str]]
) -> RecordedConversation:
    """The turns of ``messages`` (in conversation order) with each tool call (local time, name) given to
    the turn it happened in.

    The user's chat messages are each a turn; their final, not cancelled, transcripts are a turn, and
    several in a row with no answer between them (one utterance the STT cut in two) are one turn.
    """
    conversation = RecordedConversation()
    for message in messages:
        if message.speaker == Speaker.AGENT:
            if message.text.strip():
                last = conversation.turns[-1] if conversation.turns else None
                (last.replies if last is not None else conversation.opening).append(message.text)
            continue
        if message.cancelled or not message.text.strip():
            continue
        if message.kind == MessageKind.CHAT:
            conversation.turns.append(Turn("send", message.text, started_at=message.first_seen))
        elif message.final:
            last = conversation.turns[-1] if conversation.turns else None
            if last is not None and last.action == "say" and not last.replies:
                last.text = f"{last.text.strip()} {message.text.strip()}"
            else:
                conversation.turns.append(Turn("say", message.text.strip(), started_at=message.first_seen))
    for at, name in sorted(tool_calls):
        owner = None
        for turn in conversation.turns:
            if turn.started_at <= at:
                owner = turn
        if owner is not None and name not in owner.tools:
            owner.tools.append(name)
    return conversation


def distinctive_phrase(answer: str, *, max_words: int = PHRASE_WORDS) -> str | None:
    """A few words of ``answer``, exactly as they appear in it, that are most telling of it.

    The phrase stays within one clause, holds no number (a time or a count differs next run), neither
    starts nor ends with a stopword, and of all such runs of up to ``max_words`` words has the most
    letters in words that are not stopwords (the first such run wins a tie). None when the answer has no
    word that is not a stopword.
    """
    best: tuple[int, int, int] | None = None  # score, start, end (character offsets in answer)
    for clause_start, clause in _clauses(answer):
        words = [
            (m.start() + clause_start, m.end() + clause_start, m.group()) for m in _WORD.finditer(clause)
        ]
        for first in range(len(words)):
            for last in range(first, min(first + max_words, len(words))):
                run = words[first : last + 1]
                if _is_stopword(run[0][2]) or _is_stopword(run[-1][2]):
                    continue
                score = sum(len(word) for _, _, word in run if not _is_stopword(word))
                if best is None or score > best[0]:
                    best = (score, run[0][0], run[-1][1])
    if best is None:
        return None
    return answer[best[1] : best[2]]


def _clauses(text: str) -> Iterator[tuple[int, str]]:
    """The stretches of ``text`` between clause breaks, with their offsets."""
    start = 0
    for match in _CLAUSE_BREAK.finditer(text):
        yield start, text[start : match.start()]
        start = match.end()
    yield start, text[start:]


def _is_stopword(word: str) -> bool:
    return word.lower().replace(_APOSTROPHE, "'") in _STOPWORDS


# -- writing TOML ----------------------------------------------------------------------------------------
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes and backslashes escaped, control characters as escapes."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_inline_table(values: Mapping[str, str]) -> str:
    return "{ " + ", ".join(f"{toml_key(k)} = {toml_string(v)}" for k, v in values.items()) + " }"


def _comment(text: str, *, limit: int = QUOTED_ANSWER) -> str:
    """``text`` on one line, safe inside a ``#`` comment (no line breaks), cut to ``limit``."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Connection:
    """What the replay needs to reach the same agent the same way (never the server or a token)."""

    agent: str | None = None
    agent_metadata: str | None = None
    metadata: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


def scenario_text(
    conversation: RecordedConversation, connection: Connection, *, recorded_at: float, file_name: str
) -> str:
    """The conversation as a version 1 scenario file, to be saved as ``file_name``."""
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(recorded_at))
    lines = [
        f"# Recorded by agent-tui --record-scenario on {when}.",
        f"# Replay it with: agent-tui test {_comment(file_name)}",
        "#",
        "# Each step is what you typed (send) or said (say: spoken again with espeak-ng; set voice = ...",
        "# on the scenario to choose the voice). The expectations are guesses from what the agent answered",
        "# this time, with the whole answer in a comment above them: edit them, or delete those that should",
        "# not be checked. reply is a piece of text the answer must contain (any case); reply_matches",
        "# (a regex), reply_any_of, tool_args, tool_result, max_latency_ms and the rest are in the README.",
        "version = 1",
        "",
        "[[scenario]]",
        f"name = {toml_string('recorded ' + when)}",
    ]
    if connection.agent:
        lines.append(f"agent = {toml_string(connection.agent)}")
    if connection.agent_metadata:
        lines.append(f"agent_metadata = {toml_string(connection.agent_metadata)}")
    if connection.metadata:
        lines.append(f"metadata = {toml_string(connection.metadata)}")
    if connection.attributes:
        lines.append(f"attributes = {toml_inline_table(connection.attributes)}")
    opening = " ".join(text.strip() for text in conversation.opening)
    if opening:
        lines += ["", f"# The agent opened with: {_comment(opening)}"]
    for turn in conversation.turns:
        lines += ["", "[[scenario.step]]", f"{turn.action} = {toml_string(turn.text)}"]
        lines += _expect_lines(turn)
    return "\n".join(lines) + "\n"


def _expect_lines(turn: Turn) -> list[str]:
    answer = turn.reply
    phrase = distinctive_phrase(answer) if answer else None
    if phrase is None and not turn.tools:
        why = "it answered without words to expect" if answer else "no answer was seen"
        return [f"# ({why}: add expectations under [scenario.step.expect] if you want them checked)"]
    lines = ["  [scenario.step.expect]"]
    if answer:
        lines.append(f"  # the agent answered: {_comment(answer)}")
    if phrase is not None:
        lines.append(f"  reply = {toml_string(phrase)}")
    if turn.tools:
        lines.append(f"  tool = {toml_string(turn.tools[0])}")
        if len(turn.tools) > 1:
            lines.append(f"  # it also called: {_comment(', '.join(turn.tools[1:]))} (one tool per step)")
    return lines


# -- recording a session ---------------------------------------------------------------------------------
class ScenarioRecorder:
    """Keeps the latest version of every message and the tool calls with the local time each was seen.

    A call is counted whether it came live or in the agent's history: the Session announces each call
    once, by whichever arrives first, and a history fetched while the agent works on a turn can bring the
    turn's own call before the live event does. The time it was seen places it in a turn, so the calls
    of a history fetched when the agent joined (before anything was said) belong to none.
    """

    def __init__(self) -> None:
        self._messages: dict[str, Message] = {}
        self._tool_calls: list[tuple[float, str]] = []

    def on_event(self, event: SessionEvent) -> None:
        if isinstance(event, MessageChanged):
            self._messages[event.message.id] = event.message
        elif isinstance(event, ToolCall):
            self._tool_calls.append((event.at, event.name))

    def conversation(self) -> RecordedConversation:
        return conversation_from(list(self._messages.values()), self._tool_calls)


def write_scenario(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file beside it, then renamed), private
    to the user (0600, as the transcript file): it holds what was said."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise


@contextlib.contextmanager
def recording(
    events: EventBus, path: Path | None, connection: Connection, *, on_warning: Callable[[str], None]
) -> Iterator[ScenarioRecorder | None]:
    """Record ``events`` while the block runs, then write the scenario to ``path`` (nothing when None).

    A file that cannot be written, or a conversation with nothing the user said or typed, is a warning
    through ``on_warning``: the conversation itself went fine, so it must not change the exit code.
    """
    if path is None:
        yield None
        return
    if not path.parent.is_dir():
        on_warning(f"--record-scenario {path}: no folder {path.parent}, so nothing will be recorded")
        yield None
        return
    recorder = ScenarioRecorder()
    unsubscribe = events.subscribe(recorder.on_event)
    try:
        yield recorder
    finally:
        unsubscribe()
        _save(recorder.conversation(), path, connection, on_warning)


def recording_for(
    events: EventBus, settings: Settings, *, on_warning: Callable[[str], None]
) -> contextlib.AbstractContextManager[ScenarioRecorder | None]:
    """:func:`recording` to ``settings.record_scenario`` with ``settings``' agent and participant: what a
    front end wraps around the whole conversation."""
    connection = Connection(
        agent=settings.agent,
        agent_metadata=settings.agent_metadata,
        metadata=settings.participant_metadata,
        attributes=dict(settings.attributes),
    )
    return recording(events, settings.record_scenario, connection, on_warning=on_warning)


def _save(
    conversation: RecordedConversation, path: Path, connection: Connection, on_warning: Callable[[str], None]
) -> None:
    if not conversation.turns:
        on_warning(f"--record-scenario {path}: nothing was said or typed, so no scenario was written")
        return
    try:
        write_scenario(
            path, scenario_text(conversation, connection, recorded_at=time.time(), file_name=path.name)
        )
    except OSError as error:
        on_warning(f"cannot write the scenario file {path} ({error.strerror or error})")
