"""A room: who is in it, what they publish, and who hears what.

The room is the only place that knows every participant, so it does the fan-out: participant updates
to everyone, new tracks to every auto-subscribing participant, data packets to their recipients. It is
created by the first join (remembering that participant's grant, whose room configuration names the
agents a dispatcher would send) and closed ``departure_timeout`` seconds after the last one leaves;
agents do not count, so a room where only agents remain closes too, removing them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from livekit.protocol.models import DataPacket, DisconnectReason, ParticipantInfo
from livekit.protocol.models import Room as RoomInfo
from livekit.protocol.rtc import JoinRequest, JoinResponse, SignalResponse

from .auth import ParticipantGrant
from .data_routing import recipients, stamp_sender
from .data_track_router import DataTrackRouter
from .identifiers import ROOM_PREFIX, new_sid
from .participant import Participant, participant_update
from .server_info import SERVER_INFO, SignalTiming
from .tracks import PublishedTrack

_log = logging.getLogger("agent_tui.devserver")

Spawn = Callable[[Coroutine[Any, Any, None]], object]


class Room:
    """One named room; see the module docstring."""

    def __init__(
        self,
        name: str,
        *,
        creator: ParticipantGrant,
        departure_timeout: float,
        spawn: Spawn,
        on_empty: Callable[[Room], object],
        timing: SignalTiming | None = None,
    ) -> None:
        self.name = name
        self.timing = timing or SignalTiming()
        self.sid = new_sid(ROOM_PREFIX)
        self.creator = creator
        self.created_at = time.time()
        self.departure_timeout = departure_timeout
        self.participants: dict[str, Participant] = {}
        self.data_tracks = DataTrackRouter()
        self._spawn = spawn
        self._on_empty = on_empty

    def info(self) -> RoomInfo:
        """The room as clients see it."""
        return RoomInfo(
            sid=self.sid,
            name=self.name,
            departure_timeout=int(self.departure_timeout),
            creation_time=int(self.created_at),
            creation_time_ms=int(self.created_at * 1000),
            num_participants=len(self.participants),
            num_publishers=sum(1 for p in self.participants.values() if p.published),
        )

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` as a server-owned background task (awaited at shutdown)."""
        self._spawn(coroutine)

    async def join(self, grant: ParticipantGrant, request: JoinRequest) -> Participant:
        """Admit a client: replace a stale session of the same identity, answer with the JoinResponse."""
        stale = self.participants.get(grant.identity)
        if stale is not None:
            await self.remove(stale, DisconnectReason.DUPLICATE_IDENTITY, notify=True)
        participant = Participant(self, grant, request)
        others = [p for p in self.participants.values() if not p.grant.hidden]
        self.participants[participant.identity] = participant
        participant.send(
            SignalResponse(
                join=JoinResponse(
                    room=self.info(),
                    participant=participant.info(),
                    other_participants=[p.info() for p in others],
                    server_version=SERVER_INFO.version,
                    server_info=SERVER_INFO,
                    ping_interval=self.timing.ping_interval_s,
                    ping_timeout=self.timing.ping_timeout_s,
                    ice_servers=[],
                )
            )
        )
        if not grant.hidden:
            update = participant_update(participant.info())
            for other in others:
                other.send(update)
        if participant.auto_subscribe:
            for other in others:
                for published in other.published.values():
                    participant.subscribe(published)
        _log.info(
            "join room=%s identity=%s kind=%s",
            self.name,
            participant.identity,
            ParticipantInfo.Kind.Name(grant.kind),
        )
        return participant

    async def remove(self, participant: Participant, reason: DisconnectReason, *, notify: bool) -> None:
        """Take ``participant`` out of the room and close it; others see it disconnect."""
        if self.participants.get(participant.identity) is not participant:
            return
        del self.participants[participant.identity]
        for published in list(participant.published.values()):
            self.track_unpublished(participant, published)
        lost_data_tracks = self.data_tracks.participant_left(participant.identity)
        await participant.close(reason, notify=notify)
        if not participant.grant.hidden:
            update = participant_update(participant.info())
            for other in self.participants.values():
                other.send(update)
        self.send_data_track_handles(lost_data_tracks)
        _log.info(
            "leave room=%s identity=%s reason=%s",
            self.name,
            participant.identity,
            DisconnectReason.Name(reason),
        )
        if not self.participants or (participant.grant.kind != ParticipantInfo.Kind.AGENT and self.abandoned):
            self._on_empty(self)

    @property
    def abandoned(self) -> bool:
        """No one but agents is left. As on livekit-server, agents do not keep a room open: once the
        departure timeout passes the room closes and removes them, which ends their jobs."""
        return all(p.grant.kind == ParticipantInfo.Kind.AGENT for p in self.participants.values())

    async def close(self, reason: DisconnectReason) -> None:
        """Remove everyone, telling them why (server shutdown)."""
        for participant in list(self.participants.values()):
            await self.remove(participant, reason, notify=True)

    def find_participant(self, sid: str) -> Participant | None:
        """The participant with session id ``sid``, if still here."""
        return next((p for p in self.participants.values() if p.sid == sid), None)

    def find_track(self, track_sid: str) -> PublishedTrack | None:
        """The published track ``track_sid``, whoever publishes it."""
        for participant in self.participants.values():
            published = participant.published.get(track_sid)
            if published is not None:
                return published
        return None

    def broadcast(self, participant: Participant) -> None:
        """Send ``participant``'s current info to everyone, itself included (it learns its own changes)."""
        update = participant_update(participant.info())
        for other in self.participants.values():
            if other is participant or not participant.grant.hidden:
                other.send(update)

    def snapshot(self) -> SignalResponse:
        """Every participant's current info in one update (sent after a resume)."""
        return participant_update(*(p.info() for p in self.participants.values() if not p.grant.hidden))

    def track_published(self, publisher: Participant, published: PublishedTrack) -> None:
        """Announce a negotiated track, then subscribe everyone who auto-subscribes.

        The update must reach a subscriber before the media does, or the SDK drops the track as coming
        from an unknown participant; both go over the subscriber's ordered signal link in that order.
        """
        self.broadcast(publisher)
        for other in self.participants.values():
            if other is not publisher and other.auto_subscribe:
                other.subscribe(published)

    def track_subscribed(self, published: PublishedTrack) -> None:
        """A subscriber's answer now carries ``published``: its publisher learns it has a listener."""
        publisher = self.participants.get(published.publisher_identity)
        if publisher is not None and publisher.sid == published.publisher_sid:
            publisher.notify_subscribed(published.sid)

    def track_unpublished(self, publisher: Participant, published: PublishedTrack) -> None:
        """A track ended: stop every subscriber's copy and tell everyone."""
        for other in self.participants.values():
            other.unsubscribe(published.sid)
        if publisher.identity in self.participants:
            self.broadcast(publisher)

    def route_data(self, sender: Participant, label: str, packet: DataPacket) -> None:
        """Forward a data packet from ``sender`` to its recipients on the same kind of channel."""
        stamp_sender(
            packet,
            identity=sender.identity,
            sid=sender.sid,
            is_agent=sender.grant.kind == ParticipantInfo.Kind.AGENT,
        )
        payload = packet.SerializeToString()
        for identity in recipients(packet, sender=sender.identity, present=self.participants):
            self.participants[identity].deliver_data(label, payload)

    def route_data_track(self, sender: Participant, packet: bytes) -> None:
        """Forward a data-track packet to the subscribers of its track, each under its own handle."""
        for identity, payload in self.data_tracks.route(sender.identity, packet):
            subscriber = self.participants.get(identity)
            if subscriber is not None:
                subscriber.deliver_data_track(payload)

    def send_data_track_handles(self, identities: list[str]) -> None:
        """Tell these subscribers their data-track handles again (a track they had went away)."""
        for identity in identities:
            subscriber = self.participants.get(identity)
            if subscriber is not None:
                subscriber.send(
                    SignalResponse(data_track_subscriber_handles=self.data_tracks.handles(identity))
                )

    def send_from_server(self, label: str, packet: DataPacket, destinations: list[str] | None) -> None:
        """Deliver a packet the server itself sends (the SendData API): to ``destinations``, or everyone.

        It carries no sender, as on LiveKit, where the SDK reports such data without a participant.
        """
        payload = packet.SerializeToString()
        for identity, participant in self.participants.items():
            if destinations is None or identity in destinations:
                participant.deliver_data(label, payload)
