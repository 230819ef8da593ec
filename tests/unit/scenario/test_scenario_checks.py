"""Each expectation of a step checked against what was observed: met, or a Failure saying expected vs got."""

from __future__ import annotations

import pytest

from agent_tui.scenario.checks import Observed, ToolSeen, check
from agent_tui.scenario.model import AttributeExpectation, Expectations

TIME = ToolSeen.parsed("get_time", '{"tz": "UTC", "n": 2}', "14:05")
SEEN = Observed(
    reply="The time is 14:05.",
    first_reply_after=1.5,
    tools=[TIME],
    states=["thinking", "speaking", "listening"],
    agent_attributes={"mode": "demo"},
    latency_ms=900.0,
    agent_metrics={"e2e_ms": 700.0, "llm_ttft_ms": 5.0},
)


@pytest.mark.parametrize(
    "expect",
    [
        Expectations(reply="THE TIME"),
        Expectations(reply_matches=r"\d\d:\d\d"),
        Expectations(reply_any_of=("weather", "time is")),
        Expectations(reply_not="sorry"),
        Expectations(no_reply_within=1.0),
        Expectations(tool="get_time", tool_args={"tz": "UTC", "n": "2"}, tool_result="14:"),
        Expectations(no_tool="transfer"),
        Expectations(state="speaking"),
        Expectations(attribute=AttributeExpectation(name="mode", value="demo")),
        Expectations(agent_left=False),
        Expectations(max_latency_ms=1000, max_e2e_ms=700, max_llm_ttft_ms=10),
    ],
)
def test_a_met_expectation_is_no_failure(expect: Expectations) -> None:
    assert check(expect, SEEN) == []


@pytest.mark.parametrize(
    ("expect", "key", "expected", "got"),
    [
        (Expectations(reply="weather"), "reply", 'a reply containing "weather"', '"The time is 14:05."'),
        (
            Expectations(reply_matches=r"^\d+$"),
            "reply_matches",
            r"a reply matching /^\d+$/",
            '"The time is 14:05."',
        ),
        (
            Expectations(reply_any_of=("a b", "c d")),
            "reply_any_of",
            'one of "a b", "c d"',
            '"The time is 14:05."',
        ),
        (Expectations(reply_not="14:05"), "reply_not", 'a reply without "14:05"', '"The time is 14:05."'),
        (Expectations(no_reply_within=3), "no_reply_within", "no reply within 3 s", "after 1.5 s"),
        (Expectations(tool="get_weather"), "tool", "a call of get_weather", "get_time"),
        (Expectations(tool="get_time", tool_args={"tz": "CET"}), "tool_args", '{"tz": "CET"}', '"tz": "UTC"'),
        (Expectations(tool="get_time", tool_result="15:"), "tool_result", '"15:"', '"14:05"'),
        (Expectations(no_tool="get_time"), "no_tool", "no call of get_time", "get_time"),
        (Expectations(state="idle"), "state", "the agent idle", "thinking, speaking, listening"),
        (
            Expectations(attribute=AttributeExpectation(name="mode", value="live")),
            "attribute",
            'mode = "live"',
            'mode = "demo"',
        ),
        (
            Expectations(attribute=AttributeExpectation(name="tier", value="gold")),
            "attribute",
            'tier = "gold"',
            "no attribute 'tier'",
        ),
        (Expectations(agent_left=True), "agent_left", "the agent left", "it is still in the room"),
        (Expectations(max_latency_ms=500), "max_latency_ms", "at most 500 ms", "900 ms"),
        (Expectations(max_e2e_ms=100), "max_e2e_ms", "at most 100 ms", "700 ms"),
        (
            Expectations(max_tts_ttfb_ms=100),
            "max_tts_ttfb_ms",
            "at most 100 ms",
            "not published by the agent",
        ),
    ],
)
def test_an_unmet_expectation_says_expected_and_got(
    expect: Expectations, key: str, expected: str, got: str
) -> None:
    (failure,) = check(expect, SEEN)
    assert failure.expectation == key
    assert expected in failure.expected
    assert got in failure.got


def test_every_miss_of_a_step_is_reported_not_just_the_first() -> None:
    expect = Expectations(reply="weather", tool="get_weather", max_latency_ms=1)
    silent = Observed(reply=None, answered=False)
    failures = check(expect, silent)
    assert [(f.expectation, f.got) for f in failures] == [
        ("reply", "no reply"),
        ("tool", "no tool calls"),
        ("max_latency_ms", "not measured"),
    ]


def test_tool_arguments_that_are_not_json_are_kept_as_text_and_never_match_a_subset() -> None:
    call = ToolSeen.parsed("lookup", "not json")
    assert call.arguments == "not json" and call.as_dict()["result"] is None
    (failure,) = check(Expectations(tool="lookup", tool_args={"q": "x"}), Observed(reply="", tools=[call]))
    assert failure.expectation == "tool_args"
