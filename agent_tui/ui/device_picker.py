"""Pick the microphone and the speaker from the devices the audio engine lists."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList
from textual.widgets.option_list import Option

from agent_tui.audio.controls import AudioControls, DeviceInfo


@dataclass(frozen=True)
class DeviceChoice:
    input_device: int | None
    output_device: int | None


def _label(device: DeviceInfo, *, current: bool, default: bool) -> str:
    marks = (" (in use)" if current else "") + (" (default)" if default else "")
    return f"{device.index:>3}  {device.name} — {device.host_api}{marks}"


class DevicePicker(ModalScreen[DeviceChoice | None]):
    """The microphone and the speaker to use, from ``devices`` (the current ones highlighted); dismissed
    with the choice, or None on Esc / Cancel."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    DevicePicker { align: center middle; background: $background 60%; }
    DevicePicker #device-box {
        width: 70; max-width: 95%; height: auto; border: round $primary; background: $surface; padding: 1 2;
    }
    DevicePicker .dialog-buttons { height: auto; align-horizontal: right; }
    DevicePicker .dialog-buttons Button { margin-left: 1; }
    """

    def __init__(self, devices: list[DeviceInfo], *, input_name: str | None, output_name: str | None) -> None:
        super().__init__()
        self._inputs = [d for d in devices if d.max_input_channels > 0]
        self._outputs = [d for d in devices if d.max_output_channels > 0]
        self._input_name = input_name
        self._output_name = output_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="device-box") as box:
            box.border_title = "Audio devices — enter to choose, esc to cancel"
            yield Label("Microphone")
            yield OptionList(
                *[
                    Option(
                        _label(d, current=d.name == self._input_name, default=d.is_default_input),
                        id=f"in-{d.index}",
                    )
                    for d in self._inputs
                ]
                or [Option("No input devices found", disabled=True)],
                id="device-inputs",
            )
            yield Label("Speaker")
            yield OptionList(
                *[
                    Option(
                        _label(d, current=d.name == self._output_name, default=d.is_default_output),
                        id=f"out-{d.index}",
                    )
                    for d in self._outputs
                ]
                or [Option("No output devices found", disabled=True)],
                id="device-outputs",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Use these", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        for list_id, devices, name in (
            ("#device-inputs", self._inputs, self._input_name),
            ("#device-outputs", self._outputs, self._output_name),
        ):
            option_list = self.query_one(list_id, OptionList)
            for position, device in enumerate(devices):
                if device.name == name:
                    option_list.highlighted = position
                    break
            else:
                if devices:
                    option_list.highlighted = 0
        self.query_one("#device-inputs", OptionList).focus()

    def _selected(self, list_id: str, prefix: str) -> int | None:
        option_list = self.query_one(list_id, OptionList)
        if option_list.highlighted is None:
            return None
        option = option_list.get_option_at_index(option_list.highlighted)
        if option.id is None or not option.id.startswith(prefix):
            return None
        return int(option.id.removeprefix(prefix))

    @on(OptionList.OptionSelected, "#device-inputs")
    def _input_chosen(self) -> None:
        self.query_one("#device-outputs", OptionList).focus()

    @on(OptionList.OptionSelected, "#device-outputs")
    @on(Button.Pressed, "#ok")
    def _apply(self) -> None:
        self.dismiss(
            DeviceChoice(
                input_device=self._selected("#device-inputs", "in-"),
                output_device=self._selected("#device-outputs", "out-"),
            )
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


async def choose_devices(
    audio: AudioControls,
    ask: Callable[[DevicePicker], Awaitable[DeviceChoice | None]],
    notify: Callable[..., Any],
) -> bool:
    """List ``audio``'s devices, ``ask`` the user (an app's ``push_screen_wait``), switch to the choice;
    True if switched. Every failure is one notification (``notify`` as a widget's), never an exception."""
    try:
        devices = await asyncio.to_thread(audio.list_devices)
    except Exception as error:
        notify(f"Could not list audio devices: {error}", severity="error")
        return False
    status = audio.status
    choice = await ask(DevicePicker(devices, input_name=status.input_name, output_name=status.output_name))
    if choice is None:
        return False
    try:
        await audio.select_devices(input_device=choice.input_device, output_device=choice.output_device)
    except Exception as error:
        notify(str(error), severity="error", title="Audio device")
        return False
    notify(f"Using {audio.status.input_name or 'default'} / {audio.status.output_name or 'default'}.")
    return True
