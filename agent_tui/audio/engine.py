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

The samples move in two pipelines; this class is their coordinator: it opens, switches, watches and
closes the devices and files they use, decides which processing runs, and reports status and stats.

- :mod:`.capture_pipeline`: capture callback (PortAudio thread) → :class:`SampleRing` → one coalesced
  ``call_soon_threadsafe`` → the capture pump task on the loop: the APM, level, gate, pre-connect buffer,
  recorder, ``rtc.AudioSource.capture_frame``.
- :mod:`.playback_pipeline`: ``rtc.AudioStream`` of the agent's track (loop) → :class:`JitterBuffer` →
  output callback (PortAudio thread), which also copies what it played into a ring the capture pump feeds
  to the echo canceller.
- everything else (the observer's calls, files, the watchdog) is on the loop; blocking PortAudio calls
  (opening, closing) and file I/O run in worker threads. The rule: audio threads never touch event-loop
  objects, and never allocate, log or lock.

Failure policy: any audio problem at start or later (PortAudio missing, device missing, busy or unplugged,
unreadable WAV) becomes one line in :attr:`AudioStatus.reason` or ``warning``, a status notification and
a call of the observer's ``warning`` (the bridge makes it a ``SessionWarning``); the conversation goes on
text-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from livekit import rtc

from . import devices as device_lookup
from .capture import DeviceCapture
from .capture_pipeline import CapturePipeline
from .controls import AudioStats, AudioStatus, DeviceInfo, Level, MicMode
from .errors import AudioDeviceError
from .gate import MicGate
from .playback import DevicePlayback
from .playback_pipeline import PlaybackPipeline
from .preconnect import PreConnectBuffer
from .processing import AudioProcessor, estimate_delay_ms
from .recorder import ConversationRecorder, recording_path
from .ring_buffer import Int16Array
from .settings import AudioSettings
from .tasks import AudioTasks
from .wav_io import WavWriter, load_wav

log = logging.getLogger(__name__)

#: Watchdog period and how many silent periods mean "the device stopped".
WATCHDOG_PERIOD = 0.5
WATCHDOG_STALLS = 4


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
        self._observer: EngineObserver | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._closed = False
        self._t0 = 0.0
        #: Microphone → track, and the agent's track → speaker; this class opens and closes their devices.
        self.capture = CapturePipeline(self._rate, self._frame_samples, self._gate)
        self.playback = PlaybackPipeline(self._rate)
        self._recorder: ConversationRecorder | None = None
        self._preconnect_sent: float | None = None

        self._input_name: str | None = None
        self._output_name: str | None = None
        self._reason: str | None = None
        self._warning: str | None = None
        self._status_listeners: list[Callable[[AudioStatus], object]] = []
        self._tasks = AudioTasks(log)
        self._input_task: asyncio.Task[None] | None = None
        self._watchdog_task: asyncio.Task[None] | None = None

        self._stats_base = {"blocks": 0, "overflows": 0, "dropped": 0, "pb_blocks": 0, "underflows": 0}

    # -- integration API ------------------------------------------------------------------------------------
    @property
    def source(self) -> rtc.AudioSource | None:
        """The microphone source to publish (``Session(microphone=...)``); None when text-only."""
        return self.capture.source

    @property
    def preconnect_enabled(self) -> bool:
        """Whether to publish with the pre-connect flag (``Session(preconnect_buffer=...)``)."""
        return self.capture.preconnect is not None

    @property
    def recording_path(self) -> Any:
        """Where ``--record`` writes the conversation (None when not recording)."""
        return self._recorder.path if self._recorder is not None else None

    @property
    def input_started_at(self) -> float | None:
        """Loop time at which the WAV input's first sample was sent (None before, or with a device)."""
        return self.capture.input_started_at

    @property
    def started_at(self) -> float:
        """Loop time of :meth:`start`: sample 0 of the output WAV and of the recording."""
        return self._t0

    @property
    def preconnect(self) -> PreConnectBuffer | None:
        """What the microphone recorded before anyone listened (None: no pre-connect buffer)."""
        return self.capture.preconnect

    def preconnect_delivered(self, seconds: float) -> None:
        """The pre-connect buffer (``seconds`` of audio) reached the agent: for :meth:`stats`."""
        self._preconnect_sent = seconds

    def listener_arrived(self) -> None:
        """Someone listens to the published microphone: a WAV input that waits for a listener starts."""
        self.capture.start_wav()

    def set_observer(self, observer: EngineObserver | None) -> None:
        """Who hears of mute, mode, the talk key, frames and warnings (the session bridge), or nobody."""
        self._observer = observer
        self.capture.on_frame = observer.microphone_frame if observer is not None else None
        self.playback.on_frame = observer.agent_frame if observer is not None else None

    def play(self, track: rtc.RemoteAudioTrack | None) -> None:
        """Play ``track`` (the agent's) from now on, instead of any other; None stops playing."""
        self.playback.play(track)

    def flush_playback(self) -> None:
        """Drop what is queued to play (the agent was interrupted): it must not keep talking."""
        self.playback.flush()

    def set_text_mode(self, on: bool) -> None:
        """In text mode the agent's audio is metered and recorded but not played; what is queued goes."""
        self.playback.text_mode = on
        if on:
            self.playback.flush()

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
        await self.capture.wait_input_done()

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
        self.playback.begin(loop, self._t0)
        settings = self.settings
        if not settings.enabled:
            self._reason = "Audio is off (--text-only)."
            self._notify_status()
            return
        await self._open_input(loop)
        await self._open_output(loop)
        await self._open_recorder()
        self._rebuild_processor()
        if self.capture.device is not None:
            self.capture.device.start()
        if self.playback.device is not None:
            self.playback.device.start()
        self._ensure_tasks()
        self._notify_status()

    def _ensure_tasks(self) -> None:
        """The input pump matching the current input, and the watchdog while any device is open."""
        capture, playback = self.capture.device, self.playback.device
        if self.capture.source is not None:
            want_capture = capture is not None
            task = self._input_task
            running_capture = task is not None and not task.done() and task.get_name() == "audio-capture"
            running_wav = task is not None and not task.done() and task.get_name() == "audio-wav"
            if want_capture and not running_capture:
                if task is not None:
                    task.cancel()
                self._input_task = self._spawn(self.capture.run_device(), name="audio-capture")
            elif not want_capture and self.capture.wav is not None and not running_wav:
                self._input_task = self._spawn(self.capture.run_wav(), name="audio-wav")
        watchdog = self._watchdog_task
        if (capture is not None or playback is not None) and (watchdog is None or watchdog.done()):
            self._watchdog_task = self._spawn(self._watchdog(), name="audio-watchdog")

    async def aclose(self) -> None:
        """Stop everything, close devices and files (the recording is finalised); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.set_observer(None)
        await asyncio.gather(self.playback.aclose(), self._tasks.aclose())
        await self._close_devices(self.capture.device, self.playback.device)
        self._use_capture(None)
        self._use_playback(None)
        if self.playback.writer is not None:
            await self.playback.writer.aclose()
        if self._recorder is not None:
            await self._recorder.aclose()
        source = self.capture.source
        if source is not None:
            self.capture.source = None
            await source.aclose()
        self.capture.meter.reset()
        self.playback.meter.reset()

    # -- AudioControls ---------------------------------------------------------------------------------------
    @property
    def status(self) -> AudioStatus:
        capture = self.capture
        processor = capture.processor
        return AudioStatus(
            text_only=capture.source is None or (capture.device is None and capture.wav is None),
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
        return self.capture.meter.read()

    def output_level(self) -> Level:
        return self.playback.meter.read()

    def output_bands(self, count: int) -> list[float]:
        return self.playback.spectrum.bands(count)

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
        if input_device is not None and self.capture.source is None:
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
        old_capture = self.capture.device if new_capture is not None else None
        old_playback = self.playback.device if new_playback is not None else None
        if new_capture is not None:
            self._use_capture(new_capture)  # replaces a WAV input too
            new_capture.start()
        if new_playback is not None:
            self._use_playback(new_playback)
            new_playback.start()
            if self.playback.track is not None:
                self.playback.play(self.playback.track, force=True)
        if new_capture is not None and self._reason is not None:
            self._reason = None
        if new_playback is not None:
            self._warning = None
        self._rebuild_processor()
        await self._close_devices(old_capture, old_playback)
        self._ensure_tasks()
        self._notify_status()

    def stats(self) -> AudioStats:
        capture = self.capture.device
        playback = self.playback.device
        base = self._stats_base
        p50, p99 = self.capture.latency_percentiles()
        in_rate = capture.sample_rate if capture is not None else self._rate
        jitter = playback.jitter if playback is not None else None
        out_rate = playback.sample_rate if playback is not None else self._rate
        processor = self.capture.processor
        return AudioStats(
            capture_blocks=base["blocks"] + (capture.callbacks if capture else 0),
            capture_overflows=base["overflows"] + (capture.overflows if capture else 0),
            capture_dropped_ms=(base["dropped"] + (capture.dropped_samples if capture else 0))
            * 1000.0
            / in_rate,
            frames_sent=self.capture.frames_sent,
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
            processing_errors=(processor.stats.errors if processor else 0) + self.capture.errors,
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
                self.capture.wav = await asyncio.to_thread(load_wav, settings.input_wav, self._rate)
                self._input_name = f"file:{settings.input_wav}"
                if settings.input_wav_start == "immediately":
                    self.capture.start_wav()
            else:
                capture = await asyncio.to_thread(self._make_capture, settings.input_device, loop)
                self._use_capture(capture)
        except AudioDeviceError as error:
            self._reason = f"{error} Continuing text-only."
            return
        # A queue of 0 ms: frames go straight to WebRTC (see :mod:`.capture_pipeline`).
        self.capture.source = rtc.AudioSource(self._rate, 1, queue_size_ms=0, loop=loop)
        if settings.preconnect_buffer:
            self.capture.preconnect = PreConnectBuffer(self._rate, settings.preconnect_max_seconds)

    async def _open_output(self, loop: asyncio.AbstractEventLoop) -> None:
        settings = self.settings
        try:
            if settings.output_wav is not None:
                self.playback.writer = await WavWriter.open(
                    settings.output_wav, channels=1, sample_rate=self._rate
                )
                self._output_name = f"file:{settings.output_wav}"
            else:
                playback = await asyncio.to_thread(self._make_playback, settings.output_device, loop)
                self._use_playback(playback)
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
        self.capture.recorder = self.playback.recorder = self._recorder

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
            on_ready=self.capture.ready.set,
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

    def _use_capture(self, capture: DeviceCapture | None) -> None:
        self.capture.use_device(capture)
        if capture is not None:
            self._input_name = device_lookup.describe(capture.device)

    def _use_playback(self, playback: DevicePlayback | None) -> None:
        """The speaker, for the playback pipeline and as the echo canceller's reference."""
        self.playback.device = playback
        self.capture.set_echo_reference(playback)
        if playback is not None:
            self._output_name = device_lookup.describe(playback.device)

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
        capture, playback = self.capture.device, self.playback.device
        aec = self._aec_wanted and capture is not None and playback is not None
        wanted = capture is not None and (
            aec or settings.noise_suppression or settings.high_pass or settings.auto_gain
        )
        if not wanted:
            self.capture.processor = None
        else:
            processor = AudioProcessor(
                echo_cancellation=aec,
                noise_suppression=settings.noise_suppression,
                high_pass_filter=settings.high_pass,
                auto_gain_control=settings.auto_gain,
            )
            if aec and capture is not None and playback is not None:
                processor.set_delay_ms(estimate_delay_ms(capture.latency, playback.latency))
            self.capture.processor = processor
        if playback is not None:
            if not aec:
                playback.feed_played = False
            else:
                playback.played.discard_all()
                playback.feed_played = True

    # -- failures and status (loop) -------------------------------------------------------------------------
    async def _watchdog(self) -> None:
        seen_in = seen_out = -1
        stalls_in = stalls_out = 0
        while True:
            await asyncio.sleep(WATCHDOG_PERIOD)
            capture, playback = self.capture.device, self.playback.device
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
            if self.capture.device is None and self.playback.device is None:
                return

    def _on_input_finished(self) -> None:
        capture = self.capture.device
        if capture is not None and not self._closed:
            self._spawn(self._lose_input(capture))

    def _on_output_finished(self) -> None:
        playback = self.playback.device
        if playback is not None and not self._closed:
            self._spawn(self._lose_output(playback))

    async def _lose_input(self, capture: DeviceCapture) -> None:
        if self.capture.device is not capture:
            return
        self._use_capture(None)
        self._rebuild_processor()
        self.capture.meter.reset()
        self._reason = (
            f"The microphone {capture.device.name!r} stopped (unplugged, or taken by another program?). "
            "Continuing text-only."
        )
        # Say so as the status flips, not after the (slow) close: whoever sees text-only sees why.
        self.warn(self._reason)
        await self._close_devices(capture, None)

    async def _lose_output(self, playback: DevicePlayback) -> None:
        if self.playback.device is not playback:
            return
        self._use_playback(None)
        self._rebuild_processor()
        self.playback.meter.reset()
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
