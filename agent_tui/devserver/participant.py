"""One client in a room: its peer connection, its signalling and its tracks.

Everything a client asks for over signalling is handled here, one request at a time in arrival order
(an offer must be applied before the trickle candidates that follow it), by a single worker task per
participant. The participant outlives its WebSocket: after a signal drop it waits ``resume_window``
seconds for the client to come back with a resume, and only then leaves the room (as on livekit-server,
where a participant whose media connection failed is removed with ``CONNECTION_TIMEOUT``). One whose
media never connected leaves at once, as livekit-server removes it when its signalling closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine, Mapping
from dataclasses import replace
from typing import Any, Final, Protocol

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdatachannel import RTCDataChannel
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.sdp import candidate_from_sdp
from google.protobuf.message import DecodeError
from livekit.protocol.models import (
    DataPacket,
    DisconnectReason,
    ParticipantInfo,
    ParticipantPermission,
    TrackInfo,
    TrackType,
)
from livekit.protocol.rtc import (
    AddTrackRequest,
    JoinRequest,
    LeaveRequest,
    MediaSectionsRequirement,
    MuteTrackRequest,
    ParticipantUpdate,
    PublishDataTrackResponse,
    RequestResponse,
    SessionDescription,
    SignalRequest,
    SignalResponse,
    TrackPublishedResponse,
    TrackSubscribed,
    TrickleRequest,
    UnpublishDataTrackResponse,
    UpdateParticipantMetadata,
    UpdateSubscription,
)

from .auth import ParticipantGrant
from .data_routing import RELIABLE_LABEL, ROUTED_LABELS, DataOutbox, ReliableSequence
from .data_track_router import DATA_TRACK_LABEL, DataTrackRefused
from .identifiers import PARTICIPANT_PREFIX, TRACK_PREFIX, new_sid
from .media_relay import (
    RELAYED_CODECS,
    TrackRelay,
    carries_relayed_codec,
    forward_keyframe_requests,
    keep_relayed_codecs,
)
from .negotiation import OfferedSection, offered_sections, stream_msid, with_msids
from .publish_rules import publication_refusal
from .signal_link import SignalLink, SignalSocket
from .tracks import PublishedTrack, Subscription

_log = logging.getLogger(__name__)

_MIME_TYPES = {TrackType.AUDIO: RELAYED_CODECS["audio"], TrackType.VIDEO: RELAYED_CODECS["video"]}
# livekit-server's routing.DefaultMessageChannelSize: the requests of one participant waiting to be handled.
MAX_QUEUED_REQUESTS: Final = 200


class RoomHost(Protocol):
    """What a participant needs of the room it is in (:class:`~agent_tui.devserver.room.Room` is one).

    Declared here, beside the participant, so the room depends on the participant and not the other way
    round: the two modules used to import each other.
    """

    name: str

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None: ...

    async def remove(self, participant: Participant, reason: DisconnectReason, *, notify: bool) -> None: ...

    def broadcast(self, participant: Participant) -> None: ...

    def find_track(self, track_sid: str) -> PublishedTrack | None: ...

    def route_data(self, sender: Participant, label: str, packet: DataPacket) -> None: ...

    def track_published(self, publisher: Participant, published: PublishedTrack) -> None: ...

    def track_subscribed(self, published: PublishedTrack) -> None: ...

    def track_unpublished(self, publisher: Participant, published: PublishedTrack) -> None: ...


class Participant:
    """A joined client; created by :meth:`Room.join`, removed by :meth:`Room.remove`."""

    def __init__(self, room: RoomHost, grant: ParticipantGrant, join: JoinRequest) -> None:
        self.room = room
        self.grant = grant
        self.sid = new_sid(PARTICIPANT_PREFIX)
        self.identity = grant.identity
        self.name = grant.name
        self.metadata = grant.metadata
        self.attributes = dict(grant.attributes)
        if grant.can_update_own_metadata:
            self.attributes.update({k: v for k, v in join.participant_attributes.items() if v})
            if join.metadata:
                self.metadata = join.metadata
        self.client_protocol = join.client_info.client_protocol
        self.auto_subscribe = (
            join.connection_settings.auto_subscribe if join.HasField("connection_settings") else True
        )
        self.state: ParticipantInfo.State = ParticipantInfo.State.JOINED
        self.joined_at_ms = int(time.time() * 1000)
        self.closing = False
        self.disconnect_reason: DisconnectReason = DisconnectReason.UNKNOWN_REASON
        self.media_connected_once = False
        self.link = SignalLink()
        self.published: dict[str, PublishedTrack] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.reliable_sequence = ReliableSequence()
        self._version = 1
        self._pending_publications: dict[str, TrackInfo] = {}
        self._retired_mids: set[str] = set()
        self._answered_once = False
        #: Subscriptions whose receive m-line was asked of the client (media_sections_requirement).
        self._sections_asked: set[str] = set()
        self._channels: dict[str, RTCDataChannel] = {}
        self._outbox = DataOutbox()
        self._requests: asyncio.Queue[SignalRequest] = asyncio.Queue(maxsize=MAX_QUEUED_REQUESTS)
        self._resume_timer: asyncio.TimerHandle | None = None
        # iceServers=[]: aiortc would otherwise ask a public STUN server; a dev server stays on the machine.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("connectionstatechange", self._on_connection_state)
        self._worker = asyncio.create_task(self._work(), name=f"devserver-participant-{self.identity}")

    # ----------------------------------------------------------------------------------------- state

    def info(self) -> ParticipantInfo:
        """This participant as other clients see it (only negotiated tracks are listed)."""
        return ParticipantInfo(
            sid=self.sid,
            identity=self.identity,
            name=self.name,
            state=self.state,
            tracks=[published.info for published in self.published.values()],
            data_tracks=self.room.data_tracks.tracks_of(self.identity),
            metadata=self.metadata,
            joined_at=self.joined_at_ms // 1000,
            joined_at_ms=self.joined_at_ms,
            version=self._version,
            permission=self.grant.permission(),
            is_publisher=bool(self.published),
            kind=self.grant.kind,
            attributes=self.attributes,
            client_protocol=self.client_protocol,
            disconnect_reason=self.disconnect_reason,
        )

    def changed(self) -> None:
        """Bump the info version and tell the room (clients ignore updates older than what they have)."""
        self._version += 1
        self.room.broadcast(self)

    def update_from_server(
        self,
        *,
        name: str,
        metadata: str,
        attributes: Mapping[str, str],
        permission: ParticipantPermission | None,
    ) -> None:
        """Apply an UpdateParticipant API call and tell everyone (the participant included).

        As for the client's own updates, empty name/metadata mean "unchanged" and an empty attribute
        value deletes the key. New permissions replace the token's: they apply to the next publish,
        subscription or data packet.
        """
        if name:
            self.name = name
        if metadata:
            self.metadata = metadata
        for key, value in attributes.items():
            if value:
                self.attributes[key] = value
            else:
                self.attributes.pop(key, None)
        if permission is not None:
            sources = frozenset(int(s) for s in permission.can_publish_sources) or None
            self.grant = replace(
                self.grant,
                can_publish=permission.can_publish,
                can_publish_sources=sources,
                can_subscribe=permission.can_subscribe,
                can_publish_data=permission.can_publish_data,
                can_update_own_metadata=permission.can_update_metadata,
                hidden=permission.hidden,
            )
        self.changed()

    def send(self, message: SignalResponse) -> None:
        """Queue a signalling message for this client."""
        self.link.send(message)

    def submit(self, request: SignalRequest) -> bool:
        """Hand a signalling request to the worker, which handles requests in arrival order.

        False if :data:`MAX_QUEUED_REQUESTS` are already waiting: a client that floods the server loses
        its connection, as on livekit-server, whose request channel holds as many.
        """
        if self.closing:
            return True
        try:
            self._requests.put_nowait(request)
        except asyncio.QueueFull:
            return False
        return True

    # ------------------------------------------------------------------------------ signal lifecycle

    def attach(
        self, socket: SignalSocket, *, first: list[SignalResponse] | None = None
    ) -> SignalSocket | None:
        """Carry signalling over ``socket`` (a join or a resume); ``first`` goes out before anything queued.

        Returns the socket this one replaces (a resume that overtook the server noticing the drop).
        """
        if self._resume_timer is not None:
            self._resume_timer.cancel()
            self._resume_timer = None
        return self.link.attach(socket, first=first or [])

    def signal_closed(self, socket: SignalSocket, resume_window: float, *, timed_out: bool = False) -> None:
        """``socket`` ended without a leave (``timed_out``: the server closed it after the ping timeout).

        The session waits ``resume_window`` seconds for a resume, then leaves with ``CONNECTION_TIMEOUT``;
        a participant whose media never connected leaves at once, as on livekit-server
        (``HandleSignalSourceClose``), with ``SIGNAL_CLOSE`` (or ``CONNECTION_TIMEOUT`` if it timed out).
        """
        if self.closing or not self.link.is_current(socket):
            return
        self.link.detach(socket)
        room = self.room
        if not self.media_connected_once:
            reason = DisconnectReason.CONNECTION_TIMEOUT if timed_out else DisconnectReason.SIGNAL_CLOSE
            _log.info("signal closed room=%s identity=%s before media connected", room.name, self.identity)
            room.spawn(room.remove(self, reason, notify=False))
            return
        _log.info(
            "signal lost room=%s identity=%s; waiting %.0fs for a resume",
            room.name,
            self.identity,
            resume_window,
        )
        loop = asyncio.get_running_loop()
        self._resume_timer = loop.call_later(
            resume_window,
            lambda: room.spawn(room.remove(self, DisconnectReason.CONNECTION_TIMEOUT, notify=False)),
        )

    async def close(self, reason: DisconnectReason, *, notify: bool) -> None:
        """Leave for good: tell the client why (if ``notify``), stop media, close the peer connection."""
        if self.closing:
            return
        self.closing = True
        self.state = ParticipantInfo.State.DISCONNECTED
        self.disconnect_reason = reason
        if self._resume_timer is not None:
            self._resume_timer.cancel()
        if notify:
            leave = LeaveRequest(reason=reason, action=LeaveRequest.Action.DISCONNECT, can_reconnect=False)
            self.link.send(SignalResponse(leave=leave))
            await self.link.flush(within_s=1.0)
        if asyncio.current_task() is not self._worker:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for subscription in self.subscriptions.values():
            subscription.track.stop()
        self.subscriptions.clear()
        for published in self.published.values():
            await published.relay.stop()
        await self.pc.close()
        await self.link.close()

    # -------------------------------------------------------------------------------- subscriptions

    def subscribe(self, published: PublishedTrack) -> None:
        """Start receiving ``published``; it is bound to an m-line at the client's next offer."""
        if published.sid in self.subscriptions or not self.grant.can_subscribe or self.closing:
            return
        copy = published.relay.subscribe()
        self.subscriptions[published.sid] = Subscription(published=published, track=copy)
        if self._answered_once:
            self._ask_for_section(published)

    def _ask_for_section(self, published: PublishedTrack) -> None:
        """The client adds a receive m-line and re-offers; the server cannot offer in single-PC mode."""
        self._sections_asked.add(published.sid)
        requirement = MediaSectionsRequirement(
            num_audios=1 if published.kind == "audio" else 0,
            num_videos=1 if published.kind == "video" else 0,
        )
        self.send(SignalResponse(media_sections_requirement=requirement))

    def unsubscribe(self, track_sid: str) -> None:
        """Stop receiving a track; its m-line is retired (answered inactive from now on)."""
        subscription = self.subscriptions.pop(track_sid, None)
        if subscription is None:
            return
        subscription.track.stop()
        if subscription.mid is not None:
            self._retired_mids.add(subscription.mid)
            transceiver = self._transceiver(subscription.mid)
            if transceiver is not None:
                transceiver.direction = "inactive"

    def notify_subscribed(self, track_sid: str) -> None:
        """Tell this publisher that someone now receives its track ``track_sid``.

        The rtc SDK turns this into ``local_track_subscribed`` and resolves
        ``LocalTrackPublication.wait_for_subscription()``; livekit-agents' audio output waits on that
        before it plays anything, so without it an agent never speaks.
        """
        if track_sid in self.published:
            self.send(SignalResponse(track_subscribed=TrackSubscribed(track_sid=track_sid)))

    # -------------------------------------------------------------------------------------- data

    def deliver_data(self, label: str, payload: bytes) -> None:
        """Send a routed packet on this client's ``label`` channel, holding it until that channel opens."""
        if not self.closing:
            self._outbox.deliver(label, payload, self._send_on_channel)

    def _send_on_channel(self, label: str, payload: bytes) -> bool:
        channel = self._channels.get(label)
        if channel is None or channel.readyState != "open":
            return False
        channel.send(payload)
        return True

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        label = channel.label
        self._channels[label] = channel

        @channel.on("message")
        def on_message(message: bytes | str) -> None:
            self._on_data(label, message)

        @channel.on("open")
        def on_open() -> None:
            self._outbox.release(self._send_on_channel)

        self._outbox.release(self._send_on_channel)

    def deliver_data_track(self, packet: bytes) -> None:
        """Send a data-track packet now, or drop it: data tracks are lossy, and a late frame is stale."""
        if not self.closing:
            self._send_on_channel(DATA_TRACK_LABEL, packet)

    def _on_data(self, label: str, message: bytes | str) -> None:
        if label == DATA_TRACK_LABEL and isinstance(message, bytes) and not self.closing:
            self.room.route_data_track(self, message)
            return
        if label not in ROUTED_LABELS or not isinstance(message, bytes) or self.closing:
            return
        if not self.grant.can_publish_data:
            _log.debug("dropping data from %s: no canPublishData grant", self.identity)
            return
        try:
            packet = DataPacket.FromString(message)
        except DecodeError:
            _log.debug("dropping undecodable data packet from %s", self.identity)
            return
        if label == RELIABLE_LABEL and not self.reliable_sequence.accept(packet.sequence):
            return
        self.room.route_data(self, label, packet)

    def _data_track_request(self, request: SignalRequest) -> None:
        """Publish, unpublish or (un)subscribe data tracks (:mod:`.data_track_router`)."""
        router = self.room.data_tracks
        kind = request.WhichOneof("message")
        if kind == "publish_data_track_request":
            asked = request.publish_data_track_request
            try:
                if not self.grant.can_publish_data:
                    raise DataTrackRefused(RequestResponse.Reason.NOT_ALLOWED, "no canPublishData grant")
                info = router.publish(identity=self.identity, sid=self.sid, request=asked)
            except DataTrackRefused as refused:
                answer = RequestResponse(
                    reason=refused.reason, message=str(refused), publish_data_track=asked
                )
                self.send(SignalResponse(request_response=answer))
                return
            self.send(SignalResponse(publish_data_track_response=PublishDataTrackResponse(info=info)))
            self.changed()
        elif kind == "unpublish_data_track_request":
            handle = request.unpublish_data_track_request.pub_handle
            gone, losers = router.unpublish(identity=self.identity, pub_handle=handle)
            if gone is None:
                return
            self.send(SignalResponse(unpublish_data_track_response=UnpublishDataTrackResponse(info=gone)))
            self.changed()
            self.room.send_data_track_handles(losers)
        elif self.grant.can_subscribe:
            handles = router.update_subscription(self.identity, request.update_data_subscription)
            self.send(SignalResponse(data_track_subscriber_handles=handles))

    # --------------------------------------------------------------------------------- media state

    def _on_connection_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected" and self.state != ParticipantInfo.State.ACTIVE and not self.closing:
            self.media_connected_once = True
            self.state = ParticipantInfo.State.ACTIVE
            self.changed()
        elif state == "failed" and not self.closing:
            _log.info("media connection failed room=%s identity=%s", self.room.name, self.identity)
            self.room.spawn(self.room.remove(self, DisconnectReason.CONNECTION_TIMEOUT, notify=True))

    # ------------------------------------------------------------------------------------ requests

    async def _work(self) -> None:
        while not self.closing:
            request = await self._requests.get()
            try:
                await self._handle(request)
            except Exception as error:
                # As livekit-server ("could not parse offer", "could not decode trickle"): one line, and
                # the session goes on. A malformed request is the client's fault, so no traceback unless
                # debugging.
                kind = request.WhichOneof("message")
                _log.warning(
                    "could not handle %s from %s: %s", kind, self.identity, str(error) or type(error).__name__
                )
                _log.debug("%s from %s failed", kind, self.identity, exc_info=True)

    async def _handle(self, request: SignalRequest) -> None:
        kind = request.WhichOneof("message")
        if kind == "offer":
            await self._answer(request.offer)
        elif kind == "trickle":
            await self._add_candidate(request.trickle)
        elif kind == "add_track":
            self._add_track(request.add_track)
        elif kind == "mute":
            self._mute(request.mute)
        elif kind == "update_metadata":
            self._update_metadata(request.update_metadata)
        elif kind == "subscription":
            self._update_subscription(request.subscription)
        elif kind == "leave":
            await self.room.remove(self, DisconnectReason.CLIENT_INITIATED, notify=False)
        elif kind in (
            "publish_data_track_request",
            "unpublish_data_track_request",
            "update_data_subscription",
        ):
            self._data_track_request(request)
        else:
            # answer (the server never offers), sync_state (resume carries no state we lost),
            # subscription_permission, track settings, layers, simulate: nothing for a dev server to do.
            _log.debug("ignoring %s from %s", kind, self.identity)

    async def _answer(self, offer: SessionDescription) -> None:
        sections = offered_sections(offer.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        for transceiver in self.pc.getTransceivers():
            keep_relayed_codecs(transceiver)
        newly_published = self._adopt_publications(sections)
        unpublished = self._find_unpublished(sections)
        newly_bound = self._bind_subscriptions(sections)
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        bound = [s for s in self.subscriptions.values() if s.mid is not None]
        sdp_text = with_msids(
            self.pc.localDescription.sdp,
            {s.mid: stream_msid(s.published.publisher_sid, s.published.sid) for s in bound if s.mid},
        )
        self.send(
            SignalResponse(
                answer=SessionDescription(
                    type="answer",
                    sdp=sdp_text,
                    id=offer.id,
                    mid_to_track_id={s.mid: s.published.sid for s in bound if s.mid},
                )
            )
        )
        self._answered_once = True
        for subscription in newly_bound:
            self._sections_asked.discard(subscription.published.sid)
            self.room.track_subscribed(subscription.published)
        # A subscription made while this answer was being made (a joiner subscribed to the room's tracks
        # during its first negotiation), or one this offer had no free m-line for, was neither bound nor
        # asked for: ask now, or it would never be bound (seen as a third participant hearing nobody).
        for subscription in list(self.subscriptions.values()):
            if subscription.mid is None and subscription.published.sid not in self._sections_asked:
                self._ask_for_section(subscription.published)
        for published in unpublished:
            await self._unpublish(published)
        for published in newly_published:
            self.room.track_published(self, published)

    def _adopt_publications(self, sections: list[OfferedSection]) -> list[PublishedTrack]:
        """New sending m-lines whose msid names a pending AddTrackRequest become published tracks."""
        adopted = []
        for section in sections:
            if not section.client_sends or section.msid_track_id not in self._pending_publications:
                continue
            transceiver = self._transceiver(section.mid)
            if transceiver is None or transceiver.receiver.track is None:
                continue
            info = self._pending_publications.pop(section.msid_track_id)
            info.mid = section.mid
            published = PublishedTrack(
                info=info,
                publisher_sid=self.sid,
                publisher_identity=self.identity,
                relay=TrackRelay(transceiver.receiver, track_sid=info.sid, kind=transceiver.kind),
            )
            self.published[info.sid] = published
            adopted.append(published)
        return adopted

    def _find_unpublished(self, sections: list[OfferedSection]) -> list[PublishedTrack]:
        """Published tracks whose m-line stopped sending: the client unpublished them."""
        sending = {section.mid for section in sections if section.client_sends}
        return [published for published in self.published.values() if published.info.mid not in sending]

    def _bind_subscriptions(self, sections: list[OfferedSection]) -> list[Subscription]:
        """Give each unbound subscription a free receive m-line of its kind from this offer.

        Returns the subscriptions bound now: once the answer carrying them is sent, their publishers
        are told the track has a subscriber.
        """
        bound: list[Subscription] = []
        taken = {s.mid for s in self.subscriptions.values() if s.mid is not None}
        taken |= self._retired_mids
        taken |= {published.info.mid for published in self.published.values()}
        for subscription in self.subscriptions.values():
            if subscription.mid is not None:
                continue
            for section in sections:
                if section.kind != subscription.published.kind or not section.client_receives:
                    continue
                if section.mid in taken:
                    continue
                transceiver = self._transceiver(section.mid)
                if transceiver is None:
                    continue
                transceiver.direction = "sendonly"
                if carries_relayed_codec(transceiver):
                    forward_keyframe_requests(transceiver.sender)
                    transceiver.sender.replaceTrack(subscription.track)
                else:  # bound all the same, or the client would be asked for an m-line again and again
                    _log.warning(
                        "%s cannot receive %s: its offer has no %s",
                        self.identity,
                        subscription.published.sid,
                        subscription.published.info.mime_type,
                    )
                subscription.mid = section.mid
                taken.add(section.mid)
                bound.append(subscription)
                break
        return bound

    async def _unpublish(self, published: PublishedTrack) -> None:
        self.published.pop(published.sid, None)
        if published.info.mid:
            self._retired_mids.add(published.info.mid)
        await published.relay.stop()
        self.room.track_unpublished(self, published)

    def _transceiver(self, mid: str) -> RTCRtpTransceiver | None:
        return next((t for t in self.pc.getTransceivers() if t.mid == mid), None)

    async def _add_candidate(self, trickle: TrickleRequest) -> None:
        try:
            init = json.loads(trickle.candidateInit)
        except json.JSONDecodeError:
            return
        line = str(init.get("candidate") or "")
        if not line:
            return  # end of candidates
        candidate = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
        if candidate.ip.endswith(".local"):
            return  # resolving an mDNS name means multicast on the LAN; host candidates suffice here
        candidate.sdpMid = init.get("sdpMid")
        candidate.sdpMLineIndex = init.get("sdpMLineIndex")
        try:
            await self.pc.addIceCandidate(candidate)
        except Exception as error:  # a candidate aiortc cannot use (e.g. another address family)
            _log.debug("ignoring candidate %r from %s: %s", line, self.identity, error)

    def _add_track(self, request: AddTrackRequest) -> None:
        refusal = publication_refusal(request, self.grant)
        if refusal is not None:
            _log.warning("refusing track %r from %s: %s", request.name, self.identity, refusal.message)
            self.send(SignalResponse(request_response=refusal))
            return
        info = TrackInfo(
            sid=new_sid(TRACK_PREFIX),
            type=request.type,
            name=request.name,
            muted=request.muted,
            width=request.width,
            height=request.height,
            source=request.source,
            mime_type=_MIME_TYPES.get(request.type, ""),
            stereo=request.stereo,
            disable_dtx=request.disable_dtx,
            # aiortc negotiates no RED, so the client must not send it (it would be dropped silently).
            disable_red=True,
            encryption=request.encryption,
            stream=request.stream,
            audio_features=request.audio_features,
        )
        self._pending_publications[request.cid] = info
        self.send(SignalResponse(track_published=TrackPublishedResponse(cid=request.cid, track=info)))

    def _mute(self, request: MuteTrackRequest) -> None:
        published = self.published.get(request.sid)
        if published is None or published.info.muted == request.muted:
            return
        published.info.muted = request.muted
        self.changed()

    def _update_metadata(self, request: UpdateParticipantMetadata) -> None:
        if not self.grant.can_update_own_metadata:
            self._respond(
                request, RequestResponse.Reason.NOT_ALLOWED, "the token does not grant canUpdateOwnMetadata"
            )
            return
        # As LiveKit does: empty name/metadata mean "unchanged"; an empty attribute value deletes the key.
        if request.name:
            self.name = request.name
        if request.metadata:
            self.metadata = request.metadata
        for key, value in request.attributes.items():
            if value:
                self.attributes[key] = value
            else:
                self.attributes.pop(key, None)
        self._respond(request, RequestResponse.Reason.OK, "")
        self.changed()

    def _respond(
        self, request: UpdateParticipantMetadata, reason: RequestResponse.Reason, message: str
    ) -> None:
        if request.request_id:
            self.send(
                SignalResponse(
                    request_response=RequestResponse(
                        request_id=request.request_id, reason=reason, message=message, update_metadata=request
                    )
                )
            )

    def _update_subscription(self, request: UpdateSubscription) -> None:
        track_sids = list(request.track_sids)
        for participant_tracks in request.participant_tracks:
            track_sids.extend(participant_tracks.track_sids)
        for track_sid in track_sids:
            if not request.subscribe:
                self.unsubscribe(track_sid)
                continue
            published = self.room.find_track(track_sid)
            if published is not None and published.publisher_sid != self.sid:
                self.subscribe(published)


def participant_update(*infos: ParticipantInfo) -> SignalResponse:
    """A ``SignalResponse`` carrying ``infos`` as a participant update."""
    return SignalResponse(update=ParticipantUpdate(participants=list(infos)))
