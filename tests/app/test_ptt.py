"""The push-to-talk state machine, driven with an injected clock (no timers, no terminal)."""

from __future__ import annotations

import pytest

from agent_tui.app.ptt import PttAction, PttMethod, PushToTalk, resolve_method
from agent_tui.app.settings import PttMethodSetting

pytestmark = pytest.mark.timeout(10)


def machine(method: PttMethod) -> PushToTalk:
    return PushToTalk(method, release_timeout=0.25, repeat_delay=0.7)


def test_toggle_press_opens_and_next_press_closes() -> None:
    ptt = machine(PttMethod.TOGGLE)
    assert ptt.press(0.0) is PttAction.START
    assert ptt.talking
    assert ptt.press(2.0) is PttAction.END
    assert not ptt.talking
    assert ptt.press(4.0) is PttAction.START


def test_toggle_ignores_the_auto_repeat_of_a_held_key() -> None:
    ptt = machine(PttMethod.TOGGLE)
    assert ptt.press(0.0) is PttAction.START
    # the legacy terminal's repeat stream arrives as more presses, 40 ms apart
    assert [ptt.press(0.7 + i * 0.04) for i in range(10)] == [PttAction.END] + [None] * 9
    # ...and no flicker back on while the key is still held after the close
    assert ptt.press(1.5) is PttAction.START


def test_toggle_ignores_repeat_and_release_events() -> None:
    ptt = machine(PttMethod.TOGGLE)
    ptt.press(0.0)
    assert ptt.repeat(0.5) is None
    assert ptt.release(0.6) is None
    assert ptt.talking
    assert ptt.press(2.0) is PttAction.END


def test_release_holds_until_the_release_event() -> None:
    ptt = machine(PttMethod.RELEASE)
    assert ptt.press(0.0) is PttAction.START
    assert ptt.repeat(0.7) is None
    assert ptt.tick(100.0) is None  # no inference with real releases
    assert ptt.press(101.0) is None  # a press while talking: the release got lost, keep talking
    assert ptt.release(102.0) is PttAction.END
    assert ptt.release(103.0) is None


def test_repeat_inference_waits_the_repeat_delay_then_the_interval() -> None:
    ptt = machine(PttMethod.REPEAT)
    assert ptt.press(0.0) is PttAction.START
    assert ptt.deadline == pytest.approx(0.7)
    assert ptt.tick(0.69) is None
    # auto-repeat starts after the terminal's delay, then every 40 ms
    for i in range(20):
        assert ptt.press(0.6 + i * 0.04) is None
    last = 0.6 + 19 * 0.04
    assert ptt.deadline == pytest.approx(last + 0.25)
    assert ptt.tick(last + 0.2) is None
    assert ptt.tick(last + 0.25) is PttAction.END
    assert not ptt.talking and ptt.deadline is None


def test_repeat_inference_tap_ends_after_the_repeat_delay() -> None:
    ptt = machine(PttMethod.REPEAT)
    ptt.press(0.0)
    assert ptt.tick(0.7) is PttAction.END


def test_repeat_inference_accepts_explicit_repeats_and_releases() -> None:
    ptt = machine(PttMethod.REPEAT)
    ptt.press(0.0)
    assert ptt.repeat(0.5) is None
    assert ptt.repeat(0.55) is None
    assert ptt.release(0.6) is PttAction.END


def test_a_late_repeat_after_the_deadline_ends_the_turn() -> None:
    ptt = machine(PttMethod.REPEAT)
    ptt.press(0.0)
    ptt.repeat(0.5)
    assert ptt.repeat(5.0) is PttAction.END


def test_cancel_and_focus_loss() -> None:
    ptt = machine(PttMethod.RELEASE)
    assert ptt.cancel() is None
    ptt.press(0.0)
    assert ptt.cancel() is PttAction.CANCEL
    ptt.press(1.0)
    assert ptt.focus_lost() is PttAction.END
    toggle = machine(PttMethod.TOGGLE)
    toggle.press(0.0)
    assert toggle.focus_lost() is None  # a toggled gate was opened on purpose
    assert toggle.talking


def test_switching_method_closes_an_open_gate() -> None:
    ptt = machine(PttMethod.REPEAT)
    ptt.press(0.0)
    assert ptt.set_method(PttMethod.RELEASE) is PttAction.END
    assert ptt.method is PttMethod.RELEASE
    assert ptt.set_method(PttMethod.TOGGLE) is None


@pytest.mark.parametrize(
    ("setting", "supported", "expected"),
    [
        (PttMethodSetting.AUTO, True, PttMethod.RELEASE),
        (PttMethodSetting.AUTO, False, PttMethod.REPEAT),
        (PttMethodSetting.RELEASE, True, PttMethod.RELEASE),
        (PttMethodSetting.RELEASE, False, PttMethod.REPEAT),
        (PttMethodSetting.REPEAT, True, PttMethod.REPEAT),
        (PttMethodSetting.TOGGLE, True, PttMethod.TOGGLE),
        (PttMethodSetting.TOGGLE, False, PttMethod.TOGGLE),
    ],
)
def test_resolve_method(setting: PttMethodSetting, supported: bool, expected: PttMethod) -> None:
    assert resolve_method(setting, release_supported=supported) is expected


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PushToTalk(PttMethod.REPEAT, release_timeout=0)
