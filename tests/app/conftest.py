"""Fixtures for the app's tests: a real Session (never started) whose bus carries real event objects,
and a recording implementation of the AudioControls protocol (a collaborator, not a widget under test)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from agent_tui.app import AgentTuiApp, AppSettings
from agent_tui.session import (
    LiteralTokenSource,
    MessageChanged,
    Session,
    SessionEvent,
    SessionOptions,
)
from agent_tui.session.transcript import Message, MessageKind, Speaker
from agent_tui.video.graphics_support import Graphics, detect_graphics
from tests.support.recording_audio import RecordingAudio

from .events_factory import disconnected

#: Fixed wall-clock base for transcript timestamps in tests (2024-05-01 12:00:00 UTC).
T0 = 1_714_564_800.0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_session(agent_name: str | None = "demo-agent", room: str | None = "demo-room") -> Session:
    source = LiteralTokenSource("ws://127.0.0.1:1", "not-a-real-token")
    return Session(source, SessionOptions(agent_name=agent_name, room_name=room))


class ScriptedSession(Session):
    """A Session that touches no network: ``start`` emits the events ``on_start`` returns (what a real
    one would emit while connecting), ``end`` the disconnect, ``send_chat`` the local echo; every call is
    recorded. The app under test cannot tell it from a real one."""

    def __init__(
        self,
        on_start: Callable[[], Iterable[SessionEvent]] = list,
        *,
        agent_name: str | None = "demo-agent",
        room: str | None = "demo-room",
    ) -> None:
        super().__init__(
            LiteralTokenSource("ws://127.0.0.1:1", "not-a-real-token"),
            SessionOptions(agent_name=agent_name, room_name=room),
        )
        self.on_start = on_start
        self.starts = 0
        self.ends = 0
        self.sent: list[str] = []
        self._up = False

    async def start(self, *, wait_for_agent: bool = True) -> None:
        self.starts += 1
        self._up = True
        for event in self.on_start():
            self.events.emit(event)

    async def end(self) -> None:
        self.ends += 1
        if self._up:
            self._up = False
            self.events.emit(disconnected("ended", deliberate=True))

    async def send_chat(self, text: str) -> Message:
        self.sent.append(text)
        message = Message(
            id=f"chat-{len(self.sent)}",
            speaker=Speaker.USER,
            kind=MessageKind.CHAT,
            text=text,
            first_seen=T0,
            final=True,
            participant_identity="user-1",
        )
        self.events.emit(MessageChanged(message=message, new=True))
        return message


def utc_clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(at))


def make_app(
    *,
    session: Session | None = None,
    audio: RecordingAudio | None = None,
    app_settings: AppSettings | None = None,
    clock: FakeClock | None = None,
    tmp_path: Path | None = None,
    **kwargs: object,
) -> AgentTuiApp:
    settings = app_settings or AppSettings(downloads_dir=(tmp_path or Path("/nonexistent")) / "downloads")
    return AgentTuiApp(
        session or make_session(),
        audio=audio,
        app_settings=settings,
        autostart=False,
        animate=bool(kwargs.pop("animate", False)),
        clock=clock or FakeClock(),
        clock_format=utc_clock,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audio() -> RecordingAudio:
    return RecordingAudio()


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    # The video panel draws with half blocks unless a test asks for kitty or sixel, whatever terminal
    # the tests run in.
    monkeypatch.delenv("KITTY_WINDOW_ID", raising=False)
    monkeypatch.delenv("TERM_PROGRAM", raising=False)
    if detect_graphics(os.environ) is not Graphics.HALFBLOCK:
        monkeypatch.setenv("TERM", "xterm-256color")
    if hasattr(time, "tzset"):
        time.tzset()
    yield
    os.environ.pop("TEXTUAL_DISABLE_KITTY_KEY", None)


__all__ = ["T0", "FakeClock", "RecordingAudio", "ScriptedSession", "make_app", "make_session", "math"]


async def emit(pilot: object, *session_events: object) -> None:
    """Emit real Session events on the app's session bus and let the app handle them."""
    app = pilot.app  # type: ignore[attr-defined]
    for event in session_events:
        app.session.events.emit(event)
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


def notes(app: AgentTuiApp) -> list[str]:
    """Texts of the notifications shown so far."""
    return [notification.message for notification in app._notifications]
