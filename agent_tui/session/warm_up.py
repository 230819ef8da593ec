"""Warming the way to a LiveKit server before connecting, as client-sdk-js ``Room.prepareConnection`` does.

For a server that is not LiveKit Cloud, JS sends one ``HEAD`` to the server's HTTP URL so that DNS, the
TCP connection and TLS are ready when ``connect`` comes (for Cloud it first asks for the best region,
which the Rust core under the Python SDK does again inside ``connect`` and cannot be handed). We do the
same request; the rtc SDK keeps its own connections, so what it saves is the name lookup and the
server's first wake-up, and the part of :meth:`Session.prepare` that matters most is the token fetched
ahead. A warm-up is only ever a hint: bounded, and its failure changes nothing but a debug line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from agent_tui.session.redaction import redact

log = logging.getLogger(__name__)

#: Longest a warm-up may take; a server slower than this to answer a HEAD is not sped up by waiting.
WARM_UP_TIMEOUT_S: Final = 2.0

_HTTP_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def http_url(server_url: str) -> str | None:
    """The HTTP(S) URL of a ``ws(s)://`` server URL (JS ``toHttpUrl``), None when it is not one."""
    parts = urlsplit(server_url)
    scheme = _HTTP_SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        return None
    return urlunsplit((scheme, parts.netloc, parts.path or "/", "", ""))


async def warm_up(server_url: str, *, timeout_s: float = WARM_UP_TIMEOUT_S) -> bool:
    """Send the server one ``HEAD`` and read its status line; whether it answered (any status counts).
    Never raises. Plain asyncio streams rather than an HTTP client: one request needs no more, and the
    start of a session should not pay for importing one."""
    url = http_url(server_url)
    if url is None:
        log.debug("no warm-up for %s: not a ws(s) or http(s) URL", redact(server_url))
        return False
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port, ssl=secure or None)
            try:
                request = f"HEAD {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
                writer.write(request.encode("ascii"))
                await writer.drain()
                status = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError, UnicodeError) as error:
        log.debug("warming up the connection to %s failed: %s", url, redact(str(error)))
        return False
    if not status.startswith(b"HTTP/"):
        log.debug("warming up the connection to %s: no HTTP answer", url)
        return False
    log.debug("warmed up the connection to %s", url)
    return True
