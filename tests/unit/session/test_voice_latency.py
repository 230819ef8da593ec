"""The client-side voice-to-voice latency meter on synthetic frame sequences (10 ms frames)."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from agent_tui.session.agent_stream.events import VoiceLatency
from agent_tui.session.voice_latency import (
    VoiceLatencyConfig,
    VoiceLatencyMeter,
    dbfs_to_linear,
    percentile,
    summarize,
)

LOUD = 0.1  # -20 dBFS: speech
QUIET = 0.001  # -60 dBFS: room noise below the -40 dBFS speech threshold
STEP = 100  # frames per second

Segments = list[tuple[float, float]]


def level(t: float, segments: Segments, on: float, off: float) -> float:
    return on if any(start <= t < end for start, end in segments) else off


def run(
    meter: VoiceLatencyMeter,
    *,
    user: Segments = (),  # type: ignore[assignment]
    agent: Segments = (),  # type: ignore[assignment]
    start: float = 0.0,
    until: float = 10.0,
) -> list[VoiceLatency]:
    """Feeds one mic and one agent frame per 10 ms; returns the turns the meter reported, in order."""
    turns: list[VoiceLatency] = []
    for k in range(round(start * STEP), round(until * STEP)):
        t = k / STEP
        mic = meter.mic_frame(t, level(t, list(user), LOUD, QUIET))
        if mic is not None:
            turns.append(mic)
        reply = meter.agent_frame(t, level(t, list(agent), LOUD, 0.0))
        if reply is not None:
            turns.append(reply)
    return turns


def test_speech_pause_reply_measures_from_the_last_loud_frame() -> None:
    meter = VoiceLatencyMeter()
    (turn,) = run(meter, user=[(1.0, 2.0)], agent=[(2.8, 4.0)])
    assert turn.user_end == pytest.approx(1.99)  # the last loud frame, not the end of the hangover (2.49)
    assert turn.reply_start == pytest.approx(2.8)
    assert turn.latency_ms == pytest.approx(810.0)
    assert (turn.turn, turn.source, turn.overlapped) == (1, "vad", False)
    assert meter.turns == (turn,) and not meter.pending and meter.unpaired == 0


def test_pauses_shorter_than_the_hangover_do_not_end_the_turn() -> None:
    meter = VoiceLatencyMeter()
    (turn,) = run(meter, user=[(1.0, 1.5), (1.8, 2.5)], agent=[(3.2, 4.0)])
    assert turn.user_end == pytest.approx(2.49) and turn.latency_ms == pytest.approx(710.0)
    assert meter.unpaired == 0


def test_reply_inside_the_hangover_is_paired_when_the_vad_decides() -> None:
    meter = VoiceLatencyMeter()
    turns: list[VoiceLatency] = []
    for k in range(0, 300):
        t = k / STEP
        assert meter.agent_frame(t, LOUD if t >= 2.2 else 0.0) is None or t >= 2.49
        reported = meter.mic_frame(t, LOUD if 1.0 <= t < 2.0 else QUIET)
        if reported is not None:
            turns.append(reported)
            assert t == pytest.approx(2.49)  # reported by the mic frame that ends the hangover
    (turn,) = turns
    assert turn.latency_ms == pytest.approx(210.0) and turn.reply_start == pytest.approx(2.2)


def test_agent_audio_before_the_end_of_speech_is_not_the_reply() -> None:
    meter = VoiceLatencyMeter()
    # the agent talks over the user (a barge-in it yields to), then replies after the user is done
    (turn,) = run(meter, user=[(1.0, 2.0)], agent=[(0.5, 1.3), (3.0, 4.0)])
    assert turn.latency_ms == pytest.approx(1010.0)
    assert turn.overlapped


def test_reply_onset_requires_a_gap_in_agent_audio() -> None:
    meter = VoiceLatencyMeter()
    # the agent keeps talking through the user's end of speech: the first onset after a gap is the reply
    (turn,) = run(meter, user=[(1.0, 2.0)], agent=[(1.5, 3.0), (3.5, 4.0)])
    assert turn.reply_start == pytest.approx(3.5)


def test_multiple_turns_and_summary() -> None:
    meter = VoiceLatencyMeter()
    turns = run(
        meter,
        user=[(1.0, 2.0), (5.0, 6.0), (9.0, 10.0)],
        agent=[(2.59, 4.0), (7.19, 8.0), (10.79, 12.0)],
        until=13.0,
    )
    assert [round(t.latency_ms) for t in turns] == [600, 1200, 800]
    assert [t.turn for t in turns] == [1, 2, 3]
    summary = meter.summary()
    assert summary.client.count == 3
    assert summary.client.p50_ms == pytest.approx(800.0)
    assert summary.client.p95_ms == pytest.approx(1160.0)  # linear between 800 and 1200
    assert summary.client.max_ms == pytest.approx(1200.0)
    assert summary.agent.count == 0 and summary.agent.p50_ms is None
    assert summary.unpaired == 0 and not summary.pending


def test_greeting_without_a_user_turn_is_ignored() -> None:
    meter = VoiceLatencyMeter()
    assert run(meter, agent=[(0.5, 2.0)], until=3.0) == []
    assert meter.summary().client.count == 0


def test_a_click_is_not_a_turn() -> None:
    meter = VoiceLatencyMeter()
    assert run(meter, user=[(1.0, 1.05)], agent=[(2.0, 3.0)]) == []
    assert not meter.pending


def test_a_later_utterance_supersedes_an_unanswered_turn() -> None:
    meter = VoiceLatencyMeter()
    (turn,) = run(meter, user=[(1.0, 2.0), (3.5, 4.5)], agent=[(5.5, 6.0)])
    assert turn.user_end == pytest.approx(4.49) and turn.latency_ms == pytest.approx(1010.0)
    assert meter.unpaired == 1


def test_reply_during_hangover_of_a_click_answers_the_waiting_turn() -> None:
    meter = VoiceLatencyMeter()
    # turn ends at 1.99; a click at 3.0 opens an utterance; the reply lands in the click's hangover
    (turn,) = run(meter, user=[(1.0, 2.0), (3.0, 3.02)], agent=[(3.2, 4.0)])
    assert turn.user_end == pytest.approx(1.99) and turn.reply_start == pytest.approx(3.2)
    assert meter.unpaired == 0


def test_reply_while_the_user_speaks_again_answers_the_waiting_turn() -> None:
    meter = VoiceLatencyMeter()
    # the reply starts while the user is already talking again: it was triggered by the first turn
    turns = run(meter, user=[(1.0, 2.0), (2.8, 3.5)], agent=[(3.0, 4.5)], until=6.0)
    assert turns[0].user_end == pytest.approx(1.99) and turns[0].reply_start == pytest.approx(3.0)
    assert len(turns) == 1 and meter.pending  # the second utterance still waits for its own reply


def test_reply_later_than_max_latency_is_not_paired() -> None:
    meter = VoiceLatencyMeter(VoiceLatencyConfig(max_latency_s=2.0))
    assert run(meter, user=[(1.0, 2.0)], agent=[(4.5, 5.0)], until=6.0) == []
    assert meter.unpaired == 1 and not meter.pending


def test_push_to_talk_release_is_the_end_of_the_turn() -> None:
    meter = VoiceLatencyMeter(push_to_talk=True)
    meter.user_turn_started(1.0)
    assert meter.user_speaking
    # mic frames are ignored in push-to-talk: the key decides
    assert meter.mic_frame(1.5, LOUD) is None and meter.mic_frame(3.0, QUIET) is None
    meter.user_turn_ended(2.0)
    assert meter.pending and not meter.user_speaking
    assert meter.agent_frame(2.5, 0.0) is None
    turn = meter.agent_frame(2.7, LOUD)
    assert turn is not None
    assert (turn.source, turn.latency_ms, turn.overlapped) == ("ptt", pytest.approx(700.0), False)


def test_push_to_talk_overlap_cancel_and_repress() -> None:
    meter = VoiceLatencyMeter(push_to_talk=True)
    meter.user_turn_started(1.0)
    assert meter.agent_frame(1.1, LOUD) is None  # agent still talking as the key goes down
    meter.user_turn_ended(2.0)
    turn = meter.agent_frame(3.0, LOUD)
    assert turn is not None and turn.overlapped
    meter.user_turn_started(5.0)
    meter.user_turn_cancelled()
    assert not meter.pending and meter.agent_frame(6.0, LOUD) is None
    meter.user_turn_ended(7.0)
    meter.user_turn_started(7.5)  # pressed again before any reply: the agent is interrupted
    assert meter.unpaired == 1 and not meter.pending


def test_explicit_turn_end_works_in_vad_mode_too() -> None:
    meter = VoiceLatencyMeter()
    run(meter, user=[(1.0, 1.5)], until=1.6)  # an utterance still open
    meter.user_turn_ended(1.55, source="explicit")
    turn = meter.agent_frame(2.0, LOUD)
    assert turn is not None and turn.source == "explicit" and turn.latency_ms == pytest.approx(450.0)


def test_switching_to_push_to_talk_drops_the_open_utterance() -> None:
    meter = VoiceLatencyMeter()
    run(meter, user=[(1.0, 1.5)], until=1.6)
    assert meter.user_speaking
    meter.set_push_to_talk(True)
    assert meter.push_to_talk and not meter.user_speaking
    assert run(meter, agent=[(2.0, 3.0)], start=1.6, until=3.0) == []


def test_reset_forgets_the_waiting_turn_but_keeps_results() -> None:
    meter = VoiceLatencyMeter()
    run(meter, user=[(1.0, 2.0)], agent=[(2.5, 3.0)], until=3.5)
    run(meter, user=[(4.0, 5.0)], start=3.5, until=6.0)
    assert meter.pending
    meter.reset()
    assert not meter.pending and len(meter.turns) == 1
    assert run(meter, agent=[(7.0, 8.0)], start=6.0, until=8.0) == []


def test_thresholds_are_configurable() -> None:
    quiet_speaker = dbfs_to_linear(-35.0)
    strict = VoiceLatencyMeter(VoiceLatencyConfig(speech_threshold_dbfs=-30.0))
    lenient = VoiceLatencyMeter(VoiceLatencyConfig(speech_threshold_dbfs=-40.0, hangover_s=0.3))
    for meter in (strict, lenient):
        for k in range(100, 300):
            t = k / STEP
            meter.mic_frame(t, quiet_speaker if t < 2.0 else QUIET)
    assert not strict.pending and lenient.pending
    assert dbfs_to_linear(-40.0) == pytest.approx(0.01)


def test_agent_e2e_is_summarised_beside_ours() -> None:
    meter = VoiceLatencyMeter()
    run(meter, user=[(1.0, 2.0)], agent=[(2.99, 4.0)], until=4.5)
    meter.record_agent_e2e(700.0)
    meter.record_agent_e2e(900.0)
    summary = meter.summary()
    assert summary.client.count == 1 and summary.client.p50_ms == pytest.approx(1000.0)
    assert (summary.agent.count, summary.agent.p50_ms, summary.agent.max_ms) == (2, 800.0, 900.0)
    record = summary.to_fields()
    assert json.loads(json.dumps(record))["agent"]["p95_ms"] == pytest.approx(890.0)
    assert summary.type == "voice_latency_summary"


def test_percentiles() -> None:
    stats = summarize([400.0, 100.0, 300.0, 200.0])
    assert (stats.count, stats.p50_ms, stats.max_ms, stats.mean_ms) == (4, 250.0, 400.0, 250.0)
    assert stats.p95_ms == pytest.approx(385.0)
    single = summarize([123.0])
    assert single.p50_ms == single.p95_ms == single.max_ms == 123.0
    assert summarize([]).count == 0 and summarize([]).max_ms is None
    assert percentile([1.0, 2.0], 0.0) == 1.0 and percentile([1.0, 2.0], 1.0) == 2.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_per_frame_work_does_not_accumulate_memory() -> None:
    meter = VoiceLatencyMeter()
    run(meter, user=[(0.0, 0.5)], until=0.6)  # warm up
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for k in range(60, 20_060):  # 200 s of frames, speech on and off, no reply
            t = k / STEP
            meter.mic_frame(t, LOUD if k % 300 < 100 else QUIET)
            meter.agent_frame(t, 0.0)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 4096
    assert meter.turns == () and meter.unpaired > 0
