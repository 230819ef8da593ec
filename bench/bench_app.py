"""Benchmark of the Textual app: CPU while levels update, and time from launch to first paint.

Prints figures, never asserts on them (``make bench``, not a timed test):

* **CPU, app vs headless.** The app runs for a few seconds (Textual's headless driver: layout and
  compositing happen, nothing is written to a terminal) with the agent speaking and an audio engine
  whose levels change on every poll, so the meters, the spinner and the clock all repaint at
  ``refresh_hz``. The anchor is the same session consumed headless (a subscriber that formats each
  event as a line, as ``--no-ui`` does) for the same time with the same events. Reported: CPU seconds
  per wall second for both, and their ratio.
* **Launch to first paint.** ``agent-tui``'s app is started in a pseudo-terminal as a fresh process;
  the time until its header and transcript frame have been written is measured from the fork.

Run: ``python -m bench.bench_app [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import pty
import random
import select
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from agent_tui.audio.controls import AudioStatus, DeviceInfo, Level, MicMode
from agent_tui.session import (
    AgentState,
    AgentStateChanged,
    ConnectionState,
    ConnectionStateChanged,
    LiteralTokenSource,
    Message,
    MessageChanged,
    MessageKind,
    Session,
    SessionOptions,
    Speaker,
)


class WigglingAudio:
    """Levels that change on every read, so every poll repaints a meter (``steady``: silence that never
    changes, as while nobody speaks)."""

    def __init__(self, *, steady: bool = False) -> None:
        self._steady = steady
        self._status = AudioStatus(
            False, None, "bench mic", "bench speaker", MicMode.OPEN, False, False, True
        )
        self._random = random.Random(7)

    @property
    def status(self) -> AudioStatus:
        return self._status

    def input_level(self) -> Level:
        value = -90.0 if self._steady else -60 + self._random.random() * 55
        return Level(value, value + 3)

    def output_level(self) -> Level:
        value = -90.0 if self._steady else -50 + self._random.random() * 45
        return Level(value, value + 3)

    def output_bands(self, count: int) -> list[float]:
        return [-60 + self._random.random() * 55 for _ in range(count)]

    def set_muted(self, muted: bool) -> None:
        self._status = replace(self._status, muted=muted)

    def set_mode(self, mode: MicMode) -> None:
        self._status = replace(self._status, mode=mode)

    async def talk_start(self) -> None: ...

    async def talk_end(self) -> None: ...

    async def talk_cancel(self) -> None: ...

    def set_aec(self, enabled: bool) -> None:
        self._status = replace(self._status, aec=enabled)

    def list_devices(self) -> list[DeviceInfo]:
        return []

    async def select_devices(
        self, *, input_device: str | int | None, output_device: str | int | None
    ) -> None: ...


def _session() -> Session:
    return Session(
        LiteralTokenSource("ws://127.0.0.1:1", "bench"), SessionOptions(agent_name="bench", room_name="bench")
    )


def _events(count: int) -> list[object]:
    events: list[object] = [
        ConnectionStateChanged(state=ConnectionState.CONNECTED, previous=ConnectionState.CONNECTING),
        AgentStateChanged(state=AgentState.SPEAKING, previous=AgentState.CONNECTING),
    ]
    now = time.time()
    for i in range(count):
        message = Message(
            f"m{i}", Speaker.AGENT, MessageKind.TRANSCRIPT, f"word {i} " * 12, now + i, True, "a"
        )
        events.append(MessageChanged(message=message, new=True))
    return events


async def _app_cpu(seconds: float) -> tuple[float, float]:
    """CPU seconds per wall second of the app, and how many times per second it laid the screen out
    (a count of Textual's screen layout passes: the costliest thing a tick can cause, and a figure
    that, unlike CPU, does not move with the machine's load)."""
    from textual.screen import Screen

    from agent_tui.app import AgentTuiApp, AppSettings

    layouts = 0
    refresh_layout = Screen._refresh_layout

    def counted(self: Screen, *args: object, **kwargs: object) -> None:
        nonlocal layouts
        layouts += 1
        refresh_layout(self, *args, **kwargs)  # type: ignore[arg-type]

    session = _session()
    app = AgentTuiApp(session, audio=WigglingAudio(), app_settings=AppSettings(), autostart=False)
    Screen._refresh_layout = counted  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            events = _events(int(seconds * 4))
            await pilot.pause()
            started_cpu, started = time.process_time(), time.perf_counter()
            layouts = 0
            step = seconds / max(1, len(events))
            for event in events:
                session.events.emit(event)  # type: ignore[arg-type]
                await asyncio.sleep(step)
            cpu = time.process_time() - started_cpu
            wall = time.perf_counter() - started
            counted_layouts = layouts
    finally:
        Screen._refresh_layout = refresh_layout  # type: ignore[method-assign]
    return cpu / wall, counted_layouts / wall


async def _headless_cpu(seconds: float) -> float:
    session = _session()
    lines: list[str] = []
    session.events.subscribe(lambda event: lines.append(f"{event.type} {event!r}"[:200]))
    events = _events(int(seconds * 4))
    started_cpu, started = time.process_time(), time.perf_counter()
    step = seconds / max(1, len(events))
    for event in events:
        session.events.emit(event)  # type: ignore[arg-type]
        await asyncio.sleep(step)
    return (time.process_time() - started_cpu) / (time.perf_counter() - started)


async def _idle_app_cpu(seconds: float) -> float:
    """CPU seconds per wall second of the app connected, the agent listening, nobody speaking and nothing
    arriving: what the app costs left open in a terminal."""
    from agent_tui.app import AgentTuiApp, AppSettings

    session = _session()
    app = AgentTuiApp(session, audio=WigglingAudio(steady=True), app_settings=AppSettings(), autostart=False)
    async with app.run_test(size=(120, 36)) as pilot:
        session.events.emit(
            ConnectionStateChanged(state=ConnectionState.CONNECTED, previous=ConnectionState.CONNECTING)
        )
        session.events.emit(AgentStateChanged(state=AgentState.LISTENING, previous=AgentState.CONNECTING))
        await pilot.pause(0.5)
        started_cpu, started = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        return (time.process_time() - started_cpu) / (time.perf_counter() - started)


def _child_app() -> None:
    """Runs in the pty: the real app with the key-release driver, never starting the session."""
    from agent_tui.app import AgentTuiApp, AppSettings
    from agent_tui.app.key_release import KeyReleaseDriver

    app = AgentTuiApp(
        _session(), audio=None, app_settings=AppSettings(), autostart=False, driver_class=KeyReleaseDriver
    )
    app.run()


def _child_minimal_app() -> None:
    """The anchor: the smallest Textual app that paints the same two words, in the same pty."""
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Label("agent-tui")
            yield Label("Conversation")

    Minimal().run()


def first_paint_seconds(child: str = "--child", timeout: float = 30.0) -> float:
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = "120", "36"
        os.execv(sys.executable, [sys.executable, "-m", "bench.bench_app", child])
    seen = b""
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if b"Conversation" in seen and b"agent-tui" in seen:
                return time.perf_counter() - started
        return math.nan
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_app")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-minimal", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child_app()
        return 0
    if args.child_minimal:
        _child_minimal_app()
        return 0
    app_cpu, layouts_per_s = asyncio.run(_app_cpu(args.seconds))
    headless_cpu = asyncio.run(_headless_cpu(args.seconds))
    idle_cpu = asyncio.run(_idle_app_cpu(args.seconds))
    paint = first_paint_seconds()
    minimal_paint = first_paint_seconds("--child-minimal")
    print(f"app CPU (levels at 15 Hz, agent speaking)   {app_cpu * 100:6.1f} % of one core")
    print(f"headless CPU (same session and events)       {headless_cpu * 100:6.1f} % of one core")
    ratio = app_cpu / headless_cpu if headless_cpu > 0 else math.inf
    print(f"ratio app / headless                          {ratio:6.1f} x (target <= 5 x, <= 3 % of a core)")
    print(f"screen layouts per second in the app         {layouts_per_s:6.1f} /s (refresh at 15 Hz)")
    print(f"app CPU idle (listening, silence, no events)  {idle_cpu * 100:6.2f} % of a core (target <= 1 %)")
    print(f"launch to first paint (fresh process, pty)   {paint * 1000:6.0f} ms")
    print(f"  a minimal Textual app, same pty             {minimal_paint * 1000:6.0f} ms")
    print(f"  ratio app / minimal                         {paint / minimal_paint:6.2f} x (target <= 1.3 x)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
