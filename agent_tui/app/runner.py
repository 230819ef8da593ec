"""Running the app as the CLI's front end: the driver choice, the session's end, the exit code."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

from agent_tui.audio.controls import AudioControls
from agent_tui.session import Conversation
from agent_tui.video.controller import VideoController

from .app import END_TIMEOUT, AgentTuiApp
from .settings import AppSettings

log = logging.getLogger(__name__)


def _driver_class() -> Any:
    """The key-release driver where Textual uses its Linux driver (Linux, macOS); Textual's own elsewhere."""
    if sys.platform == "win32":
        return None
    from .key_release import KeyReleaseDriver

    return KeyReleaseDriver


async def run_app(
    session: Conversation,
    *,
    audio: AudioControls | None,
    app_settings: AppSettings,
    transcript_path: Path | None = None,
    text_only_reason: str | None = None,
    video: VideoController | None = None,
) -> int:
    """Run the app until the user quits; the session is started by the app and always ended here.

    Returns the exit code: 0 after a normal quit, the error's code (``exit_code_for``) when the user
    quits from an error panel or while a session problem stands, 1 after an unexpected error.
    """
    app = AgentTuiApp(
        session,
        audio=audio,
        app_settings=app_settings,
        transcript_path=transcript_path,
        text_only_reason=text_only_reason,
        video=video,
        driver_class=_driver_class(),
    )
    try:
        result = await app.run_async()
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.end(), timeout=END_TIMEOUT)
    if result is not None:
        return int(result)
    return app.return_code or 0
