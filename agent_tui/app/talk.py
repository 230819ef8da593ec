"""Push-to-talk glue: keys and a timer in, :class:`~.ptt.PttAction` s out to the audio engine, in order.

:class:`~.ptt.PushToTalk` is the pure state machine; :class:`TalkControl` feeds it the app's key presses,
repeats and releases with the app's clock, starts the timer that infers a release in repeat mode, and
queues the machine's actions for :meth:`TalkControl.pump`, which applies them one at a time so a slow
``start_turn`` RPC cannot be overtaken by the following ``end``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from agent_tui.audio.controls import AudioControls, AudioStatus, MicMode

from .actions import base_key, keys_for
from .ptt import PttAction, PttMethod, PushToTalk, resolve_method
from .settings import AppSettings, PttMethodSetting

#: Held keys repeat: one hint per this many seconds, not one per repeat.
HINT_INTERVAL = 3.0


class TalkHost(Protocol):
    """What :class:`TalkControl` needs of the app."""

    audio: AudioControls | None

    def audio_status(self) -> AudioStatus | None: ...

    def notify(self, message: str, *, severity: Any = ...) -> None: ...

    def set_timer(self, delay: float, callback: Callable[[], None]) -> Any: ...

    def mic_changed(self) -> None: ...


class TalkControl:
    """Owned by the app, which forwards its key events here; see the module docstring."""

    def __init__(
        self, host: TalkHost, settings: AppSettings, keymap: dict[str, str], clock: Callable[[], float]
    ) -> None:
        self._host = host
        self._keymap = keymap
        self._clock = clock
        self.ptt = PushToTalk(
            resolve_method(settings.ptt_method, release_supported=False),
            release_timeout=settings.ptt_release_timeout_ms / 1000,
            repeat_delay=settings.ptt_repeat_delay_ms / 1000,
        )
        self._queue: asyncio.Queue[PttAction] = asyncio.Queue()
        self._timer: Any = None
        self._last_hint = -1e9

    def keys(self) -> list[str]:
        return keys_for("ptt", self._keymap)

    # -- inputs -----------------------------------------------------------------------------------------
    def press(self) -> None:
        if self._ready():
            self._dispatch(self.ptt.press(self._clock()))

    def cancel(self) -> None:
        """Drop the turn being spoken, if there is one (Esc, open mic, a lost connection)."""
        if self.ptt.talking:
            self._dispatch(self.ptt.cancel())

    def repeat(self, key: str) -> bool:
        """A key's auto-repeat; False if it is not the push-to-talk key (the app replays it as a press)."""
        if not self.is_ptt_key(key):
            return False
        if self._ready(quiet=True):
            self._dispatch(self.ptt.repeat(self._clock()))
        return True

    def release(self, key: str) -> None:
        if self.is_ptt_key(key):
            self._dispatch(self.ptt.release(self._clock()))

    def focus_lost(self) -> None:
        self._dispatch(self.ptt.focus_lost())

    def apply_method(self, setting: PttMethodSetting, *, release_supported: bool) -> None:
        method = resolve_method(setting, release_supported=release_supported)
        if method is not self.ptt.method:
            self._dispatch(self.ptt.set_method(method))
            if setting is PttMethodSetting.RELEASE and method is PttMethod.REPEAT:
                self._host.notify(
                    "This terminal does not report key releases; push-to-talk infers them from key repeat."
                )
        self._host.mic_changed()

    def is_ptt_key(self, key: str) -> bool:
        return base_key(key) in {base_key(k) for k in self.keys()}

    def check(self) -> None:
        """Infer a release in repeat mode once the key-repeat stream has stopped."""
        self._timer = None
        self._dispatch(self.ptt.tick(self._clock()))

    # -- to the engine ----------------------------------------------------------------------------------
    async def pump(self) -> None:
        """Applies the queued actions to the engine one at a time, in order (run as the app's worker)."""
        while True:
            action = await self._queue.get()
            audio = self._host.audio
            if audio is None:
                continue
            try:
                if action is PttAction.START:
                    await audio.talk_start()
                elif action is PttAction.END:
                    await audio.talk_end()
                else:
                    await audio.talk_cancel()
            except Exception as error:
                self._host.notify(f"Push-to-talk: {error}", severity="error")
            self._host.mic_changed()

    def _ready(self, *, quiet: bool = False) -> bool:
        status = self._host.audio_status()
        if status is None or status.text_only:
            if not quiet:
                self._hint("No microphone in this session: type your message instead.")
            return False
        if status.mode is not MicMode.PUSH_TO_TALK:
            if not quiet:
                key = " / ".join(keys_for("mic_mode", self._keymap))
                self._hint(f"The mic is open (always on). {key} switches to push-to-talk.")
            return False
        return True

    def _hint(self, text: str) -> None:
        now = self._clock()
        if now - self._last_hint > HINT_INTERVAL:
            self._last_hint = now
            self._host.notify(text)

    def _dispatch(self, action: PttAction | None) -> None:
        if action is not None:
            self._queue.put_nowait(action)
        self._schedule_check()
        if action is not None:
            self._host.mic_changed()

    def _schedule_check(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        deadline = self.ptt.deadline
        if deadline is not None:
            self._timer = self._host.set_timer(max(0.0, deadline - self._clock()) + 0.005, self.check)
