"""``agent-tui --no-ui`` end to end: the real CLI process against the dev server and an agent in the room."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.e2e.e2e_harness import LiveServer
from tests.e2e.stand_in_agent import StandInAgent

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))


def cli_env(server: LiveServer | None) -> dict[str, str]:
    """The environment of a user who set the server's key pair (or any key pair, with no server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(
        LIVEKIT_API_KEY=server.api_key if server else "devkey",
        LIVEKIT_API_SECRET=server.api_secret if server else "s" * 40,
        AGENT_TUI_CONFIG="/dev/null",
    )
    return env


async def run_cli(server: LiveServer | None, *args: str, within_s: float = 60) -> tuple[int, str, str]:
    # Text only: these runs are about the session, not the devices a previous test may have left around.
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, *args, "--text-only", env=cli_env(server), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=within_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_no_ui_json_send_gets_the_reply_and_exits_0(
    server: LiveServer, agent_in_room: StandInAgent, tmp_path: Path
) -> None:
    transcript = tmp_path / "transcript.jsonl"
    code, out, err = await run_cli(
        server,
        "--no-ui", "--json", "--url", server.url, "--room", "e2e-room", "--agent", "stand-in",
        "--send", "hello", "--send", "and again", "--transcript", str(transcript),
    )  # fmt: skip
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert all(r["v"] == 2 and "ts" in r for r in records)
    messages = [(r["speaker"], r["text"]) for r in records if r["type"] == "message"]
    assert ("agent", "You said: hello") in messages
    assert ("agent", "You said: and again") in messages
    assert messages.index(("agent", "You said: hello")) < messages.index(("user", "and again"))
    states = [r["state"] for r in records if r["type"] == "agent_state"]
    assert "thinking" in states and "speaking" in states and states[-1] in ("listening", "disconnected")
    assert records[-1] == {**records[-1], "type": "end", "exit_code": 0}
    assert [text for _, text in agent_in_room.chats] == ["hello", "and again"]
    saved = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert [(m["speaker"], m["text"]) for m in saved] == messages
    assert server.api_secret not in out + err


async def test_unknown_agent_exits_5_with_one_line(server: LiveServer) -> None:
    code, _, err = await run_cli(
        server, "--no-ui", "--url", server.url, "--agent", "nobody", "--agent-timeout", "1", "--send", "hi"
    )
    assert code == 5
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Agent did not join the room" in lines[0], err


async def test_refused_token_exits_3(server: LiveServer) -> None:
    env_secret = "x" * 40
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, "--no-ui", "--text-only", "--url", server.url, "--agent", "a",
        env={**cli_env(server), "LIVEKIT_API_SECRET": env_secret},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 3, err
    assert "refused the token" in err.decode()
    assert env_secret not in (out + err).decode()


async def test_unreachable_server_exits_4() -> None:
    code, _, err = await run_cli(None, "--no-ui", "--url", "ws://127.0.0.1:9", "--agent", "a", "--room", "r")
    assert code == 4, err
    assert "Could not connect" in err


async def test_a_listen_only_run_ends_with_exit_6_when_the_agent_leaves(
    server: LiveServer, agent_in_room: StandInAgent
) -> None:
    """No script: the run lasts as long as the conversation, so the agent leaving ends it (exit 6)."""
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, "--no-ui", "--json", "--text-only", "--url", server.url, "--room", "e2e-room",
        "--agent", "stand-in", env=cli_env(server),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    async for raw in process.stdout:  # the run is in the room and the agent listens
        record = json.loads(raw)
        if record["type"] == "agent_state" and record["state"] == "listening":
            break
    await agent_in_room.room.disconnect()
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 6, err.decode()
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert len(lines) == 1 and "Agent left the room unexpectedly" in lines[0], err.decode()
    last = json.loads(out.decode().splitlines()[-1])
    assert (last["type"], last["exit_code"]) == ("end", 6)


async def test_a_literal_token_with_an_agent_that_never_joins_exits_5(server: LiveServer) -> None:
    """Whatever the token source: the same "did not join" and exit 5 as a locally minted token."""
    token = server.token("user-literal", room="literal-room")
    env = {**cli_env(None), "LIVEKIT_API_KEY": "", "LIVEKIT_API_SECRET": ""}
    process = await asyncio.create_subprocess_exec(
        AGENT_TUI, "--no-ui", "--text-only", "--url", server.url, "--agent", "nobody-here",
        "--agent-timeout", "2", "--token-file", "-", env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(token.encode()), timeout=40)
    assert process.returncode == 5, err.decode()
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert len(lines) == 1 and "Agent did not join the room" in lines[0], err.decode()
    assert token not in (out + err).decode()
