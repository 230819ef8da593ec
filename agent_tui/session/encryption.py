"""End-to-end encryption options of a Session (JS ``E2EEOptions``, Swift/Android/Flutter ``encryption``).

With a shared key, every participant encrypts its media before it leaves the device and decrypts what it
receives; the server forwards frames it cannot read. Both sides must hold the same key (and the same
ratchet salt and key derivation), or each hears nothing of the other: the SDK then reports the
participant's encryption state as ``decryption_failed`` (see :mod:`.encryption_state`).

The key is a secret: it never appears in ``repr``, and this module does not import the rtc SDK, so the
command line can check the options before anything heavy loads. :meth:`EncryptionOptions.to_rtc` is
the one translation into ``livekit.rtc``'s ``E2EEOptions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livekit import rtc

# The rtc SDK's defaults (livekit.rtc.e2ee, 1.1.21), repeated here so that options can be made and
# checked without loading the SDK; a unit test keeps them equal.
DEFAULT_RATCHET_SALT = b"LKFrameEncryptionKey"
DEFAULT_KEY_RING_SIZE = 16
#: Not the SDK's 16 (Swift's default, 0: no ratcheting on failure). With 16, a receiver ratchets the one
#: shared key forward on every frame it cannot decrypt, and a participant with a wrong key went
#: unreported for 20 s in 2 of 3 runs on livekit-server; with 0 it was reported within a second in every
#: run. Ratcheting on failure only helps when a sender ratchets its key, which a Session never does.
DEFAULT_RATCHET_WINDOW_SIZE = 0
#: Not the Python SDK's -1 (never give up): with -1 a wrong key never leaves the frame cryptor's first
#: state, so nobody is told the media cannot be decrypted (measured on livekit-server: 10 s of silence
#: and no state change). 10 is LiveKit JS's ``DECRYPTION_FAILURE_TOLERANCE``, with which the SDK reports
#: ``decryption_failed`` within a second.
DEFAULT_FAILURE_TOLERANCE = 10
#: The key ring is indexed by one byte in every encrypted frame's trailer.
MAX_KEY_RING_SIZE = 256


class KeyDerivation(Enum):
    """How the shared key becomes the frame key: PBKDF2 (the SDK's and LiveKit JS's default for a
    passphrase) or HKDF. Both sides must use the same one."""

    PBKDF2 = "pbkdf2"
    HKDF = "hkdf"


class EncryptionOptionsError(ValueError):
    """An encryption option is out of range (an empty key, a key ring of 0, ...); says which."""


@dataclass(frozen=True)
class EncryptionOptions:
    """A shared key and the key provider's options the rtc SDK offers (``KeyProviderOptions``).

    ``ratchet_window_size``: how many times a receiver may ratchet a key forward looking for one that
    decrypts; ``failure_tolerance``: decryption failures before a key counts as invalid (-1: never);
    ``key_ring_size``: how many keys (indices) each participant keeps.
    """

    shared_key: bytes = field(repr=False)
    ratchet_salt: bytes = field(default=DEFAULT_RATCHET_SALT, repr=False)
    ratchet_window_size: int = DEFAULT_RATCHET_WINDOW_SIZE
    failure_tolerance: int = DEFAULT_FAILURE_TOLERANCE
    key_ring_size: int = DEFAULT_KEY_RING_SIZE
    key_derivation: KeyDerivation = KeyDerivation.PBKDF2

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem is not None:
            raise EncryptionOptionsError(problem)

    def to_rtc(self) -> rtc.E2EEOptions:
        """The SDK's options (``rtc.RoomOptions(encryption=...)``), GCM as every LiveKit SDK uses."""
        from livekit import rtc

        derivation = (
            rtc.KeyDerivationFunction.HKDF
            if self.key_derivation is KeyDerivation.HKDF
            else rtc.KeyDerivationFunction.PBKDF2
        )
        return rtc.E2EEOptions(
            key_provider_options=rtc.KeyProviderOptions(
                shared_key=self.shared_key,
                ratchet_salt=self.ratchet_salt,
                ratchet_window_size=self.ratchet_window_size,
                failure_tolerance=self.failure_tolerance,
                key_ring_size=self.key_ring_size,
                key_derivation_function=derivation,
            ),
            encryption_type=rtc.EncryptionType.GCM,
        )


def _problem(options: EncryptionOptions) -> str | None:
    """What is wrong with ``options`` in one line (never showing the key), or None."""
    if not isinstance(options.shared_key, bytes) or not options.shared_key:
        return "the shared encryption key is empty — give the key both sides share"
    if not options.ratchet_salt:
        return "the ratchet salt is empty — leave it unset for the SDK's default"
    if options.ratchet_window_size < 0:
        return f"the ratchet window size must be 0 or more, not {options.ratchet_window_size}"
    if options.failure_tolerance < -1:
        return f"the failure tolerance must be -1 (never give up) or more, not {options.failure_tolerance}"
    if not 1 <= options.key_ring_size <= MAX_KEY_RING_SIZE:
        return f"the key ring size must be 1 to {MAX_KEY_RING_SIZE}, not {options.key_ring_size}"
    return None
