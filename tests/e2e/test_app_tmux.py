"""The terminal UI end to end: ``agent-tui`` in a real terminal (tmux) against the dev server and an agent.

The agent is a real ``livekit.rtc`` participant of kind AGENT in this process: it publishes
``lk.agent.state`` like livekit-agents does and answers chat on ``lk.chat`` after a visible "thinking"
pause. The test types with ``tmux send-keys`` and reads the screen with ``tmux capture-pane``.

The client runs with audio on but no audio device to use (no PulseAudio server, and a microphone name
no machine has), as on a headless box: it says so, goes on text-only, and what the user types still
reaches the agent.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from livekit import rtc

from tests.e2e.e2e_harness import Connector, LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

AGENT_TUI = Path(sys.executable).with_name("agent-tui")


def tmux(server: str, *args: str) -> str:
    """Run a tmux command on a tmux server of the test's own (``-L``), started without a config file: a
    tmux server the user already runs would ignore ``-f /dev/null`` and lend the test its own options."""
    command = ["tmux", "-L", server, *args]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=10).stdout


async def screen_until(session: str, text: str, *, within_s: float = 30.0) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    screen = ""
    while loop.time() < deadline:
        screen = tmux(session, "capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        await asyncio.sleep(0.2)
    pytest.fail(f"{text!r} did not appear on the screen within {within_s:.0f}s; last screen:\n{screen}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_chat_with_the_agent_in_tmux_with_no_audio_device(
    server: LiveServer, connect: Connector, tmp_path: Path, size: tuple[int, int]
) -> None:
    agent_room = rtc.Room()
    replies: list[asyncio.Task[None]] = []
    received: list[str] = []

    async def answer(reader: rtc.TextStreamReader, sender: str) -> None:
        text = await reader.read_all()
        received.append(text)
        await agent_room.local_participant.set_attributes({"lk.agent.state": "thinking"})
        await asyncio.sleep(1.5)  # long enough for the screen poll to see "Thinking"
        await agent_room.local_participant.send_text(f"echo: {text}", topic="lk.chat")
        await agent_room.local_participant.set_attributes({"lk.agent.state": "listening"})

    agent_room.register_text_stream_handler(
        "lk.chat", lambda reader, sender: replies.append(asyncio.ensure_future(answer(reader, sender)))
    )
    await connect("agent-e2e", kind="agent", room=agent_room, attributes={"lk.agent.state": "listening"})

    session = f"agent-tui-e2e-{uuid.uuid4().hex[:6]}"
    token = server.token("user-e2e")
    no_pulseaudio = f"PULSE_SERVER=unix:{tmp_path / 'no-pulseaudio'}"
    client = f"{AGENT_TUI} --input-device no-such-mic-e2e --url {server.url} --token {token}"
    # The pane's environment may carry COLUMNS and LINES from elsewhere (80 and 24 seen here), and the app
    # takes the terminal's size from them before asking the terminal: drop them.
    command = f"env -u COLUMNS -u LINES {no_pulseaudio} {client}; sleep 30"
    window = ("-x", str(size[0]), "-y", str(size[1]))
    tmux(session, "-f", "/dev/null", "new-session", "-d", "-s", session, *window, command)
    try:
        tmux(session, "set-option", "-t", session, "remain-on-exit", "on")
        await screen_until(session, "No audio device")  # the warning, as a notification
        await screen_until(session, "Listening")
        screen = await screen_until(session, "● connected")
        assert "TEXT ONLY" in screen
        assert "Continue (esc)" not in screen and "Problem" not in screen  # no dialog takes the keys
        tmux(session, "send-keys", "-t", session, "-l", "hello from tmux")
        tmux(session, "send-keys", "-t", session, "Enter")
        await screen_until(session, "You    hello from tmux")
        await screen_until(session, "Thinking")
        screen = await screen_until(session, "echo: hello from tmux")
        assert "Agent" in screen
        assert received == ["hello from tmux"]
        await screen_until(session, "Listening")
        tmux(session, "send-keys", "-t", session, "C-q")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while "Type a message" in tmux(session, "capture-pane", "-p", "-t", session):
            assert loop.time() < deadline, "agent-tui did not leave the screen after ctrl+q"
            await asyncio.sleep(0.2)
    finally:
        kill = ["tmux", "-L", session, "kill-server"]
        await asyncio.to_thread(subprocess.run, kill, check=False, capture_output=True, timeout=10)
        for task in replies:
            task.cancel()
