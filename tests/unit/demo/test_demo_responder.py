"""The demo agent's pure parts: the rule-based responder and the orchestrator helpers.

Neither needs livekit-agents, so these run even without the ``[demo]`` extra.
"""

from __future__ import annotations

import sys
from datetime import datetime

import pytest

from agent_tui import demo
from agent_tui.demo import responder
from agent_tui.demo.responder import Intent

pytestmark = pytest.mark.timeout(10)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("What time is it?", Intent.TIME),
        ("hello what time is it", Intent.TIME),
        ("so what time is it", Intent.TIME),
        ("Could you tell me the time, please", Intent.TIME),
        ("what's the time", Intent.TIME),
        ("Goodbye!", Intent.GOODBYE),
        ("ok bye", Intent.GOODBYE),
        ("help", Intent.HELP),
        ("What can you do?", Intent.HELP),
        ("Hello", Intent.GREETING),
        ("hi there", Intent.GREETING),
        ("Good morning", Intent.GREETING),
        ("what is the weather like today", Intent.ECHO),
        ("the timer went off", Intent.ECHO),
        ("this is a byeline", Intent.ECHO),
        ("", Intent.EMPTY),
        ("  ?! ", Intent.EMPTY),
    ],
)
def test_classify(text: str, intent: Intent) -> None:
    assert responder.classify(text) is intent


def test_time_question_asks_for_the_tool_and_answers_with_its_output() -> None:
    reply = responder.respond("What time is it?")
    assert reply == responder.Reply(intent=Intent.TIME, tool=responder.GET_TIME_TOOL)
    assert reply.text is None
    output = responder.format_time(datetime(2024, 1, 2, 9, 5))
    assert output == "09:05"
    assert responder.time_answer(output) == "The time is 09:05."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello", responder.HELLO_REPLY_TEXT),
        ("help me", responder.HELP_TEXT),
        ("bye now", responder.GOODBYE_TEXT),
        ("", responder.NOT_HEARD_TEXT),
        ("What is the WEATHER like, today?", "You said: what is the weather like today"),
        ("It\u2019s sunny", "You said: it's sunny"),
    ],
)
def test_fixed_phrasings(text: str, expected: str) -> None:
    reply = responder.respond(text)
    assert reply.tool is None
    assert reply.text == expected


def test_every_reply_is_deterministic() -> None:
    for text in ("hello", "help", "what time is it", "goodbye", "echo this"):
        assert responder.respond(text) == responder.respond(text)


def test_ready_line_round_trip() -> None:
    line = demo.format_ready_line("demo", "AW_abc123")
    assert demo.READY_RE.match(line)
    assert demo.parse_ready_line(line + "\n") == ("demo", "AW_abc123")
    assert demo.parse_ready_line('{"message": "registered worker"}') is None


def test_worker_command() -> None:
    assert demo.worker_command() == [sys.executable, "-m", "agent_tui.demo", "start"]
    assert demo.worker_command(python="py", agent_name="other", ptt=True, extra_args=["--x"]) == [
        "py",
        "-m",
        "agent_tui.demo",
        "start",
        "--agent-name",
        "other",
        "--ptt",
        "--x",
    ]


def test_package_does_not_import_the_framework() -> None:
    # an orchestrator imports agent_tui.demo without the [demo] extra; the module must stay light
    import importlib
    import subprocess

    code = (
        "import sys, agent_tui.demo; "
        "sys.exit(1 if any(m.startswith('livekit.agents') for m in sys.modules) else 0)"
    )
    assert importlib.util.find_spec("agent_tui.demo") is not None
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=30).returncode == 0
