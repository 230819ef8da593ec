"""``--screen``: a monitor captured with ``mss``.

mss is small, pure Python over the platform's own APIs (XGetImage/XShm on X11, CoreGraphics, GDI), has no
dependencies and is maintained; it is fast enough for a few frames per second of a full monitor. It does
not capture Wayland-only sessions (no X display): that, like a missing display, is one clear
:class:`VideoDeviceError` line and the session goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from livekit import rtc

from agent_tui.extras import needs_extra

from .errors import VideoDeviceError
from .file_source import import_av
from .frame_reader import SourceKind, i420_frame
from .geometry import publish_size
from .settings import DEFAULT_MAX_SIZE


def import_mss() -> Any:
    try:
        import mss
    except ImportError:
        raise VideoDeviceError(needs_extra("Screen sharing", "video", "mss")) from None
    return mss


#: The X11 libraries mss loads at run time (Debian/Ubuntu package names).
XCB_PACKAGES = "libxcb1 libxcb-randr0 libxcb-render0 libxcb-shm0 libxcb-xfixes0"


def screen_open_error(reason: str) -> str:
    """One line for a screen that could not be opened: a missing X11 library is an install away, anything
    else means there is no display to capture."""
    if "library" in reason.lower() and "not found" in reason.lower():
        return (
            f"Screen sharing needs the X11 libraries ({reason}) — install them with "
            f"sudo apt-get install {XCB_PACKAGES}."
        )
    return (
        f"No display to share ({reason}) — screen sharing needs a desktop session (an X11 display on Linux)."
    )


class ScreenReader:
    """Grabs monitor ``monitor`` (1 = first, 0 = all) at most ``fps`` times a second."""

    kind = SourceKind.SCREEN

    def __init__(
        self,
        monitor: int = 1,
        *,
        size: tuple[int, int] | None = None,
        fps: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.monitor = monitor
        self._requested = size
        self._gap = 1.0 / fps
        self._clock = clock
        self._stop = threading.Event()
        self._grabber: Any = None
        self._region: dict[str, int] | None = None
        self._next = 0.0
        self._av: Any = None
        self.size = (0, 0)

    @property
    def label(self) -> str:
        return f"monitor {self.monitor}"

    def open(self) -> tuple[int, int]:
        self._av = import_av()
        mss = import_mss()
        factory = getattr(mss, "MSS", None) or mss.mss  # MSS since mss 10; mss() before
        try:
            grabber = factory()
        except mss.exception.ScreenShotError as error:
            raise VideoDeviceError(screen_open_error(str(error))) from None
        monitors = grabber.monitors
        if not 0 <= self.monitor < len(monitors):
            grabber.close()
            raise VideoDeviceError(
                f"There is no monitor {self.monitor}: this display has {len(monitors) - 1} "
                "(1 is the first, 0 all of them)."
            )
        region = monitors[self.monitor]
        self._grabber = grabber
        self._region = region
        self.size = publish_size((region["width"], region["height"]), self._requested, DEFAULT_MAX_SIZE)
        return self.size

    def read(self) -> rtc.VideoFrame | None:
        if self._grabber is None or self._region is None:
            return None
        wait = self._next - self._clock()
        if wait > 0 and self._stop.wait(wait):
            return None
        if self._stop.is_set():
            return None
        self._next = max(self._next + self._gap, self._clock())
        try:
            shot = self._grabber.grab(self._region)
        except Exception as error:
            raise VideoDeviceError(f"Screen capture stopped ({error}).") from None
        pixels = np.frombuffer(shot.bgra, dtype=np.uint8).reshape(shot.height, shot.width, 4)
        width, height = self.size
        frame = self._av.VideoFrame.from_ndarray(pixels, format="bgra")
        planes = frame.reformat(width=width, height=height, format="yuv420p").to_ndarray()
        return i420_frame(planes, width, height)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        grabber, self._grabber = self._grabber, None
        if grabber is not None:
            grabber.close()
