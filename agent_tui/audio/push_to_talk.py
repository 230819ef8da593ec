"""The push-to-talk turn RPCs (``start_turn`` / ``end_turn`` / ``cancel_turn``), when the agent has them.

LiveKit's convention (docs "Manual turn control"): an agent with manual turn detection registers the three
methods and keeps its audio input off between turns; the client calls them when the talk key goes down,
comes up, or the turn is aborted, so the agent knows exactly where the user's turn starts and ends. Agents
that do not register them answer ``RpcError`` 1400 ("method not supported"); then gating the microphone is
all push-to-talk does.

Whether the agent has them is learnt, not assumed: the example agent advertises ``push-to-talk: "1"`` in its
attributes (known supported at once); otherwise the first call finds out, and a 1400 answer stops further
calls until a different agent joins.

An agent that advertises them may not have registered them yet: LiveKit's example (and the demo agent)
sets the attribute when it accepts the job and registers the methods only once its session has started,
so a press right after it joined gets 1400. That is "not yet", not "never": ``start_turn`` is tried again
for up to :data:`TURN_RPC_REGISTER_WAIT`, and when the agent still has not registered it the user is told
that this turn was not heard, instead of the turn being lost without a word.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

#: The attribute the push-to-talk example agent sets to tell front ends it supports the turn RPCs.
PTT_ATTRIBUTE = "push-to-talk"
#: ``RpcError`` code for a method the destination did not register.
UNSUPPORTED_METHOD = 1400
#: How long a turn RPC may take; ``end_turn`` waits for the final transcript on the agent's side.
TURN_RPC_TIMEOUT = 10.0
#: How long a press waits for an agent that advertises push-to-talk to register ``start_turn`` (and for
#: an agent to be in the room at all), and how often it asks meanwhile. The RPC's registration cannot be
#: observed from here, so asking again is the only way to learn of it.
TURN_RPC_REGISTER_WAIT = 3.0
TURN_RPC_RETRY_INTERVAL = 0.1


class TurnMethod(StrEnum):
    START = "start_turn"
    END = "end_turn"
    CANCEL = "cancel_turn"


class TurnRpcOutcome(StrEnum):
    DONE = "done"  # the agent took the call
    NOT_REGISTERED = "not-registered"  # it advertises the RPCs but has not registered them yet
    SKIPPED = "skipped"  # not called (no agent, no RPCs, not connected) or failed (and said so)


class TurnRpcSupport:
    """What we know about the current agent's turn RPCs: True, False, or None (unknown: try)."""

    def __init__(self) -> None:
        self.supported: bool | None = None
        #: The agent says it has the turn RPCs (its ``push-to-talk`` attribute), registered or not yet.
        self.advertised = False
        self.calls: list[TurnMethod] = []

    def agent_joined(self, attributes: Mapping[str, str]) -> None:
        """A (new) agent: forget what the previous one supported."""
        self.advertised = attributes.get(PTT_ATTRIBUTE) == "1"
        self.supported = True if self.advertised else None

    def attributes_changed(self, attributes: Mapping[str, str]) -> None:
        if attributes.get(PTT_ATTRIBUTE) == "1":
            self.advertised = True
            self.supported = True

    @property
    def should_call(self) -> bool:
        return self.supported is not False

    def succeeded(self, method: TurnMethod) -> None:
        self.supported = True
        self.calls.append(method)

    def not_registered_yet(self, code: int) -> bool:
        """An RPC error that means "not registered yet" (1400 from an agent that advertises them)."""
        return code == UNSUPPORTED_METHOD and self.advertised

    def failed(self, code: int) -> bool:
        """Record an RPC error; returns True when it means "this agent has no turn RPCs" (fall back)."""
        if code == UNSUPPORTED_METHOD and not self.advertised:
            self.supported = False
            return True
        return False
