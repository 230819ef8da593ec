"""Agent insight in the TUI: tool calls inline, latency badges, the info panel, text mode, agent errors.

Driven like the other app tests: real insight events emitted on a never-started Session's bus. Text mode
is the one place the app calls the Session; there the agent's side is replaced by a recorder (or, for
an agent without a session stream, the real ``AgentInsight`` refuses).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_tui.app.insight import format_badge
from agent_tui.app.transcript_export import format_transcript
from agent_tui.session import AgentJoined
from agent_tui.session.agent_stream.events import (
    AgentError,
    AgentFramework,
    ChatHistory,
    LatencyStats,
    ToolCall,
    ToolResult,
    ToolUpdate,
    TurnMetrics,
    TurnMetricsValues,
    VoiceLatency,
    VoiceLatencySummary,
)
from agent_tui.ui.insight_panel import InsightPanel, excerpt, framework_label
from agent_tui.ui.tool_lines import clip, tool_signature
from agent_tui.ui.transcript_view import EntryKind, TranscriptEntry, TranscriptView
from tests.support.waiting import wait_until

from .conftest import T0, emit, make_app, notes
from .events_factory import agent_listening, message
from .insight_factory import (
    INSTRUCTIONS,
    agent_info,
    from_the_agent,
    history_of_a_time_turn,
    voice_turn_with_tool,
)
from .screen_text import screen_text

pytestmark = pytest.mark.timeout(30)


def entries(app: object, kind: EntryKind) -> list[TranscriptEntry]:
    view = app.main.query_one(TranscriptView)  # type: ignore[attr-defined]
    return [e for e in view.entries if e.kind is kind]


# -- pure formatting -----------------------------------------------------------------------------------
def test_tool_signature_shows_empty_arguments_as_a_plain_call() -> None:
    assert tool_signature("get_time", "{}") == "get_time()"
    assert tool_signature("get_time", "") == "get_time()"
    assert tool_signature("lookup", '{"city": "Paris"}') == 'lookup({"city": "Paris"})'
    assert tool_signature("lookup", None) == "lookup"
    assert clip("a\nb  c") == "a b c"
    assert clip("x" * 400).endswith("…") and len(clip("x" * 400)) == 300


def test_badge_puts_our_figure_first_then_the_agents() -> None:
    client = VoiceLatency(turn=1, latency_ms=812.4, user_end=1.0, reply_start=1.8124, source="vad")
    user = TurnMetricsValues(end_of_turn_ms=310.0)
    agent = TurnMetricsValues(e2e_ms=640.2, llm_ttft_ms=120.0, tts_ttfb_ms=95.0)
    assert format_badge(client, user, agent) == (
        "812 ms measured here — agent: e2e 640 ms · llm ttft 120 ms · tts ttfb 95 ms · end of turn 310 ms"
    )
    assert format_badge(None, None, TurnMetricsValues(llm_ttft_ms=80.0)) == "agent: llm ttft 80 ms"
    overlapped = VoiceLatency(
        turn=2, latency_ms=300.0, user_end=1.0, reply_start=1.3, source="ptt", overlapped=True
    )
    assert format_badge(overlapped, None, None) == "300 ms measured here (you overlapped)"
    assert format_badge(None, None, None) == ""


def test_panel_helpers() -> None:
    assert framework_label(AgentFramework(sdk="python", sdk_version="1.8.9")) == "livekit-agents 1.8.9"
    assert framework_label(AgentFramework(sdk="node", sdk_version="1.0.0")) == "node 1.0.0"
    cut = excerpt(INSTRUCTIONS, 40)
    assert cut.endswith("…") and len(cut) <= 41 and "\n" not in cut
    assert excerpt("short  one") == "short one"


# -- tool calls --------------------------------------------------------------------------------------------
async def test_a_tool_call_is_shown_running_then_with_its_result_in_the_same_entry() -> None:
    app = make_app()
    async with app.run_test(size=(110, 30)) as pilot:
        await emit(pilot, *agent_listening(), *agent_info(), message("u1", "what time is it", at=T0 + 1))
        await emit(pilot, ToolCall(call_id="call_1", name="get_time", arguments="{}", at=T0 + 2))
        assert "tool   get_time() …" in screen_text(app)
        # the info panel, told by the transcript (its ToolsRunning message bubbles up to the app)
        await wait_until(lambda: "running get_time…" in screen_text(app), between=pilot.pause)
        await emit(
            pilot,
            ToolResult(call_id="call_1", name="get_time", output="The time is 12:00.", is_error=False),
        )
        [tool] = entries(app, EntryKind.TOOL)
        assert tool.text == "get_time() → The time is 12:00."
        assert tool.at == T0 + 2  # keeps the call's place and time
        await wait_until(lambda: "running" not in screen_text(app), between=pilot.pause)
        assert "get_time() → The time is 12:00." in screen_text(app)
        # the call comes after the question it answers
        view = app.main.query_one(TranscriptView)
        kinds = [e.kind for e in view.entries]
        assert kinds.index(EntryKind.USER) < kinds.index(EntryKind.TOOL)


async def test_a_failed_tool_is_shown_as_an_error_with_its_arguments() -> None:
    app = make_app()
    async with app.run_test(size=(110, 30)) as pilot:
        await emit(
            pilot,
            *agent_listening(),
            ToolCall(call_id="c2", name="lookup", arguments='{"city": "Atlantis"}'),
            ToolResult(call_id="c2", name="lookup", output="no such city", is_error=True),
        )
        assert not entries(app, EntryKind.TOOL)
        [error] = entries(app, EntryKind.ERROR)
        assert error.text == 'lookup({"city": "Atlantis"}) failed: no such city'
        assert error.label == "tool"


async def test_tool_progress_and_cancellation_update_the_entry_and_a_repeat_is_ignored() -> None:
    app = make_app()
    async with app.run_test(size=(110, 30)) as pilot:
        call = ToolCall(call_id="c3", name="book_table", arguments='{"people": 4}')
        await emit(pilot, *agent_listening(), call)
        await emit(pilot, ToolUpdate(phase="call_updated", call_id="c3", message="checking the calendar"))
        [tool] = entries(app, EntryKind.TOOL)
        assert tool.text == 'book_table({"people": 4}) … checking the calendar'
        await emit(pilot, ToolUpdate(phase="ended", call_id="c3", status="cancelled"), call)
        [tool] = entries(app, EntryKind.TOOL)
        assert tool.text == 'book_table({"people": 4}) cancelled'
        # a late result of a cancelled call does not reopen it; an unknown call's result stands alone
        await emit(pilot, ToolResult(call_id="zz", name="get_time", output="12:00", is_error=False))
        assert [e.text for e in entries(app, EntryKind.TOOL)][-1] == "get_time → 12:00"


def conversation(app: object) -> list[tuple[EntryKind, str]]:
    """The transcript's messages and tool lines, in the order they are drawn (notices left out)."""
    view = app.main.query_one(TranscriptView)  # type: ignore[attr-defined]
    shown = (EntryKind.USER, EntryKind.AGENT, EntryKind.TOOL, EntryKind.ERROR)
    return [(e.kind, e.text) for e in view.entries if e.kind in shown]


async def test_a_late_joiner_sees_the_historys_tool_call_between_the_messages_it_belongs_to() -> None:
    app = make_app()
    async with app.run_test(size=(110, 30)) as pilot:
        await emit(pilot, *agent_listening(), *agent_info())
        # The turn happened a minute before we joined; the history fetched on join is all we get of it.
        from_the_agent(app.session, history_of_a_time_turn(T0 - 60))
        await pilot.pause()
        await pilot.pause()
        assert conversation(app) == [
            (EntryKind.USER, "what time is it"),
            (EntryKind.TOOL, "get_time() → 03:11"),
            (EntryKind.AGENT, "The time is 03:11."),
        ]
        [tool] = entries(app, EntryKind.TOOL)
        assert tool.at == T0 - 59.5  # the agent's time of the call, as for the messages around it
        rows = [row.strip() for row in screen_text(app).splitlines()]
        question = next(i for i, row in enumerate(rows) if "what time is it" in row)
        answer = next(i for i, row in enumerate(rows) if "The time is 03:11." in row)
        tool_row = next(i for i, row in enumerate(rows) if "tool   get_time() → 03:11" in row)
        assert question < tool_row < answer
        assert "11:59:00 tool   get_time() → 03:11" in rows[tool_row]
        assert "running" not in screen_text(app)  # a finished call, not a running one


async def test_a_call_seen_live_is_drawn_once_when_a_reconnect_fetches_the_history_again() -> None:
    app = make_app()
    async with app.run_test(size=(110, 30)) as pilot:
        await emit(pilot, *agent_listening())
        history = history_of_a_time_turn(T0 + 1)
        # Joined just after the question (the history on join has it), then saw the tool call live ...
        from_the_agent(
            app.session,
            ChatHistory(items=history.items[:1]),
            ToolCall(call_id="call_1", name="get_time", arguments="{}", at=T0 + 2),
            ToolResult(call_id="call_1", name="get_time", output="03:11", is_error=False, at=T0 + 2.1),
        )
        await pilot.pause()
        await pilot.pause()
        # ... and lost the connection before the answer; the history fetched on reconnect has it all.
        from_the_agent(app.session, history)
        await pilot.pause()
        await pilot.pause()
        assert conversation(app) == [
            (EntryKind.USER, "what time is it"),
            (EntryKind.TOOL, "get_time() → 03:11"),
            (EntryKind.AGENT, "The time is 03:11."),
        ]
        [tool] = entries(app, EntryKind.TOOL)
        assert tool.at == T0 + 2  # the live entry, kept


async def test_a_history_call_without_its_result_is_not_shown_as_running_until_the_agent_reports_it() -> None:
    app = make_app()
    async with app.run_test(size=(110, 30)) as pilot:
        await emit(pilot, *agent_listening(), *agent_info())
        history = history_of_a_time_turn(T0 - 5)
        from_the_agent(app.session, ChatHistory(items=history.items[:2]))  # joined while the tool ran
        await pilot.pause()
        await pilot.pause()
        [tool] = entries(app, EntryKind.TOOL)
        assert tool.text == "get_time() …"
        assert "running get_time" not in screen_text(app)
        # the live report of the call is a repeat (dropped); its result completes the line in place
        from_the_agent(
            app.session,
            ToolCall(call_id="call_1", name="get_time", arguments="{}"),
            ToolResult(call_id="call_1", name="get_time", output="03:11", is_error=False),
        )
        await pilot.pause()
        await pilot.pause()
        [tool] = entries(app, EntryKind.TOOL)
        assert tool.text == "get_time() → 03:11" and tool.at == T0 - 4.5


# -- latency badges ----------------------------------------------------------------------------------------
async def test_a_voice_turn_gets_one_badge_with_both_measurements() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await emit(pilot, *agent_listening(), *voice_turn_with_tool())
        [badge] = entries(app, EntryKind.TIMING)
        assert badge.text == (
            "812 ms measured here — agent: e2e 640 ms · llm ttft 120 ms · tts ttfb 95 ms · end of turn 310 ms"
        )
        assert badge.at == T0 + 11  # written when the reply's first sound reached us
        assert "timing 812 ms measured here" in screen_text(app)

        # The next, typed, turn: the agent reports only its reply's figures; a new badge.
        await emit(
            pilot,
            message("c1", "thanks", at=T0 + 20, chat=True),
            TurnMetrics(message_id="u2", role="user", metrics=TurnMetricsValues()),  # empty: ignored
            TurnMetrics(message_id="a2", role="assistant", metrics=TurnMetricsValues(llm_ttft_ms=80.0)),
        )
        assert [b.text for b in entries(app, EntryKind.TIMING)] == [badge.text, "agent: llm ttft 80 ms"]


async def test_a_second_reply_in_one_turn_gets_its_own_badge() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        first = TurnMetricsValues(llm_ttft_ms=100.0)
        second = TurnMetricsValues(llm_ttft_ms=200.0)
        await emit(
            pilot,
            *agent_listening(),
            TurnMetrics(message_id="a1", role="assistant", metrics=first),
            TurnMetrics(message_id="a2", role="assistant", metrics=second),
        )
        assert [b.text for b in entries(app, EntryKind.TIMING)] == [
            "agent: llm ttft 100 ms",
            "agent: llm ttft 200 ms",
        ]


async def test_the_session_summary_is_a_notice() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        summary = VoiceLatencySummary(
            client=LatencyStats(count=3, p50_ms=800.0, p95_ms=950.0, max_ms=960.0, mean_ms=850.0),
            agent=LatencyStats(count=0, p50_ms=None, p95_ms=None, max_ms=None, mean_ms=None),
            unpaired=0,
            pending=False,
        )
        await emit(pilot, summary)
        assert (
            "Latency this session — measured here: p50 800 ms, p95 950 ms (3 turns); "
            "agent-reported e2e: none." in [e.text for e in entries(app, EntryKind.NOTICE)]
        )


# -- the info panel --------------------------------------------------------------------------------------
async def test_the_info_panel_appears_with_the_agents_answer_and_resets_for_a_new_agent() -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await emit(pilot, *agent_listening())
        panel = app.main.query_one(InsightPanel)
        assert not panel.display or not panel.has_class("-shown")
        assert "Agent info" not in screen_text(app)
        await emit(pilot, *agent_info())
        assert panel.has_class("-shown")
        text = screen_text(app)
        assert "Agent info" in text
        for expected in ("demo_agent", "livekit-agents 1.8.9", "tools  get_time", "mode   voice"):
            assert expected in text
        assert "You are the agent-tui demo" in text

        # The palette command hides it (and brings it back).
        await app.run_action("toggle_agent_info")
        await pilot.pause()
        assert "Agent info" not in screen_text(app)
        await app.run_action("toggle_agent_info")
        await pilot.pause()
        assert "Agent info" in screen_text(app)

        await emit(pilot, AgentJoined(identity="agent-2", name="other", attributes={}, at=T0 + 50))
        assert panel.info is None


async def test_agent_errors_are_notifications_and_transcript_lines() -> None:
    app = make_app()
    async with app.run_test(size=(110, 30), notifications=True) as pilot:
        await emit(pilot, *agent_listening(), AgentError(message="LLM request timed out", at=T0 + 5))
        assert "LLM request timed out" in notes(app)
        [notification] = [n for n in app._notifications if n.message == "LLM request timed out"]
        assert notification.title == "Agent error" and notification.severity == "error"
        assert "Agent error: LLM request timed out" in [e.text for e in entries(app, EntryKind.ERROR)]


# -- text mode -----------------------------------------------------------------------------------------------
async def test_text_mode_palette_command_without_a_session_stream_explains_why() -> None:
    app = make_app()
    async with app.run_test(size=(110, 30), notifications=True) as pilot:
        await emit(pilot, *agent_listening())
        await app.run_action("toggle_text_mode")
        await pilot.pause(0.1)
        assert any(
            n.startswith("Text mode is not available: The agent does not publish a session stream")
            for n in notes(app)
        )
        assert not app.insight.text_mode


async def test_transcript_export_names_tool_and_timing_lines(tmp_path: Path) -> None:
    app = make_app(tmp_path=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await emit(pilot, *agent_listening(), *voice_turn_with_tool())
        text = format_transcript(app.transcript.entries, room="r", agent="a")
        assert "* tool: get_time() → The time is 12:00." in text
        assert "* timing: 812 ms measured here" in text
