"""The agent-state derivation and helpers, in every state, as the anchors define them."""

from __future__ import annotations

import pytest

from agent_tui.session.agent_state import (
    AgentFailure,
    AgentState,
    AgentStateMachine,
    parse_agent_attribute,
)
from agent_tui.session.connection import ConnectionState

HELPERS = {
    # state: (is_connected, can_listen, is_pending, is_finished) — components-js generateDerivedStateValues
    AgentState.DISCONNECTED: (False, False, False, True),
    AgentState.CONNECTING: (False, False, True, False),
    AgentState.PRE_CONNECT_BUFFERING: (False, True, False, False),
    AgentState.FAILED: (False, False, False, True),
    AgentState.INITIALIZING: (False, False, True, False),
    AgentState.IDLE: (False, False, True, False),
    AgentState.LISTENING: (True, True, False, False),
    AgentState.THINKING: (True, True, False, False),
    AgentState.SPEAKING: (True, True, False, False),
}


@pytest.mark.parametrize("state", list(AgentState))
def test_helpers_match_the_anchors(state: AgentState) -> None:
    assert (state.is_connected, state.can_listen, state.is_pending, state.is_finished) == HELPERS[state]


def test_every_state_has_helpers_defined() -> None:
    assert set(HELPERS) == set(AgentState)


def test_state_values_are_the_client_enum() -> None:
    assert [s.value for s in AgentState] == [
        "disconnected",
        "connecting",
        "pre-connect-buffering",
        "failed",
        "initializing",
        "idle",
        "listening",
        "thinking",
        "speaking",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("listening", AgentState.LISTENING),
        ("thinking", AgentState.THINKING),
        ("speaking", AgentState.SPEAKING),
        ("idle", AgentState.IDLE),
        ("initializing", AgentState.INITIALIZING),
        ("", None),
        (None, None),
        ("failed", None),  # a client-only state is not something an agent can report
        ("connecting", None),
        ("dancing", None),
    ],
)
def test_parse_agent_attribute(value: str | None, expected: AgentState | None) -> None:
    assert parse_agent_attribute(value) is expected


def test_derivation_order() -> None:
    m = AgentStateMachine()
    assert m.state is AgentState.DISCONNECTED
    assert m.set_connection(ConnectionState.CONNECTING).state is AgentState.CONNECTING
    assert m.set_mic_published(True).state is AgentState.PRE_CONNECT_BUFFERING
    # An agent without a state attribute does not change the derived state (JS: non-empty attribute only).
    assert m.agent_present("agent-1", None).state is AgentState.PRE_CONNECT_BUFFERING
    assert m.agent_present("agent-1", "initializing").state is AgentState.INITIALIZING
    assert m.agent_present("agent-1", "listening").state is AgentState.LISTENING
    assert m.agent_present("agent-1", "speaking").state is AgentState.SPEAKING
    assert m.agent_identity == "agent-1"


def test_connected_without_mic_is_connecting() -> None:
    m = AgentStateMachine()
    m.set_connection(ConnectionState.CONNECTED)
    assert m.state is AgentState.CONNECTING


def test_unknown_attribute_keeps_previous_derivation() -> None:
    m = AgentStateMachine()
    m.set_connection(ConnectionState.CONNECTED)
    assert m.agent_present("a", "dancing").state is AgentState.CONNECTING


def test_timeout_without_agent_is_did_not_join_and_a_late_agent_clears_it() -> None:
    m = AgentStateMachine()
    m.set_connection(ConnectionState.CONNECTED)
    snap = m.timeout_elapsed()
    assert snap.state is AgentState.FAILED
    assert snap.failure is AgentFailure.DID_NOT_JOIN
    assert snap.failure.value == "Agent did not join the room."
    # Joined but not ready: still failed, now with the other reason.
    snap = m.agent_present("agent-1", "initializing")
    assert snap.state is AgentState.FAILED
    assert snap.failure is AgentFailure.DID_NOT_INITIALIZE
    assert snap.failure.value == "Agent joined the room but did not complete initializing."
    # Ready: failed is not terminal (components-js#1236).
    snap = m.agent_present("agent-1", "listening")
    assert snap.state is AgentState.LISTENING
    assert snap.failure is None


def test_timeout_after_agent_is_connected_is_ignored() -> None:
    m = AgentStateMachine()
    m.set_connection(ConnectionState.CONNECTED)
    m.agent_present("a", "listening")
    assert m.timeout_elapsed().state is AgentState.LISTENING


def test_timeout_while_disconnected_is_ignored() -> None:
    m = AgentStateMachine()
    assert m.timeout_elapsed().state is AgentState.DISCONNECTED


def test_agent_leaving_is_a_failure_until_disconnect() -> None:
    m = AgentStateMachine()
    m.set_connection(ConnectionState.CONNECTED)
    m.agent_present("a", "speaking")
    snap = m.agent_left("a")
    assert snap.state is AgentState.FAILED
    assert snap.failure is AgentFailure.LEFT
    assert snap.failure.value == "Agent left the room unexpectedly."
    assert snap.state.is_finished
    # Cleared on room disconnect (components-js#1228).
    snap = m.set_connection(ConnectionState.DISCONNECTED)
    assert snap.state is AgentState.DISCONNECTED
    assert snap.failure is None


def test_a_new_agent_after_one_left_clears_left() -> None:
    m = AgentStateMachine()
    m.set_connection(ConnectionState.CONNECTED)
    m.agent_present("a", "listening")
    m.agent_left("a")
    assert m.agent_present("b", "listening").state is AgentState.LISTENING


def test_another_participant_leaving_is_not_the_agent_leaving() -> None:
    m = AgentStateMachine()
    m.set_connection(ConnectionState.CONNECTED)
    m.agent_present("a", "listening")
    assert m.agent_left("someone-else").state is AgentState.LISTENING


def test_reconnecting_keeps_the_agent_state() -> None:
    m = AgentStateMachine()
    m.set_connection(ConnectionState.CONNECTED)
    m.agent_present("a", "thinking")
    assert m.set_connection(ConnectionState.RECONNECTING).state is AgentState.THINKING


def test_disconnect_resets_everything() -> None:
    m = AgentStateMachine()
    m.set_connection(ConnectionState.CONNECTED)
    m.set_mic_published(True)
    m.agent_present("a", "listening")
    m.set_connection(ConnectionState.DISCONNECTED)
    assert m.agent_identity is None
    m.set_mic_published(False)
    m.set_connection(ConnectionState.CONNECTING)
    assert m.state is AgentState.CONNECTING


def test_failure_hints_say_what_to_do() -> None:
    for failure in AgentFailure:
        assert failure.hint and failure.hint[0].islower()
