"""Our own published data track: the handle :meth:`~agent_tui.session.Session.publish_data_track` returns.

It wraps the rtc SDK's ``LocalDataTrack`` so that callers push frames without importing ``livekit.rtc``
and get the library's one-line :class:`~agent_tui.session.errors.DataTrackError` when a push fails.
"""

from __future__ import annotations

import time

from livekit import rtc

from agent_tui.session.errors import DataTrackError


def unix_millis() -> int:
    """Now in Unix milliseconds: the user-timestamp convention of LiveKit's SDKs (Rust
    ``DataTrackFrame::with_user_timestamp_now``), so the receiving side can compute the latency."""
    return time.time_ns() // 1_000_000


class DataTrackHandle:
    """A data track we publish: :meth:`push` frames, :meth:`unpublish` when done. The session's end
    unpublishes it too (pushing after that raises)."""

    def __init__(self, track: rtc.LocalDataTrack) -> None:
        self._track = track

    @property
    def name(self) -> str:
        return self._track.info.name

    @property
    def sid(self) -> str:
        return self._track.info.sid

    @property
    def published(self) -> bool:
        return self._track.is_published()

    def push(self, payload: bytes | str, *, user_timestamp: int | None = None) -> None:
        """Send one frame to the track's subscribers (``str`` is sent as UTF-8). ``user_timestamp`` travels
        with it untouched; :func:`unix_millis` gives the usual one. Raises :class:`DataTrackError`."""
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        try:
            self._track.try_push(rtc.DataTrackFrame(payload=data, user_timestamp=user_timestamp))
        except rtc.PushFrameError as error:
            raise DataTrackError(
                f"Could not push a frame on the data track {self.name!r}: {error.message}."
            ) from None

    async def unpublish(self) -> None:
        """Stop publishing; a no-op when it is already unpublished."""
        if self._track.is_published():
            await self._track.unpublish()
