"""The demo ``Agent``: instructions, the ``get_time`` function tool, and a greeting on enter.

The tool lives on the agent (as it would with a real LLM) so that the framework, not the rule-based
LLM, executes it and publishes the call and its output to clients. The clock is injectable so tests
can assert on an exact answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from livekit.agents import Agent, function_tool

from .responder import GREETING_TEXT, format_time

__all__ = ["INSTRUCTIONS", "DemoAgent"]

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
        """Greet as soon as the session starts, so a new user hears what to try."""
        if self._greeting:
            self.session.say(self._greeting)

    @function_tool
    async def get_time(self) -> str:
        """Get the current local time as HH:MM on a 24-hour clock."""
        return format_time(self._clock())
