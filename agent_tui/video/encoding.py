"""The encoding a published video track asks for: always our frame rate, and a bitrate that fits the size.

Why always: with no encoding the rtc SDK picks a preset by width alone, and its screen-share presets
below 1280 px wide send 5 frames a second whatever ``--video-fps`` says (the frames grabbed in between
are wasted). Passing an encoding makes ``--video-fps`` hold. Without ``max_bitrate`` the cap is about
0.1 bit per pixel per frame — 1.4 Mbit/s for 1280x720 at 15 fps, close to LiveKit's own 720p presets —
kept between 150 kbit/s (a thumbnail stays legible) and 5 Mbit/s (a 1080p screen at 30 fps).
"""

from __future__ import annotations

BITS_PER_PIXEL = 0.1
MIN_BITRATE = 150_000
MAX_BITRATE = 5_000_000


def default_bitrate(width: int, height: int, fps: float) -> int:
    """Bits per second for ``width`` x ``height`` at ``fps`` (see the module docstring)."""
    wanted = round(width * height * fps * BITS_PER_PIXEL)
    return max(MIN_BITRATE, min(MAX_BITRATE, wanted))
