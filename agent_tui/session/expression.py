"""The agent's expression (components-js ``useAgentExpression``), as a pure tracker.

With livekit-agents' Expressive Mode the agent tags each transcript segment with the ``lk.expression``
stream attribute, JSON ``{"expression": "<the TTS provider's own wording>", "mood": "<one of 11>"}``,
usually on the stream's closing trailer. The current expression is the one on the most recent segment
that carries one; it decays to nothing after ``ttl_turns`` later segments of the same speaker without a
new one (``DEFAULT_MOOD_TTL_TURNS = 2``), so one excited sentence does not leave the agent excited for
the rest of the session. Other participants' segments (the user's transcripts) do not age it. A payload
that is not JSON, or has neither field, is no expression; a blank wording counts as none.

Where we differ from components-js: a ``mood`` outside the 11 it names is kept as ``None`` (its wording
is kept), since the agent is meant to normalise to that set and a front end can only style those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

#: The transcript stream attribute Expressive Mode publishes (components-core ``ParticipantAgentAttributes``).
EXPRESSION_ATTRIBUTE = "lk.expression"
#: Later segments of the same speaker an expression survives (components-js ``DEFAULT_MOOD_TTL_TURNS``).
DEFAULT_MOOD_TTL_TURNS = 2


class AgentMood(StrEnum):
    """The normalised moods (components-js ``AgentMood``)."""

    EXCITED = "excited"
    HAPPY = "happy"
    PLAYFUL = "playful"
    CURIOUS = "curious"
    SURPRISED = "surprised"
    HOPEFUL = "hopeful"
    EMPATHETIC = "empathetic"
    SAD = "sad"
    ANGRY = "angry"
    ANXIOUS = "anxious"
    CALM = "calm"


@dataclass(frozen=True)
class AgentExpression:
    """The agent's delivery now: the normalised ``mood`` and the provider's ``expression`` wording;
    both None when it has expressed nothing recently."""

    mood: AgentMood | None = None
    expression: str | None = None

    @property
    def is_neutral(self) -> bool:
        return self.mood is None and self.expression is None


NEUTRAL = AgentExpression()


def parse_expression(attributes: Mapping[str, str] | None) -> AgentExpression | None:
    """The expression a segment's attributes carry, or None (components-js ``parseExpression``)."""
    raw = (attributes or {}).get(EXPRESSION_ATTRIBUTE)
    if not raw:
        return None
    try:
        payload = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict):
        return None
    wording = payload.get("expression")
    expression = wording.strip() or None if isinstance(wording, str) else None
    mood_value = payload.get("mood")
    if not expression and not mood_value:
        return None
    try:
        mood = AgentMood(mood_value) if isinstance(mood_value, str) else None
    except ValueError:
        mood = None
    if mood is None and expression is None:
        return None
    return AgentExpression(mood=mood, expression=expression)


class ExpressionTracker:
    """Follows transcript segments in first-arrival order and knows the current expression.

    Feed it every transcription stream as it opens and as it closes (the trailer's attributes): a
    segment is identified by ``segment`` (``lk.segment_id``, else the stream id) and ``speaker``.
    """

    def __init__(self, *, ttl_turns: int = DEFAULT_MOOD_TTL_TURNS) -> None:
        self._ttl = ttl_turns
        self._order: dict[tuple[str, str], int] = {}
        self._current: AgentExpression | None = None
        self._current_at = -1
        self._speaker: str | None = None
        #: The later segments of the expressing speaker, which age the current expression.
        self._later: set[tuple[str, str]] = set()

    @property
    def current(self) -> AgentExpression:
        if self._current is None or (self._ttl > 0 and len(self._later) >= self._ttl):
            return NEUTRAL
        return self._current

    def segment(self, *, segment: str, speaker: str, attributes: Mapping[str, str] | None) -> AgentExpression:
        """Take one look at a segment (new, or updated); returns the current expression after it."""
        key = (speaker, segment)
        position = self._order.setdefault(key, len(self._order))
        parsed = parse_expression(attributes)
        if parsed is not None and position >= self._current_at:
            if position > self._current_at:
                self._later = {k for k, at in self._order.items() if at > position and k[0] == speaker}
            self._current, self._current_at, self._speaker = parsed, position, speaker
        elif self._current is not None and position > self._current_at and speaker == self._speaker:
            self._later.add(key)
        return self.current

    def reset(self) -> None:
        """Forget everything (a new connection starts a new transcript)."""
        self._order.clear()
        self._current, self._current_at, self._speaker = None, -1, None
        self._later.clear()
