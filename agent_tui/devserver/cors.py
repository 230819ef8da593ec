"""CORS on every HTTP answer, as livekit-server gives it, so web front ends can talk to the dev server.

Browsers check a cross-origin answer's ``Access-Control-Allow-Origin`` before a page may read it. After
a refused connection livekit-client fetches ``/rtc/v1/validate`` for the reason; without the header
Chromium blocks the answer and the SDK reports "Failed to fetch" (server unreachable) instead of the 401's
reason. livekit-server (rs/cors, all origins) answers a preflight ``OPTIONS`` with 204, the origin, the
method and the headers asked for, and a day's ``Max-Age``; every other answer gets ``*``. So does this.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from aiohttp import web

__all__ = ["add_cors_headers", "is_preflight", "preflight"]

MAX_AGE_S: Final = 86400


def is_preflight(request: web.Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def preflight(request: web.Request) -> web.Response:
    """The answer to a browser's preflight: whatever it asks for is allowed, from any origin."""
    headers = {
        "Access-Control-Allow-Origin": request.headers.get("Origin", "*"),
        "Access-Control-Allow-Methods": request.headers.get("Access-Control-Request-Method", "GET"),
        "Access-Control-Max-Age": str(MAX_AGE_S),
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    }
    if asked := request.headers.get("Access-Control-Request-Headers"):
        headers["Access-Control-Allow-Headers"] = asked
    return web.Response(status=int(HTTPStatus.NO_CONTENT), headers=headers)


async def add_cors_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer (refusals, Twirp, the token endpoint) may be read by a page."""
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
