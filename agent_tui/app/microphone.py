"""The microphone as the app sees it: the engine's status and levels read into values the widgets watch
(:class:`MicView`, :class:`Levels`), and what the microphone actions do (mute, mode, echo cancellation,
devices). Audio is read, never pushed: the app's refresh tick calls :meth:`MicControl.view` and
:meth:`MicControl.levels`, so audio threads never touch widgets.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agent_tui.audio.controls import AudioControls, AudioStatus, MicMode
from agent_tui.session import Conversation
from agent_tui.ui.device_picker import DeviceChoice, DevicePicker, choose_devices

from .talk import TalkControl

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MicView:
    """What the microphone panel shows; ``status`` None: no audio at all (``reason`` says why)."""

    status: AudioStatus | None
    ptt_method: str
    ptt_key: str
    reason: str

    @property
    def text_only(self) -> bool:
        return self.status is None or self.status.text_only


@dataclass(frozen=True)
class Levels:
    """The latest readings in dBFS; ``mic_db`` None while muted (the meter says so instead)."""

    agent_db: float
    mic_db: float | None


class MicControl:
    """Owned by the app; ``notify`` is the app's."""

    def __init__(
        self,
        audio: AudioControls | None,
        session: Conversation,
        talk: TalkControl,
        *,
        notify: Callable[..., Any],
        text_only_reason: str | None,
    ) -> None:
        self.audio = audio
        self._session = session
        self._talk = talk
        self._notify = notify
        self._text_only_reason = text_only_reason

    # -- reading ----------------------------------------------------------------------------------------
    def status(self) -> AudioStatus | None:
        if self.audio is None:
            return None
        try:
            return self.audio.status
        except Exception:
            log.exception("audio status failed")
            return None

    @property
    def text_only(self) -> bool:
        status = self.status()
        return status is None or status.text_only

    def view(self) -> MicView:
        return MicView(
            self.status(),
            self._talk.ptt.method.label,
            self._talk.keys()[0],
            self._text_only_reason or "No audio in this session.",
        )

    def levels(self, view: MicView) -> Levels | None:
        audio, status = self.audio, view.status
        if audio is None or status is None or status.text_only:
            return None
        try:
            return Levels(audio.output_level().rms_db, None if status.muted else audio.input_level().rms_db)
        except Exception:
            log.exception("reading audio levels failed")
            return None

    # -- actions ----------------------------------------------------------------------------------------
    def _audio_or_hint(self) -> AudioControls | None:
        if self.audio is None or self.text_only:
            self._notify("No audio in this session (text only).", severity="warning")
            return None
        return self.audio

    def toggle_mute(self) -> None:
        audio = self._audio_or_hint()
        if audio is None:
            return
        muted = not audio.status.muted
        try:
            audio.set_muted(muted)
            self._session.set_microphone_muted(muted)
        except Exception as error:
            self._notify(f"Mute failed: {error}", severity="error")

    def toggle_mode(self) -> str | None:
        """Switch open mic / push-to-talk; what to tell the user once the panel shows it (None: no audio)."""
        audio = self._audio_or_hint()
        if audio is None:
            return None
        mode = MicMode.OPEN if audio.status.mode is MicMode.PUSH_TO_TALK else MicMode.PUSH_TO_TALK
        if mode is MicMode.OPEN:
            self._talk.cancel()
        try:
            audio.set_mode(mode)
        except Exception as error:
            self._notify(f"Could not change the mic mode: {error}", severity="error")
        if mode is MicMode.PUSH_TO_TALK:
            return f"Push-to-talk: {' / '.join(self._talk.keys())} — {self._talk.ptt.method.label}."
        return "Open mic: the microphone is always on."

    def toggle_aec(self) -> None:
        audio = self._audio_or_hint()
        if audio is None:
            return
        enabled = not audio.status.aec
        try:
            audio.set_aec(enabled)
        except Exception as error:
            self._notify(f"Echo cancellation: {error}", severity="error")
        self._notify(f"Echo cancellation {'on' if enabled else 'off'}.")

    async def pick_devices(self, ask: Callable[[DevicePicker], Awaitable[DeviceChoice | None]]) -> bool:
        """List the devices, ``ask`` the user (the app's ``push_screen_wait``), switch; True if switched."""
        audio = self._audio_or_hint()
        if audio is None:
            return False
        return await choose_devices(audio, ask, self._notify)
