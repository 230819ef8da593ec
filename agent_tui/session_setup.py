"""From settings to a ready-to-start :class:`~agent_tui.session.Session`, shared by every front end.

Both the terminal UI and the headless runner need the same session for the same settings; keeping the
translation here means a new setting is wired once and cannot mean different things in the two modes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_tui.config import Settings
from agent_tui.token_choice import choose_token_source

__all__ = [
    "choose_token_source",
    "create_session",
    "create_video_controller",
    "session_options",
    "start_audio",
]

if TYPE_CHECKING:
    from agent_tui.audio.engine import AudioEngine
    from agent_tui.session import Session, SessionOptions
    from agent_tui.video.controller import VideoController


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


def create_session(
    settings: Settings, audio: AudioEngine | None = None, *, show_agent_video: bool = False
) -> Session:
    """A session for ``settings``, publishing ``audio``'s microphone when it has one; raises
    :class:`~agent_tui.config.ConfigError` when no token source fits. ``show_agent_video`` subscribes to
    the agent's video: only a front end that can show it should pay for receiving and decoding it."""
    from agent_tui.session import Session

    microphone = audio.source if audio is not None else None
    return Session(
        choose_token_source(settings),
        session_options(settings),
        microphone=microphone,
        # Must match what the engine records: a flagged track makes the agent wait for a buffer.
        preconnect_buffer=audio is not None and audio.preconnect_enabled,
        agent_video=show_agent_video,
    )


def create_video_controller(settings: Settings, session: Session) -> VideoController:
    """The controller publishing ``settings.video``'s sources whenever ``session`` is connected. A source
    that fails becomes a :class:`~agent_tui.session.SessionWarning` on the session's bus, so both front
    ends show it the way they show every other warning, and the session goes on."""
    from agent_tui.session import SessionWarning
    from agent_tui.video.controller import VideoController

    def warn(message: str) -> None:
        session.events.emit(SessionWarning(message=message))

    return VideoController(session, settings.video, on_warning=warn)


async def start_audio(settings: Settings) -> AudioEngine | None:
    """The audio engine for ``settings``, started (capture begins now, for the pre-connect buffer), or
    None when audio is turned off. A device or PortAudio problem does not raise: the engine runs
    text-only and says why in ``engine.status.reason``."""
    if not settings.audio.enabled:
        return None
    from agent_tui.audio.engine import AudioEngine

    engine = AudioEngine(settings.audio)
    await engine.start()
    return engine
