"""When a headless run may send its next message and when (and with which exit code) it ends.

A pure state machine: the runner feeds it the session's events and tells it what it did (started,
about to send, gave up waiting, finished its script, is ending on purpose); the policy answers with an
:class:`Outcome` once the run should end. Keeping the rules free of I/O lets every exit path be tested
without a server.

Rules:

* A message is *answered* once, after it was sent, the agent produced at least one final message of its
  own (transcript or chat) that began after the send, and the agent's state is back to ``listening`` (or
  ``idle``). The next message is sent only when the agent is ``listening``.
* ``--exit-when idle``: end with 0 once the script is done and the agent is listening again.
* ``--exit-when agent-left``: the agent leaving is the expected end: 0.
* Otherwise an agent that leaves unexpectedly ends the run with 6 (an explicit ``never`` keeps running,
  as asked). That includes ``over``, the default of a run with no script: it has no end of its own
  but the end of the conversation.
* An agent that fails to join or initialize in time ends the run with 5 (not with ``never``: a late
  agent still clears the failure), whatever the token source (a literal token's session learns of the
  failure only after ``start()``).
* A connection lost for good (disconnected without us asking) ends the run with 4 whatever the policy,
  because nothing more can happen.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_tui.config import RunEnd
from agent_tui.exit_codes import ExitCode
from agent_tui.session import (
    AgentFailure,
    AgentLeft,
    AgentState,
    AgentStateChanged,
    ConnectionState,
    ConnectionStateChanged,
    MessageChanged,
    SessionEvent,
    Speaker,
)

#: Agent states in which a sent message counts as answered once a reply was seen.
_AT_REST = frozenset({AgentState.LISTENING, AgentState.IDLE})


@dataclass(frozen=True)
class Outcome:
    """How the run ends: the exit code, a short reason for the ``end`` record, and the one-line error
    to show on stderr (None for a successful or interrupted end)."""

    exit_code: int
    reason: str
    error: str | None = None


class RunPolicy:
    def __init__(self, *, exit_when: RunEnd) -> None:
        self.exit_when: RunEnd = exit_when
        self.agent_state = AgentState.DISCONNECTED
        self._started = False
        self._ending = False
        self._script_done = False
        self._sent_at: float | None = None
        self._reply_seen = False
        self._outcome: Outcome | None = None

    # -- what the runner tells us ----------------------------------------------------------------------
    def started(self) -> None:
        """``session.start()`` returned: from now on a disconnect or a departure is the run's business."""
        self._started = True

    def ending(self) -> None:
        """We are ending the session ourselves; the events that follow are not failures."""
        self._ending = True

    def sending(self, at: float) -> None:
        """A message is about to be sent at ``at`` (called before the send, so a fast reply counts)."""
        self._sent_at = at
        self._reply_seen = False

    def stop_waiting(self) -> None:
        """Done waiting for the pending message's answer (it came, or the answer timeout passed)."""
        self._sent_at = None

    def script_finished(self) -> Outcome | None:
        """Every RPC, file and message of the script is done; the outcome when that ends the run."""
        self._script_done = True
        return self._decide_idle()

    # -- what the runner asks --------------------------------------------------------------------------
    @property
    def ready_to_send(self) -> bool:
        return self._sent_at is None and self.agent_state is AgentState.LISTENING

    @property
    def answered(self) -> bool:
        """Whether the last message sent has been answered (True when none is pending)."""
        return self._sent_at is None or (self._reply_seen and self.agent_state in _AT_REST)

    @property
    def outcome(self) -> Outcome | None:
        return self._outcome

    # -- events ----------------------------------------------------------------------------------------
    def observe(self, event: SessionEvent) -> Outcome | None:
        """Feed one session event; returns the outcome the first time the run should end."""
        if self._outcome is not None:
            return None
        outcome: Outcome | None = None
        match event:
            case AgentStateChanged():
                self.agent_state = event.state
                outcome = self._on_agent_state(event)
            case MessageChanged():
                message = event.message
                if (
                    self._sent_at is not None
                    and message.final
                    and message.speaker is Speaker.AGENT
                    and message.first_seen >= self._sent_at
                ):
                    self._reply_seen = True
            case AgentLeft() if event.unexpected and self._started and not self._ending:
                outcome = self._on_agent_left()
            case ConnectionStateChanged() if (
                event.state is ConnectionState.DISCONNECTED
                and not event.deliberate
                and self._started
                and not self._ending
            ):
                reason = f" ({event.reason})" if event.reason else ""
                outcome = Outcome(
                    ExitCode.CONNECTION_ERROR,
                    "connection lost",
                    f"The connection to the LiveKit server was lost{reason} — check the server and the "
                    "network, then run again.",
                )
        if outcome is None:
            outcome = self._decide_idle()
        self._outcome = outcome
        return outcome

    def _on_agent_state(self, event: AgentStateChanged) -> Outcome | None:
        if not self._started or self._ending or self.exit_when == "never":
            return None
        if event.failure in (AgentFailure.DID_NOT_JOIN, AgentFailure.DID_NOT_INITIALIZE):
            failure = event.failure
            return Outcome(
                ExitCode.AGENT_TIMEOUT, "the agent did not become ready", f"{failure.value} — {failure.hint}."
            )
        return None

    def _on_agent_left(self) -> Outcome | None:
        if self.exit_when == "agent-left":
            return Outcome(ExitCode.OK, "the agent left")
        if self.exit_when == "never":
            return None
        failure = AgentFailure.LEFT
        return Outcome(
            ExitCode.AGENT_LEFT, "the agent left unexpectedly", f"{failure.value} — {failure.hint}."
        )

    def _decide_idle(self) -> Outcome | None:
        if self.exit_when != "idle" or not self._script_done or self._ending:
            return None
        if self.answered and self.agent_state in _AT_REST:
            return Outcome(ExitCode.OK, "every message was answered and the agent is listening")
        return None
