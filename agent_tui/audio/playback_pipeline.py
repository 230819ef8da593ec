"""The playback pipeline: the agent's remote track → jitter buffer → the speaker (or the output WAV).

An ``rtc.AudioStream`` of the track, read on the event loop, delivers 20 ms frames at the device's rate;
each is metered, handed to the observer (the voice-latency meter), pushed into the device's
:class:`~.jitter_buffer.JitterBuffer` (the output callback, on the PortAudio thread, only pops from it), and
written to the output WAV and the recording. One track plays at a time: a new one replaces the old, whose
stream is closed first.

Which device and files are in use is the engine's decision (:mod:`.engine`); this module only moves the
agent's samples to them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import numpy as np
from livekit import rtc

from .levels import LevelMeter
from .playback import DevicePlayback
from .recorder import ConversationRecorder
from .resampling import StreamResampler
from .ring_buffer import Int16Array
from .spectrum import SpectrumTap
from .wav_io import WavWriter

#: Frames of the agent's audio from the FFI: 20 ms halves the per-frame FFI events (the dominant CPU cost
#: of the rtc SDK) against 10 ms, for at most 10 ms more playback latency, well inside the jitter buffer.
PLAYBACK_FRAME_MS = 20


class PlaybackPipeline:
    """The agent's way to the speaker; single-threaded (the event loop's) apart from the device."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.meter = LevelMeter()
        #: The newest of the agent's voice, by frequency band on demand (a front end's bar visualizer).
        self.spectrum = SpectrumTap(sample_rate)
        #: The open speaker (None: no device; the track is still metered, written and recorded).
        self.device: DevicePlayback | None = None
        self.writer: WavWriter | None = None
        self.recorder: ConversationRecorder | None = None
        #: Called with each frame of the agent's track and the loop time: the observer's meter.
        self.on_frame: Callable[[Int16Array, float], None] | None = None
        #: In text mode the agent's audio is metered, written and recorded, but not played.
        self.text_mode = False
        self.track: rtc.RemoteAudioTrack | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started_at = 0.0
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._written = 0
        self._recorder_resampler: StreamResampler | None = None

    def begin(self, loop: asyncio.AbstractEventLoop, started_at: float) -> None:
        """Tracks may play from now on; ``started_at`` (loop time) is sample 0 of the output WAV."""
        self._loop = loop
        self._started_at = started_at

    def play(self, track: rtc.RemoteAudioTrack | None, *, force: bool = False) -> None:
        """Play ``track`` instead of any other (None: stop); ``force`` restarts it (a new device)."""
        if not force and track is self.track and (track is None or self._task is not None):
            return
        old = self._task
        self._task = None
        if old is not None:
            old.cancel()
        self.track = track
        self.flush()
        if track is not None and self._loop is not None and not self._closed:
            self._task = self._loop.create_task(self._play(track, old), name="audio-agent-track")

    def flush(self) -> None:
        """Drop what is queued on the device (an interruption, a new track)."""
        if self.device is not None:
            self.device.jitter.request_flush()

    async def aclose(self) -> None:
        """Stop playing, for good; waits for the track's stream to close."""
        self._closed = True
        task = self._task
        self.play(None)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def _play(self, track: rtc.RemoteAudioTrack, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await previous
        playback = self.device
        rate = playback.sample_rate if playback is not None else self.sample_rate
        if self.recorder is not None and rate != self.sample_rate:
            self._recorder_resampler = StreamResampler(rate, self.sample_rate)
        else:
            self._recorder_resampler = None
        stream = rtc.AudioStream(track, sample_rate=rate, num_channels=1, frame_size_ms=PLAYBACK_FRAME_MS)
        self.spectrum.sample_rate = rate
        if playback is not None:
            playback.jitter.set_active(True)
        loop = asyncio.get_running_loop()
        try:
            async for event in stream:
                samples: Int16Array = np.frombuffer(event.frame.data, dtype=np.int16)
                self.meter.add(samples)
                self.spectrum.add(samples)
                if playback is not None and not self.text_mode:
                    playback.jitter.push(samples)
                now = loop.time()
                on_frame = self.on_frame
                if on_frame is not None:
                    on_frame(samples, now)
                if self.writer is not None:
                    self._write_output(samples, now)
                if self.recorder is not None:
                    resampler = self._recorder_resampler
                    self.recorder.add_agent(resampler.push(samples) if resampler else samples, now)
        finally:
            self.spectrum.clear()
            if playback is not None:
                playback.jitter.set_active(False)
            with contextlib.suppress(Exception):
                await stream.aclose()

    def _write_output(self, samples: Int16Array, now: float) -> None:
        """Append to the output WAV, first padding any gap so the file keeps wall-clock time since start."""
        writer = self.writer
        if writer is None:
            return
        rate = self.sample_rate
        expected_end = round((now - self._started_at) * rate)
        gap = expected_end - len(samples) - self._written
        if gap > rate // 10:  # only gaps longer than loop jitter (100 ms) are real gaps
            writer.write(np.zeros(gap, dtype=np.int16))
            self._written += gap
        writer.write(samples)
        self._written += len(samples)
