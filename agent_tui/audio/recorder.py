"""``--record DIR``: both sides of the conversation in one stereo WAV, user left, agent right.

The two sides arrive on different clocks and not always at all: the user's side is continuous from the
start (the capture runs the whole session, silence included), the agent's only while it has a track. The
:class:`StereoAligner` places each side on one timeline measured in samples since the recording began: a
side that has fallen more than ``slack`` behind "now" (no agent track yet, a gap between tracks) is padded
with silence up to now, so the agent's words land where they were heard, within ``slack``. Whatever both
sides have covered is interleaved and handed to a :class:`WavWriter` thread.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .ring_buffer import Int16Array
from .wav_io import WavWriter

LEFT, RIGHT = 0, 1


class StereoAligner:
    """Aligns two mono streams on a shared sample timeline (pure; see the module docstring)."""

    def __init__(self, *, slack: int) -> None:
        self.slack = slack
        self._pending: tuple[list[Int16Array], list[Int16Array]] = ([], [])
        self._position = [0, 0]  # samples placed on the timeline per side
        self._emitted = 0  # samples already interleaved

    def position(self, side: int) -> int:
        return self._position[side]

    def add(self, side: int, samples: Int16Array, now: int) -> None:
        """Place ``samples`` (which ended at timeline position ``now``) on ``side``."""
        self._catch_up(side, now - len(samples))
        if len(samples):
            self._pending[side].append(np.array(samples, dtype=np.int16, copy=True))
            self._position[side] += len(samples)

    def drain(self, now: int) -> Int16Array:
        """Interleaved (n, 2) samples both sides have covered; a silent side is padded up to ``now``."""
        for side in (LEFT, RIGHT):
            self._catch_up(side, now)
        return self._take(min(self._position) - self._emitted)

    def finish(self) -> Int16Array:
        """Everything left, the shorter side padded with silence."""
        end = max(self._position)
        for side in (LEFT, RIGHT):
            self._pad(side, end - self._position[side])
        return self._take(end - self._emitted)

    def _catch_up(self, side: int, target: int) -> None:
        if self._position[side] < target - self.slack:
            self._pad(side, target - self._position[side])

    def _pad(self, side: int, count: int) -> None:
        if count > 0:
            self._pending[side].append(np.zeros(count, dtype=np.int16))
            self._position[side] += count

    def _take(self, count: int) -> Int16Array:
        out = np.zeros((max(count, 0), 2), dtype=np.int16)
        if count <= 0:
            return out
        for side in (LEFT, RIGHT):
            chunks = self._pending[side]
            filled = 0
            while filled < count:
                chunk = chunks[0]
                take = min(len(chunk), count - filled)
                out[filled : filled + take, side] = chunk[:take]
                filled += take
                if take == len(chunk):
                    chunks.pop(0)
                else:
                    chunks[0] = chunk[take:]
        self._emitted += count
        return out


def recording_path(directory: Path, *, now: float | None = None) -> Path:
    """``DIR/conversation-YYYYmmdd-HHMMSS.wav`` in local time, like the transcript beside it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return directory / f"conversation-{stamp}.wav"


class ConversationRecorder:
    """Feeds both sides through a :class:`StereoAligner` into a stereo :class:`WavWriter` (loop thread)."""

    def __init__(self, writer: WavWriter, *, start: float, slack_seconds: float = 0.15) -> None:
        self.writer = writer
        self.sample_rate = writer.sample_rate
        self._start = start
        self._aligner = StereoAligner(slack=round(slack_seconds * self.sample_rate))

    @property
    def path(self) -> Path:
        return self.writer.path

    def _now(self, when: float) -> int:
        return round((when - self._start) * self.sample_rate)

    def add_user(self, samples: Int16Array, when: float) -> None:
        self._aligner.add(LEFT, samples, self._now(when))
        self.writer.write(self._aligner.drain(self._now(when)).reshape(-1))

    def add_agent(self, samples: Int16Array, when: float) -> None:
        self._aligner.add(RIGHT, samples, self._now(when))

    async def aclose(self) -> None:
        self.writer.write(self._aligner.finish().reshape(-1))
        await self.writer.aclose()
