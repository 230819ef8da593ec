"""Merging the agent's fetched history: messages and tool calls in conversation order, each call once."""

from __future__ import annotations

import pytest

from agent_tui.session import LiteralTokenSource, Session, SessionEvent, SessionOptions
from agent_tui.session.agent_stream.events import (
    AgentHandoffItem,
    ChatHistory,
    ChatItem,
    ChatMessageItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    ToolCall,
    ToolResult,
)
from agent_tui.session.agent_stream.history import (
    HistoryEvent,
    ToolCallLedger,
    conversation_order,
    merge_history,
)
from agent_tui.session.events import MessageChanged
from agent_tui.session.transcript import Speaker, TranscriptAssembler

USER = "user-1"
AGENT = "agent-1"
NOW = 1_700_000_100.0
T = 1_700_000_000.0  # the agent's clock


def said(item_id: str, role: str, text: str, at: float | None) -> ChatMessageItem:
    return ChatMessageItem(id=item_id, role=role, text=text, created_at=at)


def call(call_id: str, at: float | None, name: str = "get_time", arguments: str = "{}") -> FunctionCallItem:
    return FunctionCallItem(
        id=f"item_{call_id}", call_id=call_id, name=name, arguments=arguments, created_at=at
    )


def output(
    call_id: str, at: float | None, text: str = "03:11", *, error: bool = False
) -> FunctionCallOutputItem:
    return FunctionCallOutputItem(
        id=f"out_{call_id}", call_id=call_id, name="get_time", output=text, is_error=error, created_at=at
    )


def time_turn() -> list[ChatItem]:
    """A typed question, the tool call the LLM made for it, its output, and the answer."""
    return [
        said("m1", "user", "what time is it", T),
        call("call_1", T + 0.5),
        output("call_1", T + 0.6),
        said("m2", "assistant", "The time is 03:11.", T + 1.0),
    ]


class Merger:
    """One client's transcript and tool ledger, as a Session keeps them for a connection."""

    def __init__(self) -> None:
        self.transcript = TranscriptAssembler(USER)
        self.tools = ToolCallLedger()

    def merge(self, items: list[ChatItem]) -> list[HistoryEvent]:
        return merge_history(
            items,
            transcript=self.transcript,
            tools=self.tools,
            local_identity=USER,
            agent_identity=AGENT,
            now=NOW,
        )


def shape(events: list[HistoryEvent]) -> list[str]:
    """Each event in a word: ``user:text``, ``agent:text``, ``call:id`` or ``result:id=output``."""
    out: list[str] = []
    for event in events:
        if isinstance(event, MessageChanged):
            out.append(f"{event.message.speaker.value}:{event.message.text}")
        elif isinstance(event, ToolCall):
            out.append(f"call:{event.call_id}")
        else:
            out.append(f"result:{event.call_id}={event.output}")
    return out


# -- order ---------------------------------------------------------------------------------------------------
def test_a_late_joiner_gets_the_turn_with_its_tool_call_between_the_messages() -> None:
    events = Merger().merge(time_turn())
    assert shape(events) == [
        "user:what time is it",
        "call:call_1",
        "result:call_1=03:11",
        "agent:The time is 03:11.",
    ]
    _, tool_call, tool_result, answer = events
    assert isinstance(tool_call, ToolCall) and isinstance(tool_result, ToolResult)
    assert (tool_call.name, tool_call.arguments, tool_call.id) == ("get_time", "{}", "item_call_1")
    assert tool_call.from_history and tool_result.from_history
    assert (tool_call.created_at, tool_result.created_at) == (T + 0.5, T + 0.6)
    assert not tool_result.is_error and tool_result.name == "get_time"
    assert all(event.at == NOW for event in events)
    assert isinstance(answer, MessageChanged) and answer.new
    assert answer.message.first_seen == T + 1.0 and answer.message.participant_identity == AGENT


def test_items_are_ordered_by_the_agents_created_at() -> None:
    shuffled = [
        said("m2", "assistant", "The time is 03:11.", T + 1.0),
        output("call_1", T + 0.6),
        said("m1", "user", "what time is it", T),
        call("call_1", T + 0.5),
    ]
    assert shape(Merger().merge(shuffled)) == [
        "user:what time is it",
        "call:call_1",
        "result:call_1=03:11",
        "agent:The time is 03:11.",
    ]


def test_an_item_without_a_time_stays_after_the_item_before_it_and_ties_keep_their_order() -> None:
    a = said("a", "user", "a", T + 2)
    b = call("b", None)
    c = said("c", "user", "c", T + 1)
    d = call("d", T + 1)  # same time as c: stays after it
    first = call("first", None)  # nothing before it: stays first
    assert conversation_order([first, a, b, c, d]) == [first, c, d, a, b]


def test_system_messages_and_handoffs_are_not_part_of_the_transcript() -> None:
    items: list[ChatItem] = [
        said("s", "system", "You are a helpful agent.", T - 1),
        AgentHandoffItem(id="h", old_agent_id="", new_agent_id="demo", created_at=T - 0.5),
        *time_turn(),
    ]
    assert len(Merger().merge(items)) == 4


# -- once per call id --------------------------------------------------------------------------------------
def test_a_re_fetched_history_adds_only_what_is_new() -> None:
    merger = Merger()
    merger.merge(time_turn())
    assert merger.merge(time_turn()) == []
    later = [
        *time_turn(),
        said("m3", "user", "and in Paris", T + 5),
        call("call_2", T + 5.5, arguments='{"city": "Paris"}'),
        output("call_2", T + 5.6, "05:11"),
        said("m4", "assistant", "It is 05:11 in Paris.", T + 6),
    ]
    assert shape(merger.merge(later)) == [
        "user:and in Paris",
        "call:call_2",
        "result:call_2=05:11",
        "agent:It is 05:11 in Paris.",
    ]


def test_each_message_seen_live_stands_for_one_history_item_only() -> None:
    merger = Merger()
    merger.transcript.chat(message_id="live-1", participant_identity=AGENT, text="yes", now=T)
    history = [said("h1", "assistant", "yes", T), said("h2", "assistant", "yes", T + 1)]
    # The first "yes" is the one heard live; the second was said while we were away and must show.
    assert shape(merger.merge(history)) == ["agent:yes"]
    assert [m.id for m in merger.transcript.messages] == ["live-1", "h2"]
    assert merger.merge(history) == []  # a re-fetch matches the same way


def test_two_equal_messages_both_missed_both_show() -> None:
    history = [said("h1", "user", "yes", T), said("h2", "user", "yes", T + 1)]
    assert shape(Merger().merge(history)) == ["user:yes", "user:yes"]


def test_a_call_seen_live_is_not_repeated_by_the_history() -> None:
    merger = Merger()
    assert merger.tools.admit(ToolCall(call_id="call_1", name="get_time", arguments="{}"))
    assert merger.tools.admit(ToolResult(call_id="call_1", name="get_time", output="03:11", is_error=False))
    # the messages were missed (say, a reconnect), the call was not: only the messages are added
    assert shape(merger.merge(time_turn())) == ["user:what time is it", "agent:The time is 03:11."]


def test_a_call_seen_running_live_gets_its_result_from_the_history() -> None:
    merger = Merger()
    assert merger.tools.admit(ToolCall(call_id="call_1", name="get_time", arguments="{}"))
    # ... then the connection dropped before the result; the history, fetched on reconnect, has it
    events = merger.merge(time_turn())
    assert shape(events) == ["user:what time is it", "result:call_1=03:11", "agent:The time is 03:11."]
    assert isinstance(events[1], ToolResult) and events[1].from_history
    assert merger.tools.finished("call_1")


def test_live_events_for_a_call_the_history_showed_are_dropped() -> None:
    merger = Merger()
    # joined while the tool ran: the history has the call, not yet its output
    assert shape(merger.merge([said("m1", "user", "what time is it", T), call("call_1", T + 0.5)])) == [
        "user:what time is it",
        "call:call_1",
    ]
    assert merger.tools.announced("call_1") and not merger.tools.finished("call_1")
    # the agent then reports the call with its result: the call is not announced twice, the result is new
    assert not merger.tools.admit(ToolCall(call_id="call_1", name="get_time", arguments="{}"))
    assert merger.tools.admit(ToolResult(call_id="call_1", name="get_time", output="03:11", is_error=False))
    assert not merger.tools.admit(
        ToolResult(call_id="call_1", name="get_time", output="03:11", is_error=False)
    )
    assert shape(merger.merge(time_turn())) == ["agent:The time is 03:11."]


def test_a_call_whose_result_was_shown_alone_is_not_announced_after_it() -> None:
    merger = Merger()
    assert merger.tools.admit(ToolResult(call_id="call_1", name="get_time", output="03:11", is_error=False))
    assert shape(merger.merge([call("call_1", T + 0.5), output("call_1", T + 0.6)])) == []
    assert not merger.tools.admit(ToolCall(call_id="call_1", name="get_time", arguments="{}"))


def test_an_error_output_is_reported_as_an_error() -> None:
    [tool_call, result] = Merger().merge([call("c", T), output("c", T + 1, "no such city", error=True)])
    assert isinstance(tool_call, ToolCall)
    assert isinstance(result, ToolResult) and result.is_error and result.output == "no such city"


def test_an_output_without_its_call_is_reported_on_its_own() -> None:
    assert shape(Merger().merge([output("lost", T)])) == ["result:lost=03:11"]


def test_an_empty_call_id_cannot_be_deduplicated() -> None:
    ledger = ToolCallLedger()
    assert ledger.announce("") and ledger.announce("")
    assert ledger.finish("") and ledger.finish("")
    assert not ledger.announced("")


def test_the_ledger_can_be_bounded_and_cleared() -> None:
    ledger = ToolCallLedger(max_calls=2)
    for call_id in ("a", "b", "c"):
        assert ledger.announce(call_id)
    assert not ledger.announced("a") and ledger.announced("b") and ledger.announced("c")
    ledger.clear()
    assert ledger.announce("b")


# -- the Session ---------------------------------------------------------------------------------------------
@pytest.fixture
def session() -> Session:
    """A Session never started: its agent-insight side is fed as the agent's session stream would."""
    return Session(LiteralTokenSource("ws://127.0.0.1:1", "not-a-real-token"), SessionOptions())


def test_the_session_emits_live_calls_and_the_historys_missing_parts_once(session: Session) -> None:
    seen: list[SessionEvent] = []
    session.events.subscribe(seen.append)
    live_call = ToolCall(call_id="call_1", name="get_time", arguments="{}")
    session.feed(live_call)  # a live event from the agent's stream
    session.feed(ChatHistory(items=tuple(time_turn())))  # the answer to the history request
    session.feed(ToolResult(call_id="call_1", name="get_time", output="03:11", is_error=False))
    session.feed(live_call)  # a repeat the codec would not send, dropped all the same

    kinds = [type(event).__name__ for event in seen]
    assert kinds == ["ToolCall", "ChatHistory", "MessageChanged", "ToolResult", "MessageChanged"]
    assert seen[0] is live_call
    result = seen[3]
    assert isinstance(result, ToolResult) and result.from_history
    assert [(m.speaker, m.text) for m in session.messages] == [
        (Speaker.USER, "what time is it"),
        (Speaker.AGENT, "The time is 03:11."),
    ]
