"""Track relay: published tracks are drained with or without subscribers; audio is encoded once and its
packets fanned out; slow subscribers drop their oldest items, audio keeping half a second, video five."""

from __future__ import annotations

import asyncio
import fractions
from itertools import pairwise

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, CodecContext, VideoFrame
from av.packet import Packet

from agent_tui.devserver.media_relay import TrackRelay

RATE = 48_000
SAMPLES = 960  # 20 ms, as aiortc's Opus decoder yields


class QueueTrack(MediaStreamTrack):
    """A published track fed by the test; ``None`` ends it."""

    def __init__(self, kind: str = "audio") -> None:
        super().__init__()
        self.kind = kind
        self.queue: asyncio.Queue[AudioFrame | VideoFrame | None] = asyncio.Queue()

    async def recv(self) -> AudioFrame | VideoFrame:
        frame = await self.queue.get()
        if frame is None:
            raise MediaStreamError
        return frame


def tone(index: int, *, hz: float = 440.0) -> AudioFrame:
    """The ``index``-th 20 ms of a stereo sine, stamped as aiortc stamps decoded frames."""
    t = (np.arange(SAMPLES) + index * SAMPLES) / RATE
    mono = (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    made = AudioFrame.from_ndarray(np.repeat(mono, 2).reshape(1, -1), format="s16", layout="stereo")
    made.sample_rate = RATE
    made.pts = index * SAMPLES
    made.time_base = fractions.Fraction(1, RATE)
    return made


def picture(pts: int) -> VideoFrame:
    made = VideoFrame(width=16, height=16, format="yuv420p")
    made.pts = pts
    return made


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def received(copy: MediaStreamTrack, count: int) -> list[Packet]:
    return [await asyncio.wait_for(copy.recv(), timeout=1) for _ in range(count)]  # type: ignore[misc]


async def test_an_unsubscribed_track_is_drained() -> None:
    source = QueueTrack()
    relay = TrackRelay(source, track_sid="TR_x")
    for index in range(50):
        source.queue.put_nowait(tone(index))
    await settle()
    assert source.queue.qsize() == 0
    await relay.stop()


async def test_every_subscriber_gets_the_same_opus_packets_and_they_decode_to_the_tone() -> None:
    source = QueueTrack()
    relay = TrackRelay(source, track_sid="TR_a")
    copies = [relay.subscribe(), relay.subscribe()]
    for index in range(10):
        source.queue.put_nowait(tone(index))
    await settle()
    first, second = await received(copies[0], 10), await received(copies[1], 10)
    assert all(isinstance(packet, Packet) for packet in first)
    assert [bytes(p) for p in first] == [bytes(p) for p in second]  # one encode, fanned out
    steps = {b.pts - a.pts for a, b in pairwise(first)}  # type: ignore[operator]
    assert steps == {SAMPLES}

    decoder = CodecContext.create("libopus", "r")
    decoded = np.concatenate([f.to_ndarray().reshape(-1) for p in first for f in decoder.decode(p)])
    spectrum = np.abs(np.fft.rfft(decoded[::2][-4800:].astype(np.float64)))
    assert np.fft.rfftfreq(4800, 1 / RATE)[int(np.argmax(spectrum))] == pytest.approx(440, abs=15)
    await relay.stop()


async def test_a_lost_frame_stays_a_gap_in_the_packet_timestamps() -> None:
    source = QueueTrack()
    relay = TrackRelay(source, track_sid="TR_a")
    copy = relay.subscribe()
    for index in (0, 1, 3, 4):  # the publisher's frame 2 never arrived
        source.queue.put_nowait(tone(index))
    await settle()
    packets = await received(copy, 4)
    # The encoder's look-ahead puts the gap one packet late; what matters is that it is there.
    assert sorted(b.pts - a.pts for a, b in pairwise(packets)) == [SAMPLES, SAMPLES, 2 * SAMPLES]  # type: ignore[operator]
    await relay.stop()


async def test_a_slow_audio_subscriber_keeps_the_newest_half_second() -> None:
    source = QueueTrack()
    relay = TrackRelay(source, track_sid="TR_a")
    copy = relay.subscribe()
    for index in range(40):  # 800 ms while the subscriber's sender was held up
        source.queue.put_nowait(tone(index))
    await settle()
    packets = await received(copy, 25)
    assert packets[-1].pts - packets[0].pts == 24 * SAMPLES  # type: ignore[operator]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(copy.recv(), timeout=0.05)
    await relay.stop()


async def test_video_subscribers_get_frames_from_now_on_and_a_slow_one_keeps_the_newest_five() -> None:
    source = QueueTrack("video")
    relay = TrackRelay(source, track_sid="TR_v")
    source.queue.put_nowait(picture(0))
    await settle()
    copy = relay.subscribe()
    for pts in range(1, 21):
        source.queue.put_nowait(picture(pts))
    await settle()
    assert [(await copy.recv()).pts for _ in range(5)] == [16, 17, 18, 19, 20]
    assert relay.subscriber_count == 1
    copy.stop()
    assert relay.subscriber_count == 0
    await relay.stop()


async def test_the_end_of_the_published_track_ends_every_copy() -> None:
    source = QueueTrack()
    relay = TrackRelay(source, track_sid="TR_x")
    copies = [relay.subscribe(), relay.subscribe()]
    source.queue.put_nowait(None)
    await settle()
    for copy in copies:
        with pytest.raises(MediaStreamError):
            await asyncio.wait_for(copy.recv(), timeout=1)
    await relay.stop()
