"""The agent's tool calls as transcript lines: one entry per call, written when the call starts
(``get_time() …``) and rewritten in place by its progress and its result (``get_time() → 12:00``).

A slow tool shows as running, and its result lands next to the call rather than wherever the
transcript has got to. Calls this client did not see live come from the agent's history on join or
reconnect (``from_history``): the Session sends them in conversation order with the messages it
merges, once per call, so they are drawn the same way, at the agent's time of the call. Their state
is unknown, so a history call without a result is not listed as running until the agent reports on it
live.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_tui.session import ToolCall, ToolResult, ToolUpdate

from .transcript_view import EntryKind, TranscriptEntry, TranscriptView

__all__ = ["MAX_TOOL_TEXT", "ToolLines", "clip", "tool_signature"]

#: Longest tool argument or result text shown inline: a tool may return a whole document, and the
#: transcript is for following the conversation (``--json`` has everything).
MAX_TOOL_TEXT = 300


def clip(text: str, limit: int = MAX_TOOL_TEXT) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks a cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def tool_signature(name: str, arguments: str | None) -> str:
    """``get_time()`` for no arguments, else ``name(<the JSON the LLM wrote>)``; ``name`` alone if unknown."""
    if arguments is None:
        return name
    args = arguments.strip()
    if args in ("", "{}", "null"):
        return f"{name}()"
    return f"{name}({clip(args)})"


@dataclass
class _Tool:
    key: str
    at: float
    name: str
    arguments: str | None
    finished: bool = False
    from_history: bool = False


def _shown_at(event: ToolCall | ToolResult) -> float:
    """A live call is shown when it reached us; one from the history at the agent's time, when it has one."""
    if event.from_history and event.created_at is not None:
        return event.created_at
    return event.at


class ToolLines:
    """The tool calls of one transcript; :meth:`show` takes each tool event, :attr:`running` says which
    calls are running now."""

    def __init__(self, transcript: TranscriptView) -> None:
        self._transcript = transcript
        self._epoch = 0
        self._tools: dict[str, _Tool] = {}

    @property
    def running(self) -> tuple[str, ...]:
        """The names of the calls running now (not those from the history: their state is unknown)."""
        return tuple(t.name for t in self._tools.values() if not t.finished and not t.from_history)

    def agent_changed(self) -> None:
        """A different agent (or none): its calls do not carry over, and its call ids may repeat."""
        self._epoch += 1
        self._tools.clear()

    def show(self, event: ToolCall | ToolUpdate | ToolResult) -> None:
        match event:
            case ToolCall():
                self._called(event)
            case ToolUpdate():
                self._updated(event)
            case ToolResult():
                self._finished(event)

    def _called(self, event: ToolCall) -> None:
        if event.call_id in self._tools:
            return
        tool = _Tool(
            key=f"tool:{self._epoch}:{event.call_id}",
            at=_shown_at(event),
            name=event.name,
            arguments=event.arguments,
            from_history=event.from_history,
        )
        self._tools[event.call_id] = tool
        self._write(tool, f"{tool_signature(tool.name, tool.arguments)} …")

    def _updated(self, event: ToolUpdate) -> None:
        tool = self._tools.get(event.call_id)
        if tool is None or tool.finished:
            return
        tool.from_history = False  # the agent reports on it live: it is running
        signature = tool_signature(tool.name, tool.arguments)
        if event.phase == "call_updated" and event.message:
            self._write(tool, f"{signature} … {clip(event.message)}")
        elif event.phase == "ended" and event.status in ("error", "cancelled"):
            tool.finished = True
            self._write(tool, f"{signature} {event.status}", error=event.status == "error")

    def _finished(self, event: ToolResult) -> None:
        tool = self._tools.get(event.call_id)
        if tool is None:  # the agent reported only the result: show it on its own
            tool = _Tool(
                key=f"tool:{self._epoch}:{event.call_id}",
                at=_shown_at(event),
                name=event.name,
                arguments=None,
            )
            self._tools[event.call_id] = tool
        tool.finished = True
        signature = tool_signature(tool.name, tool.arguments)
        if event.is_error:
            self._write(tool, f"{signature} failed: {clip(event.output) or 'no details'}", error=True)
        else:
            self._write(tool, f"{signature} → {clip(event.output) or '(no output)'}")

    def _write(self, tool: _Tool, text: str, *, error: bool = False) -> None:
        kind = EntryKind.ERROR if error else EntryKind.TOOL
        self._transcript.upsert(TranscriptEntry(key=tool.key, kind=kind, text=text, at=tool.at, label="tool"))
