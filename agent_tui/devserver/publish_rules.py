"""Which publications the dev server refuses, and the reason it gives.

A track is refused when the token does not grant its source, or when it is end-to-end encrypted: the
dev server relays media by decoding and re-encoding it (aiortc), so an encrypted frame would reach the
others as noise, or not at all. livekit-server forwards RTP untouched and carries encrypted media; the
refusal says so. The reason goes back as a ``RequestResponse`` naming the request, as livekit-server
answers requests it refuses; the rtc SDK does not surface it (its publish times out), so the dev server
also logs it, and agent-tui's Session turns the timeout of an encrypted publish into the same advice.
"""

from __future__ import annotations

from livekit.protocol.models import Encryption
from livekit.protocol.rtc import AddTrackRequest, RequestResponse

from .auth import ParticipantGrant

NOT_GRANTED = "the token does not grant publishing this track source"
ENCRYPTED = (
    "the dev server decodes media to relay it and cannot carry end-to-end encrypted tracks — "
    "use livekit-server (or LiveKit Cloud) for end-to-end encryption"
)


def publication_refusal(request: AddTrackRequest, grant: ParticipantGrant) -> RequestResponse | None:
    """The refusal of ``request`` for a holder of ``grant``, or None when the track may be published."""
    if not grant.may_publish_source(request.source):
        message = NOT_GRANTED
    elif request.encryption != Encryption.Type.NONE:
        message = ENCRYPTED
    else:
        return None
    return RequestResponse(reason=RequestResponse.Reason.NOT_ALLOWED, message=message, add_track=request)
