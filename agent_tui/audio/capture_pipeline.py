"""The capture pipeline: microphone (device or WAV) → processing → the published ``rtc.AudioSource``.

The device's callback (PortAudio thread) only copies into :class:`~.ring_buffer.SampleRing` and wakes the
loop once per wake-up (:mod:`.capture`); everything here runs on the event loop, in one pump task: cut the
input into 10 ms frames (resampled when the device runs at another rate), feed the echo canceller what the
speaker played, run the frame through the APM, meter it, apply the gate, hand it to the pre-connect
buffer, the recorder and the observer, then ``capture_frame`` it. Frames live in preallocated buffers
(:class:`~.processing.PooledFrame`), so the steady state allocates nothing per frame.

The source is created with ``queue_size_ms=0``: LiveKit then hands each 10 ms frame straight to WebRTC
instead of queueing it behind a timer of its own, so no latency can build up there and the device clock
(or, for a WAV, the loop clock) paces the track.

Which device, processor and sinks are in use is the engine's decision (:mod:`.engine`); this module only
moves the samples through them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from livekit import rtc

from .capture import DeviceCapture
from .frame_slicer import FrameSlicer
from .gate import MicGate
from .levels import LevelMeter
from .playback import DevicePlayback
from .preconnect import PreConnectBuffer
from .processing import AudioProcessor, PooledFrame
from .recorder import ConversationRecorder
from .resampling import StreamResampler
from .ring_buffer import Int16Array

#: Capture latencies kept for the percentiles (the last ~80 s at 10 ms frames).
LATENCY_WINDOW = 8192
#: Keep at most this much played audio waiting for the echo canceller (the capture pump lagged).
RENDER_BACKLOG_FRAMES = 10


class CapturePipeline:
    """One microphone's way to the track; single-threaded (the event loop's) apart from the device."""

    def __init__(self, sample_rate: int, frame_samples: int, gate: MicGate) -> None:
        self.sample_rate = sample_rate
        self.frame_samples = frame_samples
        self.gate = gate
        self.meter = LevelMeter()
        #: Where the frames go (None: text-only, nothing is sent).
        self.source: rtc.AudioSource | None = None
        #: The open microphone, when the input is a device (see :meth:`use_device`).
        self.device: DeviceCapture | None = None
        #: The WAV input's samples at :attr:`sample_rate`, when the input is a file.
        self.wav: Int16Array | None = None
        self.processor: AudioProcessor | None = None
        self.preconnect: PreConnectBuffer | None = None
        self.recorder: ConversationRecorder | None = None
        #: Called with each frame as sent (after the gate) and the loop time: the observer's meter.
        self.on_frame: Callable[[Int16Array, float], None] | None = None
        #: Set (from the loop) when the device's ring has new samples.
        self.ready = asyncio.Event()
        self.input_started_at: float | None = None
        self.frames_sent = 0
        self.errors = 0

        self._resampler: StreamResampler | None = None
        self._slicer = FrameSlicer(frame_samples)
        self._scratch: Int16Array = np.zeros(0, dtype=np.int16)
        self._frame = PooledFrame(sample_rate, frame_samples)
        self._echo: DevicePlayback | None = None
        self._render: PooledFrame | None = None
        self._wav_go = asyncio.Event()
        self._input_done = asyncio.Event()
        self._latencies: npt.NDArray[np.float64] = np.zeros(LATENCY_WINDOW, dtype=np.float64)
        self._latency_count = 0

    def use_device(self, device: DeviceCapture | None) -> None:
        """Read from ``device`` from now on (None: no microphone); a device replaces the WAV input."""
        self.device = device
        if device is None:
            return
        self.wav = None
        self._resampler = (
            StreamResampler(device.sample_rate, self.sample_rate)
            if device.sample_rate != self.sample_rate
            else None
        )
        self._scratch = np.zeros(device.ring.capacity, dtype=np.int16)
        self._slicer.reset()

    def set_echo_reference(self, playback: DevicePlayback | None) -> None:
        """The speaker whose played audio the echo canceller hears (when the processor cancels echo)."""
        self._echo = playback
        if playback is not None:
            self._render = PooledFrame(playback.sample_rate, playback.sample_rate // 100)

    def start_wav(self) -> None:
        """The WAV input may start: someone listens, or it was asked to start immediately."""
        self._wav_go.set()

    async def wait_input_done(self) -> None:
        """Until the whole WAV input has been sent (never returns for a device)."""
        await self._input_done.wait()

    def latency_percentiles(self) -> tuple[float | None, float | None]:
        """Callback → ``capture_frame`` returned, p50 and p99 in ms over the recent frames (None before)."""
        count = min(self._latency_count, LATENCY_WINDOW)
        if not count:
            return None, None
        window = self._latencies[:count]
        return float(np.percentile(window, 50)) * 1000.0, float(np.percentile(window, 99)) * 1000.0

    # -- the pumps (loop) ------------------------------------------------------------------------------------
    async def run_device(self) -> None:
        """Send what the device captures, as it arrives (run as a task; never returns)."""
        while True:
            await self.ready.wait()
            self.ready.clear()
            device = self.device
            if device is None:
                continue
            if self._resampler is None:
                await self._drain_direct(device)
            else:
                await self._drain_resampled(device, self._resampler)

    async def _drain_direct(self, device: DeviceCapture) -> None:
        ring = device.ring
        frame = self._frame
        size = self.frame_samples
        while ring.available >= size and self.device is device:
            ring.read_into(frame.samples, size)
            arrived = device.arrival_time(ring.total_read)
            await self._send(frame, arrived, process=True)

    async def _drain_resampled(self, device: DeviceCapture, resampler: StreamResampler) -> None:
        ring = device.ring
        count = ring.read_into(self._scratch)
        if not count:
            return
        arrived = device.arrival_time(ring.total_read)
        converted = resampler.push(self._scratch[:count])
        frames: list[Int16Array] = []
        self._slicer.push(converted, lambda f: frames.append(f.copy()))
        for samples in frames:
            self._frame.samples[:] = samples
            await self._send(self._frame, arrived, process=True)

    async def run_wav(self) -> None:
        """Send the WAV in real time (10 ms per 10 ms on the loop clock), then silence (never returns)."""
        loop = asyncio.get_running_loop()
        samples = self.wav
        frame = self._frame
        size = self.frame_samples
        position = 0
        deadline = loop.time()
        while True:
            if samples is not None and self._wav_go.is_set() and position < len(samples):
                chunk = samples[position : position + size]
                frame.samples[: len(chunk)] = chunk
                frame.samples[len(chunk) :] = 0
                if position == 0:  # paced from its own start: no catch-up burst owed to silence runs into it
                    deadline = self.input_started_at = loop.time()
                position += size
                if position >= len(samples):
                    self._input_done.set()
            else:
                frame.samples[:] = 0
            await self._send(frame, None, process=False)
            deadline += size / self.sample_rate
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:  # the loop stalled: resynchronise instead of bursting to catch up
                deadline = loop.time()

    async def _send(self, frame: PooledFrame, arrived: float | None, *, process: bool) -> None:
        """One 10 ms frame through processing, meter, gate, pre-connect buffer and recorder to the track."""
        samples = frame.samples
        processor = self.processor
        if process and processor is not None:
            self._feed_render(processor)
            processor.process_capture(frame.frame)
        self.meter.add(samples)
        if not self.gate.is_open:
            samples[:] = 0
        preconnect = self.preconnect
        if preconnect is not None and preconnect.recording:
            preconnect.append(samples)
        if self.recorder is not None:
            self.recorder.add_user(samples, asyncio.get_running_loop().time())
        on_frame = self.on_frame
        if on_frame is not None:
            on_frame(samples, asyncio.get_running_loop().time())
        source = self.source
        if source is None:
            return
        try:
            await source.capture_frame(frame.frame)
        except Exception:
            self.errors += 1
            return
        self.frames_sent += 1
        if arrived is not None:
            self._latencies[self._latency_count % LATENCY_WINDOW] = time.perf_counter() - arrived
            self._latency_count += 1

    def _feed_render(self, processor: AudioProcessor) -> None:
        """What the speaker played since the last frame, to the echo canceller (at most a little of it)."""
        playback = self._echo
        render = self._render
        if playback is None or render is None or not playback.feed_played:
            return
        played = playback.played
        size = len(render.samples)
        backlog = played.available - RENDER_BACKLOG_FRAMES * size
        if backlog > 0:
            played.skip(backlog)
        while played.available >= size:
            played.read_into(render.samples, size)
            processor.process_render(render.frame)
