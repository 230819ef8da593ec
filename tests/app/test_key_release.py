"""The kitty release/repeat parser, fed raw bytes exactly as a terminal sends them."""

from __future__ import annotations

import pytest
from textual import events

from agent_tui.app.key_release import (
    FlagsReport,
    KeyEventSequence,
    KeyEventType,
    KeyRelease,
    KeyRepeat,
    KittyFlagsReported,
    MalformedEvent,
    classify_sequence,
    parse_bytes,
)

pytestmark = pytest.mark.timeout(10)


def summary(data: bytes) -> list[tuple[str, str]]:
    kinds = {events.Key: "PRESS", KeyRepeat: "REPEAT", KeyRelease: "RELEASE", KittyFlagsReported: "FLAGS"}
    return [(kinds[type(m)], getattr(m, "key", "")) for m in parse_bytes(data)]


def test_the_reference_sequence() -> None:
    data = (
        b"\x1b[32u"  # space
        b"\x1b[32;1:2u"  # space repeat
        b"\x1b[32;1:3u"  # space release
        b"\x1b[97;5u"  # ctrl+a
        b"\x1b[97;5:3u"  # ctrl+a release
        b"\x1b[57441;2u"  # left shift
        b"\x1b[57441;1:3u"  # left shift release
        b"q"
    )
    assert summary(data) == [
        ("PRESS", "space"),
        ("REPEAT", "space"),
        ("RELEASE", "space"),
        ("PRESS", "ctrl+a"),
        ("RELEASE", "ctrl+a"),
        ("PRESS", "left_shift"),
        ("RELEASE", "left_shift"),
        ("PRESS", "q"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x1b[32;5u", [("PRESS", "ctrl+space")]),
        (b"\x1b[32;5:2u", [("REPEAT", "ctrl+space")]),
        (b"\x1b[32;5:3u", [("RELEASE", "ctrl+space")]),
        (b"\x1b[32;1:1u", [("PRESS", "space")]),  # explicit press event type
        (b"\x1b[97;1:2;97u", [("REPEAT", "a")]),  # repeat with associated text
        (b"\x1b[1;1:3A", [("RELEASE", "up")]),  # functional key, legacy form
        (b"\x1b[3;1:3~", [("RELEASE", "delete")]),
        (b"\x1b[13;1:3u", [("RELEASE", "enter")]),
        (b"\x1b[24;1:3~", [("RELEASE", "f12")]),
        (b"\x00", [("PRESS", "ctrl+@")]),  # legacy ctrl+space
    ],
)
def test_keys_and_event_types(data: bytes, expected: list[tuple[str, str]]) -> None:
    assert summary(data) == expected


def test_flags_report() -> None:
    messages = parse_bytes(b"\x1b[?27u")
    assert len(messages) == 1
    report = messages[0]
    assert isinstance(report, KittyFlagsReported)
    assert report.flags == 27 and report.reports_event_types
    plain = parse_bytes(b"\x1b[?25u")[0]
    assert isinstance(plain, KittyFlagsReported) and not plain.reports_event_types


@pytest.mark.parametrize(
    "data",
    [
        b"\x1b[32;1:9u",  # unknown event type
        b"\x1b[32;1:0u",
        b"\x1b[32;1:u",  # empty event field
        b"\x1b[32;1:3:4u",  # two event fields
        b"\x1b[32;1:x3u",
    ],
)
def test_malformed_events_are_dropped_safely(data: bytes) -> None:
    assert parse_bytes(data) == []
    # ...and the parser still works afterwards
    assert summary(data + b"q") == [("PRESS", "q")]


def test_the_stock_parser_would_crash_on_these() -> None:
    """Why the subclass exists: Textual 8.2.8's own parser raises on event-type sequences."""
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    with pytest.raises(ValueError):
        list(parser.feed("\x1b[32;1:3u"))


def test_split_reads_and_mixed_input() -> None:
    parser_input = b"ab\x1b[32;1:2u\x1b[32;1:3uc"
    assert summary(parser_input) == [
        ("PRESS", "a"),
        ("PRESS", "b"),
        ("REPEAT", "space"),
        ("RELEASE", "space"),
        ("PRESS", "c"),
    ]


def test_other_sequences_pass_through() -> None:
    assert summary(b"\x1b[A") == [("PRESS", "up")]
    assert summary(b"\x1b[1;5F") == [("PRESS", "ctrl+end")]
    assert [type(m) for m in parse_bytes(b"\x1b[<0;10;5M")] == [events.MouseDown]


def test_classify_sequence() -> None:
    assert classify_sequence("\x1b[32;1:3u") == KeyEventSequence(KeyEventType.RELEASE, "\x1b[32;1u")
    assert classify_sequence("\x1b[32;;97u") is None  # press with text, no event field: Textual's
    assert classify_sequence("\x1b[?31u") == FlagsReport(31)
    assert classify_sequence("\x1b[32u") is None
    assert classify_sequence("\x1b[32;1:3") is None  # incomplete: the parser reads on
    assert isinstance(classify_sequence("\x1b[32;1:7u"), MalformedEvent)
