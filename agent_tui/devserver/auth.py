"""Token admission: who may join which room with which rights.

LiveKit refuses a bad token at the HTTP layer, before the WebSocket upgrade, with a 401 and a one-line
reason; the rtc SDK then asks ``/rtc/v1/validate`` for that reason and reports it without retrying. The
dev server does the same so that a client pointed at it sees the refusal it would see in production and
can turn it into its "token rejected" error. Unlike LiveKit, the reason never repeats the token: it is
printed in logs and terminals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import cast

import jwt
from livekit import api
from livekit.api.access_token import Claims
from livekit.protocol.models import ParticipantInfo, ParticipantPermission, TrackSource
from livekit.protocol.room import RoomConfiguration

_BEARER = "Bearer "


class TokenRefused(Exception):
    """The request's token does not admit it; ``status`` and ``str(self)`` form the HTTP refusal."""

    def __init__(self, reason: str, *, status: HTTPStatus = HTTPStatus.UNAUTHORIZED) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class ParticipantGrant:
    """What a verified token says about its holder, reduced to what the room enforces."""

    identity: str
    room: str
    name: str = ""
    kind: ParticipantInfo.Kind = ParticipantInfo.Kind.STANDARD
    metadata: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    can_publish: bool = True
    # None: any source may be published (if can_publish); otherwise only these TrackSource values.
    can_publish_sources: frozenset[int] | None = None
    can_subscribe: bool = True
    can_publish_data: bool = True
    can_update_own_metadata: bool = False
    hidden: bool = False
    # The token's room configuration; a dispatcher reads its ``agents`` when this holder creates the room.
    room_config: RoomConfiguration | None = None

    def may_publish_source(self, source: int) -> bool:
        """Whether a track of ``source`` (a TrackSource value) may be published by this holder."""
        if self.can_publish_sources is not None:
            return source in self.can_publish_sources
        return self.can_publish

    def permission(self) -> ParticipantPermission:
        """The ``ParticipantInfo.permission`` the SDK shows for this holder."""
        perm = ParticipantPermission(
            can_publish=self.can_publish or bool(self.can_publish_sources),
            can_subscribe=self.can_subscribe,
            can_publish_data=self.can_publish_data,
            can_update_metadata=self.can_update_own_metadata,
            hidden=self.hidden,
            agent=self.kind == ParticipantInfo.Kind.AGENT,
        )
        if self.can_publish_sources is not None:
            perm.can_publish_sources.extend(sorted(self.can_publish_sources))  # type: ignore[arg-type]
        return perm


def bearer_token(authorization: str | None, access_token_param: str | None) -> str | None:
    """The token a request carries: the Bearer header (current SDKs) or ``access_token`` (older ones)."""
    if authorization:
        if not authorization.startswith(_BEARER):
            raise TokenRefused("invalid authorization header. Must start with Bearer ")
        return authorization[len(_BEARER) :].strip()
    return access_token_param or None


class TokenAuthority:
    """Verifies tokens signed with one API key pair and turns them into :class:`ParticipantGrant`."""

    def __init__(self, api_key: str, api_secret: str) -> None:
        self._api_key = api_key
        self._verifier = api.TokenVerifier(api_key, api_secret)

    def admit(self, token: str | None) -> ParticipantGrant:
        """The grant for ``token``, or :class:`TokenRefused` with the reason LiveKit would give.

        The room is the token's: a ``room`` query parameter is ignored, as livekit-server ignores it.
        """
        claims = self.verify(token)
        video = claims.video
        if video is None or not video.room_join:
            raise TokenRefused("permissions denied: the token has no roomJoin grant")
        if not video.room:
            raise TokenRefused("permissions denied: the token names no room")
        if not claims.identity:
            raise TokenRefused("participant identity cannot be empty", status=HTTPStatus.BAD_REQUEST)

        sources: frozenset[int] | None = None
        if video.can_publish_sources is not None:
            sources = frozenset(_track_source(name) for name in video.can_publish_sources)
        return ParticipantGrant(
            identity=claims.identity,
            room=video.room,
            name=claims.name or "",
            kind=_participant_kind(claims.kind),
            metadata=claims.metadata or "",
            attributes=dict(claims.attributes or {}),
            can_publish=bool(video.can_publish),
            can_publish_sources=sources,
            can_subscribe=bool(video.can_subscribe),
            can_publish_data=bool(video.can_publish_data),
            can_update_own_metadata=bool(video.can_update_own_metadata),
            hidden=bool(video.hidden),
            room_config=claims.room_config,
        )

    def verify(self, token: str | None) -> Claims:
        """The claims of a token signed with this key pair, or :class:`TokenRefused` saying why not."""
        if not token:
            raise TokenRefused("permissions denied: no access token (send it as 'Authorization: Bearer …')")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise TokenRefused(f"invalid authorization token: {error}") from None
        issuer = unverified.get("iss")
        if issuer != self._api_key:
            raise TokenRefused(f"invalid API key: {issuer!s}")
        try:
            return self._verifier.verify(token)
        except jwt.ExpiredSignatureError:
            raise TokenRefused("invalid token: the token has expired; mint a new one") from None
        except jwt.PyJWTError as error:
            raise TokenRefused(f"invalid token: {error}") from None

    def admit_worker(self, token: str | None) -> None:
        """Admit an agent worker to ``/agent``: as livekit-server, only a token with the ``agent`` grant."""
        claims = self.verify(token)
        if claims.video is None or not claims.video.agent:
            raise TokenRefused("permissions denied: the token has no agent grant")

    def admit_api(
        self,
        token: str | None,
        *,
        room_admin: str | None = None,
        room_list: bool = False,
        room_create: bool = False,
    ) -> None:
        """Admit a server API call: ``room_admin`` names the room the call acts on, ``room_list`` and
        ``room_create`` ask for those rights (livekit-api signs DeleteRoom with ``roomCreate``). A missing
        or bad token is ``TokenRefused`` (401); a valid one without the grant is ``TokenRefused`` with
        403, which the Twirp layer reports as livekit-server does: ``unauthenticated`` (401)."""
        claims = self.verify(token)
        video = claims.video
        if room_admin is not None and not (
            video is not None and video.room_admin and (not video.room or video.room == room_admin)
        ):
            raise TokenRefused(
                f"permissions denied: the token has no roomAdmin grant for room {room_admin!r}",
                status=HTTPStatus.FORBIDDEN,
            )
        if room_list and not (video is not None and video.room_list):
            raise TokenRefused(
                "permissions denied: the token has no roomList grant", status=HTTPStatus.FORBIDDEN
            )
        if room_create and not (video is not None and video.room_create):
            raise TokenRefused(
                "permissions denied: the token has no roomCreate grant", status=HTTPStatus.FORBIDDEN
            )


def _participant_kind(kind: str) -> ParticipantInfo.Kind:
    try:
        return cast(ParticipantInfo.Kind, ParticipantInfo.Kind.Value(kind.upper()))
    except ValueError:
        return ParticipantInfo.Kind.STANDARD


def _track_source(name: str) -> int:
    try:
        return TrackSource.Value(name.upper())
    except ValueError:
        raise TokenRefused(f"invalid token: unknown track source {name!r} in canPublishSources") from None
