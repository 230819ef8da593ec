"""From the ``[e2ee]`` settings to the Session's :class:`~agent_tui.session.EncryptionOptions`.

The one place the shared key is read: from the key file (its bytes, surrounding whitespace such as a
final newline dropped) or the ``key`` setting (UTF-8). Anything wrong — both set, an unreadable or
empty file, an option out of range — is one :class:`~agent_tui.config.ConfigError` line (exit 2) that
names the file or the setting, never the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_tui.config import ConfigError, Settings
from agent_tui.session import EncryptionOptions, EncryptionOptionsError, KeyDerivation

#: More than any key needs; a larger "key file" is a wrong path (or /dev/zero).
KEY_FILE_LIMIT = 64 * 1024


def encryption_options(settings: Settings) -> EncryptionOptions | None:
    """The encryption options ``settings`` ask for, or None when no key is set."""
    e2ee = settings.e2ee
    if e2ee.key is not None and e2ee.key_file is not None:
        raise ConfigError(
            "Both e2ee.key and e2ee.key_file are set — keep one (--e2ee-key-file on the command line wins "
            "over the others)."
        )
    if e2ee.key_file is not None:
        key = read_key_file(e2ee.key_file)
    elif e2ee.key is not None:
        key = e2ee.key.get_secret_value().encode("utf-8")
        if not key.strip():
            raise ConfigError("The e2ee.key setting is empty — set the key both sides share, or unset it.")
    else:
        return None
    # Only what is set: the rest are the Session's defaults.
    given: dict[str, Any] = {
        "ratchet_window_size": e2ee.ratchet_window_size,
        "failure_tolerance": e2ee.failure_tolerance,
        "key_ring_size": e2ee.key_ring_size,
    }
    if e2ee.ratchet_salt is not None:
        given["ratchet_salt"] = e2ee.ratchet_salt.encode("utf-8")
    if e2ee.key_derivation is not None:
        given["key_derivation"] = KeyDerivation(e2ee.key_derivation)
    try:
        return EncryptionOptions(
            shared_key=key, **{name: value for name, value in given.items() if value is not None}
        )
    except EncryptionOptionsError as error:
        raise ConfigError(f"Invalid end-to-end encryption settings: {error}.") from None


def read_key_file(path: Path) -> bytes:
    """The key in ``path``, stripped of surrounding whitespace; a :class:`ConfigError` line otherwise."""
    try:
        with path.open("rb") as handle:
            held = handle.read(KEY_FILE_LIMIT + 1)
    except IsADirectoryError:
        raise ConfigError(f"The key file {path} is a directory — pass the file that holds the key.") from None
    except FileNotFoundError:
        raise ConfigError(f"The key file {path} does not exist — check the path.") from None
    except PermissionError:
        raise ConfigError(
            f"The key file {path} cannot be read (permission denied) — check its owner and mode."
        ) from None
    except OSError as error:
        raise ConfigError(f"The key file {path} cannot be read ({error.strerror or error}).") from None
    if len(held) > KEY_FILE_LIMIT:
        raise ConfigError(
            f"The key file {path} holds more than {KEY_FILE_LIMIT // 1024} KiB — it should hold the key only."
        )
    key = held.strip()
    if not key:
        raise ConfigError(f"The key file {path} is empty — it should hold the key both sides share.")
    return key
