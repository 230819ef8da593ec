"""Push-to-talk: the ``start_turn`` / ``end_turn`` / ``cancel_turn`` RPC convention.

In push-to-talk mode the session runs with ``turn_detection="manual"`` and its audio input off; the
client calls these RPC methods on the agent participant when the talk key goes down, up, or the turn
is abandoned (agent-worker-protocol.md §9, after LiveKit's former push_to_talk example). The
handlers only drive the session's public turn API, so they are kept apart from the worker and can be
checked against any object that registers RPC methods the way ``rtc.LocalParticipant`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from livekit import rtc
from livekit.agents import AgentSession

__all__ = [
    "PTT_ATTRIBUTE",
    "PTT_METHODS",
    "PTT_RESPONSE",
    "PushToTalk",
    "RpcRegistrar",
]

logger = logging.getLogger("agent_tui.demo")

PTT_METHODS = ("start_turn", "end_turn", "cancel_turn")
PTT_ATTRIBUTE = "push-to-talk"
"""Participant attribute (value ``"1"``) the worker sets on the agent so a client can discover PTT."""
PTT_RESPONSE = "ok"
"""RPC response payload, as in LiveKit's documented (Node) handlers; clients need not read it."""

RpcHandler = Callable[[rtc.RpcInvocationData], Awaitable[str]]


class RpcRegistrar(Protocol):
    """The part of ``rtc.LocalParticipant`` this module needs."""

    def register_rpc_method(self, method_name: str, handler: RpcHandler) -> Any: ...


class PushToTalk:
    """The three RPC handlers bound to one ``AgentSession``.

    ``transcript_timeout`` is how long ``end_turn`` lets the STT finish the last words; the STT
    supports manual flush, so it usually answers at once, and the value only bounds a stuck
    recogniser. The example's 5 s is kept.
    """

    def __init__(
        self,
        session: AgentSession[Any],
        *,
        transcript_timeout: float = 5.0,
        stt_flush_duration: float = 2.0,
    ) -> None:
        self._session = session
        self._transcript_timeout = transcript_timeout
        self._stt_flush_duration = stt_flush_duration

    def register(self, participant: RpcRegistrar) -> None:
        """Register the three methods on ``participant`` (the agent's local participant)."""
        participant.register_rpc_method("start_turn", self.start_turn)
        participant.register_rpc_method("end_turn", self.end_turn)
        participant.register_rpc_method("cancel_turn", self.cancel_turn)

    def disable_audio_input(self) -> None:
        """Call once the session started: nothing is heard until the first ``start_turn``."""
        self._session.input.set_audio_enabled(False)

    async def start_turn(self, data: rtc.RpcInvocationData) -> str:
        """Talk key down: stop the agent talking, drop any half-heard turn, start listening."""
        try:
            self._session.interrupt()
        except RuntimeError:
            # the current speech does not allow interruptions; the user's turn still starts
            logger.debug("start_turn: current speech is not interruptible")
        self._session.clear_user_turn()
        self._link_caller(data.caller_identity)
        self._session.input.set_audio_enabled(True)
        return PTT_RESPONSE

    async def end_turn(self, data: rtc.RpcInvocationData) -> str:
        """Talk key up: stop listening and commit the turn; the agent answers what it heard."""
        self._session.input.set_audio_enabled(False)
        # Not awaited: the transcript may take a moment and the client's RPC must not wait for it.
        self._session.commit_user_turn(
            transcript_timeout=self._transcript_timeout,
            stt_flush_duration=self._stt_flush_duration,
        )
        return PTT_RESPONSE

    async def cancel_turn(self, data: rtc.RpcInvocationData) -> str:
        """Turn abandoned: stop listening and forget what was heard; no reply."""
        self._session.input.set_audio_enabled(False)
        self._session.clear_user_turn()
        return PTT_RESPONSE

    def _link_caller(self, identity: str) -> None:
        """Listen to whoever pressed the key, so PTT works with several users in the room."""
        try:
            room_io = self._session.room_io
        except RuntimeError:
            return  # a session without a room (tests) has nobody to link
        linked = room_io.linked_participant
        if identity and (linked is None or linked.identity != identity):
            room_io.set_participant(identity)
