"""What the agent says about itself over its session stream: name, framework, tools, instructions, and
whether it currently answers in voice or in text.

Hidden until the agent answers our ping: an agent without a session stream (livekit-agents before 1.8,
or not livekit-agents at all) has nothing to show here, and an empty box would read as a failure.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from agent_tui.session import AgentFramework, AgentInfo

#: Characters of the instructions shown: enough to recognise the prompt, not to read it (it can be pages).
INSTRUCTIONS_EXCERPT = 120


def framework_label(framework: AgentFramework) -> str:
    """``livekit-agents 1.8.9`` for the Python SDK (the name users know), else ``<sdk> <version>``."""
    name = "livekit-agents" if framework.sdk == "python" else (framework.sdk or "agent framework")
    return f"{name} {framework.sdk_version}".strip()


def excerpt(text: str, limit: int = INSTRUCTIONS_EXCERPT) -> str:
    """``text`` on one line, cut at a word boundary near ``limit`` with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut.rstrip(",.;:") + "…"


def render_insight(
    info: AgentInfo | None,
    framework: AgentFramework | None,
    *,
    text_mode: bool,
    running_tools: tuple[str, ...] = (),
) -> Text:
    """The panel's body; pure, so tests and snapshots read the same thing the user does."""
    text = Text()

    def row(label: str, value: str, style: str = "") -> None:
        if text:
            text.append("\n")
        text.append(f"{label:<7}", style="dim")
        text.append(value, style=style)

    row("agent", (info.id if info is not None and info.id else "—"), "bold")
    if framework is not None:
        row("runs", framework_label(framework))
    row("mode", "text only" if text_mode else "voice", "bold" if text_mode else "")
    if info is not None:
        row("tools", ", ".join(info.tools) if info.tools else "none")
        if running_tools:
            row("now", f"running {', '.join(running_tools)}…", "italic")
        if info.instructions.strip():
            text.append("\n")
            text.append(excerpt(info.instructions), style="italic dim")
    return text


class InsightPanel(Vertical):
    """The sidebar box; the app feeds it from the insight events (see :mod:`agent_tui.app.insight`)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._info: AgentInfo | None = None
        self._framework: AgentFramework | None = None
        self._text_mode = False
        self._running_tools: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(self._body(), id="insight-body")

    @property
    def info(self) -> AgentInfo | None:
        return self._info

    @property
    def text_mode(self) -> bool:
        return self._text_mode

    def set_info(self, info: AgentInfo | None) -> None:
        self._info = info
        self._update()

    def set_framework(self, framework: AgentFramework | None) -> None:
        self._framework = framework
        self._update()

    def set_text_mode(self, on: bool) -> None:
        self._text_mode = on
        self._update()

    def set_running_tools(self, names: tuple[str, ...]) -> None:
        if names != self._running_tools:
            self._running_tools = names
            self._update()

    def _body(self) -> Text:
        return render_insight(
            self._info, self._framework, text_mode=self._text_mode, running_tools=self._running_tools
        )

    def _update(self) -> None:
        if self.is_mounted:
            self.query_one("#insight-body", Static).update(self._body())
