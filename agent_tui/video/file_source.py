"""``--video-file``: any container and codec PyAV (FFmpeg) decodes, looped, sent in real time.

PyAV is FFmpeg's own Python binding: every format FFmpeg reads, hardware-independent, with scaling and
pixel-format conversion (libswscale) in the same call, and it is already installed with aiortc. Decoding
and scaling happen in the reader's thread; the pacer sleeps until each frame's presentation time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from livekit import rtc

from agent_tui.extras import needs_extra

from .errors import VideoDeviceError, VideoFileError
from .frame_reader import SourceKind, i420_frame
from .geometry import publish_size
from .pacing import RealTimePacer
from .settings import DEFAULT_MAX_SIZE


def import_av() -> Any:
    """PyAV, or a :class:`VideoDeviceError` saying how to install it (it is an optional extra)."""
    try:
        import av
    except ImportError:
        raise VideoDeviceError(needs_extra("Publishing video", "video", "av")) from None
    return av


class FileReader:
    """Reads a video file's frames in a loop; see the module docstring."""

    kind = SourceKind.FILE

    def __init__(
        self,
        path: Path,
        *,
        size: tuple[int, int] | None = None,
        fps: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._requested = size
        self._fps = fps
        self._clock = clock
        self._stop = threading.Event()
        self._pacer = RealTimePacer(fps)
        self._container: Any = None
        self._frames: Iterator[tuple[float, Any]] | None = None
        self.size = (0, 0)
        self.loops = 0

    @property
    def label(self) -> str:
        return f"the video file {self.path}"

    def open(self) -> tuple[int, int]:
        av = import_av()
        if not self.path.is_file():
            raise VideoFileError(f"The video file {self.path} does not exist — check the path.")
        try:
            container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError) as error:
            raise VideoFileError(
                f"The video file {self.path} cannot be read as video ({error}) — try another file."
            ) from None
        if not container.streams.video:
            container.close()
            raise VideoFileError(f"The file {self.path} has no video stream.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            container.close()
            raise VideoFileError(f"The video in {self.path} has no picture size; it cannot be played.")
        self._container = container
        self.size = publish_size((width, height), self._requested, DEFAULT_MAX_SIZE)
        self._frames = self._decode_forever(stream)
        return self.size

    def _decode_forever(self, stream: Any) -> Iterator[tuple[float, Any]]:
        """(media time, frame) pairs, starting over at the end of the file."""
        rate = stream.average_rate or stream.guessed_rate or Fraction(self._fps)
        while True:
            count = 0
            last = 0.0
            for frame in self._container.decode(stream):
                at = float(frame.time) if frame.time is not None else count / float(rate)
                last = at
                count += 1
                yield at, frame
            if count == 0:
                raise VideoFileError(f"No frame of {self.path} could be decoded.")
            self._pacer.looped(last + 1 / float(rate))
            self.loops += 1
            self._container.seek(0)

    def read(self) -> rtc.VideoFrame | None:
        if self._frames is None:
            raise RuntimeError("open() first")
        while not self._stop.is_set():
            try:
                at, frame = next(self._frames)
            except StopIteration:
                return None
            except VideoFileError:
                raise
            except Exception as error:  # av.error.* while decoding: a damaged file
                raise VideoFileError(f"Decoding {self.path} failed ({error}).") from None
            decision = self._pacer.decide(at, self._clock())
            if not decision.send:
                continue
            width, height = self.size
            planes = frame.reformat(width=width, height=height, format="yuv420p").to_ndarray()
            if decision.sleep_s > 0 and self._stop.wait(decision.sleep_s):
                return None
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
