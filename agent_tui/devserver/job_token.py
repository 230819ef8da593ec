"""The room-join token the server mints for an assigned agent job.

A worker never holds room tokens of its own: it answers an availability request with the identity,
name, metadata and attributes its job will use, and the server signs a token carrying exactly those,
as livekit-server's ``BuildAgentToken`` does. The participant is of kind AGENT (clients find the agent
by kind) and gets the permissions the worker registered with. livekit-server also adds
``lk.agent_name`` (underscore; the worker's own answer carries ``lk.agent.name``), which some client
SDKs read, so both spellings end up on the agent participant.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Final

from livekit import api
from livekit.protocol.models import ParticipantPermission, TrackSource

AGENT_NAME_ATTRIBUTE: Final = "lk.agent_name"
# As livekit-server: long enough for any job to join, and for the worker's own reconnects.
JOB_TOKEN_TTL: Final = datetime.timedelta(hours=1)


def mint_job_token(
    api_key: str,
    api_secret: str,
    *,
    room: str,
    identity: str,
    name: str,
    metadata: str,
    attributes: Mapping[str, str],
    agent_name: str,
    permissions: ParticipantPermission,
) -> str:
    """A signed room-join token for the agent participant of one job."""
    grants = api.VideoGrants(
        room_join=True,
        room=room,
        agent=True,
        can_publish=permissions.can_publish,
        can_subscribe=permissions.can_subscribe,
        can_publish_data=permissions.can_publish_data,
        can_update_own_metadata=permissions.can_update_metadata,
        hidden=permissions.hidden,
    )
    if permissions.can_publish_sources:
        grants.can_publish_sources = [
            TrackSource.Name(source).lower() for source in permissions.can_publish_sources
        ]
    all_attributes = dict(attributes)
    if agent_name:
        all_attributes.setdefault(AGENT_NAME_ATTRIBUTE, agent_name)
    return (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(name)
        .with_kind("agent")
        .with_metadata(metadata)
        .with_attributes(all_attributes)
        .with_grants(grants)
        .with_ttl(JOB_TOKEN_TTL)
        .to_jwt()
    )
