"""What every video source is to the publisher: a blocking reader of ready-to-send frames.

Sources block (a camera waits for its next frame, a file sleeps until a frame is due, a screen grab
takes milliseconds), so the publisher runs a reader in a worker thread; the reader does the expensive
work there too (decoding, scaling, converting to I420), leaving the event loop only the hand-off.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

import numpy as np
from livekit import rtc


class SourceKind(StrEnum):
    """Which of our tracks a source feeds; a file stands in for a camera."""

    CAMERA = "camera"
    SCREEN = "screen"
    FILE = "file"

    @property
    def track_source(self) -> rtc.TrackSource.ValueType:
        """The LiveKit source the agent sees (a file is published as a camera)."""
        if self is SourceKind.SCREEN:
            return rtc.TrackSource.SOURCE_SCREENSHARE
        return rtc.TrackSource.SOURCE_CAMERA


class FrameReader(Protocol):
    """A video source; every method may block and is called from one worker thread."""

    kind: SourceKind

    @property
    def label(self) -> str:
        """What the user would call it in a message ("the camera /dev/video0")."""
        ...

    def open(self) -> tuple[int, int]:
        """Open the device or file and return the ``(width, height)`` frames will have; raises a
        :class:`~agent_tui.video.errors.VideoError` saying what to do when it cannot."""
        ...

    def read(self) -> rtc.VideoFrame | None:
        """The next frame, returned when it is due (real time, at most the configured rate); None when
        the source has ended for good."""
        ...

    def stop(self) -> None:
        """Make a blocked or later :meth:`read` return None soon; the only method safe from any thread."""
        ...

    def close(self) -> None:
        """Release the device or file (from the reading thread, after the last read); idempotent."""
        ...


def i420_frame(planes: np.ndarray, width: int, height: int) -> rtc.VideoFrame:
    """An rtc frame from PyAV's ``yuv420p`` ndarray (the Y, U and V planes stacked, I420's own layout)."""
    return rtc.VideoFrame(width, height, rtc.VideoBufferType.I420, np.ascontiguousarray(planes).tobytes())
