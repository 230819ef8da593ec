"""The app's own settings, as one typed model.

The CLI's config file gains a ``[app]`` table parsed into :class:`AppSettings`; keeping the model here (and
free of file or environment access) lets the app be constructed and tested with plain values while the
config module owns where the values come from.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent_tui.paths import downloads_dir


class PttMethodSetting(StrEnum):
    """How push-to-talk is driven; ``auto`` picks the best the terminal supports."""

    AUTO = "auto"
    RELEASE = "release"  # hold: real key-release events (kitty keyboard protocol)
    REPEAT = "repeat"  # hold: release inferred when the key-repeat stream stops
    TOGGLE = "toggle"  # press to open, press again to close


class AppSettings(BaseModel):
    """Everything about the terminal front end that a user may configure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A Textual theme name (``textual-dark``, ``nord``, ``gruvbox``, ...); unknown names fall back.
    theme: str = "textual-dark"
    #: Binding id -> comma-separated keys, e.g. ``{"mute": "f2,ctrl+m"}``; see ``agent_tui.app.keys``.
    keymap: dict[str, str] = Field(default_factory=dict)
    #: The push-to-talk key (same as ``keymap["ptt"]``, which wins when both are given).
    ptt_key: str = "ctrl+space"
    ptt_method: PttMethodSetting = PttMethodSetting.AUTO
    #: With ``repeat``: how long after the last repeat the key counts as released.
    ptt_release_timeout_ms: int = Field(default=250, ge=30, le=5000)
    #: With ``repeat``: the terminal's delay before auto-repeat starts (the first gap is this long).
    ptt_repeat_delay_ms: int = Field(default=700, ge=100, le=5000)
    downloads_dir: Path = Field(default_factory=downloads_dir)
    #: Byte-stream topics whose files are saved to ``downloads_dir`` and announced.
    file_topics: tuple[str, ...] = ("files", "lk.chat")
    #: The transcript pane keeps at most this many entries; older ones scroll away for good.
    max_transcript_lines: int = Field(default=5000, ge=50, le=1_000_000)
    #: Level meters and animations are refreshed at most this often.
    refresh_hz: float = Field(default=15.0, ge=1.0, le=60.0)

    @field_validator("ptt_key")
    @classmethod
    def _ptt_key_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("ptt_key must name a key, e.g. 'ctrl+space' or 'f12'")
        return value.strip()

    def effective_keymap(self) -> dict[str, str]:
        """The keymap with ``ptt_key`` folded in, as Textual's ``App.set_keymap`` expects it."""
        keymap = {"ptt": self.ptt_key}
        keymap.update(self.keymap)
        return keymap
