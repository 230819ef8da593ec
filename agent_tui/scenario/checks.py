"""Checking a step's expectations against what was observed: pure, so every rule is tested without a room.

The runner gathers an :class:`Observed` after each step (the agent's reply, the tool calls, the states,
the figures) and :func:`check` returns one :class:`~.results.Failure` per unmet expectation, each saying
what was expected and what was got, so a report can show every miss of a step at once, not just the
first. Text comparisons are case-insensitive substrings; ``reply_matches`` is a Python regex search.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent_tui.scenario.model import Expectations
from agent_tui.scenario.results import Failure

__all__ = ["Observed", "ToolSeen", "check", "quote"]

#: How much of a reply a failure quotes.
QUOTE_LIMIT = 160


@dataclass(frozen=True)
class ToolSeen:
    """One tool call of the step: its name, its arguments (parsed from JSON when they are JSON) and its
    result (None when it had not finished)."""

    name: str
    arguments: Any
    result: str | None = None

    @classmethod
    def parsed(cls, name: str, arguments: str, result: str | None = None) -> ToolSeen:
        try:
            value: Any = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            value = arguments
        return cls(name=name, arguments=value, result=result)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments, "result": self.result}


@dataclass(frozen=True)
class Observed:
    """What happened during one step, as far as expectations can ask."""

    #: The agent's messages of the step, joined; None when it said nothing.
    reply: str | None
    #: Whether the step waited for an answer and one came (False: it did not come in time).
    answered: bool = True
    #: Seconds after the step's start at which the agent first said something (None: never).
    first_reply_after: float | None = None
    tools: Sequence[ToolSeen] = ()
    #: Every agent state reached during the step and the one it is in now, in order.
    states: Sequence[str] = ()
    agent_attributes: Mapping[str, str] = field(default_factory=dict)
    agent_left: bool = False
    latency_ms: float | None = None
    agent_metrics: Mapping[str, float] = field(default_factory=dict)


def quote(text: str | None) -> str:
    if text is None:
        return "no reply"
    short = text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…"
    return json.dumps(short, ensure_ascii=False)


def check(expect: Expectations, seen: Observed) -> list[Failure]:
    """Every unmet expectation of ``expect`` given ``seen``, in the order the format lists them."""
    failures: list[Failure] = []

    def fail(expectation: str, expected: str, got: str) -> None:
        failures.append(Failure(expectation=expectation, expected=expected, got=got))

    reply = seen.reply or ""
    lowered = reply.lower()
    got_reply = quote(seen.reply)
    if expect.reply is not None and expect.reply.lower() not in lowered:
        fail("reply", f"a reply containing {quote(expect.reply)}", got_reply)
    if expect.reply_matches is not None and re.search(expect.reply_matches, reply) is None:
        fail("reply_matches", f"a reply matching /{expect.reply_matches}/", got_reply)
    if expect.reply_any_of is not None and not any(
        option.lower() in lowered for option in expect.reply_any_of
    ):
        options = ", ".join(quote(option) for option in expect.reply_any_of)
        fail("reply_any_of", f"a reply containing one of {options}", got_reply)
    if expect.reply_not is not None and expect.reply_not.lower() in lowered:
        fail("reply_not", f"a reply without {quote(expect.reply_not)}", got_reply)
    within, after = expect.no_reply_within, seen.first_reply_after
    if within is not None and after is not None and after < within:
        fail("no_reply_within", f"no reply within {within:g} s", f"{got_reply} after {after:.1f} s")
    _check_tools(expect, seen, fail)
    if expect.state is not None and expect.state not in seen.states:
        fail("state", f"the agent {expect.state}", f"states {', '.join(seen.states) or 'none'}")
    if expect.attribute is not None:
        name, value = expect.attribute.name, expect.attribute.value
        actual = seen.agent_attributes.get(name)
        if actual != value:
            got = f"{name} = {json.dumps(actual)}" if actual is not None else f"no attribute {name!r}"
            fail("attribute", f"{name} = {json.dumps(value)}", got)
    if expect.agent_left is not None and expect.agent_left != seen.agent_left:
        fail(
            "agent_left",
            "the agent left" if expect.agent_left else "the agent still in the room",
            "it left" if seen.agent_left else "it is still in the room",
        )
    _check_budget(fail, "max_latency_ms", expect.max_latency_ms, seen.latency_ms, "not measured")
    for key in ("e2e_ms", "llm_ttft_ms", "tts_ttfb_ms"):
        budget: float | None = getattr(expect, f"max_{key}")
        _check_budget(fail, f"max_{key}", budget, seen.agent_metrics.get(key), "not published by the agent")
    return failures


def _check_tools(expect: Expectations, seen: Observed, fail: Any) -> None:
    names = [tool.name for tool in seen.tools]
    called = ", ".join(names) if names else "no tool calls"
    if expect.tool is not None:
        calls = [tool for tool in seen.tools if tool.name == expect.tool]
        if not calls:
            fail("tool", f"a call of {expect.tool}", called)
        if calls and expect.tool_args is not None:
            wanted = expect.tool_args
            if not any(_has_arguments(call.arguments, wanted) for call in calls):
                got = "; ".join(json.dumps(call.arguments, ensure_ascii=False) for call in calls)
                fail("tool_args", f"{expect.tool} with {json.dumps(wanted, ensure_ascii=False)}", got)
        if calls and expect.tool_result is not None:
            wanted_result = expect.tool_result.lower()
            if not any(call.result is not None and wanted_result in call.result.lower() for call in calls):
                got = "; ".join(
                    quote(call.result) if call.result is not None else "no result" for call in calls
                )
                fail("tool_result", f"a result containing {quote(expect.tool_result)}", got)
    if expect.no_tool is not None and expect.no_tool in names:
        fail("no_tool", f"no call of {expect.no_tool}", called)


def _has_arguments(arguments: Any, wanted: Mapping[str, Any]) -> bool:
    """Whether every wanted argument is there with that value (numbers and strings compared as text
    too: agents serialise arguments as they like)."""
    if not isinstance(arguments, dict):
        return False
    for key, value in wanted.items():
        if key not in arguments:
            return False
        actual = arguments[key]
        if actual != value and str(actual) != str(value):
            return False
    return True


def _check_budget(fail: Any, key: str, budget: float | None, value: float | None, missing: str) -> None:
    if budget is None:
        return
    if value is None:
        fail(key, f"at most {budget:g} ms", missing)
    elif value > budget:
        fail(key, f"at most {budget:g} ms", f"{value:.0f} ms")
