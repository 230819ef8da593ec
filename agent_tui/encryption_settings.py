"""The end-to-end encryption settings (``[e2ee]``): where the shared key comes from, and the key
provider's options.

The key itself is a secret, so it is read from a file (``--e2ee-key-file PATH``, or ``key_file``), the
environment (``AGENT_TUI_E2EE__KEY``) or the config file (``key``), never from a command-line value,
which every user of the machine can read in ``ps``. :mod:`agent_tui.wiring.encryption` turns these
settings into the Session's :class:`~agent_tui.session.EncryptionOptions`. An option left unset (None)
is the Session's own default, and the Session checks the ranges: one rule, in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class EncryptionSettings(BaseModel):
    """End-to-end encryption: off unless a key or a key file is set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: SecretStr | None = Field(
        default=None, description="The shared key (UTF-8 text); environment or config file only."
    )
    key_file: Path | None = Field(
        default=None, description="A file holding the shared key (its bytes, surrounding whitespace dropped)."
    )
    ratchet_salt: str | None = Field(default=None, description="None: the SDK's LKFrameEncryptionKey.")
    ratchet_window_size: int | None = Field(default=None, description="None: 0 (no ratcheting on failure).")
    failure_tolerance: int | None = Field(default=None, description="None: 10 (LiveKit JS's).")
    key_ring_size: int | None = Field(default=None, description="None: 16 (1 to 256).")
    key_derivation: Literal["pbkdf2", "hkdf"] | None = Field(default=None, description="None: pbkdf2.")

    @field_validator("key_file", "ratchet_salt", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("key_file")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def enabled(self) -> bool:
        return self.key is not None or self.key_file is not None
