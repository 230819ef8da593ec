"""Which token source a run uses, decided from the settings in one documented order.

Order, first match wins: a literal token (``--token-file``, ``LIVEKIT_TOKEN`` or ``--token``; needs the
server URL) > ``--token-endpoint`` > ``--sandbox-id`` > minting locally when the URL, API key and API
secret are all set. The explicit choices come first because a user who typed one on the command line
means it, even when ``LIVEKIT_*`` variables are also set in their shell (and the command line switches off
the other explicit ways that lower layers set: :func:`agent_tui.cli.cli_settings`). Endpoint, sandbox and
local tokens are cached (and refreshed before they expire) the way the other SDKs cache them; a literal
token is the caller's and is used as given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_tui.config import ConfigError, Settings

if TYPE_CHECKING:
    from agent_tui.session import TokenSource

NO_TOKEN_SOURCE = (
    "No way to get a token is configured — pass --token-file PATH (or set LIVEKIT_TOKEN) with --url URL, "
    "--token-endpoint URL, or --sandbox-id ID, or set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET "
    "(environment or config file)."
)


def choose_token_source(settings: Settings) -> TokenSource:
    """The token source for ``settings``; :class:`ConfigError` (exit 2) when none or a half one is set.

    The sources' own configuration errors (a malformed endpoint URL, an empty sandbox id) are
    configuration mistakes, so they are re-raised as :class:`ConfigError` with the source's message.
    """
    from agent_tui.session import (
        CachingTokenSource,
        EndpointTokenSource,
        LiteralTokenSource,
        LocalTokenSource,
        SandboxTokenSource,
        TokenConfigError,
    )

    try:
        if settings.token is not None:
            if settings.url is None:
                raise ConfigError(
                    "A token minted elsewhere (--token-file, LIVEKIT_TOKEN or --token) needs the LiveKit "
                    "server URL — pass --url wss://… or set LIVEKIT_URL."
                )
            return LiteralTokenSource(settings.url, settings.token.get_secret_value())
        if settings.token_endpoint is not None:
            return CachingTokenSource(
                EndpointTokenSource(
                    settings.token_endpoint,
                    method=settings.token_endpoint_method,
                    headers=settings.token_endpoint_headers or None,
                )
            )
        if settings.sandbox_id is not None:
            return CachingTokenSource(SandboxTokenSource(settings.sandbox_id))
        key, secret = settings.api_key, settings.api_secret
        if settings.url is not None and key is not None and secret is not None:
            return CachingTokenSource(LocalTokenSource(settings.url, key, secret.get_secret_value()))
    except TokenConfigError as error:
        raise ConfigError(str(error)) from None
    raise ConfigError(_missing_message(settings))


def _missing_message(settings: Settings) -> str:
    """Name the missing pieces of a half-done local set-up, which is the likeliest intent."""
    have = {"LIVEKIT_API_KEY": settings.api_key, "LIVEKIT_API_SECRET": settings.api_secret}
    if not any(value is not None for value in have.values()):
        return NO_TOKEN_SOURCE
    missing = [name for name, value in have.items() if value is None]
    if settings.url is None:
        missing.insert(0, "LIVEKIT_URL (or --url)")
    return (
        f"Minting a token locally needs {' and '.join(missing)} as well — set them in the environment or "
        "the config file, or choose --token-file, --token-endpoint or --sandbox-id instead."
    )
