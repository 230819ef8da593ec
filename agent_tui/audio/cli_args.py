"""The audio flags, for ``agent_tui.cli`` to add to its parser and turn into :class:`AudioSettings` overrides.

Every flag defaults to "not given" (``argparse.SUPPRESS``), so :func:`audio_overrides` returns only what the
user typed and the config file keeps its say for everything else (flags > config > defaults).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .controls import MicMode


def _device(value: str) -> int | str:
    text = value.strip()
    return int(text) if text.lstrip("-").isdigit() else text


def add_audio_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add the audio flags (as their own help group) to ``parser``; returns the group."""
    group = parser.add_argument_group("audio")
    add = group.add_argument
    add(
        "--input-device",
        type=_device,
        metavar="DEVICE",
        default=argparse.SUPPRESS,
        help="microphone: index or part of the name (see 'agent-tui devices')",
    )
    add(
        "--output-device",
        type=_device,
        metavar="DEVICE",
        default=argparse.SUPPRESS,
        help="speaker: index or part of the name",
    )
    add(
        "--list-devices",
        action="store_true",
        default=argparse.SUPPRESS,
        help="list audio devices and exit (same as 'agent-tui devices')",
    )
    add(
        "--no-aec",
        dest="aec",
        action="store_false",
        default=argparse.SUPPRESS,
        help="turn echo cancellation off (fine with headphones)",
    )
    add(
        "--input-wav",
        type=Path,
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="stream this WAV into the microphone track instead of a device (then silence)",
    )
    add(
        "--output-wav",
        type=Path,
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="write what the agent says to this WAV instead of a speaker",
    )
    add(
        "--record",
        dest="record_dir",
        type=Path,
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="record the conversation to DIR (stereo WAV: you left, agent right)",
    )
    add(
        "--text-only",
        "--no-audio",
        dest="audio_enabled",
        action="store_false",
        default=argparse.SUPPRESS,
        help="no microphone and no speaker: type and read only",
    )
    add(
        "--block-ms",
        type=int,
        metavar="MS",
        default=argparse.SUPPRESS,
        help="audio device block size in ms (default 10)",
    )
    add(
        "--push-to-talk",
        dest="push_to_talk",
        action="store_true",
        default=argparse.SUPPRESS,
        help="send audio only while the talk key is held (or toggled on)",
    )
    return group


#: Flags whose parsed value is the setting's value as it is.
_PLAIN_FIELDS = ("input_device", "output_device", "aec", "input_wav", "output_wav", "record_dir", "block_ms")


def wants_device_list(args: argparse.Namespace) -> bool:
    """``--list-devices`` was given: the CLI runs :func:`~.devices_command.run_devices` and exits."""
    return bool(getattr(args, "list_devices", False))


def audio_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`AudioSettings` fields the user set on the command line (and only those)."""
    given = vars(args)
    overrides: dict[str, Any] = {}
    for field in _PLAIN_FIELDS:
        if field in given:
            overrides[field] = given[field]
    if "audio_enabled" in given:
        overrides["enabled"] = given["audio_enabled"]
    if given.get("push_to_talk"):
        overrides["mode"] = MicMode.PUSH_TO_TALK
    return overrides
