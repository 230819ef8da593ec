"""SVG snapshots of the main screen in its key states, the help screen and the error panels.

Deterministic by construction: the app does not start the session, animations are off, the elapsed
clock is injected and transcript times are formatted in UTC from fixed timestamps. Accept changes with
``pytest tests/app/test_snapshots.py --snapshot-update`` after looking at the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from textual.pilot import Pilot

from agent_tui.app import AppSettings
from agent_tui.audio.controls import MicMode
from agent_tui.session import (
    AgentAttributesChanged,
    AgentFailure,
    AgentState,
    ConnectionState,
    ConnectionStateChanged,
)

from .conftest import T0, FakeClock, RecordingAudio, make_app
from .events_factory import agent_listening, agent_state, connected, disconnected, message

pytestmark = pytest.mark.timeout(60)

SIZE = (100, 30)


def conversation() -> list[object]:
    return [
        *agent_listening(),
        message(
            "a1", "Hello! I'm the demo agent. Ask me about the weather or anything else.", at=T0, agent=True
        ),
        message("u1", "What's the weather like in Paris today?", at=T0 + 6),
        message(
            "a2",
            "It's sunny in Paris with a high of 21 degrees and a light breeze from the west. "
            "A good day for a walk along the Seine.",
            at=T0 + 9,
            agent=True,
        ),
        message("c1", "thanks! and tomorrow?", at=T0 + 20, chat=True),
        message("u2", "and what about the week", at=T0 + 31, final=False),
        AgentAttributesChanged(
            identity="agent-AJ_1",
            attributes={"lk.agent.state": "listening", "topic": "weather", "city": "Paris"},
            changed={"city": "Paris"},
        ),
    ]


def driven(events: Sequence[object], *, advance: float = 83.0, after: Callable[[Any], None] | None = None):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await pilot.pause()
        for event in events:
            app.session.events.emit(event)
        await pilot.pause()
        app._clock.advance(advance)
        if after is not None:
            after(app)
        app.refresh_now()
        await pilot.pause()
        await pilot.pause()

    return run_before


def test_main_connecting(snap_compare: Any) -> None:
    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    assert snap_compare(app, terminal_size=SIZE, run_before=driven(connected()[:2], advance=0))


def test_main_listening_with_conversation(snap_compare: Any) -> None:
    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    assert snap_compare(app, terminal_size=SIZE, run_before=driven(conversation()))


def test_main_thinking(snap_compare: Any) -> None:
    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    events = [*conversation(), agent_state(AgentState.THINKING, AgentState.LISTENING)]
    assert snap_compare(app, terminal_size=SIZE, run_before=driven(events))


def test_main_speaking(snap_compare: Any) -> None:
    audio = RecordingAudio()
    audio.output_db = -4.0
    app = make_app(audio=audio, clock=FakeClock())
    events = [*conversation(), agent_state(AgentState.SPEAKING, AgentState.THINKING)]
    assert snap_compare(app, terminal_size=SIZE, run_before=driven(events))


def test_main_reconnecting(snap_compare: Any) -> None:
    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    events = [
        *conversation(),
        ConnectionStateChanged(
            state=ConnectionState.RECONNECTING, previous=ConnectionState.CONNECTED, at=T0 + 40
        ),
    ]
    assert snap_compare(app, terminal_size=SIZE, run_before=driven(events))


def test_main_push_to_talk_muted(snap_compare: Any) -> None:
    audio = RecordingAudio(mode=MicMode.PUSH_TO_TALK)
    audio.set_muted(True)
    app = make_app(audio=audio, clock=FakeClock())
    assert snap_compare(app, terminal_size=SIZE, run_before=driven(conversation()))


def test_main_push_to_talk_talking(snap_compare: Any) -> None:
    audio = RecordingAudio(mode=MicMode.PUSH_TO_TALK)
    app = make_app(audio=audio, clock=FakeClock(), app_settings=AppSettings(ptt_method="toggle"))
    assert snap_compare(app, terminal_size=SIZE, press=["ctrl+space", "_"], run_before=driven(conversation()))


def test_main_text_only(snap_compare: Any) -> None:
    app = make_app(audio=None, clock=FakeClock())
    assert snap_compare(app, terminal_size=SIZE, run_before=driven(conversation()))


def test_main_narrow_terminal(snap_compare: Any) -> None:
    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    assert snap_compare(app, terminal_size=(80, 24), run_before=driven(conversation()))


def test_help_screen(snap_compare: Any) -> None:
    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    assert snap_compare(app, terminal_size=(100, 34), press=["f1"])


def test_error_agent_did_not_join(snap_compare: Any) -> None:
    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    events = [*connected(), agent_state(AgentState.FAILED, AgentState.CONNECTING, AgentFailure.DID_NOT_JOIN)]
    assert snap_compare(app, terminal_size=SIZE, run_before=driven(events, advance=20))


def test_error_connection_lost(snap_compare: Any) -> None:
    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    events = [
        *conversation(),
        disconnected("disconnected by the server (ROOM_DELETED)", at=T0 + 40),
    ]
    assert snap_compare(app, terminal_size=SIZE, run_before=driven(events))


def test_error_token(snap_compare: Any) -> None:
    from agent_tui.session import TokenEndpointUnreachableError

    app = make_app(audio=RecordingAudio(), clock=FakeClock())
    error = TokenEndpointUnreachableError(
        "The token server at http://localhost:8080/token refused the connection. "
        "Start it, or pass --token / --url to use a literal token."
    )
    from agent_tui.app import SessionStartFailed

    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=driven([], after=lambda a: a.post_message(SessionStartFailed(error))),
    )


def test_error_portaudio_missing(snap_compare: Any) -> None:
    app = make_app(audio=None, clock=FakeClock(), text_only_reason="PortAudio library not found.")
    assert snap_compare(app, terminal_size=SIZE, run_before=driven([]))
