"""RunPolicy: when to send the next message and how a headless run ends, fed with plain events."""

from __future__ import annotations

import pytest

from agent_tui.config import RunEnd
from agent_tui.headless.policy import Outcome, RunPolicy
from agent_tui.session.agent_state import AgentFailure, AgentState
from agent_tui.session.connection import ConnectionState
from agent_tui.session.events import AgentLeft, AgentStateChanged, ConnectionStateChanged, MessageChanged
from agent_tui.session.transcript import Message, MessageKind, Speaker


def state(new: AgentState, failure: AgentFailure | None = None) -> AgentStateChanged:
    return AgentStateChanged(state=new, previous=AgentState.CONNECTING, failure=failure)


def said(
    *,
    at: float,
    speaker: Speaker = Speaker.AGENT,
    final: bool = True,
    kind: MessageKind = MessageKind.TRANSCRIPT,
) -> MessageChanged:
    return MessageChanged(
        new=True,
        message=Message(
            id=f"m{at}",
            speaker=speaker,
            kind=kind,
            text="x",
            first_seen=at,
            final=final,
            participant_identity="p",
        ),
    )


def dropped(
    reason: str = "disconnected by the server (ROOM_DELETED)", *, deliberate: bool = False
) -> ConnectionStateChanged:
    return ConnectionStateChanged(
        state=ConnectionState.DISCONNECTED,
        previous=ConnectionState.CONNECTED,
        reason=reason,
        deliberate=deliberate,
    )


def started(exit_when: RunEnd = "idle") -> RunPolicy:
    policy = RunPolicy(exit_when=exit_when)
    policy.started()
    policy.observe(state(AgentState.LISTENING))
    return policy


def test_ready_to_send_only_while_listening_and_nothing_pending() -> None:
    policy = RunPolicy(exit_when="idle")
    assert not policy.ready_to_send
    for not_ready in (
        AgentState.CONNECTING,
        AgentState.INITIALIZING,
        AgentState.THINKING,
        AgentState.SPEAKING,
    ):
        policy.observe(state(not_ready))
        assert not policy.ready_to_send
    policy.observe(state(AgentState.LISTENING))
    assert policy.ready_to_send
    policy.sending(10.0)
    assert not policy.ready_to_send


def test_answered_needs_a_final_agent_reply_after_the_send_and_rest() -> None:
    policy = started()
    policy.sending(10.0)
    assert not policy.answered  # still listening, but nothing said yet
    policy.observe(said(at=9.0))  # the greeting, begun before our send
    policy.observe(state(AgentState.LISTENING))
    assert not policy.answered
    policy.observe(said(at=11.0, speaker=Speaker.USER))  # our own echo does not count
    policy.observe(said(at=11.0, final=False))  # an interim transcript does not count
    assert not policy.answered
    policy.observe(state(AgentState.THINKING))
    policy.observe(state(AgentState.SPEAKING))
    policy.observe(said(at=12.0))
    assert not policy.answered  # final text, but still speaking
    policy.observe(state(AgentState.LISTENING))
    assert policy.answered


def test_a_chat_reply_counts_and_idle_counts_as_rest() -> None:
    policy = started()
    policy.sending(10.0)
    policy.observe(said(at=10.5, kind=MessageKind.CHAT))
    policy.observe(state(AgentState.IDLE))
    assert policy.answered


def test_stop_waiting_releases_the_next_send() -> None:
    policy = started()
    policy.sending(10.0)
    assert not policy.ready_to_send
    policy.stop_waiting()
    assert policy.answered and policy.ready_to_send


def test_idle_ends_with_0_once_the_script_is_done_and_the_agent_listens() -> None:
    policy = started("idle")
    policy.observe(state(AgentState.SPEAKING))
    assert policy.script_finished() is None
    outcome = policy.observe(state(AgentState.LISTENING))
    assert outcome is not None and outcome.exit_code == 0 and outcome.error is None


def test_idle_does_not_end_before_the_script_is_done() -> None:
    policy = started("idle")
    assert policy.observe(state(AgentState.THINKING)) is None
    assert policy.observe(state(AgentState.LISTENING)) is None


@pytest.mark.parametrize(
    ("exit_when", "expected"), [("idle", 6), ("agent-left", 0), ("over", 6), ("never", None)]
)
def test_agent_leaving(exit_when: RunEnd, expected: int | None) -> None:
    policy = started(exit_when)
    outcome = policy.observe(AgentLeft(identity="agent-1", unexpected=True))
    if expected is None:
        assert outcome is None
    else:
        assert outcome is not None and outcome.exit_code == expected
        assert (outcome.error is None) == (expected == 0)


def test_agent_leaving_because_we_ended_is_not_an_outcome() -> None:
    policy = started("idle")
    policy.ending()
    assert policy.observe(AgentLeft(identity="agent-1", unexpected=True)) is None
    assert policy.observe(dropped("ended", deliberate=True)) is None


@pytest.mark.parametrize("exit_when", ["idle", "agent-left", "over", "never"])
def test_connection_lost_for_good_is_4_whatever_the_policy(exit_when: RunEnd) -> None:
    policy = started(exit_when)
    outcome = policy.observe(dropped())
    assert outcome is not None and outcome.exit_code == 4
    assert outcome.error is not None and "ROOM_DELETED" in outcome.error


def test_events_before_start_returned_are_left_to_the_start_error() -> None:
    policy = RunPolicy(exit_when="idle")
    assert policy.observe(dropped("start failed", deliberate=True)) is None
    assert policy.observe(AgentLeft(identity="a", unexpected=True)) is None
    assert policy.observe(state(AgentState.FAILED, AgentFailure.DID_NOT_JOIN)) is None


@pytest.mark.parametrize("failure", [AgentFailure.DID_NOT_JOIN, AgentFailure.DID_NOT_INITIALIZE])
def test_agent_timeout_after_start_is_5_except_with_never(failure: AgentFailure) -> None:
    outcome = started("idle").observe(state(AgentState.FAILED, failure))
    assert outcome == Outcome(5, "the agent did not become ready", f"{failure.value} — {failure.hint}.")
    assert started("over").observe(state(AgentState.FAILED, failure)) == outcome
    assert started("never").observe(state(AgentState.FAILED, failure)) is None


def test_the_first_outcome_sticks() -> None:
    policy = started("idle")
    first = policy.observe(dropped())
    assert first is not None
    assert policy.observe(AgentLeft(identity="a", unexpected=True)) is None
    assert policy.outcome == first
