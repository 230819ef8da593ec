"""``AgentStateIndicator``: the agent's live state, one colour and symbol per state, motion while
thinking or speaking, the failure reason in words, and the agent's mood when it expresses one.

It follows its :class:`~.provider.SessionProvider`: ``agent_state``, ``agent_failure`` and
``agent_expression`` set what it shows, and the provider's ``frame`` advances the animation, so one
clock drives every animated widget (stopped for deterministic snapshots) and the repaint rate stays
bounded. Styling: the classes ``-<state>`` (``-listening``, ``-thinking``, ``-failed``…) on the widget,
``#agent-state-title`` and ``#agent-state-detail`` inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from agent_tui.session import AgentExpression, AgentFailure, AgentState

from .label_text import CycleLabel, show_line
from .provider import provider_of


@dataclass(frozen=True)
class StateLook:
    symbol: str
    title: str
    detail: str


LOOKS: dict[AgentState, StateLook] = {
    AgentState.DISCONNECTED: StateLook("○", "Disconnected", "Not in a room."),
    AgentState.CONNECTING: StateLook("◌", "Connecting", "Joining the room, waiting for the agent…"),
    AgentState.PRE_CONNECT_BUFFERING: StateLook(
        "◍", "Buffering", "Speak now: audio is kept until the agent joins."
    ),
    AgentState.INITIALIZING: StateLook("◔", "Initializing", "The agent joined and is starting up."),
    AgentState.IDLE: StateLook("◎", "Idle", "The agent is idle."),
    AgentState.LISTENING: StateLook("●", "Listening", "Speak, or type a message."),
    AgentState.THINKING: StateLook("⠋", "Thinking", "The agent is working on a reply."),
    AgentState.SPEAKING: StateLook("▶", "Speaking", "The agent is talking."),
    AgentState.FAILED: StateLook("✖", "Failed", "The agent is not available."),
}

#: The states shown in motion (a spinner, moving bars); the others hold still.
ANIMATED_STATES = frozenset({AgentState.THINKING, AgentState.SPEAKING})

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_BARS = ("▁▃▅", "▃▅▇", "▅▇▅", "▇▅▃", "▅▃▁", "▃▁▃")


def animation_symbol(state: AgentState, frame: int) -> str:
    """The symbol for ``frame`` of an animated state (the static symbol for the others)."""
    if state is AgentState.THINKING:
        return _SPINNER[frame % len(_SPINNER)]
    if state is AgentState.SPEAKING:
        return _BARS[frame % len(_BARS)]
    return LOOKS[state].symbol


#: Longest provider wording shown for an expression without a normalised mood (the agent panel is narrow).
EXPRESSION_WIDTH = 16


def expression_label(expression: AgentExpression) -> str:
    """The agent's expression in a word or two (its mood, else its wording), "" when neutral."""
    if expression.mood is not None:
        return expression.mood.value
    wording = expression.expression or ""
    return wording if len(wording) <= EXPRESSION_WIDTH else wording[: EXPRESSION_WIDTH - 1] + "…"


def describe(state: AgentState, failure: AgentFailure | None) -> str:
    """The words under the state: the failure and what to do about it, when there is one."""
    if state is AgentState.FAILED and failure is not None:
        return f"{failure.value} {failure.hint[0].upper()}{failure.hint[1:]}."
    return LOOKS[state].detail


class AgentStateIndicator(Vertical):
    """Two lines: ``● Listening`` in the state's colour (and ``· excited`` when the agent expresses a
    mood), then what it means."""

    DEFAULT_CSS = """
    AgentStateIndicator { height: auto; }
    AgentStateIndicator #agent-state-title { text-style: bold; }
    AgentStateIndicator #agent-state-detail { color: $foreground-muted; width: 1fr; height: auto; }
    AgentStateIndicator.-disconnected #agent-state-title { color: $foreground-muted; }
    AgentStateIndicator.-connecting #agent-state-title { color: $primary; }
    AgentStateIndicator.-pre-connect-buffering #agent-state-title { color: $secondary; }
    AgentStateIndicator.-initializing #agent-state-title { color: $primary; }
    AgentStateIndicator.-idle #agent-state-title { color: $foreground-muted; }
    AgentStateIndicator.-listening #agent-state-title { color: $success; }
    AgentStateIndicator.-thinking #agent-state-title { color: $warning; }
    AgentStateIndicator.-speaking #agent-state-title { color: $accent; }
    AgentStateIndicator.-failed #agent-state-title { color: $error; }
    AgentStateIndicator.-failed #agent-state-detail { color: $text-error; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._state = AgentState.DISCONNECTED
        self._failure: AgentFailure | None = None
        self._expression = AgentExpression()
        self._frame = 0

    @property
    def state(self) -> AgentState:
        return self._state

    @property
    def failure(self) -> AgentFailure | None:
        return self._failure

    @property
    def animated(self) -> bool:
        return self._state in ANIMATED_STATES

    def compose(self) -> ComposeResult:
        yield CycleLabel(self._title(), id="agent-state-title")
        yield Label(describe(self._state, self._failure), id="agent-state-detail")

    def on_mount(self) -> None:
        provider = provider_of(self)
        self._state, self._failure = provider.agent_state, provider.agent_failure
        self._expression = provider.agent_expression
        self.set_state(self._state, self._failure)

        def follow(_: object) -> None:
            self.set_state(provider.agent_state, provider.agent_failure)

        self.watch(provider, "agent_state", follow, init=False)
        self.watch(provider, "agent_failure", follow, init=False)
        self.watch(provider, "agent_expression", self.set_expression, init=False)
        self.watch(provider, "frame", lambda _: self.advance(), init=False)

    def set_state(self, state: AgentState, failure: AgentFailure | None = None) -> None:
        self._state = state
        self._failure = failure
        self._frame = 0
        self._apply_class()
        if self.is_mounted:
            self.query_one("#agent-state-title", Label).update(self._title())
            self.query_one("#agent-state-detail", Label).update(describe(state, failure))

    @property
    def expression(self) -> AgentExpression:
        return self._expression

    def set_expression(self, expression: AgentExpression) -> None:
        self._expression = expression
        if self.is_mounted:
            self.query_one("#agent-state-title", Label).update(self._title())

    def advance(self) -> None:
        """Next animation frame; a no-op for still states."""
        if not self.animated:
            return
        self._frame += 1
        show_line(self.query_one("#agent-state-title", Label), self._title())

    def _title(self) -> str:
        title = f"{animation_symbol(self._state, self._frame)} {LOOKS[self._state].title}"
        label = expression_label(self._expression)
        return f"{title} · {label}" if label else title

    def _apply_class(self) -> None:
        for state in AgentState:
            self.set_class(state is self._state, f"-{state.value}")
