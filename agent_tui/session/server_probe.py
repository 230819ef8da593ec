"""Asking a LiveKit server's port whether anything still answers, to say why a connection was lost.

When the rtc SDK gives up restoring a connection it reports only ``UNKNOWN_REASON``, and it takes its
time: ten restart attempts, about 20 s, even when nothing listens on the server's port any more. One TCP
connection attempt tells "the server is gone" (refused) from "the network is" (no answer in time) —
what a user needs to know to act — and a server that keeps refusing while we reconnect is not coming
back within the SDK's attempts either.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

__all__ = ["ProbeResult", "ServerAnswer", "probe_server"]

PROBE_TIMEOUT_S: Final = 1.0


class ServerAnswer(enum.Enum):
    ANSWERS = "answers"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class ProbeResult:
    answer: ServerAnswer
    where: str

    def describe(self) -> str:
        """Why a connection that could not be restored was lost, in words."""
        if self.answer is ServerAnswer.REFUSED:
            return f"the LiveKit server at {self.where} is gone: nothing answers there any more"
        if self.answer is ServerAnswer.UNREACHABLE:
            return f"the LiveKit server at {self.where} cannot be reached: the network or the server is down"
        return f"the connection could not be restored, though the server at {self.where} still answers"


async def probe_server(server_url: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """One TCP connection attempt to the server's port (nothing is sent)."""
    parts = urlsplit(server_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme in ("wss", "https") else 80)
    where = f"{host}:{port}"
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except ConnectionRefusedError:
        return ProbeResult(ServerAnswer.REFUSED, where)
    except (TimeoutError, OSError):
        return ProbeResult(ServerAnswer.UNREACHABLE, where)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return ProbeResult(ServerAnswer.ANSWERS, where)
