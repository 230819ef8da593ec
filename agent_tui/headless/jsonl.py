"""JSON Lines output (``--no-ui --json``), schema version 2.

Every line is one JSON object with ``"v": 2``, ``"type"`` and ``"ts"`` (ISO 8601 UTC with milliseconds,
e.g. ``"2025-01-31T12:00:00.123Z"``), then the fields of its type:

=====================  ======================================================================================
``type``               fields
=====================  ======================================================================================
``session``            ``room``, ``identity``, ``url`` (null when the token source chose it), ``agent``;
                       once, when the room is joined, just before ``connection_state`` ``connected``
``connection_state``   ``state``, ``previous`` (disconnected|connecting|connected|reconnecting), ``reason``
                       (string or null)
``agent_state``        ``state``, ``previous`` (disconnected|connecting|pre-connect-buffering|failed|
                       initializing|idle|listening|thinking|speaking), ``failure`` (string or null)
``agent_expression``   ``mood`` (excited|happy|playful|curious|surprised|hopeful|empathetic|sad|angry|
                       anxious|calm, or null), ``expression`` (the agent's own wording, or null): what
                       ``lk.expression`` on its transcripts says, null again once it decays after two
                       more agent segments (added within version 2)
``agent_joined``       ``identity``, ``name``
``agent_left``         ``identity``, ``unexpected`` (false when our own end caused it)
``message``            ``id``, ``speaker`` (user|agent), ``kind`` (transcript|chat), ``text``, ``first_seen``
                       (ISO 8601 like ``ts``), ``cancelled`` (true: words of a push-to-talk turn the agent
                       cancelled, never answered; added within version 2); only when a transcript becomes
                       final, or for a chat message, once per id, text and ``cancelled`` (a final message
                       that is cancelled afterwards is written again, marked)
``rpc``                ``method``, and ``response`` (the agent's reply) or ``error`` (one line)
``file_sent``          ``path``, ``stream_id``
``data_track_published``  ``track`` (its name), ``participant`` (its publisher): a remote data track came;
                       ``data_track_unpublished``, the same fields, when it went (added within version 2)
``data_track_frame``   ``track``, ``participant``, ``user_timestamp`` (the publisher's, Unix ms by
                       convention, or null), and ``text`` (a UTF-8 payload) or ``payload_base64`` (any
                       other), never both; one per frame of each ``--data-track NAME`` (added within
                       version 2)
``warning``            ``message``: something went wrong but the run goes on
``error``              ``message``, ``exit_code``: the error that ends the run (also on stderr)
``end``                ``exit_code``, ``reason``: always the last line
=====================  ======================================================================================

Version 2 added what the agent's session stream (``lk.agent.session``, livekit-agents 1.8+) says, with
the fields of :mod:`agent_tui.session.agent_stream.events`: ``agent_session_state``, ``user_state``,
``user_transcript`` (final ones), ``conversation_item``, ``turn_metrics`` (``metrics``: ``end_of_turn_ms``,
``llm_ttft_ms``, ``tts_ttfb_ms``, ``e2e_ms``, …), ``tool_call`` (``name``, ``arguments``, ``call_id``,
``from_history``), ``tool_result`` (``name``, ``output``, ``is_error``, ``call_id``, ``from_history``),
``tool_update``, ``session_usage``, ``agent_error``, ``overlapping_speech``, ``false_interruption``,
``chat_history``, ``agent_info``, ``agent_framework``; and what this client measures: ``voice_latency``
(``turn``, ``latency_ms``, ``source``) and, before ``end``, ``voice_latency_summary`` (``client`` and
``agent``: ``count``, ``p50_ms``, ``p95_ms``, ``max_ms``, ``mean_ms``). Every duration is in milliseconds;
a missing figure is null.

A run that joins late or reconnects also gets the tool calls it did not see live from the agent's history:
``tool_call`` / ``tool_result`` lines with ``from_history`` true (false on live ones; added within version
2), right after the ``chat_history`` line, in conversation order with the ``message`` lines merged from
it, and ``created_at`` the agent's time of the call. Each ``call_id`` has at most one ``tool_call`` and one
``tool_result``, whichever source brought it first.

Readers should ignore unknown types and fields: new ones may appear without a version bump; ``v`` changes
only when a field is removed or changes meaning. ``--transcript FILE`` holds the ``message`` lines only, in
the same shape.
"""

from __future__ import annotations

import json

from agent_tui.headless.records import SCHEMA_VERSION, OutputEvent, Record, iso_timestamp, to_record


def render(record: Record) -> str:
    """One JSON line (no newline) for a record from :func:`~agent_tui.headless.records.to_record`."""
    fields = {key: value for key, value in record.items() if key not in ("type", "at")}
    line = {"v": SCHEMA_VERSION, "type": record["type"], "ts": iso_timestamp(record["at"]), **fields}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def format(event: OutputEvent) -> str | None:
    record = to_record(event)
    return render(record) if record is not None else None
