"""Real Session event objects for the states a test wants, in the order a Session emits them."""

from __future__ import annotations

from agent_tui.session import (
    AgentFailure,
    AgentJoined,
    AgentState,
    AgentStateChanged,
    ConnectionState,
    ConnectionStateChanged,
    MessageChanged,
)
from agent_tui.session.transcript import Message, MessageKind, Speaker

#: Fixed event time (2024-05-01 12:00:00 UTC), so notices in snapshots do not carry today's clock.
T0 = 1_714_564_800.0


def connected() -> list[object]:
    return [
        ConnectionStateChanged(state=ConnectionState.CONNECTING, previous=ConnectionState.DISCONNECTED),
        AgentStateChanged(state=AgentState.CONNECTING, previous=AgentState.DISCONNECTED),
        ConnectionStateChanged(state=ConnectionState.CONNECTED, previous=ConnectionState.CONNECTING),
    ]


def disconnected(reason: str, *, deliberate: bool = False, at: float | None = None) -> ConnectionStateChanged:
    """The connection ends: ``deliberate`` when we end it (as ``Session.end`` says), else it was lost."""
    times = {} if at is None else {"at": at}
    return ConnectionStateChanged(
        state=ConnectionState.DISCONNECTED,
        previous=ConnectionState.CONNECTED,
        reason=reason,
        deliberate=deliberate,
        **times,
    )


def agent_listening(name: str = "demo-agent") -> list[object]:
    return [
        *connected(),
        AgentJoined(
            identity="agent-AJ_1",
            name=name,
            attributes={"lk.agent.state": "listening", "topic": "weather"},
            at=T0,
        ),
        AgentStateChanged(state=AgentState.LISTENING, previous=AgentState.CONNECTING),
    ]


def agent_state(
    state: AgentState, previous: AgentState, failure: AgentFailure | None = None
) -> AgentStateChanged:
    return AgentStateChanged(state=state, previous=previous, failure=failure)


def message(
    message_id: str, text: str, *, at: float, agent: bool = False, final: bool = True, chat: bool = False
) -> MessageChanged:
    return MessageChanged(
        message=Message(
            id=message_id,
            speaker=Speaker.AGENT if agent else Speaker.USER,
            kind=MessageKind.CHAT if chat else MessageKind.TRANSCRIPT,
            text=text,
            first_seen=at,
            final=final,
            participant_identity="agent-AJ_1" if agent else "user-1",
        ),
        new=True,
    )
