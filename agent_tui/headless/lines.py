"""Human-readable output of ``--no-ui``: one line per event, meant for a terminal or a log.

Each line starts with a local ``HH:MM:SS`` time and a short label, so that a conversation reads top to
bottom and ``grep agent:`` finds what the agent said. The exact wording is for people, not parsers:
scripts should use ``--json``, whose schema is versioned.
"""

from __future__ import annotations

from datetime import datetime

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
        case "agent_joined":
            body = f"agent joined: {record['identity']}"
        case "agent_left":
            body = f"agent left: {record['identity']}" + (" (unexpected)" if record["unexpected"] else "")
        case "message":
            speaker = "you" if record["speaker"] == "user" else "agent"
            label = f"{speaker} (chat)" if record["kind"] == "chat" else speaker
            body = f"{label}: {_oneline(record['text'])}"
        case "rpc":
            if "error" in record:
                body = f"rpc {record['method']} failed: {_oneline(record['error'])}"
            else:
                body = f"rpc {record['method']} → {_oneline(record['response'] or '')}"
        case "file_sent":
            body = f"file sent: {record['path']} (stream {record['stream_id']})"
        case "warning":
            body = f"warning: {_oneline(record['message'])}"
        case "error":
            body = f"error: {_oneline(record['message'])} (exit {record['exit_code']})"
        case "end":
            body = f"ended: {record['reason']} (exit {record['exit_code']})"
        case _:
            return None
    clock = datetime.fromtimestamp(record["at"]).strftime("%H:%M:%S")
    return f"{clock} {body}"


def format(event: OutputEvent) -> str | None:
    record = to_record(event)
    return render(record) if record is not None else None
