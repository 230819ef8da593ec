"""The agent's record of the conversation, merged into what this client shows when it joins or reconnects.

A client that joins late, or comes back from a reconnect, asks the agent for its chat history (a
:class:`~.insight_events.ChatHistory`). :func:`merge_history` turns that answer into the events that a
client present all along would have had and this one did not, so front ends draw them the way they draw
live ones. Rules:

* Items are taken in conversation order: by the agent's ``created_at`` (livekit-agents keeps its history
  sorted that way already); an item without one stays right after the item before it, and ties keep the
  agent's order.
* User and assistant messages go through :meth:`.TranscriptAssembler.history`: a message seen live keeps
  its place and its id, and only what we missed becomes a :class:`~.events.MessageChanged`.
* Tool calls are keyed by ``call_id`` in a :class:`ToolCallLedger` that also sees every live tool event:
  each call is announced (:class:`~.insight_events.ToolCall`) at most once and finished
  (:class:`~.insight_events.ToolResult`) at most once, by whichever source brings it first. So a call seen
  live is not repeated by a re-fetched history; a call that finished while we were away gets its result
  from the history; and a live event for a call the history already showed is dropped. Events made from
  the history have ``from_history`` set and carry the agent's ``created_at``.
* The events come out in that one order, messages and tool calls interleaved, so a front end that appends
  what it is given draws each tool call between the messages around it.

Other items (system and developer messages, handoffs, configuration updates) are not part of the
transcript; they stay available in the ``ChatHistory`` event itself.

Pure: the Session feeds it what arrives and emits what it returns.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable

from agent_tui.session.agent_stream.events import (
    ChatItem,
    ChatMessageItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    ToolCall,
    ToolResult,
)
from agent_tui.session.events import MessageChanged
from agent_tui.session.transcript import Speaker, TranscriptAssembler

HistoryEvent = MessageChanged | ToolCall | ToolResult


class ToolCallLedger:
    """Which tool calls this client has shown, live or from the history: announced, and finished.

    An empty ``call_id`` cannot be told apart from another one, so it is never deduplicated (as in the
    codec). ``max_calls`` bounds the memory of a very long session (None: every call is remembered); a call
    forgotten that way would be shown again by a later history, like a message the transcript evicted.
    """

    def __init__(self, *, max_calls: int | None = None) -> None:
        self._announced: OrderedDict[str, None] = OrderedDict()
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._max_calls = max_calls

    def admit(self, event: ToolCall | ToolResult) -> bool:
        """Record a live tool event; False when it repeats what was already shown (drop it)."""
        if isinstance(event, ToolCall):
            return self.announce(event.call_id)
        return self.finish(event.call_id)

    def announce(self, call_id: str) -> bool:
        """True the first time the call ``call_id`` is shown."""
        return self._first(self._announced, call_id)

    def finish(self, call_id: str) -> bool:
        """True the first time the result of ``call_id`` is shown; the call then counts as announced too
        (a front end shows a result without its call on its own line), so no call follows its result."""
        first = self._first(self._finished, call_id)
        if first and call_id:
            self._first(self._announced, call_id)
        return first

    def announced(self, call_id: str) -> bool:
        return call_id in self._announced

    def finished(self, call_id: str) -> bool:
        return call_id in self._finished

    def clear(self) -> None:
        self._announced.clear()
        self._finished.clear()

    def _first(self, seen: OrderedDict[str, None], call_id: str) -> bool:
        if not call_id:
            return True
        if call_id in seen:
            return False
        seen[call_id] = None
        if self._max_calls is not None and len(seen) > self._max_calls:
            seen.popitem(last=False)
        return True


def conversation_order(items: Iterable[ChatItem]) -> list[ChatItem]:
    """``items`` by ``created_at``; ties keep their order, and an item without a time stays right after
    the item before it (the first ones, before any time, stay first)."""
    keyed: list[tuple[float, ChatItem]] = []
    last = -math.inf
    for item in items:
        if item.created_at is not None:
            last = item.created_at
        keyed.append((last, item))
    keyed.sort(key=lambda pair: pair[0])  # stable
    return [item for _, item in keyed]


def merge_history(
    items: Iterable[ChatItem],
    *,
    transcript: TranscriptAssembler,
    tools: ToolCallLedger,
    local_identity: str,
    agent_identity: str,
    now: float,
) -> list[HistoryEvent]:
    """What the fetched history adds to what this client has shown, in conversation order (see the
    module docstring); ``transcript`` and ``tools`` are updated to include it. ``now`` is the local time
    of the events, and the time shown for a message the agent did not date."""
    events: list[HistoryEvent] = []
    for item in conversation_order(items):
        if isinstance(item, ChatMessageItem):
            if item.role not in ("user", "assistant"):
                continue
            speaker = Speaker.USER if item.role == "user" else Speaker.AGENT
            message = transcript.history(
                message_id=item.id,
                speaker=speaker,
                participant_identity=local_identity if speaker is Speaker.USER else agent_identity,
                text=item.text,
                first_seen=item.created_at or now,
            )
            if message is not None:
                events.append(MessageChanged(message=message, new=True, at=now))
        elif isinstance(item, FunctionCallItem):
            if tools.announce(item.call_id):
                events.append(ToolCall.of(item, created_at=item.created_at, from_history=True, at=now))
        elif isinstance(item, FunctionCallOutputItem) and tools.finish(item.call_id):
            events.append(ToolResult.of(item, created_at=item.created_at, from_history=True, at=now))
    return events
