"""Connection states of a session.

``livekit.rtc`` reports disconnected, connected and reconnecting, but not *connecting*: the session
produces that one itself from the moment ``start()`` begins, so front ends can show progress while the
token is fetched and the room is joined.
"""

from __future__ import annotations

from enum import StrEnum


class ConnectionState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"

    @property
    def is_connected(self) -> bool:
        """The room is usable or about to be again (JS ``isConnected``: not while first connecting)."""
        return self in (ConnectionState.CONNECTED, ConnectionState.RECONNECTING)
