"""Push-to-talk in the running app: release and repeat events as the key-release driver posts them,
the terminal's flags report choosing the method, and repeat inference closing the gate on time."""

from __future__ import annotations

import pytest
from textual import events

from agent_tui.app import AppSettings
from agent_tui.app.key_release import KeyRelease, KeyRepeat, KittyFlagsReported
from agent_tui.app.ptt import PttMethod
from agent_tui.app.settings import PttMethodSetting
from agent_tui.audio.controls import MicMode
from agent_tui.ui.chat_input import AgentChatInput as ChatInput
from tests.support.waiting import wait_until

from .conftest import FakeClock, RecordingAudio, make_app
from .screen_text import screen_text

pytestmark = pytest.mark.timeout(30)


def ptt_audio() -> RecordingAudio:
    return RecordingAudio(mode=MicMode.PUSH_TO_TALK)


async def test_auto_uses_repeat_until_the_terminal_reports_event_types() -> None:
    audio = ptt_audio()
    app = make_app(audio=audio)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.ptt.method is PttMethod.REPEAT
        assert "hold (repeat)" in screen_text(app)
        app.post_message(KittyFlagsReported(27))
        await pilot.pause()
        await pilot.pause()
        assert app.release_supported
        assert app.ptt.method is PttMethod.RELEASE
        assert "hold (release)" in screen_text(app)


async def test_flags_without_event_types_keep_repeat_inference() -> None:
    app = make_app(audio=ptt_audio())
    async with app.run_test() as pilot:
        app.post_message(KittyFlagsReported(25))
        await pilot.pause()
        assert not app.release_supported
        assert app.ptt.method is PttMethod.REPEAT


async def test_hold_with_real_release_events() -> None:
    audio = ptt_audio()
    clock = FakeClock()
    app = make_app(audio=audio, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        app.post_message(KittyFlagsReported(27))
        await pilot.press("ctrl+space")
        await pilot.pause()
        assert audio.names()[-1] == "talk_start"
        assert "TALKING" in screen_text(app)
        for _ in range(5):
            clock.advance(0.03)
            app.post_message(KeyRepeat("ctrl+space", None))
        clock.advance(3.0)  # a long hold: no inference with real releases
        await pilot.pause()
        assert audio.names().count("talk_end") == 0
        app.post_message(KeyRelease("space", " "))  # ctrl let go first: the release names the base key
        await pilot.pause()
        await pilot.pause()
        assert audio.names()[-1] == "talk_end"
        assert "TALKING" not in screen_text(app)


async def test_releases_of_other_keys_are_ignored_and_their_repeats_still_type() -> None:
    audio = ptt_audio()
    app = make_app(audio=audio)
    async with app.run_test() as pilot:
        app.post_message(KittyFlagsReported(27))
        await pilot.pause()
        chat = app.main.query_one(ChatInput)
        chat.focus()
        await pilot.press("a")
        app.post_message(KeyRepeat("a", "a"))
        app.post_message(KeyRepeat("a", "a"))
        app.post_message(KeyRelease("a", None))
        await pilot.pause()
        await pilot.pause()
        assert chat.value == "aaa"
        assert "talk_start" not in audio.names()


async def test_hold_inferred_from_repeats_ends_after_the_timeout() -> None:
    audio = ptt_audio()
    clock = FakeClock()
    app = make_app(
        audio=audio,
        clock=clock,
        app_settings=AppSettings(ptt_release_timeout_ms=100, ptt_repeat_delay_ms=150),
    )
    async with app.run_test() as pilot:
        await pilot.press("ctrl+space")
        await pilot.pause()
        assert audio.names()[-1] == "talk_start"
        # the legacy terminal's auto-repeat: more presses of the same key
        for _ in range(5):
            clock.advance(0.04)
            await pilot.press("ctrl+space")
        assert "talk_end" not in audio.names()
        clock.advance(0.5)
        await wait_until(lambda: audio.names()[-1] == "talk_end", between=pilot.pause)
        assert audio.names()[-1] == "talk_end"


async def test_toggle_method_from_settings() -> None:
    audio = ptt_audio()
    clock = FakeClock()
    app = make_app(audio=audio, clock=clock, app_settings=AppSettings(ptt_method=PttMethodSetting.TOGGLE))
    async with app.run_test() as pilot:
        app.post_message(KittyFlagsReported(27))  # toggle stays toggle even with releases
        await pilot.press("ctrl+space")
        await pilot.pause()
        app.post_message(KeyRelease("ctrl+space", None))
        await pilot.pause()
        assert app.ptt.talking
        clock.advance(1.0)
        await pilot.press("ctrl+space")
        await pilot.pause()
        assert audio.names()[-2:] == ["talk_start", "talk_end"]


async def test_switching_method_while_talking_closes_the_gate() -> None:
    audio = ptt_audio()
    app = make_app(audio=audio)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+space")
        await pilot.pause()
        app.set_ptt_method(PttMethodSetting.TOGGLE)
        await pilot.pause()
        assert audio.names()[-2:] == ["talk_start", "talk_end"]
        assert app.ptt.method is PttMethod.TOGGLE


async def test_losing_focus_ends_a_hold() -> None:
    audio = ptt_audio()
    app = make_app(audio=audio)
    async with app.run_test() as pilot:
        app.post_message(KittyFlagsReported(27))
        await pilot.press("ctrl+space")
        await pilot.pause()
        app.post_message(events.AppBlur())
        await pilot.pause()
        await pilot.pause()
        assert audio.names()[-1] == "talk_end"


async def test_legacy_ctrl_space_name_also_talks() -> None:
    """Terminals without the kitty protocol send NUL for ctrl+space, which Textual names ctrl+@."""
    audio = ptt_audio()
    app = make_app(audio=audio, app_settings=AppSettings(ptt_key="ctrl+space,ctrl+@"))
    async with app.run_test() as pilot:
        await pilot.press("ctrl+@")
        await pilot.pause()
        assert audio.names()[-1] == "talk_start"
