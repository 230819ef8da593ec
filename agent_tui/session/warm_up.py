"""Warming the way to a LiveKit server before connecting, as client-sdk-js ``Room.prepareConnection`` does.

For a server that is not LiveKit Cloud, JS sends one ``HEAD`` to the server's HTTP URL so that DNS, the
TCP connection and TLS are ready when ``connect`` comes (for Cloud it first asks for the best region,
which the Rust core under the Python SDK does again inside ``connect`` and cannot be handed). We do the
same request; the rtc SDK keeps its own connections, so what it saves is the name lookup and the
server's first wake-up, and the part of :meth:`Session.prepare` that matters most is the token fetched
ahead. A warm-up is only ever a hint: bounded, and its failure changes nothing but a debug line.
"""

from __future__ import annotations

import logging
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import httpx

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


async def warm_up(
    server_url: str, *, timeout_s: float = WARM_UP_TIMEOUT_S, client: httpx.AsyncClient | None = None
) -> bool:
    """Send the server one ``HEAD``; whether anything answered (any status counts). Never raises."""
    url = http_url(server_url)
    if url is None:
        log.debug("no warm-up for %s: not a ws(s) or http(s) URL", redact(server_url))
        return False
    try:
        if client is not None:
            await client.head(url, timeout=timeout_s)
        else:
            async with httpx.AsyncClient(timeout=timeout_s) as own:
                await own.head(url)
    except httpx.HTTPError as error:
        log.debug("warming up the connection to %s failed: %s", url, redact(str(error)))
        return False
    log.debug("warmed up the connection to %s", url)
    return True
