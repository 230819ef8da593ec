"""The values that cross the TokenSource boundary: what we ask for and what we get back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent_tui.session.errors import TokenSourceError
from agent_tui.session.tokens import jwt_claims
from agent_tui.session.tokens.excerpt import excerpt


class _FrozenAttributes(Mapping[str, str]):
    """A read-only, hashable copy of participant attributes.

    :class:`TokenRequest` is a cache key, so it must be hashable and compare by value; a plain dict is
    neither hashable nor safe from the caller mutating it after the request was cached.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _FrozenAttributes):
            return self._items == other._items
        return super().__eq__(other)

    def __repr__(self) -> str:
        return repr(self._items)


@dataclass(frozen=True)
class TokenRequest:
    """The fetch options of the Session API (JS ``TokenSourceFetchOptions``), as one immutable value.

    Two requests are equal when their values are equal, attributes included. The JS SDK compares options
    shallowly, so an attributes object rebuilt with the same content counts as a change and defeats the
    token cache; comparing by value is a deliberate improvement over that.
    """

    room_name: str | None = None
    participant_name: str | None = None
    participant_identity: str | None = None
    participant_metadata: str | None = None
    participant_attributes: Mapping[str, str] = field(default_factory=_FrozenAttributes)
    agent_name: str | None = None
    agent_metadata: str | None = None
    agent_deployment: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.participant_attributes, _FrozenAttributes):
            object.__setattr__(self, "participant_attributes", _FrozenAttributes(self.participant_attributes))

    @property
    def names_agent(self) -> bool:
        """Whether the request asks for an agent dispatch.

        ``agent_name=""`` counts: an empty name in ``RoomAgentDispatch`` dispatches the project's unnamed
        agent, which is different from asking for no agent at all.
        """
        return any(v is not None for v in (self.agent_name, self.agent_metadata, self.agent_deployment))

    def to_request_json(self) -> dict[str, Any]:
        """The standard token-endpoint request body (livekit/protocol ``TokenSourceRequest``).

        Unset options are omitted, as the JS SDK does, so a server that inspects the body sees only what the
        user asked for; ``room_config`` appears only when an agent field is set.
        """
        body: dict[str, Any] = {
            key: value
            for key, value in (
                ("room_name", self.room_name),
                ("participant_name", self.participant_name),
                ("participant_identity", self.participant_identity),
                ("participant_metadata", self.participant_metadata),
            )
            if value is not None
        }
        if self.participant_attributes:
            body["participant_attributes"] = dict(self.participant_attributes)
        if self.names_agent:
            agent = {
                key: value
                for key, value in (
                    ("agent_name", self.agent_name),
                    ("metadata", self.agent_metadata),
                    ("deployment", self.agent_deployment),
                )
                if value is not None
            }
            body["room_config"] = {"agents": [agent]}
        return body


@dataclass(frozen=True)
class ConnectionDetails:
    """What a token source hands back (``TokenSourceResponse``): where to connect and with what token.

    The token is left out of ``repr`` so that logging a response, or an exception that carries one in its
    locals, never leaks a credential.
    """

    server_url: str
    participant_token: str = field(repr=False)
    room_name: str | None = None
    participant_name: str | None = None

    @property
    def claims(self) -> dict[str, Any]:
        """The token's JWT payload, signature unchecked (a client never holds the secret to check it)."""
        return jwt_claims.decode_claims(self.participant_token)

    @property
    def expires_at(self) -> float | None:
        return jwt_claims.expires_at(self.claims)

    @property
    def not_before(self) -> float | None:
        return jwt_claims.not_before(self.claims)

    @property
    def granted_room(self) -> str | None:
        """The room the token's video grant names: where the server will put us, whatever we asked."""
        video = self.claims.get("video")
        room = video.get("room") if isinstance(video, dict) else None
        return room if isinstance(room, str) and room else None

    def agent_names(self) -> list[str]:
        """Names of the agents the token dispatches; ``""`` stands for the project's unnamed agent.

        livekit-api writes ``roomConfig`` as protobuf JSON with camelCase keys (``agentName``), other
        minters may write snake_case (``agent_name``); both are read.
        """
        claims = self.claims
        room_config = claims.get("roomConfig", claims.get("room_config"))
        agents = room_config.get("agents") if isinstance(room_config, dict) else None
        if not isinstance(agents, list):
            return []
        names: list[str] = []
        for agent in agents:
            if isinstance(agent, dict):
                name = agent.get("agentName", agent.get("agent_name"))
                names.append(name if isinstance(name, str) else "")
        return names

    def dispatches_agent(self) -> bool:
        """Whether joining with this token makes the server dispatch an agent, so the Session should wait for
        one (JS ``useSession.start``, Swift ``dispatchesAgent()``)."""
        return bool(self.agent_names())


_SERVER_URL_SCHEMES = ("wss", "ws", "https", "http")


def check_usable(
    details: ConnectionDetails,
    *,
    now: float | None,
    origin: str,
    fix: str,
    bad_url: type[TokenSourceError],
    url_fix: str | None = None,
    expired_fix: str | None = None,
) -> None:
    """Raise unless ``details`` can be passed to ``room.connect``: a LiveKit URL and a readable JWT that has
    not expired (checked only when ``now`` is given).

    Every source checks here, at fetch time, so a bad token fails with a message naming where it came from
    (``origin``, e.g. "token endpoint https://…") instead of later inside the rtc SDK, which cannot know.
    ``bad_url`` is the error class for a wrong URL because whose fault it is differs: the user's for a
    literal, the server's for a reply. ``fix`` says what to do about an unreadable token; ``url_fix`` and
    ``expired_fix`` replace it where the remedy differs (a wrong field, a clock or TTL).
    """
    scheme, _, rest = details.server_url.partition("://")
    if scheme.lower() not in _SERVER_URL_SCHEMES or not rest.strip("/"):
        shown = excerpt(details.server_url, limit=60)
        raise bad_url(
            f"The server URL from {origin} ({shown!r}) is not a ws://, wss://, http:// or https:// URL "
            f"— {url_fix or fix}."
        )
    subject = f"The participant token from {origin}"
    claims = jwt_claims.decode_claims(details.participant_token, subject=subject, fix=fix)
    if now is not None:
        jwt_claims.check_not_expired(claims, now, subject=subject, fix=expired_fix or fix)
