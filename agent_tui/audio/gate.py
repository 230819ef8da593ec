"""The microphone gate: whether what the microphone hears is sent, given the mode, mute and the talk key.

Pure state, no I/O, so the rules are testable alone. The engine applies the gate per 10 ms frame by
sending silence while it is closed. Closing by silence instead of unpublishing or muting the track keeps
push-to-talk free of renegotiation (the gate flips within one frame). Mute is different on purpose: it also
mutes the published track, so the agent (and any other participant) sees that the user muted.
"""

from __future__ import annotations

from .controls import MicMode


class MicGate:
    """Open mic, muted, or push-to-talk (open only while talking)."""

    __slots__ = ("_mode", "_muted", "_talking")

    def __init__(self, mode: MicMode = MicMode.OPEN, *, muted: bool = False) -> None:
        self._mode = mode
        self._muted = muted
        self._talking = False

    @property
    def mode(self) -> MicMode:
        return self._mode

    @property
    def muted(self) -> bool:
        return self._muted

    @property
    def talking(self) -> bool:
        """The talk key is held (or toggled on); only meaningful in push-to-talk."""
        return self._talking

    @property
    def is_open(self) -> bool:
        if self._muted:
            return False
        if self._mode is MicMode.PUSH_TO_TALK:
            return self._talking
        return True

    def set_mode(self, mode: MicMode) -> None:
        """Switching mode ends any turn in progress: a mode change never leaves the mic open by surprise."""
        self._mode = mode
        self._talking = False

    def set_muted(self, muted: bool) -> None:
        self._muted = muted

    def talk_start(self) -> bool:
        """Returns whether this started a turn (False outside push-to-talk or when already talking)."""
        if self._mode is not MicMode.PUSH_TO_TALK or self._talking:
            return False
        self._talking = True
        return True

    def talk_end(self) -> bool:
        """Returns whether a turn was in progress."""
        if not self._talking:
            return False
        self._talking = False
        return True
