"""A token endpoint on the dev server, in LiveKit's standard format, for web front ends under development.

A web app's ``TokenSource.endpoint("http://127.0.0.1:7880/token")`` (livekit-client 2.21+, components-js,
the agents playground) then works against ``agent-tui dev-server`` with no token server of the user's own:
``POST /token`` with a ``TokenSourceRequest`` body (snake_case: ``room_name``, ``participant_identity``,
``participant_name``, ``participant_metadata``, ``participant_attributes``, ``room_config`` — passed into
the token as LiveKit's docs say an endpoint should, so ``room_config.agents`` dispatches an agent) answers
201 ``{"server_url", "participant_token"}``. Anyone who can reach the server can get a token from it: it is
a development convenience on a server that binds 127.0.0.1 unless told otherwise, as the sandbox token
server is on LiveKit Cloud.
"""

from __future__ import annotations

import datetime
import json
import secrets
from collections.abc import Mapping
from typing import Any, Final

from google.protobuf import json_format
from livekit import api
from livekit.protocol.room import RoomConfiguration

__all__ = ["TOKEN_PATH", "TokenRequestError", "mint_for_request"]

TOKEN_PATH: Final = "/token"
TOKEN_TTL: Final = datetime.timedelta(hours=1)
MAX_BODY: Final = 64 * 1024
_TEXT_FIELDS: Final = ("room_name", "participant_identity", "participant_name", "participant_metadata")


class TokenRequestError(ValueError):
    """The request cannot be answered with a token; the message says why (sent back with 400)."""


def mint_for_request(body: bytes, *, server_url: str, api_key: str, api_secret: str) -> dict[str, str]:
    """The endpoint's answer to ``body`` (the request's JSON), or :class:`TokenRequestError`."""
    try:
        request = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise TokenRequestError("the body is not JSON (a TokenSourceRequest, snake_case keys)") from None
    if not isinstance(request, dict):
        raise TokenRequestError("the body must be a JSON object (a TokenSourceRequest)")
    for key in _TEXT_FIELDS:
        if not isinstance(request.get(key, ""), str):
            raise TokenRequestError(f"{key} must be a string")
    attributes = request.get("participant_attributes") or {}
    if not isinstance(attributes, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
    ):
        raise TokenRequestError("participant_attributes must map strings to strings")
    room = request.get("room_name") or f"web-{secrets.token_hex(4)}"
    identity = request.get("participant_identity") or f"web-user-{secrets.token_hex(3)}"
    token = (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(request.get("participant_name") or identity)
        .with_metadata(request.get("participant_metadata") or "")
        .with_attributes(dict(attributes))
        .with_ttl(TOKEN_TTL)
        .with_grants(
            api.VideoGrants(
                room_join=True,
                room=room,
                can_publish=True,
                can_subscribe=True,
                can_publish_data=True,
                can_update_own_metadata=True,
            )
        )
    )
    config = request.get("room_config")
    if config:
        token = token.with_room_config(_room_config(config))
    return {"server_url": server_url, "participant_token": token.to_jwt()}


def _room_config(value: Any) -> RoomConfiguration:
    if not isinstance(value, dict):
        raise TokenRequestError("room_config must be a JSON object (a RoomConfiguration)")
    try:
        return json_format.ParseDict(value, RoomConfiguration(), ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise TokenRequestError(f"room_config is not a RoomConfiguration: {error}") from None
