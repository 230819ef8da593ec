"""The WebSocket side of the server's one HTTP listener (aiohttp).

LiveKit serves signalling (``/rtc/v1``), agent workers (``/agent``) and the Twirp API (``POST
/twirp/…``) on one port, and clients derive all three from one URL, so the dev server does too. That
needs an HTTP server that reads request bodies as well as upgrading to WebSocket, which is why the
server runs on aiohttp (a dependency of livekit-api, so always present) rather than on a
WebSocket-only library. This module keeps the aiohttp details of a WebSocket in one place: how it is
opened, how the peer's frames are read (and which ones end the connection), and the two-method socket
the signal link writes to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Final

from aiohttp import WSMsgType, web

# A peer that does not answer our close frame within this time is dropped; stop() must stay quick.
CLOSE_TIMEOUT_S: Final = 3.0

# The largest frame the server reads. livekit-server sets no read limit on its WebSockets (gorilla's
# default is none, and nothing in livekit-server, livekit/protocol or psrpc calls SetReadLimit): it
# buffers a frame of any size, then closes the connection if the frame does not decode. Buffering is
# what let one 200 MB frame take the dev server from 80 MB to 686 MB, so this limit is the dev
# server's own safety choice, sized to livekit-server's own bounds on what a client sends: 1 MiB for
# a join request and for HTTP headers (http.DefaultMaxHeaderBytes), 512 KiB of metadata plus 64 KiB of
# attributes. aiohttp refuses a larger frame from its header, before reading its payload, and closes
# the connection with 1009 (message too big).
MAX_FRAME_BYTES: Final = 1 << 20


class FrameRefused(Exception):
    """The peer sent something its protocol does not allow (a frame too large, a text frame, a frame
    that does not decode, a WebSocket protocol error): its connection is closed; ``str(self)`` says why
    in one line for the log."""


class PeerSilent(Exception):
    """Nothing at all arrived from the peer for the idle timeout."""


def wants_websocket(request: web.Request) -> bool:
    """Whether ``request`` asks for a WebSocket upgrade (anything else gets a plain HTTP answer)."""
    return "websocket" in request.headers.get("Upgrade", "").lower()


async def open_websocket(request: web.Request) -> web.WebSocketResponse:
    """Complete the upgrade of ``request``: binary frames up to :data:`MAX_FRAME_BYTES`, no compression.

    Pings from the peer are answered (a livekit-agents worker pings every 30 s); the server sends
    none of its own, because both protocols carry their own liveness messages.
    """
    socket = web.WebSocketResponse(
        timeout=CLOSE_TIMEOUT_S,
        autoping=True,
        heartbeat=None,
        compress=False,
        # aiohttp refuses a frame of max_msg_size bytes or more.
        max_msg_size=MAX_FRAME_BYTES + 1,
    )
    await socket.prepare(request)
    return socket


async def binary_frames(
    socket: web.WebSocketResponse, *, idle_timeout_s: float | None = None
) -> AsyncGenerator[bytes, None]:
    """The payloads of the peer's binary frames until it closes the connection.

    Raises :class:`FrameRefused` for a frame the server does not read (text frames: LiveKit's SDKs
    speak protobuf only, and livekit-server's JSON mode is not served) and :class:`PeerSilent` when
    nothing, not even a WebSocket ping, arrived for ``idle_timeout_s``.
    """
    while True:
        try:
            message = await socket.receive(timeout=idle_timeout_s)
        except TimeoutError:
            raise PeerSilent(f"nothing received for {idle_timeout_s:g}s") from None
        if message.type == WSMsgType.BINARY:
            yield message.data
        elif message.type == WSMsgType.TEXT:
            raise FrameRefused(f"a text frame of {len(message.data)} characters (only protobuf is served)")
        elif message.type == WSMsgType.ERROR:
            raise FrameRefused(str(message.data) or type(message.data).__name__)
        else:  # CLOSE, CLOSING, CLOSED: the peer ended the connection (or it broke)
            return


async def close_websocket(socket: web.WebSocketResponse) -> None:
    """Close ``socket`` within :data:`CLOSE_TIMEOUT_S`, even if the peer stopped reading (a frozen
    client: the close frame then waits behind a full send buffer, and aiohttp drops the transport)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await socket.close()


class WebSocketChannel:
    """A WebSocket as the signal link sees it: ``send`` bytes and ``close``; one object per connection."""

    def __init__(self, socket: web.WebSocketResponse) -> None:
        self.socket = socket

    async def send(self, message: bytes) -> None:
        """Send one binary frame; raises once the connection is gone (the link keeps the message)."""
        if self.socket.closed:
            raise ConnectionResetError("the WebSocket is closed")
        await self.socket.send_bytes(message)

    async def close(self) -> None:
        """Close the connection (waiting at most :data:`CLOSE_TIMEOUT_S` for the peer's answer)."""
        await close_websocket(self.socket)
