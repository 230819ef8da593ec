"""Token sources that ask a server: the user's standard token endpoint and LiveKit Cloud's sandbox.

Both speak livekit/protocol's ``TokenSourceRequest``/``TokenSourceResponse`` as JSON. Every way the
exchange can fail ends in one :class:`~agent_tui.session.errors.TokenSourceError` subclass whose message
names the endpoint (without credentials or query), says what went wrong and what to check, and never
carries the token or our request headers, which may hold API keys.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from agent_tui.session.errors import (
    TokenConfigError,
    TokenEndpointHTTPError,
    TokenEndpointTimeoutError,
    TokenEndpointUnreachableError,
    TokenResponseError,
)
from agent_tui.session.redaction import REDACTED
from agent_tui.session.tokens.details import ConnectionDetails, TokenRequest, check_usable
from agent_tui.session.tokens.excerpt import excerpt

DEFAULT_SANDBOX_BASE_URL = "https://cloud-api.livekit.io"
SANDBOX_PATH = "/api/v2/sandbox/connection-details"

#: A token reply is a few hundred bytes; anything this large is not one, and reading on only costs memory.
MAX_REPLY_BYTES = 1 << 20
#: Enough of an error body for an excerpt, after tags are stripped from an HTML error page.
_MAX_ERROR_BYTES = 16 << 10

_EXPECTED = 'it must answer {"server_url": "wss://…", "participant_token": "<JWT>"}'
_TOKEN_FIX = "check what the token server puts in participant_token"
_EXPIRED_FIX = "the token server handed out an expired token; check its clock and the token TTL"
_SERVER_URL_FIX = "the token server must answer the LiveKit server URL in server_url"
_HTML_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.IGNORECASE | re.DOTALL)


def parse_token_response(
    body: bytes,
    content_type: str | None,
    *,
    origin: str = "the token endpoint",
    now: float | None = None,
    secrets: Iterable[str] = (),
) -> ConnectionDetails:
    """Connection details from a token server's 2xx reply, or a ``TokenResponseError``/``TokenInvalidError``.

    Both casings are accepted (``server_url``/``serverUrl``, ``participant_token``/``participantToken``,
    optional ``room_name``/``roomName`` and ``participant_name``/``participantName``) because servers
    built from LiveKit's own examples answer camelCase while the protocol says snake_case. The body is
    tried as JSON whatever ``content_type`` says, as browsers' ``response.json()`` does; the content type
    only sharpens the diagnosis when it is not JSON. With ``now`` the token must also be unexpired.
    ``secrets`` (our request header values) are blanked out of any quoted body.
    """
    subject = _capitalised(origin)
    value = _json_value(body, content_type, subject, tuple(secrets))
    if not isinstance(value, dict):
        raise TokenResponseError(f"{subject} answered JSON {_json_kind(value)}, not an object — {_EXPECTED}.")
    server_url = _required_string(value, "server_url", "serverUrl", subject)
    token = _required_string(value, "participant_token", "participantToken", subject)
    details = ConnectionDetails(
        server_url=server_url,
        participant_token=token,
        room_name=_optional_string(value, "room_name", "roomName"),
        participant_name=_optional_string(value, "participant_name", "participantName"),
    )
    check_usable(
        details,
        now=now,
        origin=origin,
        fix=_TOKEN_FIX,
        bad_url=TokenResponseError,
        url_fix=_SERVER_URL_FIX,
        expired_fix=_EXPIRED_FIX,
    )
    return details


def _json_value(body: bytes, content_type: str | None, subject: str, secrets: tuple[str, ...]) -> object:
    if not body.strip():
        raise TokenResponseError(f"{subject} answered an empty body, not JSON — {_EXPECTED}.")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise TokenResponseError(f"{subject} answered a body that is not UTF-8 text — {_EXPECTED}.") from None
    except (ValueError, RecursionError):
        pass
    text = body_text(body, content_type)
    if _looks_like_html(body, content_type):
        raise TokenResponseError(
            f"{subject} answered HTML, not JSON — is the URL the token endpoint itself? "
            f"(page text: {excerpt(text, secrets=secrets) or 'none'})"
        )
    raise TokenResponseError(
        f"{subject} answered something that is not JSON ({excerpt(text, secrets=secrets)}) — {_EXPECTED}."
    )


def _required_string(reply: dict[str, Any], snake: str, camel: str, subject: str) -> str:
    key = snake if reply.get(snake) is not None else camel
    value = reply.get(key)
    if value is None:
        keys = ", ".join(excerpt(str(k), limit=30) for k in list(reply)[:10]) or "none"
        raise TokenResponseError(
            f"{subject} answered JSON without {snake} (or {camel}); its keys: {keys} — {_EXPECTED}."
        )
    if not isinstance(value, str):
        raise TokenResponseError(
            f"{subject} answered a {key} that is JSON {_json_kind(value)}, not a string — {_EXPECTED}."
        )
    if not value.strip():
        raise TokenResponseError(f"{subject} answered an empty {key} — {_EXPECTED}.")
    return value.strip()


def _optional_string(reply: dict[str, Any], snake: str, camel: str) -> str | None:
    """An optional name; a value of the wrong type is ignored, since nothing depends on it."""
    value = reply.get(snake) if reply.get(snake) is not None else reply.get(camel)
    return value if isinstance(value, str) and value else None


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _looks_like_html(body: bytes, content_type: str | None) -> bool:
    return "html" in (content_type or "").lower() or body.lstrip()[:1] == b"<"


def body_text(body: bytes, content_type: str | None) -> str:
    """A reply body as readable text: decoded leniently, with tags dropped from HTML so that an error page's
    excerpt shows its message rather than its markup."""
    text = body.decode("utf-8", errors="replace")
    return _HTML_TAG.sub(" ", text) if _looks_like_html(body, content_type) else text


def display_url(url: str) -> str:
    """``url`` fit for a message: no user name or password, and the query replaced by '?…', since either may
    carry a key."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port, parts = None, None, None
    if parts is None or not parts.scheme or not host:
        return excerpt(re.split(r"[?#]", url, maxsplit=1)[0], limit=80)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    query = f"?{REDACTED}" if parts.query else ""
    return excerpt(f"{parts.scheme}://{netloc}{parts.path}{query}", limit=200)


def _reason(error: Exception) -> str:
    return excerpt(str(error), limit=80) or type(error).__name__


def _capitalised(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


@dataclass(frozen=True)
class _Reply:
    status: int
    reason: str
    content_type: str | None
    location: str | None
    body: bytes
    truncated: bool


class EndpointTokenSource:
    """A user's token server speaking the standard endpoint format (JS ``TokenSource.endpoint``).

    It does not cache by itself; wrap it in :class:`~agent_tui.session.tokens.cache.CachingTokenSource` to
    get the JS behaviour. Redirects are not followed: a redirected POST may lose its body or carry our
    headers to another host, so we name the new location instead and let the user point at it.
    """

    _KIND: ClassVar[str] = "token endpoint"
    _REFUSED_HINT: ClassVar[str] = (
        "The token server refused the request: check the room, participant and agent options it accepts."
    )

    def __init__(
        self,
        url: str,
        *,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = url.strip()
        self._display = display_url(self._url)
        self._origin = f"{self._KIND} {self._display}"
        try:
            parts = urlsplit(self._url)
            scheme, host = parts.scheme.lower(), parts.hostname
        except ValueError:
            scheme, host = "", None
        if scheme not in ("http", "https") or not host:
            raise TokenConfigError(
                f"The {self._KIND} URL {self._display!r} is not an http:// or https:// URL — pass the full "
                "URL of the endpoint, e.g. https://example.com/api/token."
            )
        if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            raise TokenConfigError(f"The {self._KIND} timeout must be a positive number of seconds.")
        self._method = method.strip().upper()
        if not re.fullmatch(r"[A-Z]+", self._method):
            raise TokenConfigError(f"The {self._KIND} method {method!r} is not an HTTP method such as POST.")
        user_headers = dict(headers or {})
        try:
            self._headers = httpx.Headers({"Content-Type": "application/json"})
            self._headers.update(user_headers)
        except (TypeError, ValueError):
            raise TokenConfigError(
                f"The {self._KIND} headers are not valid HTTP headers — names and values must be ASCII text."
            ) from None
        # Our own header values are the secrets we know of: blank them out of any echoed error body.
        self._secrets = tuple(value for value in user_headers.values() if isinstance(value, str))
        self._timeout = float(timeout)
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self._display!r}, method={self._method!r})"

    async def fetch(self, request: TokenRequest, *, force: bool = False) -> ConnectionDetails:
        """Send the request and check the reply; ``force`` is moot, as nothing is cached here."""
        body = json.dumps(request.to_request_json(), separators=(",", ":")).encode()
        subject = _capitalised(self._origin)
        try:
            # httpx's timeout bounds each read; this one bounds the whole exchange, so a server that trickles
            # bytes cannot hold the session start hostage.
            async with asyncio.timeout(self._timeout):
                reply = await self._exchange(body)
        except (TimeoutError, httpx.TimeoutException) as error:
            raise TokenEndpointTimeoutError(
                f"{subject} did not answer within {self._timeout:g} s — check that the token server is up "
                "and responsive, or allow it more time."
            ) from error
        except httpx.ConnectError as error:
            raise TokenEndpointUnreachableError(
                f"Cannot reach {self._origin} ({_reason(error)}) — is the token server running, and are the "
                "host and port right?"
            ) from error
        except httpx.HTTPError as error:
            raise TokenEndpointUnreachableError(
                f"The connection to {self._origin} failed ({_reason(error)}) — check that the URL's scheme "
                "and port match the token server."
            ) from error
        return self._interpret(reply, subject)

    async def _exchange(self, body: bytes) -> _Reply:
        if self._client is not None:
            return await self._send(self._client, body)
        # A client per fetch: fetches are rare, and no pooled connection outlives the event loop that made it.
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            return await self._send(client, body)

    async def _send(self, client: httpx.AsyncClient, body: bytes) -> _Reply:
        async with client.stream(
            self._method,
            self._url,
            content=body,
            headers=self._headers,
            timeout=self._timeout,
            follow_redirects=False,
        ) as response:
            limit = MAX_REPLY_BYTES if response.is_success else _MAX_ERROR_BYTES
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    break
            return _Reply(
                status=response.status_code,
                reason=response.reason_phrase,
                content_type=response.headers.get("content-type"),
                location=response.headers.get("location"),
                body=bytes(data[:limit]),
                truncated=len(data) > limit,
            )

    def _interpret(self, reply: _Reply, subject: str) -> ConnectionDetails:
        status = f"{reply.status} {reply.reason}".strip()
        if 200 <= reply.status < 300:
            if reply.truncated:
                raise TokenResponseError(
                    f"{subject} answered more than {MAX_REPLY_BYTES >> 20} MiB, which is no token reply — "
                    "is the URL the token endpoint itself?"
                )
            return parse_token_response(
                reply.body, reply.content_type, origin=self._origin, now=time.time(), secrets=self._secrets
            )
        if 300 <= reply.status < 400:
            target = display_url(reply.location) if reply.location else "an unnamed location"
            raise TokenEndpointHTTPError(
                f"{subject} answered {status}, a redirect to {target} — use the final URL of the token "
                "endpoint; redirects are not followed so that request headers stay with the host you named.",
                status=reply.status,
            )
        quoted = excerpt(body_text(reply.body, reply.content_type), secrets=self._secrets)
        detail = f": {quoted}" if quoted else " with an empty body"
        raise TokenEndpointHTTPError(
            f"{subject} answered {status}{detail}. {self._hint(reply.status)}", status=reply.status
        )

    def _hint(self, status: int) -> str:
        if status in (401, 403):
            return "Check the credentials (headers) the token server expects."
        if status in (404, 405):
            return "Check the URL path and the HTTP method."
        if 400 <= status < 500:
            return self._REFUSED_HINT
        return "Check the token server's logs."


class SandboxTokenSource(EndpointTokenSource):
    """LiveKit Cloud's development token server (JS ``developmentTokenServer``, Swift ``SandboxTokenSource``).

    Only ``X-Sandbox-ID`` is sent besides the content type, as in JS: the sandbox needs nothing else and
    must never see headers meant for another server. The id is trimmed of leading and trailing
    non-alphanumerics, as Swift does, because it is usually pasted from a web page. Development only: anyone
    who knows the id can mint tokens for the project.
    """

    _KIND: ClassVar[str] = "sandbox token server"
    _REFUSED_HINT: ClassVar[str] = "Check the sandbox id, and that the sandbox still exists in LiveKit Cloud."

    def __init__(
        self,
        sandbox_id: str,
        *,
        base_url: str = DEFAULT_SANDBOX_BASE_URL,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        trimmed = _trim_non_alphanumeric(sandbox_id)
        if not trimmed:
            raise TokenConfigError(
                "The sandbox id is empty — copy it from the sandbox's page in LiveKit Cloud."
            )
        super().__init__(
            base_url.strip().rstrip("/") + SANDBOX_PATH,
            headers={"X-Sandbox-ID": trimmed},
            timeout=timeout,
            client=client,
        )

    def _hint(self, status: int) -> str:
        return self._REFUSED_HINT if status in (401, 403, 404) else super()._hint(status)


def _trim_non_alphanumeric(text: str) -> str:
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[start:end]
