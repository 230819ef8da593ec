"""SDP facts the server reads from offers and writes into answers."""

from __future__ import annotations

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack
from aiortc.sdp import SessionDescription

from agent_tui.devserver.negotiation import offered_sections, stream_msid, with_msids


async def _offer() -> tuple[str, str]:
    """A real offer: one sending audio m-line, one receive-only audio slot, one data channel."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    track = AudioStreamTrack()
    try:
        pc.addTransceiver(track, direction="sendonly")
        pc.addTransceiver("audio", direction="recvonly")
        pc.createDataChannel("_reliable")
        offer = await pc.createOffer()
        return offer.sdp, track.id
    finally:
        track.stop()
        await pc.close()


async def test_offered_sections_report_direction_kind_and_the_published_track_id() -> None:
    sdp, track_id = await _offer()
    sections = offered_sections(sdp)
    assert [(s.mid, s.kind, s.direction) for s in sections] == [
        ("0", "audio", "sendonly"),
        ("1", "audio", "recvonly"),
        ("2", "application", "sendrecv"),
    ]
    assert sections[0].msid_track_id == track_id
    assert sections[0].client_sends and not sections[0].client_receives
    assert sections[1].client_receives and not sections[1].client_sends
    assert sections[0].ice_ufrag and sections[0].ice_ufrag == sections[1].ice_ufrag


async def test_with_msids_rewrites_only_the_named_mids() -> None:
    sdp, track_id = await _offer()
    rewritten = SessionDescription.parse(with_msids(sdp, {"1": stream_msid("PA_pub", "TR_track")}))
    assert rewritten.media[1].msid == "PA_pub|TR_track TR_track"
    assert rewritten.media[0].msid is not None and rewritten.media[0].msid.endswith(track_id)
    assert with_msids(sdp, {}) == sdp
