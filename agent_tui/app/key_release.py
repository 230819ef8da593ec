"""Key release and repeat events from the kitty keyboard protocol, which Textual 8.2 does not deliver.

Textual pushes kitty flags 1|8|16 but never flag 2 ("report event types"), and its parser cannot read
the ``code;modifiers:event`` form such terminals then send: ``int("1:3")`` raises in the input thread and
the app dies. Three pieces make hold-to-talk possible:

* :func:`classify_sequence` — a pure function over one complete escape sequence: is it a press, repeat
  or release (with the press form of the sequence, for Textual to name the key), a flags report, a
  malformed event to drop, or none of ours. Tested on raw bytes.
* :class:`KeyEventParser` — Textual's ``XTermParser`` with that classification in front: presses go on
  as ``events.Key``; repeats and releases become :class:`KeyRepeat` / :class:`KeyRelease` messages;
  the terminal's answer to the flags query becomes :class:`KittyFlagsReported`.
* :class:`KeyReleaseDriver` — the Linux driver, which after Textual's own push ORs in flag 2
  (``CSI = 2 ; 2 u``) and asks the terminal which flags stand (``CSI ? u``). Only a terminal that
  answers with bit 2 set will ever send releases; the app uses that answer to pick the push-to-talk
  method. Textual's ``CSI < u`` at exit pops the whole entry, so the terminal is restored unchanged.

This relies on private Textual modules (``_xterm_parser``, the driver's input thread looking up the
parser class by module-level name), which is why Textual is pinned to 8.2.x.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from textual import constants, events
from textual._xterm_parser import XTermParser
from textual.drivers import linux_driver
from textual.drivers.linux_driver import LinuxDriver
from textual.keys import Keys
from textual.message import Message

#: kitty flag 2, "report event types".
KITTY_REPORT_EVENT_TYPES = 0b10

# CSI code[:alternates] ; modifiers:event [; text] terminator — the event field is what we add.
_RE_EVENT = re.compile(r"\x1b\[([\d:]*);(\d*):([^;u~A-Z]*)((?:;[\d:]*)?)([u~ABCDEFHPQRS])")
_RE_FLAGS_REPORT = re.compile(r"\x1b\[\?(\d+)u")


class KeyEventType(IntEnum):
    PRESS = 1
    REPEAT = 2
    RELEASE = 3


@dataclass(frozen=True)
class KeyEventSequence:
    """A kitty key event: ``press_sequence`` is the same key without the event field."""

    event_type: KeyEventType
    press_sequence: str


@dataclass(frozen=True)
class FlagsReport:
    """The terminal's answer to ``CSI ? u``: the kitty flags now in force."""

    flags: int

    @property
    def reports_event_types(self) -> bool:
        return bool(self.flags & KITTY_REPORT_EVENT_TYPES)


@dataclass(frozen=True)
class MalformedEvent:
    """Looked like a kitty key event but cannot be one (unknown event type, junk in the field)."""

    sequence: str


SequenceKind = KeyEventSequence | FlagsReport | MalformedEvent


def classify_sequence(sequence: str) -> SequenceKind | None:
    """Classify one complete escape sequence; None means "not ours, let Textual parse it"."""
    if (report := _RE_FLAGS_REPORT.fullmatch(sequence)) is not None:
        return FlagsReport(int(report.group(1)))
    match = _RE_EVENT.fullmatch(sequence)
    if match is None:
        return None
    code, modifiers, event, text, end = match.groups()
    if not event.isdecimal():
        return MalformedEvent(sequence)
    try:
        event_type = KeyEventType(int(event))
    except ValueError:
        return MalformedEvent(sequence)
    # Textual's parser wants "code;modifiers[;text]"; modifiers 1 means "none", so keep it as sent.
    press = f"\x1b[{code};{modifiers or '1'}{text}{end}"
    return KeyEventSequence(event_type=event_type, press_sequence=press)


class KeyRepeat(Message):
    """A held key auto-repeated (kitty event type 2)."""

    def __init__(self, key: str, character: str | None) -> None:
        super().__init__()
        self.key = key
        self.character = character


class KeyRelease(Message):
    """A key was released (kitty event type 3)."""

    def __init__(self, key: str, character: str | None) -> None:
        super().__init__()
        self.key = key
        self.character = character


class KittyFlagsReported(Message):
    """The terminal said which kitty flags are active; releases come only if bit 2 is set."""

    def __init__(self, flags: int) -> None:
        super().__init__()
        self.flags = flags
        # The stock parser reads ``.key`` of everything its key path yields.
        self.key = ""

    @property
    def reports_event_types(self) -> bool:
        return bool(self.flags & KITTY_REPORT_EVENT_TYPES)


def key_events_for(kind: SequenceKind, press_events: Iterable[events.Key]) -> list[Any]:
    """The messages for one classified sequence, given Textual's key events for its press form."""
    if isinstance(kind, FlagsReport):
        return [KittyFlagsReported(kind.flags)]
    if isinstance(kind, MalformedEvent):
        return [events.Key(Keys.Ignore, kind.sequence)]
    result: list[Any] = []
    for key in press_events:
        if key.key == Keys.Ignore or kind.event_type is KeyEventType.PRESS:
            result.append(key)
        elif kind.event_type is KeyEventType.REPEAT:
            result.append(KeyRepeat(key.key, key.character))
        else:
            result.append(KeyRelease(key.key, key.character))
    return result


class KeyEventParser(XTermParser):
    """Textual's terminal parser plus kitty repeat/release events and the flags report."""

    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[Any]:  # type: ignore[override]
        kind = classify_sequence(sequence) if not constants.DISABLE_KITTY_KEY else None
        if kind is None:
            yield from super()._sequence_to_key_events(sequence, alt)
            return
        press: Iterable[events.Key] = ()
        if isinstance(kind, KeyEventSequence):
            press = super()._sequence_to_key_events(kind.press_sequence, alt)
        yield from key_events_for(kind, press)


def parse_bytes(data: bytes) -> list[Any]:
    """Everything a fresh :class:`KeyEventParser` makes of ``data`` (for tests and diagnostics)."""
    parser = KeyEventParser()
    messages = list(parser.feed(data.decode("utf-8")))
    messages.extend(parser.feed(""))
    return messages


_STOCK_PARSER = linux_driver.XTermParser


class KeyReleaseDriver(LinuxDriver):
    """Textual's Linux driver, asking the terminal for key release/repeat events."""

    def start_application_mode(self) -> None:
        # The input thread builds its parser from this module-level name when it starts.
        linux_driver.XTermParser = KeyEventParser  # type: ignore[misc]
        super().start_application_mode()
        if constants.DISABLE_KITTY_KEY or not self.input_tty or self._writer_thread is None:
            return
        self.write(f"\x1b[={KITTY_REPORT_EVENT_TYPES};2u")  # mode 2: set these bits, keep the others
        self.write("\x1b[?u")  # query: the answer tells whether the terminal honours it
        self.flush()

    def stop_application_mode(self) -> None:
        super().stop_application_mode()
        # The input thread has been joined by now; restore Textual's parser for anyone else.
        linux_driver.XTermParser = _STOCK_PARSER  # type: ignore[misc]
