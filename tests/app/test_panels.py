"""Error panels and their choices, the attributes panel, files from the agent, warnings, text-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_tui.app import AgentTuiApp
from agent_tui.app.problems import problem_for_audio, problem_for_error
from agent_tui.app.screens.error_panel import ErrorPanel
from agent_tui.app.widgets.header_bar import HeaderBar
from agent_tui.audio.errors import AudioDeviceError
from agent_tui.session import (
    AgentAttributesChanged,
    AgentFailure,
    AgentJoined,
    AgentLeft,
    AgentState,
    AgentTimeoutError,
    AuthRejectedError,
    ByteStreamReceived,
    ConnectionFailedError,
    EncryptionError,
    EncryptionState,
    SessionWarning,
    TokenEndpointUnreachableError,
)
from agent_tui.ui.attributes_panel import AttributesPanel
from agent_tui.ui.chat_input import AgentChatInput as ChatInput
from tests.support.waiting import wait_until

from .conftest import RecordingAudio, ScriptedSession, emit, make_app, notes
from .events_factory import T0, agent_listening, agent_state, connected, disconnected
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
        await wait_until(
            lambda: app.current_problem is not None and app.current_problem.kind == "token",
            between=pilot.pause,
        )
        assert app.current_problem is not None and app.current_problem.kind == "token"


def join_notices(app: AgentTuiApp) -> list[str]:
    return [entry.text for entry in app.transcript.entries if entry.text.endswith("joined the room.")]


async def wait_for_restart(pilot: object, session: ScriptedSession) -> None:
    await wait_until(lambda: session.starts, between=pilot.pause)
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def test_retry_into_the_room_the_agent_never_left_announces_it_once() -> None:
    # The connection drops; the agent stays in the room. Retry starts a new session in the same room
    # (a literal token, or --room), which finds the agent there and reports it as joined, as it must.
    session = ScriptedSession(agent_listening)
    app = make_app(session=session)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening())
        await emit(pilot, disconnected("disconnected by the server (SIGNAL_CLOSE)"))
        assert isinstance(app.screen, ErrorPanel)
        await pilot.press("r")
        await wait_for_restart(pilot, session)
        assert session.starts == 1
        assert app.agent_status[0] is AgentState.LISTENING
        texts = [entry.text for entry in app.transcript.entries]
        assert "Starting a new session…" in texts
        assert join_notices(app) == ["demo-agent joined the room."]


async def test_a_new_agent_after_retry_and_an_agent_back_after_leaving_are_announced() -> None:
    other = AgentJoined(identity="agent-AJ_2", name="demo-agent", attributes={}, at=T0 + 60)
    session = ScriptedSession(lambda: [*connected(), other])
    app = make_app(session=session)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening())
        await emit(pilot, AgentLeft(identity="agent-AJ_1", unexpected=True), *agent_listening()[3:])
        assert len(join_notices(app)) == 2  # it left and came back: that is news
        await pilot.press("f5")
        await wait_for_restart(pilot, session)
        assert len(join_notices(app)) == 3  # another agent, in another job


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


async def test_audio_problem_at_start_is_a_notification_and_the_session_goes_on_text_only() -> None:
    app = make_app(audio=None, text_only_reason="PortAudio library not found.")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        assert app.screen is app.main  # no dialog: the conversation survives it
        text = screen_text(app)
        assert "PortAudio is missing" in text and "libportaudio2" in text  # the notification
        assert "TEXT ONLY" in text and "PortAudio library not found." in text  # the mic panel
        assert app.current_problem is None
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_value == 0  # text-only is not a failure


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_warning_while_the_agent_connects_does_not_take_what_the_user_types(
    size: tuple[int, int],
) -> None:
    # No audio device: the engine runs text-only and says why, the agent is still connecting, and the
    # user starts typing. Every key must reach the chat input, and the message the agent.
    session = ScriptedSession()
    app = make_app(session=session, audio=None, text_only_reason="No audio input device found.")
    async with app.run_test(size=size, notifications=True) as pilot:
        await emit(pilot, *connected())
        await emit(pilot, SessionWarning(message="The speaker 'USB Audio' stopped. Text only."))
        await pilot.press(*"hello there", "enter")
        await pilot.pause()
        assert session.sent == ["hello there"]
        assert app.screen_stack == [app.main]
        assert app.focused is app.main.query_one("#chat", ChatInput)
        assert any("No audio input device found." in note for note in notes(app))
        assert any("The speaker 'USB Audio' stopped" in note for note in notes(app))
        assert "You    hello there" in screen_text(app)


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
    assert problem.survivable


@pytest.mark.parametrize(
    "error",
    [
        AuthRejectedError("The LiveKit server refused the token."),
        ConnectionFailedError("Could not connect to the LiveKit server at ws://x."),
        AgentTimeoutError("Agent did not join the room."),
        AudioDeviceError("PortAudio library not found."),
        RuntimeError("boom"),
    ],
)
def test_problems_that_stop_the_conversation_are_not_survivable(error: BaseException) -> None:
    assert not problem_for_error(error).survivable


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
        await wait_until((tmp_path / "downloads" / "report.pdf").exists, between=pilot.pause)
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

        def broken(entry: object) -> None:
            raise RuntimeError("display bug")

        monkeypatch.setattr(app.transcript, "upsert", broken)
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


async def test_an_encryption_error_is_shown_as_a_notice() -> None:
    app = make_app(session=ScriptedSession(), audio=None)
    message = "Cannot decrypt agent-1's media: it is encrypted with another key (or not at all)."
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await emit(pilot, *connected())
        failed = EncryptionState.DECRYPTION_FAILED
        await emit(pilot, EncryptionError(identity="agent-1", state=failed, message=message))
        await pilot.pause()
        assert any(message in note for note in notes(app))
