"""From settings to a ready-to-start :class:`~agent_tui.session.Session`, shared by every front end.

Both the terminal UI and the headless runner need the same session for the same settings; keeping the
translation here means a new setting is wired once and cannot mean different things in the two modes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_tui.config import Settings
from agent_tui.token_choice import choose_token_source

if TYPE_CHECKING:
    from agent_tui.session import Session, SessionOptions


def session_options(settings: Settings) -> SessionOptions:
    from agent_tui.session import SessionOptions

    return SessionOptions(
        agent_name=settings.agent,
        agent_metadata=settings.agent_metadata,
        room_name=settings.room,
        participant_identity=settings.identity,
        participant_name=settings.name,
        participant_metadata=settings.participant_metadata,
        participant_attributes=dict(settings.attributes),
        agent_connect_timeout=settings.agent_timeout,
    )


def create_session(settings: Settings) -> Session:
    """A session for ``settings``; raises :class:`~agent_tui.config.ConfigError` when no token source fits."""
    from agent_tui.session import Session

    return Session(choose_token_source(settings), session_options(settings))
