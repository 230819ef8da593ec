"""``--camera``: a webcam through PyAV's capture devices (V4L2 on Linux, AVFoundation on macOS,
DirectShow on Windows).

PyAV is used rather than OpenCV because it is already installed (aiortc depends on it), is FFmpeg's own
binding, and gives capture, scaling and the I420 conversion in one place without a second copy of FFmpeg.
A missing, busy or forbidden camera becomes one :class:`VideoDeviceError` line saying what to do.
"""

from __future__ import annotations

import errno
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livekit import rtc

from .errors import VideoDeviceError
from .file_source import import_av
from .frame_reader import SourceKind, i420_frame
from .geometry import publish_size
from .settings import DEFAULT_MAX_SIZE


def capture_input(device: str | None, platform: str = sys.platform) -> tuple[str, str]:
    """FFmpeg's ``(input format, device name)`` for a camera on ``platform``."""
    if platform.startswith("linux"):
        return "v4l2", device or "/dev/video0"
    if platform == "darwin":
        return "avfoundation", device or "0"
    if platform == "win32":
        if not device:
            raise VideoDeviceError(
                "Name the camera on Windows, e.g. --camera 'video=Integrated Camera' "
                "(ffmpeg -list_devices true -f dshow -i dummy lists them)."
            )
        return "dshow", device if device.startswith("video=") else f"video={device}"
    raise VideoDeviceError(f"Camera capture is not supported on {platform}.")


def describe_open_error(device: str, error: BaseException) -> str:
    """The one line to show when opening ``device`` failed with ``error``."""
    code = getattr(error, "errno", None)
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return f"No camera at {device} — plug one in, or name another with --camera DEVICE."
    if code in (errno.EACCES, errno.EPERM):
        return f"Not allowed to open the camera {device} — add your user to the 'video' group."
    if code == errno.EBUSY:
        return f"The camera {device} is busy — close the other program using it."
    return f"The camera {device} cannot be opened ({error})."


class CameraReader:
    """Frames from a camera, scaled and converted to I420, at most ``fps`` per second."""

    kind = SourceKind.CAMERA

    def __init__(
        self,
        device: str | None = None,
        *,
        size: tuple[int, int] | None = None,
        fps: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self._requested = size
        self._min_gap = 1.0 / fps
        self._fps = fps
        self._clock = clock
        self._stop = threading.Event()
        self._container: Any = None
        self._frames: Any = None
        self._last_sent: float | None = None
        self.size = (0, 0)

    @property
    def label(self) -> str:
        return f"the camera {self.device or '(default)'}"

    def open(self) -> tuple[int, int]:
        av = import_av()
        input_format, name = capture_input(self.device)
        if input_format == "v4l2" and not Path(name).exists():
            raise VideoDeviceError(
                f"No camera at {name} — plug one in, or name another with --camera DEVICE."
            )
        options = {"framerate": f"{min(30, max(1, round(self._fps)))}"}
        if self._requested is not None:
            options["video_size"] = f"{self._requested[0]}x{self._requested[1]}"
        try:
            try:
                container = av.open(name, format=input_format, options=options)
            except av.error.FFmpegError:
                container = av.open(name, format=input_format)  # the device refused our size or rate
        except (av.error.FFmpegError, OSError) as error:
            raise VideoDeviceError(describe_open_error(name, error)) from None
        if not container.streams.video:
            container.close()
            raise VideoDeviceError(f"The camera {name} offers no video stream.")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        self._container = container
        self._frames = container.decode(stream)
        self.size = publish_size((width or 640, height or 480), self._requested, DEFAULT_MAX_SIZE)
        return self.size

    def read(self) -> rtc.VideoFrame | None:
        while not self._stop.is_set() and self._frames is not None:
            try:
                frame = next(self._frames)
            except StopIteration:
                return None
            except Exception as error:  # unplugged while capturing
                raise VideoDeviceError(f"The camera stopped ({error}).") from None
            now = self._clock()
            if self._last_sent is not None and now - self._last_sent < self._min_gap * 0.9:
                continue  # the camera runs faster than we publish
            self._last_sent = now
            width, height = self.size
            planes = frame.reformat(width=width, height=height, format="yuv420p").to_ndarray()
            return i420_frame(planes, width, height)
        return None

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        container, self._container = self._container, None
        self._frames = None
        if container is not None:
            container.close()
