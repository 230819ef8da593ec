"""Each kit widget inside a minimal host: what it shows for the session's states, messages and levels,
and what its actions do to the session and the audio engine."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Label

from agent_tui.audio.controls import MicMode
from agent_tui.session import (
    AgentFailure,
    AgentJoined,
    AgentState,
    ConnectionState,
    Message,
    Speaker,
    ToolCall,
    ToolResult,
)
from agent_tui.session.testing import FakeConversation
from agent_tui.ui import (
    AgentAudioVisualizer,
    AgentChatInput,
    AgentChatTranscript,
    AgentControlBar,
    AgentInfo,
    AgentLevelMeter,
    AgentStateIndicator,
)
from agent_tui.ui.device_picker import DevicePicker
from agent_tui.ui.transcript_view import EntryKind
from agent_tui.video.frame_reader import SourceKind
from tests.support.recording_audio import RecordingAudio
from tests.support.waiting import wait_until

from .kit_host import KitHost, exchange, listening

pytestmark = pytest.mark.timeout(30)


def title(host: KitHost) -> str:
    return str(host.query_one("#agent-state-title", Label).render())


async def test_the_state_indicator_shows_the_state_animates_while_thinking_and_explains_a_failure() -> None:
    host = KitHost(lambda: [AgentStateIndicator()])
    async with host.run_test() as pilot:
        listening(host.conversation)
        await wait_until(lambda: "Listening" in title(host), between=pilot.pause)
        indicator = host.query_one(AgentStateIndicator)
        assert indicator.has_class("-listening")
        host.provider.tick()
        assert "Listening" in title(host) and title(host).startswith("●")  # still: no animation
        host.conversation.set_agent(AgentState.THINKING)
        await wait_until(lambda: "Thinking" in title(host), between=pilot.pause)
        first = title(host)
        host.provider.tick()
        await pilot.pause()
        assert title(host) != first and "Thinking" in title(host)  # the spinner moved
        host.conversation.set_agent(AgentState.FAILED, AgentFailure.DID_NOT_JOIN)
        await wait_until(lambda: indicator.has_class("-failed"), between=pilot.pause)
        detail = str(host.query_one("#agent-state-detail", Label).render())
        assert AgentFailure.DID_NOT_JOIN.value in detail


async def test_the_state_spinner_shows_each_frame_and_takes_the_new_colours_of_a_theme() -> None:
    """The spinner keeps each frame's painted line; what it paints must follow the text and the theme."""
    host = KitHost(lambda: [AgentStateIndicator()])
    async with host.run_test() as pilot:
        host.conversation.set_agent(AgentState.THINKING)
        await wait_until(lambda: "Thinking" in title(host), between=pilot.pause)
        label = host.query_one("#agent-state-title", Label)

        def painted() -> str:
            return "".join(segment.text for segment in label.render_line(0))

        seen = []
        for _ in range(12):  # more than one turn of the spinner: the lines come from the cache
            host.provider.tick()
            await pilot.pause()
            assert painted().strip() == title(host).strip()
            seen.append(painted())
        assert len(set(seen)) > 5
        before = {segment.style for segment in label.render_line(0)}
        host.theme = "textual-light" if host.theme != "textual-light" else "nord"
        await pilot.pause()
        assert {segment.style for segment in label.render_line(0)} != before


async def test_the_transcript_shows_both_sides_with_interim_text_replaced_in_place() -> None:
    host = KitHost(lambda: [AgentChatTranscript()])
    async with host.run_test() as pilot:
        transcript = host.query_one(AgentChatTranscript)
        exchange(host.conversation)
        await wait_until(
            lambda: len(transcript.entries) == 2 and transcript.entries[1].final, between=pilot.pause
        )
        [question, answer] = transcript.entries
        assert (question.kind, question.label, question.text) == (EntryKind.USER, "You", "what time is it")
        assert (answer.kind, answer.label, answer.text) == (EntryKind.AGENT, "Agent", "The time is noon.")
        transcript.add_notice("Saved notes.txt")
        transcript.add_notice("Connection lost.", error=True)
        assert [e.kind for e in transcript.entries[2:]] == [EntryKind.NOTICE, EntryKind.ERROR]


async def test_a_new_session_keeps_the_previous_sessions_lines() -> None:
    host = KitHost(lambda: [AgentChatTranscript()])
    async with host.run_test() as pilot:
        transcript = host.query_one(AgentChatTranscript)
        host.provider.begin_generation()
        host.conversation.say(Speaker.AGENT, "first session", message_id="m1")
        await wait_until(lambda: len(transcript.entries) == 1, between=pilot.pause)
        host.provider.begin_generation()
        host.conversation.say(Speaker.AGENT, "second session", message_id="m1")  # the same id again
        await wait_until(lambda: len(transcript.entries) == 2, between=pilot.pause)
        assert [e.text for e in transcript.entries] == ["first session", "second session"]


async def test_the_chat_input_sends_and_the_answer_shows_up() -> None:
    host = KitHost(lambda: [AgentChatTranscript(), AgentChatInput()])
    async with host.run_test() as pilot:
        listening(host.conversation)
        host.query_one(AgentChatInput).focus()
        await pilot.press(*"hello", "enter")
        transcript = host.query_one(AgentChatTranscript)
        await wait_until(
            lambda: any(e.text == "answer to hello" and e.final for e in transcript.entries),
            between=pilot.pause,
        )
        assert ("send_chat", ("hello", "listening")) in host.conversation.calls
        assert transcript.entries[0].text == "hello"
        assert host.query_one(AgentChatInput).value == ""


async def test_a_chat_that_cannot_be_sent_is_given_back() -> None:
    class Offline(FakeConversation):
        async def send_chat(self, text: str) -> Message:
            raise RuntimeError("not connected")

    host = KitHost(lambda: [AgentChatInput()], conversation=Offline())
    async with host.run_test() as pilot:
        chat = host.query_one(AgentChatInput)
        chat.focus()
        await pilot.press(*"hi", "enter")
        await wait_until(lambda: chat.value == "hi", between=pilot.pause)
        await pilot.press("enter", "enter")  # blank lines are not sent
        assert chat.value in ("", "hi")


async def test_the_visualizer_shows_the_bands_while_speaking_and_animates_otherwise() -> None:
    audio = RecordingAudio()
    audio.bands = [-12.0, -36.0, -60.0, -90.0]
    host = KitHost(lambda: [AgentAudioVisualizer(bars=4)], audio=audio)
    async with host.run_test(size=(40, 6)) as pilot:
        visualizer = host.query_one(AgentAudioVisualizer)
        host.conversation.set_connection(ConnectionState.CONNECTED)
        host.conversation.set_agent(AgentState.SPEAKING)
        await wait_until(lambda: visualizer.has_class("-speaking"), between=pilot.pause)
        host.provider.tick()
        await pilot.pause()
        heights = visualizer.heights
        assert heights[0] == 1.0 and 0.4 < heights[1] < 0.6 and heights[2] == heights[3] == 0.1
        host.conversation.set_agent(AgentState.THINKING)
        await wait_until(lambda: visualizer.has_class("-thinking"), between=pilot.pause)
        lit = []
        for _ in range(8):
            host.provider.tick()
            lit.append(visualizer.heights.index(max(visualizer.heights)))
        assert sorted(set(lit)) == [0, 1, 2, 3]  # the highlight ran along every bar


async def test_the_level_meters_read_the_agent_and_the_microphone_and_say_when_muted() -> None:
    audio = RecordingAudio()
    host = KitHost(lambda: [AgentLevelMeter("agent"), AgentLevelMeter("microphone", id="mic")], audio=audio)
    async with host.run_test() as pilot:
        host.provider.tick()
        await pilot.pause()
        agent, mic = host.query(AgentLevelMeter)
        assert agent.level_db == audio.output_db and mic.level_db == audio.input_db
        audio.set_muted(True)
        host.provider.tick()
        await pilot.pause()
        assert "muted" in "".join(s.text for s in mic.render_line(0))


async def test_a_level_meter_draws_in_the_new_theme_colours_after_a_theme_change() -> None:
    """The meter keeps its lines between repaints; a theme change must not leave it in the old colours."""
    audio = RecordingAudio()
    host = KitHost(lambda: [AgentLevelMeter("agent")], audio=audio)
    async with host.run_test() as pilot:
        host.provider.tick()
        await pilot.pause()
        meter = host.query_one(AgentLevelMeter)
        before = {segment.style for segment in meter.render_line(0)}
        host.theme = "textual-light" if host.theme != "textual-light" else "nord"
        await pilot.pause()
        after = {segment.style for segment in meter.render_line(0)}
        assert before != after
        assert after == {segment.style for segment in meter._build_line(meter.size.width, meter._bar_width())}


async def test_the_control_bar_offers_what_applies_and_its_buttons_act() -> None:
    audio = RecordingAudio()
    host = KitHost(lambda: [AgentControlBar()], audio=audio)
    async with host.run_test(size=(100, 4)) as pilot:
        host.provider.read_audio()

        def shown() -> set[str]:
            return {b.id or "" for b in host.query(Button) if b.display}

        await wait_until(lambda: "control-start" in shown(), between=pilot.pause)
        assert shown() == {"control-mute", "control-mode", "control-devices", "control-start"}
        listening(host.conversation)
        await wait_until(lambda: "control-end" in shown(), between=pilot.pause)
        await pilot.click("#control-mute")
        await wait_until(lambda: ("set_muted", True) in audio.calls, between=pilot.pause)
        assert ("set_microphone_muted", True) in host.conversation.calls
        assert str(host.query_one("#control-mute", Button).label) == "Unmute"
        await pilot.click("#control-mode")
        await wait_until(lambda: "control-talk" in shown(), between=pilot.pause)
        assert ("set_mode", MicMode.PUSH_TO_TALK) in audio.calls
        await pilot.click("#control-talk")
        await wait_until(lambda: ("talk_start", None) in audio.calls, between=pilot.pause)
        await wait_until(lambda: "control-cancel" in shown(), between=pilot.pause)
        talk = host.query_one("#control-talk", Button)
        # A button ignores clicks while it shows its press (0.2 s): the second click waits for that.
        await wait_until(lambda: not talk.has_class("-active"), between=pilot.pause)
        await pilot.click("#control-talk")
        await wait_until(lambda: ("talk_end", None) in audio.calls, between=pilot.pause)
        await pilot.click("#control-end")
        await wait_until(lambda: ("end", None) in host.conversation.calls, between=pilot.pause)
        await wait_until(lambda: "control-start" in shown(), between=pilot.pause)
        await pilot.click("#control-start")
        await wait_until(lambda: ("start", None) in host.conversation.calls, between=pilot.pause)


async def test_the_control_bar_without_audio_offers_only_the_call() -> None:
    host = KitHost(lambda: [AgentControlBar()])
    async with host.run_test(size=(100, 4)) as pilot:
        await pilot.pause()
        assert {b.id for b in host.query(Button) if b.display} == {"control-start"}


async def test_agent_info_shows_the_agent_the_room_and_its_attributes() -> None:
    host = KitHost(lambda: [AgentInfo()])
    async with host.run_test() as pilot:
        host.conversation.feed(AgentJoined(identity="agent-1", name="bot", attributes={"topic": "time"}))
        await wait_until(
            lambda: str(host.query_one("#agent-info-name", Label).render()) == "bot", between=pilot.pause
        )
        assert "topic" in str(host.query_one("#attributes-body").render())


async def test_the_control_bar_picks_devices_through_the_device_picker() -> None:
    audio = RecordingAudio()
    host = KitHost(lambda: [AgentControlBar()], audio=audio)
    async with host.run_test(size=(100, 24)) as pilot:
        host.provider.read_audio()
        await pilot.pause()
        await pilot.click("#control-devices")
        await wait_until(lambda: isinstance(host.screen, DevicePicker), between=pilot.pause)
        await pilot.press("down", "enter", "enter")  # the second microphone, the highlighted speaker
        await wait_until(lambda: any(c[0] == "select_devices" for c in audio.calls), between=pilot.pause)
        [(_, chosen)] = [c for c in audio.calls if c[0] == "select_devices"]
        assert chosen == (2, 1)  # the headset's input, the current speakers


class RecordingVideo:
    """What the control bar needs of a VideoController: which sources are wanted, and toggling them."""

    def __init__(self) -> None:
        self.on: set[SourceKind] = set()

    def wanted(self, kind: SourceKind) -> bool:
        return kind in self.on

    def label(self, kind: SourceKind) -> str:
        return kind.value

    async def toggle(self, kind: SourceKind) -> bool:
        self.on ^= {kind}
        return kind in self.on


async def test_the_control_bar_turns_the_camera_and_the_screen_on_and_off() -> None:
    video = RecordingVideo()
    host = KitHost(lambda: [AgentControlBar()])
    host.provider.video = video  # type: ignore[assignment]
    async with host.run_test(size=(100, 4)) as pilot:
        camera = host.query_one("#control-camera", Button)
        await wait_until(lambda: camera.display, between=pilot.pause)
        assert str(camera.label) == "Camera on"
        await pilot.click("#control-camera")
        await wait_until(lambda: str(camera.label) == "Camera off", between=pilot.pause)
        assert video.on == {SourceKind.CAMERA}
        await pilot.click("#control-screen")
        await wait_until(lambda: video.on == {SourceKind.CAMERA, SourceKind.SCREEN}, between=pilot.pause)


async def test_the_transcript_shows_tool_calls_in_place_and_tells_the_host_which_run() -> None:
    running: list[tuple[str, ...]] = []

    class Host(KitHost):
        def on_agent_chat_transcript_tools_running(self, message: AgentChatTranscript.ToolsRunning) -> None:
            running.append(message.running)

    host = Host(lambda: [AgentChatTranscript()])
    async with host.run_test() as pilot:
        transcript = host.query_one(AgentChatTranscript)
        host.conversation.feed(ToolCall(call_id="c1", name="get_time", arguments="{}"))
        await wait_until(lambda: running == [("get_time",)], between=pilot.pause)
        [line] = transcript.entries
        assert (line.kind, line.text) == (EntryKind.TOOL, "get_time() …")
        host.conversation.feed(ToolResult(call_id="c1", name="get_time", output="noon", is_error=False))
        await wait_until(lambda: running == [("get_time",), ()], between=pilot.pause)
        [line] = transcript.entries
        assert line.text == "get_time() → noon"
