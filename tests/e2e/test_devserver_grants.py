"""Token grants enforced by the room: publish, subscribe and publish data."""

from __future__ import annotations

import asyncio

import pytest
from livekit import rtc
from livekit.rtc.participant import PublishTrackError

from tests.e2e.e2e_audio import TonePublisher
from tests.e2e.e2e_harness import Connector
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


async def test_a_participant_without_publish_grant_cannot_publish(connect: Connector) -> None:
    user = await connect("user")
    listener = await connect("listener", can_publish=False)
    assert not listener.local_participant.permissions.can_publish
    tone = TonePublisher(listener, 440.0)
    # The SDK waits for a track_published that never comes (10 s), as with LiveKit.
    with pytest.raises(PublishTrackError):
        await asyncio.wait_for(tone.start(), timeout=15)
    await tone.stop()
    assert not user.remote_participants["listener"].track_publications


async def test_a_participant_without_subscribe_grant_gets_no_media(connect: Connector) -> None:
    subscribed: dict[str, list[str]] = {"user": [], "deaf": []}
    rooms = {}
    for identity, grants in (("user", {}), ("deaf", {"can_subscribe": False})):
        room = rtc.Room()
        room.on(
            "track_subscribed",
            lambda track, pub, participant, identity=identity: subscribed[identity].append(pub.sid),
        )
        rooms[identity] = await connect(identity, room=room, **grants)
    agent = await connect("agent", kind="agent")
    tone = TonePublisher(agent, 880.0)
    try:
        await tone.start()
        await wait_until(lambda: subscribed["user"], what="the user's subscription")
        await wait_until(
            lambda: rooms["deaf"].remote_participants["agent"].track_publications,
            what="the publication at deaf",
        )
        await asyncio.sleep(1.0)  # the user's subscription was made at the same moment as deaf's would be
        assert subscribed["deaf"] == []
    finally:
        await tone.stop()


async def test_data_from_a_participant_without_publish_data_grant_is_dropped(connect: Connector) -> None:
    receiver = await connect("receiver")
    muted = await connect("muted", can_publish_data=False)
    allowed = await connect("allowed")
    await wait_until(lambda: len(receiver.remote_participants) == 2, what="the receiver to see both senders")
    got: list[tuple[str, bytes]] = []
    receiver.on("data_received", lambda packet: got.append((packet.participant.identity, packet.data)))

    await muted.local_participant.publish_data(b"forbidden")
    await allowed.local_participant.publish_data(b"permitted")
    await wait_until(lambda: ("allowed", b"permitted") in got, what="the permitted packet")
    await asyncio.sleep(0.5)
    assert got == [("allowed", b"permitted")]
