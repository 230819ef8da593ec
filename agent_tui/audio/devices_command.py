"""``agent-tui devices`` (and ``--list-devices``): the audio devices, their channels and the defaults.

The listing shows what the selection flags accept: the index, or any part of the name. A machine without
PortAudio gets the install command instead of a traceback (exit code 1, the AudioDeviceError code).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TextIO

from agent_tui.exit_codes import exit_code_for

from .controls import DeviceInfo
from .devices import list_devices
from .errors import AudioDeviceError


def add_devices_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the ``devices`` subcommand."""
    parser.add_argument("--json", action="store_true", help="one JSON object per device, for scripts")


def format_devices(devices: list[DeviceInfo]) -> str:
    """The human listing: inputs, then outputs; ``*`` marks the default."""
    lines: list[str] = []
    for title, inputs in (("Input devices", True), ("Output devices", False)):
        lines.append(f"{title}:")
        listed = 0
        for device in devices:
            channels = device.max_input_channels if inputs else device.max_output_channels
            if channels <= 0:
                continue
            listed += 1
            mark = "*" if (device.is_default_input if inputs else device.is_default_output) else " "
            lines.append(
                f" {mark}{device.index:>3}  {device.name}  ({device.host_api}, {channels} ch, "
                f"{device.default_samplerate:g} Hz)"
            )
        if not listed:
            lines.append("  (none)")
        lines.append("")
    lines.append("* default. Select with --input-device / --output-device and an index or part of a name.")
    return "\n".join(lines)


def run_devices(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """List the devices; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        devices = list_devices()
    except AudioDeviceError as error:
        print(f"agent-tui: {error}", file=err)
        return exit_code_for(error)
    if getattr(args, "json", False):
        for device in devices:
            print(json.dumps(asdict(device)), file=out)
    else:
        print(format_devices(devices), file=out)
    return 0
