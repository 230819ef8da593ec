"""Every agent state and every connection state, as the user sees them (Pilot, real Session events)."""

from __future__ import annotations

import pytest

from agent_tui.app.widgets.banner import Banner
from agent_tui.app.widgets.header_bar import HeaderBar
from agent_tui.session import AgentFailure, AgentState, ConnectionState, ConnectionStateChanged
from agent_tui.ui.agent_state import AgentStateIndicator
from tests.support.recording_audio import RecordingAudio

from .conftest import FakeClock, emit, make_app
from .events_factory import agent_listening, agent_state, connected, disconnected
from .screen_text import screen_text

pytestmark = pytest.mark.timeout(30)

EXPECTED_TITLES = {
    AgentState.DISCONNECTED: "Disconnected",
    AgentState.CONNECTING: "Connecting",
    AgentState.PRE_CONNECT_BUFFERING: "Buffering",
    AgentState.INITIALIZING: "Initializing",
    AgentState.IDLE: "Idle",
    AgentState.LISTENING: "Listening",
    AgentState.THINKING: "Thinking",
    AgentState.SPEAKING: "Speaking",
    AgentState.FAILED: "Failed",
}


@pytest.mark.parametrize("state", list(AgentState))
async def test_every_agent_state_has_its_look(state: AgentState) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        failure = AgentFailure.DID_NOT_JOIN if state is AgentState.FAILED else None
        await emit(pilot, *connected(), agent_state(state, AgentState.CONNECTING, failure))
        indicator = app.main.query_one(AgentStateIndicator)
        assert indicator.state is state
        assert indicator.has_class(f"-{state.value}")
        text = screen_text(app) if state is not AgentState.FAILED else ""
        if state is AgentState.FAILED:
            # the failure opens the error panel; the indicator under it names the failure in words
            assert app.current_problem is not None
            assert "did not join" in app.current_problem.message
            await pilot.press("escape")
            text = screen_text(app)
            assert "Agent did not join the room." in text
        assert EXPECTED_TITLES[state] in text


async def test_thinking_and_speaking_animate_and_other_states_do_not() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        indicator = app.main.query_one(AgentStateIndicator)
        await emit(pilot, *agent_listening(), agent_state(AgentState.THINKING, AgentState.LISTENING))
        first = str(app.main.query_one("#agent-state-title").render())
        indicator.advance()
        await pilot.pause()
        assert str(app.main.query_one("#agent-state-title").render()) != first
        await emit(pilot, agent_state(AgentState.SPEAKING, AgentState.THINKING))
        first = str(app.main.query_one("#agent-state-title").render())
        indicator.advance()
        await pilot.pause()
        assert str(app.main.query_one("#agent-state-title").render()) != first
        await emit(pilot, agent_state(AgentState.LISTENING, AgentState.SPEAKING))
        first = str(app.main.query_one("#agent-state-title").render())
        indicator.advance()
        assert str(app.main.query_one("#agent-state-title").render()) == first


@pytest.mark.parametrize("failure", list(AgentFailure))
async def test_failure_reasons_are_shown_in_words(failure: AgentFailure) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *connected(), agent_state(AgentState.FAILED, AgentState.CONNECTING, failure))
        text = screen_text(app)
        assert failure.value in text
        assert failure.hint[:25].lower() in text.lower()


@pytest.mark.parametrize("state", list(ConnectionState))
async def test_every_connection_state_in_the_header(state: ConnectionState) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        events = connected() if state is not ConnectionState.CONNECTING else connected()[:2]
        if state is ConnectionState.RECONNECTING:
            events.append(
                ConnectionStateChanged(state=state, previous=ConnectionState.CONNECTED, reason="signal lost")
            )
        if state is ConnectionState.DISCONNECTED:
            events.append(disconnected("ended", deliberate=True))
        await emit(pilot, *events)
        header = app.main.query_one(HeaderBar)
        assert header.query_one("#header-connection").has_class(f"-{state.value}")
        banner = app.main.query_one("#banner", Banner)
        text = screen_text(app)
        if state is ConnectionState.RECONNECTING:
            assert banner.display and banner.has_class("-warning")
            assert "Reconnecting…" in text
        elif state is ConnectionState.CONNECTING:
            assert "Connecting to the LiveKit server" in text
        elif state is ConnectionState.CONNECTED:
            assert "waiting for the agent" in text
        else:
            assert "Session ended" in text
        assert {
            ConnectionState.CONNECTED: "● connected",
            ConnectionState.CONNECTING: "connecting…",
            ConnectionState.RECONNECTING: "reconnecting…",
            ConnectionState.DISCONNECTED: "disconnected",
        }[state] in text


async def test_reconnected_clears_the_banner_and_keeps_the_transcript() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening())
        app.add_notice("before the drop")
        await emit(
            pilot,
            ConnectionStateChanged(state=ConnectionState.RECONNECTING, previous=ConnectionState.CONNECTED),
            ConnectionStateChanged(state=ConnectionState.CONNECTED, previous=ConnectionState.RECONNECTING),
        )
        assert not app.main.query_one("#banner", Banner).display
        assert "before the drop" in screen_text(app)
        assert "Reconnected to the LiveKit server." in screen_text(app)


async def test_agent_name_room_and_elapsed_time_in_the_header() -> None:
    clock = FakeClock()
    app = make_app(clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        assert "--:--" in screen_text(app)
        await emit(pilot, *agent_listening(name="weather-bot"))
        clock.advance(75)
        app.refresh_now()
        await pilot.pause()
        text = screen_text(app)
        assert "room demo-room" in text
        assert "agent demo-agent" in text  # the dispatched name wins over the participant's
        assert "01:15" in text
        clock.advance(3600)
        app.refresh_now()
        await pilot.pause()
        assert "1:01:15" in screen_text(app)


async def test_connection_lost_opens_the_panel_with_reconnect() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening())
        await emit(pilot, disconnected("disconnected by the server (ROOM_DELETED)"))
        text = screen_text(app)
        assert "Connection lost" in text
        assert "ROOM_DELETED" in text
        assert "Retry" in text
        assert app.current_problem is not None and app.current_problem.exit_code == 4


async def test_the_animation_and_the_clock_repaint_without_laying_the_screen_out() -> None:
    """At 15 Hz a layout per tick was most of the app's CPU: same-width text only repaints its label."""
    from textual.widgets import Label

    clock = FakeClock()
    app = make_app(clock=clock, animate=True)
    async with app.run_test() as pilot:
        await emit(pilot, *agent_listening(), agent_state(AgentState.THINKING, AgentState.LISTENING))
        title = app.main.query_one("#agent-state-title", Label)
        elapsed = app.main.query_one("#header-elapsed", Label)
        seen: list[tuple[str, bool]] = []
        refresh = Label.refresh

        def recording_refresh(self: Label, *regions: object, **flags: bool) -> object:
            if self in (title, elapsed):
                seen.append((str(self.id), bool(flags.get("layout"))))
            return refresh(self, *regions, **flags)  # type: ignore[arg-type]

        Label.refresh = recording_refresh  # type: ignore[method-assign]
        try:
            for _ in range(3):
                clock.advance(0.4)
                app.refresh_now()
                await pilot.pause()
        finally:
            Label.refresh = refresh  # type: ignore[method-assign]
        assert ("agent-state-title", False) in seen and ("agent-state-title", True) not in seen
        assert all(not layout for _, layout in seen)
        assert seen.count(("header-elapsed", False)) <= 1  # 1.2 s: the clock's text changed at most once


async def test_the_refresh_slows_down_while_nothing_moves_and_comes_back_at_the_first_sound() -> None:
    """Silence, an agent that listens and no push-to-talk: after a second the app ticks at the idle rate;
    a level above the meters' floor or an animated state brings the full rate back at once."""
    from agent_tui.app.app import IDLE_REFRESH_HZ

    audio = RecordingAudio()
    audio.input_db = audio.output_db = -90.0
    app = make_app(audio=audio, animate=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening())
        assert app._busy_timer is not None and app._idle_timer is not None
        assert app.app_settings.refresh_hz > IDLE_REFRESH_HZ
        for _ in range(round(app.app_settings.refresh_hz) + 1):
            app.refresh_now()
        assert app._idling
        audio.output_db = -20.0  # the agent starts to speak
        app.refresh_now()
        assert not app._idling
        audio.output_db = -90.0
        for _ in range(round(app.app_settings.refresh_hz) + 1):
            app.refresh_now()
        assert app._idling
        await emit(pilot, agent_state(AgentState.THINKING, AgentState.LISTENING))
        app.refresh_now()
        assert not app._idling
