"""Data routing through the dev server: packets, text and byte streams, RPC, chat and transcriptions."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os

import pytest
from livekit import rtc

from tests.e2e.e2e_harness import Connector
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


async def _pair(connect: Connector) -> tuple[rtc.Room, rtc.Room]:
    user = await connect("user")
    agent = await connect("agent", kind="agent")
    await wait_until(lambda: "agent" in user.remote_participants, what="the user to see the agent")
    await wait_until(lambda: "user" in agent.remote_participants, what="the agent to see the user")
    return user, agent


async def test_chat_round_trip_over_lk_chat_text_streams(connect: Connector) -> None:
    user, agent = await _pair(connect)
    replies: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    async def echo(reader: rtc.TextStreamReader, sender: str) -> None:
        text = await reader.read_all()
        await agent.local_participant.send_text(
            f"you said: {text}", topic="lk.chat", destination_identities=[sender]
        )

    async def collect(reader: rtc.TextStreamReader, sender: str) -> None:
        await replies.put((sender, await reader.read_all()))

    agent.register_text_stream_handler("lk.chat", lambda r, s: asyncio.ensure_future(echo(r, s)))
    user.register_text_stream_handler("lk.chat", lambda r, s: asyncio.ensure_future(collect(r, s)))

    info = await user.local_participant.send_text("hello agent ✓", topic="lk.chat")
    assert info.topic == "lk.chat"
    sender, text = await asyncio.wait_for(replies.get(), timeout=10)
    assert (sender, text) == ("agent", "you said: hello agent ✓")


async def test_transcription_arrives_interim_then_final(connect: Connector) -> None:
    user, agent = await _pair(connect)
    # (sender, segment, final flag when the stream opened, text, final flag when it ended)
    # Filled in the order the streams *opened* (the handler runs synchronously per stream); each stream
    # is read in its own task, and those may finish in any order.
    received: list[tuple[str, str, str, str, str] | None] = []
    done = asyncio.Event()

    async def collect(reader: rtc.TextStreamReader, sender: str, slot: int) -> None:
        opened = dict(reader.info.attributes or {})
        text = await reader.read_all()
        ended = dict(reader.info.attributes or {})
        segment = opened["lk.segment_id"]
        flags = (opened["lk.transcription_final"], ended["lk.transcription_final"])
        received[slot] = (sender, segment, flags[0], text, flags[1])
        if len(received) == 4 and all(item is not None for item in received):
            done.set()

    tasks: list[asyncio.Future[None]] = []

    def on_stream(reader: rtc.TextStreamReader, sender: str) -> None:
        received.append(None)
        tasks.append(asyncio.ensure_future(collect(reader, sender, len(received) - 1)))

    user.register_text_stream_handler("lk.transcription", on_stream)

    # The user's speech: one full-text stream per update, sharing a segment id, the last one final.
    for text, final in (("hel", "false"), ("hello", "false"), ("hello there", "true")):
        await agent.local_participant.send_text(
            text,
            topic="lk.transcription",
            attributes={"lk.segment_id": "SG_1", "lk.transcription_final": final},
        )
    # The agent's speech: one delta stream, interim when it opens, whose trailer marks it final.
    writer = await agent.local_participant.stream_text(
        topic="lk.transcription", attributes={"lk.segment_id": "SG_2", "lk.transcription_final": "false"}
    )
    for delta in ("Hi! ", "How can ", "I help?"):
        await writer.write(delta)
    await writer.aclose(attributes={"lk.transcription_final": "true"})

    await asyncio.wait_for(done.wait(), timeout=10)
    assert received == [
        ("agent", "SG_1", "false", "hel", "false"),
        ("agent", "SG_1", "false", "hello", "false"),
        ("agent", "SG_1", "true", "hello there", "true"),
        ("agent", "SG_2", "false", "Hi! How can I help?", "true"),
    ]


async def test_rpc_both_ways_and_unknown_method(connect: Connector) -> None:
    user, agent = await _pair(connect)

    @agent.local_participant.register_rpc_method("lk.test.add")
    async def add(data: rtc.RpcInvocationData) -> str:
        numbers = json.loads(data.payload)
        return json.dumps({"sum": sum(numbers), "caller": data.caller_identity})

    @user.local_participant.register_rpc_method("lk.test.confirm")
    async def confirm(data: rtc.RpcInvocationData) -> str:
        return f"confirmed:{data.payload}"

    answer = await user.local_participant.perform_rpc(
        destination_identity="agent", method="lk.test.add", payload="[1, 2, 39]", response_timeout=5
    )
    assert json.loads(answer) == {"sum": 42, "caller": "user"}
    back = await agent.local_participant.perform_rpc(
        destination_identity="user", method="lk.test.confirm", payload="order-7", response_timeout=5
    )
    assert back == "confirmed:order-7"
    with pytest.raises(rtc.RpcError) as refused:
        await user.local_participant.perform_rpc(
            destination_identity="agent", method="lk.test.missing", payload="", response_timeout=5
        )
    assert refused.value.code == rtc.RpcError.ErrorCode.UNSUPPORTED_METHOD


async def test_byte_stream_arrives_intact(connect: Connector) -> None:
    user, agent = await _pair(connect)
    payload = os.urandom(300_000)  # about 20 chunks of the SDK's 15 kB
    received: asyncio.Future[tuple[bytes, rtc.ByteStreamInfo]] = asyncio.get_running_loop().create_future()

    async def collect(reader: rtc.ByteStreamReader, sender: str) -> None:
        chunks = [chunk async for chunk in reader]
        received.set_result((b"".join(chunks), reader.info))

    user.register_byte_stream_handler("e2e.bytes", lambda r, s: asyncio.ensure_future(collect(r, s)))
    await agent.local_participant.send_bytes(
        payload, topic="e2e.bytes", name="blob.bin", mime_type="application/x-test"
    )
    data, info = await asyncio.wait_for(received, timeout=15)
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(payload).hexdigest()
    assert (info.name, info.mime_type, info.size) == ("blob.bin", "application/x-test", len(payload))


async def test_packets_follow_destinations_and_topics(connect: Connector) -> None:
    user, agent = await _pair(connect)
    observer = await connect("observer")
    await wait_until(lambda: len(agent.remote_participants) == 2, what="the agent to see two participants")
    got: dict[str, list[tuple[str, str | None, bytes]]] = {"user": [], "observer": []}

    for name, room in (("user", user), ("observer", observer)):
        room.on(
            "data_received",
            lambda packet, name=name: got[name].append(
                (packet.participant.identity, packet.topic, packet.data)
            ),
        )

    await agent.local_participant.publish_data(b"to-user", topic="private", destination_identities=["user"])
    await agent.local_participant.publish_data(b"to-all", topic="public")
    await agent.local_participant.publish_data(b"lossy-to-all", topic="public", reliable=False)
    await wait_until(
        lambda: len(got["observer"]) >= 2 and len(got["user"]) >= 3, what="the broadcast packets"
    )
    # Reliable packets keep their order; a lossy one travels on its own channel and may overtake them
    # (livekit-server's often does).
    reliable = [packet for packet in got["user"] if packet[2] != b"lossy-to-all"]
    assert reliable == [("agent", "private", b"to-user"), ("agent", "public", b"to-all")]
    assert ("agent", "public", b"lossy-to-all") in got["user"]
    assert ("agent", "private", b"to-user") not in got["observer"]
    assert ("agent", "public", b"to-all") in got["observer"]


async def test_data_sent_the_moment_someone_joins_is_held_until_their_channel_opens(
    connect: Connector,
) -> None:
    agent = await connect("agent", kind="agent")
    greeted = asyncio.Event()
    sends: list[asyncio.Future[None]] = []

    @agent.on("participant_connected")
    def _greet(participant: rtc.RemoteParticipant) -> None:
        # Fires on the server's participant update, before the newcomer's data channel is open.
        greeting = agent.local_participant.publish_data(
            b"welcome", topic="greeting", destination_identities=[participant.identity]
        )
        sends.append(asyncio.ensure_future(greeting))

    user = rtc.Room()  # handlers must be in place before the connection starts
    user.on("data_received", lambda packet: packet.data == b"welcome" and greeted.set())
    await connect("user", room=user)
    await asyncio.wait_for(greeted.wait(), timeout=10)
    await asyncio.gather(*sends)
