"""Every audio setting in one typed model, so config files, flags and tests describe audio the same way.

``agent_tui.config`` nests this model (flags override config keys, which override these defaults); the
engine only ever reads an :class:`AudioSettings`. The push-to-talk key-release timeout belongs to the UI,
not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .controls import MicMode

DeviceSpec = int | str | None


class AudioSettings(BaseModel):
    """Audio configuration; the defaults suit a laptop with speakers (echo cancellation on)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="False runs text-only: no microphone, no speaker.")
    input_device: DeviceSpec = Field(
        default=None, description="Input device index or part of its name; None: default."
    )
    output_device: DeviceSpec = Field(
        default=None, description="Output device index or part of its name; None: default."
    )
    sample_rate: int = Field(
        default=48000, description="Rate of the published microphone track and of playback (Hz)."
    )
    block_ms: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Device block size; 10 ms is PortAudio's low-latency sweet spot.",
    )
    playback_buffer_ms: int = Field(
        default=40,
        ge=10,
        le=500,
        description="Audio queued before playback starts; absorbs event-loop jitter.",
    )
    aec: bool = Field(default=True, description="Acoustic echo cancellation; unnecessary with headphones.")
    noise_suppression: bool = True
    high_pass: bool = True
    auto_gain: bool = True
    mode: MicMode = MicMode.OPEN
    preconnect_buffer: bool = Field(
        default=True, description="Record while connecting and hand it to the agent."
    )
    preconnect_max_seconds: float = Field(default=10.0, gt=0, le=60)
    input_wav: Path | None = Field(
        default=None, description="Stream this WAV into the microphone track instead of a device."
    )
    input_wav_start: Literal["listener", "immediately"] = Field(
        default="listener",
        description=(
            "'listener': the WAV starts when someone (the agent) subscribes to the microphone, so no word is "
            "lost with any agent; 'immediately': at start(), so the pre-connect buffer carries its beginning."
        ),
    )
    output_wav: Path | None = Field(
        default=None, description="Write the agent's audio to this WAV instead of a device."
    )
    record_dir: Path | None = Field(
        default=None, description="Write the conversation (stereo: user left, agent right)."
    )

    @field_validator("sample_rate")
    @classmethod
    def _supported_rate(cls, value: int) -> int:
        # The echo canceller and LiveKit's Opus path both work on these native rates.
        if value not in (8000, 16000, 24000, 32000, 48000):
            raise ValueError("sample_rate must be one of 8000, 16000, 24000, 32000, 48000")
        return value

    @field_validator("input_device", "output_device", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def processing_enabled(self) -> bool:
        """Whether any ``AudioProcessingModule`` stage is on."""
        return self.aec or self.noise_suppression or self.high_pass or self.auto_gain

    @property
    def frame_samples(self) -> int:
        """Samples in one 10 ms frame at :attr:`sample_rate` (the unit of the APM and the source)."""
        return self.sample_rate // 100
