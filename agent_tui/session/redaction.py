"""Scrubbing of secrets from text that may reach a screen, a log or a file.

Error texts from servers and from the rtc SDK can echo URLs, headers or tokens back at us. Everything
the core turns into a user-facing message goes through :func:`redact` first, so a token can never
leak through an error path nobody thought of.
"""

from __future__ import annotations

import re

#: A JWT: three base64url segments, the first two starting with ``eyJ`` ('{"' encoded).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
#: ``Bearer <anything>`` and ``access_token=<anything>`` as they appear in echoed requests.
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,;\"']+")
_QUERY_TOKEN = re.compile(
    r"(?i)((?:access_token|token|secret|api_secret|api_key|password)[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+"
)
#: Long unbroken runs of key-like characters: API secrets are 32+ characters of this shape.
_LONG_RUN = re.compile(r"\b[A-Za-z0-9+/_-]{40,}={0,2}")
#: A piece of a run between slashes that mixes cases and digits, as random keys do and words do not.
_RANDOM_PIECE = re.compile(r"(?=[^/]*[a-z])(?=[^/]*[A-Z])(?=[^/]*[0-9])[^/]{8,}")

REDACTED = "…"


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with tokens, bearer values, token query parameters and the given secrets removed."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _QUERY_TOKEN.sub(lambda m: m.group(1) + REDACTED, text)
    return _LONG_RUN.sub(lambda m: REDACTED if _is_secret(m.group()) else m.group(), text)


def _is_secret(run: str) -> bool:
    """Whether a long run of key characters is a secret rather than a file path.

    A base64 key may hold ``/`` as a path does, so a run with slashes is a key when it has base64's
    other marks (``+``, ``=`` padding) or a piece that looks random (upper, lower case and digits);
    otherwise it is a path such as ``/tmp/pytest-of-root/...``, which an error about a file must show.
    """
    if "/" not in run or "+" in run or run.endswith("="):
        return True
    return any(_RANDOM_PIECE.fullmatch(piece) for piece in run.split("/"))
