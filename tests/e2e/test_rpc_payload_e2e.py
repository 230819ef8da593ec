"""RPC payloads over 15 KiB end to end, on each server: the rtc SDK we ship sends them over a data
stream (RPC v2) to a participant that announces it, both ways; to one it has not seen it cannot, and
the Session says so before sending, naming the limit."""

from __future__ import annotations

import json

import pytest

from agent_tui.session import (
    CachingTokenSource,
    LocalTokenSource,
    RpcPayloadTooLargeError,
    Session,
    SessionOptions,
)
from agent_tui.session.rpc_limits import MAX_V1_PAYLOAD_BYTES
from tests.e2e.e2e_harness import ROOM, LiveServer
from tests.e2e.stand_in_agent import StandInAgent
from tests.e2e.test_headless_e2e import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

#: 12,000 characters, 24,000 UTF-8 bytes: over the limit in bytes though not in characters.
BIG = "é" * 12_000


async def test_a_big_payload_goes_both_ways_and_an_unseen_destination_is_refused_first(
    server: LiveServer, agent_in_room: StandInAgent
) -> None:
    source = CachingTokenSource(LocalTokenSource(server.url, server.api_key, server.api_secret))
    options = SessionOptions(agent_name="stand-in", room_name=ROOM, participant_identity="user-1")
    session = Session(source, options)
    try:
        await session.start()
        assert len(BIG.encode()) > MAX_V1_PAYLOAD_BYTES
        reply = await session.perform_rpc("echo", BIG, response_timeout=20)
        assert reply == f"echo:{BIG}"  # and the reply, as big, came back the same way
        with pytest.raises(
            RpcPayloadTooLargeError, match=r"24,000 bytes .* 15,360-byte RPC v1 limit; 'ghost'"
        ):
            await session.perform_rpc("echo", BIG, destination_identity="ghost")
    finally:
        await session.end()


async def test_headless_rpc_with_a_big_payload_reports_the_reply(
    server: LiveServer, agent_in_room: StandInAgent
) -> None:
    code, out, err = await run_cli(
        server,
        "--no-ui", "--json", "--url", server.url, "--room", ROOM, "--agent", "stand-in",
        "--rpc", f"echo={BIG}", "--send", "hi",
    )  # fmt: skip
    assert code == 0, err
    rpcs = [json.loads(line) for line in out.splitlines() if '"type":"rpc"' in line]
    assert [(r["method"], r.get("response"), r.get("error")) for r in rpcs] == [("echo", f"echo:{BIG}", None)]
