"""What the server reads from a client's SDP offer and writes into its answer.

In the single-PC protocol the client always offers and the server always answers, so two SDP facts carry
the track bookkeeping:

- a published track's m-line has ``a=msid:<stream> <cid>``: the client-chosen ``cid`` of its
  ``AddTrackRequest``, which is how the server maps that mid to the track sid it handed out;
- a subscribed track's m-line in the answer must say ``a=msid:<PA_publisher>|<TR_track> <TR_track>``,
  because the SDK splits that stream id to find who publishes the track (libwebrtc's own receiver track
  ids are random in Unified Plan).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiortc import sdp

_SENDING = frozenset({"sendonly", "sendrecv"})
_RECEIVING = frozenset({"recvonly", "sendrecv"})


@dataclass(frozen=True)
class OfferedSection:
    """One m-line of a client offer, as the client sees it."""

    mid: str
    kind: str
    direction: str
    msid_track_id: str | None
    ice_ufrag: str | None

    @property
    def client_sends(self) -> bool:
        """The client publishes media on this m-line."""
        return self.direction in _SENDING

    @property
    def client_receives(self) -> bool:
        """The client is ready to receive media on this m-line (a slot the server may fill)."""
        return self.direction in _RECEIVING


def offered_sections(offer_sdp: str) -> list[OfferedSection]:
    """The m-lines of ``offer_sdp`` in order."""
    description = sdp.SessionDescription.parse(offer_sdp)
    sections = []
    for media in description.media:
        track_id = None
        if media.msid and " " in media.msid:
            track_id = media.msid.split()[1]
        sections.append(
            OfferedSection(
                mid=str(media.rtp.muxId),
                kind=media.kind,
                direction=media.direction or "sendrecv",
                msid_track_id=track_id,
                ice_ufrag=media.ice.usernameFragment if media.ice else None,
            )
        )
    return sections


def stream_msid(publisher_sid: str, track_sid: str) -> str:
    """The ``a=msid`` value the SDK needs to attribute a subscribed track to its publisher."""
    return f"{publisher_sid}|{track_sid} {track_sid}"


def with_msids(answer_sdp: str, msids: Mapping[str, str]) -> str:
    """``answer_sdp`` with the ``a=msid`` of each mid in ``msids`` replaced by the given value."""
    if not msids:
        return answer_sdp
    description = sdp.SessionDescription.parse(answer_sdp)
    for media in description.media:
        msid = msids.get(str(media.rtp.muxId))
        if msid is not None:
            media.msid = msid
    return str(description)
