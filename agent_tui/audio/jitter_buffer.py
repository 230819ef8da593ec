"""The playback jitter buffer between the event loop (producer) and the output callback (consumer).

The agent's audio arrives from ``rtc.AudioStream`` on the event loop in 10 ms frames, already de-jittered
against the network by WebRTC; what is left to absorb is event-loop scheduling jitter and the difference
between 10 ms frames and the device's block size. So the buffer is small: playback starts once ``prefill``
samples are queued, and whenever more than ``max_depth`` pile up (a loop stall followed by a burst, or a
device clock slower than the sender's) the consumer skips back to ``prefill`` so latency cannot build up.

Threading: a :class:`SampleRing` carries the samples. Every other field has a single writer: the producer
owns ``_flush_requests``, ``_active`` and ``overflow_dropped``; the consumer owns ``_playing``, the
flush acknowledgement and the remaining counters. A flush (the agent was interrupted) is therefore a
*request* the consumer honours at its next callback, so the callback never waits for the loop and the loop
never touches the consumer's read position.

An underrun is counted only when the consumer is playing a live stream and runs dry: silence before the
first frame, between tracks or after the stream ended is not an underrun.
"""

from __future__ import annotations

from .ring_buffer import Int16Array, SampleRing


class JitterBuffer:
    """See the module docstring; sizes are in samples."""

    __slots__ = (
        "_active",
        "_depth_count",
        "_depth_max",
        "_depth_sum",
        "_flush_requests",
        "_flushes_done",
        "_max_depth",
        "_playing",
        "_prefill",
        "_ring",
        "flushed_samples",
        "overflow_dropped",
        "pulls",
        "trimmed_samples",
        "underruns",
    )

    def __init__(self, *, prefill: int, max_depth: int, capacity: int | None = None) -> None:
        if prefill <= 0 or max_depth < prefill:
            raise ValueError("need 0 < prefill <= max_depth")
        self._ring = SampleRing(capacity if capacity is not None else 2 * max_depth)
        self._prefill = prefill
        self._max_depth = max_depth
        self._active = False
        self._flush_requests = 0
        self._flushes_done = 0
        self._playing = False
        self.underruns = 0
        self.overflow_dropped = 0
        self.trimmed_samples = 0
        self.flushed_samples = 0
        self.pulls = 0
        self._depth_sum = 0
        self._depth_count = 0
        self._depth_max = 0

    # -- producer (event loop) ------------------------------------------------------------------------------
    def push(self, samples: Int16Array) -> int:
        """Queue samples; returns how many had to be dropped because the ring was full."""
        written = self._ring.write(samples)
        dropped = len(samples) - written
        if dropped:
            self.overflow_dropped += dropped
        return dropped

    def set_active(self, active: bool) -> None:
        """A live stream feeds the buffer (True) or ended (False: play out the tail, count no underruns)."""
        self._active = active

    def request_flush(self) -> None:
        """Drop everything queued at the consumer's next pull (the agent was interrupted)."""
        self._flush_requests += 1

    @property
    def depth(self) -> int:
        """Samples queued right now (approximate from the producer's side, exact from the consumer's)."""
        return self._ring.available

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def prefill(self) -> int:
        return self._prefill

    @property
    def max_depth(self) -> int:
        return self._max_depth

    def depth_stats(self) -> tuple[float, int]:
        """Mean and maximum depth (samples) seen by the consumer at each pull since the last call."""
        count = self._depth_count
        mean = self._depth_sum / count if count else 0.0
        result = (mean, self._depth_max)
        self._depth_sum = 0
        self._depth_count = 0
        self._depth_max = 0
        return result

    # -- consumer (audio callback) --------------------------------------------------------------------------
    def pull_into(self, out: Int16Array) -> int:
        """Fill ``out`` with queued audio, silence for the rest; returns the number of real samples."""
        self.pulls += 1
        ring = self._ring
        if self._flush_requests != self._flushes_done:
            self._flushes_done = self._flush_requests
            self.flushed_samples += ring.discard_all()
            self._playing = False
        available = ring.available
        self._depth_sum += available
        self._depth_count += 1
        self._depth_max = max(self._depth_max, available)
        if not self._playing:
            if available >= self._prefill or (available > 0 and not self._active):
                self._playing = True
            else:
                out[:] = 0
                return 0
        if available > self._max_depth:
            self.trimmed_samples += ring.skip(available - self._prefill)
        got = ring.read_into(out)
        if got < len(out):
            out[got:] = 0
            if self._active:
                self.underruns += 1
            self._playing = False
        return got
