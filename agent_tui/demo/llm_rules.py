"""The rule-based responder behind livekit-agents' ``llm.LLM`` interface.

Why an ``llm.LLM`` subclass rather than a ``llm_node`` override: the session then runs its real
LLM machinery, so a client sees what it would see with a cloud model: streamed assistant text,
``lk.agent.state`` going through ``thinking``, and, for the time question, a genuine function call.
The stream emits a ``get_time`` tool call, the framework executes the agent's ``@function_tool``,
appends the call and its output to the chat context (``function_tools_executed``,
``conversation_item_added`` on ``lk.agent.session``), and calls the LLM again, which then answers
with the tool's output.

Replies are streamed a word at a time, so the TTS's sentence streaming and the agent's transcript
deltas are exercised as they would be with a token-streaming model.
"""

from __future__ import annotations

import json
from typing import Any

from livekit.agents import llm, utils
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from .responder import (
    GET_TIME_TOOL,
    GREETING_TEXT,
    TIME_TOOL_ERROR_TEXT,
    Intent,
    Reply,
    respond,
    time_answer,
)

__all__ = ["RulesLLM", "RulesLLMStream", "decide"]


def _tool_names(tools: list[llm.Tool]) -> set[str]:
    return {tool.id for tool in tools}


def decide(chat_ctx: llm.ChatContext, tool_names: set[str]) -> Reply | llm.FunctionCallOutput:
    """Pick what to do for the conversation so far.

    Returns the ``get_time`` output to answer with when the latest user message has already been
    answered by that tool (the second LLM call of a tool turn), otherwise the responder's
    :class:`~agent_tui.demo.responder.Reply` to the latest user message. A tool reply is only asked
    for when the agent actually offers the tool; without it the time question falls back to help.
    """
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.FunctionCallOutput) and item.name == GET_TIME_TOOL:
            return item
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            reply = respond(item.text_content or "")
            if reply.tool is not None and reply.tool not in tool_names:
                return respond("help")
            return reply
    # No user message yet: the session asked for a reply on its own (e.g. generate_reply on enter).
    return Reply(intent=Intent.GREETING, text=GREETING_TEXT)


class RulesLLM(llm.LLM):
    """An offline, deterministic stand-in for an LLM (see :mod:`agent_tui.demo.responder`)."""

    @property
    def model(self) -> str:
        return "rules"

    @property
    def provider(self) -> str:
        return "agent-tui"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> RulesLLMStream:
        return RulesLLMStream(
            self,
            chat_ctx=chat_ctx,
            tools=tools or [],
            conn_options=conn_options,
            tool_choice=tool_choice,
        )


class RulesLLMStream(llm.LLMStream):
    """One completion: either a ``get_time`` tool call, or the reply text streamed word by word."""

    def __init__(
        self,
        llm_: RulesLLM,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
        tool_choice: NotGivenOr[llm.ToolChoice],
    ) -> None:
        super().__init__(llm_, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        # tool_choice="none" is how the framework asks for a plain-text answer (e.g. after
        # max_tool_steps); honour it like a real model would.
        self._tools_allowed = tool_choice != "none"

    async def _run(self) -> None:
        request_id = utils.shortuuid("rules_")
        names = _tool_names(self._tools) if self._tools_allowed else set()
        decision = decide(self._chat_ctx, names)
        if isinstance(decision, llm.FunctionCallOutput):
            text = TIME_TOOL_ERROR_TEXT if decision.is_error else time_answer(decision.output)
        elif decision.tool is not None:
            self._event_ch.send_nowait(
                llm.ChatChunk(
                    id=request_id,
                    delta=llm.ChoiceDelta(
                        role="assistant",
                        tool_calls=[
                            llm.FunctionToolCall(
                                name=decision.tool,
                                arguments=json.dumps({}),
                                call_id=utils.shortuuid("call_"),
                            )
                        ],
                    ),
                )
            )
            return
        else:
            text = decision.text or ""
        words = text.split(" ")
        for i, word in enumerate(words):
            self._event_ch.send_nowait(
                llm.ChatChunk(
                    id=request_id,
                    delta=llm.ChoiceDelta(role="assistant", content=word if i == 0 else " " + word),
                )
            )
