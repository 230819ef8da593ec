"""Video errors: each one line saying what happened and what to do; the session goes on without video."""

from __future__ import annotations

from agent_tui.session import SessionLibraryError


class VideoError(SessionLibraryError):
    """Root of the video errors."""


class VideoDeviceError(VideoError):
    """A camera is missing or busy, there is no display to capture, or a capture library is missing."""


class VideoFileError(VideoError):
    """A ``--video-file`` cannot be opened or decoded."""
