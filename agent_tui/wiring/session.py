"""From settings to a ready-to-start :class:`~agent_tui.session.Session`, shared by every front end.

Both the terminal UI and the headless runner need the same session for the same settings; keeping the
translation here means a new setting is wired once and cannot mean different things in the two modes.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent_tui.config import Settings
from agent_tui.wiring.token_choice import choose_token_source

__all__ = [
    "Conversation",
    "choose_token_source",
    "create_session",
    "create_video_controller",
    "open_conversation",
    "session_options",
    "start_audio",
]

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from agent_tui.audio.engine import AudioEngine
    from agent_tui.audio.session_bridge import SessionAudioBridge
    from agent_tui.session import Session, SessionOptions
    from agent_tui.video.controller import VideoController


def session_options(settings: Settings) -> SessionOptions:
    """Raises :class:`~agent_tui.config.ConfigError` for a bad end-to-end encryption key or setting."""
    from agent_tui.session import SessionOptions
    from agent_tui.wiring.encryption import encryption_options

    return SessionOptions(
        agent_name=settings.agent,
        agent_metadata=settings.agent_metadata,
        room_name=settings.room,
        participant_identity=settings.identity,
        participant_name=settings.name,
        participant_metadata=settings.participant_metadata,
        participant_attributes=dict(settings.attributes),
        agent_connect_timeout=settings.agent_timeout,
        encryption=encryption_options(settings),
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


async def prepare_quietly(session: Session) -> None:
    """:meth:`Session.prepare`, whose failure only costs the head start: ``start()`` fetches the token
    again and reports what is wrong the one way every front end shows it."""
    from agent_tui.session import SessionLibraryError

    try:
        await session.prepare()
    except SessionLibraryError as error:
        log.debug("preparing the session failed (start will try again): %s", error)


@dataclass(frozen=True)
class Conversation:
    """The parts a front end runs: the session, and the audio engine and video controller serving it."""

    session: Session
    audio: AudioEngine | None
    video: VideoController


@asynccontextmanager
async def open_conversation(
    settings: Settings, *, show_agent_video: bool = False
) -> AsyncIterator[Conversation]:
    """Build every part for ``settings`` in the one right order, and close the devices on the way out.

    The token source is checked first, so a configuration error (:class:`~agent_tui.config.ConfigError`)
    does not wait for audio devices; the session prepares (fetches its token, warms the connection) while
    the audio engine opens the devices and the front end paints; the engine starts before the session,
    so its pre-connect buffer hears the user from the very start; the bridge between the engine and the
    session follows the session before it starts, and lets go of it before the devices close. Ending the
    session stays the front end's job (each has its own time limit and report).
    """
    choose_token_source(settings)
    session = create_session(settings, None, show_agent_video=show_agent_video)
    # Runs on while the devices open and the screen paints; start() waits for the token if need be.
    preparing = asyncio.ensure_future(prepare_quietly(session))
    try:
        audio = await start_audio(settings)
    except BaseException:
        preparing.cancel()
        raise
    video: VideoController | None = None
    bridge: SessionAudioBridge | None = None
    try:
        if audio is not None:
            session.set_microphone(audio.source, preconnect_buffer=audio.preconnect_enabled)
            from agent_tui.audio.session_bridge import SessionAudioBridge

            bridge = SessionAudioBridge(audio, session)
            bridge.attach()
        video = create_video_controller(settings, session)
        yield Conversation(session=session, audio=audio, video=video)
    finally:
        preparing.cancel()  # done long ago, unless the conversation never started
        # A device that fails to close must not turn a finished conversation into an error.
        for part in (video, bridge, audio):
            if part is not None:
                try:
                    await part.aclose()
                except Exception as error:
                    log.warning("closing %s failed: %s", type(part).__name__, error)


async def run_ui(settings: Settings) -> int | None:
    """The terminal UI to its end (its exit code); None when this build has no UI (Textual or the app
    missing). Shared by ``agent-tui`` and ``agent-tui demo`` so both show the same app."""
    try:
        from agent_tui.app import run_app
    except ImportError:
        return None
    from agent_tui.scenario.record import recording_for

    async with open_conversation(settings, show_agent_video=settings.video.show_agent_video) as parts:
        audio = parts.audio
        text_only = audio is not None and audio.status.text_only
        with recording_for(parts.session.events, settings, on_warning=_warn_after_app):
            return await run_app(
                parts.session,
                audio=audio if audio is not None and not text_only else None,
                app_settings=settings.app,
                transcript_path=settings.transcript,
                text_only_reason=audio.status.reason if audio is not None and text_only else None,
                video=parts.video,
            )


def _warn_after_app(message: str) -> None:
    """A warning from around the app (its screen is gone by then): one line on stderr."""
    print(f"agent-tui: warning: {message}", file=sys.stderr)
