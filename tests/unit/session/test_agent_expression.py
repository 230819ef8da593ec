"""The agent's expression: parsing ``lk.expression`` and the mood's time-to-live in turns, as
components-js ``useAgentExpression`` defines them."""

from __future__ import annotations

import json

import pytest

from agent_tui.session.expression import (
    DEFAULT_MOOD_TTL_TURNS,
    NEUTRAL,
    AgentExpression,
    AgentMood,
    ExpressionTracker,
    parse_expression,
)

AGENT = "agent-1"
USER = "user-1"


def tagged(mood: str | None = None, expression: str | None = None) -> dict[str, str]:
    payload = {key: value for key, value in (("mood", mood), ("expression", expression)) if value is not None}
    return {"lk.expression": json.dumps(payload), "lk.segment_id": "ignored-here"}


def test_the_mood_set_and_ttl_are_the_js_ones() -> None:
    assert [m.value for m in AgentMood] == [
        "excited", "happy", "playful", "curious", "surprised", "hopeful",
        "empathetic", "sad", "angry", "anxious", "calm",
    ]  # fmt: skip
    assert DEFAULT_MOOD_TTL_TURNS == 2


def test_parse_reads_mood_and_wording() -> None:
    assert parse_expression(tagged("happy", "  bright, warm ")) == AgentExpression(
        AgentMood.HAPPY, "bright, warm"
    )


@pytest.mark.parametrize(
    "attributes",
    [None, {}, {"lk.expression": ""}, {"lk.expression": "{not json"}, {"lk.expression": "[1]"}, tagged()],
)
def test_no_or_malformed_payload_is_no_expression(attributes: dict[str, str] | None) -> None:
    assert parse_expression(attributes) is None


def test_wording_without_mood_is_kept_and_blank_wording_is_none() -> None:
    assert parse_expression(tagged(expression="soft, with genuine care")) == AgentExpression(
        None, "soft, with genuine care"
    )
    assert parse_expression(tagged("calm", "   ")) == AgentExpression(AgentMood.CALM, None)
    assert parse_expression(tagged(expression="  ")) is None


def test_a_mood_outside_the_set_is_dropped_but_its_wording_kept() -> None:
    assert parse_expression(tagged("smug", "a little smug")) == AgentExpression(None, "a little smug")
    assert parse_expression(tagged("smug")) is None


def test_the_latest_expressing_segment_is_current_and_decays_after_two_agent_turns() -> None:
    tracker = ExpressionTracker()
    assert tracker.current is NEUTRAL
    assert (
        tracker.segment(segment="s1", speaker=AGENT, attributes=tagged("excited", "hyped")).mood
        is AgentMood.EXCITED
    )
    tracker.segment(segment="u1", speaker=USER, attributes={})  # the user's words do not age it
    assert tracker.segment(segment="s2", speaker=AGENT, attributes={}).mood is AgentMood.EXCITED
    assert tracker.segment(segment="s3", speaker=AGENT, attributes={}) is NEUTRAL


def test_the_trailer_of_an_open_segment_updates_it_without_counting_a_turn() -> None:
    tracker = ExpressionTracker()
    tracker.segment(segment="s1", speaker=AGENT, attributes={})  # opened: no expression yet
    assert tracker.current is NEUTRAL
    closed = tracker.segment(segment="s1", speaker=AGENT, attributes=tagged("sad", "quietly"))
    assert closed == AgentExpression(AgentMood.SAD, "quietly")
    tracker.segment(segment="s1", speaker=AGENT, attributes=tagged("sad", "quietly"))  # seen again
    assert tracker.segment(segment="s2", speaker=AGENT, attributes={}).mood is AgentMood.SAD


def test_a_late_trailer_on_an_older_segment_does_not_replace_a_newer_expression() -> None:
    tracker = ExpressionTracker()
    tracker.segment(segment="s1", speaker=AGENT, attributes={})
    tracker.segment(segment="s2", speaker=AGENT, attributes=tagged("curious"))
    assert tracker.segment(segment="s1", speaker=AGENT, attributes=tagged("angry")).mood is AgentMood.CURIOUS


def test_an_expression_on_a_segment_already_followed_is_aged_by_what_followed() -> None:
    tracker = ExpressionTracker()
    for segment in ("s1", "s2", "s3"):
        tracker.segment(segment=segment, speaker=AGENT, attributes={})
    # s1's trailer lands after two more agent segments: it is the latest expression, already decayed.
    assert tracker.segment(segment="s1", speaker=AGENT, attributes=tagged("happy")) is NEUTRAL


def test_a_ttl_of_zero_never_decays_and_reset_forgets() -> None:
    tracker = ExpressionTracker(ttl_turns=0)
    tracker.segment(segment="s1", speaker=AGENT, attributes=tagged("calm"))
    for n in range(5):
        tracker.segment(segment=f"later-{n}", speaker=AGENT, attributes={})
    assert tracker.current.mood is AgentMood.CALM
    tracker.reset()
    assert tracker.current is NEUTRAL
