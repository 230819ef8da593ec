"""Fan-out of one published track's frames to its subscribers.

aiortc hands the server decoded frames of each published track and sends whatever a sender track
yields, so a relay is: one pump task reading the published track for as long as it lives, and one
:class:`RelayedTrack` per subscriber that the subscriber's RTP sender reads. The pump always reads,
subscribers or not: an unread aiortc track queues frames without bound. Audio is encoded once, in the
pump, and every subscriber gets the same Opus packets (see :mod:`.opus_packets` for why); video frames
go out decoded, since each subscriber's encoder must answer its own keyframe requests.

Each subscriber has a bounded queue that drops its oldest item when the subscriber falls behind, so
one slow peer never delays the others or grows memory. Audio gets half a second: a sender that was held
up by a busy loop catches up at once (packets are only packetized), and a late packet is heard while a
dropped one is not. Video gets five frames: an old picture is worth less than a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any, TypeAlias

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame
from av.frame import Frame
from av.packet import Packet

from .opus_packets import OpusPackets

_log = logging.getLogger(__name__)

_SUBSCRIBER_QUEUE = {"audio": 25, "video": 5}  # 20 ms packets; frames at up to 30 per second

# What aiortc tracks yield: decoded frames (or encoded packets for pass-through tracks).
MediaFrame: TypeAlias = "Frame | Packet[Any]"


class RelayedTrack(MediaStreamTrack):
    """One subscriber's copy of a published track; ``recv`` yields the publisher's frames."""

    def __init__(self, kind: str, relay: TrackRelay) -> None:
        super().__init__()
        self.kind = kind
        self._relay = relay
        self._frames: deque[MediaFrame] = deque(maxlen=_SUBSCRIBER_QUEUE[kind])
        self._ready = asyncio.Event()

    def push(self, frame: MediaFrame) -> None:
        """Queue ``frame``, dropping the oldest one if the subscriber is behind."""
        self._frames.append(frame)
        self._ready.set()

    async def recv(self) -> MediaFrame:
        """The next frame; MediaStreamError once the track (or its source) has ended."""
        while not self._frames:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        return self._frames.popleft()

    def stop(self) -> None:
        """End this copy: its sender stops, and the relay forgets it."""
        if self.readyState == "live":
            super().stop()
            self._relay.unsubscribe(self)
        self._ready.set()


class TrackRelay:
    """Reads one published track until it ends and copies each frame to every subscriber."""

    def __init__(self, source: MediaStreamTrack, *, track_sid: str) -> None:
        self.track_sid = track_sid
        self.kind = source.kind
        self._source = source
        self._subscribers: set[RelayedTrack] = set()
        self._opus = OpusPackets() if self.kind == "audio" else None
        self._pump = asyncio.create_task(self._run(), name=f"devserver-relay-{track_sid}")

    def subscribe(self) -> RelayedTrack:
        """A new subscriber copy that receives frames from now on."""
        track = RelayedTrack(self.kind, self)
        self._subscribers.add(track)
        return track

    def unsubscribe(self, track: RelayedTrack) -> None:
        """Stop copying frames to ``track``."""
        self._subscribers.discard(track)

    @property
    def subscriber_count(self) -> int:
        """How many copies are being fed."""
        return len(self._subscribers)

    async def stop(self) -> None:
        """End the relay and every subscriber copy (the publisher unpublished or left)."""
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        for track in list(self._subscribers):
            track.stop()

    async def _run(self) -> None:
        try:
            while True:
                frame = await self._source.recv()
                if not self._subscribers:
                    continue
                sent: Sequence[MediaFrame] = [frame]
                if self._opus is not None and isinstance(frame, AudioFrame):
                    sent = self._opus.encode(frame)
                for item in sent:
                    for track in self._subscribers:
                        track.push(item)
        except MediaStreamError:
            _log.debug("published track %s ended", self.track_sid)
        finally:
            for track in list(self._subscribers):
                track.stop()
