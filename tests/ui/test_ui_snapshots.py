"""SVG snapshots of each kit widget alone, at a narrow and a wide size, in a state that shows what it
draws; and of the minimal voice client example. Deterministic: nothing animates on its own (the test
ticks the provider), transcript times are one fixed clock. Accept changes with
``pytest tests/ui/test_ui_snapshots.py --snapshot-update`` after looking at the report."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget

from agent_tui.session import AgentJoined, AgentState, Message, MessageChanged, MessageKind, Speaker
from agent_tui.session.testing import FakeConversation
from agent_tui.ui import (
    AgentAudioVisualizer,
    AgentChatInput,
    AgentChatTranscript,
    AgentControlBar,
    AgentInfo,
    AgentLevelMeter,
    AgentStateIndicator,
    SessionProvider,
)
from tests.support.recording_audio import RecordingAudio
from tests.support.waiting import wait_until

from .kit_host import KitHost, exchange, listening

pytestmark = pytest.mark.timeout(60)

SIZES = {"narrow": (40, 10), "wide": (90, 14)}
#: A fixed wall-clock time for the example's transcript (2024-05-01 12:00:00 UTC).
T0 = 1_714_564_800.0


def fixed_clock(at: float) -> str:
    return "12:00:00"


def speaking_with_a_tool_answer(conversation: FakeConversation) -> None:
    listening(conversation)
    conversation.feed(
        AgentJoined(
            identity="agent-1", name="bot", attributes={"topic": "time", "lk.agent.state": "speaking"}
        )
    )
    exchange(conversation)
    conversation.say(
        Speaker.AGENT, "Anything else? I can also tell you the date.", final=False, message_id="a2"
    )
    conversation.set_agent(AgentState.SPEAKING)


WIDGETS: dict[str, Callable[[], Iterable[Widget]]] = {
    "state": lambda: [AgentStateIndicator()],
    "transcript": lambda: [AgentChatTranscript(clock_format=fixed_clock)],
    "input": lambda: [AgentChatInput()],
    "visualizer": lambda: [AgentAudioVisualizer(bars=9)],
    "meters": lambda: [AgentLevelMeter("agent"), AgentLevelMeter("microphone")],
    "control_bar": lambda: [AgentControlBar()],
    "info": lambda: [AgentInfo()],
}


def driven(ticks: int = 1) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, KitHost)
        await pilot.pause()
        speaking_with_a_tool_answer(app.conversation)
        await pilot.pause()
        for _ in range(ticks):
            app.provider.tick()
        await pilot.pause()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("widget", WIDGETS, ids=str)
def test_widget_alone(snap_compare: Any, widget: str, size: str) -> None:
    audio = RecordingAudio()
    audio.bands = [-14.0, -10.0, -20.0, -26.0, -34.0, -40.0, -50.0, -58.0]
    app = KitHost(WIDGETS[widget], audio=audio)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=driven())


def load_example(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Transcript times in UTC, whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("utc")
def test_the_minimal_voice_client_example(snap_compare: Any) -> None:
    audio = RecordingAudio()
    audio.bands = [-14.0, -10.0, -20.0, -26.0, -34.0, -40.0, -50.0, -58.0]
    conversation = FakeConversation()
    app = load_example("voice_client").VoiceClient(conversation, audio)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        provider = app.query_one(SessionProvider)
        provider.animating = False  # its own 20 Hz timer still reads the levels, but nothing moves
        await wait_until(lambda: provider.agent_state is AgentState.LISTENING, between=pilot.pause)
        for key, speaker, text, at in (
            ("u1", Speaker.USER, "what time is it", T0),
            ("a1", Speaker.AGENT, "It is noon.", T0 + 2),
        ):
            said = Message(key, speaker, MessageKind.TRANSCRIPT, text, at, True, participant_identity="x")
            conversation.feed(MessageChanged(message=said, new=True))
        conversation.set_agent(AgentState.SPEAKING)
        # Conditions, not a count of pauses: on a loaded machine one pause was not always enough.
        await wait_until(
            lambda: provider.agent_state is AgentState.SPEAKING
            and len(app.query_one(AgentChatTranscript).entries) >= 2,
            between=pilot.pause,
        )
        provider.tick()
        await wait_until(lambda: provider.levels is not None, between=pilot.pause)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.usefixtures("utc")
def test_the_text_chat_example(snap_compare: Any) -> None:
    conversation = FakeConversation()
    app = load_example("text_chat").TextChat(conversation)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        provider = app.query_one(SessionProvider)
        provider.animating = False
        await wait_until(lambda: provider.agent_state is AgentState.LISTENING, between=pilot.pause)
        conversation.feed(AgentJoined(identity="agent-1", name="bot", attributes={"topic": "time"}))
        said = Message(
            "c1", Speaker.USER, MessageKind.CHAT, "what time is it", T0, True, participant_identity="x"
        )
        conversation.feed(MessageChanged(message=said, new=True))
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 20), run_before=run_before)
