"""--record-scenario: the turns taken from the messages, the phrase chosen from an answer, the TOML
written by hand (read back by tomllib and by the scenario parser), and the file written at the end of a
headless run."""

from __future__ import annotations

import io
import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_tui.config import Settings
from agent_tui.headless.runner import Script, run_headless
from agent_tui.scenario.parser import parse_scenario_text
from agent_tui.scenario.record import (
    Connection,
    RecordedConversation,
    Turn,
    conversation_from,
    distinctive_phrase,
    recording,
    scenario_text,
    toml_inline_table,
    toml_string,
)
from agent_tui.session import EventBus, Message, MessageChanged, MessageKind, Speaker, ToolCall
from agent_tui.session.testing import FakeConversation

_counter = iter(range(1, 1_000_000))


def message(
    speaker: Speaker,
    text: str,
    at: float,
    *,
    kind: MessageKind = MessageKind.TRANSCRIPT,
    final: bool = True,
    cancelled: bool = False,
) -> Message:
    return Message(
        id=f"m{next(_counter)}",
        speaker=speaker,
        kind=kind,
        text=text,
        first_seen=at,
        final=final,
        participant_identity="me" if speaker is Speaker.USER else "agent-1",
        cancelled=cancelled,
    )


def user_chat(text: str, at: float) -> Message:
    return message(Speaker.USER, text, at, kind=MessageKind.CHAT)


def agent(text: str, at: float) -> Message:
    return message(Speaker.AGENT, text, at)


# -- the phrase ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        ("The time is 18:05:12 UTC.", "time"),
        ("I can tell you the time, repeat what you say, and say goodbye.", "say goodbye"),
        ("It\u2019s sunny in Paris today", "sunny in Paris"),
        ("Goodbye!", "Goodbye"),
        ("ok, yes, sure.", None),
        ("12:00", None),
    ],
)
def test_the_phrase_is_the_most_telling_words_of_one_clause_without_numbers(
    answer: str, phrase: str | None
) -> None:
    assert distinctive_phrase(answer) == phrase


@given(st.text(max_size=200))
def test_the_phrase_is_always_part_of_the_answer(answer: str) -> None:
    phrase = distinctive_phrase(answer)
    assert phrase is None or (phrase in answer and 1 <= len(phrase.split()) <= 3)


# -- TOML ------------------------------------------------------------------------------------------------
@given(st.text())
def test_any_string_survives_tomllib(text: str) -> None:
    assert tomllib.loads(f"key = {toml_string(text)}")["key"] == text


@given(st.dictionaries(st.text(min_size=0, max_size=20), st.text(max_size=20), max_size=5))
def test_any_attributes_survive_tomllib(values: dict[str, str]) -> None:
    assert tomllib.loads(f"key = {toml_inline_table(values)}")["key"] == values


# -- turns -----------------------------------------------------------------------------------------------
def test_turns_from_chat_and_voice_with_tools_given_to_the_turn_they_happened_in() -> None:
    messages = [
        agent("Hello! Ask me the time.", 1.0),
        user_chat("what time is it", 2.0),
        agent("The time is 12:00 UTC.", 3.0),
        message(Speaker.USER, "what about", 4.0, final=False),  # an interim that never became final
        message(Speaker.USER, "say", 5.0),
        message(Speaker.USER, "goodbye", 5.5),  # the STT cut one utterance in two
        agent("Goodbye!", 6.0),
        message(Speaker.USER, "never mind", 7.0, cancelled=True),
        user_chat("are you there", 8.0),
    ]
    tools = [(2.5, "get_time"), (2.6, "get_time"), (2.7, "lookup"), (0.5, "before_anything")]
    conversation = conversation_from(messages, tools)
    assert conversation.opening == ["Hello! Ask me the time."]
    assert [(t.action, t.text, t.reply, t.tools) for t in conversation.turns] == [
        ("send", "what time is it", "The time is 12:00 UTC.", ["get_time", "lookup"]),
        ("say", "say goodbye", "Goodbye!", []),
        ("send", "are you there", "", []),
    ]


def test_the_recorded_file_reads_back_through_tomllib_and_the_parser(tmp_path: Path) -> None:
    conversation = RecordedConversation(
        opening=["Hi there."],
        turns=[
            Turn(
                "send",
                'what "time" is it\\now\n?',
                replies=["The time is 12:00 UTC."],
                tools=["get_time", "x"],
            ),
            Turn("say", "goodbye", replies=["Goodbye!"]),
            Turn("send", "are you there"),
        ],
    )
    connection = Connection(
        agent="demo", agent_metadata='{"a": 1}', attributes={"tier": "gold", "a key": "v"}
    )
    text = scenario_text(conversation, connection, recorded_at=0.0, file_name="r.scenario.toml")
    data = tomllib.loads(text)
    assert data["version"] == 1
    [raw] = data["scenario"]
    assert raw["agent"] == "demo" and raw["agent_metadata"] == '{"a": 1}'
    assert raw["attributes"] == {"tier": "gold", "a key": "v"}
    [scenario] = parse_scenario_text(text, tmp_path / "r.scenario.toml")
    assert scenario.name == "recorded 1970-01-01 00:00:00 UTC"
    assert [(s.action, s.argument) for s in scenario.steps] == [
        ("send", 'what "time" is it\\now\n?'),
        ("say", "goodbye"),
        ("send", "are you there"),
    ]
    first, second, third = (step.expect for step in scenario.steps)
    assert (first.reply, first.tool) == ("time", "get_time")
    assert (second.reply, second.tool) == ("Goodbye", None)
    assert third.empty
    assert "# The agent opened with: Hi there." in text
    assert "# the agent answered: The time is 12:00 UTC." in text
    assert "edit them" in text and "agent-tui test r.scenario.toml" in text


# -- recording -------------------------------------------------------------------------------------------
def record(events: EventBus, path: Path, feed: list[Any]) -> list[str]:
    warnings: list[str] = []
    with recording(events, path, Connection(agent="demo"), on_warning=warnings.append):
        for event in feed:
            events.emit(event)
    return warnings


def test_recording_writes_the_file_when_the_block_ends(tmp_path: Path) -> None:
    bus, path = EventBus(), tmp_path / "r.scenario.toml"
    asked = user_chat("what time is it", 10.0)
    answer = agent("The time", 11.0)
    warnings = record(
        bus,
        path,
        [
            # A history fetched when the agent joined, before the question: no turn's call.
            ToolCall(call_id="c0", name="from_the_past", arguments="{}", from_history=True, at=9.0),
            MessageChanged(message=asked, new=True),
            # The turn's own call, announced by a history fetched during the turn before the live event.
            ToolCall(call_id="c1", name="get_time", arguments="{}", from_history=True, at=10.4),
            ToolCall(call_id="c2", name="lookup", arguments="{}", at=10.5),
            MessageChanged(message=answer, new=True),
            MessageChanged(message=Message(**{**answer.__dict__, "text": "The time is noon."}), new=False),
        ],
    )
    assert warnings == []
    [scenario] = parse_scenario_text(path.read_text(encoding="utf-8"), path)
    assert scenario.agent == "demo"
    [step] = scenario.steps
    assert (step.action, step.argument, step.expect.reply, step.expect.tool) == (
        "send",
        "what time is it",
        "time is noon",  # the answer as it ended, not as it began
        "get_time",
    )
    text = path.read_text(encoding="utf-8")
    assert "The time is noon." in text and "# it also called: lookup" in text and "from_the_past" not in text
    assert [p.name for p in tmp_path.iterdir()] == ["r.scenario.toml"]  # no temporary file left
    assert path.stat().st_mode & 0o777 == 0o600


def test_nothing_said_writes_nothing_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "r.scenario.toml"
    warnings = record(EventBus(), path, [MessageChanged(message=agent("Hello!", 1.0), new=True)])
    assert not path.exists()
    assert warnings == [f"--record-scenario {path}: nothing was said or typed, so no scenario was written"]


def test_a_missing_folder_is_a_warning_up_front(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "r.scenario.toml"
    warnings = record(EventBus(), path, [MessageChanged(message=user_chat("hi", 1.0), new=True)])
    assert warnings == [f"--record-scenario {path}: no folder {path.parent}, so nothing will be recorded"]
    assert not path.parent.exists()


def test_a_file_that_cannot_be_written_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "taken"
    path.mkdir()  # a folder where the file should go
    warnings = record(EventBus(), path, [MessageChanged(message=user_chat("hi", 1.0), new=True)])
    assert len(warnings) == 1 and warnings[0].startswith(f"cannot write the scenario file {path} (")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_no_path_records_nothing() -> None:
    bus = EventBus()
    with recording(bus, None, Connection(), on_warning=pytest.fail) as recorder:
        assert recorder is None


class ToolCallingAgent(FakeConversation):
    """The fake agent, calling a tool before it answers as a real one does."""

    async def _react(self, text: str) -> None:
        self.feed(ToolCall(call_id=f"c-{text}", name="get_time", arguments="{}"))
        await super()._react(text)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(("AGENT_TUI_", "LIVEKIT_")):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_env")
async def test_a_headless_run_records_its_sends_and_answers(tmp_path: Path) -> None:
    path = tmp_path / "run.scenario.toml"
    session = ToolCallingAgent()
    settings = Settings(ui=False, answer_timeout=2.0, agent="demo", record_scenario=path)
    out, err = io.StringIO(), io.StringIO()
    code = await run_headless(
        settings,
        Script(sends=("what time is it",)),
        stdout=out,
        stderr=err,
        session_factory=lambda _: session,
    )
    assert (code, err.getvalue()) == (0, "")
    [scenario] = parse_scenario_text(path.read_text(encoding="utf-8"), path)
    [step] = scenario.steps
    assert (step.action, step.argument, step.expect.tool) == ("send", "what time is it", "get_time")
    assert step.expect.reply == "answer"  # of "answer to what time is it"
    assert scenario.agent == "demo"


@pytest.mark.usefixtures("clean_env")
async def test_a_headless_run_says_when_it_cannot_record(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "run.scenario.toml"
    settings = Settings(ui=False, output="json", answer_timeout=2.0, record_scenario=path)
    out, err = io.StringIO(), io.StringIO()
    code = await run_headless(
        settings, Script(sends=("hi",)), stdout=out, stderr=err, session_factory=lambda _: FakeConversation()
    )
    assert code == 0
    warnings = [json.loads(line) for line in out.getvalue().splitlines() if '"warning"' in line]
    assert [w["message"] for w in warnings] == [
        f"--record-scenario {path}: no folder {path.parent}, so nothing will be recorded"
    ]
