"""Per-participant end-to-end encryption state, and the one-line problem a failure means.

The rtc SDK reports each participant's frame-cryptor state (``e2ee_state_changed``: new, ok, encryption
failed, decryption failed, missing key, key ratcheted, internal error). A Session keeps the latest per
identity (:attr:`Session.encryption_states`) and publishes every change; when a participant's media
cannot be decrypted it also publishes an ``EncryptionError`` (JS ``RoomEvent.EncryptionError``) with
words a user can act on. With one shared key the failure is symmetric: if we cannot decrypt the agent,
the agent cannot decrypt us either, so the message says so. The rules live here, apart from the SDK, so
they are tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class EncryptionState(Enum):
    """A participant's encryption state, named as the SDK's ``EncryptionState`` (lower case)."""

    NEW = "new"
    OK = "ok"
    ENCRYPTION_FAILED = "encryption_failed"
    DECRYPTION_FAILED = "decryption_failed"
    MISSING_KEY = "missing_key"
    KEY_RATCHETED = "key_ratcheted"
    INTERNAL_ERROR = "internal_error"

    @property
    def is_failure(self) -> bool:
        """Whether media is lost in this state (the others carry media)."""
        return self in _FAILURES

    @classmethod
    def from_rtc(cls, value: int) -> EncryptionState:
        """The state for the SDK's ``rtc.EncryptionState`` number (an unknown one is an internal error)."""
        return _BY_RTC_VALUE.get(value, cls.INTERNAL_ERROR)


_FAILURES = frozenset(
    {
        EncryptionState.ENCRYPTION_FAILED,
        EncryptionState.DECRYPTION_FAILED,
        EncryptionState.MISSING_KEY,
        EncryptionState.INTERNAL_ERROR,
    }
)
#: livekit.rtc's ``EncryptionState`` enum (e2ee.proto), by number: NEW 0 … INTERNAL_ERROR 6.
_BY_RTC_VALUE: dict[int, EncryptionState] = dict(enumerate(EncryptionState))


@dataclass(frozen=True)
class EncryptionChange:
    """One participant's state changed; ``problem`` is set when it just entered a failure."""

    identity: str
    state: EncryptionState
    previous: EncryptionState | None
    problem: str | None


def describe_failure(identity: str, state: EncryptionState, *, local: bool) -> str:
    """What a failure ``state`` of ``identity`` means, in one line saying what to do."""
    if state is EncryptionState.ENCRYPTION_FAILED:
        whose = "Our media" if local else f"{identity}'s media"
        return f"{whose} could not be encrypted — end-to-end encryption is failing on that side."
    if state is EncryptionState.DECRYPTION_FAILED:
        return (
            f"Cannot decrypt {identity}'s media: it is encrypted with another key (or not at all), and "
            "it cannot decrypt ours — both sides need the same shared key, ratchet salt and key derivation."
        )
    if state is EncryptionState.MISSING_KEY:
        return (
            f"Cannot decrypt {identity}'s media: there is no key for it — set the shared encryption key "
            "on both sides."
        )
    return f"End-to-end encryption failed inside the SDK for {identity}'s media ({state.value})."


class EncryptionTracker:
    """The latest encryption state per participant identity, and which changes are problems."""

    def __init__(self, local_identity: str = "") -> None:
        #: Our own identity (known once connected), so our own failure is worded as ours.
        self.local_identity = local_identity
        self._states: dict[str, EncryptionState] = {}

    @property
    def states(self) -> dict[str, EncryptionState]:
        return dict(self._states)

    def update(self, identity: str, state: EncryptionState) -> EncryptionChange | None:
        """Record ``state``; the change, or None when it is the state already known. A problem is
        reported on entering a failure, not again while it lasts (a new kind of failure is new)."""
        previous = self._states.get(identity)
        if previous is state:
            return None
        self._states[identity] = state
        problem = (
            describe_failure(identity, state, local=identity == self.local_identity)
            if state.is_failure
            else None
        )
        return EncryptionChange(identity=identity, state=state, previous=previous, problem=problem)

    def forget(self, identity: str) -> None:
        """The participant left: its state goes with it."""
        self._states.pop(identity, None)


def unreadable_publication(identity: str) -> str:
    """The problem when ``identity`` publishes encrypted media and this session has no key."""
    return (
        f"{identity} publishes end-to-end encrypted media and this session has no key, so it cannot be "
        "heard — give this session the same shared encryption key."
    )
