"""Every video setting in one typed model, so config files, flags and tests describe video the same way.

``agent_tui.config`` nests this model as ``[video]`` (flags override config keys, which override these
defaults). Publishing is off unless a source is named: a camera or a screen is never switched on behind
the user's back.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .graphics_support import GRAPHICS_SETTINGS

#: When no size is given, a source keeps its own size but is scaled down to fit this box: more pixels
#: cost encoder CPU and uplink and a vision model samples far fewer anyway.
DEFAULT_MAX_SIZE = (1280, 720)


class VideoSettings(BaseModel):
    """Video configuration; everything published is off by default, showing the agent's video is on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: bool = Field(default=False, description="Publish the camera when the session starts.")
    camera_device: str | None = Field(
        default=None,
        description="Camera: a V4L2 device on Linux (/dev/video0), the platform's name or index elsewhere.",
    )
    screen: bool = Field(default=False, description="Share a screen when the session starts.")
    monitor: int = Field(
        default=1, ge=0, description="Monitor to share: 1 is the first, 0 all of them (mss numbering)."
    )
    video_file: Path | None = Field(
        default=None, description="Publish this file as the camera track (looped, in real time)."
    )
    width: int | None = Field(
        default=None, ge=16, le=7680, description="Published width; None: the source's."
    )
    height: int | None = Field(
        default=None, ge=16, le=4320, description="Published height; None: the source's."
    )
    fps: float = Field(default=15.0, gt=0, le=60, description="Published frames per second at most.")
    max_bitrate: int | None = Field(
        default=None,
        ge=50_000,
        description="Encoder bitrate cap in bit/s; None: about 0.1 bit per pixel per frame.",
    )
    simulcast: bool = Field(
        default=False, description="Extra low-resolution layers; useless with one subscriber (the agent)."
    )
    show_agent_video: bool = Field(
        default=True, description="Show the agent's (or its avatar's) video in a panel."
    )
    panel_fps: float = Field(
        default=10.0, ge=1, le=30, description="The video panel redraws at most this often."
    )
    graphics: str = Field(
        default="auto",
        description="How the panel draws: auto, kitty, sixel or halfblock (works everywhere).",
    )

    @field_validator("camera_device", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("video_file")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("graphics", mode="before")
    @classmethod
    def _known_graphics(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in GRAPHICS_SETTINGS:
                raise ValueError(f"must be one of {', '.join(GRAPHICS_SETTINGS)}")
        return value

    @model_validator(mode="after")
    def _size_is_whole(self) -> VideoSettings:
        if (self.width is None) != (self.height is None):
            raise ValueError("give both width and height (video_size = WxH), or neither")
        return self

    @property
    def size(self) -> tuple[int, int] | None:
        """The requested ``(width, height)``, or None for the source's own size."""
        if self.width is None or self.height is None:
            return None
        return self.width, self.height
