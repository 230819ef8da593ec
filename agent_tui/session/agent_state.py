"""Agent state as LiveKit's client SDKs derive it, as a pure state machine.

The rules follow components-js ``useAgent`` (the anchor the other SDKs copy): one state value derived from
the connection, the local microphone and the agent participant's ``lk.agent.state`` attribute, plus
failure reasons that override everything while they stand. Keeping the rules here, free of I/O, lets the
Session binding stay a thin translator of ``livekit.rtc`` events and lets every rule be unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent_tui.session.connection import ConnectionState

#: The participant attribute livekit-agents writes on every state change.
AGENT_STATE_ATTRIBUTE = "lk.agent.state"
#: Set by an avatar worker to the identity of the agent whose media it publishes.
PUBLISH_ON_BEHALF_ATTRIBUTE = "lk.publish_on_behalf"


class AgentState(StrEnum):
    """The client-side agent state (components-js ``AgentState``)."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    PRE_CONNECT_BUFFERING = "pre-connect-buffering"
    FAILED = "failed"
    INITIALIZING = "initializing"
    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"

    @property
    def is_connected(self) -> bool:
        """The agent is in the conversation and can hear, think or speak."""
        return self in _CONNECTED

    @property
    def can_listen(self) -> bool:
        """Audio the user speaks now reaches the agent (possibly through the pre-connect buffer)."""
        return self in _CAN_LISTEN

    @property
    def is_pending(self) -> bool:
        """The agent is on its way but not ready yet."""
        return self in _PENDING

    @property
    def is_finished(self) -> bool:
        """Nothing more will happen without a new start."""
        return self in _FINISHED


_CONNECTED = frozenset({AgentState.LISTENING, AgentState.THINKING, AgentState.SPEAKING})
_CAN_LISTEN = frozenset({AgentState.PRE_CONNECT_BUFFERING}) | _CONNECTED
_PENDING = frozenset({AgentState.CONNECTING, AgentState.INITIALIZING, AgentState.IDLE})
_FINISHED = frozenset({AgentState.DISCONNECTED, AgentState.FAILED})

#: Values of ``lk.agent.state`` an agent may publish; anything else is ignored.
_AGENT_REPORTED = frozenset(
    {AgentState.INITIALIZING, AgentState.IDLE, AgentState.LISTENING, AgentState.THINKING, AgentState.SPEAKING}
)


class AgentFailure(StrEnum):
    """Why the agent is ``failed``; the values are the anchors' own messages."""

    DID_NOT_JOIN = "Agent did not join the room."
    DID_NOT_INITIALIZE = "Agent joined the room but did not complete initializing."
    LEFT = "Agent left the room unexpectedly."

    @property
    def hint(self) -> str:
        """What the user can do about it, for front ends that show one line."""
        return _HINTS[self]


_HINTS = {
    AgentFailure.DID_NOT_JOIN: (
        "check the agent name and that a worker serving it is running and registered with this server"
    ),
    AgentFailure.DID_NOT_INITIALIZE: "check the agent worker's logs for errors during start-up",
    AgentFailure.LEFT: "check the agent worker's logs; start a new session to talk again",
}


@dataclass(frozen=True)
class AgentSnapshot:
    """What front ends read: the derived state and the reason when it is ``failed``."""

    state: AgentState
    failure: AgentFailure | None
    identity: str | None


def parse_agent_attribute(value: str | None) -> AgentState | None:
    """The state an agent reports, or None when the attribute is absent, empty or unknown."""
    if not value:
        return None
    try:
        state = AgentState(value)
    except ValueError:
        return None
    return state if state in _AGENT_REPORTED else None


class AgentStateMachine:
    """Derives :class:`AgentState` from the facts the Session feeds it.

    Derivation, in the anchors' order (later steps override earlier ones): a standing failure gives
    ``failed``; otherwise ``disconnected``; ``connecting`` once the room is not disconnected;
    ``pre-connect-buffering`` while a local microphone is published; the agent's own reported state once
    an agent participant reports one.

    Failures: the connect timeout (its timer is the caller's; :meth:`timeout_elapsed` reports it) gives
    "did not join" or "did not complete initializing" and is cleared as soon as the agent becomes
    connected (components-js#1236: ``failed`` is not terminal). An agent that leaves while the room is up
    gives "left unexpectedly"; it is cleared when the room disconnects (components-js#1228) and, unlike
    the anchors, also when an agent joins again, because a returning agent is talking again.
    """

    def __init__(self) -> None:
        self._connection = ConnectionState.DISCONNECTED
        self._mic_published = False
        self._agent_identity: str | None = None
        self._agent_reported: AgentState | None = None
        self._timed_out = False
        self._left = False

    # -- facts ------------------------------------------------------------------------------------------
    def set_connection(self, state: ConnectionState) -> AgentSnapshot:
        self._connection = state
        if state is ConnectionState.DISCONNECTED:
            self._timed_out = False
            self._left = False
            self._agent_identity = None
            self._agent_reported = None
        return self.snapshot

    def set_mic_published(self, published: bool, *, buffering: bool = True) -> AgentSnapshot:
        """Our microphone is published (or not); ``buffering``: with the pre-connect buffer recording
        for the agent, which alone makes it ``pre-connect-buffering`` (Swift ``connecting(buffering:)``):
        without the buffer, words said before the agent listens are lost, so it cannot listen yet."""
        self._mic_published = published and buffering
        return self.snapshot

    def agent_present(self, identity: str, state_attribute: str | None) -> AgentSnapshot:
        """The agent participant exists (joined, or its attributes changed)."""
        if identity != self._agent_identity:
            self._left = False
        self._agent_identity = identity
        self._agent_reported = parse_agent_attribute(state_attribute)
        if self._agent_reported is not None and self._agent_reported.is_connected:
            self._timed_out = False
        return self.snapshot

    def agent_left(self, identity: str) -> AgentSnapshot:
        """The agent participant disconnected while the room was still up."""
        if identity == self._agent_identity:
            self._agent_identity = None
            self._agent_reported = None
            if self._connection is not ConnectionState.DISCONNECTED:
                self._left = True
        return self.snapshot

    def timeout_elapsed(self) -> AgentSnapshot:
        """The agent connect timeout fired; it only counts if the agent is not connected by now."""
        if self._connection is not ConnectionState.DISCONNECTED and not self._agent_connected:
            self._timed_out = True
        return self.snapshot

    # -- derived ----------------------------------------------------------------------------------------
    @property
    def _agent_connected(self) -> bool:
        return self._agent_reported is not None and self._agent_reported.is_connected

    @property
    def failure(self) -> AgentFailure | None:
        if self._left:
            return AgentFailure.LEFT
        if self._timed_out:
            return (
                AgentFailure.DID_NOT_JOIN if self._agent_identity is None else AgentFailure.DID_NOT_INITIALIZE
            )
        return None

    @property
    def state(self) -> AgentState:
        if self.failure is not None:
            return AgentState.FAILED
        state = AgentState.DISCONNECTED
        if self._connection is not ConnectionState.DISCONNECTED:
            state = AgentState.CONNECTING
            if self._mic_published:
                state = AgentState.PRE_CONNECT_BUFFERING
            if self._agent_identity is not None and self._agent_reported is not None:
                state = self._agent_reported
        return state

    @property
    def agent_identity(self) -> str | None:
        return self._agent_identity

    @property
    def snapshot(self) -> AgentSnapshot:
        return AgentSnapshot(state=self.state, failure=self.failure, identity=self._agent_identity)
