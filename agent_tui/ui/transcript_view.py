"""The conversation pane: a line-API scroll view that stays fast with 10,000 messages.

One widget per message would make Textual lay out thousands of widgets; instead the view keeps plain
entries, wraps each once per width, and paints only the visible lines (``render_line``). A running index
of where each entry starts turns a screen row into an entry with one binary search.

Following: while the view is scrolled to the bottom, new lines keep it there; once the user scrolls
back it stays put and the border subtitle counts what arrived below, until :meth:`jump_to_latest` or
scrolling down to the end resumes following. Memory is bounded by ``max_entries``: the oldest entries
are dropped in batches, so a long session costs a constant amount.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .style_memo import StyleMemo
from .transcript_wrap import wrap_cells


class EntryKind(StrEnum):
    USER = "user"
    AGENT = "agent"
    NOTICE = "notice"  # files, RPC replies, session events
    ERROR = "error"
    TOOL = "tool"  # a function tool the agent ran: name, arguments, then its result
    TIMING = "timing"  # a turn's latency badge: measured here and reported by the agent


@dataclass
class TranscriptEntry:
    """One line-item of the pane; ``final`` False shows it dimmed (interim speech), ``cancelled`` struck
    through and marked (the words of a push-to-talk turn the agent cancelled: it never answers them)."""

    key: str
    kind: EntryKind
    text: str
    at: float
    final: bool = True
    label: str | None = None
    cancelled: bool = False
    _lines: list[str] | None = field(default=None, repr=False)
    #: Painted lines, kept while ``_lines`` and the view's styles are the ones they were painted with:
    #: each new message scrolls every line, and re-building them all was most of the pane's paint time.
    _painted: dict[int, Strip] = field(default_factory=dict, repr=False)
    _painted_for: tuple[int, list[str]] | None = field(default=None, repr=False)

    @property
    def shown_text(self) -> str:
        """The text as the pane shows it."""
        text = self.text or "…"
        return f"{text} {CANCELLED_MARK}" if self.cancelled else text


#: What follows a cancelled entry's text, on screen and in the exported transcript.
CANCELLED_MARK = "(cancelled)"


def format_clock(at: float) -> str:
    """Local wall-clock time of an entry (HH:MM:SS)."""
    return time.strftime("%H:%M:%S", time.localtime(at))


_LABEL_WIDTH = 6
_TIME_WIDTH = 8
#: Entries whose text takes the speaker column's colour rather than the plain text colour.
_SPEAKER_COLOURED = frozenset({EntryKind.NOTICE, EntryKind.ERROR, EntryKind.TIMING})


class TranscriptView(ScrollView, can_focus=True):
    """See the module docstring."""

    COMPONENT_CLASSES = {
        "transcript--time",
        "transcript--user",
        "transcript--agent",
        "transcript--notice",
        "transcript--error",
        "transcript--tool",
        "transcript--timing",
        "transcript--interim",
        "transcript--cancelled",
        "transcript--text",
        "transcript--empty",
    }

    DEFAULT_CSS = """
    TranscriptView { height: 1fr; overflow-x: hidden; overflow-y: auto; }
    """

    class FollowChanged(Message):
        """Following was paused or resumed (the app updates the footer hint)."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def __init__(
        self,
        *,
        max_entries: int = 5000,
        clock_format: Callable[[float], str] = format_clock,
        empty_text: str = "No messages yet. Speak, or type below and press Enter.",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._max_entries = max(1, max_entries)
        self._clock_format = clock_format
        self._empty_text = empty_text
        self._entries: list[TranscriptEntry] = []
        self._serial: dict[str, int] = {}  # key -> serial; position = serial - self._first_serial
        self._first_serial = 0
        self._next_serial = 0
        self._starts: list[int] = []  # first line of each entry
        self._heights: list[int] = []
        self._total_lines = 0
        self._wrap_width = 0
        self._styles_memo = StyleMemo(self)
        self._following = True
        self._unseen = 0

    # -- public -----------------------------------------------------------------------------------------
    @property
    def following(self) -> bool:
        return self._following

    @property
    def unseen(self) -> int:
        """Entries added or changed below the visible part while following was paused."""
        return self._unseen

    @property
    def entries(self) -> list[TranscriptEntry]:
        return list(self._entries)

    @property
    def total_lines(self) -> int:
        return self._total_lines

    def get(self, key: str) -> TranscriptEntry | None:
        position = self._position(key)
        return self._entries[position] if position is not None else None

    def upsert(self, entry: TranscriptEntry) -> None:
        """Add ``entry``, or replace the entry with the same key in place (interim → final)."""
        position = self._position(entry.key)
        if position is None:
            at = self._insert_position(entry)
            if at < len(self._entries):
                self._insert(at, entry)
                self._content_changed(new=True)
                return
            self._serial[entry.key] = self._next_serial
            self._next_serial += 1
            self._entries.append(entry)
            height = self._height(entry)
            self._starts.append(self._total_lines)
            self._heights.append(height)
            self._total_lines += height
            removed = self._evict()
            self._content_changed(new=True, removed_lines=removed)
            return
        else:
            self._entries[position] = entry
            height = self._height(entry)
            delta = height - self._heights[position]
            if not delta:
                # Words streaming into a line that keeps its height (most of an agent's transcript, word
                # by word): nothing moves, so only that entry's lines are painted again, not the view.
                self.refresh_lines(self._starts[position], height)
                return
            self._heights[position] = height
            for index in range(position + 1, len(self._starts)):
                self._starts[index] += delta
            self._total_lines += delta
        self._content_changed()

    def _insert_position(self, entry: TranscriptEntry) -> int:
        """Where a new entry goes: at the end, except words of the user's that were said or typed
        before what is already shown. A typed message is timed when it is sent, but its echo can come
        after a fast reply to it (text mode); the pane shows the question above its answer, as the
        Session's ``messages`` list does."""
        index = len(self._entries)
        if entry.kind is not EntryKind.USER:
            return index
        while index > 0 and self._entries[index - 1].at > entry.at:
            index -= 1
        return index

    def _insert(self, index: int, entry: TranscriptEntry) -> None:
        """Put a new entry before ``index`` (rare, and a few places from the end: linear is fine)."""
        self._entries.insert(index, entry)
        height = self._height(entry)
        self._heights.insert(index, height)
        self._starts.insert(index, self._starts[index] if index < len(self._starts) else self._total_lines)
        for later in range(index + 1, len(self._starts)):
            self._starts[later] += height
        self._total_lines += height
        self._next_serial += 1
        for position in range(index, len(self._entries)):
            self._serial[self._entries[position].key] = self._first_serial + position

    def clear(self) -> None:
        self._entries.clear()
        self._serial.clear()
        self._first_serial = self._next_serial
        self._starts.clear()
        self._heights.clear()
        self._total_lines = 0
        self._content_changed()

    def jump_to_latest(self) -> None:
        self._set_following(True)
        self._unseen = 0
        self._update_subtitle()
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def page_up(self) -> None:
        self.scroll_page_up(animate=False)

    def page_down(self) -> None:
        self.scroll_page_down(animate=False)

    # -- layout -----------------------------------------------------------------------------------------
    def _text_width(self) -> int:
        return max(8, self.scrollable_content_region.width - _TIME_WIDTH - _LABEL_WIDTH - 2)

    def _height(self, entry: TranscriptEntry) -> int:
        if self._wrap_width == 0:
            entry._lines = None
            return 1
        entry._lines = wrap_cells(entry.shown_text, self._wrap_width)
        return len(entry._lines)

    def _rewrap_all(self) -> None:
        self._wrap_width = self._text_width() if self.size.width else 0
        total = 0
        self._starts = []
        self._heights = []
        for entry in self._entries:
            height = self._height(entry)
            self._starts.append(total)
            self._heights.append(height)
            total += height
        self._total_lines = total

    def on_resize(self) -> None:
        width = self._text_width()
        if width != self._wrap_width:
            self._rewrap_all()
        self._content_changed()

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        """The scroll bar takes a column from the text (or gives it back): wrap again, or the text wrapped
        before would be one cell too wide, its last character lost to the crop."""
        if self.is_mounted and self._text_width() != self._wrap_width:
            self._rewrap_all()
            self._content_changed()

    def on_mount(self) -> None:
        self._rewrap_all()
        self._content_changed()

    def _position(self, key: str) -> int | None:
        serial = self._serial.get(key)
        if serial is None:
            return None
        return serial - self._first_serial

    def _evict(self) -> int:
        """Drop the oldest entries once over the limit, a tenth at a time so eviction is amortised
        O(1) per message; returns how many lines went away."""
        count = len(self._entries)
        if count <= self._max_entries:
            return 0
        batch = min(count - 1, max(count - self._max_entries, self._max_entries // 10))
        for entry in self._entries[:batch]:
            self._serial.pop(entry.key, None)
        del self._entries[:batch]
        removed = sum(self._heights[:batch])
        del self._heights[:batch]
        self._first_serial += batch
        total = 0
        self._starts = []
        for height in self._heights:
            self._starts.append(total)
            total += height
        self._total_lines = total
        return removed

    def _content_changed(self, *, new: bool = False, removed_lines: int = 0) -> None:
        self._set_scroll_size(Size(self.scrollable_content_region.width, max(self._total_lines, 1)))
        if self._following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        else:
            if removed_lines:
                # Keep the lines the user is reading where they are.
                self.scroll_to(
                    y=max(0, self.scroll_y - removed_lines), animate=False, immediate=True, force=True
                )
            if new:
                self._unseen += 1
            self._update_subtitle()
        self.refresh()

    def _set_scroll_size(self, size: Size) -> None:
        """Set the scrollable size, laying the screen out again only when that changes the region.

        ``virtual_size`` is a layout reactive: setting it reflows the whole screen, which with a message
        every few hundred milliseconds was much of the app's CPU. A transcript growing under a scrollbar
        it already has changes nothing around it; only the scrollbar's range is new."""
        if size == self.virtual_size:
            return
        needs_bar = size.height > self.scrollable_content_region.height
        if size.width != self.virtual_size.width or needs_bar != self.show_vertical_scrollbar:
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        if needs_bar:
            self.vertical_scrollbar.window_virtual_size = size.height
            self.vertical_scrollbar.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        old, new = old_value, new_value
        at_end = new >= self.max_scroll_y
        if at_end and not self._following:
            self._unseen = 0
            self._set_following(True)
            self._update_subtitle()
        elif not at_end and new < old and self._following:
            self._set_following(False)
            self._update_subtitle()

    def _set_following(self, following: bool) -> None:
        if following != self._following:
            self._following = following
            self.post_message(self.FollowChanged(following))

    def _update_subtitle(self) -> None:
        if self._following:
            self.border_subtitle = ""
        elif self._unseen:
            self.border_subtitle = f"↓ {self._unseen} new below — ctrl+end to follow"
        else:
            self.border_subtitle = "paused — ctrl+end to follow"

    # -- painting ---------------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_memo.clear()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._styles_memo.base
        line_no = int(self.scroll_offset.y) + y
        if not self._entries:
            if y == 0:
                empty = self._styles_memo.part("transcript--empty")
                return Strip([Segment(self._empty_text[:width], empty)]).extend_cell_length(width, base)
            return Strip.blank(width, base)
        if line_no >= self._total_lines:
            return Strip.blank(width, base)
        position = bisect.bisect_right(self._starts, line_no) - 1
        entry = self._entries[position]
        sub = line_no - self._starts[position]
        return self._entry_line(entry, sub, base).crop_extend(0, width, base)

    def _label(self, entry: TranscriptEntry) -> str:
        if entry.label is not None:
            return entry.label
        return {
            EntryKind.USER: "You",
            EntryKind.AGENT: "Agent",
            EntryKind.NOTICE: "•",
            EntryKind.ERROR: "!",
            EntryKind.TOOL: "tool",
            EntryKind.TIMING: "timing",
        }[entry.kind]

    def _entry_line(self, entry: TranscriptEntry, sub: int, base: Style) -> Strip:
        lines = entry._lines
        if lines is None:
            lines = entry._lines = wrap_cells(entry.shown_text, max(self._wrap_width, 8))
        generation = self._styles_memo.generation
        painted_for = entry._painted_for
        if painted_for is None or painted_for[0] != generation or painted_for[1] is not lines:
            entry._painted = {}
            entry._painted_for = (generation, lines)
        line = entry._painted.get(sub)
        if line is None:
            line = entry._painted[sub] = self._paint_entry_line(entry, lines, sub, base)
        return line

    def _paint_entry_line(self, entry: TranscriptEntry, lines: list[str], sub: int, base: Style) -> Strip:
        text = lines[sub] if sub < len(lines) else ""
        styles = self._styles_memo
        kind = entry.kind
        speaker = f"transcript--{kind.value}"
        body = styles.part(speaker if kind in _SPEAKER_COLOURED else "transcript--text")
        if not entry.final:
            body = body + styles.component("transcript--interim")
        if entry.cancelled:
            body = body + styles.component("transcript--cancelled")
        if sub == 0:
            label = self._label(entry)
            label = label if cell_len(label) <= _LABEL_WIDTH else label[: _LABEL_WIDTH - 1] + "…"
            segments = [
                Segment(
                    self._clock_format(entry.at).ljust(_TIME_WIDTH)[:_TIME_WIDTH],
                    styles.part("transcript--time"),
                ),
                Segment(" ", base),
                Segment(label + " " * (_LABEL_WIDTH - cell_len(label)), styles.part(speaker)),
                Segment(" ", base),
                Segment(text, body),
            ]
        else:
            segments = [Segment(" " * (_TIME_WIDTH + _LABEL_WIDTH + 2), base), Segment(text, body)]
        return Strip(segments)
