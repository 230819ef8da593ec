"""The wait helpers' rules: when each goal holds, when it can no longer be reached, and the timeout."""

from __future__ import annotations

import asyncio

import pytest
from livekit import api

from agent_tui.session import (
    AgentLeftError,
    AgentTimeoutError,
    ConnectionFailedError,
    LiteralTokenSource,
    Session,
    SessionOptions,
    WaitTimeoutError,
)
from agent_tui.session.agent_state import AgentFailure, AgentSnapshot, AgentState, AgentStateMachine
from agent_tui.session.connection import ConnectionState
from agent_tui.session.waiting import WaitGoal, WaitView, wait_outcome, wait_timed_out

AGENT_GOALS = (WaitGoal.AGENT_CONNECTED, WaitGoal.AGENT_CAN_LISTEN)


def view(
    state: AgentState,
    *,
    connection: ConnectionState = ConnectionState.CONNECTED,
    failure: AgentFailure | None = None,
    ended: bool = False,
) -> WaitView:
    identity = "agent-1" if state not in (AgentState.DISCONNECTED, AgentState.CONNECTING) else None
    return WaitView(
        connection=connection,
        agent=AgentSnapshot(state=state, failure=failure, identity=identity),
        ended=ended,
    )


def outcome(goal: WaitGoal, v: WaitView) -> bool:
    return wait_outcome(goal, v, agent_connect_timeout=20.0)


@pytest.mark.parametrize("state", list(AgentState))
def test_agent_goals_follow_the_anchors_helpers(state: AgentState) -> None:
    if state is AgentState.FAILED:
        return  # a failed agent raises: see below
    v = view(state, connection=ConnectionState.CONNECTED)
    assert outcome(WaitGoal.AGENT_CONNECTED, v) is state.is_connected
    assert outcome(WaitGoal.AGENT_CAN_LISTEN, v) is state.can_listen
    assert outcome(WaitGoal.FINISHED, v) is state.is_finished


def test_can_listen_holds_while_the_preconnect_buffer_records() -> None:
    buffering = view(AgentState.PRE_CONNECT_BUFFERING)
    assert outcome(WaitGoal.AGENT_CAN_LISTEN, buffering)
    assert not outcome(WaitGoal.AGENT_CONNECTED, buffering)


def test_a_microphone_without_the_buffer_is_not_listening() -> None:
    machine = AgentStateMachine()
    machine.set_connection(ConnectionState.CONNECTED)
    assert machine.set_mic_published(True, buffering=False).state is AgentState.CONNECTING
    assert machine.set_mic_published(True, buffering=True).state is AgentState.PRE_CONNECT_BUFFERING


@pytest.mark.parametrize("connection", list(ConnectionState))
def test_connected_means_the_room_is_connected(connection: ConnectionState) -> None:
    reached = outcome(WaitGoal.CONNECTED, view(AgentState.CONNECTING, connection=connection))
    assert reached is (connection is ConnectionState.CONNECTED)


@pytest.mark.parametrize("goal", AGENT_GOALS)
@pytest.mark.parametrize("failure", [AgentFailure.DID_NOT_JOIN, AgentFailure.DID_NOT_INITIALIZE])
def test_the_agent_connect_timeout_raises_agent_timeout(goal: WaitGoal, failure: AgentFailure) -> None:
    with pytest.raises(AgentTimeoutError, match=r"waited 20 s"):
        outcome(goal, view(AgentState.FAILED, failure=failure))


@pytest.mark.parametrize("goal", AGENT_GOALS)
def test_the_agent_leaving_raises_agent_left_not_a_timeout(goal: WaitGoal) -> None:
    with pytest.raises(AgentLeftError) as raised:
        outcome(goal, view(AgentState.FAILED, failure=AgentFailure.LEFT))
    assert not isinstance(raised.value, TimeoutError | AgentTimeoutError)


@pytest.mark.parametrize("failure", list(AgentFailure))
def test_a_failed_agent_is_finished(failure: AgentFailure) -> None:
    assert outcome(WaitGoal.FINISHED, view(AgentState.FAILED, failure=failure))


@pytest.mark.parametrize("goal", [WaitGoal.CONNECTED, *AGENT_GOALS])
def test_a_run_that_ended_raises_connection_failed(goal: WaitGoal) -> None:
    ended = view(AgentState.DISCONNECTED, connection=ConnectionState.DISCONNECTED, ended=True)
    with pytest.raises(ConnectionFailedError, match="disconnected while waiting"):
        outcome(goal, ended)


@pytest.mark.parametrize("goal", [WaitGoal.CONNECTED, *AGENT_GOALS])
def test_before_any_start_the_waits_wait(goal: WaitGoal) -> None:
    assert not outcome(goal, view(AgentState.DISCONNECTED, connection=ConnectionState.DISCONNECTED))


def test_the_timeout_error_is_distinct_and_says_where_things_stood() -> None:
    error = wait_timed_out(WaitGoal.AGENT_CAN_LISTEN, view(AgentState.INITIALIZING), timeout=2.5)
    assert isinstance(error, TimeoutError)
    assert not isinstance(error, AgentTimeoutError | AgentLeftError)
    assert str(error) == (
        "Timed out after 2.5 s waiting for the agent to be able to listen "
        "(the connection is connected, the agent initializing)."
    )
    assert (error.goal, error.timeout) == ("the agent to be able to listen", 2.5)


def idle_session() -> Session:
    return Session(LiteralTokenSource("ws://127.0.0.1:1", "not-a-token"), SessionOptions())


async def test_a_session_not_started_is_finished_at_once() -> None:
    snapshot = await idle_session().wait_until_finished(timeout=1.0)
    assert snapshot.state is AgentState.DISCONNECTED


@pytest.mark.parametrize(
    "wait",
    [Session.wait_until_connected, Session.wait_until_agent_connected, Session.wait_until_agent_can_listen],
)
async def test_a_wait_before_start_times_out_with_the_typed_error(wait: object) -> None:
    session = idle_session()
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(WaitTimeoutError, match=r"Timed out after 0\.05 s"):
        await wait(session, timeout=0.05)  # type: ignore[operator]
    assert loop.time() - began < 1.0


async def test_the_old_name_is_the_same_wait() -> None:
    assert Session.wait_for_agent is Session.wait_until_agent_connected


async def test_a_failed_start_is_kept_as_the_error_until_dismissed() -> None:
    token = (
        api.AccessToken("key", "a-secret-long-enough-for-hmac-sha256-keys")
        .with_identity("user-1")
        .with_grants(api.VideoGrants(room_join=True, room="r"))
    )
    # Nothing listens on the discard port: the connect is refused after the start has begun.
    session = Session(LiteralTokenSource("ws://127.0.0.1:9", token.to_jwt()), SessionOptions())
    waiting = asyncio.ensure_future(session.wait_until_connected(timeout=30))
    await asyncio.sleep(0)  # let the wait begin before the start, as a caller's await would
    with pytest.raises(ConnectionFailedError) as raised:
        await session.start()
    assert session.error is raised.value
    # The wait that saw the run begin learns that it ended, without waiting out its timeout.
    with pytest.raises(ConnectionFailedError, match="disconnected while waiting"):
        await waiting
    session.dismiss_error()
    assert session.error is None
