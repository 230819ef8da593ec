"""The terminal UI end to end: ``agent-tui`` in a real terminal (tmux) against the dev server and an agent.

The agent is a real ``livekit.rtc`` participant of kind AGENT in this process: it publishes
``lk.agent.state`` like livekit-agents does and answers chat on ``lk.chat`` after a visible "thinking"
pause. The test types with ``tmux send-keys`` and reads the screen with ``tmux capture-pane``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from e2e_harness import Connector, LiveServer
from livekit import rtc

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

AGENT_TUI = Path(sys.executable).with_name("agent-tui")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True, timeout=10).stdout


async def screen_until(session: str, text: str, *, within_s: float = 30.0) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    screen = ""
    while loop.time() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        await asyncio.sleep(0.2)
    pytest.fail(f"{text!r} did not appear on the screen within {within_s:.0f}s; last screen:\n{screen}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
async def test_chat_with_the_agent_in_tmux(server: LiveServer, connect: Connector, tmp_path: Path) -> None:
    agent_room = rtc.Room()
    replies: list[asyncio.Task[None]] = []

    async def answer(reader: rtc.TextStreamReader, sender: str) -> None:
        text = await reader.read_all()
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
    command = f"{AGENT_TUI} --url {server.url} --token {token} --text-only; sleep 30"
    tmux("-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "120", "-y", "32", command)
    try:
        tmux("set-option", "-t", session, "remain-on-exit", "on")
        await screen_until(session, "Listening")
        screen = await screen_until(session, "● connected")
        assert "TEXT ONLY" in screen or "Microphone" in screen
        tmux("send-keys", "-t", session, "-l", "hello from tmux")
        tmux("send-keys", "-t", session, "Enter")
        await screen_until(session, "You    hello from tmux")
        await screen_until(session, "Thinking")
        screen = await screen_until(session, "echo: hello from tmux")
        assert "Agent" in screen
        await screen_until(session, "Listening")
        tmux("send-keys", "-t", session, "C-q")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while "Type a message" in tmux("capture-pane", "-p", "-t", session):
            assert loop.time() < deadline, "agent-tui did not leave the screen after ctrl+q"
            await asyncio.sleep(0.2)
    finally:
        kill = ["tmux", "kill-session", "-t", session]
        await asyncio.to_thread(subprocess.run, kill, check=False, capture_output=True, timeout=10)
        for task in replies:
            task.cancel()
