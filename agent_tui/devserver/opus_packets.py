"""One Opus encoder per published audio track, shared by all of its subscribers.

aiortc decodes what a publisher sends, and an RTP sender handed decoded frames encodes each of them in
the default thread pool — one encoder per subscriber, and a thread hop per 20 ms frame. On a busy machine
those hops fall behind the frames; a subscriber's copy then drops frames, and because the sender's
encoder numbers its packets by the samples it was given, a dropped frame does not show as a gap: the
stream just runs late, and the listener's jitter buffer spends seconds concealing (a CI run heard the
relayed tone at 40 % of its level for ten seconds). Encoding once, on the loop, as each frame arrives,
and fanning the packets out instead means one encode per frame whatever the number of listeners, no
thread hops (an RTP sender given packets only packetizes them), and a packet a slow subscriber drops
is a real gap in the timestamps, which a receiver conceals for just that packet.
"""

from __future__ import annotations

import fractions
from typing import Any

from av import AudioFrame, AudioResampler, CodecContext
from av.packet import Packet

SAMPLE_RATE = 48_000
_FRAME_SAMPLES = 960  # 20 ms, as every WebRTC Opus sender packs it
_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
_BIT_RATE = 96_000  # what aiortc's own encoder uses


class OpusPackets:
    """Turns a track's decoded audio frames into Opus packets, with timestamps that follow the samples."""

    def __init__(self) -> None:
        self._codec = CodecContext.create("libopus", "w")
        self._codec.bit_rate = _BIT_RATE
        self._codec.format = "s16"
        self._codec.layout = "stereo"
        self._codec.sample_rate = SAMPLE_RATE
        self._codec.time_base = _TIME_BASE
        self._codec.options = {"application": "voip"}
        # Whatever the publisher's layout and packet length, the encoder gets 20 ms of 48 kHz stereo.
        self._resampler = AudioResampler(
            format="s16", layout="stereo", rate=SAMPLE_RATE, frame_size=_FRAME_SAMPLES
        )

    def encode(self, frame: AudioFrame) -> list[Packet[Any]]:
        """The packets ``frame`` completes (none while the resampler is still filling 20 ms).

        A frame that is already 20 ms of 48 kHz stereo — what aiortc's Opus decoder yields — is encoded
        as it is, so its packet keeps the publisher's timestamp and a frame the publisher lost stays a
        gap; the resampler, needed for anything else, numbers its output by the samples it was given.
        """
        if (
            frame.samples == _FRAME_SAMPLES
            and frame.sample_rate == SAMPLE_RATE
            and frame.format.name == "s16"
            and frame.layout.name == "stereo"
            and frame.pts is not None
        ):
            return list(self._codec.encode(frame))
        packets: list[Packet[Any]] = []
        for piece in self._resampler.resample(frame):
            packets += self._codec.encode(piece)
        return packets
