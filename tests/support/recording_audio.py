"""A recording implementation of the AudioControls protocol, for front-end tests (the app's and the
Agents UI kit's): a collaborator with settable levels and bands, not a widget under test."""

from __future__ import annotations

from dataclasses import replace

from agent_tui.audio.controls import AudioStatus, DeviceInfo, Level, MicMode
from agent_tui.audio.errors import AudioDeviceError

__all__ = ["RecordingAudio"]


class RecordingAudio:
    """An in-test AudioControls: keeps the status a real engine would and records every call."""

    def __init__(
        self, *, mode: MicMode = MicMode.OPEN, text_only: bool = False, reason: str | None = None
    ) -> None:
        self._status = AudioStatus(
            text_only=text_only,
            reason=reason,
            input_name=None if text_only else "USB Mic",
            output_name=None if text_only else "Speakers",
            mode=mode,
            muted=False,
            talking=False,
            aec=True,
        )
        self.calls: list[tuple[str, object]] = []
        self.input_db = -20.0
        self.output_db = -12.0
        #: What output_bands reads: the levels by band, low to high (repeated or cut to the count asked).
        self.bands = [-12.0, -18.0, -30.0, -45.0]
        self.devices = [
            DeviceInfo(0, "USB Mic", "ALSA", 1, 0, 48000.0, True, False),
            DeviceInfo(1, "Speakers", "ALSA", 0, 2, 48000.0, False, True),
            DeviceInfo(2, "Headset", "ALSA", 1, 2, 48000.0, False, False),
        ]
        self.fail_select = False

    @property
    def status(self) -> AudioStatus:
        return self._status

    def input_level(self) -> Level:
        return Level(self.input_db, self.input_db + 3)

    def output_level(self) -> Level:
        return Level(self.output_db, self.output_db + 3)

    def output_bands(self, count: int) -> list[float]:
        return [self.bands[index * len(self.bands) // count] for index in range(count)]

    def set_muted(self, muted: bool) -> None:
        self.calls.append(("set_muted", muted))
        self._status = replace(self._status, muted=muted)

    def set_mode(self, mode: MicMode) -> None:
        self.calls.append(("set_mode", mode))
        self._status = replace(self._status, mode=mode, talking=False)

    async def talk_start(self) -> None:
        self.calls.append(("talk_start", None))
        self._status = replace(self._status, talking=True)

    async def talk_end(self) -> None:
        self.calls.append(("talk_end", None))
        self._status = replace(self._status, talking=False)

    async def talk_cancel(self) -> None:
        self.calls.append(("talk_cancel", None))
        self._status = replace(self._status, talking=False)

    def set_aec(self, enabled: bool) -> None:
        self.calls.append(("set_aec", enabled))
        self._status = replace(self._status, aec=enabled)

    def list_devices(self) -> list[DeviceInfo]:
        self.calls.append(("list_devices", None))
        return list(self.devices)

    async def select_devices(
        self, *, input_device: str | int | None, output_device: str | int | None
    ) -> None:
        self.calls.append(("select_devices", (input_device, output_device)))
        if self.fail_select:
            raise AudioDeviceError(
                "The device 'Headset' is busy. Close the other program using it, or pick another."
            )
        names = {d.index: d.name for d in self.devices}
        self._status = replace(
            self._status,
            input_name=names.get(input_device, self._status.input_name)
            if isinstance(input_device, int)
            else None,
            output_name=names.get(output_device, self._status.output_name)
            if isinstance(output_device, int)
            else None,
        )

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]
