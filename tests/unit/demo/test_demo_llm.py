"""RulesLLM through a real AgentSession (text only, no room): replies and the get_time tool call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from livekit.agents import Agent, AgentSession, llm

from agent_tui.demo.agent import DemoAgent
from agent_tui.demo.llm_rules import RulesLLM, decide
from agent_tui.demo.responder import (
    GET_TIME_TOOL,
    GREETING_TEXT,
    HELP_TEXT,
    TIME_TOOL_ERROR_TEXT,
    Intent,
)
from agent_tui.demo.worker import DemoConfig, build_session

pytestmark = pytest.mark.timeout(20)

FIXED_NOW = datetime(2024, 1, 2, 12, 34, 56)


@pytest.fixture
async def session() -> AsyncIterator[AgentSession[None]]:
    # the worker's own session settings, without audio components
    async with build_session(DemoConfig(), vad=None, stt=None, tts=None) as sess:
        await sess.start(DemoAgent(clock=lambda: FIXED_NOW, greeting=None), record=False)
        yield sess


async def test_time_question_calls_get_time_and_answers_with_its_output(
    session: AgentSession[None],
) -> None:
    result = await session.run(user_input="What time is it?")
    result.expect.next_event().is_function_call(name=GET_TIME_TOOL, arguments={})
    result.expect.next_event().is_function_call_output(output="12:34", is_error=False)
    message = result.expect.next_event().is_message(role="assistant")
    result.expect.no_more_events()
    assert message.event().item.text_content == "The time is 12:34."
    # the call and its output are part of the history clients see
    kinds = [item.type for item in session.history.items]
    assert kinds[-3:] == ["function_call", "function_call_output", "message"]


async def test_greeting_echo_help_goodbye(session: AgentSession[None]) -> None:
    expected = {
        "hello": "Hello there. How can I help you?",
        "what is the weather like today": "You said: what is the weather like today",
        "help": HELP_TEXT,
        "goodbye": "Goodbye. Thanks for trying the demo.",
    }
    for user_input, reply in expected.items():
        result = await session.run(user_input=user_input)
        message = result.expect.next_event().is_message(role="assistant")
        result.expect.no_more_events()
        assert message.event().item.text_content == reply


async def test_greeting_on_enter() -> None:
    async with build_session(DemoConfig(), vad=None, stt=None, tts=None) as sess:
        await sess.start(DemoAgent(), record=False)
        speech = sess.current_speech
        assert speech is not None
        await speech.wait_for_playout()
        texts = [item.text_content for item in sess.history.items if item.type == "message"]
        assert texts == [GREETING_TEXT]


async def test_without_the_tool_the_time_question_gets_help() -> None:
    # a plain Agent offers no get_time tool; the rules must not call a tool that does not exist
    async with AgentSession(llm=RulesLLM(), vad=None) as sess:
        await sess.start(Agent(instructions="no tools"), record=False)
        result = await sess.run(user_input="what time is it")
        message = result.expect.next_event().is_message(role="assistant")
        result.expect.no_more_events()
        assert message.event().item.text_content == HELP_TEXT


def test_decide_answers_from_the_tool_output() -> None:
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="user", content="what time is it")
    first = decide(ctx, {GET_TIME_TOOL})
    assert not isinstance(first, llm.FunctionCallOutput)
    assert (first.intent, first.tool) == (Intent.TIME, GET_TIME_TOOL)
    ctx.items.append(llm.FunctionCall(call_id="c1", name=GET_TIME_TOOL, arguments="{}"))
    ctx.items.append(llm.FunctionCallOutput(call_id="c1", name=GET_TIME_TOOL, output="oops", is_error=True))
    second = decide(ctx, {GET_TIME_TOOL})
    assert isinstance(second, llm.FunctionCallOutput) and second.is_error


async def test_tool_error_is_spoken_plainly() -> None:
    def broken() -> datetime:
        raise OSError("no clock")

    async with build_session(DemoConfig(), vad=None, stt=None, tts=None) as sess:
        await sess.start(DemoAgent(clock=broken, greeting=None), record=False)
        result = await sess.run(user_input="what's the time")
        result.expect.next_event().is_function_call(name=GET_TIME_TOOL)
        result.expect.next_event().is_function_call_output(is_error=True)
        message = result.expect.next_event().is_message(role="assistant")
        assert message.event().item.text_content == TIME_TOOL_ERROR_TEXT


async def test_reply_is_streamed_in_several_chunks() -> None:
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="user", content="help")
    chunks = [chunk async for chunk in RulesLLM().chat(chat_ctx=ctx)]
    contents = [c.delta.content for c in chunks if c.delta and c.delta.content]
    assert len(contents) == len(HELP_TEXT.split(" "))
    assert "".join(contents) == HELP_TEXT
