"""Decoding the agent's ``lk.agent.session`` messages, and building our requests, with no I/O.

The protocol (livekit-agents ``voice/remote_session.py``, protobufs in livekit-protocol
``agent_pb.agent_session``): every message is one serialized ``AgentSessionMessage`` carried as one whole
byte stream. The agent's ``SessionHost`` sends ``event`` messages as things happen and a ``response`` for
each ``request`` a client sends, echoing its ``request_id``. The host has no remote identity, so it sends
to everyone in the room: we also receive answers to other clients' requests (the client ignores ids it
did not issue) and may receive other clients' requests (ignored here).

:class:`AgentSessionDecoder` maps one message to our :mod:`.insight_events` and, for a response, a
:class:`Response` the request client correlates. It never raises on input: bytes that are not a valid
message are counted as *malformed*, a valid message of a kind this build does not know (a newer agent)
as *unknown*, and both are otherwise ignored. That is what lets the Session feed it whatever arrives on
the topic without guarding every call.

The decoder keeps one piece of state: the ``call_id`` of tool calls and results it has already reported.
livekit-agents announces a call when it starts (``tool_execution_updated.started``) and again with its
result (``function_tools_executed``), and older or other agents may only do the latter, so a call is
reported as a :class:`~.insight_events.ToolCall` by whichever message comes first and never twice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message as ProtoMessage
from google.protobuf.timestamp_pb2 import Timestamp
from livekit.protocol.agent_pb import agent_session as pb

from agent_tui.session.agent_stream.events import (
    UNKNOWN,
    AgentConfigUpdateItem,
    AgentDebug,
    AgentError,
    AgentFramework,
    AgentHandoffItem,
    AgentInfo,
    AgentSessionStateChanged,
    AnsweringMachinePrediction,
    ChatHistory,
    ChatItem,
    ChatMessageItem,
    ConversationItemAdded,
    EndOfTurnPrediction,
    FalseInterruption,
    FunctionCallItem,
    FunctionCallOutputItem,
    InsightEvent,
    ModelUsage,
    OverlappingSpeech,
    SessionStateSnapshot,
    SessionUsage,
    ToolCall,
    ToolResult,
    ToolUpdate,
    TurnMetrics,
    TurnMetricsValues,
    UserStateChanged,
    UserTranscript,
)

#: The byte-stream topic of the protocol; streams are named ``AS_<id>``.
AGENT_SESSION_TOPIC = "lk.agent.session"
STREAM_NAME_PREFIX = "AS_"

_AGENT_STATES = {
    pb.AS_INITIALIZING: "initializing",
    pb.AS_IDLE: "idle",
    pb.AS_LISTENING: "listening",
    pb.AS_THINKING: "thinking",
    pb.AS_SPEAKING: "speaking",
}
_USER_STATES = {pb.US_SPEAKING: "speaking", pb.US_LISTENING: "listening", pb.US_AWAY: "away"}
_ROLES = {pb.DEVELOPER: "developer", pb.SYSTEM: "system", pb.USER: "user", pb.ASSISTANT: "assistant"}
_TOOL_CALL_STATUSES = {
    pb.TC_RUNNING: "running",
    pb.TC_DONE: "done",
    pb.TC_ERROR: "error",
    pb.TC_CANCELLED: "cancelled",
}
_TOOL_REPLY_STATUSES = {
    pb.TR_SCHEDULED: "scheduled",
    pb.TR_COMPLETED: "completed",
    pb.TR_INTERRUPTED: "interrupted",
    pb.TR_SKIPPED: "skipped",
}
_AMD_CATEGORIES = {
    pb.AMD_UNKNOWN: "unknown",
    pb.AMD_HUMAN: "human",
    pb.AMD_MACHINE_IVR: "machine_ivr",
    pb.AMD_MACHINE_VM: "machine_vm",
    pb.AMD_MACHINE_UNAVAILABLE: "machine_unavailable",
    pb.AMD_UNCERTAIN: "uncertain",
}
# MetricsReport seconds fields -> our millisecond names (llm_node_tps is a rate, handled on its own)
_METRIC_MS_FIELDS = {
    "transcription_delay": "transcription_delay_ms",
    "end_of_turn_delay": "end_of_turn_ms",
    "on_user_turn_completed_delay": "on_user_turn_completed_ms",
    "llm_node_ttft": "llm_ttft_ms",
    "llm_node_ttfs": "llm_ttfs_ms",
    "tts_node_ttfb": "tts_ttfb_ms",
    "e2e_latency": "e2e_ms",
}
# message kinds only the TCP console transport uses, or that only a host should receive
_IGNORED_KINDS = frozenset(
    {
        "request",
        "audio_input",
        "audio_output",
        "audio_playback_flush",
        "audio_playback_clear",
        "audio_playback_finished",
    }
)
_TRACKED_CALLS = 512


@dataclass(frozen=True)
class Response:
    """One answer from the agent, ready to hand to whoever sent ``request_id``.

    ``kind`` is the response's oneof name (``pong``, ``get_chat_history``, ...; ``None`` for a kind this
    build does not know), ``error`` the agent's error text when the request failed, and ``payload`` the
    answer decoded into our types: :class:`~.insight_events.ChatHistory` for chat history and
    ``run_input`` (the new items of that turn), :class:`~.insight_events.AgentInfo`,
    :class:`~.insight_events.SessionStateSnapshot`, :class:`~.insight_events.SessionUsage`,
    :class:`~.insight_events.AgentFramework`, or ``None`` (pong, update_io, kinds we do not decode).
    """

    request_id: str
    kind: str | None
    error: str | None
    payload: InsightEvent | None


@dataclass(frozen=True)
class Decoded:
    """What one message turned into: events to publish, and the response it carried, if any."""

    events: tuple[InsightEvent, ...] = ()
    response: Response | None = None


@dataclass(frozen=True)
class DecoderStats:
    """Counters since the decoder was made; ``messages`` counts every :meth:`AgentSessionDecoder.decode`."""

    messages: int
    events: int
    responses: int
    ignored: int
    unknown: int
    malformed: int


_NOTHING = Decoded()


def _timestamp(message: ProtoMessage, name: str) -> float | None:
    if not message.HasField(name):
        return None
    value = getattr(message, name)
    assert isinstance(value, Timestamp)
    return float(value.seconds) + value.nanos / 1e9


def _duration_ms(message: ProtoMessage, name: str) -> float | None:
    if not message.HasField(name):
        return None
    value = getattr(message, name)
    assert isinstance(value, Duration)
    return (float(value.seconds) + value.nanos / 1e9) * 1000.0


def _optional_float(message: ProtoMessage, name: str) -> float | None:
    return float(getattr(message, name)) if message.HasField(name) else None


def _name(table: Mapping[Any, str], value: int) -> str:
    # proto3 enums are open: a newer agent can send a value this build has no name for
    return table.get(value, UNKNOWN)


def decode_metrics(report: pb.MetricsReport) -> TurnMetricsValues:
    """A ``MetricsReport`` in our units: seconds become ms, only the fields the agent set are filled."""
    values: dict[str, float | None] = {
        ours: (float(getattr(report, theirs)) * 1000.0 if report.HasField(theirs) else None)
        for theirs, ours in _METRIC_MS_FIELDS.items()
    }
    return TurnMetricsValues(
        started_speaking_at=_timestamp(report, "started_speaking_at"),
        stopped_speaking_at=_timestamp(report, "stopped_speaking_at"),
        llm_tokens_per_second=_optional_float(report, "llm_node_tps"),
        **values,
    )


def decode_chat_item(item: pb.ChatContext.ChatItem) -> ChatItem | None:
    """One conversation item in our types, or ``None`` for an item kind this build does not know."""
    kind = item.WhichOneof("item")
    if kind == "message":
        m = item.message
        metrics = decode_metrics(m.metrics) if m.HasField("metrics") else None
        return ChatMessageItem(
            id=m.id,
            role=_name(_ROLES, m.role),
            # livekit-agents puts each text part in its own ChatContent and drops images/audio
            text="\n".join(c.text for c in m.content if c.text),
            interrupted=m.interrupted,
            transcript_confidence=_optional_float(m, "transcript_confidence"),
            extra=dict(m.extra),
            metrics=None if metrics is None or metrics.empty else metrics,
            created_at=_timestamp(m, "created_at"),
        )
    if kind == "function_call":
        c = item.function_call
        return FunctionCallItem(
            id=c.id,
            call_id=c.call_id,
            name=c.name,
            arguments=c.arguments,
            created_at=_timestamp(c, "created_at"),
        )
    if kind == "function_call_output":
        o = item.function_call_output
        return FunctionCallOutputItem(
            id=o.id,
            call_id=o.call_id,
            name=o.name,
            output=o.output,
            is_error=o.is_error,
            created_at=_timestamp(o, "created_at"),
        )
    if kind == "agent_handoff":
        h = item.agent_handoff
        return AgentHandoffItem(
            id=h.id,
            old_agent_id=h.old_agent_id,
            new_agent_id=h.new_agent_id,
            created_at=_timestamp(h, "created_at"),
        )
    if kind == "agent_config_update":
        u = item.agent_config_update
        return AgentConfigUpdateItem(
            id=u.id,
            instructions=u.instructions if u.HasField("instructions") else None,
            tools_added=tuple(u.tools_added),
            tools_removed=tuple(u.tools_removed),
            created_at=_timestamp(u, "created_at"),
        )
    return None


def decode_chat_items(items: Iterable[pb.ChatContext.ChatItem]) -> tuple[ChatItem, ...]:
    """The known items of a list, in order (items of unknown kinds are skipped)."""
    return tuple(decoded for decoded in map(decode_chat_item, items) if decoded is not None)


def decode_usage(usage: pb.AgentSessionUsage, created_at: float | None = None) -> SessionUsage:
    models: list[ModelUsage] = []
    for entry in usage.model_usage:
        kind = entry.WhichOneof("usage")
        if kind is None:
            continue
        variant = getattr(entry, kind)
        counters = {
            fd.name: float(getattr(variant, fd.name))
            for fd in variant.DESCRIPTOR.fields
            if fd.name not in ("provider", "model")
        }
        models.append(
            ModelUsage(kind=kind, provider=variant.provider, model=variant.model, counters=counters)
        )
    return SessionUsage(models=tuple(models), created_at=created_at)


class AgentSessionDecoder:
    """Turns serialized ``AgentSessionMessage`` bytes into events and responses; see the module doc."""

    def __init__(self) -> None:
        self._messages = 0
        self._events = 0
        self._responses = 0
        self._ignored = 0
        self._unknown = 0
        self._malformed = 0
        # call ids already reported, oldest first, bounded so a long session cannot grow it without limit
        self._announced_calls: OrderedDict[str, None] = OrderedDict()
        self._reported_results: OrderedDict[str, None] = OrderedDict()

    @property
    def stats(self) -> DecoderStats:
        return DecoderStats(
            messages=self._messages,
            events=self._events,
            responses=self._responses,
            ignored=self._ignored,
            unknown=self._unknown,
            malformed=self._malformed,
        )

    def decode(self, data: bytes) -> Decoded:
        """Decode one whole message; never raises (bad input is counted and yields nothing)."""
        self._messages += 1
        try:
            message = pb.AgentSessionMessage()
            message.ParseFromString(data)
            kind = message.WhichOneof("message")
            if kind == "event":
                events = self._decode_event(message.event)
                if events is None:
                    self._unknown += 1
                    return _NOTHING
                self._events += 1
                return Decoded(events=tuple(events))
            if kind == "response":
                response = self._decode_response(message.response)
                self._responses += 1
                return Decoded(response=response)
            if kind in _IGNORED_KINDS:
                self._ignored += 1
                return _NOTHING
            self._unknown += 1
            return _NOTHING
        except Exception:
            # DecodeError for bytes that are not a message (invalid UTF-8 included), RecursionError for
            # absurd nesting; a mapping bug must not take the stream handler down either
            self._malformed += 1
            return _NOTHING

    # --- events -----------------------------------------------------------------------------------

    def _decode_event(self, event: pb.AgentSessionEvent) -> list[InsightEvent] | None:
        """The events one ``AgentSessionEvent`` stands for, or ``None`` for an unknown kind."""
        kind = event.WhichOneof("event")
        at = _timestamp(event, "created_at")
        if kind == "agent_state_changed":
            e = event.agent_state_changed
            return [
                AgentSessionStateChanged(
                    old_state=_name(_AGENT_STATES, e.old_state),
                    new_state=_name(_AGENT_STATES, e.new_state),
                    created_at=at,
                )
            ]
        if kind == "user_state_changed":
            u = event.user_state_changed
            return [
                UserStateChanged(
                    old_state=_name(_USER_STATES, u.old_state),
                    new_state=_name(_USER_STATES, u.new_state),
                    created_at=at,
                )
            ]
        if kind == "user_input_transcribed":
            t = event.user_input_transcribed
            return [
                UserTranscript(
                    transcript=t.transcript,
                    is_final=t.is_final,
                    language=t.language if t.HasField("language") else None,
                    created_at=at,
                )
            ]
        if kind == "conversation_item_added":
            return self._conversation_item(event.conversation_item_added.item, at)
        if kind == "function_tools_started":
            return self._calls(event.function_tools_started.function_calls, at)
        if kind == "function_tools_executed":
            executed = event.function_tools_executed
            return self._calls(executed.function_calls, at) + self._results(
                executed.function_call_outputs, at
            )
        if kind == "tool_execution_updated":
            return self._tool_update(event.tool_execution_updated, at)
        if kind == "error":
            return [AgentError(message=event.error.message, created_at=at)]
        if kind == "overlapping_speech":
            o = event.overlapping_speech
            return [
                OverlappingSpeech(
                    is_interruption=o.is_interruption,
                    overlap_started_at=_timestamp(o, "overlap_started_at"),
                    detected_at=_timestamp(o, "detected_at"),
                    detection_delay_ms=o.detection_delay * 1000.0,
                    created_at=at,
                )
            ]
        if kind == "session_usage_updated":
            return [decode_usage(event.session_usage_updated.usage, at)]
        if kind == "agent_false_interruption":
            return [FalseInterruption(resumed=event.agent_false_interruption.resumed, created_at=at)]
        if kind == "eot_prediction":
            p = event.eot_prediction
            return [
                EndOfTurnPrediction(
                    probability=p.probability,
                    threshold=p.threshold,
                    inference_ms=_duration_ms(p, "inference_duration"),
                    delay_ms=_duration_ms(p, "delay"),
                    created_at=at,
                )
            ]
        if kind == "amd_prediction":
            a = event.amd_prediction
            return [
                AnsweringMachinePrediction(
                    category=_name(_AMD_CATEGORIES, a.category),
                    reason=a.reason,
                    transcript=a.transcript,
                    speech_duration_ms=_duration_ms(a, "speech_duration"),
                    delay_ms=_duration_ms(a, "delay"),
                    created_at=at,
                )
            ]
        if kind == "debug_message":
            payload: dict[str, Any] = MessageToDict(event.debug_message.payload)
            return [AgentDebug(payload=payload, created_at=at)]
        return None

    def _conversation_item(self, raw: pb.ChatContext.ChatItem, at: float | None) -> list[InsightEvent] | None:
        item = decode_chat_item(raw)
        if item is None:
            return None
        events: list[InsightEvent] = [ConversationItemAdded(item=item, created_at=at)]
        if isinstance(item, ChatMessageItem) and item.metrics is not None:
            events.append(
                TurnMetrics(message_id=item.id, role=item.role, metrics=item.metrics, created_at=at)
            )
        elif isinstance(item, FunctionCallItem) and self._first(self._announced_calls, item.call_id):
            events.append(ToolCall.of(item, created_at=at))
        elif isinstance(item, FunctionCallOutputItem) and self._first(self._reported_results, item.call_id):
            events.append(ToolResult.of(item, created_at=at))
        return events

    def _calls(self, calls: Iterable[pb.FunctionCall], at: float | None) -> list[InsightEvent]:
        return [
            ToolCall(call_id=c.call_id, name=c.name, arguments=c.arguments, id=c.id, created_at=at)
            for c in calls
            if self._first(self._announced_calls, c.call_id)
        ]

    def _results(self, outputs: Iterable[pb.FunctionCallOutput], at: float | None) -> list[InsightEvent]:
        return [
            ToolResult(call_id=o.call_id, name=o.name, output=o.output, is_error=o.is_error, created_at=at)
            for o in outputs
            if self._first(self._reported_results, o.call_id)
        ]

    def _tool_update(
        self, update: pb.AgentSessionEvent.ToolExecutionUpdated, at: float | None
    ) -> list[InsightEvent]:
        phase = update.WhichOneof("update")
        if phase == "started":
            return self._calls([update.started.function_call], at)
        if phase == "call_updated":
            c = update.call_updated
            return [ToolUpdate(phase=phase, id=c.id, call_id=c.call_id, message=c.message, created_at=at)]
        if phase == "ended":
            e = update.ended
            return [
                ToolUpdate(
                    phase=phase,
                    id=e.id,
                    call_id=e.call_id,
                    message=e.message if e.HasField("message") else None,
                    status=_name(_TOOL_CALL_STATUSES, e.status),
                    created_at=at,
                )
            ]
        if phase == "reply_updated":
            r = update.reply_updated
            return [
                ToolUpdate(
                    phase=phase,
                    update_ids=tuple(r.update_ids),
                    status=_name(_TOOL_REPLY_STATUSES, r.status),
                    speech_id=r.speech_id,
                    created_at=at,
                )
            ]
        return [ToolUpdate(phase=UNKNOWN, created_at=at)]

    @staticmethod
    def _first(seen: OrderedDict[str, None], call_id: str) -> bool:
        """True the first time ``call_id`` is seen (an empty id cannot be deduplicated: always True)."""
        if not call_id:
            return True
        if call_id in seen:
            return False
        seen[call_id] = None
        if len(seen) > _TRACKED_CALLS:
            seen.popitem(last=False)
        return True

    # --- responses ---------------------------------------------------------------------------------

    @staticmethod
    def _decode_response(response: pb.SessionResponse) -> Response:
        kind = response.WhichOneof("response")
        # the agent sets ``error`` only on failure; an empty one is treated as no error, as RemoteSession does
        error = response.error if response.HasField("error") and response.error else None
        payload: InsightEvent | None = None
        if kind == "get_chat_history":
            payload = ChatHistory(items=decode_chat_items(response.get_chat_history.items))
        elif kind == "run_input":
            payload = ChatHistory(items=decode_chat_items(response.run_input.items))
        elif kind == "get_agent_info":
            info = response.get_agent_info
            payload = AgentInfo(
                id=info.id,
                instructions=info.instructions,
                tools=tuple(info.tools),
                chat_ctx=decode_chat_items(info.chat_ctx),
            )
        elif kind == "get_session_state":
            state = response.get_session_state
            payload = SessionStateSnapshot(
                agent_state=_name(_AGENT_STATES, state.agent_state),
                user_state=_name(_USER_STATES, state.user_state),
                agent_id=state.agent_id,
                options=dict(state.options),
                started_at=_timestamp(state, "created_at"),
            )
        elif kind == "get_session_usage":
            usage = response.get_session_usage
            payload = decode_usage(usage.usage, _timestamp(usage, "created_at"))
        elif kind == "get_framework_info":
            framework = response.get_framework_info
            payload = AgentFramework(sdk=framework.sdk, sdk_version=framework.sdk_version)
        return Response(request_id=response.request_id, kind=kind, error=error, payload=payload)


# --- request builders: each returns one whole message, ready for one byte stream ----------------------


def _request(request: pb.SessionRequest) -> bytes:
    return pb.AgentSessionMessage(request=request).SerializeToString()


def build_ping(request_id: str) -> bytes:
    """A ping: the host answers ``pong``, which is how we learn it is there (feature detection)."""
    return _request(pb.SessionRequest(request_id=request_id, ping=pb.SessionRequest.Ping()))


def build_get_chat_history(request_id: str) -> bytes:
    """Ask for the whole session history (every item, tool calls included)."""
    return _request(
        pb.SessionRequest(request_id=request_id, get_chat_history=pb.SessionRequest.GetChatHistory())
    )


def build_get_agent_info(request_id: str) -> bytes:
    """Ask for the current agent: id, instructions (rendered for audio), tool names, its chat context."""
    return _request(pb.SessionRequest(request_id=request_id, get_agent_info=pb.SessionRequest.GetAgentInfo()))


def build_get_session_state(request_id: str) -> bytes:
    """Ask for the session's agent and user state, current agent id, options and start time."""
    return _request(
        pb.SessionRequest(request_id=request_id, get_session_state=pb.SessionRequest.GetSessionState())
    )


def build_get_session_usage(request_id: str) -> bytes:
    """Ask for the session's cumulative model usage."""
    return _request(
        pb.SessionRequest(request_id=request_id, get_session_usage=pb.SessionRequest.GetSessionUsage())
    )


def build_get_framework_info(request_id: str) -> bytes:
    """Ask which agent framework (and version) runs the session."""
    return _request(
        pb.SessionRequest(request_id=request_id, get_framework_info=pb.SessionRequest.GetFrameworkInfo())
    )


def build_run_input(request_id: str, text: str) -> bytes:
    """Run one user turn with ``text``: the host force-interrupts, runs the turn, answers with its items."""
    return _request(pb.SessionRequest(request_id=request_id, run_input=pb.SessionRequest.RunInput(text=text)))


def build_update_io(
    request_id: str,
    *,
    audio_input: bool | None = None,
    video_input: bool | None = None,
    audio_output: bool | None = None,
    video_output: bool | None = None,
    transcription: bool | None = None,
) -> bytes:
    """Switch the agent's I/O channels; only the flags given (not ``None``) are sent, and only those apply.

    The flags are proto3 ``optional`` fields and the host applies a flag only when it is present, so a
    partial update never clobbers the other channels.
    """
    update = pb.SessionRequest.UpdateIO()
    if audio_input is not None:
        update.input.audio_enabled = audio_input
    if video_input is not None:
        update.input.video_enabled = video_input
    if audio_output is not None:
        update.output.audio_enabled = audio_output
    if video_output is not None:
        update.output.video_enabled = video_output
    if transcription is not None:
        update.output.transcription_enabled = transcription
    return _request(pb.SessionRequest(request_id=request_id, update_io=update))
