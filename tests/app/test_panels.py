"""Error panels and their choices, the attributes panel, files from the agent, warnings, text-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_tui.app.problems import problem_for_audio, problem_for_error
from agent_tui.app.screens.error_panel import ErrorPanel
from agent_tui.app.widgets.attributes_panel import AttributesPanel
from agent_tui.app.widgets.header_bar import HeaderBar
from agent_tui.audio.errors import AudioDeviceError
from agent_tui.session import (
    AgentAttributesChanged,
    AgentFailure,
    AgentLeft,
    AgentState,
    AgentTimeoutError,
    AuthRejectedError,
    ByteStreamReceived,
    ConnectionFailedError,
    SessionWarning,
    TokenEndpointUnreachableError,
)

from .conftest import RecordingAudio, emit, make_app
from .events_factory import agent_listening, agent_state, connected
from .screen_text import screen_text

pytestmark = pytest.mark.timeout(30)


async def test_quitting_from_the_agent_panel_returns_its_exit_code() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(
            pilot,
            *connected(),
            agent_state(AgentState.FAILED, AgentState.CONNECTING, AgentFailure.DID_NOT_JOIN),
        )
        assert isinstance(app.screen, ErrorPanel)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 5


async def test_a_late_agent_closes_the_did_not_join_panel() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await emit(
            pilot,
            *connected(),
            agent_state(AgentState.FAILED, AgentState.CONNECTING, AgentFailure.DID_NOT_JOIN),
        )
        assert isinstance(app.screen, ErrorPanel)
        await emit(pilot, agent_state(AgentState.LISTENING, AgentState.FAILED))
        assert not isinstance(app.screen, ErrorPanel)
        assert app.current_problem is None
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_value == 0


async def test_agent_left_panel_and_retry() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(
            pilot,
            *agent_listening(),
            AgentLeft(identity="agent-AJ_1", unexpected=True),
            agent_state(AgentState.FAILED, AgentState.LISTENING, AgentFailure.LEFT),
        )
        assert isinstance(app.screen, ErrorPanel)
        assert "The agent left" in screen_text(app)
        await pilot.press("r")  # retry: a new session (whose literal token is rejected: token panel)
        for _ in range(20):
            await pilot.pause(0.05)
            if app.current_problem is not None and app.current_problem.kind == "token":
                break
        assert app.current_problem is not None and app.current_problem.kind == "token"


async def test_close_keeps_the_app_running() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(
            pilot,
            *connected(),
            agent_state(AgentState.FAILED, AgentState.CONNECTING, AgentFailure.DID_NOT_INITIALIZE),
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, ErrorPanel)
        assert "not complete initializing" in screen_text(app)


async def test_audio_problem_at_start_offers_text_only() -> None:
    app = make_app(audio=None, text_only_reason="PortAudio library not found.")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorPanel)
        text = screen_text(app)
        assert "PortAudio is missing" in text and "libportaudio2" in text
        assert "Retry" not in text
        await pilot.press("escape")
        assert "TEXT ONLY" in screen_text(app)
        assert "PortAudio library not found." in screen_text(app)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_value == 0  # text-only is not a failure


async def test_engine_reporting_text_only_shows_the_reason() -> None:
    audio = RecordingAudio(text_only=True, reason="No input device found (ALSA).")
    app = make_app(audio=audio)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "No input device found (ALSA)." in screen_text(app)


@pytest.mark.parametrize(
    ("error", "title", "code"),
    [
        (
            TokenEndpointUnreachableError("The token server at http://x refused the connection."),
            "Could not get a token",
            3,
        ),
        (AuthRejectedError("The LiveKit server refused the token."), "The server refused the token", 3),
        (
            ConnectionFailedError("Could not connect to the LiveKit server at ws://x."),
            "Cannot reach the LiveKit server",
            4,
        ),
        (AgentTimeoutError("Agent did not join the room."), "The agent did not join", 5),
        (AudioDeviceError("PortAudio library not found."), "PortAudio is missing", 1),
        (RuntimeError("boom"), "Something went wrong", 1),
    ],
)
def test_problem_wording(error: BaseException, title: str, code: int) -> None:
    problem = problem_for_error(error)
    assert problem.title == title
    assert problem.exit_code == code
    assert str(error) in problem.message


def test_no_device_problem() -> None:
    problem = problem_for_audio("No input device found.")
    assert problem.title == "No audio device" and not problem.retry


async def test_attributes_update_live() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening())
        panel = app.main.query_one(AttributesPanel)
        assert panel.attributes["topic"] == "weather"
        await emit(
            pilot,
            AgentAttributesChanged(
                identity="agent-AJ_1",
                attributes={"lk.agent.state": "thinking", "topic": "sports", "score": "3"},
                changed={"topic": "sports", "score": "3"},
            ),
        )
        text = screen_text(app)
        assert "topic = sports" in text and "score = 3" in text


async def test_files_from_the_agent_are_saved_and_announced(tmp_path: Path) -> None:
    app = make_app(tmp_path=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await emit(
            pilot,
            ByteStreamReceived(
                sender_identity="agent-AJ_1",
                topic="files",
                name="../../etc/report.pdf",
                mime_type="application/pdf",
                data=b"%PDF-1.4 hello",
                attributes={},
            ),
        )
        for _ in range(20):
            await pilot.pause(0.05)
            if (tmp_path / "downloads" / "report.pdf").exists():
                break
        saved = tmp_path / "downloads" / "report.pdf"
        assert saved.read_bytes() == b"%PDF-1.4 hello"
        await pilot.pause()
        assert "Received 'report.pdf'" in screen_text(
            app
        ) or "Received '../../etc/report.pdf'" in screen_text(app)


async def test_session_warnings_are_shown() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, SessionWarning(message="Microphone track could not be published; text only."))
        assert "Microphone track could not be published" in screen_text(app)


async def test_a_display_bug_in_one_event_does_not_end_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test() as pilot:

        def broken(event: object) -> None:
            raise RuntimeError("display bug")

        monkeypatch.setattr(app, "_handle_message", broken)
        from .events_factory import message

        await emit(pilot, message("m", "x", at=0.0))
        await emit(pilot, *connected())
        assert app.is_running


async def test_a_refresh_tick_while_the_screen_is_torn_down_draws_nothing_and_does_not_crash() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await app.main.query_one(HeaderBar).remove()  # as when the app closes between two ticks
        app.refresh_now()
        await pilot.pause()
        assert app.is_running and app.return_code is None
