"""Push-to-talk as a pure state machine, fed key events and a clock.

Terminals differ in what they report about a held key, so one machine serves three methods:

* ``TOGGLE`` — press opens the gate, the next press closes it. Works everywhere. A held key in a legacy
  terminal auto-repeats as more presses; presses closer together than ``release_timeout`` are treated as
  that repeat stream and ignored, so holding the key does not flicker the gate.
* ``RELEASE`` — hold to talk with real release events (kitty keyboard protocol, event types). Repeats are
  ignored; the release closes the gate.
* ``REPEAT`` — hold to talk where only presses arrive: the key's auto-repeat stream keeps the gate open,
  and when no press or repeat has arrived for a while the key counts as released. The first gap is the
  terminal's repeat delay (``repeat_delay``), later gaps the repeat interval (``release_timeout``).

The machine never reads a clock or starts a timer; the app passes ``now`` and calls :meth:`tick` at its
own pace (or at :attr:`deadline`). That keeps every rule testable with an injected clock.
"""

from __future__ import annotations

from enum import StrEnum

from .settings import PttMethodSetting


class PttMethod(StrEnum):
    TOGGLE = "toggle"
    RELEASE = "release"
    REPEAT = "repeat"

    @property
    def label(self) -> str:
        """How the method is shown in the mic panel and help screen."""
        return _LABELS[self]


_LABELS = {
    PttMethod.TOGGLE: "toggle",
    PttMethod.RELEASE: "hold (release)",
    PttMethod.REPEAT: "hold (repeat)",
}


class PttAction(StrEnum):
    """What the app must do with the audio engine after an input."""

    START = "start"  # talk_start: open the gate, start a turn
    END = "end"  # talk_end: close the gate, commit the turn
    CANCEL = "cancel"  # talk_cancel: close the gate, drop the turn


def resolve_method(setting: PttMethodSetting, *, release_supported: bool) -> PttMethod:
    """The method to use: ``auto`` takes real releases when the terminal has them, else repeat
    inference; an explicit ``release`` on a terminal without it degrades to repeat inference, because a
    gate that never closes is worse than one that closes a little late."""
    if setting is PttMethodSetting.TOGGLE:
        return PttMethod.TOGGLE
    if setting is PttMethodSetting.REPEAT:
        return PttMethod.REPEAT
    return PttMethod.RELEASE if release_supported else PttMethod.REPEAT


class PushToTalk:
    """The state of the talk key; every input returns the action to take, or None."""

    def __init__(
        self, method: PttMethod, *, release_timeout: float = 0.25, repeat_delay: float = 0.7
    ) -> None:
        if release_timeout <= 0 or repeat_delay <= 0:
            raise ValueError("push-to-talk timeouts must be positive")
        self._method = method
        self._release_timeout = release_timeout
        self._repeat_delay = repeat_delay
        self._talking = False
        self._last_input: float | None = None  # time of the last press/repeat of the held key
        self._repeats_seen = False

    @property
    def method(self) -> PttMethod:
        return self._method

    @property
    def talking(self) -> bool:
        return self._talking

    @property
    def deadline(self) -> float | None:
        """When :meth:`tick` will infer a release (``REPEAT`` while talking), else None."""
        if self._method is not PttMethod.REPEAT or not self._talking or self._last_input is None:
            return None
        gap = self._release_timeout if self._repeats_seen else max(self._repeat_delay, self._release_timeout)
        return self._last_input + gap

    def set_method(self, method: PttMethod) -> PttAction | None:
        """Switch methods; a gate that is open is closed (ended) so it cannot stay open by accident."""
        action = self._close(PttAction.END)
        self._method = method
        return action

    def press(self, now: float) -> PttAction | None:
        if self._method is PttMethod.TOGGLE:
            last = self._last_input
            action: PttAction | None = None
            if last is None or now - last >= self._release_timeout:
                if self._talking:
                    action = self._close(PttAction.END)
                else:
                    self._talking = True
                    action = PttAction.START
            # else: the auto-repeat stream of a held key, not a new press
            self._last_input = now
            return action
        if self._talking:
            # RELEASE: a press while talking means the release got lost; keep talking.
            # REPEAT: this is the auto-repeat stream of the held key.
            return self.repeat(now)
        self._talking = True
        self._last_input = now
        self._repeats_seen = False
        return PttAction.START

    def repeat(self, now: float) -> PttAction | None:
        """An explicit repeat event (kitty protocol) or an auto-repeated press."""
        if self._method is PttMethod.TOGGLE:
            self._last_input = now
            return None
        if self._talking:
            if self._method is PttMethod.REPEAT:
                expired = self.tick(now)
                if expired is not None:
                    return expired
                self._repeats_seen = True
            self._last_input = now
        return None

    def release(self, now: float) -> PttAction | None:
        """A real release event; only ``RELEASE`` acts on it (the other methods never get one, but a
        terminal may still send it, and ``REPEAT`` gladly takes it as the end of the hold)."""
        if self._method is PttMethod.TOGGLE or not self._talking:
            return None
        return self._close(PttAction.END)

    def tick(self, now: float) -> PttAction | None:
        """Infer the release in ``REPEAT`` once the deadline has passed."""
        deadline = self.deadline
        if deadline is not None and now >= deadline:
            return self._close(PttAction.END)
        return None

    def cancel(self) -> PttAction | None:
        """Abort the turn (Escape): close the gate and drop what was said."""
        return self._close(PttAction.CANCEL)

    def focus_lost(self) -> PttAction | None:
        """The terminal lost focus: a held key's release will not reach us, so end a hold now.
        A toggled-on gate stays open — the user opened it on purpose and will close it."""
        if self._method is PttMethod.TOGGLE:
            return None
        return self._close(PttAction.END)

    def _close(self, action: PttAction) -> PttAction | None:
        if not self._talking:
            return None
        self._talking = False
        self._last_input = None
        self._repeats_seen = False
        return action
