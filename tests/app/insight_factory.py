"""Real agent-insight event objects, as the Session emits them for a turn with a tool call."""

from __future__ import annotations

from agent_tui.session import Session, SessionEvent
from agent_tui.session.agent_stream.events import (
    AgentFramework,
    AgentInfo,
    ChatHistory,
    ChatItem,
    ChatMessageItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    ToolCall,
    ToolResult,
    TurnMetrics,
    TurnMetricsValues,
    VoiceLatency,
)

from .events_factory import T0, message

INSTRUCTIONS = (
    "You are the agent-tui demo agent. Answer briefly. When the user asks for the time, call the "
    "get_time tool and read its answer out; for anything else, say what you can do."
)


def agent_info(*, tools: tuple[str, ...] = ("get_time",)) -> list[object]:
    return [
        AgentInfo(id="demo_agent", instructions=INSTRUCTIONS, tools=tools, at=T0),
        AgentFramework(sdk="python", sdk_version="1.8.9", at=T0),
    ]


def voice_turn_with_tool() -> list[object]:
    """A spoken question, the agent's figures for it, a tool call and the spoken answer."""
    return [
        message("u1", "what time is it", at=T0 + 10),
        TurnMetrics(
            message_id="item_u1",
            role="user",
            metrics=TurnMetricsValues(end_of_turn_ms=310.0, transcription_delay_ms=120.0),
            at=T0 + 10.4,
        ),
        ToolCall(call_id="call_1", name="get_time", arguments="{}", at=T0 + 10.6),
        ToolResult(
            call_id="call_1", name="get_time", output="The time is 12:00.", is_error=False, at=T0 + 10.7
        ),
        VoiceLatency(
            turn=1, latency_ms=812.4, user_end=100.0, reply_start=100.8124, source="vad", at=T0 + 11
        ),
        message("a1", "The time is 12:00.", at=T0 + 11, agent=True),
        TurnMetrics(
            message_id="item_a1",
            role="assistant",
            metrics=TurnMetricsValues(e2e_ms=640.2, llm_ttft_ms=120.0, tts_ttfb_ms=95.0),
            at=T0 + 13,
        ),
    ]


def history_of_a_time_turn(at: float) -> ChatHistory:
    """The agent's answer to the history request after a typed turn with a tool call, as decoded."""
    items: tuple[ChatItem, ...] = (
        ChatMessageItem(id="item_u1", role="user", text="what time is it", created_at=at),
        FunctionCallItem(
            id="item_f1", call_id="call_1", name="get_time", arguments="{}", created_at=at + 0.5
        ),
        FunctionCallOutputItem(
            id="item_o1",
            call_id="call_1",
            name="get_time",
            output="03:11",
            is_error=False,
            created_at=at + 0.6,
        ),
        ChatMessageItem(id="item_a1", role="assistant", text="The time is 03:11.", created_at=at + 1),
    )
    return ChatHistory(items=items)


def from_the_agent(session: Session, *events: SessionEvent) -> None:
    """Hand ``events`` to the Session as its agent-session reader does: the fetched history as the answer
    to the history request, anything else as a live event. The Session's own rules (the history merge,
    each tool call once) then decide what reaches the bus and so the app."""
    for event in events:
        session.feed(event)
