"""The video flags, for ``agent_tui.cli`` to add to its parser and turn into :class:`VideoSettings` overrides.

Every flag defaults to "not given" (``argparse.SUPPRESS``), so :func:`video_overrides` returns only what the
user typed and the config file keeps its say for everything else (flags > config > defaults).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from .graphics_support import GRAPHICS_SETTINGS

_CAMERA_DEFAULT = object()


def parse_size(text: str) -> tuple[int, int]:
    """``640x480`` → (640, 480)."""
    width, sep, height = text.lower().strip().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 16 or int(height) < 16:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}")
    return int(width), int(height)


def _fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected frames per second, got {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= 60:
        raise argparse.ArgumentTypeError(f"expected frames per second between 0 and 60, got {text!r}")
    return value


def _monitor(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a monitor number (1 is the first, 0 all), got {text!r}")
    return int(text)


def add_video_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add the video flags (as their own help group) to ``parser``; returns the group."""
    group = parser.add_argument_group("video")
    add = group.add_argument
    add(
        "--camera",
        nargs="?",
        const=_CAMERA_DEFAULT,
        metavar="DEVICE",
        default=argparse.SUPPRESS,
        help="publish the camera (a V4L2 device such as /dev/video0 on Linux; default: the first camera)",
    )
    add(
        "--screen",
        nargs="?",
        const=1,
        type=_monitor,
        metavar="MONITOR",
        default=argparse.SUPPRESS,
        help="share a screen (1: the first monitor, the default; 0: all monitors)",
    )
    add(
        "--video-file",
        type=Path,
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="publish a video file as the camera track, looped in real time (any format PyAV decodes)",
    )
    add(
        "--video-size",
        type=parse_size,
        metavar="WxH",
        default=argparse.SUPPRESS,
        help="published video size (default: the source's, scaled to fit 1280x720)",
    )
    add(
        "--video-fps",
        type=_fps,
        metavar="N",
        default=argparse.SUPPRESS,
        help="published frames per second at most (default 15)",
    )
    add(
        "--no-video",
        dest="show_agent_video",
        action="store_false",
        default=argparse.SUPPRESS,
        help="do not receive or show the agent's video",
    )
    add(
        "--graphics",
        choices=GRAPHICS_SETTINGS,
        default=argparse.SUPPRESS,
        help="how the agent's video is drawn: kitty or sixel graphics, or halfblock characters (work "
        "everywhere); auto (the default) picks from the terminal, half blocks inside tmux or screen",
    )
    return group


def video_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`VideoSettings` fields the user set on the command line (and only those)."""
    given = vars(args)
    overrides: dict[str, Any] = {}
    if "camera" in given:
        overrides["camera"] = True
        if given["camera"] is not _CAMERA_DEFAULT:
            overrides["camera_device"] = given["camera"]
    if "screen" in given:
        overrides["screen"] = True
        overrides["monitor"] = given["screen"]
    if "video_file" in given:
        overrides["video_file"] = given["video_file"]
    if "video_size" in given:
        overrides["width"], overrides["height"] = given["video_size"]
    if "video_fps" in given:
        overrides["fps"] = given["video_fps"]
    if "show_agent_video" in given:
        overrides["show_agent_video"] = given["show_agent_video"]
    if "graphics" in given:
        overrides["graphics"] = given["graphics"]
    return overrides
