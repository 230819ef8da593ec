"""Which stream format a device accepts, and the one-line error when it accepts none.

Shared by both directions (:mod:`.capture`, :mod:`.playback`) through :mod:`.device_stream`.
"""

from __future__ import annotations

from typing import Any

from .controls import DeviceInfo
from .errors import AudioDeviceError


def open_error(direction: str, device: DeviceInfo, error: BaseException) -> AudioDeviceError:
    """One line for a device that would not open (busy, gone, unsupported format)."""
    text = str(error).strip() or type(error).__name__
    hint = "is it in use by another program, or unplugged?"
    return AudioDeviceError(f"Could not open the {direction} device {device.name!r}: {text} — {hint}")


def pick_stream_format(sd: Any, device: DeviceInfo, direction: str, wanted_rate: int) -> tuple[int, int]:
    """A (sample rate, channels) the device accepts: the wanted rate and mono when possible.

    Falls back to the device's own default rate (the engine resamples) and to two channels for hardware
    that cannot open mono (the engine uses the first channel).
    """
    check = sd.check_input_settings if direction == "input" else sd.check_output_settings
    max_channels = device.max_input_channels if direction == "input" else device.max_output_channels
    rates = [wanted_rate]
    default_rate = round(device.default_samplerate)
    if default_rate and default_rate != wanted_rate:
        rates.append(default_rate)
    channel_options = [1] + ([2] if max_channels >= 2 else [])
    last_error: BaseException | None = None
    for rate in rates:
        for channels in channel_options:
            try:
                check(device=device.index, samplerate=rate, channels=channels, dtype="int16")
                return rate, channels
            except Exception as error:
                last_error = error
    raise open_error(direction, device, last_error or RuntimeError("no usable format"))
