"""Data tracks in a room: who publishes which, who subscribes, and where each packet goes.

livekit-server's protocol, which the rtc SDKs speak: a publisher asks for a track with
``PublishDataTrackRequest`` (a name and a *publisher handle* it chose), gets its sid in
``PublishDataTrackResponse``, and the track appears in its ``ParticipantInfo.data_tracks`` for everyone.
A subscriber sends ``UpdateDataSubscription`` and is told, in ``DataTrackSubscriberHandles``, the
*subscriber handle* under which that track's packets will reach it. Frames travel on the ``_data_track``
data channel as data-track packets (rust-sdks ``livekit-datatrack/docs/packet-v0.md``): a 12-byte base
header whose bytes 2-3 are the track handle, then extensions (the user timestamp among them) and the
payload. The server forwards each packet to every subscriber with the handle rewritten to that
subscriber's, and touches nothing else (livekit-server's ``DataDownTrack.WritePacket``). Packets are
lossy: none is held for a subscriber whose channel is not open.

This module is that bookkeeping alone, with no network in it, so its rules are tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from livekit.protocol.models import DataTrackInfo
from livekit.protocol.rtc import (
    DataTrackSubscriberHandles,
    PublishDataTrackRequest,
    RequestResponse,
    UpdateDataSubscription,
)

from .identifiers import DATA_TRACK_PREFIX, new_sid

DATA_TRACK_LABEL: Final = "_data_track"
#: The base header's size, and where in it the track handle sits (16 bits, big-endian).
BASE_HEADER_BYTES: Final = 12
_HANDLE: Final = slice(2, 4)
_MAX_HANDLE: Final = 0xFFFF


class DataTrackRefused(Exception):
    """A publish request the server refuses, with the reason livekit-server gives."""

    def __init__(self, reason: RequestResponse.Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def packet_handle(packet: bytes) -> int | None:
    """The track handle of a data-track packet; None for one too short or of a version we do not know."""
    if len(packet) < BASE_HEADER_BYTES or packet[0] >> 5 != 0:
        return None
    return int.from_bytes(packet[_HANDLE], "big")


def with_handle(packet: bytes, handle: int) -> bytes:
    """``packet`` as it leaves for a subscriber: the same bytes, under the subscriber's handle."""
    return packet[:2] + handle.to_bytes(2, "big") + packet[4:]


@dataclass(frozen=True)
class PublishedDataTrack:
    info: DataTrackInfo
    publisher_identity: str
    publisher_sid: str


class DataTrackRouter:
    """The data tracks of one room; see the module docstring."""

    def __init__(self) -> None:
        self._tracks: dict[str, PublishedDataTrack] = {}
        #: (publisher identity, publisher handle) → track sid: how a packet finds its track.
        self._by_handle: dict[tuple[str, int], str] = {}
        #: subscriber identity → subscriber handle → track sid.
        self._subscribed: dict[str, dict[int, str]] = {}

    # -- publishing ------------------------------------------------------------------------------------
    def publish(self, *, identity: str, sid: str, request: PublishDataTrackRequest) -> DataTrackInfo:
        """Admit a new track of ``identity`` (participant ``sid``), or raise :class:`DataTrackRefused`."""
        handle = request.pub_handle
        if not 0 < handle <= _MAX_HANDLE:
            raise DataTrackRefused(RequestResponse.Reason.INVALID_HANDLE, f"invalid handle {handle}")
        if not request.name:
            raise DataTrackRefused(RequestResponse.Reason.INVALID_NAME, "a data track needs a name")
        if (identity, handle) in self._by_handle:
            raise DataTrackRefused(RequestResponse.Reason.DUPLICATE_HANDLE, f"handle {handle} is taken")
        if any(info.name == request.name for info in self.tracks_of(identity)):
            raise DataTrackRefused(RequestResponse.Reason.DUPLICATE_NAME, f"{request.name!r} is published")
        info = DataTrackInfo(
            pub_handle=handle,
            sid=new_sid(DATA_TRACK_PREFIX),
            name=request.name,
            encryption=request.encryption,
        )
        if request.HasField("frame_encoding"):
            info.frame_encoding.CopyFrom(request.frame_encoding)
        if request.HasField("schema"):
            info.schema.CopyFrom(request.schema)
        self._tracks[info.sid] = PublishedDataTrack(info, identity, sid)
        self._by_handle[(identity, handle)] = info.sid
        return info

    def unpublish(self, *, identity: str, pub_handle: int) -> tuple[DataTrackInfo | None, list[str]]:
        """Remove a track of ``identity``: its last info (None if unknown), and who subscribed to it."""
        track_sid = self._by_handle.pop((identity, pub_handle), None)
        if track_sid is None:
            return None, []
        track = self._tracks.pop(track_sid)
        losers = [who for who, handles in self._subscribed.items() if track_sid in handles.values()]
        for who in losers:
            self._subscribed[who] = {h: s for h, s in self._subscribed[who].items() if s != track_sid}
        return track.info, losers

    def tracks_of(self, identity: str) -> list[DataTrackInfo]:
        """What ``identity`` publishes, for its ``ParticipantInfo.data_tracks``."""
        return [track.info for track in self._tracks.values() if track.publisher_identity == identity]

    # -- subscribing -----------------------------------------------------------------------------------
    def update_subscription(
        self, identity: str, update: UpdateDataSubscription
    ) -> DataTrackSubscriberHandles:
        """Apply a subscriber's changes (unknown tracks are ignored); its handles as they now are."""
        handles = self._subscribed.setdefault(identity, {})
        for change in update.updates:
            current = [h for h, s in handles.items() if s == change.track_sid]
            if change.subscribe and not current and change.track_sid in self._tracks:
                handles[self._free_handle(handles)] = change.track_sid
            elif not change.subscribe:
                for handle in current:
                    del handles[handle]
        return self.handles(identity)

    def handles(self, identity: str) -> DataTrackSubscriberHandles:
        """Every subscriber handle of ``identity`` and the track it stands for."""
        message = DataTrackSubscriberHandles()
        for handle, track_sid in self._subscribed.get(identity, {}).items():
            track = self._tracks[track_sid]
            entry = message.sub_handles[handle]
            entry.publisher_identity = track.publisher_identity
            entry.publisher_sid = track.publisher_sid
            entry.track_sid = track_sid
        return message

    @staticmethod
    def _free_handle(handles: dict[int, str]) -> int:
        handle = 1
        while handle in handles:
            handle += 1
        return handle

    # -- packets and departures ------------------------------------------------------------------------
    def route(self, identity: str, packet: bytes) -> list[tuple[str, bytes]]:
        """Where a packet from ``identity`` goes: each subscriber of its track, with that one's handle.
        Nothing for a malformed packet or a handle ``identity`` has not published."""
        handle = packet_handle(packet)
        track_sid = self._by_handle.get((identity, handle)) if handle is not None else None
        if track_sid is None:
            return []
        return [
            (who, with_handle(packet, sub_handle))
            for who, handles in self._subscribed.items()
            for sub_handle, subscribed in handles.items()
            if subscribed == track_sid and who != identity
        ]

    def participant_left(self, identity: str) -> list[str]:
        """Forget everything of ``identity``; the subscribers that lost a track of it."""
        self._subscribed.pop(identity, None)
        losers: set[str] = set()
        for info in self.tracks_of(identity):
            _, lost = self.unpublish(identity=identity, pub_handle=info.pub_handle)
            losers.update(lost)
        return sorted(losers)
