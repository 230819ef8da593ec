"""SVG snapshot of a turn with a tool call and its latency badge, with the agent-info panel shown.

Deterministic as ``test_snapshots.py`` is: fixed event times in UTC, no animation, an injected clock.
Accept a change with ``pytest tests/app/test_insight_snapshots.py --snapshot-update`` after looking.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from .conftest import FakeClock, RecordingAudio, make_app
from .events_factory import agent_listening
from .insight_factory import agent_info, voice_turn_with_tool

pytestmark = pytest.mark.timeout(60)


async def _drive(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await pilot.pause()
    for event in [*agent_listening(), *agent_info(), *voice_turn_with_tool()]:
        app.session.events.emit(event)
    await pilot.pause()
    app._clock.advance(75.0)  # type: ignore[attr-defined]
    app.refresh_now()  # type: ignore[attr-defined]
    await pilot.pause()
    await pilot.pause()


def test_turn_with_tool_call_and_latency_badge(snap_compare: Any) -> None:
    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    assert snap_compare(app, terminal_size=(110, 36), run_before=_drive)
