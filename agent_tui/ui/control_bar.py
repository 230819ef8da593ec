"""``AgentControlBar``: the call's buttons, each shown only while it applies.

The web's ``AgentControlBar`` in a terminal row of compact buttons, following the provider's
``connection`` and ``audio_status``:

* **Mute / Unmute** the microphone (track and engine), with audio;
* **Push-to-talk / Open mic**, the microphone mode, with audio;
* **Talk / Done**, in push-to-talk mode: a terminal button cannot be held, so the first press opens
  the turn and the second ends it (and **Cancel** drops it);
* **Devices**, with audio: the microphone and speaker to use (:class:`~.device_picker.DevicePicker`);
* **Camera** and **Screen** on / off, when the provider has a video controller;
* **End call** while connecting or connected; **Call** once disconnected (the provider starts a new
  session).

A failed action is a notification, never an exception. Each button has an id (``#control-mute``,
``#control-mode``, ``#control-talk``, ``#control-cancel``, ``#control-devices``, ``#control-camera``,
``#control-screen``, ``#control-end``, ``#control-start``) for
styling and tests. Keys stay the host's: the bar has no bindings of its own.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button

from agent_tui.audio.controls import AudioStatus, MicMode
from agent_tui.session import ConnectionState
from agent_tui.video.frame_reader import SourceKind

from .device_picker import choose_devices
from .provider import SessionProvider, provider_of

CAMERA, SCREEN = SourceKind.CAMERA, SourceKind.SCREEN
VIDEO_BUTTONS = ((CAMERA, "#control-camera", "Camera"), (SCREEN, "#control-screen", "Screen"))

__all__ = ["AgentControlBar"]


class AgentControlBar(Horizontal):
    """See the module docstring."""

    DEFAULT_CSS = """
    AgentControlBar { height: 1; width: 1fr; }
    AgentControlBar Button { margin: 0 1 0 0; min-width: 8; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._provider: SessionProvider | None = None

    def compose(self) -> ComposeResult:
        yield Button("Mute", id="control-mute", compact=True)
        yield Button("Push-to-talk", id="control-mode", compact=True)
        yield Button("Talk", id="control-talk", compact=True, variant="success")
        yield Button("Cancel", id="control-cancel", compact=True)
        yield Button("Devices", id="control-devices", compact=True)
        yield Button("Camera", id="control-camera", compact=True)
        yield Button("Screen", id="control-screen", compact=True)
        yield Button("End call", id="control-end", compact=True, variant="error")
        yield Button("Call", id="control-start", compact=True, variant="primary")

    def on_mount(self) -> None:
        provider = self._provider = provider_of(self)
        self.watch(provider, "audio_status", lambda _: self._update())
        self.watch(provider, "connection", lambda _: self._update())

    @property
    def provider(self) -> SessionProvider:
        assert self._provider is not None, "the control bar is mounted"
        return self._provider

    def _status(self) -> AudioStatus | None:
        status = self.provider.audio_status
        return status if status is not None and not status.text_only else None

    def _update(self) -> None:
        status = self._status()
        connection = self.provider.connection
        ptt = status is not None and status.mode is MicMode.PUSH_TO_TALK
        mute = self.query_one("#control-mute", Button)
        mute.display = status is not None
        mute.label = "Unmute" if status is not None and status.muted else "Mute"
        mode = self.query_one("#control-mode", Button)
        mode.display = status is not None
        mode.label = "Open mic" if ptt else "Push-to-talk"
        talk = self.query_one("#control-talk", Button)
        talk.display = ptt
        talk.label = "Done" if status is not None and status.talking else "Talk"
        self.query_one("#control-cancel", Button).display = status is not None and status.talking
        self.query_one("#control-devices", Button).display = status is not None
        video = self.provider.video
        for kind, button_id, name in (
            (CAMERA, "#control-camera", "Camera"),
            (SCREEN, "#control-screen", "Screen"),
        ):
            button = self.query_one(button_id, Button)
            button.display = video is not None
            button.label = f"{name} off" if video is not None and video.wanted(kind) else f"{name} on"
        live = connection is not ConnectionState.DISCONNECTED
        self.query_one("#control-end", Button).display = live
        self.query_one("#control-start", Button).display = not live

    @on(Button.Pressed, "#control-mute")
    def _mute(self) -> None:
        audio, status = self.provider.audio, self._status()
        if audio is None or status is None:
            return
        muted = not status.muted
        try:
            audio.set_muted(muted)
            self.provider.session.set_microphone_muted(muted)
        except Exception as error:
            self.notify(f"Mute failed: {error}", severity="error")
        self._refresh_status()

    @on(Button.Pressed, "#control-mode")
    def _mode(self) -> None:
        audio, status = self.provider.audio, self._status()
        if audio is None or status is None:
            return
        mode = MicMode.OPEN if status.mode is MicMode.PUSH_TO_TALK else MicMode.PUSH_TO_TALK
        try:
            audio.set_mode(mode)
        except Exception as error:
            self.notify(f"Could not change the mic mode: {error}", severity="error")
        self._refresh_status()

    @on(Button.Pressed, "#control-talk")
    @work(group="control-bar-talk", exclusive=True, exit_on_error=False)
    async def _talk(self) -> None:
        audio, status = self.provider.audio, self._status()
        if audio is None or status is None:
            return
        try:
            await (audio.talk_end() if status.talking else audio.talk_start())
        except Exception as error:
            self.notify(f"Push-to-talk: {error}", severity="error")
        self._refresh_status()

    @on(Button.Pressed, "#control-cancel")
    @work(group="control-bar-talk", exclusive=True, exit_on_error=False)
    async def _cancel(self) -> None:
        audio = self.provider.audio
        if audio is None:
            return
        try:
            await audio.talk_cancel()
        except Exception as error:
            self.notify(f"Push-to-talk: {error}", severity="error")
        self._refresh_status()

    @on(Button.Pressed, "#control-devices")
    @work(group="control-bar-devices", exclusive=True, exit_on_error=False)
    async def _devices(self) -> None:
        audio = self.provider.audio
        if audio is None or self._status() is None:
            return
        await choose_devices(audio, self.app.push_screen_wait, self.notify)
        self._refresh_status()

    @on(Button.Pressed, "#control-camera")
    def _camera(self) -> None:
        self._toggle_video(CAMERA)

    @on(Button.Pressed, "#control-screen")
    def _screen(self) -> None:
        self._toggle_video(SCREEN)

    @work(group="control-bar-video", exit_on_error=False)
    async def _toggle_video(self, kind: SourceKind) -> None:
        video = self.provider.video
        if video is None:
            return
        try:
            await video.toggle(kind)
        except Exception as error:
            self.notify(f"{video.label(kind)}: {error}", severity="error")
        self._update()

    @on(Button.Pressed, "#control-end")
    @work(group="control-bar-session", exclusive=True, exit_on_error=False)
    async def _end(self) -> None:
        try:
            await self.provider.session.end()
        except Exception as error:
            self.notify(f"Could not end the call: {error}", severity="error")

    @on(Button.Pressed, "#control-start")
    def _start(self) -> None:
        self.provider.start()

    def _refresh_status(self) -> None:
        self.provider.read_audio()
        self._update()
