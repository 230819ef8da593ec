"""The demo ``Agent``: instructions, the ``get_time`` function tool, and a greeting on enter.

The tool lives on the agent (as it would with a real LLM) so that the framework, not the rule-based
LLM, executes it and publishes the call and its output to clients. The clock is injectable so tests
can assert on an exact answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from livekit.agents import Agent, function_tool, llm
from livekit.agents.voice.io import AudioOutput

from .responder import GREETING_TEXT, format_time

__all__ = ["GREETING_SUBSCRIBER_WAIT", "INSTRUCTIONS", "DemoAgent"]

logger = logging.getLogger("agent_tui.demo")

GREETING_SUBSCRIBER_WAIT = 15.0
"""How long the greeting waits for someone to subscribe to the agent's audio before it is dropped."""

INSTRUCTIONS = (
    "You are the agent-tui demo agent. You greet the user, tell the time with the get_time tool, "
    "explain what you can do when asked for help, say goodbye, and otherwise repeat what you heard."
)
"""Shown to clients through ``get_agent_info``; the rule-based LLM does not read it."""


class DemoAgent(Agent):
    """The offline demo agent. ``clock`` defaults to local wall-clock time."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = datetime.now,
        greeting: str | None = GREETING_TEXT,
    ) -> None:
        super().__init__(instructions=INSTRUCTIONS)
        self._clock = clock
        self._greeting = greeting

    async def on_enter(self) -> None:
        """Greet as soon as someone can hear it, so a new user hears what to try.

        In a room, the greeting waits until the agent's audio track has a subscriber. livekit-agents
        1.8.9's room audio output awaits its subscription future directly in ``capture_frame``; if a
        speech waiting there is interrupted (a chat message that arrives before the client has
        subscribed, as ``agent-tui --send`` does the moment the agent is listening), cancelling the
        waiting task cancels that future too, and from then on every reply "plays" instantly in silence
        with no transcript. Not starting the greeting until the future has resolved keeps it out of that
        window. If the user has already said something by then, their answer matters more than the
        greeting, which is skipped.
        """
        if not self._greeting:
            return
        subscribed = _room_audio_subscription(self.session.output.audio)
        if subscribed is not None and not subscribed.done():
            try:
                # shield: a timeout here must not cancel the framework's own future (the very bug above)
                await asyncio.wait_for(asyncio.shield(subscribed), GREETING_SUBSCRIBER_WAIT)
            except TimeoutError:
                logger.info("nobody subscribed to the agent's audio; not greeting")
                return
            if subscribed.cancelled() or any(
                isinstance(item, llm.ChatMessage) and item.role == "user" for item in self.chat_ctx.items
            ):
                return
        self.session.say(self._greeting)

    @function_tool
    async def get_time(self) -> str:
        """Get the current local time as HH:MM on a 24-hour clock."""
        return format_time(self._clock())


def _room_audio_subscription(output: AudioOutput | None) -> asyncio.Future[None] | None:
    """The room audio output's "someone subscribed" future, found down the output chain; None when the
    session has no room audio output (a text-only session, a unit test)."""
    seen = 0
    while output is not None and seen < 16:  # the chain is a handful of wrappers; bound it anyway
        subscribed = getattr(output, "subscribed", None)
        if isinstance(subscribed, asyncio.Future):
            return subscribed
        try:
            output = output.next_in_chain
        except AssertionError:  # a sink proxy with nothing attached
            return None
        seen += 1
    return None
