"""Finding audio devices through ``sounddevice`` (PortAudio), with one clear message for every failure.

``sounddevice`` is imported lazily: importing it loads the PortAudio shared library, and a machine without
it must still run text-only (and list nothing) instead of failing at import time. Every failure here is an
:class:`AudioDeviceError` whose text the front ends show as it is.
"""

from __future__ import annotations

import platform
from typing import Any, Literal

from .alsa_messages import silence_alsa_messages
from .controls import DeviceInfo
from .errors import AudioDeviceError

Direction = Literal["input", "output"]


def portaudio_install_hint() -> str:
    """The command that installs PortAudio on this kind of machine."""
    system = platform.system()
    if system == "Darwin":
        return "brew install portaudio"
    if system == "Windows":
        return "pip install --force-reinstall sounddevice (its wheel bundles PortAudio)"
    return "sudo apt-get install libportaudio2 (Fedora: sudo dnf install portaudio)"


def load_sounddevice() -> Any:
    """The ``sounddevice`` module, or AudioDeviceError saying how to install PortAudio."""
    try:
        import sounddevice
    except OSError as error:  # raised by sounddevice when libportaudio cannot be loaded
        raise AudioDeviceError(
            f"PortAudio is not installed ({error}); install it with: {portaudio_install_hint()}"
        ) from None
    silence_alsa_messages()
    return sounddevice


def refresh() -> None:
    """Re-scan devices (PortAudio enumerates once, at initialisation; a new sound server needs a re-scan).

    ``sounddevice`` has no public call for this; terminating and re-initialising PortAudio is the documented
    way. Only call it while no stream is open.
    """
    sd = load_sounddevice()
    sd._terminate()
    sd._initialize()


def _host_api_name(sd: Any, index: int) -> str:
    try:
        return str(sd.query_hostapis(index)["name"])
    except Exception:
        return "?"


def _defaults(sd: Any) -> tuple[int, int]:
    default_in, default_out = -1, -1
    try:
        pair = sd.default.device
        default_in, default_out = int(pair[0]), int(pair[1])
    except Exception:
        pass
    # sounddevice reports -1 when it has no default of its own; ask PortAudio directly then.
    try:
        if default_in < 0:
            default_in = int(sd.query_devices(kind="input")["index"])
    except Exception:
        pass
    try:
        if default_out < 0:
            default_out = int(sd.query_devices(kind="output")["index"])
    except Exception:
        pass
    return default_in, default_out


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio knows, with the defaults marked."""
    sd = load_sounddevice()
    try:
        raw = sd.query_devices()
    except Exception as error:
        raise AudioDeviceError(f"Could not list audio devices: {error}") from None
    default_in, default_out = _defaults(sd)
    devices = []
    for index, device in enumerate(raw):
        devices.append(
            DeviceInfo(
                index=index,
                name=str(device["name"]),
                host_api=_host_api_name(sd, int(device["hostapi"])),
                max_input_channels=int(device["max_input_channels"]),
                max_output_channels=int(device["max_output_channels"]),
                default_samplerate=float(device["default_samplerate"]),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return devices


def _channels(device: DeviceInfo, direction: Direction) -> int:
    return device.max_input_channels if direction == "input" else device.max_output_channels


def resolve_device(spec: int | str | None, direction: Direction, devices: list[DeviceInfo]) -> DeviceInfo:
    """The device ``spec`` names: None for the default, an index, or a (case-insensitive) part of a name.

    An exact name wins over partial matches, so "pulse" picks "pulse" even when "pulse monitor" exists;
    otherwise a part of a name must match exactly one device, and the error lists the candidates.
    """
    usable = [device for device in devices if _channels(device, direction) > 0]
    if not usable:
        raise AudioDeviceError(f"No audio {direction} device found.")
    if spec is None:
        for device in usable:
            if device.is_default_input if direction == "input" else device.is_default_output:
                return device
        return usable[0]
    text = str(spec).strip()
    if isinstance(spec, int) or text.lstrip("-").isdigit():
        index = int(text)
        for device in devices:
            if device.index == index:
                if _channels(device, direction) == 0:
                    raise AudioDeviceError(
                        f"Audio device {index} ({device.name}) has no {direction} channels."
                    )
                return device
        raise AudioDeviceError(f"No audio device with index {index}; run 'agent-tui devices' to list them.")
    lowered = text.lower()
    exact = [device for device in usable if device.name.lower() == lowered]
    if exact:
        return exact[0]
    partial = [device for device in usable if lowered in device.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise AudioDeviceError(
            f"No audio {direction} device matches {text!r}; run 'agent-tui devices' to list them."
        )
    names = ", ".join(f"{device.index}: {device.name}" for device in partial[:6])
    raise AudioDeviceError(f"{text!r} matches several {direction} devices ({names}); give an index instead.")


def describe(device: DeviceInfo) -> str:
    return f"{device.name} ({device.host_api})"
