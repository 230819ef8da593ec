"""What one probe of a server's port says about a lost connection (loopback only: nothing leaves)."""

from __future__ import annotations

import asyncio
import socket

from agent_tui.session.server_probe import ProbeResult, ServerAnswer, probe_server


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_port_nobody_listens_on_is_refused_and_the_server_called_gone() -> None:
    port = _closed_port()
    result = await probe_server(f"ws://127.0.0.1:{port}")
    assert result == ProbeResult(ServerAnswer.REFUSED, f"127.0.0.1:{port}")
    assert (
        result.describe() == f"the LiveKit server at 127.0.0.1:{port} is gone: nothing answers there any more"
    )


async def test_a_listening_server_answers() -> None:
    server = await asyncio.start_server(lambda reader, writer: writer.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await probe_server(f"wss://127.0.0.1:{port}/some/path")
    finally:
        server.close()
        await server.wait_closed()
    assert result.answer is ServerAnswer.ANSWERS
    assert "still answers" in result.describe()


def test_no_answer_in_time_blames_the_network_or_the_server() -> None:
    assert (
        ProbeResult(ServerAnswer.UNREACHABLE, "example.invalid:443")
        .describe()
        .startswith("the LiveKit server at example.invalid:443 cannot be reached")
    )
