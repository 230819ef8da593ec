"""Clean shutdown: clients are told, nothing of the server keeps running; the command exits on SIGINT."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import threading

import pytest
from livekit import rtc

from agent_tui.devserver import DevServer
from tests.e2e.e2e_audio import TonePublisher
from tests.e2e.e2e_harness import mint_token
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

# Code whose tasks and threads the server starts; none may be left once it has stopped.
_SERVER_CODE = ("agent_tui/devserver", "aiortc", "aioice", "websockets")


def _server_tasks() -> list[asyncio.Task[object]]:
    current = asyncio.current_task()
    tasks = []
    for task in asyncio.all_tasks():
        if task is current or task.done():
            continue
        code = getattr(task.get_coro(), "cr_code", None)
        filename = code.co_filename if code is not None else ""
        if task.get_name().startswith("devserver") or any(part in filename for part in _SERVER_CODE):
            tasks.append(task)
    return tasks


async def test_stop_disconnects_clients_and_leaves_nothing_running() -> None:
    threads_before = set(threading.enumerate())
    server = DevServer(port=0)
    await server.start()
    rooms = {identity: rtc.Room() for identity in ("user", "agent")}
    reasons: dict[str, int] = {}
    for identity, room in rooms.items():
        room.on("disconnected", lambda reason, identity=identity: reasons.setdefault(identity, reason))
    tones = []
    try:
        for identity, room in rooms.items():
            kind = "agent" if identity == "agent" else "standard"
            await room.connect(server.url, mint_token(identity, kind=kind), rtc.RoomOptions())
            tones.append(TonePublisher(room, 440.0))
            await tones[-1].start()
        await wait_until(
            lambda: (
                all(p.track_publications for r in rooms.values() for p in r.remote_participants.values())
                and all(r.remote_participants for r in rooms.values())
            ),
            what="both sides to see each other's audio",
        )
        assert [t.name for t in threading.enumerate() if t.name.endswith("-decoder")], (
            "media should be flowing"
        )

        await asyncio.wait_for(server.stop(), timeout=10)

        await wait_until(lambda: len(reasons) == 2, what="both clients to be disconnected")
        assert set(reasons.values()) == {rtc.DisconnectReason.SERVER_SHUTDOWN}
        assert not server.rooms
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=2):
            pass
        await wait_until(lambda: not _server_tasks(), what="the server's tasks to end", within_s=5)
        leftover = [
            t.name for t in set(threading.enumerate()) - threads_before if t.name.endswith("-decoder")
        ]
        await wait_until(
            lambda: (
                not [t for t in set(threading.enumerate()) - threads_before if t.name.endswith("-decoder")]
            ),
            what=f"aiortc decoder threads {leftover} to end",
            within_s=5,
        )
    finally:
        for tone in tones:
            await tone.stop()
        for room in rooms.values():
            await room.disconnect()
        await server.stop()


async def test_dev_server_command_prints_keys_logs_joins_and_exits_on_sigint() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agent_tui.devserver",
        "--port",
        "0",
        "--api-key",
        "testkey",
        "--api-secret",
        "t" * 40,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        banner = ""
        while "Press Ctrl+C" not in banner:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=15)
            assert line, f"the command exited early: {banner!r}"
            banner += line.decode()
        url = re.search(r"listening on (ws://127\.0\.0\.1:\d+)", banner)
        assert url is not None, banner
        assert "API key:    testkey" in banner
        assert f"export LIVEKIT_URL={url.group(1)}" in banner
        assert "export LIVEKIT_API_KEY=testkey" in banner
        assert f"export LIVEKIT_API_SECRET={'t' * 40}" in banner

        room = rtc.Room()
        await room.connect(url.group(1), mint_token("cli-user", api_key="testkey", api_secret="t" * 40))
        await room.disconnect()
        logged = ""
        while "leave room=e2e-room identity=cli-user" not in logged:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=10)
            assert line, f"the command exited early: {logged!r}"
            logged += line.decode()
        assert "join room=e2e-room identity=cli-user kind=STANDARD" in logged

        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
