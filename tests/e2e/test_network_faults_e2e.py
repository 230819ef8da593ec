"""Faults while a conversation runs: the media path cut (signalling kept), and the server dying.

* A short cut (3 s) is ridden out: nothing changes for the user.
* A long cut (30 s) makes the SDK restart the connection, and while it does it forgets every participant;
  the agent never left, so the session must not say it did (it used to report ``agent_left`` and end a
  headless run with exit 6). Once media flows again the conversation goes on.
* A server that dies is reported as gone within seconds (not after the SDK's 20 s of attempts, and not
  as "UNKNOWN_REASON"), and a headless run ends with exit 4.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest
from livekit import rtc

from agent_tui.livekit_server import LiveKitServerProcess
from agent_tui.session import (
    AgentLeft,
    AgentState,
    ConnectionState,
    LocalTokenSource,
    Session,
    SessionEvent,
    SessionOptions,
    Speaker,
)
from tests.e2e.e2e_harness import NODE_IP, ROOM, LiveServer, livekit_server_binary, mint_token
from tests.e2e.network_faults import media_cut
from tests.e2e.stand_in_agent import StandInAgent
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

AGENT_TUI = str(Path(sys.executable).with_name("agent-tui"))


@pytest.fixture
def agent(agent_in_room: StandInAgent) -> StandInAgent:
    return agent_in_room


async def started_session(server: LiveServer) -> tuple[Session, list[SessionEvent]]:
    session = Session(
        LocalTokenSource(server.url, server.api_key, server.api_secret),
        SessionOptions(room_name=ROOM, participant_identity="user-1"),
    )
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    await session.start()
    await wait_until(lambda: session.agent_state is AgentState.LISTENING, what="the agent listening")
    return session, events


async def answered(session: Session, text: str) -> None:
    await session.send_chat(text)
    await wait_until(
        lambda: any(m.speaker is Speaker.AGENT and m.final and text in m.text for m in session.messages),
        what=f"the answer to {text!r}",
        within_s=30,
    )


async def media_outage_is_ridden_out(server: LiveServer, agent: StandInAgent, cut_s: float) -> None:
    session, events = await started_session(server)
    try:
        mark = len(events)
        with media_cut():
            await asyncio.sleep(cut_s)
        await wait_until(
            lambda: session.connection_state is ConnectionState.CONNECTED, what="the connection", within_s=40
        )
        # The stand-in rode the same cut, and after a long one its SDK restarts the connection (a new
        # session on the server) rather than resuming it, possibly after ours: a chat sent before it is
        # back in the room is lost on the way (a CI run asked too early and never got its answer).
        await wait_until(
            lambda: (
                agent.room.connection_state == rtc.ConnectionState.CONN_CONNECTED
                and "user-1" in agent.room.remote_participants
            ),
            what="the agent back in the room",
            within_s=40,
        )
        await answered(session, "still there?")
        after = events[mark:]
        assert not [e for e in after if isinstance(e, AgentLeft)], after
        assert session.agent_state is not AgentState.FAILED and session.agent_failure is None
        assert session.agent.identity == "agent-1"
    finally:
        await session.end()


async def test_a_short_media_outage_changes_nothing(server: LiveServer, agent: StandInAgent) -> None:
    await media_outage_is_ridden_out(server, agent, 3.0)


# livekit-server only: after a 30 s cut the dev server's relay (aiortc) once did not carry the stand-in's
# answer within 30 s in a loaded CI-like run, though both sides had reconnected (livekit-server always
# did). That is a dev-server relay matter, not the Session's rule this test is about (see the README).
@pytest.mark.servers("livekit")
@pytest.mark.timeout(180)  # a 30 s cut, then up to 40 s for each side to come back and 30 s for the answer
async def test_a_long_media_outage_is_not_the_agent_leaving(server: LiveServer, agent: StandInAgent) -> None:
    await media_outage_is_ridden_out(server, agent, 30.0)


@pytest.mark.servers("livekit")  # only a server in a process of its own can die under us
async def test_a_dead_server_ends_a_headless_run_with_exit_4_in_seconds(tmp_path: Path) -> None:
    """livekit-server only: the dev server runs inside the test process, which cannot be killed."""
    process = LiveKitServerProcess(binary=livekit_server_binary(), node_ip=NODE_IP)
    await process.start()
    try:
        stand_in = StandInAgent()
        token_args = {"api_key": process.api_key, "api_secret": process.api_secret}
        token = mint_token("agent-1", kind="agent", attributes={"lk.agent.state": "listening"}, **token_args)
        await stand_in.room.connect(process.url, token, rtc.RoomOptions())
        stand_in.on_connected()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
        env.update(
            AGENT_TUI_CONFIG="/dev/null",
            LIVEKIT_API_KEY=process.api_key,
            LIVEKIT_API_SECRET=process.api_secret,
        )
        client = await asyncio.create_subprocess_exec(
            AGENT_TUI, "--json", "--text-only", "--url", process.url, "--room", ROOM, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert client.stdout is not None
        async for raw in client.stdout:
            if json.loads(raw).get("type") == "session":
                break
        killed = time.monotonic()
        process.kill_now()
        out, err = await asyncio.wait_for(client.communicate(), timeout=40)
        noticed = time.monotonic() - killed
        assert client.returncode == 4, err.decode()
        lines = [line for line in err.decode().splitlines() if line.strip()]
        assert len(lines) == 1 and "is gone" in lines[0], err.decode()
        assert noticed < 10, f"took {noticed:.1f} s to notice"
        records = [json.loads(line) for line in out.decode().splitlines()]
        assert not [r for r in records if r["type"] == "agent_left"], records
        await stand_in.close()
    finally:
        await process.stop()
