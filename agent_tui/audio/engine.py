"""The audio engine: microphone → published track, agent's track → speaker, for one session.

Use::

    engine = AudioEngine(settings)
    await engine.start()                       # opens devices or WAVs; never raises for audio problems
    session = Session(tokens, options, microphone=engine.source,
                      preconnect_buffer=engine.preconnect_enabled)
    engine.attach(session)                     # before session.start(): plays the agent, PTT RPCs, …
    await session.start()
    ...
    await engine.aclose()

Threads and hand-offs (the rule: audio threads never touch event-loop objects):

- capture callback (PortAudio thread) → :class:`SampleRing` → one coalesced ``call_soon_threadsafe`` →
  the capture pump task on the loop: render frames into the APM, the capture frame through the APM, level,
  gate, pre-connect buffer, recorder, ``rtc.AudioSource.capture_frame``. The source is created with
  ``queue_size_ms=0``: LiveKit then hands each 10 ms frame straight to WebRTC instead of queueing it behind
  a timer of its own, so no latency can build up there and the device clock paces the track.
- ``rtc.AudioStream`` of the agent's track (loop) → :class:`JitterBuffer` → output callback (PortAudio
  thread), which also copies what it played into a ring the capture pump feeds to the echo canceller.
- everything else (session events, RPCs, files, the watchdog) is on the loop; blocking PortAudio calls
  (opening, closing) and file I/O run in worker threads.

Failure policy: any audio problem at start or later (PortAudio missing, device missing, busy or unplugged,
unreadable WAV) becomes one line in :attr:`AudioStatus.reason` or ``warning``, a status notification and,
once attached, a ``SessionWarning`` on the session's event bus; the conversation goes on text-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from livekit import rtc

from agent_tui.session import (
    AgentAttributesChanged,
    AgentAudioTrackChanged,
    AgentJoined,
    AgentState,
    AgentStateChanged,
    ConnectionState,
    ConnectionStateChanged,
    RpcCallError,
    SessionError,
    SessionEvent,
    SessionWarning,
    TextModeChanged,
)

from . import devices as device_lookup
from .capture import DeviceCapture
from .controls import AudioStats, AudioStatus, DeviceInfo, Level, MicMode
from .errors import AudioDeviceError
from .frame_slicer import FrameSlicer
from .gate import MicGate
from .levels import FrameRms, LevelMeter
from .playback import DevicePlayback
from .preconnect import MIME_TYPE as PRECONNECT_MIME_TYPE
from .preconnect import PAYLOAD_SAMPLE_RATE, STREAM_NAME, TOPIC, PreConnectBuffer, stream_attributes
from .processing import AudioProcessor, PooledFrame, estimate_delay_ms
from .push_to_talk import (
    TURN_RPC_REGISTER_WAIT,
    TURN_RPC_RETRY_INTERVAL,
    TURN_RPC_TIMEOUT,
    TurnMethod,
    TurnRpcOutcome,
    TurnRpcSupport,
)
from .recorder import ConversationRecorder, recording_path
from .resampling import StreamResampler
from .ring_buffer import Int16Array
from .settings import AudioSettings
from .wav_io import WavWriter, load_wav

if TYPE_CHECKING:
    from agent_tui.session import Session

log = logging.getLogger(__name__)

#: Capture latencies kept for the percentiles (the last ~80 s at 10 ms frames).
LATENCY_WINDOW = 8192
#: Watchdog period and how many silent periods mean "the device stopped".
WATCHDOG_PERIOD = 0.5
WATCHDOG_STALLS = 4
#: Longest wait for the agent to subscribe to the microphone before the pre-connect buffer is given up.
SUBSCRIBE_TIMEOUT_MARGIN = 10.0
#: Frames of the agent's audio from the FFI: 20 ms halves the per-frame FFI events (the dominant CPU cost
#: of the rtc SDK) against 10 ms, for at most 10 ms more playback latency, well inside the jitter buffer.
PLAYBACK_FRAME_MS = 20
#: Keep at most this much played audio waiting for the echo canceller (the capture pump lagged).
RENDER_BACKLOG_FRAMES = 10


class AudioEngine:
    """Implements :class:`~agent_tui.audio.controls.AudioControls`; see the module docstring."""

    def __init__(self, settings: AudioSettings | None = None) -> None:
        self.settings = settings or AudioSettings()
        self._rate = self.settings.sample_rate
        self._frame_samples = self.settings.frame_samples
        self._gate = MicGate(self.settings.mode)
        self._aec_wanted = self.settings.aec
        self._input_meter = LevelMeter()
        self._mic_rms = FrameRms()
        self._text_mode = False
        self._agent_rms = FrameRms()
        self._output_meter = LevelMeter()
        self._turns = TurnRpcSupport()
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
        self._session: Session | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._session_changed = asyncio.Event()
        self._mute_applied_to: object | None = None

        self._input_name: str | None = None
        self._output_name: str | None = None
        self._reason: str | None = None
        self._warning: str | None = None
        self._status_listeners: list[Callable[[AudioStatus], object]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
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
        if self._session is not None and self._source is not None:
            self._spawn(self._watch_microphone(self._session))
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

    def attach(self, session: Session) -> None:
        """Follow ``session``: play its agent's track, flush on interruption, send the pre-connect buffer,
        mirror mute on the published track, use the turn RPCs. Call before ``session.start()``."""
        if self._session is session:
            return
        self.detach()
        self._session = session
        self._unsubscribe = session.events.subscribe(self._on_session_event)
        self._turns.agent_joined(session.agent_attributes)
        # The mode may have been set before (``--push-to-talk``): the latency meter must know it too.
        session.set_push_to_talk(self._gate.mode is MicMode.PUSH_TO_TALK)
        if session.agent_audio_track is not None:
            self._switch_track(session.agent_audio_track)
        if self._source is not None and self._loop is not None:
            self._spawn(self._watch_microphone(session))

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = None
        self._session = None
        self._switch_track(None)

    async def aclose(self) -> None:
        """Stop everything, close devices and files (the recording is finalised); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.detach()
        track_task = self._track_task
        self._track_task = None
        tasks = [*self._tasks, *([track_task] if track_task is not None else [])]
        for task in tasks:
            task.cancel()
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
            turn_rpcs=self._turns.supported,
        )

    def input_level(self) -> Level:
        return self._input_meter.read()

    def output_level(self) -> Level:
        return self._output_meter.read()

    def set_muted(self, muted: bool) -> None:
        self._gate.set_muted(muted)
        if self._session is not None:
            self._session.set_microphone_muted(muted)
        self._notify_status()

    def set_mode(self, mode: MicMode) -> None:
        was_talking = self._gate.talking
        self._gate.set_mode(mode)
        if self._session is not None:
            self._session.set_push_to_talk(mode is MicMode.PUSH_TO_TALK)
        if was_talking and self._loop is not None:
            self._spawn(self._cancel_turn())
        self._notify_status()

    async def talk_start(self) -> None:
        if self._gate.talk_start():
            self._notify_status()
            session = self._session
            if session is not None and self._loop is not None:
                session.insight.latency.user_turn_started(self._loop.time())
                session.user_turn_started()
            await self._start_turn()

    async def talk_end(self) -> None:
        if self._gate.talk_end():
            self._notify_status()
            if self._session is not None and self._loop is not None:
                # With push-to-talk the user's turn ends at the key release, not at a VAD decision.
                self._session.insight.latency.user_turn_ended(self._loop.time())
            await self._turn_rpc(TurnMethod.END)

    async def talk_cancel(self) -> None:
        if self._gate.talk_end():
            self._notify_status()
            if self._session is not None:
                self._session.insight.latency.user_turn_cancelled()
            await self._cancel_turn()

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
        session = self._session
        if session is not None:
            # What the agent will hear (after the gate): the latency meter's end-of-speech detector.
            latency = session.insight.latency.mic_frame(self._require_loop().time(), self._mic_rms(samples))
            if latency is not None:
                session.events.emit(latency)
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
                session = self._session
                if session is not None:
                    latency = session.insight.latency.agent_frame(now, self._agent_rms(samples))
                    if latency is not None:
                        session.events.emit(latency)
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

    def _flush_playback(self) -> None:
        if self._playback is not None:
            self._playback.jitter.request_flush()

    # -- session side (loop) --------------------------------------------------------------------------------
    def _on_session_event(self, event: SessionEvent) -> None:
        self._session_changed.set()
        session = self._session
        if isinstance(event, TextModeChanged):
            # The agent stops voicing new replies, but one already playing goes on: silence it here.
            self._text_mode = event.on
            if event.on:
                self._flush_playback()
        if isinstance(event, AgentAudioTrackChanged):
            self._switch_track(event.track)
        elif isinstance(event, AgentStateChanged):
            if event.previous is AgentState.SPEAKING and event.state is not AgentState.SPEAKING:
                # Interrupted (or finished): whatever is still queued must not keep talking.
                self._flush_playback()
        elif isinstance(event, AgentJoined):
            self._turns.agent_joined(event.attributes)
            self._notify_status()
        elif isinstance(event, AgentAttributesChanged):
            before = self._turns.supported
            self._turns.attributes_changed(event.attributes)
            if before != self._turns.supported:
                self._notify_status()
        elif isinstance(event, ConnectionStateChanged) and event.state is ConnectionState.DISCONNECTED:
            self._mute_applied_to = None
        if session is not None and self._gate.muted:
            publication = session.microphone_publication
            if publication is not None and publication is not self._mute_applied_to:
                # The track did not exist when the user muted: mute it now so the agent sees it.
                self._mute_applied_to = publication
                session.set_microphone_muted(True)

    async def _until(self, predicate: Callable[[], Any], limit: float) -> Any:
        """Wait (on session events) until ``predicate()`` is truthy; returns it, or None on timeout."""
        loop = self._require_loop()
        deadline = loop.time() + limit
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._session_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._session_changed.wait(), remaining)

    async def _watch_microphone(self, session: Session) -> None:
        """Once someone listens to the mic: start the WAV input, send the agent the pre-connect audio."""
        limit = (
            session.options.room_connect_timeout
            + session.options.agent_connect_timeout
            + SUBSCRIBE_TIMEOUT_MARGIN
        )
        publication = await self._until(lambda: session.microphone_publication, limit)
        subscribed = publication is not None and await self._listener_arrives(session, publication, limit)
        if subscribed:
            self._wav_go.set()
        preconnect = self._preconnect
        if preconnect is None:
            return
        preconnect.stop()
        agent = (
            await self._until(lambda: session.agent.identity, SUBSCRIBE_TIMEOUT_MARGIN)
            if subscribed
            else None
        )
        if publication is None or agent is None or session is not self._session:
            preconnect.discard()
            return
        payload = preconnect.payload(PAYLOAD_SAMPLE_RATE)
        try:
            await session.send_bytes(
                payload,
                name=STREAM_NAME,
                topic=TOPIC,
                mime_type=PRECONNECT_MIME_TYPE,
                attributes=stream_attributes(track_sid=publication.sid, sample_rate=PAYLOAD_SAMPLE_RATE),
                destination_identities=[agent],
            )
            self._preconnect_sent = len(payload) / 2 / PAYLOAD_SAMPLE_RATE
        except Exception as error:
            self._warn(f"The pre-connect audio could not be sent to the agent ({error}).")
        finally:
            preconnect.discard()

    async def _listener_arrives(self, session: Session, publication: Any, limit: float) -> bool:
        """Until the agent listens: it subscribed to the microphone, or it reports a listening state.

        The subscription (``local_track_subscribed``) is the precise moment and what the JS SDK waits for;
        the agent's own state is the fallback for servers that do not tell publishers about subscribers.
        """
        subscription = asyncio.ensure_future(publication.wait_for_subscription())
        listening = asyncio.ensure_future(
            self._until(lambda: session.agent.identity and session.agent_state.is_connected, limit)
        )
        try:
            done, _ = await asyncio.wait(
                {subscription, listening}, timeout=limit, return_when=FIRST_COMPLETED
            )
        finally:
            subscription.cancel()
            listening.cancel()
        if subscription in done and not subscription.cancelled() and subscription.exception() is None:
            return True
        return listening in done and not listening.cancelled() and bool(listening.result())

    async def _start_turn(self) -> None:
        """``start_turn``, waiting a little for an agent that is not in the room yet, or that advertises the
        turn RPCs and has not registered them yet (see :mod:`.push_to_talk`): a turn the agent did not
        hear is said on screen, never lost without a word."""
        session = self._session
        if session is None or not self._turns.should_call:
            return
        loop = self._require_loop()
        deadline = loop.time() + TURN_RPC_REGISTER_WAIT
        if session.agent.identity is None:
            await self._until(lambda: session.agent.identity, TURN_RPC_REGISTER_WAIT)
        while await self._turn_rpc(TurnMethod.START) is TurnRpcOutcome.NOT_REGISTERED:
            if loop.time() >= deadline or not self._gate.talking or session is not self._session:
                self._warn(
                    "Push-to-talk: the agent has not registered start_turn yet, so it did not hear this "
                    "turn. Press the talk key again."
                )
                return
            # Its registration cannot be observed from here: asking again is the only way to learn of it.
            await asyncio.sleep(TURN_RPC_RETRY_INTERVAL)

    async def _cancel_turn(self) -> None:
        """``cancel_turn``; once the agent has forgotten the turn, its words are marked cancelled."""
        session = self._session
        outcome = await self._turn_rpc(TurnMethod.CANCEL)
        if outcome is TurnRpcOutcome.DONE and session is not None and session is self._session:
            session.user_turn_cancelled()

    async def _turn_rpc(self, method: TurnMethod) -> TurnRpcOutcome:
        session = self._session
        if session is None or not self._turns.should_call or session.agent.identity is None:
            return TurnRpcOutcome.SKIPPED
        before = self._turns.supported
        outcome = TurnRpcOutcome.SKIPPED
        try:
            await session.perform_rpc(method.value, "", response_timeout=TURN_RPC_TIMEOUT)
            self._turns.succeeded(method)
            outcome = TurnRpcOutcome.DONE
        except RpcCallError as error:
            if self._turns.not_registered_yet(error.code):
                outcome = TurnRpcOutcome.NOT_REGISTERED
            elif not self._turns.failed(error.code):
                self._warn(f"Push-to-talk: the agent's {method.value} failed ({error.detail}).")
        except SessionError:
            return TurnRpcOutcome.SKIPPED  # not connected (any more): the gate alone applies
        if before != self._turns.supported:
            self._notify_status()
        return outcome

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
        self._warn(self._reason)
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
        self._warn(self._warning)
        await self._close_devices(None, playback)

    def _warn(self, message: str) -> None:
        """One line for the user: on the session's event bus (UI, JSONL) and as a status change."""
        log.warning("%s", message)
        if self._session is not None:
            self._session.events.emit(SessionWarning(message=message))
        self._notify_status()

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
        task: asyncio.Task[Any] = self._require_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("audio task failed", exc_info=task.exception())

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise AudioDeviceError("The audio engine is not started; call start() first.")
        return self._loop
