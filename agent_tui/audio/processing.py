"""Echo cancellation, noise suppression, high-pass filter and gain control with ``rtc.AudioProcessingModule``.

Why every APM call runs on the event loop and not in the audio callbacks: each call is an FFI request
(protobuf in, protobuf out), which allocates, and the callbacks must not. Instead the output callback copies
what it has just played into a ring and the capture pump, on the loop, first feeds every complete 10 ms of
played audio to :meth:`AudioProcessor.process_render`, then runs the capture frame through
:meth:`AudioProcessor.process_capture`. All APM calls are thus on one thread, in order, 1:1 in time, like
the Go ``lk agent console``.

The stream delay (render → echo in the capture) is estimated once per device pair from the streams' own
input and output latencies, the figure PortAudio reports for them; the canceller's internal delay
estimator refines it from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from livekit import rtc

from .ring_buffer import Int16Array


@dataclass
class ProcessingStats:
    capture_frames: int = 0
    render_frames: int = 0
    errors: int = 0


class PooledFrame:
    """One ``rtc.AudioFrame`` over a preallocated buffer, with a writable int16 view of its samples.

    The APM processes frames in place and ``AudioSource.capture_frame`` copies the samples before it
    returns, so one frame per path is reused for every 10 ms and nothing is allocated per frame.
    """

    __slots__ = ("frame", "samples")

    def __init__(self, sample_rate: int, samples_per_channel: int) -> None:
        data = bytearray(samples_per_channel * 2)
        self.frame = rtc.AudioFrame(data, sample_rate, 1, samples_per_channel)
        self.samples: Int16Array = np.frombuffer(data, dtype=np.int16)


class AudioProcessor:
    """An APM plus the bookkeeping around it; single-threaded (the event loop)."""

    def __init__(
        self,
        *,
        echo_cancellation: bool,
        noise_suppression: bool,
        high_pass_filter: bool,
        auto_gain_control: bool,
    ) -> None:
        self.echo_cancellation = echo_cancellation
        self._apm = rtc.AudioProcessingModule(
            echo_cancellation=echo_cancellation,
            noise_suppression=noise_suppression,
            high_pass_filter=high_pass_filter,
            auto_gain_control=auto_gain_control,
        )
        self._delay_ms = 0
        self._delay_applied = -1
        self.stats = ProcessingStats()

    @property
    def delay_ms(self) -> int:
        return self._delay_ms

    def set_delay_ms(self, delay_ms: float) -> None:
        """The render→capture delay; from :func:`estimate_delay_ms` when the devices open."""
        self._delay_ms = max(0, round(delay_ms))

    def process_render(self, frame: rtc.AudioFrame) -> None:
        """Tell the echo canceller what was just played (10 ms)."""
        if not self.echo_cancellation:
            return
        try:
            self._apm.process_reverse_stream(frame)
            self.stats.render_frames += 1
        except RuntimeError:
            self.stats.errors += 1

    def process_capture(self, frame: rtc.AudioFrame) -> None:
        """Clean one 10 ms capture frame in place."""
        try:
            if self.echo_cancellation and self._delay_ms != self._delay_applied:
                # The APM keeps the delay until told otherwise (AEC3 reads it on every frame), so it is sent
                # only when it changes: one FFI call per frame saved, a third of the APM's cost.
                self._apm.set_stream_delay_ms(self._delay_ms)
                self._delay_applied = self._delay_ms
            self._apm.process_stream(frame)
            self.stats.capture_frames += 1
        except RuntimeError:
            # The legacy agents console saw set_stream_delay_ms fail now and then; a frame passes unprocessed.
            self.stats.errors += 1


def estimate_delay_ms(input_latency_s: float, output_latency_s: float) -> float:
    """Echo path delay from PortAudio's reported stream latencies (capture + render)."""
    return max(0.0, (input_latency_s + output_latency_s) * 1000.0)
