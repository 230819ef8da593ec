"""Human-readable output of ``--no-ui``: one line per event, meant for a terminal or a log.

Each line starts with a local ``HH:MM:SS`` time and a short label, so that a conversation reads top to
bottom and ``grep agent:`` finds what the agent said. The exact wording is for people, not parsers:
scripts should use ``--json``, whose schema is versioned.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from agent_tui.headless.records import OutputEvent, Record, to_record


def _oneline(text: str) -> str:
    """Multi-line text kept on its line, so one event stays one line."""
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text


def render(record: Record) -> str | None:
    kind = record["type"]
    match kind:
        case "session":
            parts = [f"room {record['room']}", f"as {record['identity']}"]
            if record["url"]:
                parts.append(f"on {record['url']}")
            if record["agent"]:
                parts.append(f"agent {record['agent']}")
            body = "session: " + " ".join(parts)
        case "connection_state":
            reason = f" ({record['reason']})" if record["reason"] else ""
            body = f"connection: {record['state']}{reason}"
        case "agent_state":
            failure = f" — {record['failure']}" if record["failure"] else ""
            body = f"agent state: {record['state']}{failure}"
        case "agent_expression":
            shown = [str(part) for part in (record["mood"], record["expression"]) if part]
            body = "agent expression: " + (" — ".join(shown) if shown else "neutral")
        case "agent_joined":
            body = f"agent joined: {record['identity']}"
        case "agent_left":
            body = f"agent left: {record['identity']}" + (" (unexpected)" if record["unexpected"] else "")
        case "message":
            speaker = "you" if record["speaker"] == "user" else "agent"
            label = f"{speaker} (chat)" if record["kind"] == "chat" else speaker
            body = f"{label}: {_oneline(record['text'])}"
            if record.get("cancelled"):
                body += " (cancelled)"
        case "rpc":
            if "error" in record:
                body = f"rpc {record['method']} failed: {_oneline(record['error'])}"
            else:
                body = f"rpc {record['method']} → {_oneline(record['response'] or '')}"
        case "file_sent":
            body = f"file sent: {record['path']} (stream {record['stream_id']})"
        case "data_track_published" | "data_track_unpublished":
            what = "published" if kind == "data_track_published" else "unpublished"
            body = f"data track {what}: {record['track']} by {record['participant']}"
        case "data_track_frame":
            body = f"data track {record['track']} ({record['participant']}): {_payload(record)}"
            if record["user_timestamp"] is not None:
                body += f" (timestamp {record['user_timestamp']})"
        case "warning":
            body = f"warning: {_oneline(record['message'])}"
        case "encryption_state":
            body = f"encryption of {record['identity']}: {record['state']}"
        case "encryption_error":
            body = f"encryption error: {_oneline(record['message'])}"
        case "error":
            body = f"error: {_oneline(record['message'])} (exit {record['exit_code']})"
        case "end":
            body = f"ended: {record['reason']} (exit {record['exit_code']})"
        case "tool_call":
            body = f"tool call: {record['name']}({_oneline(record['arguments'])}){_history(record)}"
        case "tool_result":
            outcome = "failed" if record["is_error"] else "→"
            body = f"tool {record['name']} {outcome} {_oneline(record['output'])}{_history(record)}"
        case "turn_metrics":
            figures = _figures(record["metrics"])
            if not figures:
                return None
            body = f"{record['role']} turn: {figures}"
        case "voice_latency":
            body = f"voice-to-voice latency: {record['latency_ms']:.0f} ms (turn {record['turn']})"
        case "voice_latency_summary":
            body = "latency summary: " + _summary(record)
        case "agent_error":
            body = f"agent error: {_oneline(record['message'])}"
        case "agent_info":
            tools = ", ".join(record["tools"]) or "none"
            body = f"agent info: {record['id'] or 'agent'} (tools: {tools})"
        case _:
            return None
    clock = datetime.fromtimestamp(record["at"]).strftime("%H:%M:%S")
    return f"{clock} {body}"


def _payload(record: Record) -> str:
    if "text" in record:
        return _oneline(record["text"])
    return f"{len(base64.b64decode(record['payload_base64']))} bytes (base64 in --json)"


def _history(record: Record) -> str:
    """Marks a tool call or result this run did not see live but found in the agent's history."""
    return " (from history)" if record.get("from_history") else ""


_METRIC_LABELS = (
    ("end_of_turn_ms", "end of turn"),
    ("llm_ttft_ms", "llm ttft"),
    ("tts_ttfb_ms", "tts ttfb"),
    ("e2e_ms", "e2e"),
)


def _figures(metrics: dict[str, Any]) -> str:
    return " · ".join(
        f"{label} {metrics[key]:.0f} ms" for key, label in _METRIC_LABELS if metrics.get(key) is not None
    )


def _stats(stats: dict[str, Any]) -> str:
    if not stats["count"]:
        return "none"
    p50, p95, top = stats["p50_ms"], stats["p95_ms"], stats["max_ms"]
    return f"p50 {p50:.0f} / p95 {p95:.0f} / max {top:.0f} ms ({stats['count']})"


def _summary(record: Record) -> str:
    return f"client-measured {_stats(record['client'])}; agent-reported e2e {_stats(record['agent'])}"


def format(event: OutputEvent) -> str | None:
    record = to_record(event)
    return render(record) if record is not None else None
