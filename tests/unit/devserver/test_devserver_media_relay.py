"""Track relay: a real aiortc RTCRtpReceiver, fed RTP packets as its transport would, hands the relay its
encoded frames, which every subscriber gets as they were published (payload, timestamp) and which aiortc's
own packetizers turn back into the same RTP payloads. Audio goes packet by packet, in order; video waits
for a keyframe per subscriber and asks the publisher for one; slow subscribers drop, audio its oldest
packets, video everything until the next keyframe.

No packet leaves the process: the receivers' transports are never connected (their RTCP is dropped).
"""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pytest
from aiortc import RTCPeerConnection
from aiortc.codecs import depayload, get_encoder
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpPsfbPacket, RtpPacket
from av import AudioFrame, CodecContext, VideoFrame
from av.packet import Packet

from agent_tui.devserver.media_relay import (
    EncodedPacket,
    RelayedTrack,
    TrackRelay,
    carries_relayed_codec,
    forward_keyframe_requests,
    is_vp8_keyframe,
    keep_relayed_codecs,
)

pytestmark = pytest.mark.timeout(30)

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48_000, channels=2, payloadType=111)
VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90_000, payloadType=96)
SSRC = 0x1234_5678
SAMPLES = 960  # 20 ms at 48 kHz
FIRST_TS = 4_294_960_000  # close to the 32-bit wrap, which the relay must carry through


@dataclass
class Published:
    """A receiver as the dev server has one for a published m-line, and the relay reading it."""

    receiver: RTCRtpReceiver
    relay: TrackRelay
    codec: RTCRtpCodecParameters
    sequence: int = 65_530  # wraps as well

    async def send(self, payloads: list[bytes], timestamp: int) -> None:
        """Hand the receiver one frame's RTP packets, as its transport does."""
        for index, payload in enumerate(payloads):
            packet = RtpPacket(
                payload_type=self.codec.payloadType or 0,
                marker=int(index == len(payloads) - 1),
                sequence_number=self.sequence,
                timestamp=timestamp % (1 << 32),
                ssrc=SSRC,
                payload=payload,
            )
            self.sequence = (self.sequence + 1) % (1 << 16)
            await self.receiver._handle_rtp_packet(packet, arrival_time_ms=0)


async def _receiver(kind: str, peers: list[RTCPeerConnection]) -> RTCRtpReceiver:
    """The receiver of a server-side m-line a client offered to send on, before it receives."""
    client, server = RTCPeerConnection(), RTCPeerConnection()
    peers += [client, server]
    client.addTransceiver(kind, direction="sendonly")
    await client.setLocalDescription(await client.createOffer())
    await server.setRemoteDescription(client.localDescription)
    return server.getTransceivers()[0].receiver


@pytest.fixture
async def peers() -> AsyncIterator[list[RTCPeerConnection]]:
    made: list[RTCPeerConnection] = []
    yield made
    for peer in made:
        await peer.close()


async def publish(kind: str, peers: list[RTCPeerConnection], *, decoding_first: bool = False) -> Published:
    """A relay on a fresh receiver; ``decoding_first``: the receiver was already running its decoder."""
    receiver = await _receiver(kind, peers)
    codec = OPUS if kind == "audio" else VP8
    parameters = RTCRtpReceiveParameters(codecs=[codec])
    if decoding_first:
        await receiver.receive(parameters)
    relay = TrackRelay(receiver, track_sid=f"TR_{kind}", kind=kind)
    if not decoding_first:
        await receiver.receive(parameters)
    return Published(receiver, relay, codec)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def pts(packet: EncodedPacket) -> int:
    assert packet.pts is not None
    return packet.pts


class Reader:
    """A subscriber copy as its RTP sender reads it: the first ``recv`` is pending from the start."""

    def __init__(self, copy: RelayedTrack) -> None:
        self.copy = copy
        self._first: asyncio.Future[EncodedPacket] | None = asyncio.ensure_future(copy.recv())

    async def take(self, count: int) -> list[EncodedPacket]:
        """The next ``count`` packets the sender gets."""
        packets: list[EncodedPacket] = []
        if self._first is not None:
            packets.append(await asyncio.wait_for(self._first, timeout=2))
            self._first = None
        while len(packets) < count:
            packets.append(await asyncio.wait_for(self.copy.recv(), timeout=2))
        return packets


async def reading(relay: TrackRelay) -> Reader:
    """A new subscriber whose sender has started reading."""
    reader = Reader(relay.subscribe())
    await settle()
    return reader


def opus_packets(count: int) -> list[bytes]:
    """``count`` real 20 ms Opus packets of a 440 Hz tone."""
    encoder = CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48_000, "stereo", "s16"
    encoder.time_base = fractions.Fraction(1, 48_000)
    packets: list[bytes] = []
    index = 0
    while len(packets) < count:
        t = (np.arange(SAMPLES) + index * SAMPLES) / 48_000
        mono = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        frame = AudioFrame.from_ndarray(np.repeat(mono, 2).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48_000, index * SAMPLES
        packets += [bytes(p) for p in encoder.encode(frame)]
        index += 1
    return packets[:count]


def vp8_frames(count: int, *, keyframes: set[int]) -> list[bytes]:
    """``count`` real VP8 frames of a moving picture; only those in ``keyframes`` are keyframes."""
    encoder = CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 64, 48, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 30)
    encoder.options = {"deadline": "realtime", "lag-in-frames": "0", "kf-max-dist": "1000"}
    frames: list[bytes] = []
    for index in range(count):
        picture = np.full((48, 64, 3), 40, dtype=np.uint8)
        picture[:, index % 64] = 255
        frame = VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = index
        frame.pict_type = 1 if index in keyframes else 0  # I for a keyframe, else the encoder's choice
        frames += [bytes(p) for p in encoder.encode(frame)]
    assert [i for i, f in enumerate(frames) if is_vp8_keyframe(f)] == sorted(keyframes)
    return frames


async def test_every_subscriber_gets_the_publishers_opus_packets_at_once_and_as_they_were(
    peers: list[RTCPeerConnection],
) -> None:
    published = await publish("audio", peers)
    readers = [await reading(published.relay), await reading(published.relay)]
    payloads = opus_packets(6)
    await published.send([payloads[0]], FIRST_TS)
    # No prefetch: the first packet is on its way before the second one arrives.
    first = [(await reader.take(1))[0] for reader in readers]
    assert [bytes(p) for p in first] == [payloads[0]] * 2
    for index, payload in enumerate(payloads[1:], start=1):
        await published.send([payload], FIRST_TS + index * SAMPLES)
    for reader, head in zip(readers, first, strict=True):
        packets = [head, *await reader.take(5)]
        assert [bytes(p) for p in packets] == payloads
        assert {p.time_base for p in packets} == {fractions.Fraction(1, 48_000)}
        assert [pts(b) - pts(a) for a, b in pairwise(packets)] == [SAMPLES] * 5  # across the 32-bit wrap
    # aiortc's sender packetizes such a packet into the very payload it was, at the same clock.
    encoder = get_encoder(OPUS)
    assert encoder.pack(first[0]) == ([payloads[0]], first[0].pts)
    await published.receiver.stop()


async def test_nothing_is_kept_for_a_copy_until_its_sender_reads(peers: list[RTCPeerConnection]) -> None:
    published = await publish("audio", peers)
    copy = published.relay.subscribe()
    payloads = opus_packets(3)
    for index, payload in enumerate(payloads[:2]):  # the subscriber's m-line is not connected yet
        await published.send([payload], FIRST_TS + index * SAMPLES)
    reader = Reader(copy)
    await settle()
    await published.send([payloads[2]], FIRST_TS + 2 * SAMPLES)
    assert [bytes(p) for p in await reader.take(1)] == [payloads[2]]  # no backlog to play out late
    await published.receiver.stop()


async def test_a_late_audio_packet_is_dropped_and_a_lost_one_stays_a_gap(
    peers: list[RTCPeerConnection],
) -> None:
    published = await publish("audio", peers)
    reader = await reading(published.relay)
    payloads = opus_packets(4)
    sequence = published.sequence
    for index in (0, 1, 3):  # packet 2 lost on the way
        published.sequence = (sequence + index) % (1 << 16)
        await published.send([payloads[index]], FIRST_TS + index * SAMPLES)
    published.sequence = (sequence + 2) % (1 << 16)
    await published.send([payloads[2]], FIRST_TS + 2 * SAMPLES)  # ... and then arriving late
    packets = await reader.take(3)
    assert [bytes(p) for p in packets] == [payloads[0], payloads[1], payloads[3]]
    assert [pts(b) - pts(a) for a, b in pairwise(packets)] == [SAMPLES, 2 * SAMPLES]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.copy.recv(), timeout=0.05)
    await published.receiver.stop()


async def test_a_slow_audio_subscriber_keeps_the_newest_half_second(peers: list[RTCPeerConnection]) -> None:
    published = await publish("audio", peers)
    reader = await reading(published.relay)
    payloads = opus_packets(41)
    await published.send([payloads[0]], FIRST_TS)
    assert [bytes(p) for p in await reader.take(1)] == [payloads[0]]
    for index, payload in enumerate(payloads[1:], start=1):  # 800 ms while the sender was held up
        await published.send([payload], FIRST_TS + index * SAMPLES)
    packets = await reader.take(25)
    assert [bytes(p) for p in packets] == payloads[16:]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.copy.recv(), timeout=0.05)
    await published.receiver.stop()


async def test_a_receiver_that_was_already_decoding_is_relayed_too(peers: list[RTCPeerConnection]) -> None:
    published = await publish("audio", peers, decoding_first=True)
    reader = await reading(published.relay)
    payloads = opus_packets(2)
    for index, payload in enumerate(payloads):
        await published.send([payload], FIRST_TS + index * SAMPLES)
    assert [bytes(p) for p in await reader.take(2)] == payloads
    await published.receiver.stop()


async def test_a_video_subscriber_starts_at_a_keyframe_it_asked_for(peers: list[RTCPeerConnection]) -> None:
    published = await publish("video", peers)
    relay = published.relay
    frames = vp8_frames(8, keyframes={0, 5})
    packer = get_encoder(VP8)
    step = 3000  # 90 kHz at 30 fps

    async def send(index: int) -> None:
        payloads, _ = packer.pack(_packet(frames[index]))
        await published.send(payloads, FIRST_TS + index * step)

    await send(0)  # before anyone subscribed (aiortc's jitter buffer releases a frame once the next
    await send(1)  # one starts, so frame 0 goes now)
    copy = relay.subscribe()
    reading = asyncio.ensure_future(copy.recv())
    await settle()
    assert relay.keyframe_requests == 1  # its sender started reading: the publisher is asked
    for index in range(2, 6):
        await send(index)  # frames 1-4 go: delta frames, which the copy's decoder could not use
    await settle()
    assert not reading.done() and copy.awaiting_keyframe
    await send(6)
    first = await asyncio.wait_for(reading, timeout=2)
    assert bytes(first) == frames[5] and is_vp8_keyframe(bytes(first))
    assert first.time_base == fractions.Fraction(1, 90_000)
    await send(7)
    second = await asyncio.wait_for(copy.recv(), timeout=2)
    assert bytes(second) == frames[6] and pts(second) - pts(first) == step
    # aiortc's VP8 packetizer sends the whole frame again: its RTP payloads depayload to it.
    payloads, timestamp = packer.pack(second)
    assert b"".join(depayload(VP8, payload) for payload in payloads) == frames[6]
    assert timestamp == second.pts
    await published.receiver.stop()


async def test_a_video_subscriber_that_falls_behind_waits_for_the_next_keyframe(
    peers: list[RTCPeerConnection],
) -> None:
    published = await publish("video", peers)
    relay = published.relay
    frames = vp8_frames(12, keyframes={0, 10})
    packer = get_encoder(VP8)
    copy = relay.subscribe()
    reading = asyncio.ensure_future(copy.recv())
    await settle()
    for index in range(2):
        await published.send(packer.pack(_packet(frames[index]))[0], FIRST_TS + index * 3000)
    assert bytes(await asyncio.wait_for(reading, timeout=2)) == frames[0]
    relay._last_keyframe_request = -1.0  # as if the last request were long ago
    requests = relay.keyframe_requests
    for index in range(2, 12):  # the sender reads nothing meanwhile: its queue overflows
        await published.send(packer.pack(_packet(frames[index]))[0], FIRST_TS + index * 3000)
    assert relay.keyframe_requests == requests + 1
    assert bytes(await asyncio.wait_for(copy.recv(), timeout=2)) == frames[10]
    await published.receiver.stop()


@pytest.mark.parametrize("fmt", [RTCP_PSFB_PLI, RTCP_PSFB_FIR])
async def test_a_subscribers_pli_or_fir_reaches_the_publisher(
    peers: list[RTCPeerConnection], fmt: int
) -> None:
    published = await publish("video", peers)
    subscriber_side = RTCPeerConnection()  # the server's end of the subscriber's connection
    peers.append(subscriber_side)
    sender = subscriber_side.addTransceiver("video", direction="sendonly").sender
    forward_keyframe_requests(sender)
    forward_keyframe_requests(sender)  # once is enough, twice changes nothing
    sender.replaceTrack(published.relay.subscribe())
    await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=fmt, ssrc=1, media_ssrc=sender._ssrc))
    assert published.relay.keyframe_requests == 1
    await published.receiver.stop()


async def test_the_end_of_the_receiver_ends_every_copy(peers: list[RTCPeerConnection]) -> None:
    published = await publish("audio", peers)
    copies = [published.relay.subscribe(), published.relay.subscribe()]
    await published.receiver.stop()
    for copy in copies:
        with pytest.raises(MediaStreamError):
            await asyncio.wait_for(copy.recv(), timeout=2)
    assert published.relay.subscriber_count == 0


async def test_unsubscribing_and_stopping_the_relay(peers: list[RTCPeerConnection]) -> None:
    published = await publish("audio", peers)
    copy = published.relay.subscribe()
    other = published.relay.subscribe()
    copy.stop()
    assert published.relay.subscriber_count == 1
    await published.relay.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(other.recv(), timeout=2)
    await published.send(opus_packets(1), FIRST_TS)  # the m-line goes on; nothing is relayed
    await published.receiver.stop()


async def test_only_opus_and_vp8_are_negotiated_when_offered(peers: list[RTCPeerConnection]) -> None:
    client, server = RTCPeerConnection(), RTCPeerConnection()
    peers += [client, server]
    client.addTransceiver("audio", direction="recvonly")
    client.addTransceiver("video", direction="recvonly")
    await client.setLocalDescription(await client.createOffer())
    await server.setRemoteDescription(client.localDescription)
    for transceiver in server.getTransceivers():
        keep_relayed_codecs(transceiver)
        assert carries_relayed_codec(transceiver)
    audio, video = server.getTransceivers()
    assert [c.mimeType for c in audio._codecs] == ["audio/opus"]
    assert [c.mimeType for c in video._codecs] == ["video/VP8", "video/rtx"]
    await server.setLocalDescription(await server.createAnswer())
    assert "H264" not in server.localDescription.sdp and "PCMU" not in server.localDescription.sdp


def _packet(data: bytes) -> EncodedPacket:
    packet = Packet(data)
    packet.pts, packet.time_base = 0, fractions.Fraction(1, 90_000)
    return packet
