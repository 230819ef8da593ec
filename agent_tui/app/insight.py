"""Agent insight in the TUI: tool calls inline, latency badges, the info panel, text mode, agent errors.

The Session turns the agent's session stream into typed events (:class:`~agent_tui.session.InsightEvent`);
this presenter turns them into what the user reads, so the app's controller only routes events here.

Placement rules, chosen so the transcript reads top to bottom as the turn happened:

* **Tool calls** are the kit's transcript's own lines (:mod:`agent_tui.ui.tool_lines`); the info panel
  lists the running ones as the transcript reports them.
* **Latency badges** get one entry per turn. The figures of a turn arrive at three moments: the agent's
  figures for the user's side (end of turn) when it commits the user's message, our own measurement when
  the reply's first sound reaches us, and the agent's figures for its reply (e2e, LLM, TTS) when it
  commits that message, after it finished speaking. The badge is written at the first of the last two,
  so it sits under the user's words next to the reply, and the later figures complete it in place; the
  user-side figures wait for it. A badge that already has the reply's figures is closed, so a second
  reply (after a tool call) or the next turn starts a new one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Protocol

from agent_tui.session import (
    AgentError,
    AgentFramework,
    AgentInfo,
    AgentSessionError,
    Conversation,
    LatencyStats,
    SessionEvent,
    ToolCall,
    ToolResult,
    ToolUpdate,
    TurnMetrics,
    TurnMetricsValues,
    VoiceLatency,
    VoiceLatencySummary,
)
from agent_tui.ui.chat_transcript import AgentChatTranscript
from agent_tui.ui.insight_panel import InsightPanel
from agent_tui.ui.transcript_view import EntryKind, TranscriptEntry

_AGENT_FIGURES = (("e2e_ms", "e2e"), ("llm_ttft_ms", "llm ttft"), ("tts_ttfb_ms", "tts ttfb"))
_USER_FIGURES = (("end_of_turn_ms", "end of turn"),)


def format_badge(
    client: VoiceLatency | None, user: TurnMetricsValues | None, agent: TurnMetricsValues | None
) -> str:
    """One turn's latency: what this client measured, then what the agent reported (empty if nothing)."""
    parts: list[str] = []
    if client is not None:
        overlapped = " (you overlapped)" if client.overlapped else ""
        parts.append(f"{client.latency_ms:.0f} ms measured here{overlapped}")
    figures = [
        f"{label} {getattr(values, key):.0f} ms"
        for values, table in ((agent, _AGENT_FIGURES), (user, _USER_FIGURES))
        if values is not None
        for key, label in table
        if getattr(values, key) is not None
    ]
    if figures:
        parts.append("agent: " + " · ".join(figures))
    return " — ".join(parts)


def format_stats(stats: LatencyStats) -> str:
    if not stats.count or stats.p50_ms is None or stats.p95_ms is None:
        return "none"
    turns = "turn" if stats.count == 1 else "turns"
    return f"p50 {stats.p50_ms:.0f} ms, p95 {stats.p95_ms:.0f} ms ({stats.count} {turns})"


def format_summary(summary: VoiceLatencySummary) -> str:
    return (
        f"Latency this session — measured here: {format_stats(summary.client)}; "
        f"agent-reported e2e: {format_stats(summary.agent)}."
    )


@dataclass
class _Badge:
    key: str
    at: float
    client: VoiceLatency | None = None
    user: TurnMetricsValues | None = None
    agent: TurnMetricsValues | None = None


class InsightHost(Protocol):
    """What the presenter needs of the app (a protocol, so this module does not import the app)."""

    @property
    def session(self) -> Conversation: ...

    @property
    def transcript(self) -> AgentChatTranscript: ...

    @property
    def insight_panel(self) -> InsightPanel: ...

    def add_notice(self, text: str, *, error: bool = ..., at: float | None = ...) -> None: ...

    def notify(self, message: str, *, title: str = ..., severity: Any = ...) -> Any: ...


class InsightPresenter:
    """Owned by the app; see the module docstring. Runs on the app's message loop only."""

    def __init__(self, app: InsightHost) -> None:
        self._app = app
        self._serial = itertools.count(1)
        self._badge: _Badge | None = None
        self._waiting_user: TurnMetricsValues | None = None
        self._text_mode = False
        self._panel_wanted: bool | None = None  # None: shown once the agent answers on its stream
        self._available = False

    @property
    def text_mode(self) -> bool:
        return self._text_mode

    @property
    def panel(self) -> InsightPanel:
        return self._app.insight_panel

    # -- events -------------------------------------------------------------------------------------
    def show(self, event: SessionEvent) -> bool:
        """Show ``event`` if it is one of ours; False for events the app handles itself."""
        match event:
            case ToolCall() | ToolUpdate() | ToolResult():
                pass  # the kit's transcript writes tool lines (agent_tui.ui.tool_lines)
            case TurnMetrics():
                self._turn_metrics(event)
            case VoiceLatency():
                self._voice_latency(event)
            case AgentInfo():
                self._available = True
                self.panel.set_info(event)
                self._update_panel_visibility()
            case AgentFramework():
                self.panel.set_framework(event)
            case AgentError():
                self._app.add_notice(f"Agent error: {event.message}", error=True, at=event.at)
                self._app.notify(event.message, title="Agent error", severity="error")
            case VoiceLatencySummary():
                self._app.add_notice(format_summary(event), at=event.at)
            case _:
                return False
        return True

    def agent_changed(self) -> None:
        """A different agent (or none): its tools, text mode and open badge do not carry over."""
        self._badge = None
        self._waiting_user = None
        self._text_mode = False
        self._available = False
        panel = self.panel
        panel.set_info(None)
        panel.set_framework(None)
        panel.set_text_mode(False)
        panel.set_running_tools(())
        self._update_panel_visibility()

    # -- latency badges -----------------------------------------------------------------------------
    def _turn_metrics(self, event: TurnMetrics) -> None:
        if event.metrics.empty:
            return
        badge = self._badge
        if event.role == "user":
            # the agent commits the user's message before it replies, so this starts a new turn
            self._badge = None
            self._waiting_user = event.metrics
        elif event.role == "assistant":
            if badge is None or badge.agent is not None:
                badge = self._open_badge(event.at)
            badge.agent = event.metrics
            self._write_badge(badge)
            self._badge = None  # the reply's own figures close the turn

    def _voice_latency(self, event: VoiceLatency) -> None:
        badge = self._badge
        if badge is None or badge.client is not None or badge.agent is not None:
            badge = self._open_badge(event.at)
        badge.client = event
        self._write_badge(badge)

    def _open_badge(self, at: float) -> _Badge:
        badge = _Badge(key=f"timing:{next(self._serial)}", at=at, user=self._waiting_user)
        self._waiting_user = None
        self._badge = badge
        return badge

    def _write_badge(self, badge: _Badge) -> None:
        text = format_badge(badge.client, badge.user, badge.agent)
        if text:
            self._app.transcript.upsert(
                TranscriptEntry(key=badge.key, kind=EntryKind.TIMING, text=text, at=badge.at, label="timing")
            )

    # -- text mode and the panel --------------------------------------------------------------------
    async def toggle_text_mode(self) -> None:
        """Ask the agent to answer in text only, or in voice again (ctrl+t, as in ``lk agent console``)."""
        on = not self._text_mode
        try:
            await self._app.session.set_text_mode(on)
        except AgentSessionError as error:
            self._app.notify(f"Text mode is not available: {error}", severity="warning")
            return
        except Exception as error:
            self._app.notify(f"Text mode: {error}", severity="error")
            return
        self._text_mode = on
        self.panel.set_text_mode(on)
        if on:
            self._app.add_notice("Text mode on: the agent answers in text only and does not hear you.")
        else:
            self._app.add_notice("Text mode off: the agent listens and speaks again.")

    @property
    def panel_shown(self) -> bool:
        return self.panel.has_class("-shown")

    def toggle_panel(self) -> None:
        self._panel_wanted = not self.panel.has_class("-shown")
        self._update_panel_visibility()

    def _update_panel_visibility(self) -> None:
        shown = self._panel_wanted if self._panel_wanted is not None else self._available
        self.panel.set_class(shown, "-shown")
