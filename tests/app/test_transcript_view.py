"""The transcript pane: speakers apart, interim text replaced in place, long sessions bounded."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from agent_tui.app import AppSettings
from agent_tui.app.transcript_export import format_transcript
from agent_tui.session import MessageChanged
from agent_tui.ui.transcript_view import EntryKind, TranscriptView
from agent_tui.ui.transcript_wrap import wrap_cells

from .conftest import T0, emit, make_app
from .events_factory import agent_listening, message
from .screen_text import screen_text

pytestmark = pytest.mark.timeout(60)


def test_wrap_cells() -> None:
    assert wrap_cells("hello world", 20) == ["hello world"]
    assert wrap_cells("hello world again", 11) == ["hello world", "again"]
    assert wrap_cells("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert wrap_cells("", 5) == [""]
    assert wrap_cells("a\nb", 5) == ["a", "b"]
    assert wrap_cells("日本語テキスト", 6) == ["日本語", "テキス", "ト"]  # wide characters count two cells


async def test_interim_text_is_replaced_in_place_when_final() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening(), message("seg-1", "what is the wea", at=T0, final=False))
        view = app.main.query_one(TranscriptView)
        [entry] = [e for e in view.entries if e.kind is EntryKind.USER]
        assert not entry.final
        await emit(pilot, message("seg-1", "What is the weather in Paris?", at=T0, final=True))
        users = [e for e in view.entries if e.kind is EntryKind.USER]
        assert len(users) == 1 and users[0].final
        text = screen_text(app)
        assert "What is the weather in Paris?" in text and "what is the wea\n" not in text
        await emit(pilot, message("seg-2", "It is sunny and 21 degrees.", at=T0 + 2, agent=True))
        text = screen_text(app)
        assert "12:00:00 You" in text
        assert "12:00:02 Agent" in text


async def test_the_transcript_line_styles_differ_by_speaker_and_finality() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(
            pilot,
            message("u", "user text", at=T0, final=True),
            message("a", "agent text", at=T0 + 1, agent=True),
            message("i", "interim text", at=T0 + 2, final=False),
        )
        view = app.main.query_one(TranscriptView)
        user = view.get_component_rich_style("transcript--user")
        agent = view.get_component_rich_style("transcript--agent")
        interim = view.get_component_rich_style("transcript--interim")
        assert user.color != agent.color
        assert interim.italic
        strip = view.render_line(2)
        assert any(segment.text == "interim text" and segment.style.italic for segment in strip)


async def test_words_of_a_cancelled_turn_are_struck_through_and_say_so() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        heard = message("u", "what time is it", at=T0)
        cancelled = MessageChanged(message=replace(heard.message, cancelled=True), new=False)
        await emit(pilot, heard, cancelled, message("h", "help", at=T0 + 5))
        view = app.main.query_one(TranscriptView)
        assert [(e.text, e.cancelled) for e in view.entries if e.kind is EntryKind.USER] == [
            ("what time is it", True),
            ("help", False),
        ]
        assert "what time is it (cancelled)" in screen_text(app)
        assert view.get_component_rich_style("transcript--cancelled").strike
        struck = [segment for segment in view.render_line(0) if "what time is it" in segment.text]
        assert struck and all(segment.style.strike for segment in struck)
        assert not any(segment.style.strike for segment in view.render_line(1))
        exported = format_transcript(view.entries, room="r", agent="a")
        assert "You (cancelled): what time is it" in exported and "You: help" in exported


async def test_ten_thousand_messages_stay_responsive_and_bounded() -> None:
    app = make_app(app_settings=AppSettings(max_transcript_lines=2000))
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.main.query_one(TranscriptView)
        started = time.perf_counter()
        for i in range(10_000):
            app.session.events.emit(
                message(f"m{i}", f"message number {i} " + "word " * (i % 30), at=T0 + i, agent=i % 2 == 0)
            )
        await pilot.pause()
        elapsed = time.perf_counter() - started
        assert len(view.entries) <= 2000
        assert view.entries[-1].text.startswith("message number 9999")
        assert view.following and view.scroll_y == view.max_scroll_y
        # a keypress is handled promptly after the flood
        started = time.perf_counter()
        await pilot.press("pageup")
        await pilot.pause()
        assert time.perf_counter() - started < 2.0
        assert not view.following
        # generous bound, to catch quadratic behaviour rather than to time the machine
        assert elapsed < 30, elapsed
        # interim updates of an old message after eviction do not crash
        app.session.events.emit(message("m0", "evicted long ago", at=T0, final=False))
        await pilot.pause()


async def test_resize_rewraps_without_losing_the_end() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await emit(
            pilot, *[message(f"m{i}", "a fairly long line of words " * 4, at=T0 + i) for i in range(60)]
        )
        view = app.main.query_one(TranscriptView)
        lines_wide = view.total_lines
        await pilot.resize_terminal(80, 30)
        await pilot.pause()
        assert view.total_lines > lines_wide
        assert view.scroll_y == view.max_scroll_y


async def test_a_transcript_growing_under_its_scrollbar_does_not_lay_the_screen_out_again() -> None:
    """Layout reflows the whole screen; a new message below the fold changes only the scroll range."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *[message(f"m{i}", f"line {i}", at=T0 + i) for i in range(40)])
        view = app.main.query_one(TranscriptView)
        assert view.show_vertical_scrollbar
        # (the message after the scrollbar came narrows the lines once, and that is a layout)
        await emit(pilot, message("m40", "line 40", at=T0 + 40))
        layouts: list[str] = []
        refresh = type(view).refresh

        def counting_refresh(self: TranscriptView, *regions: object, **flags: bool) -> object:
            if flags.get("layout"):
                layouts.append(type(self).__name__)
            return refresh(self, *regions, **flags)  # type: ignore[arg-type]

        type(view).refresh = counting_refresh  # type: ignore[method-assign]
        try:
            await emit(pilot, *[message(f"n{i}", f"more {i}", at=T0 + 100 + i) for i in range(5)])
        finally:
            type(view).refresh = refresh  # type: ignore[method-assign]
        assert layouts == []
        assert view.virtual_size.height == view.total_lines
        assert view.vertical_scrollbar.window_virtual_size == view.total_lines
        assert view.following and view.scroll_y == view.max_scroll_y
        assert "more 4" in screen_text(app)


async def test_a_question_whose_echo_comes_after_its_fast_answer_is_shown_above_it() -> None:
    """Text mode: the reply can arrive before the echo of the typed question, which is timed when sent."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening(), message("a-1", "Earlier answer.", at=T0 - 5, agent=True))
        await emit(pilot, message("a-2", "It is noon.", at=T0 + 1, agent=True))
        await emit(pilot, message("u-1", "What time is it?", at=T0, final=True))
        view = app.main.query_one(TranscriptView)
        texts = [e.text for e in view.entries]
        assert texts.index("What time is it?") == texts.index("It is noon.") - 1
        text = screen_text(app)
        assert text.index("What time is it?") < text.index("It is noon.")
        # the entries after the insertion are still found by key: an update lands in place
        await emit(pilot, message("a-2", "It is noon, UTC.", at=T0 + 1, agent=True))
        assert [e.text for e in view.entries][-1] == "It is noon, UTC."
        assert view.total_lines == sum(len(e._lines or [""]) for e in view.entries)
        assert view.scroll_y == view.max_scroll_y


async def test_text_that_filled_the_width_is_wrapped_again_when_the_scroll_bar_takes_a_column() -> None:
    app = make_app()
    async with app.run_test(size=(100, 14)) as pilot:
        await emit(pilot, *agent_listening())
        view = app.main.query_one(TranscriptView)
        width = view._text_width()
        words = "x" * (width - 3) + " yz"  # exactly as wide as the text column before the bar appears
        await emit(pilot, message("wide", words, at=T0))
        assert not view.show_vertical_scrollbar
        for i in range(12):
            await emit(pilot, message(f"more-{i}", f"line {i}", at=T0 + 1 + i))
        assert view.show_vertical_scrollbar
        assert view._text_width() == width - 1
        view.scroll_home(animate=False)
        await pilot.pause()
        text = screen_text(app)
        assert "x" * (width - 3) in text and "yz" in text  # "yz" moved to the next line, not cut to "y"


async def test_a_meter_repaint_leaves_the_conversation_out_of_the_frame() -> None:
    """The sidebar's meters repaint at the refresh rate; the transcript (in a pane of its own) is not
    drawn again for them, whatever it holds."""
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await emit(pilot, *agent_listening(), *(message(f"m{i}", f"words {i}", at=T0 + i) for i in range(40)))
        view = app.main.query_one(TranscriptView)
        drawn: list[object] = []
        render_lines = view.render_lines

        def counted(crop: object) -> object:
            drawn.append(crop)
            return render_lines(crop)  # type: ignore[arg-type]

        view.render_lines = counted  # type: ignore[method-assign]
        from agent_tui.ui.level_meter import LevelMeter

        for level in (-40.0, -30.0, -20.0, -10.0):
            for meter in app.main.query(LevelMeter):
                meter.set_level(level)
            await pilot.pause()
        assert drawn == []
        await emit(pilot, message("new", "one more", at=T0 + 60))
        assert drawn  # and it is drawn when it changes


async def test_words_streaming_into_a_line_repaint_only_that_line() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await emit(pilot, *agent_listening(), *(message(f"m{i}", f"words {i}", at=T0 + i) for i in range(40)))
        await emit(pilot, message("live", "It is", at=T0 + 50, agent=True, final=False))
        view = app.main.query_one(TranscriptView)
        painted: list[int] = []
        render_line = view.render_line

        def counted(y: int) -> object:
            painted.append(y)
            return render_line(y)

        view.render_line = counted  # type: ignore[method-assign]
        await emit(pilot, message("live", "It is sunny", at=T0 + 50, agent=True, final=False))
        assert "It is sunny" in screen_text(app)
        assert 1 <= len(painted) <= 2  # that entry's line, not the 31 of the view
        painted.clear()
        await emit(pilot, message("live", "It is sunny " + "and warm " * 12, at=T0 + 50, agent=True))
        assert len(painted) > 10  # it grew a line: everything above scrolled, so all of it is painted
