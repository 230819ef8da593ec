"""The WebSocket side of the server's one HTTP listener (aiohttp).

LiveKit serves signalling (``/rtc/v1``), agent workers (``/agent``) and the Twirp API (``POST
/twirp/…``) on one port, and clients derive all three from one URL, so the dev server does too. That
needs an HTTP server that reads request bodies as well as upgrading to WebSocket, which is why the
server runs on aiohttp (a dependency of livekit-api, so always present) rather than on a
WebSocket-only library. This module keeps the aiohttp details of a WebSocket in one place: how it is
opened, and the two-method socket the signal link writes to.
"""

from __future__ import annotations

from typing import Final

from aiohttp import WSMsgType, web

# A peer that does not answer our close frame within this time is dropped; stop() must stay quick.
CLOSE_TIMEOUT_S: Final = 3.0

BINARY: Final = WSMsgType.BINARY


def wants_websocket(request: web.Request) -> bool:
    """Whether ``request`` asks for a WebSocket upgrade (anything else gets a plain HTTP answer)."""
    return "websocket" in request.headers.get("Upgrade", "").lower()


async def open_websocket(request: web.Request) -> web.WebSocketResponse:
    """Complete the upgrade of ``request``: binary frames of any size, no compression.

    Pings from the peer are answered (a livekit-agents worker pings every 30 s); the server sends
    none of its own, because both protocols carry their own liveness messages.
    """
    socket = web.WebSocketResponse(
        timeout=CLOSE_TIMEOUT_S, autoping=True, heartbeat=None, compress=False, max_msg_size=0
    )
    await socket.prepare(request)
    return socket


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
        await self.socket.close()
