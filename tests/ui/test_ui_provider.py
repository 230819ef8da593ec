"""SessionProvider: its reactives follow the session, its followers get every message in order, messages
bubble to the host unless told not to, and a kit widget outside any provider says what to do."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult

from agent_tui.session import AgentFailure, AgentState, ConnectionState, Speaker
from agent_tui.session.testing import FakeConversation
from agent_tui.ui import (
    AgentAudioVisualizer,
    AgentChatInput,
    AgentChatTranscript,
    AgentControlBar,
    AgentInfo,
    AgentLevelMeter,
    AgentStateIndicator,
    AgentVideoView,
    NoSessionProvider,
    SessionMessage,
    SessionStartFailed,
)
from agent_tui.ui.messages import AgentStateUpdated, ConnectionChanged, TranscriptMessage
from tests.support.recording_audio import RecordingAudio
from tests.support.waiting import wait_until

from .kit_host import KitHost, listening

pytestmark = pytest.mark.timeout(30)


async def test_the_reactives_follow_the_session() -> None:
    host = KitHost(lambda: [])
    async with host.run_test() as pilot:
        conversation = host.conversation
        conversation.set_connection(ConnectionState.CONNECTED)
        conversation.set_agent(AgentState.FAILED, AgentFailure.LEFT)
        conversation.set_expression(None, "amused")
        await wait_until(lambda: host.provider.agent_state is AgentState.FAILED, between=pilot.pause)
        provider = host.provider
        assert provider.connection is ConnectionState.CONNECTED
        assert provider.agent_failure is AgentFailure.LEFT
        assert provider.agent_expression.expression == "amused"


async def test_events_before_mounting_are_kept_and_shown_in_order() -> None:
    conversation = FakeConversation()
    host = KitHost(lambda: [AgentStateIndicator()], conversation=conversation)
    listening(conversation)  # published before the app runs
    async with host.run_test() as pilot:
        await wait_until(lambda: host.provider.agent_state is AgentState.LISTENING, between=pilot.pause)
        kinds = [type(m) for m in host.seen]
        assert kinds == [ConnectionChanged, AgentStateUpdated]


async def test_followers_get_every_message_in_order_and_can_stop() -> None:
    host = KitHost(lambda: [])
    async with host.run_test() as pilot:
        got: list[SessionMessage[Any]] = []
        stop = host.provider.follow(got.append)
        listening(host.conversation)
        host.conversation.say(Speaker.AGENT, "hello")
        await wait_until(lambda: len(got) == 3, between=pilot.pause)
        assert [type(m) for m in got] == [ConnectionChanged, AgentStateUpdated, TranscriptMessage]
        stop()
        host.conversation.say(Speaker.AGENT, "again")
        await wait_until(lambda: len(host.seen) == 4, between=pilot.pause)
        assert len(got) == 3


async def test_a_follower_that_raises_does_not_stop_the_others() -> None:
    host = KitHost(lambda: [])
    async with host.run_test() as pilot:
        got: list[SessionMessage[Any]] = []

        def broken(message: SessionMessage[Any]) -> None:
            raise RuntimeError("display bug")

        host.provider.follow(broken)
        host.provider.follow(got.append)
        listening(host.conversation)
        await wait_until(lambda: len(got) == 2, between=pilot.pause)
        assert host.provider.agent_state is AgentState.LISTENING


async def test_bubble_false_keeps_the_messages_inside_the_provider() -> None:
    host = KitHost(lambda: [], bubble=False)
    async with host.run_test() as pilot:
        got: list[SessionMessage[Any]] = []
        host.provider.follow(got.append)
        listening(host.conversation)
        await wait_until(lambda: len(got) == 2, between=pilot.pause)
        await pilot.pause()
        assert host.seen == []


async def test_autostart_starts_the_session_and_ends_it_with_the_app() -> None:
    host = KitHost(lambda: [AgentStateIndicator()], autostart=True)
    async with host.run_test() as pilot:
        await wait_until(lambda: host.provider.agent_state is AgentState.LISTENING, between=pilot.pause)
        assert host.provider.generation == 1
    assert ("end", None) in host.conversation.calls


async def test_a_failed_start_bubbles_up_as_session_start_failed() -> None:
    failures: list[BaseException] = []

    class Host(KitHost):
        def on_session_start_failed(self, message: SessionStartFailed) -> None:
            failures.append(message.error)

    host = Host(lambda: [], conversation=FakeConversation(start_error=RuntimeError("no server")))
    async with host.run_test() as pilot:
        host.provider.start()
        await wait_until(lambda: bool(failures), between=pilot.pause)
        assert str(failures[0]) == "no server"


async def test_the_tick_reads_levels_and_bands_and_counts_frames() -> None:
    audio = RecordingAudio()
    host = KitHost(lambda: [], audio=audio)
    async with host.run_test():
        provider = host.provider
        provider.tick()
        assert provider.levels is not None and provider.levels.agent_bands == ()  # no one shows them
        provider.want_bands()
        provider.tick()
        levels = provider.levels
        assert levels is not None and levels.agent_db == audio.output_db and levels.mic_db == audio.input_db
        assert len(levels.agent_bands) == 16 and levels.agent_bands[0] == audio.bands[0]
        assert provider.frame == 2  # one per tick
        audio.set_muted(True)
        provider.tick()
        assert provider.levels is not None and provider.levels.mic_db is None


WIDGETS = [
    AgentStateIndicator,
    AgentChatTranscript,
    AgentChatInput,
    AgentAudioVisualizer,
    AgentLevelMeter,
    AgentControlBar,
    AgentInfo,
    AgentVideoView,
]


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: w.__name__)
async def test_a_widget_outside_a_provider_says_what_to_do(widget: type[Any]) -> None:
    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield widget()

    app = Bare()
    with pytest.raises(NoSessionProvider, match=rf"{widget.__name__} needs a SessionProvider above it"):
        async with app.run_test():
            pass
