"""A published track and one participant's subscription to it.

The publisher owns :class:`PublishedTrack` (its TrackInfo and the relay reading its media); each
subscriber owns a :class:`Subscription` holding its relayed copy and, once a client offer gave it one,
the m-line (mid) that carries it.
"""

from __future__ import annotations

from dataclasses import dataclass

from livekit.protocol.models import TrackInfo, TrackType

from .media_relay import RelayedTrack, TrackRelay


@dataclass
class PublishedTrack:
    """A track a participant publishes, live once its m-line is negotiated."""

    info: TrackInfo
    publisher_sid: str
    publisher_identity: str
    relay: TrackRelay

    @property
    def sid(self) -> str:
        """The track sid (``TR_…``)."""
        return self.info.sid

    @property
    def kind(self) -> str:
        """``audio`` or ``video``, as aiortc names it."""
        return "video" if self.info.type == TrackType.VIDEO else "audio"


@dataclass
class Subscription:
    """A subscriber's copy of a published track and the mid it is sent on (None until negotiated)."""

    published: PublishedTrack
    track: RelayedTrack
    mid: str | None = None
