"""What front ends may ask of the audio engine, as a Protocol.

The Textual app and the headless runner drive the microphone gate, read levels and pick devices only
through this surface, so a front end works the same with the real engine, with WAV files in place of
devices, or with no audio at all (text-only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class MicMode(StrEnum):
    """How the microphone gate is driven."""

    OPEN = "open"  # always sending unless muted
    PUSH_TO_TALK = "push-to-talk"  # sending only while the talk key is held / toggled on


@dataclass(frozen=True)
class Level:
    """A level reading in dBFS (``-inf`` for digital silence)."""

    rms_db: float
    peak_db: float


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool
    is_default_output: bool


@dataclass(frozen=True)
class AudioStatus:
    """What the audio side is doing, for status lines and the JSONL ``audio`` record.

    ``text_only`` with a ``reason`` when no audio runs (no device, PortAudio missing, disabled).
    """

    text_only: bool
    reason: str | None
    input_name: str | None
    output_name: str | None
    mode: MicMode
    muted: bool
    talking: bool
    aec: bool
    #: Audio runs but something is degraded (e.g. no speaker: replies are text only); one line.
    warning: str | None = None
    #: Whether the agent answers the push-to-talk turn RPCs (None: not known yet).
    turn_rpcs: bool | None = None


@dataclass(frozen=True)
class AudioStats:
    """Counters for the status line, the JSONL ``audio`` record and the benchmark.

    Latencies are callback → ``capture_frame`` returned, over the most recent frames (None before any).
    """

    capture_blocks: int = 0
    capture_overflows: int = 0
    capture_dropped_ms: float = 0.0
    frames_sent: int = 0
    capture_latency_p50_ms: float | None = None
    capture_latency_p99_ms: float | None = None
    playback_blocks: int = 0
    playback_underruns: int = 0
    playback_device_underflows: int = 0
    playback_depth_ms: float = 0.0
    playback_dropped_ms: float = 0.0
    playback_flushed_ms: float = 0.0
    processing_errors: int = 0
    aec_delay_ms: int | None = None
    preconnect_sent_s: float | None = None


class AudioControls(Protocol):
    """The audio engine as front ends see it."""

    @property
    def status(self) -> AudioStatus: ...

    def input_level(self) -> Level:
        """The microphone level over the last block(s); cheap, safe to poll at the UI's frame rate."""
        ...

    def output_level(self) -> Level:
        """The agent's voice level as played."""
        ...

    def output_bands(self, count: int) -> list[float]:
        """The agent's newest voice (about 20 ms, as received) in ``count`` log-spaced bands from 100 Hz
        to 8 kHz, dBFS each (:mod:`agent_tui.audio.spectrum`); computed on the call, poll at UI rate."""
        ...

    def set_muted(self, muted: bool) -> None: ...

    def set_mode(self, mode: MicMode) -> None: ...

    async def talk_start(self) -> None:
        """Push-to-talk pressed: open the gate (and call ``start_turn`` when the agent supports it)."""
        ...

    async def talk_end(self) -> None:
        """Push-to-talk released: close the gate (and call ``end_turn``)."""
        ...

    async def talk_cancel(self) -> None:
        """Push-to-talk aborted: close the gate (and call ``cancel_turn``)."""
        ...

    def set_aec(self, enabled: bool) -> None: ...

    def list_devices(self) -> list[DeviceInfo]: ...

    async def select_devices(
        self, *, input_device: str | int | None, output_device: str | int | None
    ) -> None:
        """Switch devices live (by index or part of a name); raises AudioDeviceError with one clear line."""
        ...

    def stats(self) -> AudioStats:
        """Overruns, drops, underruns, buffer depth and capture latency so far."""
        ...

    def subscribe_status(self, callback: Callable[[AudioStatus], object]) -> Callable[[], None]:
        """Call ``callback`` on the event loop whenever :attr:`status` changes; returns the unsubscriber."""
        ...
