"""Command-palette provider: the palette entries of the action table (:mod:`.actions`), so everything is
reachable without remembering a key. A toggle's title says what choosing it does now ("Unmute
microphone" while muted); audio commands say so when the session is text-only."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .actions import ActionStates, UserAction, palette_actions


class AgentCommands(Provider):
    """Offers :func:`~.actions.palette_actions`, run on their owner (the app or the calling screen)."""

    def _entries(self) -> list[tuple[str, UserAction]]:
        states: ActionStates | None = self.app if hasattr(self.app, "action_state") else None  # type: ignore[assignment]
        entries = []
        for action in palette_actions():
            title = action.palette_title(states)
            if title is not None:
                entries.append((title, action))
        return entries

    def _help(self, action: UserAction) -> str:
        audio = getattr(self.app, "audio_available", True)
        if action.needs_audio and not audio:
            return f"{action.help} (no audio in this session)"
        return action.help

    def _runner(self, action: UserAction) -> Callable[[], Any]:
        target = self.app if action.owner == "app" else self.screen
        return partial(self.app.run_action, action.action, target)

    async def discover(self) -> Hits:
        for title, action in self._entries():
            yield DiscoveryHit(title, self._runner(action), help=self._help(action))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._runner(action), help=self._help(action))
