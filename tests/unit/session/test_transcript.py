"""Transcript assembly: deltas, interim/final, out-of-order segments, both speakers, chat echo."""

from __future__ import annotations

from agent_tui.session.transcript import MessageKind, Speaker, TranscriptAssembler

USER = "user-1"
AGENT = "agent-1"


def final(value: bool, segment: str | None = None) -> dict[str, str]:
    attributes = {"lk.transcription_final": "true" if value else "false"}
    if segment is not None:
        attributes["lk.segment_id"] = segment
    return attributes


def test_agent_delta_stream_appends_and_trailer_finalises() -> None:
    t = TranscriptAssembler(USER)
    message, new = t.transcription_opened(
        stream_id="S1", participant_identity=AGENT, attributes=final(False, "SG_1"), now=1.0
    )
    assert new and message.text == "" and not message.final and message.speaker is Speaker.AGENT
    assert t.transcription_chunk(stream_id="S1", text="Hello").text == "Hello"  # type: ignore[union-attr]
    assert t.transcription_chunk(stream_id="S1", text=", there").text == "Hello, there"  # type: ignore[union-attr]
    closed = t.transcription_closed(stream_id="S1", attributes=final(True, "SG_1"))
    assert closed is not None and closed.final and closed.text == "Hello, there"
    assert closed.id == "SG_1" and closed.kind is MessageKind.TRANSCRIPT
    assert [m.text for m in t.messages] == ["Hello, there"]


def test_user_full_text_streams_replace_in_place() -> None:
    t = TranscriptAssembler(USER)
    for i, (text, is_final) in enumerate([("what", False), ("what time", False), ("what time is it", True)]):
        sid = f"S{i}"
        _, new = t.transcription_opened(
            stream_id=sid, participant_identity=USER, attributes=final(is_final, "SG_u"), now=10.0 + i
        )
        assert new is (i == 0)
        t.transcription_chunk(stream_id=sid, text=text)
        t.transcription_closed(stream_id=sid, attributes=final(is_final, "SG_u"))
        assert [m.text for m in t.messages] == [text]
    [message] = t.messages
    assert message.final and message.speaker is Speaker.USER and message.first_seen == 10.0


def test_new_stream_keeps_old_text_until_it_brings_its_own() -> None:
    t = TranscriptAssembler(USER)
    t.transcription_opened(stream_id="A", participant_identity=USER, attributes=final(False, "SG"), now=1)
    t.transcription_chunk(stream_id="A", text="hello")
    t.transcription_closed(stream_id="A", attributes=final(False, "SG"))
    message, _ = t.transcription_opened(
        stream_id="B", participant_identity=USER, attributes=final(False, "SG"), now=2
    )
    assert message.text == "hello"
    assert t.transcription_chunk(stream_id="B", text="hello world").text == "hello world"  # type: ignore[union-attr]


def test_interleaved_segments_keep_first_arrival_order() -> None:
    t = TranscriptAssembler(USER)
    t.transcription_opened(stream_id="a1", participant_identity=AGENT, attributes=final(False, "SG_a"), now=1)
    t.transcription_opened(stream_id="u1", participant_identity=USER, attributes=final(False, "SG_u"), now=2)
    t.transcription_chunk(stream_id="u1", text="user words")
    t.transcription_chunk(stream_id="a1", text="agent ")
    t.transcription_closed(stream_id="u1", attributes=final(True, "SG_u"))
    t.transcription_chunk(stream_id="a1", text="words")
    t.transcription_closed(stream_id="a1", attributes=final(True, "SG_a"))
    assert [(m.speaker, m.text, m.final) for m in t.messages] == [
        (Speaker.AGENT, "agent words", True),
        (Speaker.USER, "user words", True),
    ]


def test_same_segment_twice_with_different_streams_is_deduplicated() -> None:
    # livekit/agents#3138: user transcripts arriving twice with different stream ids.
    t = TranscriptAssembler(USER)
    for sid in ("x", "y"):
        t.transcription_opened(
            stream_id=sid, participant_identity=USER, attributes=final(True, "SG_dup"), now=1
        )
        t.transcription_chunk(stream_id=sid, text="goodbye")
        t.transcription_closed(stream_id=sid, attributes=final(True, "SG_dup"))
    assert [m.text for m in t.messages] == ["goodbye"]


def test_stream_without_segment_id_is_keyed_by_stream_id() -> None:
    t = TranscriptAssembler(USER)
    t.transcription_opened(stream_id="S9", participant_identity=AGENT, attributes={}, now=1)
    t.transcription_chunk(stream_id="S9", text="no segment")
    closed = t.transcription_closed(stream_id="S9", attributes={})
    assert closed is not None and closed.id == "S9" and not closed.final


def test_same_segment_id_from_two_participants_does_not_collide() -> None:
    t = TranscriptAssembler(USER)
    t.transcription_opened(stream_id="1", participant_identity=AGENT, attributes=final(False, "SG"), now=1)
    t.transcription_opened(stream_id="2", participant_identity=USER, attributes=final(False, "SG"), now=2)
    t.transcription_chunk(stream_id="1", text="a")
    t.transcription_chunk(stream_id="2", text="u")
    assert [m.text for m in t.messages] == ["a", "u"]
    assert len({m.id for m in t.messages}) == 2


def test_chunk_or_close_for_unknown_stream_is_ignored() -> None:
    t = TranscriptAssembler(USER)
    assert t.transcription_chunk(stream_id="nope", text="x") is None
    assert t.transcription_closed(stream_id="nope", attributes=final(True)) is None
    assert t.messages == []


def test_chat_echo_and_received_chat_and_edit() -> None:
    t = TranscriptAssembler(USER)
    sent, new = t.chat(message_id="c1", participant_identity=USER, text="hello", now=1)
    assert new and sent.speaker is Speaker.USER and sent.kind is MessageKind.CHAT and sent.final
    received, new = t.chat(message_id="c2", participant_identity=AGENT, text="hi!", now=2)
    assert new and received.speaker is Speaker.AGENT
    edited, new = t.chat(message_id="c2", participant_identity=AGENT, text="hi there!", now=3)
    assert not new and edited.first_seen == 2 and edited.text == "hi there!"
    assert [m.text for m in t.messages] == ["hello", "hi there!"]


def test_a_sent_chat_goes_above_a_reply_that_arrived_while_it_was_being_sent() -> None:
    t = TranscriptAssembler(USER)
    t.chat(message_id="c0", participant_identity=AGENT, text="welcome", now=1)
    # The question was sent at 2; its send returned only after the agent's reply (first seen at 3) came in.
    t.transcription_opened(stream_id="S1", participant_identity=AGENT, attributes=final(False, "SG_a"), now=3)
    t.transcription_chunk(stream_id="S1", text="It is noon.")
    question, new = t.chat(message_id="c1", participant_identity=USER, text="what time is it?", now=2)
    assert new and question.first_seen == 2
    assert [m.text for m in t.messages] == ["welcome", "what time is it?", "It is noon."]
    edited, new = t.chat(message_id="c1", participant_identity=USER, text="what time is it now?", now=4)
    assert (
        not new
        and edited.first_seen == 2
        and [m.text for m in t.messages] == ["welcome", "what time is it now?", "It is noon."]
    )
    later, _ = t.chat(message_id="c2", participant_identity=USER, text="thanks", now=5)
    assert t.messages[-1] == later


def test_chat_id_reused_by_another_sender_is_kept_apart() -> None:
    t = TranscriptAssembler(USER)
    t.chat(message_id="same", participant_identity=USER, text="mine", now=1)
    other, new = t.chat(message_id="same", participant_identity=AGENT, text="theirs", now=2)
    assert new and other.id != "same"
    assert [m.text for m in t.messages] == ["mine", "theirs"]


def test_bounded_memory_drops_oldest() -> None:
    t = TranscriptAssembler(USER, max_messages=100)
    for i in range(1000):
        t.transcription_opened(
            stream_id=f"s{i}", participant_identity=AGENT, attributes=final(False, f"SG{i}"), now=i
        )
        t.transcription_chunk(stream_id=f"s{i}", text=str(i))
        t.transcription_closed(stream_id=f"s{i}", attributes=final(True, f"SG{i}"))
    assert len(t.messages) == 100
    assert t.messages[0].text == "900"
    assert len(t._ids) == 100 and len(t._keys) == 100


def test_clear() -> None:
    t = TranscriptAssembler(USER)
    t.chat(message_id="c", participant_identity=USER, text="x", now=1)
    t.clear()
    assert t.messages == []


def say(
    t: TranscriptAssembler, stream_id: str, segment: str, text: str, *, is_final: bool = True, now: float = 1
) -> None:
    """One whole transcription stream of the user's: opened, its text, closed."""
    t.transcription_opened(
        stream_id=stream_id, participant_identity=USER, attributes=final(is_final, segment), now=now
    )
    t.transcription_chunk(stream_id=stream_id, text=text)
    t.transcription_closed(stream_id=stream_id, attributes=final(is_final, segment))


def test_a_stale_interim_stream_that_completes_after_the_final_one_changes_nothing() -> None:
    # The Session reads every stream in a task of its own, so an interim update still being read when the
    # segment's final stream arrives can finish after it: the final text must stay, and stay final.
    t = TranscriptAssembler(USER)
    t.transcription_opened(stream_id="I", participant_identity=USER, attributes=final(False, "SG"), now=1)
    t.transcription_chunk(stream_id="I", text="what")
    t.transcription_opened(stream_id="F", participant_identity=USER, attributes=final(True, "SG"), now=2)
    t.transcription_chunk(stream_id="F", text="what time is it")
    t.transcription_closed(stream_id="F", attributes=final(True, "SG"))
    assert t.transcription_chunk(stream_id="I", text=" time") is None
    assert t.transcription_closed(stream_id="I", attributes=final(False, "SG")) is None
    [message] = t.messages
    assert (message.text, message.final) == ("what time is it", True)


def test_a_stale_stream_closing_while_the_newer_one_is_open_changes_nothing() -> None:
    t = TranscriptAssembler(USER)
    t.transcription_opened(stream_id="A", participant_identity=USER, attributes=final(False, "SG"), now=1)
    t.transcription_chunk(stream_id="A", text="what")
    t.transcription_opened(stream_id="B", participant_identity=USER, attributes=final(False, "SG"), now=2)
    t.transcription_chunk(stream_id="B", text="what time")
    assert t.transcription_chunk(stream_id="A", text=" tim") is None
    assert t.transcription_closed(stream_id="A", attributes=final(False, "SG")) is None
    assert [m.text for m in t.messages] == ["what time"]
    closed = t.transcription_closed(stream_id="B", attributes=final(True, "SG"))
    assert closed is not None and (closed.text, closed.final) == ("what time", True)


def test_a_cancelled_turn_marks_what_was_heard_of_it_and_what_still_arrives_of_it() -> None:
    t = TranscriptAssembler(USER)
    say(t, "S0", "SG_0", "hello", now=1)  # an earlier turn, answered
    t.chat(message_id="c1", participant_identity=AGENT, text="Hi!", now=2)
    t.user_turn_started(now=5)
    say(t, "S1", "SG_1", "what", is_final=False, now=6)
    changed = t.user_turn_cancelled()
    assert [(m.text, m.final, m.cancelled) for m in changed] == [("what", False, True)]
    # the segment's final stream, in flight when the turn was cancelled, keeps the mark
    say(t, "S2", "SG_1", "what time is it", now=7)
    # and so does a segment of that turn arriving only now: the agent stopped listening at the cancel
    say(t, "S3", "SG_2", "please", now=8)
    t.transcription_opened(stream_id="A1", participant_identity=AGENT, attributes=final(True, "SG_a"), now=8)
    t.user_turn_started(now=10)
    say(t, "S4", "SG_3", "help", now=11)
    assert [(m.text, m.cancelled) for m in t.messages] == [
        ("hello", False),
        ("Hi!", False),
        ("what time is it", True),
        ("please", True),
        ("", False),
        ("help", False),
    ]


def test_the_next_turn_in_a_cancelled_segment_is_a_message_of_its_own() -> None:
    # livekit-agents closes a user segment only with a final transcript: when the turn was cancelled
    # before one, the next turn's words come in the same segment, as new full-text streams.
    t = TranscriptAssembler(USER)
    t.user_turn_started(now=1)
    say(t, "S1", "SG_1", "what time is it", is_final=False, now=2)
    [cancelled] = t.user_turn_cancelled()
    for turn, now in ((1, 10), (2, 20)):
        t.user_turn_started(now=now)
        say(t, f"T{turn}", "SG_1", "hel", is_final=False, now=now + 1)
        say(t, f"U{turn}", "SG_1", "hello", now=now + 2)
        if turn == 1:
            t.user_turn_cancelled()
    assert [(m.text, m.final, m.cancelled) for m in t.messages] == [
        ("what time is it", False, True),
        ("hello", True, True),
        ("hello", True, False),
    ]
    assert t.messages[0] == cancelled and len({m.id for m in t.messages}) == 3


def test_cancelling_without_a_turn_marks_nothing_and_open_mic_ends_the_cancelled_turn() -> None:
    t = TranscriptAssembler(USER)
    say(t, "S0", "SG_0", "hello", now=1)
    assert t.user_turn_cancelled() == []
    t.user_turn_started(now=2)
    say(t, "S1", "SG_1", "what", now=3)
    assert [m.text for m in t.user_turn_cancelled()] == ["what"]
    t.close_user_turn()  # push-to-talk off: what the user says from now on is heard, not cancelled
    say(t, "S2", "SG_2", "hello again", now=4)
    assert [(m.text, m.cancelled) for m in t.messages] == [
        ("hello", False),
        ("what", True),
        ("hello again", False),
    ]
