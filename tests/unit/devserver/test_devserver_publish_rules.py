"""The publications the dev server refuses: a source the token does not grant, and end-to-end encrypted
media (it decodes media to relay it); the refusal names the request and says what to do."""

from __future__ import annotations

from livekit.protocol.models import Encryption, TrackSource, TrackType
from livekit.protocol.rtc import AddTrackRequest, RequestResponse

from agent_tui.devserver.auth import ParticipantGrant
from agent_tui.devserver.publish_rules import publication_refusal

GRANT = ParticipantGrant(identity="alice", room="demo")


def _request(encryption: Encryption.Type.ValueType = Encryption.Type.NONE) -> AddTrackRequest:
    return AddTrackRequest(
        cid="mic-1",
        name="microphone",
        type=TrackType.AUDIO,
        source=TrackSource.MICROPHONE,
        encryption=encryption,
    )


def test_a_plain_granted_track_is_published() -> None:
    assert publication_refusal(_request(), GRANT) is None


def test_an_encrypted_track_is_refused_saying_to_use_livekit_server() -> None:
    for encryption in (Encryption.Type.GCM, Encryption.Type.CUSTOM):
        refusal = publication_refusal(_request(encryption), GRANT)
        assert refusal is not None
        assert refusal.reason == RequestResponse.Reason.NOT_ALLOWED
        assert "end-to-end encrypted" in refusal.message and "livekit-server" in refusal.message
        assert refusal.add_track == _request(encryption)
        assert refusal.WhichOneof("request") == "add_track"


def test_a_source_the_token_does_not_grant_is_refused_first() -> None:
    grant = ParticipantGrant(identity="alice", room="demo", can_publish=False)
    refusal = publication_refusal(_request(Encryption.Type.GCM), grant)
    assert refusal is not None
    assert refusal.message == "the token does not grant publishing this track source"
