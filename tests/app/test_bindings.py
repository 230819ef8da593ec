"""Every binding, pressed through Pilot, with its visible effect; remapping through the keymap."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import Input, OptionList

from agent_tui.app import AppSettings
from agent_tui.app.actions import BOUND_ACTIONS
from agent_tui.app.screens.dialogs import FileDialog, RpcDialog
from agent_tui.app.screens.help import HelpScreen
from agent_tui.audio.controls import MicMode
from agent_tui.session import ConnectionState
from agent_tui.ui.attributes_panel import AttributesPanel
from agent_tui.ui.chat_input import AgentChatInput as ChatInput
from agent_tui.ui.device_picker import DevicePicker
from agent_tui.ui.transcript_view import TranscriptView
from tests.support.waiting import wait_until

from .conftest import T0, RecordingAudio, emit, make_app, make_session, notes
from .events_factory import agent_listening, message
from .insight_factory import agent_info
from .screen_text import screen_text

pytestmark = pytest.mark.timeout(30)

TESTED_BINDINGS: set[str] = set()


def covers(*binding_ids: str):  # type: ignore[no-untyped-def]
    TESTED_BINDINGS.update(binding_ids)
    return lambda fn: fn


@covers("help")
async def test_f1_opens_and_closes_help() -> None:
    app = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Push-to-talk" in text and "ctrl+space" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@covers("command_palette")
async def test_ctrl_p_palette_runs_an_app_command(audio: RecordingAudio) -> None:
    app = make_app(audio=audio)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"mute")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert ("set_muted", True) in audio.calls


@covers("quit")
@pytest.mark.parametrize("key", ["ctrl+q", "ctrl+c"])
async def test_quit_ends_the_session_and_exits_zero(key: str) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press(key)
        await pilot.pause()
    assert app.return_value == 0
    assert app.session.connection_state is ConnectionState.DISCONNECTED


async def test_quit_writes_the_transcript_file(tmp_path: Path) -> None:
    path = tmp_path / "out" / "transcript.txt"
    app = make_app(transcript_path=path)
    async with app.run_test() as pilot:
        await emit(pilot, *agent_listening(), message("m1", "Hello there", at=T0, agent=True))
        await pilot.press("ctrl+q")
        await pilot.pause()
    text = path.read_text()
    assert "Agent: Hello there" in text


@covers("ptt", "mic_mode")
async def test_f3_switches_to_push_to_talk_and_ctrl_space_talks(audio: RecordingAudio) -> None:
    from agent_tui.app.settings import PttMethodSetting

    app = make_app(audio=audio, app_settings=AppSettings(ptt_method=PttMethodSetting.TOGGLE))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+space")  # open mic: a hint, no gate
        assert "talk_start" not in audio.names()
        await pilot.press("f3")
        assert ("set_mode", MicMode.PUSH_TO_TALK) in audio.calls
        assert "PRESS CTRL+SPACE TO TALK" in screen_text(app)
        await pilot.press("ctrl+space")
        await pilot.pause()
        assert audio.names()[-1] == "talk_start"
        assert "TALKING" in screen_text(app)
        app._clock.advance(2.0)  # type: ignore[attr-defined]
        await pilot.press("ctrl+space")
        await pilot.pause()
        assert audio.names()[-1] == "talk_end"
        await pilot.press("f3")
        assert ("set_mode", MicMode.OPEN) in audio.calls


@covers("ptt_cancel")
async def test_escape_cancels_a_turn() -> None:
    audio = RecordingAudio(mode=MicMode.PUSH_TO_TALK)
    app = make_app(audio=audio)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+space")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert audio.names()[-2:] == ["talk_start", "talk_cancel"]


@covers("mute")
async def test_f2_toggles_mute_with_a_badge(audio: RecordingAudio) -> None:
    app = make_app(audio=audio)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        assert audio.status.muted
        assert "MUTED" in screen_text(app)
        await pilot.press("f2")
        assert not audio.status.muted
        assert "LIVE" in screen_text(app)


@covers("devices")
async def test_f4_device_picker_selects_devices(audio: RecordingAudio) -> None:
    app = make_app(audio=audio)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, DevicePicker)
        inputs = app.screen.query_one("#device-inputs", OptionList)
        assert inputs.option_count == 2  # USB Mic and Headset
        await pilot.press("down", "enter")  # Headset
        await pilot.press("enter")  # keep Speakers
        await pilot.pause()
        assert ("select_devices", (2, 1)) in audio.calls
        assert "Headset" in screen_text(app)


async def test_device_errors_are_shown_not_raised(audio: RecordingAudio) -> None:
    audio.fail_select = True
    app = make_app(audio=audio)
    async with app.run_test(size=(100, 34), notifications=True) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert any("busy" in note for note in notes(app))


@covers("aec")
async def test_f8_toggles_echo_cancellation(audio: RecordingAudio) -> None:
    app = make_app(audio=audio)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f8")
        assert ("set_aec", False) in audio.calls
        assert "aec   off" in screen_text(app)


@covers("attributes")
async def test_f6_hides_and_shows_the_attributes_panel() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.main.query_one(AttributesPanel)
        await pilot.press("f6")
        assert not panel.display
        await pilot.press("f6")
        assert panel.display


@covers("reconnect")
async def test_f5_restarts_the_session_and_a_token_error_opens_the_panel() -> None:
    app = make_app()  # the literal token is not a JWT: the real token check rejects it, no network
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f5")
        await wait_until(lambda: app.current_problem is not None, between=pilot.pause)
        assert app.current_problem is not None
        assert app.current_problem.kind == "token"
        assert app.current_problem.exit_code == 3
        assert "Could not get a token" in screen_text(app)


@covers("export")
async def test_ctrl_s_exports_the_transcript(tmp_path: Path) -> None:
    app = make_app(tmp_path=tmp_path)
    async with app.run_test(notifications=True) as pilot:
        await emit(
            pilot, *agent_listening(), message("m1", "Hi", at=T0, agent=True), message("m2", "Yo", at=T0 + 1)
        )
        await pilot.press("ctrl+s")
        await wait_until(lambda: list((tmp_path / "downloads").glob("transcript-*.txt")), between=pilot.pause)
        [written] = list((tmp_path / "downloads").glob("transcript-*.txt"))
        text = written.read_text()
        assert "Agent: Hi" in text and "You: Yo" in text
        assert any("Transcript written" in note for note in notes(app))


@covers("send_file")
async def test_f7_sends_a_file(tmp_path: Path) -> None:
    sent: list[tuple[Path, str]] = []
    app = make_app(tmp_path=tmp_path)

    async def send_file(path: Path, *, topic: str = "lk.chat") -> str:  # the room is the collaborator here
        sent.append((Path(path), topic))
        return "stream-1"

    app.session.send_file = send_file  # type: ignore[method-assign]
    picture = tmp_path / "cat.png"
    picture.write_bytes(b"\x89PNG")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, FileDialog)
        app.screen.query_one("#file-path", Input).value = str(picture)
        await pilot.press("enter")
        await wait_until(lambda: sent, between=pilot.pause)
        assert sent == [(picture, "files")]
        assert "Sent cat.png" in screen_text(app)


@covers("rpc")
async def test_f9_calls_an_rpc_method_and_shows_the_reply() -> None:
    calls: list[tuple[str, str]] = []
    app = make_app()

    async def perform_rpc(method: str, payload: str = "", **_: object) -> str:
        calls.append((method, payload))
        return '{"temp": 21}'

    app.session.perform_rpc = perform_rpc  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, RpcDialog)
        await pilot.press(*"get_weather", "tab", *"paris", "enter")
        await wait_until(lambda: calls, between=pilot.pause)
        await pilot.pause()
        assert calls == [("get_weather", "paris")]
        assert 'RPC get_weather → {"temp": 21}' in screen_text(app)


async def test_rpc_without_a_connection_says_so() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await app.call_rpc("get_weather", "")
        await pilot.pause()
        assert "RPC get_weather failed: The session is not connected" in screen_text(app)


@covers("end_session")
async def test_f10_ends_the_session_and_keeps_the_app() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f10")
        await wait_until(lambda: "Session ended." in screen_text(app), between=pilot.pause)
        assert "Session ended." in screen_text(app)
        assert app.is_running


@covers("scroll_up", "scroll_down", "jump_to_latest")
async def test_paging_pauses_following_and_ctrl_end_resumes() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *[message(f"m{i}", f"line {i}", at=T0 + i) for i in range(100)])
        view = app.main.query_one(TranscriptView)
        assert view.following and view.scroll_y == view.max_scroll_y
        await pilot.press("pageup")
        await pilot.pause()
        assert not view.following
        top = view.scroll_y
        await emit(pilot, message("new", "a new line", at=T0 + 200))
        assert view.scroll_y == top  # stays where the user is reading
        assert view.unseen == 1
        assert "1 new below" in screen_text(app)
        await pilot.press("pagedown")
        await pilot.pause()
        assert view.scroll_y > top
        await pilot.press("pageup", "pageup")
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert view.following and view.scroll_y == view.max_scroll_y
        await emit(pilot, message("newer", "another", at=T0 + 201))
        assert view.scroll_y == view.max_scroll_y


@covers("focus_chat")
async def test_ctrl_l_focuses_the_chat_and_enter_sends() -> None:
    sent: list[str] = []
    app = make_app()

    async def send_chat(text: str) -> object:
        sent.append(text)
        return None

    app.session.send_chat = send_chat  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        app.main.query_one(TranscriptView).focus()
        await pilot.press("ctrl+l")
        assert isinstance(app.focused, ChatInput)
        await pilot.press(*"hello agent", "enter")
        await wait_until(lambda: sent == ["hello agent"], between=pilot.pause)
        assert sent == ["hello agent"]
        assert app.main.query_one(ChatInput).value == ""


async def test_chat_when_not_connected_keeps_the_text() -> None:
    app = make_app()
    async with app.run_test(notifications=True) as pilot:
        await pilot.press(*"hi", "enter")
        await wait_until(lambda: app.main.query_one(ChatInput).value == "hi", between=pilot.pause)
        assert app.main.query_one(ChatInput).value == "hi"
        assert any("Not sent" in note for note in notes(app))


@covers("text_mode")
async def test_ctrl_y_switches_the_agent_to_text_mode_and_back() -> None:
    calls: list[bool] = []
    app = make_app()

    async def set_text_mode(on: bool) -> None:  # the agent's session stream is the collaborator here
        calls.append(on)

    app.session.insight.set_text_mode = set_text_mode  # type: ignore[method-assign]
    async with app.run_test(size=(100, 40)) as pilot:
        await emit(pilot, *agent_listening(), *agent_info())
        await pilot.press("ctrl+y")
        await wait_until(lambda: calls == [True], between=pilot.pause)
        assert calls == [True]
        assert app.insight.text_mode
        text = screen_text(app)
        assert "mode   text only" in text
        assert "Text mode on: the agent answers in text only" in text
        await pilot.press("ctrl+y")
        await wait_until(lambda: calls == [True, False], between=pilot.pause)
        assert calls == [True, False]
        assert "mode   voice" in screen_text(app)
        assert "Text mode off" in screen_text(app)


async def test_keymap_remaps_by_binding_id(audio: RecordingAudio) -> None:
    app = make_app(audio=audio, app_settings=AppSettings(keymap={"mute": "f12"}, ptt_key="f11"))
    async with app.run_test() as pilot:
        await pilot.press("f2")
        assert not audio.status.muted
        await pilot.press("f12")
        assert audio.status.muted
        assert app.ptt_keys() == ["f11"]


async def test_unknown_keymap_ids_are_reported_not_fatal() -> None:
    app = make_app(app_settings=AppSettings(keymap={"mutte": "f12"}))
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause()
        assert any("mutte" in note for note in notes(app))


async def test_text_only_hints_instead_of_failing() -> None:
    app = make_app(audio=None)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        for key in ("f2", "f3", "f4", "f8", "ctrl+space"):
            await pilot.press(key)
        await pilot.pause()
        assert "TEXT ONLY" in screen_text(app)
        assert any("text only" in note.lower() for note in notes(app))


@covers("video_panel")
async def test_ctrl_o_closes_and_reopens_the_agent_video() -> None:
    from agent_tui.session import AgentVideoTrackChanged

    from .video_frames import FrameSource, StandInVideoTrack

    app = make_app()
    source = FrameSource()
    async with app.run_test(size=(120, 30)) as pilot:
        app.video_feed.open_stream = source.open  # type: ignore[assignment]
        await emit(pilot, AgentVideoTrackChanged(track=StandInVideoTrack(), participant_identity="agent"))  # type: ignore[arg-type]
        assert app.video_panel.display
        await pilot.press("ctrl+o")
        assert not app.video_panel.display and not app.session.agent_video_subscribed
        await pilot.press("ctrl+o")
        assert app.video_panel.display and app.session.agent_video_subscribed


@covers("camera", "screen_share")
async def test_ctrl_t_and_ctrl_r_switch_the_camera_and_the_screen_share() -> None:
    from agent_tui.video.controller import VideoController
    from agent_tui.video.frame_reader import SourceKind
    from agent_tui.video.settings import VideoSettings

    session = make_session()
    warnings: list[str] = []
    video = VideoController(session, VideoSettings(), on_warning=warnings.append)
    app = make_app(session=session, video=video)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("ctrl+t")
        await wait_until(lambda: video.wanted(SourceKind.CAMERA), between=pilot.pause)
        assert video.wanted(SourceKind.CAMERA)
        assert "Camera on once connected." in notes(app)
        await pilot.press("ctrl+r")
        await wait_until(lambda: video.wanted(SourceKind.SCREEN), between=pilot.pause)
        assert video.wanted(SourceKind.SCREEN)
        await pilot.press("ctrl+t")
        await wait_until(lambda: not video.wanted(SourceKind.CAMERA), between=pilot.pause)
        assert not video.wanted(SourceKind.CAMERA)
        assert "Camera off." in notes(app)
    await video.aclose()
    assert warnings == []


async def test_palette_toggles_the_camera() -> None:
    from agent_tui.video.controller import VideoController
    from agent_tui.video.frame_reader import SourceKind
    from agent_tui.video.settings import VideoSettings

    session = make_session()
    video = VideoController(session, VideoSettings(), on_warning=lambda _: None)
    app = make_app(session=session, video=video)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"camera on")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(lambda: video.wanted(SourceKind.CAMERA), between=pilot.pause)
        assert video.wanted(SourceKind.CAMERA)
    await video.aclose()


def test_every_binding_is_covered() -> None:
    assert {action.id for action in BOUND_ACTIONS} <= TESTED_BINDINGS


def test_every_toggle_state_is_answered_by_the_app() -> None:
    from agent_tui.app.actions import STATE_NAMES

    app = make_app()
    for state in STATE_NAMES:  # before the app runs: no screen, no audio
        assert isinstance(app.action_state(state), bool)


async def test_palette_titles_follow_the_state(audio: RecordingAudio) -> None:
    from agent_tui.app.commands import AgentCommands

    app = make_app(audio=audio)
    async with app.run_test(size=(100, 30)) as pilot:

        async def titles() -> list[str]:
            provider = AgentCommands(app.screen)
            return [str(hit.display) async for hit in provider.discover()]

        before = await titles()
        assert "Mute microphone" in before and "Hide agent attributes" in before
        await pilot.press("f2", "f6")
        after = await titles()
        assert "Unmute microphone" in after and "Mute microphone" not in after
        assert "Show agent attributes" in after and "Hide agent attributes" not in after
