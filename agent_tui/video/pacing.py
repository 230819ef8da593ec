"""Real-time pacing of timestamped frames, with a frame-rate cap. Pure: the clock is passed in.

A file decodes far faster than real time; its frames must leave at their presentation times so the
agent sees the video at its natural speed, and a loop must continue the timeline rather than restart it
(a receiver would otherwise see time jump backwards). Falling far behind (a stalled thread, a suspended
laptop) re-anchors the timeline instead of sending a burst of late frames.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Further behind than this, the pacer gives up catching up and starts the timeline again from now.
MAX_LAG_S = 0.5


@dataclass
class Decision:
    """What to do with one frame: drop it, or send it after sleeping ``sleep_s``."""

    send: bool
    sleep_s: float = 0.0


class RealTimePacer:
    """Decides, for frames with media times in seconds, when each is due on a monotonic clock."""

    def __init__(self, max_fps: float) -> None:
        self._min_gap = 1.0 / max_fps
        self._anchor: float | None = None  # clock time of media time 0
        self._offset = 0.0  # added to media times after each loop
        self._last_sent: float | None = None  # media time (with offset) of the last frame sent

    def looped(self, duration_s: float) -> None:
        """The source started over after ``duration_s`` seconds of media: continue the timeline."""
        self._offset += max(duration_s, self._min_gap)

    def decide(self, media_s: float, now: float) -> Decision:
        """Whether to send the frame at ``media_s`` and how long to sleep first."""
        at = media_s + self._offset
        if self._last_sent is not None and at < self._last_sent + self._min_gap * 0.999:
            return Decision(send=False)
        if self._anchor is None:
            self._anchor = now - at
        due = self._anchor + at
        if due < now - MAX_LAG_S:
            self._anchor = now - at
            due = now
        self._last_sent = at
        return Decision(send=True, sleep_s=max(0.0, due - now))
