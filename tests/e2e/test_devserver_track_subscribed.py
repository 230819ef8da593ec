"""A publisher learns when someone subscribes to its track (``SignalResponse.track_subscribed``).

livekit-agents' audio output awaits ``publication.wait_for_subscription()`` before it plays anything,
so an agent on a server that never says so stays silent: no greeting, no ``speaking`` state.
"""

from __future__ import annotations

import asyncio

import pytest
from livekit import rtc

from tests.e2e.e2e_audio import TonePublisher
from tests.e2e.e2e_harness import Connector
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


async def test_wait_for_subscription_resolves_once_another_participant_subscribes(connect: Connector) -> None:
    agent = await connect("agent", kind="agent")
    subscribed_events: list[str] = []
    agent.on("local_track_subscribed", lambda track: subscribed_events.append(track.sid))
    tone = TonePublisher(agent, 440.0)
    publication = await tone.start()
    try:
        waiting = asyncio.ensure_future(publication.wait_for_subscription())
        # Nobody is in the room to subscribe yet: the wait must still be pending.
        await asyncio.sleep(0.5)
        assert not waiting.done()

        user = await connect("user")
        await wait_until(
            lambda: any(
                pub.subscribed
                for p in user.remote_participants.values()
                for pub in p.track_publications.values()
            ),
            what="the user to subscribe to the agent's track",
        )
        await asyncio.wait_for(waiting, timeout=10)
        await wait_until(lambda: subscribed_events == [publication.sid], what="local_track_subscribed")
    finally:
        await tone.stop()


async def test_a_late_publisher_is_told_about_an_existing_subscriber(connect: Connector) -> None:
    user = await connect("user")
    agent = await connect("agent", kind="agent")
    await wait_until(lambda: "agent" in user.remote_participants, what="the user to see the agent")
    tone = TonePublisher(agent, 880.0)
    publication = await tone.start()
    try:
        await asyncio.wait_for(publication.wait_for_subscription(), timeout=10)
        seen = user.remote_participants["agent"].track_publications
        assert publication.sid in seen
        assert isinstance(seen[publication.sid], rtc.RemoteTrackPublication)
    finally:
        await tone.stop()
