"""Typed events for "agent insight": what the agent's own session stream tells us, and what we measure.

An agent built on livekit-agents publishes its session (state, transcripts, conversation items with their
per-turn metrics, tool calls, usage, errors) as protobuf messages on the ``lk.agent.session`` byte-stream
topic. :mod:`.agent_session_codec` turns those messages into the events below, so front ends see the same
frozen dataclasses as for everything else and never touch a protobuf.

Conventions, chosen so the events serialise to JSONL without a per-type mapping (:meth:`InsightEvent.
to_fields`):

* Field values are plain Python: ``str``, ``float``, ``int``, ``bool``, ``None``, tuples, mappings and
  the small frozen item dataclasses below.
* Durations are milliseconds (``*_ms``) as floats; the wire carries seconds, and every latency a user
  reads in this app is in ms. Absent figures are ``None``, never 0, because 0 is a real measurement.
* ``created_at`` is the agent's own timestamp (Unix seconds) when it sent one; ``at`` (from
  :class:`~.events.SessionEvent`) stays the local time we received it, since agent clocks are not trusted
  for ordering.
* Enum values are the lower-case names livekit-agents uses in Python (``"speaking"``, ``"assistant"``,
  ``"done"``); a value this build does not know becomes ``"unknown"`` instead of failing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from agent_tui.session.events import SessionEvent

UNKNOWN = "unknown"


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: dataclasses become dicts, tuples lists, mappings dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        kind = getattr(type(value), "kind", None)
        if isinstance(kind, str):
            out = {"kind": kind, **out}
        return out
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, kw_only=True)
class InsightEvent(SessionEvent):
    """Base of the agent-insight events: adds the generic field mapping the JSONL writer needs."""

    type: ClassVar[str] = "insight"

    def to_fields(self) -> dict[str, Any]:
        """Every field except ``at`` as JSON-ready Python (the record writer adds ``type`` and ``at``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "at"}


# --- conversation items (plain values carried by events and responses) -----------------------------


@dataclass(frozen=True, kw_only=True)
class TurnMetricsValues:
    """The agent's own per-turn figures from one ``ChatMessage.metrics`` (livekit-agents ``MetricsReport``).

    User messages carry the listening side (transcription delay, end-of-turn delay, the
    ``on_user_turn_completed`` hook); assistant messages carry the speaking side (LLM time to first token
    and to first sentence, tokens per second, TTS time to first byte, and ``e2e_ms``: from the user's end
    of speech as the agent's VAD saw it to the agent's first audio frame). ``playback_latency`` exists in
    livekit-agents but is not on the wire.
    """

    started_speaking_at: float | None = None
    stopped_speaking_at: float | None = None
    transcription_delay_ms: float | None = None
    end_of_turn_ms: float | None = None
    on_user_turn_completed_ms: float | None = None
    llm_ttft_ms: float | None = None
    llm_ttfs_ms: float | None = None
    llm_tokens_per_second: float | None = None
    tts_ttfb_ms: float | None = None
    e2e_ms: float | None = None

    @property
    def empty(self) -> bool:
        """True when the agent sent no figure at all (it sends an empty report on most messages)."""
        return all(getattr(self, f.name) is None for f in dataclasses.fields(self))


@dataclass(frozen=True, kw_only=True)
class ChatMessageItem:
    """A message of the conversation as the agent recorded it (``role``: user, assistant, system, ...)."""

    kind: ClassVar[str] = "message"
    id: str
    role: str
    text: str
    interrupted: bool = False
    transcript_confidence: float | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    metrics: TurnMetricsValues | None = None
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class FunctionCallItem:
    """A tool call the LLM made; ``arguments`` is the JSON text exactly as the LLM produced it."""

    kind: ClassVar[str] = "function_call"
    id: str
    call_id: str
    name: str
    arguments: str
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class FunctionCallOutputItem:
    """The result of a tool call, matched to it by ``call_id``."""

    kind: ClassVar[str] = "function_call_output"
    id: str
    call_id: str
    name: str
    output: str
    is_error: bool
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class AgentHandoffItem:
    """Control passed from one agent (``old_agent_id``, empty for the first) to another."""

    kind: ClassVar[str] = "agent_handoff"
    id: str
    old_agent_id: str
    new_agent_id: str
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class AgentConfigUpdateItem:
    """The current agent changed its instructions (``None`` when unchanged) or its tool set."""

    kind: ClassVar[str] = "agent_config_update"
    id: str
    instructions: str | None
    tools_added: tuple[str, ...] = ()
    tools_removed: tuple[str, ...] = ()
    created_at: float | None = None


ChatItem = (
    ChatMessageItem | FunctionCallItem | FunctionCallOutputItem | AgentHandoffItem | AgentConfigUpdateItem
)


@dataclass(frozen=True, kw_only=True)
class ModelUsage:
    """Usage of one model (``kind``: llm, tts, stt, interruption, eot); ``counters`` holds its figures.

    The counters are the protobuf fields of that kind by name (``input_tokens``, ``characters_count``,
    ``audio_duration`` in seconds, ...), kept as a mapping so a new counter needs no change here.
    """

    kind: str
    provider: str
    model: str
    counters: Mapping[str, float] = field(default_factory=dict)


# --- events from the agent's session stream ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AgentSessionStateChanged(InsightEvent):
    """The agent's own state (initializing, idle, listening, thinking, speaking), as its session saw it.

    This is the agent's view, sent before its ``lk.agent.state`` attribute reaches us; the client-side
    :class:`~.events.AgentStateChanged` stays the authority for connection-aware state.
    """

    type: ClassVar[str] = "agent_session_state"
    old_state: str
    new_state: str
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class UserStateChanged(InsightEvent):
    """The user's state as the agent's VAD saw it: speaking, listening or away.

    ``created_at`` is already corrected by the agent for its VAD latency, so it is the best estimate of
    when the user really started or stopped speaking.
    """

    type: ClassVar[str] = "user_state"
    old_state: str
    new_state: str
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class UserTranscript(InsightEvent):
    """The agent's STT result for the user: interim (``is_final`` False) or final; ``language`` if known."""

    type: ClassVar[str] = "user_transcript"
    transcript: str
    is_final: bool
    language: str | None = None
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class ConversationItemAdded(InsightEvent):
    """An item was committed to the agent's conversation (a message, a handoff, ...)."""

    type: ClassVar[str] = "conversation_item"
    item: ChatItem
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class TurnMetrics(InsightEvent):
    """The agent's figures for one message, emitted next to its :class:`ConversationItemAdded`.

    Kept as its own event so a metrics view or the JSONL stream can follow latency without parsing
    conversation items; ``role`` tells which side of the turn the figures describe.
    """

    type: ClassVar[str] = "turn_metrics"
    message_id: str
    role: str
    metrics: TurnMetricsValues
    created_at: float | None = None

    @property
    def end_of_turn_ms(self) -> float | None:
        return self.metrics.end_of_turn_ms

    @property
    def llm_ttft_ms(self) -> float | None:
        return self.metrics.llm_ttft_ms

    @property
    def tts_ttfb_ms(self) -> float | None:
        return self.metrics.tts_ttfb_ms

    @property
    def e2e_ms(self) -> float | None:
        return self.metrics.e2e_ms


@dataclass(frozen=True, kw_only=True)
class ToolCall(InsightEvent):
    """The agent started (or, for agents that only report afterwards, ran) a function tool.

    Emitted once per ``call_id`` whichever message announced it first. ``from_history`` marks a call this
    client did not see live but found in the agent's history when it joined or reconnected (see
    :mod:`.history`); ``created_at`` is then the agent's time of the call.
    """

    type: ClassVar[str] = "tool_call"
    call_id: str
    name: str
    arguments: str
    id: str = ""
    created_at: float | None = None
    from_history: bool = False

    @classmethod
    def of(cls, item: FunctionCallItem, **fields: Any) -> ToolCall:
        """The event for a conversation item (live or from history); ``fields`` sets the rest."""
        return cls(call_id=item.call_id, name=item.name, arguments=item.arguments, id=item.id, **fields)


@dataclass(frozen=True, kw_only=True)
class ToolResult(InsightEvent):
    """A function tool finished; ``output`` is what was handed back to the LLM. Once per ``call_id``.

    ``from_history`` as for :class:`ToolCall`: the result was found in the fetched history, not seen live.
    """

    type: ClassVar[str] = "tool_result"
    call_id: str
    name: str
    output: str
    is_error: bool
    created_at: float | None = None
    from_history: bool = False

    @classmethod
    def of(cls, item: FunctionCallOutputItem, **fields: Any) -> ToolResult:
        """The event for a conversation item (live or from history); ``fields`` sets the rest."""
        return cls(call_id=item.call_id, name=item.name, output=item.output, is_error=item.is_error, **fields)


@dataclass(frozen=True, kw_only=True)
class ToolUpdate(InsightEvent):
    """Progress of a long-running tool (livekit-agents ``tool_execution_updated``).

    ``phase`` is ``call_updated`` (a progress ``message``), ``ended`` (``status``: done, error, cancelled)
    or ``reply_updated`` (the spoken reply about the updates ``update_ids``, ``status``: scheduled,
    completed, interrupted, skipped, for speech ``speech_id``). The ``started`` phase is reported as a
    :class:`ToolCall` instead, so a call is announced once however the agent reports it.
    """

    type: ClassVar[str] = "tool_update"
    phase: str
    id: str = ""
    call_id: str = ""
    message: str | None = None
    status: str | None = None
    update_ids: tuple[str, ...] = ()
    speech_id: str = ""
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class SessionUsage(InsightEvent):
    """Cumulative model usage of the agent's session (sent on change, and answered on request)."""

    type: ClassVar[str] = "session_usage"
    models: tuple[ModelUsage, ...]
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class AgentError(InsightEvent):
    """An error the agent's session reported (an LLM, STT or TTS failure, ...); the agent may recover."""

    type: ClassVar[str] = "agent_error"
    message: str
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class OverlappingSpeech(InsightEvent):
    """The agent heard the user over its own speech; ``is_interruption`` says whether it yielded."""

    type: ClassVar[str] = "overlapping_speech"
    is_interruption: bool
    overlap_started_at: float | None = None
    detected_at: float | None = None
    detection_delay_ms: float | None = None
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class FalseInterruption(InsightEvent):
    """An interruption turned out to be noise; ``resumed`` tells whether the agent resumed speaking."""

    type: ClassVar[str] = "false_interruption"
    resumed: bool
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class EndOfTurnPrediction(InsightEvent):
    """One run of the agent's end-of-turn model: the probability against the threshold it uses."""

    type: ClassVar[str] = "eot_prediction"
    probability: float
    threshold: float
    inference_ms: float | None = None
    delay_ms: float | None = None
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class AnsweringMachinePrediction(InsightEvent):
    """The agent's answering-machine detection verdict (``category``: human, machine_ivr, ...)."""

    type: ClassVar[str] = "amd_prediction"
    category: str
    reason: str
    transcript: str
    speech_duration_ms: float | None = None
    delay_ms: float | None = None
    created_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class AgentDebug(InsightEvent):
    """A free-form debug payload the agent framework emitted (livekit-agents ``debug_message``)."""

    type: ClassVar[str] = "agent_debug"
    payload: Mapping[str, Any]
    created_at: float | None = None


# --- answers to our requests -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChatHistory(InsightEvent):
    """The agent's whole conversation so far, fetched on join so a late or reconnecting client can show it."""

    type: ClassVar[str] = "chat_history"
    items: tuple[ChatItem, ...]


@dataclass(frozen=True, kw_only=True)
class AgentInfo(InsightEvent):
    """The current agent: its id, its instructions, its tool names and its own chat context."""

    type: ClassVar[str] = "agent_info"
    id: str
    instructions: str
    tools: tuple[str, ...]
    chat_ctx: tuple[ChatItem, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SessionStateSnapshot(InsightEvent):
    """The agent session's state on request: states, current agent, options (as the agent's own strings)."""

    type: ClassVar[str] = "session_state"
    agent_state: str
    user_state: str
    agent_id: str
    options: Mapping[str, str]
    started_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class AgentFramework(InsightEvent):
    """Which agent framework answers (``sdk`` "python" for livekit-agents) and its version."""

    type: ClassVar[str] = "agent_framework"
    sdk: str
    sdk_version: str


@dataclass(frozen=True, kw_only=True)
class TextModeChanged(InsightEvent):
    """The agent agreed to answer in text only (``on``) or in voice again; the audio engine drops what
    it still has queued to play when text mode starts, since a reply already playing is not interrupted."""

    type: ClassVar[str] = "text_mode"
    on: bool


# --- measured by this client -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class VoiceLatency(InsightEvent):
    """Client-measured voice-to-voice latency of one turn (see :mod:`.voice_latency` for the rules).

    ``user_end`` and ``reply_start`` are on the clock the caller fed the meter with (monotonic seconds);
    ``source`` is ``vad`` (the end of speech found in the captured mic signal) or ``ptt`` (the talk key
    was released). ``overlapped`` marks a turn during which the agent was audible while the user spoke.
    """

    type: ClassVar[str] = "voice_latency"
    turn: int
    latency_ms: float
    user_end: float
    reply_start: float
    source: str
    overlapped: bool = False


@dataclass(frozen=True, kw_only=True)
class LatencyStats:
    """Count and percentiles of a series of latencies, in ms (all ``None`` when the series is empty)."""

    count: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    mean_ms: float | None


@dataclass(frozen=True, kw_only=True)
class VoiceLatencySummary(InsightEvent):
    """The session's voice-to-voice figures: ours (``client``) beside the agent's own ``e2e`` (``agent``).

    ``unpaired`` counts user turns that never got a reply we could pair (superseded by a later turn or a
    talk-key press, or answered only after ``max_latency``); ``pending`` is a turn still waiting at the end.
    """

    type: ClassVar[str] = "voice_latency_summary"
    client: LatencyStats
    agent: LatencyStats
    unpaired: int
    pending: bool


# --- state -------------------------------------------------------------------------------------------


class InsightState:
    """The latest of everything the agent's session stream said, folded from the events above.

    Front ends that draw a status line (agent and user state, tools running, last turn's figures) read
    this instead of each keeping its own copy; the Session applies every insight event to one instance,
    in order. Pure and cheap: each event is one dictionary or attribute update.
    """

    def __init__(self) -> None:
        self.agent_state: str | None = None
        self.user_state: str | None = None
        #: the user's words while they speak (the agent's interim STT); empty once final
        self.interim_transcript = ""
        self.agent_info: AgentInfo | None = None
        self.usage: SessionUsage | None = None
        #: the last figures of each side of a turn (user: end of turn; assistant: LLM, TTS, e2e)
        self.user_metrics: TurnMetricsValues | None = None
        self.agent_metrics: TurnMetricsValues | None = None
        #: tool calls started and not yet finished, by call id
        self.running_tools: dict[str, ToolCall] = {}
        self.last_error: str | None = None
        self.error_count = 0
        #: overlapping speech the agent detected, and how many of those made it yield
        self.overlaps = 0
        self.interruptions = 0
        self.false_interruptions = 0
        self.last_voice_latency: VoiceLatency | None = None

    def apply(self, event: SessionEvent) -> bool:
        """Fold ``event`` in; True if it was an insight event this state tracks."""
        match event:
            case AgentSessionStateChanged():
                self.agent_state = event.new_state
            case UserStateChanged():
                self.user_state = event.new_state
            case UserTranscript():
                self.interim_transcript = "" if event.is_final else event.transcript
            case SessionStateSnapshot():
                self.agent_state, self.user_state = event.agent_state, event.user_state
            case AgentInfo():
                self.agent_info = event
            case SessionUsage():
                self.usage = event
            case TurnMetrics():
                if event.role == "user":
                    self.user_metrics = event.metrics
                else:
                    self.agent_metrics = event.metrics
            case ToolCall():
                self.running_tools[event.call_id] = event
            case ToolResult():
                self.running_tools.pop(event.call_id, None)
            case ToolUpdate(phase="ended"):
                self.running_tools.pop(event.call_id, None)
            case AgentError():
                self.last_error = event.message
                self.error_count += 1
            case OverlappingSpeech():
                self.overlaps += 1
                self.interruptions += event.is_interruption
            case FalseInterruption():
                self.false_interruptions += 1
            case VoiceLatency():
                self.last_voice_latency = event
            case _:
                return False
        return True
