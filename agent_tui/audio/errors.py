"""Audio errors: each one line saying what happened and what to do; the session goes on text-only."""

from __future__ import annotations

from agent_tui.session import SessionLibraryError


class AudioDeviceError(SessionLibraryError):
    """A device is missing, busy or unplugged, or PortAudio is not installed."""


class AudioFileError(AudioDeviceError):
    """A WAV file given in place of a device cannot be read or written."""
