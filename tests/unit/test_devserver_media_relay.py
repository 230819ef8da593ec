"""Track relay: published tracks are drained with or without subscribers; slow subscribers drop old frames."""

from __future__ import annotations

import asyncio

import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from agent_tui.devserver.media_relay import TrackRelay


class QueueTrack(MediaStreamTrack):
    """A published track fed by the test; ``None`` ends it."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[AudioFrame | None] = asyncio.Queue()

    async def recv(self) -> AudioFrame:
        frame = await self.queue.get()
        if frame is None:
            raise MediaStreamError
        return frame


def frame(pts: int) -> AudioFrame:
    made = AudioFrame(format="s16", layout="mono", samples=480)
    made.pts = pts
    return made


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_unsubscribed_track_is_drained() -> None:
    source = QueueTrack()
    relay = TrackRelay(source, track_sid="TR_x")
    for pts in range(50):
        source.queue.put_nowait(frame(pts))
    await settle()
    assert source.queue.qsize() == 0
    await relay.stop()


async def test_subscribers_get_frames_from_now_on_and_a_slow_one_keeps_the_newest() -> None:
    source = QueueTrack()
    relay = TrackRelay(source, track_sid="TR_x")
    source.queue.put_nowait(frame(0))
    await settle()
    copy = relay.subscribe()
    for pts in range(1, 21):
        source.queue.put_nowait(frame(pts))
    await settle()
    received = [(await copy.recv()).pts for _ in range(5)]
    assert received == [16, 17, 18, 19, 20]  # 20 arrived, only the newest 5 were kept
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
