"""The audio engine: microphone → published track, agent's track → speaker, for one session.

Use::

    engine = AudioEngine(settings)
    await engine.start()                       # opens devices or WAVs; never raises for audio problems
    session = Session(tokens, options, microphone=engine.source,
                      preconnect_buffer=engine.preconnect_enabled)
    bridge = SessionAudioBridge(engine, session)
    bridge.attach()                            # before session.start(): plays the agent, PTT RPCs, …
    await session.start()
    ...
    await bridge.aclose()
    await engine.aclose()

The engine knows nothing of the Session: :class:`~.session_bridge.SessionAudioBridge` is the one place the
two meet. It drives the engine through :meth:`AudioEngine.play`, :meth:`~AudioEngine.flush_playback`,
:meth:`~AudioEngine.set_text_mode`, :meth:`~AudioEngine.listener_arrived` and the pre-connect buffer, and
hears from it as its :class:`EngineObserver` (mute, mode, the talk key, each frame sent and played,
warnings).

Threads and hand-offs (the rule: audio threads never touch event-loop objects):

- capture callback (PortAudio thread) → :class:`SampleRing` → one coalesced ``call_soon_threadsafe`` →
  the capture pump task on the loop: render frames into the APM, the capture frame through the APM, level,
  gate, pre-connect buffer, recorder, ``rtc.AudioSource.capture_frame``. The source is created with
  ``queue_size_ms=0``: LiveKit then hands each 10 ms frame straight to WebRTC instead of queueing it behind
  a timer of its own, so no latency can build up there and the device clock paces the track.
- ``rtc.AudioStream`` of the agent's track (loop) → :class:`JitterBuffer` → output callback (PortAudio
  thread), which also copies what it played into a ring the capture pump feeds to the echo canceller.
- everything else (the observer's calls, files, the watchdog) is on the loop; blocking PortAudio calls
  (opening, closing) and file I/O run in worker threads.

Failure policy: any audio problem at start or later (PortAudio missing, device missing, busy or unplugged,
unreadable WAV) becomes one line in :attr:`AudioStatus.reason` or ``warning``, a status notification and
a call of the observer's ``warning`` (the bridge makes it a ``SessionWarning``); the conversation goes on
text-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from livekit import rtc

from . import devices as device_lookup
from .capture import DeviceCapture
from .controls import AudioStats, AudioStatus, DeviceInfo, Level, MicMode
from .errors import AudioDeviceError
from .frame_slicer import FrameSlicer
from .gate import MicGate
from .levels import LevelMeter
from .playback import DevicePlayback
from .preconnect import PreConnectBuffer
from .processing import AudioProcessor, PooledFrame, estimate_delay_ms
from .recorder import ConversationRecorder, recording_path
from .resampling import StreamResampler
from .ring_buffer import Int16Array
from .settings import AudioSettings
from .tasks import AudioTasks
from .wav_io import WavWriter, load_wav

log = logging.getLogger(__name__)

#: Capture latencies kept for the percentiles (the last ~80 s at 10 ms frames).
LATENCY_WINDOW = 8192
#: Watchdog period and how many silent periods mean "the device stopped".
WATCHDOG_PERIOD = 0.5
WATCHDOG_STALLS = 4
#: Frames of the agent's audio from the FFI: 20 ms halves the per-frame FFI events (the dominant CPU cost
#: of the rtc SDK) against 10 ms, for at most 10 ms more playback latency, well inside the jitter buffer.
PLAYBACK_FRAME_MS = 20
#: Keep at most this much played audio waiting for the echo canceller (the capture pump lagged).
RENDER_BACKLOG_FRAMES = 10


class EngineObserver(Protocol):
    """What the engine tells whoever links it to a conversation (:mod:`.session_bridge`).

    All on the event loop. :meth:`microphone_frame` and :meth:`agent_frame` run once per frame (every 10 ms
    sent, every 20 ms played), so they must stay cheap; they get the frame's samples, which are only valid
    during the call.
    """

    @property
    def turn_rpcs(self) -> bool | None:
        """Whether the agent answers the push-to-talk turn RPCs (None: not known yet), for the status."""
        ...

    def muted_changed(self, muted: bool) -> None: ...

    def mode_changed(self, mode: MicMode, *, turn_abandoned: bool) -> None:
        """The gate's mode changed; ``turn_abandoned``: a push-to-talk turn was under way and ends unsent."""
        ...

    async def talk_started(self) -> None:
        """The talk key opened the gate (the turn interface: ``start_turn``)."""
        ...

    async def talk_ended(self) -> None:
        """The talk key closed the gate (``end_turn``)."""
        ...

    async def talk_cancelled(self) -> None:
        """The turn was aborted (``cancel_turn``)."""
        ...

    def microphone_frame(self, samples: Int16Array, now: float) -> None:
        """A frame as sent on the track (after the gate), at loop time ``now``."""
        ...

    def agent_frame(self, samples: Int16Array, now: float) -> None:
        """A frame of the agent's track as it arrived, at loop time ``now``."""
        ...

    def warning(self, message: str) -> None:
        """One line for the user (already logged)."""
        ...


class AudioEngine:
    """Implements :class:`~agent_tui.audio.controls.AudioControls`; see the module docstring."""

    def __init__(self, settings: AudioSettings | None = None) -> None:
        self.settings = settings or AudioSettings()
        self._rate = self.settings.sample_rate
        self._frame_samples = self.settings.frame_samples
        self._gate = MicGate(self.settings.mode)
        self._aec_wanted = self.settings.aec
        self._input_meter = LevelMeter()
        self._text_mode = False
        self._output_meter = LevelMeter()
        self._observer: EngineObserver | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._closed = False
        self._t0 = 0.0

        self._source: rtc.AudioSource | None = None
        self._capture: DeviceCapture | None = None
        self._capture_resampler: StreamResampler | None = None
        self._capture_slicer = FrameSlicer(self._frame_samples)
        self._capture_scratch: Int16Array = np.zeros(0, dtype=np.int16)
        self._capture_ready = asyncio.Event()
        self._wav_samples: Int16Array | None = None
        self._wav_go = asyncio.Event()
        self._input_done = asyncio.Event()
        self._input_started_at: float | None = None
        self._frame = PooledFrame(self._rate, self._frame_samples)
        self._render: PooledFrame | None = None
        self._processor: AudioProcessor | None = None

        self._playback: DevicePlayback | None = None
        self._output_writer: WavWriter | None = None
        self._output_written = 0
        self._recorder: ConversationRecorder | None = None
        self._recorder_resampler: StreamResampler | None = None
        self._track: rtc.RemoteAudioTrack | None = None
        self._track_task: asyncio.Task[None] | None = None

        self._preconnect: PreConnectBuffer | None = None
        self._preconnect_sent: float | None = None

        self._input_name: str | None = None
        self._output_name: str | None = None
        self._reason: str | None = None
        self._warning: str | None = None
        self._status_listeners: list[Callable[[AudioStatus], object]] = []
        self._tasks = AudioTasks(log)
        self._input_task: asyncio.Task[None] | None = None
        self._watchdog_task: asyncio.Task[None] | None = None

        self._frames_sent = 0
        self._latencies: npt.NDArray[np.float64] = np.zeros(LATENCY_WINDOW, dtype=np.float64)
        self._latency_count = 0
        self._capture_errors = 0
        self._stats_base = {"blocks": 0, "overflows": 0, "dropped": 0, "pb_blocks": 0, "underflows": 0}

    # -- integration API ------------------------------------------------------------------------------------
    @property
    def source(self) -> rtc.AudioSource | None:
        """The microphone source to publish (``Session(microphone=...)``); None when text-only."""
        return self._source

    @property
    def preconnect_enabled(self) -> bool:
        """Whether to publish with the pre-connect flag (``Session(preconnect_buffer=...)``)."""
        return self._preconnect is not None

    @property
    def recording_path(self) -> Any:
        """Where ``--record`` writes the conversation (None when not recording)."""
        return self._recorder.path if self._recorder is not None else None

    @property
    def input_started_at(self) -> float | None:
        """Loop time at which the WAV input's first sample was sent (None before, or with a device)."""
        return self._input_started_at

    @property
    def started_at(self) -> float:
        """Loop time of :meth:`start`: sample 0 of the output WAV and of the recording."""
        return self._t0

    @property
    def preconnect(self) -> PreConnectBuffer | None:
        """What the microphone recorded before anyone listened (None: no pre-connect buffer)."""
        return self._preconnect

    def preconnect_delivered(self, seconds: float) -> None:
        """The pre-connect buffer (``seconds`` of audio) reached the agent: for :meth:`stats`."""
        self._preconnect_sent = seconds

    def listener_arrived(self) -> None:
        """Someone listens to the published microphone: a WAV input that waits for a listener starts."""
        self._wav_go.set()

    def set_observer(self, observer: EngineObserver | None) -> None:
        """Who hears of mute, mode, the talk key, frames and warnings (the session bridge), or nobody."""
        self._observer = observer

    def play(self, track: rtc.RemoteAudioTrack | None) -> None:
        """Play ``track`` (the agent's) from now on, instead of any other; None stops playing."""
        self._switch_track(track)

    def flush_playback(self) -> None:
        """Drop what is queued to play (the agent was interrupted): it must not keep talking."""
        if self._playback is not None:
            self._playback.jitter.request_flush()

    def set_text_mode(self, on: bool) -> None:
        """In text mode the agent's audio is metered and recorded but not played; what is queued goes."""
        self._text_mode = on
        if on:
            self.flush_playback()

    def warn(self, message: str) -> None:
        """One line for the user: logged, to the observer (the UI, JSONL) and as a status change."""
        log.warning("%s", message)
        if self._observer is not None:
            self._observer.warning(message)
        self._notify_status()

    def refresh_status(self) -> None:
        """Tell the status listeners again (what the observer contributes, ``turn_rpcs``, changed)."""
        self._notify_status()

    async def wait_input_done(self) -> None:
        """Until the whole ``--input-wav`` has been sent (never returns for a device)."""
        await self._input_done.wait()

    async def start(self) -> None:
        """Open the input and output (devices or files) and start capturing at once.

        Capture starts here, before the session connects, so the pre-connect buffer hears the user's first
        words. Never raises for audio problems: they leave the engine text-only with :attr:`status` saying
        why (see the module docstring).
        """
        if self._started:
            return
        self._started = True
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._t0 = loop.time()
        settings = self.settings
        if not settings.enabled:
            self._reason = "Audio is off (--text-only)."
            self._notify_status()
            return
        await self._open_input(loop)
        await self._open_output(loop)
        await self._open_recorder()
        self._rebuild_processor()
        if self._capture is not None:
            self._capture.start()
        if self._playback is not None:
            self._playback.start()
        self._ensure_tasks()
        self._notify_status()

    def _ensure_tasks(self) -> None:
        """The input pump matching the current input, and the watchdog while any device is open."""
        if self._source is not None:
            want_capture = self._capture is not None
            task = self._input_task
            running_capture = task is not None and not task.done() and task.get_name() == "audio-capture"
            running_wav = task is not None and not task.done() and task.get_name() == "audio-wav"
            if want_capture and not running_capture:
                if task is not None:
                    task.cancel()
                self._input_task = self._spawn(self._capture_pump(), name="audio-capture")
            elif not want_capture and self._wav_samples is not None and not running_wav:
                self._input_task = self._spawn(self._wav_pump(), name="audio-wav")
        watchdog = self._watchdog_task
        if (self._capture is not None or self._playback is not None) and (
            watchdog is None or watchdog.done()
        ):
            self._watchdog_task = self._spawn(self._watchdog(), name="audio-watchdog")

    async def aclose(self) -> None:
        """Stop everything, close devices and files (the recording is finalised); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._observer = None
        track_task = self._track_task
        self._switch_track(None)  # cancels the track's task
        tasks = [*self._tasks.cancel(), *([track_task] if track_task is not None else [])]
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_devices(self._capture, self._playback)
        self._capture = None
        self._playback = None
        if self._output_writer is not None:
            await self._output_writer.aclose()
        if self._recorder is not None:
            await self._recorder.aclose()
        if self._source is not None:
            await self._source.aclose()
            self._source = None
        self._input_meter.reset()
        self._output_meter.reset()

    # -- AudioControls ---------------------------------------------------------------------------------------
    @property
    def status(self) -> AudioStatus:
        processor = self._processor
        return AudioStatus(
            text_only=self._source is None or (self._capture is None and self._wav_samples is None),
            reason=self._reason,
            input_name=self._input_name,
            output_name=self._output_name,
            mode=self._gate.mode,
            muted=self._gate.muted,
            talking=self._gate.talking,
            aec=processor is not None and processor.echo_cancellation,
            warning=self._warning,
            turn_rpcs=self._observer.turn_rpcs if self._observer is not None else None,
        )

    def input_level(self) -> Level:
        return self._input_meter.read()

    def output_level(self) -> Level:
        return self._output_meter.read()

    def set_muted(self, muted: bool) -> None:
        self._gate.set_muted(muted)
        if self._observer is not None:
            self._observer.muted_changed(muted)
        self._notify_status()

    def set_mode(self, mode: MicMode) -> None:
        was_talking = self._gate.talking
        self._gate.set_mode(mode)
        if self._observer is not None:
            self._observer.mode_changed(mode, turn_abandoned=was_talking)
        self._notify_status()

    async def talk_start(self) -> None:
        if self._gate.talk_start():
            self._notify_status()
            if self._observer is not None:
                await self._observer.talk_started()

    async def talk_end(self) -> None:
        if self._gate.talk_end():
            self._notify_status()
            if self._observer is not None:
                await self._observer.talk_ended()

    async def talk_cancel(self) -> None:
        if self._gate.talk_end():
            self._notify_status()
            if self._observer is not None:
                await self._observer.talk_cancelled()

    def set_aec(self, enabled: bool) -> None:
        self._aec_wanted = enabled
        self._rebuild_processor()
        self._notify_status()

    def list_devices(self) -> list[DeviceInfo]:
        return device_lookup.list_devices()

    async def select_devices(
        self, *, input_device: str | int | None, output_device: str | int | None
    ) -> None:
        """Open the new device(s) first and only then close the old ones, so a failure changes nothing."""
        loop = self._require_loop()
        if input_device is not None and self._source is None:
            raise AudioDeviceError(
                "The microphone was not available when the session started; start a new session to use one."
            )
        new_capture: DeviceCapture | None = None
        new_playback: DevicePlayback | None = None
        try:
            if input_device is not None:
                new_capture = await asyncio.to_thread(self._make_capture, input_device, loop)
            if output_device is not None:
                new_playback = await asyncio.to_thread(self._make_playback, output_device, loop)
        except AudioDeviceError:
            await self._close_devices(new_capture, new_playback)
            raise
        old_capture = self._capture if new_capture is not None else None
        old_playback = self._playback if new_playback is not None else None
        if new_capture is not None:
            self._install_capture(new_capture)
            self._wav_samples = None
            new_capture.start()
        if new_playback is not None:
            self._install_playback(new_playback)
            new_playback.start()
            if self._track is not None:
                self._switch_track(self._track, force=True)
        if new_capture is not None and self._reason is not None:
            self._reason = None
        if new_playback is not None:
            self._warning = None
        self._rebuild_processor()
        await self._close_devices(old_capture, old_playback)
        self._ensure_tasks()
        self._notify_status()

    def stats(self) -> AudioStats:
        capture = self._capture
        playback = self._playback
        base = self._stats_base
        p50 = p99 = None
        count = min(self._latency_count, LATENCY_WINDOW)
        if count:
            window = self._latencies[:count]
            p50 = float(np.percentile(window, 50)) * 1000.0
            p99 = float(np.percentile(window, 99)) * 1000.0
        in_rate = capture.sample_rate if capture is not None else self._rate
        jitter = playback.jitter if playback is not None else None
        out_rate = playback.sample_rate if playback is not None else self._rate
        processor = self._processor
        return AudioStats(
            capture_blocks=base["blocks"] + (capture.callbacks if capture else 0),
            capture_overflows=base["overflows"] + (capture.overflows if capture else 0),
            capture_dropped_ms=(base["dropped"] + (capture.dropped_samples if capture else 0))
            * 1000.0
            / in_rate,
            frames_sent=self._frames_sent,
            capture_latency_p50_ms=p50,
            capture_latency_p99_ms=p99,
            playback_blocks=base["pb_blocks"] + (playback.callbacks if playback else 0),
            playback_underruns=(jitter.underruns if jitter else 0),
            playback_device_underflows=base["underflows"] + (playback.device_underflows if playback else 0),
            playback_depth_ms=(jitter.depth * 1000.0 / out_rate) if jitter else 0.0,
            playback_dropped_ms=((jitter.trimmed_samples + jitter.overflow_dropped) * 1000.0 / out_rate)
            if jitter
            else 0.0,
            playback_flushed_ms=(jitter.flushed_samples * 1000.0 / out_rate) if jitter else 0.0,
            processing_errors=(processor.stats.errors if processor else 0) + self._capture_errors,
            aec_delay_ms=processor.delay_ms
            if processor is not None and processor.echo_cancellation
            else None,
            preconnect_sent_s=self._preconnect_sent,
        )

    def subscribe_status(self, callback: Callable[[AudioStatus], object]) -> Callable[[], None]:
        self._status_listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._status_listeners:
                self._status_listeners.remove(callback)

        return unsubscribe

    # -- opening ---------------------------------------------------------------------------------------------
    async def _open_input(self, loop: asyncio.AbstractEventLoop) -> None:
        settings = self.settings
        try:
            if settings.input_wav is not None:
                self._wav_samples = await asyncio.to_thread(load_wav, settings.input_wav, self._rate)
                self._input_name = f"file:{settings.input_wav}"
                if settings.input_wav_start == "immediately":
                    self._wav_go.set()
            else:
                capture = await asyncio.to_thread(self._make_capture, settings.input_device, loop)
                self._install_capture(capture)
        except AudioDeviceError as error:
            self._reason = f"{error} Continuing text-only."
            return
        # A queue of 0 ms: frames go straight to WebRTC (see the module docstring).
        self._source = rtc.AudioSource(self._rate, 1, queue_size_ms=0, loop=loop)
        if settings.preconnect_buffer:
            self._preconnect = PreConnectBuffer(self._rate, settings.preconnect_max_seconds)

    async def _open_output(self, loop: asyncio.AbstractEventLoop) -> None:
        settings = self.settings
        try:
            if settings.output_wav is not None:
                self._output_writer = await WavWriter.open(
                    settings.output_wav, channels=1, sample_rate=self._rate
                )
                self._output_name = f"file:{settings.output_wav}"
            else:
                playback = await asyncio.to_thread(self._make_playback, settings.output_device, loop)
                self._install_playback(playback)
        except AudioDeviceError as error:
            self._warning = f"{error} The agent's replies are not played."

    async def _open_recorder(self) -> None:
        directory = self.settings.record_dir
        if directory is None:
            return
        try:
            writer = await WavWriter.open(recording_path(directory), channels=2, sample_rate=self._rate)
        except AudioDeviceError as error:
            self._warning = f"{error} Not recording."
            return
        self._recorder = ConversationRecorder(writer, start=self._t0)

    def _make_capture(self, spec: int | str | None, loop: asyncio.AbstractEventLoop) -> DeviceCapture:
        """Blocking (PortAudio): runs in a worker thread."""
        sd = device_lookup.load_sounddevice()
        device = device_lookup.resolve_device(spec, "input", device_lookup.list_devices())
        return DeviceCapture(
            sd,
            device,
            wanted_rate=self._rate,
            block_ms=self.settings.block_ms,
            loop=loop,
            on_ready=self._capture_ready.set,
            on_finished=self._on_input_finished,
        )

    def _make_playback(self, spec: int | str | None, loop: asyncio.AbstractEventLoop) -> DevicePlayback:
        """Blocking (PortAudio): runs in a worker thread."""
        sd = device_lookup.load_sounddevice()
        device = device_lookup.resolve_device(spec, "output", device_lookup.list_devices())
        return DevicePlayback(
            sd,
            device,
            wanted_rate=self._rate,
            block_ms=self.settings.block_ms,
            buffer_ms=self.settings.playback_buffer_ms,
            loop=loop,
            on_finished=self._on_output_finished,
        )

    def _install_capture(self, capture: DeviceCapture) -> None:
        self._capture = capture
        self._input_name = device_lookup.describe(capture.device)
        self._capture_resampler = (
            StreamResampler(capture.sample_rate, self._rate) if capture.sample_rate != self._rate else None
        )
        self._capture_scratch = np.zeros(capture.ring.capacity, dtype=np.int16)
        self._capture_slicer.reset()

    def _install_playback(self, playback: DevicePlayback) -> None:
        self._playback = playback
        self._output_name = device_lookup.describe(playback.device)
        self._render = PooledFrame(playback.sample_rate, playback.sample_rate // 100)

    async def _close_devices(self, capture: DeviceCapture | None, playback: DevicePlayback | None) -> None:
        for device in (capture, playback):
            if device is None:
                continue
            if isinstance(device, DeviceCapture):
                self._stats_base["blocks"] += device.callbacks
                self._stats_base["overflows"] += device.overflows
                self._stats_base["dropped"] += device.dropped_samples
            else:
                self._stats_base["pb_blocks"] += device.callbacks
                self._stats_base["underflows"] += device.device_underflows
            with contextlib.suppress(Exception):
                await asyncio.to_thread(device.close)

    def _rebuild_processor(self) -> None:
        """APM only for a real microphone; echo cancellation only when we also drive the speaker."""
        settings = self.settings
        aec = self._aec_wanted and self._capture is not None and self._playback is not None
        wanted = self._capture is not None and (
            aec or settings.noise_suppression or settings.high_pass or settings.auto_gain
        )
        if not wanted:
            self._processor = None
        else:
            self._processor = AudioProcessor(
                echo_cancellation=aec,
                noise_suppression=settings.noise_suppression,
                high_pass_filter=settings.high_pass,
                auto_gain_control=settings.auto_gain,
            )
            if aec and self._capture is not None and self._playback is not None:
                self._processor.set_delay_ms(estimate_delay_ms(self._capture.latency, self._playback.latency))
        if self._playback is not None:
            if not aec:
                self._playback.feed_played = False
            else:
                self._playback.played.discard_all()
                self._playback.feed_played = True

    # -- capture path (loop) --------------------------------------------------------------------------------
    async def _capture_pump(self) -> None:
        while True:
            await self._capture_ready.wait()
            self._capture_ready.clear()
            capture = self._capture
            if capture is None:
                continue
            if self._capture_resampler is None:
                await self._drain_direct(capture)
            else:
                await self._drain_resampled(capture, self._capture_resampler)

    async def _drain_direct(self, capture: DeviceCapture) -> None:
        ring = capture.ring
        frame = self._frame
        size = self._frame_samples
        while ring.available >= size and self._capture is capture:
            ring.read_into(frame.samples, size)
            arrived = capture.arrival_time(ring.total_read)
            await self._send(frame, arrived, process=True)

    async def _drain_resampled(self, capture: DeviceCapture, resampler: StreamResampler) -> None:
        ring = capture.ring
        count = ring.read_into(self._capture_scratch)
        if not count:
            return
        arrived = capture.arrival_time(ring.total_read)
        converted = resampler.push(self._capture_scratch[:count])
        frames: list[Int16Array] = []
        self._capture_slicer.push(converted, lambda f: frames.append(f.copy()))
        for samples in frames:
            self._frame.samples[:] = samples
            await self._send(self._frame, arrived, process=True)

    async def _wav_pump(self) -> None:
        """Send the WAV in real time (10 ms per 10 ms on the loop clock), then silence."""
        loop = self._require_loop()
        samples = self._wav_samples
        frame = self._frame
        size = self._frame_samples
        position = 0
        deadline = loop.time()
        while True:
            if samples is not None and self._wav_go.is_set() and position < len(samples):
                chunk = samples[position : position + size]
                frame.samples[: len(chunk)] = chunk
                frame.samples[len(chunk) :] = 0
                if position == 0:
                    self._input_started_at = loop.time()
                position += size
                if position >= len(samples):
                    self._input_done.set()
            else:
                frame.samples[:] = 0
            await self._send(frame, None, process=False)
            deadline += size / self._rate
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:  # the loop stalled: resynchronise instead of bursting to catch up
                deadline = loop.time()

    async def _send(self, frame: PooledFrame, arrived: float | None, *, process: bool) -> None:
        """One 10 ms frame through processing, meter, gate, pre-connect buffer and recorder to the track."""
        samples = frame.samples
        processor = self._processor
        if process and processor is not None:
            self._feed_render(processor)
            processor.process_capture(frame.frame)
        self._input_meter.add(samples)
        if not self._gate.is_open:
            samples[:] = 0
        preconnect = self._preconnect
        if preconnect is not None and preconnect.recording:
            preconnect.append(samples)
        if self._recorder is not None:
            self._recorder.add_user(samples, self._require_loop().time())
        observer = self._observer
        if observer is not None:
            observer.microphone_frame(samples, self._require_loop().time())
        source = self._source
        if source is None:
            return
        try:
            await source.capture_frame(frame.frame)
        except Exception:
            self._capture_errors += 1
            return
        self._frames_sent += 1
        if arrived is not None:
            self._latencies[self._latency_count % LATENCY_WINDOW] = time.perf_counter() - arrived
            self._latency_count += 1

    def _feed_render(self, processor: AudioProcessor) -> None:
        playback = self._playback
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

    # -- playback path (loop) -------------------------------------------------------------------------------
    def _switch_track(self, track: rtc.RemoteAudioTrack | None, *, force: bool = False) -> None:
        if not force and track is self._track and (track is None or self._track_task is not None):
            return
        old = self._track_task
        self._track_task = None
        if old is not None:
            old.cancel()
        self._track = track
        if self._playback is not None:
            self._playback.jitter.request_flush()
        if track is not None and self._loop is not None and not self._closed:
            self._track_task = self._loop.create_task(self._play_track(track, old), name="audio-agent-track")

    async def _play_track(self, track: rtc.RemoteAudioTrack, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await previous
        playback = self._playback
        rate = playback.sample_rate if playback is not None else self._rate
        if self._recorder is not None and rate != self._rate:
            self._recorder_resampler = StreamResampler(rate, self._rate)
        else:
            self._recorder_resampler = None
        stream = rtc.AudioStream(track, sample_rate=rate, num_channels=1, frame_size_ms=PLAYBACK_FRAME_MS)
        if playback is not None:
            playback.jitter.set_active(True)
        loop = self._require_loop()
        try:
            async for event in stream:
                samples: Int16Array = np.frombuffer(event.frame.data, dtype=np.int16)
                self._output_meter.add(samples)
                if playback is not None and not self._text_mode:
                    playback.jitter.push(samples)
                now = loop.time()
                observer = self._observer
                if observer is not None:
                    observer.agent_frame(samples, now)
                if self._output_writer is not None:
                    self._write_output(samples, now)
                if self._recorder is not None:
                    resampler = self._recorder_resampler
                    self._recorder.add_agent(resampler.push(samples) if resampler else samples, now)
        finally:
            if playback is not None:
                playback.jitter.set_active(False)
            with contextlib.suppress(Exception):
                await stream.aclose()

    def _write_output(self, samples: Int16Array, now: float) -> None:
        """Append to the output WAV, first padding any gap so the file keeps wall-clock time since start."""
        writer = self._output_writer
        if writer is None:
            return
        expected_end = round((now - self._t0) * self._rate)
        gap = expected_end - len(samples) - self._output_written
        if gap > self._rate // 10:  # only gaps longer than loop jitter (100 ms) are real gaps
            writer.write(np.zeros(gap, dtype=np.int16))
            self._output_written += gap
        writer.write(samples)
        self._output_written += len(samples)

    # -- failures and status (loop) -------------------------------------------------------------------------
    async def _watchdog(self) -> None:
        seen_in = seen_out = -1
        stalls_in = stalls_out = 0
        while True:
            await asyncio.sleep(WATCHDOG_PERIOD)
            capture, playback = self._capture, self._playback
            if capture is not None:
                stalls_in = stalls_in + 1 if capture.callbacks == seen_in else 0
                seen_in = capture.callbacks
                if stalls_in >= WATCHDOG_STALLS or not capture.active:
                    await self._lose_input(capture)
                    stalls_in, seen_in = 0, -1
            if playback is not None:
                stalls_out = stalls_out + 1 if playback.callbacks == seen_out else 0
                seen_out = playback.callbacks
                if stalls_out >= WATCHDOG_STALLS or not playback.active:
                    await self._lose_output(playback)
                    stalls_out, seen_out = 0, -1
            if self._capture is None and self._playback is None:
                return

    def _on_input_finished(self) -> None:
        if self._capture is not None and not self._closed:
            self._spawn(self._lose_input(self._capture))

    def _on_output_finished(self) -> None:
        if self._playback is not None and not self._closed:
            self._spawn(self._lose_output(self._playback))

    async def _lose_input(self, capture: DeviceCapture) -> None:
        if self._capture is not capture:
            return
        self._capture = None
        self._rebuild_processor()
        self._input_meter.reset()
        self._reason = (
            f"The microphone {capture.device.name!r} stopped (unplugged, or taken by another program?). "
            "Continuing text-only."
        )
        # Say so as the status flips, not after the (slow) close: whoever sees text-only sees why.
        self.warn(self._reason)
        await self._close_devices(capture, None)

    async def _lose_output(self, playback: DevicePlayback) -> None:
        if self._playback is not playback:
            return
        self._playback = None
        self._rebuild_processor()
        self._output_meter.reset()
        self._warning = (
            f"The speaker {playback.device.name!r} stopped (unplugged, or taken by another program?). "
            "The agent's replies are shown as text only."
        )
        self.warn(self._warning)
        await self._close_devices(None, playback)

    def _notify_status(self) -> None:
        if not self._status_listeners:
            return
        status = self.status
        for listener in list(self._status_listeners):
            try:
                listener(status)
            except Exception:
                log.exception("an audio status listener failed")

    def _spawn(self, coro: Any, *, name: str | None = None) -> asyncio.Task[Any]:
        return self._tasks.spawn(self._require_loop(), coro, name=name)

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise AudioDeviceError("The audio engine is not started; call start() first.")
        return self._loop
