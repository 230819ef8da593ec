"""The rules of the Session's ``wait_until_*`` helpers, free of I/O.

components-js gives ``useSession().waitUntilConnected`` (the room is connected) and, on ``useAgent``,
``waitUntilConnected`` (listening, thinking or speaking), ``waitUntilCouldBeListening`` (``canListen``:
those three or ``pre-connect-buffering``, when what the user says is recorded for the agent even though
it has not joined yet) and ``waitUntilFinished`` (``disconnected`` or ``failed``). They wait until the
goal holds or their abort signal fires and nothing else. Ours take a timeout instead of a signal and,
unlike the anchors, do not wait on silently for an agent that is failed or a session that ended: they
raise, so a script learns why at once (a late agent still clears the failure, and the caller may wait
again). :func:`wait_outcome` holds those rules; the Session only re-evaluates it on every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent_tui.session.agent_state import AgentFailure, AgentSnapshot
from agent_tui.session.connection import ConnectionState
from agent_tui.session.errors import (
    AgentLeftError,
    AgentTimeoutError,
    ConnectionFailedError,
    WaitTimeoutError,
)


class WaitGoal(StrEnum):
    """What a wait is for; the value completes "waiting for …" in messages."""

    CONNECTED = "the session to connect"
    AGENT_CONNECTED = "the agent to be ready"
    AGENT_CAN_LISTEN = "the agent to be able to listen"
    FINISHED = "the session to finish"


@dataclass(frozen=True)
class WaitView:
    """What the rules look at: the session's state now, and whether a run of it has ended since the
    wait began (a start that failed, a connection lost for good, or ``end()``)."""

    connection: ConnectionState
    agent: AgentSnapshot
    ended: bool


def wait_outcome(goal: WaitGoal, view: WaitView, *, agent_connect_timeout: float) -> bool:
    """True when ``goal`` holds, False to keep waiting; raises when it can no longer be reached.

    Before any start the waits wait for one (so ``wait_until_agent_can_listen`` can be awaited beside a
    ``start()`` still in a task). ``FINISHED`` never raises: a failed agent is one way to finish.
    """
    if goal is WaitGoal.FINISHED:
        return view.agent.state.is_finished
    if goal is WaitGoal.CONNECTED:
        reached = view.connection is ConnectionState.CONNECTED
    elif goal is WaitGoal.AGENT_CONNECTED:
        reached = view.agent.state.is_connected
    else:
        reached = view.agent.state.can_listen
    if reached:
        return True
    if goal is not WaitGoal.CONNECTED:
        _raise_for_agent_failure(view.agent.failure, agent_connect_timeout)
    if view.ended:
        raise ConnectionFailedError(
            f"The session disconnected while waiting for {goal.value}; start it again to retry."
        )
    return False


def _raise_for_agent_failure(failure: AgentFailure | None, agent_connect_timeout: float) -> None:
    if failure in (AgentFailure.DID_NOT_JOIN, AgentFailure.DID_NOT_INITIALIZE):
        raise AgentTimeoutError(f"{failure.value} (waited {agent_connect_timeout:g} s) — {failure.hint}.")
    if failure is AgentFailure.LEFT:
        raise AgentLeftError(f"{failure.value} — {failure.hint}.")


def wait_timed_out(goal: WaitGoal, view: WaitView, *, timeout: float) -> WaitTimeoutError:
    """The error for a wait that ran out of its caller's time, saying where things stood."""
    return WaitTimeoutError(
        f"Timed out after {timeout:g} s waiting for {goal.value} "
        f"(the connection is {view.connection.value}, the agent {view.agent.state.value}).",
        goal=goal.value,
        timeout=timeout,
    )
