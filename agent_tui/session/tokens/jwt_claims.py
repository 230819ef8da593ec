"""Reading a participant token's claims without its signing secret.

A client never holds the API secret, yet it must know when a token expires (to cache it) and whether it
dispatches an agent (to wait for one). Both live in the JWT payload, which is only base64url-encoded, so we
decode it ourselves: a hand-written decoder lets every malformed input end in one
:class:`~agent_tui.session.errors.TokenInvalidError` with a message that names the defect and never echoes
the token, which a general JWT library's exceptions do not promise.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from agent_tui.session.errors import TokenInvalidError

#: Refresh this many seconds before ``exp``, as the JS and Swift SDKs do, so a token handed to
#: ``room.connect`` cannot expire during the signalling handshake.
EXPIRY_LEEWAY_SECONDS = 60.0

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def decode_claims(
    token: str,
    *,
    subject: str = "The participant token",
    fix: str = "check where the token comes from",
) -> dict[str, Any]:
    """The JWT payload of ``token``, signature unchecked.

    ``subject`` and ``fix`` let each caller say which token it was and what the user should do, because a
    generic "bad JWT" leaves them guessing whether the flag, the endpoint or the sandbox is at fault.
    """
    try:
        return _decode(token)
    except _MalformedError as error:
        raise TokenInvalidError(f"{subject} is not a readable JWT ({error}) — {fix}.") from None


class _MalformedError(Exception):
    """What is wrong with a token, worded without any of the token's text."""


def _decode(token: object) -> dict[str, Any]:
    if not isinstance(token, str):
        raise _MalformedError("it is not a string")
    parts = token.strip().split(".")
    if parts == [""]:
        raise _MalformedError("it is empty")
    if len(parts) != 3:
        plural = "" if len(parts) == 1 else "s"
        raise _MalformedError(f"it has {len(parts)} dot-separated part{plural}, a JWT has 3")
    _json_object(parts[0], "header")
    claims = _json_object(parts[1], "payload")
    for name in ("exp", "nbf"):
        if name in claims and _as_seconds(claims[name]) is None:
            raise _MalformedError(f"its {name} claim is not a number of seconds")
    return claims


def _json_object(segment: str, name: str) -> dict[str, Any]:
    if not segment:
        raise _MalformedError(f"its {name} is empty")
    if _BASE64URL.fullmatch(segment) is None:
        raise _MalformedError(f"its {name} is not base64url")
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError):
        raise _MalformedError(f"its {name} is not base64url-encoded UTF-8") from None
    except (ValueError, RecursionError):
        raise _MalformedError(f"its {name} is not JSON") from None
    if not isinstance(value, dict):
        raise _MalformedError(f"its {name} is not a JSON object")
    return value


def _as_seconds(value: object) -> float | None:
    """A JSON number as a float; ``None`` for anything else, including ints too large for a float."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None


def _number_claim(claims: Mapping[str, Any], name: str) -> float | None:
    return _as_seconds(claims.get(name))


def expires_at(claims: Mapping[str, Any]) -> float | None:
    """``exp`` as Unix seconds, or ``None`` when the token does not say."""
    return _number_claim(claims, "exp")


def not_before(claims: Mapping[str, Any]) -> float | None:
    """``nbf`` as Unix seconds, or ``None`` when the token does not say."""
    return _number_claim(claims, "nbf")


def is_token_fresh(claims: Mapping[str, Any], now: float, leeway: float = EXPIRY_LEEWAY_SECONDS) -> bool:
    """Whether a cached token may be handed out again: ``nbf ≤ now < exp - leeway``.

    A token that lacks ``nbf`` or ``exp`` counts as fresh, as in the JS SDK: without them we cannot know
    better, and the server will say so if it disagrees. A claim present but not a number counts as stale,
    because refetching is the safe way out of a token we cannot read.
    """
    if "nbf" not in claims or "exp" not in claims:
        return True
    nbf, exp = not_before(claims), expires_at(claims)
    if nbf is None or exp is None:
        return False
    return nbf <= now < exp - leeway


def check_not_expired(claims: Mapping[str, Any], now: float, *, subject: str, fix: str) -> None:
    """Raise :class:`TokenInvalidError` if ``exp`` has passed.

    No leeway here, unlike :func:`is_token_fresh`: a token with a few seconds left can still join, and
    rejecting it would turn a short TTL into a hard failure instead of a refetch next time.
    """
    exp = expires_at(claims)
    if exp is not None and exp <= now:
        raise TokenInvalidError(
            f"{subject} expired at {format_unix_time(exp)} ({_ago(now - exp)} ago) — {fix}."
        )


def format_unix_time(seconds: float) -> str:
    """UTC, to the second, so messages from machines in different zones read the same."""
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return f"Unix time {seconds:.0f}"


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
