"""The dev server's data-track bookkeeping alone: publish rules (livekit-server's refusals), subscriber
handles, packet forwarding with the handle rewritten and nothing else touched, and departures."""

from __future__ import annotations

import pytest
from livekit.protocol.rtc import PublishDataTrackRequest, RequestResponse, UpdateDataSubscription

from agent_tui.devserver.data_track_router import (
    DataTrackRefused,
    DataTrackRouter,
    packet_handle,
    with_handle,
)


def packet(handle: int, payload: bytes = b"payload", *, first_byte: int = 0b0001_1000) -> bytes:
    """A data-track packet: version 0, start+final, no extensions; sequence 7, frame 9, timestamp 42."""
    header = (
        bytes([first_byte, 0]) + handle.to_bytes(2, "big") + (7).to_bytes(2, "big") + (9).to_bytes(2, "big")
    )
    return header + (42).to_bytes(4, "big") + payload


def subscribe(router: DataTrackRouter, who: str, track_sid: str, on: bool = True) -> dict[int, str]:
    update = UpdateDataSubscription(
        updates=[UpdateDataSubscription.Update(track_sid=track_sid, subscribe=on)]
    )
    handles = router.update_subscription(who, update)
    return {handle: entry.track_sid for handle, entry in handles.sub_handles.items()}


def published(router: DataTrackRouter, name: str = "pose", handle: int = 5, who: str = "agent") -> str:
    info = router.publish(
        identity=who, sid=f"PA_{who}", request=PublishDataTrackRequest(pub_handle=handle, name=name)
    )
    return info.sid


def test_a_published_track_gets_a_data_track_sid_and_is_listed_for_its_publisher() -> None:
    router = DataTrackRouter()
    sid = published(router)
    assert sid.startswith("DTR_")
    assert [(i.name, i.pub_handle, i.sid) for i in router.tracks_of("agent")] == [("pose", 5, sid)]
    assert router.tracks_of("someone") == []


@pytest.mark.parametrize(
    ("handle", "name", "reason"),
    [
        (0, "x", RequestResponse.Reason.INVALID_HANDLE),
        (0x10000, "x", RequestResponse.Reason.INVALID_HANDLE),
        (6, "", RequestResponse.Reason.INVALID_NAME),
        (5, "other", RequestResponse.Reason.DUPLICATE_HANDLE),
        (6, "pose", RequestResponse.Reason.DUPLICATE_NAME),
    ],
)
def test_bad_publish_requests_are_refused_with_livekit_servers_reason(
    handle: int, name: str, reason: RequestResponse.Reason
) -> None:
    router = DataTrackRouter()
    published(router)
    with pytest.raises(DataTrackRefused) as refused:
        router.publish(
            identity="agent", sid="PA_agent", request=PublishDataTrackRequest(pub_handle=handle, name=name)
        )
    assert refused.value.reason == reason


def test_the_same_name_and_handle_are_fine_for_another_publisher() -> None:
    router = DataTrackRouter()
    published(router)
    published(router, who="user")
    assert len(router.tracks_of("user")) == 1


def test_subscribers_get_their_own_handles_with_the_publisher_named() -> None:
    router = DataTrackRouter()
    pose, depth = published(router), published(router, "depth", 6)
    assert subscribe(router, "user", pose) == {1: pose}
    assert subscribe(router, "user", depth) == {1: pose, 2: depth}
    assert subscribe(router, "user", pose) == {1: pose, 2: depth}, "subscribing again changes nothing"
    entry = router.handles("user").sub_handles[2]
    assert (entry.publisher_identity, entry.publisher_sid, entry.track_sid) == ("agent", "PA_agent", depth)
    assert subscribe(router, "user", pose, on=False) == {2: depth}
    assert subscribe(router, "user", "DTR_unknown") == {2: depth}


def test_a_packet_reaches_each_subscriber_under_its_handle_and_is_otherwise_unchanged() -> None:
    router = DataTrackRouter()
    pose = published(router, handle=5)
    published(router, "other", 6)
    subscribe(router, "user", published(router, "other-first", 7))
    subscribe(router, "user", pose)  # the user's handle 2
    subscribe(router, "viewer", pose)  # the viewer's handle 1
    sent = packet(5)
    routed = dict(router.route("agent", sent))
    assert set(routed) == {"user", "viewer"}
    assert packet_handle(routed["user"]) == 2 and packet_handle(routed["viewer"]) == 1
    assert routed["user"][:2] + routed["user"][4:] == sent[:2] + sent[4:]
    assert router.route("agent", packet(6)) == [], "no subscriber"
    assert router.route("user", packet(5)) == [], "a handle the sender does not publish"


def test_malformed_packets_go_nowhere() -> None:
    router = DataTrackRouter()
    subscribe(router, "user", published(router))
    assert router.route("agent", packet(5)[:11]) == []
    assert packet_handle(packet(5, first_byte=0b0010_0000)) is None, "version 1 is not ours to read"
    assert with_handle(packet(5), 0x1234)[2:4] == b"\x12\x34"


def test_unpublishing_names_the_subscribers_who_lost_it_and_stops_its_packets() -> None:
    router = DataTrackRouter()
    pose = published(router)
    subscribe(router, "user", pose)
    info, losers = router.unpublish(identity="agent", pub_handle=5)
    assert info is not None and info.sid == pose and losers == ["user"]
    assert dict(router.handles("user").sub_handles) == {}
    assert router.route("agent", packet(5)) == []
    assert router.unpublish(identity="agent", pub_handle=5) == (None, [])


def test_a_departure_takes_the_participants_tracks_and_subscriptions() -> None:
    router = DataTrackRouter()
    pose = published(router)
    mine = published(router, "mine", 1, who="user")
    subscribe(router, "user", pose)
    subscribe(router, "agent", mine)
    assert router.participant_left("agent") == ["user"]
    assert router.tracks_of("agent") == []
    assert dict(router.handles("user").sub_handles) == {}
    assert router.route("user", packet(1)) == [], "the agent's subscription went with it"
