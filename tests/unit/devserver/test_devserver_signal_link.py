"""Outgoing signalling across WebSocket swaps: order kept, nothing lost, stale updates not replayed."""

from __future__ import annotations

import asyncio

from livekit.protocol.rtc import ParticipantUpdate, SignalResponse

from agent_tui.devserver.signal_link import SignalLink


class FakeSocket:
    """Records what it was sent; can be made to fail like a socket that just died."""

    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[SignalResponse] = []
        self.fail = fail
        self.closed = False

    async def send(self, message: bytes) -> None:
        if self.fail:
            raise ConnectionError("socket died")
        self.sent.append(SignalResponse.FromString(message))

    async def close(self) -> None:
        self.closed = True


def pong(n: int) -> SignalResponse:
    return SignalResponse(pong=n)


UPDATE = SignalResponse(update=ParticipantUpdate())


async def test_messages_go_out_in_order_and_flush_waits_for_them() -> None:
    link, socket = SignalLink(), FakeSocket()
    link.attach(socket, first=[])
    for n in range(5):
        link.send(pong(n))
    await link.flush(within_s=1)
    assert [m.pong for m in socket.sent] == [0, 1, 2, 3, 4]
    await link.close()
    assert socket.closed


async def test_messages_wait_for_a_socket_and_first_messages_lead() -> None:
    link, socket = SignalLink(), FakeSocket()
    link.send(pong(1))
    link.send(UPDATE)  # dropped: a resume sends a fresh snapshot instead
    link.attach(socket, first=[pong(100), pong(101)])
    await link.flush(within_s=1)
    assert [m.pong for m in socket.sent] == [100, 101, 1]
    await link.close()


async def test_a_message_whose_send_failed_goes_out_first_on_the_next_socket() -> None:
    link, dead, fresh = SignalLink(), FakeSocket(fail=True), FakeSocket()
    link.attach(dead, first=[])
    link.send(pong(1))
    link.send(pong(2))
    await asyncio.sleep(0.05)
    assert not link.is_current(dead), "a failed send detaches the socket"
    replaced = link.attach(fresh, first=[pong(0)])
    assert replaced is None
    await link.flush(within_s=1)
    assert [m.pong for m in fresh.sent] == [0, 1, 2]
    await link.close()


async def test_attach_returns_the_socket_it_replaces() -> None:
    link, old, new = SignalLink(), FakeSocket(), FakeSocket()
    link.attach(old, first=[])
    assert link.attach(new, first=[]) is old
    link.detach(old)  # the old connection ending later does not detach the new one
    assert link.is_current(new)
    await link.close()
    assert new.closed and not old.closed
