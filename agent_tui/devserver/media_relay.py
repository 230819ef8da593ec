"""Fan-out of one published track's encoded media to its subscribers, without decoding it.

livekit-server forwards RTP; this relay forwards whole encoded frames, which aiortc's RTP sender accepts
as they are (an ``av.Packet`` is only packetized, as aiortc's MediaPlayer does with ``decode=False``).
Decoding every published frame and encoding it again for each subscriber used to cost 1.5-4 % of a core
per audio stream and 5 % per video stream, and 80 ms of latency; nothing in the dev server needs decoded
media (it inspects no audio levels and transcodes nothing: only Opus and VP8 are negotiated, see
:func:`keep_relayed_codecs`), so there is no decoded path at all.

Where the encoded frames come from. aiortc's :class:`~aiortc.rtcrtpreceiver.RTCRtpReceiver` reassembles
frames in its jitter buffer and puts ``(codec, frame)`` on a queue that its decoder thread reads. The
relay puts a :class:`_FrameSink` in that queue's place (a private attribute, checked at install), so
each frame reaches the subscribers on the event loop as soon as it is complete: no thread hop, no
decoder. The decoder thread still starts, and sleeps until the receiver stops it. Audio also bypasses
the receiver's jitter buffer, which holds four packets (80 ms) before releasing the first so that a
decoder gets a steady stream; every subscriber has its own jitter buffer, and an Opus RTP packet is a
whole frame, so :class:`_InOrderPackets` forwards each packet at once and drops only one that arrives
after a newer one (a late packet would look like a timestamp wrap). Video keeps aiortc's jitter buffer:
a VP8 frame spans several packets, and the buffer also asks for a keyframe when packets are lost.

Keyframes. A forwarded VP8 stream has one encoder, the publisher's, so a subscriber that joins late or
loses a frame can only be repaired by the publisher's next keyframe. Each video copy therefore waits for
a keyframe before it forwards anything (its decoder could make nothing of the frames before), and asks
the publisher for one with a PLI: when its RTP sender starts reading, while it waits, and when its
subscriber's receiver sends a PLI or FIR (:func:`forward_keyframe_requests`). Requests are spaced at
least :data:`KEYFRAME_REQUEST_INTERVAL_S` apart, as a subscriber's decoder repeats them anyway.

A copy queues nothing until its RTP sender first reads it (the subscriber's m-line is negotiated and
connected): what it kept before would only be a backlog. Each copy's queue is bounded, so one slow peer
never delays the others or grows memory. Audio keeps half a second, dropping the oldest packet when
full: the sender stamps packets with the publisher's timestamps, so a dropped packet is a real gap,
which the listener conceals for just that packet. Video keeps five frames; a video copy that overflows
drops them all and waits for a keyframe, as the frames after a dropped one cannot be decoded without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import threading
import time
from collections import deque
from typing import Any, Final, TypeAlias

from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_gt
from av.packet import Packet

_log = logging.getLogger(__name__)

#: The codec each kind of track is relayed in: what every WebRTC endpoint must support (RFC 7874, 7742).
RELAYED_CODECS: Final = {"audio": "audio/opus", "video": "video/VP8"}
_SUBSCRIBER_QUEUE: Final = {"audio": 25, "video": 5}  # 20 ms packets; frames at up to 30 per second
#: The least time between two keyframe requests to one publisher.
KEYFRAME_REQUEST_INTERVAL_S: Final = 0.5

# The receiver's name-mangled attributes the relay replaces (aiortc 1.16's RTCRtpReceiver).
_DECODER_QUEUE: Final = "_RTCRtpReceiver__decoder_queue"
_JITTER_BUFFER: Final = "_RTCRtpReceiver__jitter_buffer"
_STARTED: Final = "_RTCRtpReceiver__started"

EncodedPacket: TypeAlias = "Packet[Any]"


def is_vp8_keyframe(frame: bytes) -> bool:
    """A VP8 frame that decodes on its own: the frame tag's lowest bit is 0 (RFC 6386, 9.1)."""
    return bool(frame) and not frame[0] & 0x01


class RelayedTrack(MediaStreamTrack):
    """One subscriber's copy of a published track; ``recv`` yields the publisher's encoded frames."""

    def __init__(self, kind: str, relay: TrackRelay) -> None:
        super().__init__()
        self.kind = kind
        self._relay = relay
        self._frames: deque[EncodedPacket] = deque(maxlen=_SUBSCRIBER_QUEUE[kind])
        self._ready = asyncio.Event()
        #: Video only: nothing is forwarded until a keyframe, which the subscriber's decoder needs first.
        self.awaiting_keyframe = kind == "video"
        self._reading = False

    def push(self, packet: EncodedPacket, *, keyframe: bool = False) -> None:
        """Queue ``packet`` for the subscriber (``keyframe``: a video frame that decodes on its own)."""
        if not self._reading:
            # No sender reads yet. Audio kept now would reach the listener as a backlog that its jitter
            # buffer plays out late and only slowly catches up on (seen as 150 ms more for 2 s); a video
            # frame kept now would be stale, and so its successors.
            return
        if self.kind == "video":
            if self.awaiting_keyframe and not keyframe:
                self._relay.request_keyframe()
                return
            self.awaiting_keyframe = False
            if len(self._frames) == self._frames.maxlen:
                # The subscriber is behind: what follows would reference a frame it never gets.
                self._frames.clear()
                self.awaiting_keyframe = True
                self._relay.request_keyframe()
                return
        self._frames.append(packet)
        self._ready.set()

    def request_keyframe(self) -> None:
        """The subscriber's decoder lost the picture (a PLI or FIR): ask the publisher for a keyframe."""
        if self.kind == "video" and self.readyState == "live":
            self._relay.request_keyframe()

    async def recv(self) -> EncodedPacket:
        """The next encoded frame; MediaStreamError once the track (or its source) has ended."""
        if not self._reading:
            self._reading = True
            self.request_keyframe()  # frames start flowing to this subscriber now
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


class _FrameSink:
    """Stands in for an RTCRtpReceiver's decoder queue: frames go to the relay, not to a decoder.

    The receiver calls :meth:`put` on the event loop with each reassembled ``(codec, frame)`` and with
    ``None`` when it stops; its decoder thread calls :meth:`get`, which returns ``None`` (the thread's
    cue to end the receiver's track and exit) only once the receiver has stopped.
    """

    def __init__(self) -> None:
        self.relay: TrackRelay | None = None
        self._stopped = threading.Event()

    def put(self, task: tuple[RTCRtpCodecParameters, JitterFrame] | None) -> None:
        if task is None:
            self._stopped.set()
            if self.relay is not None:
                self.relay.source_ended()
        elif self.relay is not None:
            self.relay.forward(*task)

    def get(self) -> None:
        self._stopped.wait()


class _InOrderPackets:
    """Stands in for an audio receiver's jitter buffer: each Opus packet is forwarded as it arrives.

    An Opus RTP packet is a whole frame, so there is nothing to reassemble; the subscribers' own jitter
    buffers smooth the arrival times. A packet older than one already forwarded (reordered, or a
    retransmission) is dropped: the receiver's timestamp mapper would take its earlier timestamp for a
    wrap of the 32-bit clock.
    """

    def __init__(self) -> None:
        self._newest: int | None = None

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        """(no keyframe needed, the frame) for a new packet; (False, None) for a late one."""
        if self._newest is not None and not uint16_gt(packet.sequence_number, self._newest):
            return False, None
        self._newest = packet.sequence_number
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)  # type: ignore[attr-defined]


def _sink_of(receiver: RTCRtpReceiver, kind: str) -> _FrameSink:
    """The receiver's :class:`_FrameSink`, put in place of its decoder queue the first time.

    A receiver that already runs its decoder (its m-line was received on before it carried a
    publication) is handed its decoder's end marker, so that thread exits; the receiver's track ends
    with it, which nothing reads.
    """
    current = getattr(receiver, _DECODER_QUEUE, None)
    if isinstance(current, _FrameSink):
        return current
    if current is None or not hasattr(receiver, _JITTER_BUFFER) or not hasattr(receiver, _STARTED):
        raise RuntimeError("this aiortc's RTCRtpReceiver has no decoder queue to replace")
    sink = _FrameSink()
    setattr(receiver, _DECODER_QUEUE, sink)
    if kind == "audio":
        setattr(receiver, _JITTER_BUFFER, _InOrderPackets())
    if getattr(receiver, _STARTED):
        current.put(None)
    return sink


class TrackRelay:
    """Copies each encoded frame of one published track to every subscriber, until the track ends."""

    def __init__(self, receiver: RTCRtpReceiver, *, track_sid: str, kind: str) -> None:
        self.track_sid = track_sid
        self.kind = kind
        self._receiver = receiver
        self._subscribers: set[RelayedTrack] = set()
        self._codec_name = RELAYED_CODECS[kind].split("/")[1].lower()
        self._ignored_codecs: set[str] = set()
        self._last_keyframe_request = -KEYFRAME_REQUEST_INTERVAL_S
        self._pli_tasks: set[asyncio.Task[None]] = set()
        #: How many times the publisher was asked for a keyframe (for logs and tests).
        self.keyframe_requests = 0
        self._sink = _sink_of(receiver, kind)
        self._sink.relay = self

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

    def forward(self, codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
        """Hand one reassembled frame to every subscriber, as a packet their senders only packetize."""
        if codec.name.lower() != self._codec_name:
            if codec.name not in self._ignored_codecs:
                self._ignored_codecs.add(codec.name)
                _log.warning(
                    "track %s: not relaying %s, only %s", self.track_sid, codec.name, self._codec_name
                )
            return
        if not self._subscribers or not frame.data:
            return
        packet = Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = fractions.Fraction(1, codec.clockRate)
        keyframe = self.kind == "video" and is_vp8_keyframe(frame.data)
        for track in list(self._subscribers):
            track.push(packet, keyframe=keyframe)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe (a PLI to each of its SSRCs), at most every half second."""
        now = time.monotonic()
        if now - self._last_keyframe_request < KEYFRAME_REQUEST_INTERVAL_S:
            return
        self._last_keyframe_request = now
        self.keyframe_requests += 1
        for source in self._receiver.getSynchronizationSources():
            task = asyncio.ensure_future(self._receiver._send_rtcp_pli(source.source))
            self._pli_tasks.add(task)
            task.add_done_callback(self._pli_tasks.discard)

    def source_ended(self) -> None:
        """The publisher's receiver stopped: end every copy."""
        for track in list(self._subscribers):
            track.stop()

    async def stop(self) -> None:
        """End the relay and every subscriber copy (the publisher unpublished or left)."""
        if self._sink.relay is self:
            self._sink.relay = None
        for task in list(self._pli_tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.source_ended()


def keep_relayed_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Negotiate only the relayed codec (and its retransmission codec) on ``transceiver``'s m-line.

    Called between applying a client's offer and answering it: the answer then lists only Opus or VP8,
    so a publisher sends the codec every subscriber can take and each subscriber's sender uses it (aiortc
    sends in the first codec listed, which follows the client's order, and Safari lists H264 first). A
    client that offered no VP8 keeps its codecs; the relay then drops that publisher's frames and gives
    that subscriber none (see :func:`carries_relayed_codec`), as an SFU cannot transcode.
    """
    wanted = RELAYED_CODECS.get(transceiver.kind)
    codecs: list[RTCRtpCodecParameters] = transceiver._codecs
    kept = [c for c in codecs if c.mimeType.lower() == (wanted or "").lower()]
    if not kept:
        return
    kept_types = {c.payloadType for c in kept}
    kept += [c for c in codecs if c.name.lower() == "rtx" and c.parameters.get("apt") in kept_types]
    transceiver._codecs = kept


def carries_relayed_codec(transceiver: RTCRtpTransceiver) -> bool:
    """Whether ``transceiver``'s sender will send in the relayed codec of its kind."""
    wanted = RELAYED_CODECS.get(transceiver.kind, "").lower()
    codecs: list[RTCRtpCodecParameters] = transceiver._codecs
    return bool(codecs) and codecs[0].mimeType.lower() == wanted


def forward_keyframe_requests(sender: RTCRtpSender) -> None:
    """Make a PLI or FIR that ``sender`` receives reach the publisher of the track it sends.

    aiortc's sender answers one by making its own encoder's next frame a keyframe; a sender of relayed
    packets has no encoder, so the request goes to the relay instead. Installed once per sender.
    """
    if getattr(sender, "_relay_keyframes", False):
        return
    own = sender._send_keyframe

    def send_keyframe() -> None:
        own()
        track = sender.track
        if isinstance(track, RelayedTrack):
            track.request_keyframe()

    sender._send_keyframe = send_keyframe  # type: ignore[method-assign]
    sender._relay_keyframes = True  # type: ignore[attr-defined]
