"""The ``lk.agent.session`` decoder and request builders, on real ``AgentSessionMessage`` bytes.

Messages are built with the livekit-protocol classes the agent itself uses; the last part of the file
has livekit-agents 1.8.9's own SessionHost produce them, so the mapping is checked against what the
agent really sends, not only against our reading of the .proto.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st
from livekit.protocol.agent_pb import agent_session as pb

from agent_tui.session.agent_stream.codec import (
    AgentSessionDecoder,
    Decoded,
    build_get_agent_info,
    build_get_chat_history,
    build_get_framework_info,
    build_get_session_state,
    build_get_session_usage,
    build_ping,
    build_run_input,
    build_update_io,
)
from agent_tui.session.agent_stream.events import (
    AgentConfigUpdateItem,
    AgentDebug,
    AgentError,
    AgentFramework,
    AgentHandoffItem,
    AgentInfo,
    AgentSessionStateChanged,
    AnsweringMachinePrediction,
    ChatHistory,
    ChatMessageItem,
    ConversationItemAdded,
    EndOfTurnPrediction,
    FalseInterruption,
    FunctionCallItem,
    FunctionCallOutputItem,
    InsightState,
    OverlappingSpeech,
    SessionStateSnapshot,
    SessionUsage,
    ToolCall,
    ToolResult,
    ToolUpdate,
    TurnMetrics,
    UserStateChanged,
    UserTranscript,
)

Event = pb.AgentSessionEvent
T0 = 1_700_000_000.25


def ts(seconds: float) -> Timestamp:
    whole = int(seconds)
    return Timestamp(seconds=whole, nanos=round((seconds - whole) * 1e9))


def event_bytes(**kwargs: Any) -> bytes:
    return pb.AgentSessionMessage(event=Event(created_at=ts(T0), **kwargs)).SerializeToString()


def response_bytes(**kwargs: Any) -> bytes:
    return pb.AgentSessionMessage(response=pb.SessionResponse(**kwargs)).SerializeToString()


def decode(data: bytes, decoder: AgentSessionDecoder | None = None) -> Decoded:
    return (decoder or AgentSessionDecoder()).decode(data)


def only(data: bytes) -> Any:
    decoded = decode(data)
    assert decoded.response is None
    assert len(decoded.events) == 1, decoded.events
    return decoded.events[0]


# --- events ------------------------------------------------------------------------------------------


def test_agent_state_changed() -> None:
    e = only(
        event_bytes(
            agent_state_changed=Event.AgentStateChanged(old_state=pb.AS_LISTENING, new_state=pb.AS_THINKING)
        )
    )
    assert isinstance(e, AgentSessionStateChanged)
    assert (e.old_state, e.new_state) == ("listening", "thinking")
    assert e.created_at == pytest.approx(T0)
    assert e.type == "agent_session_state"


def test_every_agent_state_name() -> None:
    names = []
    for value in (pb.AS_INITIALIZING, pb.AS_IDLE, pb.AS_LISTENING, pb.AS_THINKING, pb.AS_SPEAKING):
        e = only(event_bytes(agent_state_changed=Event.AgentStateChanged(old_state=value, new_state=value)))
        names.append(e.new_state)
    assert names == ["initializing", "idle", "listening", "thinking", "speaking"]


def test_unknown_enum_value_is_named_unknown() -> None:
    e = only(event_bytes(agent_state_changed=Event.AgentStateChanged(old_state=pb.AS_IDLE, new_state=42)))  # type: ignore[arg-type]
    assert (e.old_state, e.new_state) == ("idle", "unknown")


def test_user_state_changed() -> None:
    e = only(
        event_bytes(
            user_state_changed=Event.UserStateChanged(old_state=pb.US_LISTENING, new_state=pb.US_AWAY)
        )
    )
    assert isinstance(e, UserStateChanged)
    assert (e.old_state, e.new_state, e.type) == ("listening", "away", "user_state")


def test_user_transcript_interim_and_final() -> None:
    interim = only(
        event_bytes(user_input_transcribed=Event.UserInputTranscribed(transcript="hel", is_final=False))
    )
    assert isinstance(interim, UserTranscript)
    assert (interim.transcript, interim.is_final, interim.language) == ("hel", False, None)
    final = only(
        event_bytes(
            user_input_transcribed=Event.UserInputTranscribed(
                transcript="hello", is_final=True, language="en"
            )
        )
    )
    assert (final.transcript, final.is_final, final.language) == ("hello", True, "en")


def test_message_with_metrics_gives_item_and_turn_metrics() -> None:
    metrics = pb.MetricsReport(
        started_speaking_at=ts(T0 + 1),
        stopped_speaking_at=ts(T0 + 3),
        llm_node_ttft=0.25,
        llm_node_ttfs=0.4,
        llm_node_tps=42.0,
        tts_node_ttfb=0.125,
        e2e_latency=1.5,
    )
    message = pb.ChatMessage(
        id="item_1",
        role=pb.ASSISTANT,
        content=[pb.ChatMessage.ChatContent(text="Hello"), pb.ChatMessage.ChatContent(text="there")],
        interrupted=True,
        extra={"k": "v"},
        metrics=metrics,
        created_at=ts(T0 + 3),
    )
    decoded = decode(
        event_bytes(
            conversation_item_added=Event.ConversationItemAdded(item=pb.ChatContext.ChatItem(message=message))
        )
    )
    added, turn = decoded.events
    assert isinstance(added, ConversationItemAdded) and isinstance(turn, TurnMetrics)
    item = added.item
    assert isinstance(item, ChatMessageItem)
    assert (item.id, item.role, item.text, item.interrupted) == ("item_1", "assistant", "Hello\nthere", True)
    assert item.extra == {"k": "v"} and item.transcript_confidence is None
    assert item.created_at == pytest.approx(T0 + 3)
    assert turn.message_id == "item_1" and turn.role == "assistant"
    assert turn.llm_ttft_ms == pytest.approx(250.0)
    assert turn.tts_ttfb_ms == pytest.approx(125.0)
    assert turn.e2e_ms == pytest.approx(1500.0)
    assert turn.end_of_turn_ms is None  # absent, not 0
    assert turn.metrics.llm_ttfs_ms == pytest.approx(400.0)
    assert turn.metrics.llm_tokens_per_second == pytest.approx(42.0)
    assert turn.metrics.started_speaking_at == pytest.approx(T0 + 1)
    assert turn.metrics.stopped_speaking_at == pytest.approx(T0 + 3)


def test_user_message_metrics_listening_side() -> None:
    metrics = pb.MetricsReport(
        transcription_delay=0.3, end_of_turn_delay=0.6, on_user_turn_completed_delay=0.0
    )
    message = pb.ChatMessage(
        id="u1",
        role=pb.USER,
        content=[pb.ChatMessage.ChatContent(text="hi")],
        transcript_confidence=0.9,
        metrics=metrics,
    )
    added, turn = decode(
        event_bytes(
            conversation_item_added=Event.ConversationItemAdded(item=pb.ChatContext.ChatItem(message=message))
        )
    ).events
    assert isinstance(added, ConversationItemAdded) and isinstance(turn, TurnMetrics)
    assert isinstance(added.item, ChatMessageItem) and added.item.transcript_confidence == pytest.approx(0.9)
    assert turn.end_of_turn_ms == pytest.approx(600.0)
    assert turn.metrics.transcription_delay_ms == pytest.approx(300.0)
    assert turn.metrics.on_user_turn_completed_ms == 0.0  # present and zero is a measurement


def test_message_with_empty_metrics_gives_no_turn_metrics() -> None:
    message = pb.ChatMessage(id="m", role=pb.SYSTEM, metrics=pb.MetricsReport())
    e = only(
        event_bytes(
            conversation_item_added=Event.ConversationItemAdded(item=pb.ChatContext.ChatItem(message=message))
        )
    )
    assert isinstance(e.item, ChatMessageItem) and e.item.metrics is None and e.item.role == "system"


def test_handoff_and_config_update_items() -> None:
    handoff = pb.AgentHandoff(id="h", old_agent_id="greeter", new_agent_id="sales", created_at=ts(T0))
    e = only(
        event_bytes(
            conversation_item_added=Event.ConversationItemAdded(
                item=pb.ChatContext.ChatItem(agent_handoff=handoff)
            )
        )
    )
    assert e.item == AgentHandoffItem(id="h", old_agent_id="greeter", new_agent_id="sales", created_at=T0)
    update = pb.AgentConfigUpdate(id="c", tools_added=["a"], tools_removed=["b"])
    e = only(
        event_bytes(
            conversation_item_added=Event.ConversationItemAdded(
                item=pb.ChatContext.ChatItem(agent_config_update=update)
            )
        )
    )
    assert e.item == AgentConfigUpdateItem(
        id="c", instructions=None, tools_added=("a",), tools_removed=("b",)
    )


def test_function_items_also_announce_call_and_result_once() -> None:
    decoder = AgentSessionDecoder()
    call = pb.FunctionCall(id="fc", call_id="c1", name="lookup", arguments='{"q": 1}')
    output = pb.FunctionCallOutput(id="fo", call_id="c1", name="lookup", output="42", is_error=False)
    added_call = decoder.decode(
        event_bytes(
            conversation_item_added=Event.ConversationItemAdded(
                item=pb.ChatContext.ChatItem(function_call=call)
            )
        )
    ).events
    assert [type(e) for e in added_call] == [ConversationItemAdded, ToolCall]
    assert isinstance(added_call[0].item, FunctionCallItem)  # type: ignore[attr-defined]
    added_out = decoder.decode(
        event_bytes(
            conversation_item_added=Event.ConversationItemAdded(
                item=pb.ChatContext.ChatItem(function_call_output=output)
            )
        )
    ).events
    assert [type(e) for e in added_out] == [ConversationItemAdded, ToolResult]
    assert isinstance(added_out[0].item, FunctionCallOutputItem)  # type: ignore[attr-defined]
    # the same call reported again with its result: nothing new
    again = decoder.decode(
        event_bytes(
            function_tools_executed=Event.FunctionToolsExecuted(
                function_calls=[call], function_call_outputs=[output]
            )
        )
    )
    assert again.events == ()


def test_tool_started_then_executed_reports_call_once_then_result() -> None:
    decoder = AgentSessionDecoder()
    call = pb.FunctionCall(id="fc", call_id="c1", name="lookup", arguments='{"q": 1}')
    started = decoder.decode(
        event_bytes(
            tool_execution_updated=Event.ToolExecutionUpdated(
                started=Event.ToolExecutionUpdated.Started(function_call=call)
            )
        )
    ).events
    assert started == (
        ToolCall(
            call_id="c1",
            name="lookup",
            arguments='{"q": 1}',
            id="fc",
            created_at=T0,
            at=started[0].at,
        ),
    )
    executed = decoder.decode(
        event_bytes(
            function_tools_executed=Event.FunctionToolsExecuted(
                function_calls=[pb.FunctionCall(call_id="c1", name="lookup", arguments='{"q": 1}')],
                function_call_outputs=[
                    pb.FunctionCallOutput(call_id="c1", name="lookup", output="oops", is_error=True)
                ],
            )
        )
    ).events
    assert len(executed) == 1
    result = executed[0]
    assert isinstance(result, ToolResult)
    assert (result.call_id, result.name, result.output, result.is_error) == ("c1", "lookup", "oops", True)


def test_executed_alone_reports_calls_then_results() -> None:
    # an agent that never sends tool_execution_updated still gets tool_call before tool_result
    events = decode(
        event_bytes(
            function_tools_executed=Event.FunctionToolsExecuted(
                function_calls=[
                    pb.FunctionCall(call_id="a", name="one", arguments="{}"),
                    pb.FunctionCall(call_id="b", name="two", arguments="{}"),
                ],
                function_call_outputs=[
                    pb.FunctionCallOutput(call_id="a", name="one", output="1"),
                    pb.FunctionCallOutput(call_id="b", name="two", output="2"),
                ],
            )
        )
    ).events
    assert [(e.type, e.call_id) for e in events] == [  # type: ignore[attr-defined]
        ("tool_call", "a"),
        ("tool_call", "b"),
        ("tool_result", "a"),
        ("tool_result", "b"),
    ]


def test_function_tools_started() -> None:
    events = decode(
        event_bytes(
            function_tools_started=Event.FunctionToolsStarted(
                function_calls=[pb.FunctionCall(call_id="x", name="n", arguments="{}")]
            )
        )
    ).events
    assert [type(e) for e in events] == [ToolCall]


def test_tool_updates() -> None:
    U = Event.ToolExecutionUpdated
    progress = only(
        event_bytes(
            tool_execution_updated=U(call_updated=U.CallUpdated(id="u1", call_id="c1", message="halfway"))
        )
    )
    assert progress == ToolUpdate(
        phase="call_updated",
        id="u1",
        call_id="c1",
        message="halfway",
        created_at=T0,
        at=progress.at,
    )
    ended = only(
        event_bytes(tool_execution_updated=U(ended=U.Ended(id="u2", call_id="c1", status=pb.TC_CANCELLED)))
    )
    assert (ended.phase, ended.status, ended.message) == ("ended", "cancelled", None)
    ended_msg = only(
        event_bytes(
            tool_execution_updated=U(ended=U.Ended(call_id="c1", status=pb.TC_DONE, message="all good"))
        )
    )
    assert (ended_msg.status, ended_msg.message) == ("done", "all good")
    reply = only(
        event_bytes(
            tool_execution_updated=U(
                reply_updated=U.ReplyUpdated(
                    update_ids=["u1", "u2"], status=pb.TR_INTERRUPTED, speech_id="sp"
                )
            )
        )
    )
    assert (reply.phase, reply.update_ids, reply.status, reply.speech_id) == (
        "reply_updated",
        ("u1", "u2"),
        "interrupted",
        "sp",
    )


def test_error_overlap_false_interruption() -> None:
    error = only(event_bytes(error=Event.Error(message="llm failed")))
    assert isinstance(error, AgentError) and error.message == "llm failed"
    overlap = only(
        event_bytes(
            overlapping_speech=Event.OverlappingSpeech(
                is_interruption=True, overlap_started_at=ts(T0 - 1), detection_delay=0.2, detected_at=ts(T0)
            )
        )
    )
    assert isinstance(overlap, OverlappingSpeech)
    assert overlap.is_interruption and overlap.detection_delay_ms == pytest.approx(200.0)
    assert overlap.overlap_started_at == pytest.approx(T0 - 1) and overlap.detected_at == pytest.approx(T0)
    no_start = only(event_bytes(overlapping_speech=Event.OverlappingSpeech(is_interruption=False)))
    assert no_start.overlap_started_at is None
    false = only(event_bytes(agent_false_interruption=Event.AgentFalseInterruption(resumed=True)))
    assert isinstance(false, FalseInterruption) and false.resumed and false.type == "false_interruption"


def test_session_usage() -> None:
    usage = pb.AgentSessionUsage(
        model_usage=[
            pb.ModelUsage(
                llm=pb.LLMModelUsage(provider="openai", model="gpt", input_tokens=10, output_tokens=5)
            ),
            pb.ModelUsage(tts=pb.TTSModelUsage(provider="cartesia", model="sonic", characters_count=120)),
            pb.ModelUsage(),  # no variant: skipped
        ]
    )
    e = only(event_bytes(session_usage_updated=Event.SessionUsageUpdated(usage=usage)))
    assert isinstance(e, SessionUsage)
    llm, tts = e.models
    assert (llm.kind, llm.provider, llm.model) == ("llm", "openai", "gpt")
    assert llm.counters["input_tokens"] == 10 and llm.counters["output_tokens"] == 5
    assert llm.counters["input_cached_tokens"] == 0
    assert (tts.kind, tts.counters["characters_count"]) == ("tts", 120)


def test_eot_amd_and_debug() -> None:
    eot = only(
        event_bytes(
            eot_prediction=Event.EotPrediction(
                probability=0.8,
                threshold=0.5,
                inference_duration=Duration(nanos=20_000_000),
                delay=Duration(seconds=1),
            )
        )
    )
    assert isinstance(eot, EndOfTurnPrediction)
    assert eot.inference_ms == pytest.approx(20.0) and eot.delay_ms == pytest.approx(1000.0)
    amd = only(
        event_bytes(
            amd_prediction=Event.AmdPrediction(category=pb.AMD_MACHINE_VM, reason="beep", transcript="leave")
        )
    )
    assert isinstance(amd, AnsweringMachinePrediction)
    assert (amd.category, amd.reason, amd.speech_duration_ms) == ("machine_vm", "beep", None)
    payload = Struct()
    payload.update({"stage": "llm", "n": 2})
    debug = only(event_bytes(debug_message=pb.DebugMessage(payload=payload)))
    assert isinstance(debug, AgentDebug) and debug.payload == {"stage": "llm", "n": 2}


def test_event_without_created_at() -> None:
    data = pb.AgentSessionMessage(event=Event(error=Event.Error(message="x"))).SerializeToString()
    assert only(data).created_at is None


def test_events_serialise_to_json() -> None:
    message = pb.ChatMessage(
        id="m",
        role=pb.USER,
        content=[pb.ChatMessage.ChatContent(text="hi")],
        metrics=pb.MetricsReport(e2e_latency=1),
    )
    events = decode(
        event_bytes(
            conversation_item_added=Event.ConversationItemAdded(item=pb.ChatContext.ChatItem(message=message))
        )
    ).events
    fields = [e.to_fields() for e in events]
    text = json.dumps(fields)
    assert '"kind": "message"' in text
    assert fields[0]["item"]["role"] == "user" and fields[1]["metrics"]["e2e_ms"] == 1000.0
    assert "at" not in fields[0]


# --- responses ---------------------------------------------------------------------------------------


def test_pong_and_update_io_have_no_payload() -> None:
    pong = decode(response_bytes(request_id="r1", pong=pb.SessionResponse.Pong())).response
    assert pong is not None and (pong.request_id, pong.kind, pong.error, pong.payload) == (
        "r1",
        "pong",
        None,
        None,
    )
    update = decode(response_bytes(request_id="r2", update_io=pb.SessionResponse.UpdateIOResponse())).response
    assert update is not None and update.kind == "update_io"


def test_chat_history_and_run_input_responses() -> None:
    items = [
        pb.ChatContext.ChatItem(message=pb.ChatMessage(id="1", role=pb.USER, content=[{"text": "hi"}])),
        pb.ChatContext.ChatItem(function_call=pb.FunctionCall(id="2", call_id="c", name="f", arguments="{}")),
        pb.ChatContext.ChatItem(
            function_call_output=pb.FunctionCallOutput(id="3", call_id="c", name="f", output="ok")
        ),
        pb.ChatContext.ChatItem(),  # unknown kind: skipped
    ]
    history = decode(
        response_bytes(
            request_id="h", get_chat_history=pb.SessionResponse.GetChatHistoryResponse(items=items)
        )
    ).response
    assert history is not None and isinstance(history.payload, ChatHistory)
    assert [type(i) for i in history.payload.items] == [
        ChatMessageItem,
        FunctionCallItem,
        FunctionCallOutputItem,
    ]
    run = decode(
        response_bytes(request_id="r", run_input=pb.SessionResponse.RunInputResponse(items=items[:1]))
    ).response
    assert run is not None and run.kind == "run_input" and isinstance(run.payload, ChatHistory)
    assert len(run.payload.items) == 1


def test_agent_info_state_usage_framework_responses() -> None:
    info = decode(
        response_bytes(
            request_id="i",
            get_agent_info=pb.SessionResponse.GetAgentInfoResponse(
                id="a1", instructions="Be brief.", tools=["t1", "t2"]
            ),
        )
    ).response
    assert info is not None and isinstance(info.payload, AgentInfo)
    assert (info.payload.id, info.payload.instructions, info.payload.tools) == (
        "a1",
        "Be brief.",
        ("t1", "t2"),
    )
    state = decode(
        response_bytes(
            request_id="s",
            get_session_state=pb.SessionResponse.GetSessionStateResponse(
                agent_state=pb.AS_SPEAKING,
                user_state=pb.US_LISTENING,
                agent_id="a1",
                options={"max_tool_steps": "3"},
                created_at=ts(T0),
            ),
        )
    ).response
    assert state is not None and isinstance(state.payload, SessionStateSnapshot)
    assert (state.payload.agent_state, state.payload.user_state, state.payload.agent_id) == (
        "speaking",
        "listening",
        "a1",
    )
    assert state.payload.options == {"max_tool_steps": "3"} and state.payload.started_at == pytest.approx(T0)
    usage = decode(
        response_bytes(
            request_id="u",
            get_session_usage=pb.SessionResponse.GetSessionUsageResponse(
                usage=pb.AgentSessionUsage(
                    model_usage=[pb.ModelUsage(stt=pb.STTModelUsage(audio_duration=2.5))]
                )
            ),
        )
    ).response
    assert usage is not None and isinstance(usage.payload, SessionUsage)
    assert usage.payload.models[0].counters["audio_duration"] == 2.5
    framework = decode(
        response_bytes(
            request_id="f",
            get_framework_info=pb.SessionResponse.GetFrameworkInfoResponse(sdk="python", sdk_version="1.8.9"),
        )
    ).response
    assert framework is not None and framework.payload == AgentFramework(
        sdk="python",
        sdk_version="1.8.9",
        at=framework.payload.at,  # type: ignore[union-attr]
    )


def test_error_response_and_unknown_response_kind() -> None:
    failed = decode(response_bytes(request_id="e", error="internal error")).response
    assert failed is not None and (failed.kind, failed.error) == (None, "internal error")
    empty_error = decode(response_bytes(request_id="e2", error="", pong=pb.SessionResponse.Pong())).response
    assert empty_error is not None and empty_error.error is None
    # a response kind from a newer agent still correlates (request id kept, kind unknown)
    unknown = decode(
        pb.AgentSessionMessage(response=pb.SessionResponse(request_id="n")).SerializeToString()
    ).response
    assert unknown is not None and (unknown.request_id, unknown.kind) == ("n", None)


# --- unknown, ignored and malformed input ------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field, for messages with field numbers this build does not know."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_unknown_message_kinds_are_counted_and_ignored() -> None:
    decoder = AgentSessionDecoder()
    unknown_top = _field(99, b"\x08\x01")  # a future AgentSessionMessage oneof member
    unknown_event = _field(
        3, Event(created_at=ts(T0)).SerializeToString() + _field(60, b"")
    )  # future event kind
    empty = b""  # parses, but carries nothing
    for data in (unknown_top, unknown_event, empty):
        assert decoder.decode(data) == Decoded()
    stats = decoder.stats
    assert (stats.messages, stats.unknown, stats.malformed, stats.events) == (3, 3, 0, 0)


def test_unknown_tool_update_phase_is_kept_as_unknown() -> None:
    data = _field(3, _field(22, _field(9, b"")))  # event.tool_execution_updated with a future phase
    e = only(data)
    assert isinstance(e, ToolUpdate) and e.phase == "unknown"


def test_console_audio_and_requests_are_ignored() -> None:
    decoder = AgentSessionDecoder()
    frame = pb.AgentSessionMessage.ConsoleIO.AudioFrame(data=b"\0\0", sample_rate=48000, num_channels=1)
    for message in (
        pb.AgentSessionMessage(audio_output=frame),
        pb.AgentSessionMessage(audio_playback_clear=pb.AgentSessionMessage.ConsoleIO.AudioPlaybackClear()),
        pb.AgentSessionMessage(request=pb.SessionRequest(request_id="other", ping=pb.SessionRequest.Ping())),
    ):
        assert decoder.decode(message.SerializeToString()) == Decoded()
    assert decoder.stats.ignored == 3 and decoder.stats.unknown == 0


def test_malformed_bytes_are_counted_and_ignored() -> None:
    decoder = AgentSessionDecoder()
    valid = event_bytes(error=Event.Error(message="a fairly long error message"))
    bad_utf8 = _field(3, _field(15, _field(1, b"\xff\xfe")))  # event.error.message with invalid UTF-8
    for data in (valid[: len(valid) // 2], b"\xff\xff\xff\xff", b"\x1a\x05ab", bad_utf8):
        assert decoder.decode(data) == Decoded()
    assert decoder.decode(valid).events  # the decoder still works afterwards
    stats = decoder.stats
    assert (stats.messages, stats.malformed, stats.events) == (5, 4, 1)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    decoder = AgentSessionDecoder()
    decoded = decoder.decode(data)
    stats = decoder.stats
    assert stats.messages == 1
    assert stats.events + stats.responses + stats.ignored + stats.unknown + stats.malformed == 1
    if stats.malformed:
        assert decoded == Decoded()


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=200))
def test_mutated_valid_messages_never_raise(noise: bytes, cut: int) -> None:
    base = event_bytes(
        conversation_item_added=Event.ConversationItemAdded(
            item=pb.ChatContext.ChatItem(
                message=pb.ChatMessage(id="m", role=pb.ASSISTANT, metrics=pb.MetricsReport(e2e_latency=1.0))
            )
        )
    )
    decoder = AgentSessionDecoder()
    decoder.decode(base[:cut] + noise)
    assert decoder.stats.messages == 1


# --- request builders --------------------------------------------------------------------------------


def parse_request(data: bytes) -> pb.SessionRequest:
    message = pb.AgentSessionMessage()
    message.ParseFromString(data)
    assert message.WhichOneof("message") == "request"
    return message.request


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (build_ping, "ping"),
        (build_get_chat_history, "get_chat_history"),
        (build_get_agent_info, "get_agent_info"),
        (build_get_session_state, "get_session_state"),
        (build_get_session_usage, "get_session_usage"),
        (build_get_framework_info, "get_framework_info"),
    ],
)
def test_simple_request_builders(build: Any, kind: str) -> None:
    request = parse_request(build("req_7"))
    assert request.request_id == "req_7" and request.WhichOneof("request") == kind


def test_run_input_builder() -> None:
    request = parse_request(build_run_input("r", "what time is it?"))
    assert request.WhichOneof("request") == "run_input" and request.run_input.text == "what time is it?"


def test_update_io_builder_sends_only_given_flags() -> None:
    request = parse_request(build_update_io("r", audio_output=False))
    update = request.update_io
    assert request.WhichOneof("request") == "update_io"
    assert update.HasField("output") and not update.HasField("input")
    assert update.output.HasField("audio_enabled") and update.output.audio_enabled is False
    assert not update.output.HasField("transcription_enabled") and not update.output.HasField("video_enabled")
    full = parse_request(
        build_update_io(
            "r",
            audio_input=True,
            video_input=False,
            audio_output=True,
            video_output=False,
            transcription=False,
        )
    ).update_io
    assert (full.input.audio_enabled, full.input.video_enabled) == (True, False)
    assert (full.output.audio_enabled, full.output.video_enabled, full.output.transcription_enabled) == (
        True,
        False,
        False,
    )
    empty = parse_request(build_update_io("r"))
    assert empty.WhichOneof("request") == "update_io" and not empty.update_io.HasField("output")


# --- against livekit-agents 1.8.9's own SessionHost ----------------------------------------------------


@pytest.fixture
async def host_events() -> Any:
    """Runs one of SessionHost's event handlers and returns the bytes it would put on the wire.

    Async (and so are its tests) because SessionHost binds to the running event loop when made.
    """
    remote_session = pytest.importorskip("livekit.agents.voice.remote_session")

    def run(handler: str, event: Any) -> bytes:
        host = remote_session.SessionHost(transport=None)
        getattr(host, handler)(event)
        message = host._event_ch.recv_nowait()
        data: bytes = message.SerializeToString()
        return data

    return run


async def test_livekit_agents_state_transcript_and_error(host_events: Any) -> None:
    ev = pytest.importorskip("livekit.agents.voice.events")
    e = only(
        host_events(
            "_on_agent_state_changed", ev.AgentStateChangedEvent(old_state="thinking", new_state="speaking")
        )
    )
    assert (e.type, e.old_state, e.new_state) == ("agent_session_state", "thinking", "speaking")
    e = only(
        host_events(
            "_on_user_state_changed",
            ev.UserStateChangedEvent(old_state="speaking", new_state="listening", created_at=T0),
        )
    )
    assert (e.new_state, e.created_at) == ("listening", pytest.approx(T0))  # the VAD-corrected time
    e = only(
        host_events(
            "_on_user_input_transcribed",
            ev.UserInputTranscribedEvent(transcript="hello", is_final=True, language="en"),
        )
    )
    assert (e.transcript, e.is_final, e.language) == ("hello", True, None)  # 1.8.9 does not forward language
    e = only(host_events("_on_error", ev.ErrorEvent(error=RuntimeError("tts down"), source=None)))
    assert isinstance(e, AgentError) and e.message == "tts down"
    e = only(host_events("_on_agent_false_interruption", ev.AgentFalseInterruptionEvent(resumed=True)))
    assert isinstance(e, FalseInterruption) and e.resumed


async def test_livekit_agents_conversation_item_with_metrics(host_events: Any) -> None:
    ev = pytest.importorskip("livekit.agents.voice.events")
    llm = pytest.importorskip("livekit.agents.llm")
    now = time.time()
    message = llm.ChatMessage(
        role="assistant",
        content=["Sure."],
        metrics={
            "llm_node_ttft": 0.31,
            "tts_node_ttfb": 0.12,
            "e2e_latency": 0.98,
            "started_speaking_at": now,
            "stopped_speaking_at": now + 1,
            "playback_latency": 0.01,  # not on the wire
        },
    )
    added, turn = decode(
        host_events("_on_conversation_item_added", ev.ConversationItemAddedEvent(item=message))
    ).events
    assert isinstance(added.item, ChatMessageItem) and added.item.text == "Sure."  # type: ignore[attr-defined]
    assert isinstance(turn, TurnMetrics)
    assert turn.llm_ttft_ms == pytest.approx(310.0) and turn.tts_ttfb_ms == pytest.approx(120.0)
    assert turn.e2e_ms == pytest.approx(980.0) and turn.metrics.started_speaking_at == pytest.approx(
        now, abs=1e-6
    )
    user = llm.ChatMessage(
        role="user", content=["hi"], metrics={"end_of_turn_delay": 0.4, "transcription_delay": 0.2}
    )
    _, user_turn = decode(
        host_events("_on_conversation_item_added", ev.ConversationItemAddedEvent(item=user))
    ).events
    assert isinstance(user_turn, TurnMetrics)
    assert user_turn.role == "user" and user_turn.end_of_turn_ms == pytest.approx(400.0)
    plain = llm.ChatMessage(role="assistant", content=["no metrics"])
    (only_added,) = decode(
        host_events("_on_conversation_item_added", ev.ConversationItemAddedEvent(item=plain))
    ).events
    assert isinstance(only_added, ConversationItemAdded)


async def test_livekit_agents_tools(host_events: Any) -> None:
    ev = pytest.importorskip("livekit.agents.voice.events")
    llm = pytest.importorskip("livekit.agents.llm")
    decoder = AgentSessionDecoder()
    call = llm.FunctionCall(call_id="c9", name="weather", arguments='{"city": "Oslo"}')
    started = decoder.decode(
        host_events(
            "_on_tool_execution_updated",
            ev.ToolExecutionUpdatedEvent(update=ev.ToolCallStarted(function_call=call)),
        )
    ).events
    assert [(e.type, e.name, e.arguments) for e in started] == [("tool_call", "weather", '{"city": "Oslo"}')]  # type: ignore[attr-defined]
    progress = decoder.decode(
        host_events(
            "_on_tool_execution_updated",
            ev.ToolExecutionUpdatedEvent(update=ev.ToolCallUpdated(id="u", call_id="c9", message="checking")),
        )
    ).events
    assert [(e.type, e.phase, e.message) for e in progress] == [("tool_update", "call_updated", "checking")]  # type: ignore[attr-defined]
    ended = decoder.decode(
        host_events(
            "_on_tool_execution_updated",
            ev.ToolExecutionUpdatedEvent(update=ev.ToolCallEnded(id="u", call_id="c9", status="done")),
        )
    ).events
    assert [(e.phase, e.status, e.message) for e in ended] == [("ended", "done", None)]  # type: ignore[attr-defined]
    output = llm.FunctionCallOutput(call_id="c9", name="weather", output="sunny", is_error=False)
    executed = decoder.decode(
        host_events(
            "_on_function_tools_executed",
            ev.FunctionToolsExecutedEvent(function_calls=[call], function_call_outputs=[output]),
        )
    ).events
    assert [(e.type, e.output) for e in executed] == [("tool_result", "sunny")]  # type: ignore[attr-defined]


async def test_livekit_agents_usage(host_events: Any) -> None:
    ev = pytest.importorskip("livekit.agents.voice.events")
    metrics = pytest.importorskip("livekit.agents.metrics")
    usage = metrics.AgentSessionUsage(
        model_usage=[
            metrics.LLMModelUsage(provider="openai", model="gpt-4o", input_tokens=12, output_tokens=3)
        ]
    )
    e = only(host_events("_on_session_usage_updated", ev.SessionUsageUpdatedEvent(usage=usage)))
    assert isinstance(e, SessionUsage)
    assert (e.models[0].kind, e.models[0].model, e.models[0].counters["input_tokens"]) == (
        "llm",
        "gpt-4o",
        12,
    )


# --- the folded state ----------------------------------------------------------------------------------


def test_insight_state_follows_the_stream() -> None:
    decoder = AgentSessionDecoder()
    state = InsightState()
    U = Event.ToolExecutionUpdated
    stream = [
        event_bytes(
            agent_state_changed=Event.AgentStateChanged(old_state=pb.AS_LISTENING, new_state=pb.AS_THINKING)
        ),
        event_bytes(
            user_state_changed=Event.UserStateChanged(old_state=pb.US_SPEAKING, new_state=pb.US_LISTENING)
        ),
        event_bytes(user_input_transcribed=Event.UserInputTranscribed(transcript="what is", is_final=False)),
        event_bytes(
            tool_execution_updated=U(started=U.Started(function_call=pb.FunctionCall(call_id="a", name="x")))
        ),
        event_bytes(
            function_tools_started=Event.FunctionToolsStarted(
                function_calls=[pb.FunctionCall(call_id="b", name="y")]
            )
        ),
        event_bytes(
            conversation_item_added=Event.ConversationItemAdded(
                item=pb.ChatContext.ChatItem(
                    message=pb.ChatMessage(
                        id="m", role=pb.ASSISTANT, metrics=pb.MetricsReport(e2e_latency=0.9)
                    )
                )
            )
        ),
        event_bytes(error=Event.Error(message="tts timeout")),
        event_bytes(overlapping_speech=Event.OverlappingSpeech(is_interruption=True)),
        event_bytes(overlapping_speech=Event.OverlappingSpeech(is_interruption=False)),
        event_bytes(agent_false_interruption=Event.AgentFalseInterruption(resumed=True)),
    ]
    tracked = [state.apply(event) for data in stream for event in decoder.decode(data).events]
    assert tracked.count(False) == 1  # the conversation item itself: the state keeps its metrics only
    assert (state.agent_state, state.user_state, state.interim_transcript) == (
        "thinking",
        "listening",
        "what is",
    )
    assert set(state.running_tools) == {"a", "b"}
    assert state.agent_metrics is not None and state.agent_metrics.e2e_ms == pytest.approx(900.0)
    assert state.user_metrics is None
    assert (state.last_error, state.error_count) == ("tts timeout", 1)
    assert (state.overlaps, state.interruptions, state.false_interruptions) == (2, 1, 1)
    for data in (
        event_bytes(tool_execution_updated=U(ended=U.Ended(call_id="a", status=pb.TC_DONE))),
        event_bytes(
            function_tools_executed=Event.FunctionToolsExecuted(
                function_call_outputs=[pb.FunctionCallOutput(call_id="b", output="ok")]
            )
        ),
        event_bytes(
            user_input_transcribed=Event.UserInputTranscribed(transcript="what is it", is_final=True)
        ),
    ):
        for event in decoder.decode(data).events:
            state.apply(event)
    assert state.running_tools == {} and state.interim_transcript == ""
    snapshot = decode(
        response_bytes(
            request_id="s",
            get_session_state=pb.SessionResponse.GetSessionStateResponse(
                agent_state=pb.AS_IDLE, user_state=pb.US_AWAY
            ),
        )
    ).response
    assert snapshot is not None and snapshot.payload is not None and state.apply(snapshot.payload)
    assert (state.agent_state, state.user_state) == ("idle", "away")
    assert not state.apply(ChatHistory(items=()))
