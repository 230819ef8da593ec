"""Minting the participant token in-process from the project's API key and secret.

This is what ``lk token create --join --agent …`` does, moved inside the client, so a developer who has
``LIVEKIT_URL``/``LIVEKIT_API_KEY``/``LIVEKIT_API_SECRET`` set (as every LiveKit quick start asks) can talk
to an agent without running a token server. It holds the secret, so it is for development and trusted
machines only, and nothing here ever prints it.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta

from livekit.api import AccessToken, RoomAgentDispatch, RoomConfiguration, VideoGrants

from agent_tui.session.errors import TokenConfigError
from agent_tui.session.tokens.details import ConnectionDetails, TokenRequest

URL_ENV = "LIVEKIT_URL"
API_KEY_ENV = "LIVEKIT_API_KEY"
API_SECRET_ENV = "LIVEKIT_API_SECRET"
DEFAULT_TTL = timedelta(hours=6)


class LocalTokenSource:
    """Tokens minted here with ``livekit-api``, granting what a voice-agent user needs and nothing more.

    The grants let the user join the one room, publish the microphone, subscribe to the agent, send chat
    and RPC data, and set their own attributes (push-to-talk and similar features use them). When the
    request names an agent, the token carries ``RoomConfiguration.agents`` so that the server dispatches
    it when the room is created, exactly like ``lk token create --agent``.
    """

    def __init__(
        self,
        server_url: str,
        api_key: str,
        api_secret: str,
        *,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        missing = [
            name
            for name, value in ((URL_ENV, server_url), (API_KEY_ENV, api_key), (API_SECRET_ENV, api_secret))
            if not value or not value.strip()
        ]
        if missing:
            raise TokenConfigError(_missing_message(missing))
        seconds = ttl.total_seconds()
        if not math.isfinite(seconds) or seconds <= 0:
            raise TokenConfigError("The token TTL must be a positive duration.")
        self._server_url = server_url.strip()
        self._api_key = api_key.strip()
        self._api_secret = api_secret.strip()
        self._ttl = ttl

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> LocalTokenSource | None:
        """The source configured by the environment, or ``None`` when no API credentials are set.

        ``LIVEKIT_URL`` alone is not a request to mint (it also pairs with a literal token), so it yields
        ``None``; but a key without its secret, or credentials without a URL, is a half-done setup that the
        user should hear about rather than fall through to another source silently.
        """
        url, key, secret = (env.get(name, "").strip() for name in (URL_ENV, API_KEY_ENV, API_SECRET_ENV))
        if not key and not secret:
            return None
        return cls(url, key, secret)

    def __repr__(self) -> str:
        return f"LocalTokenSource(server_url={self._server_url!r}, ttl={self._ttl!r})"

    async def fetch(self, request: TokenRequest, *, force: bool = False) -> ConnectionDetails:
        """A freshly minted token on every call; minting is a local HMAC, so there is nothing to cache."""
        if not request.room_name:
            raise TokenConfigError(
                "A locally minted token needs a room name — pass one in the token request."
            )
        identity = request.participant_identity or f"agent-tui-{secrets.token_hex(4)}"
        token = (
            AccessToken(self._api_key, self._api_secret)
            .with_identity(identity)
            .with_name(request.participant_name or identity)
            .with_kind("standard")
            .with_ttl(self._ttl)
            .with_grants(
                VideoGrants(
                    room_join=True,
                    room=request.room_name,
                    can_publish=True,
                    can_subscribe=True,
                    can_publish_data=True,
                    can_update_own_metadata=True,
                )
            )
        )
        if request.participant_metadata:
            token.with_metadata(request.participant_metadata)
        if request.participant_attributes:
            token.with_attributes(dict(request.participant_attributes))
        if request.names_agent:
            token.with_room_config(
                RoomConfiguration(
                    agents=[
                        RoomAgentDispatch(
                            agent_name=request.agent_name or "",
                            metadata=request.agent_metadata or "",
                            deployment=request.agent_deployment or "",
                        )
                    ]
                )
            )
        return ConnectionDetails(
            server_url=self._server_url,
            participant_token=token.to_jwt(),
            room_name=request.room_name,
            participant_name=request.participant_name or identity,
        )


def _missing_message(missing: list[str]) -> str:
    names = " and ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"{names} {verb} not set — set {API_KEY_ENV}, {API_SECRET_ENV} and {URL_ENV} to the project's "
        "values (as for `lk`), or use a token endpoint or sandbox instead."
    )
