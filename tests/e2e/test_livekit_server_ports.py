"""livekit-server's ports: picked where no outgoing connection can take them, and a lost race is retried.

A CI run lost one: a port found free was bound by someone else before livekit-server bound it
(``listen tcp :49219: bind: address already in use``), and the test using the server errored.
"""

from __future__ import annotations

import socket

import pytest

from agent_tui.livekit_server import LiveKitServerProcess, LiveKitServerStartError
from agent_tui.livekit_server import process as process_module
from tests.e2e.e2e_harness import NODE_IP, cannot_run, livekit_server_binary

pytestmark = pytest.mark.timeout(60)


def _held_tcp_port() -> socket.socket:
    """A TCP port bound on every address and listening, as another program's would be."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("", 0))
    holder.listen()
    return holder


def _node_ip() -> str:
    try:
        socket.socket().bind((NODE_IP, 0))
    except OSError:
        cannot_run(f"{NODE_IP} is not on this machine (run inside tests/netns/run)", which="this test")
    return NODE_IP


def test_a_free_port_is_outside_the_kernels_outgoing_range() -> None:
    low, high = process_module._ephemeral_range()
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        for _ in range(50):
            port = process_module.free_port(kind)
            assert not low <= port <= high
            with socket.socket(socket.AF_INET, kind) as probe:
                probe.bind(("", port))  # still free on every address


async def test_a_picked_port_taken_before_the_server_binds_it_is_picked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    binary = livekit_server_binary()
    holder = _held_tcp_port()
    taken = holder.getsockname()[1]
    real_free_port = process_module.free_port
    handed: list[int] = []

    def loses_the_race_once(kind: int = socket.SOCK_STREAM) -> int:
        # The RTC TCP port is the second one picked: hand out the held one the first time round.
        port = taken if len(handed) == 1 else real_free_port(kind)
        handed.append(port)
        return port

    monkeypatch.setattr(process_module, "free_port", loses_the_race_once)
    server = LiveKitServerProcess(binary=binary, api_secret="s" * 40, node_ip=_node_ip())
    try:
        await server.start()
        assert taken in handed and server.rtc_tcp_port != taken
        assert len(handed) == 6  # two rounds of three ports
    finally:
        await server.stop()
        holder.close()


async def test_a_port_the_caller_chose_is_never_changed_and_its_loss_is_one_line() -> None:
    binary = livekit_server_binary()
    holder = _held_tcp_port()
    taken = holder.getsockname()[1]
    server = LiveKitServerProcess(binary=binary, api_secret="s" * 40, node_ip=_node_ip(), rtc_tcp_port=taken)
    try:
        with pytest.raises(LiveKitServerStartError, match="address already in use") as caught:
            await server.start()
        assert "\n" not in str(caught.value)
        assert server.rtc_tcp_port == taken
    finally:
        await server.stop()
        holder.close()
