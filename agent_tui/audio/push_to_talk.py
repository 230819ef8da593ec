"""The push-to-talk turn RPCs (``start_turn`` / ``end_turn`` / ``cancel_turn``), when the agent has them.

LiveKit's convention (docs "Manual turn control"): an agent with manual turn detection registers the three
methods and keeps its audio input off between turns; the client calls them when the talk key goes down,
comes up, or the turn is aborted, so the agent knows exactly where the user's turn starts and ends. Agents
that do not register them answer ``RpcError`` 1400 ("method not supported"); then gating the microphone is
all push-to-talk does.

Whether the agent has them is learnt, not assumed: the example agent advertises ``push-to-talk: "1"`` in its
attributes (known supported at once); otherwise the first call finds out, and a 1400 answer stops further
calls until a different agent joins.
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


class TurnMethod(StrEnum):
    START = "start_turn"
    END = "end_turn"
    CANCEL = "cancel_turn"


class TurnRpcSupport:
    """What we know about the current agent's turn RPCs: True, False, or None (unknown: try)."""

    def __init__(self) -> None:
        self.supported: bool | None = None
        self.calls: list[TurnMethod] = []

    def agent_joined(self, attributes: Mapping[str, str]) -> None:
        """A (new) agent: forget what the previous one supported."""
        self.supported = True if attributes.get(PTT_ATTRIBUTE) == "1" else None

    def attributes_changed(self, attributes: Mapping[str, str]) -> None:
        if attributes.get(PTT_ATTRIBUTE) == "1":
            self.supported = True

    @property
    def should_call(self) -> bool:
        return self.supported is not False

    def succeeded(self, method: TurnMethod) -> None:
        self.supported = True
        self.calls.append(method)

    def failed(self, code: int) -> bool:
        """Record an RPC error; returns True when it means "this agent has no turn RPCs" (fall back)."""
        if code == UNSUPPORTED_METHOD:
            self.supported = False
            return True
        return False
