"""Between the rtc SDK's remote data tracks and :class:`~agent_tui.session.data_tracks.DataTrackBoard`.

The room announces remote data tracks (``data_track_published`` with the track, ``data_track_unpublished``
with only its sid); this link keeps the SDK objects by sid, subscribes to the tracks whose names are
wanted, reads their frames in tasks of its own, and publishes what changed as session events. It holds
no rules of its own: the counting, rates and rate limiting are the board's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from livekit import rtc

from agent_tui.session.data_track_feed import DataTrackFeed
from agent_tui.session.data_tracks import DataTrackView
from agent_tui.session.events import SessionEvent, SessionWarning
from agent_tui.session.redaction import redact

log = logging.getLogger(__name__)


class DataTrackLink:
    """The remote data tracks of one session, across its starts (the wanted names outlive a room)."""

    def __init__(self, emit: Callable[[SessionEvent], None]) -> None:
        self._emit = emit
        self._feed = DataTrackFeed(emit)
        self.board = self._feed.board
        self._remote: dict[str, rtc.RemoteDataTrack] = {}
        self._readers: dict[str, asyncio.Task[None]] = {}

    # -- what the Session calls ------------------------------------------------------------------------
    def want(self, name: str, *, every_frame: bool) -> None:
        for sid in self.board.want(name, every_frame=every_frame):
            self._subscribe(sid)

    def unwant(self, name: str) -> None:
        for sid in self.board.unwant(name):
            self._stop_reader(sid)

    def views(self) -> list[DataTrackView]:
        return self.board.views(time.time())

    async def close(self) -> None:
        """The room is gone: stop every reader, and every track goes (announced, so front ends listing
        them need not know that a session's end takes its tracks along); the wanted names stay."""
        readers = list(self._readers.values())
        self._readers.clear()
        for task in readers:
            task.cancel()
        if readers:
            await asyncio.gather(*readers, return_exceptions=True)
        self._remote.clear()
        now = time.time()
        for view in self.board.views(now):
            self._feed.unpublished(view.sid, now)
        self.board.clear()

    # -- room events -----------------------------------------------------------------------------------
    def on_published(self, track: rtc.RemoteDataTrack) -> None:
        sid = track.info.sid
        self._stop_reader(sid)  # announced again (a reconnect): read the new object, not the old one
        self._remote[sid] = track
        view = self._feed.published(
            sid=sid, name=track.info.name, participant_identity=track.publisher_identity
        )
        if self.board.is_wanted(view.name):
            self._subscribe(sid)

    def on_unpublished(self, sid: str) -> None:
        self._forget(sid)

    def on_participant_left(self, participant: rtc.RemoteParticipant) -> None:
        for view in self.board.views(time.time()):
            if view.participant_identity == participant.identity:
                self._forget(view.sid)

    # -- internals -------------------------------------------------------------------------------------
    def _forget(self, sid: str) -> None:
        self._remote.pop(sid, None)
        self._stop_reader(sid)
        self._feed.unpublished(sid, time.time())

    def _subscribe(self, sid: str) -> None:
        track = self._remote.get(sid)
        if track is None or sid in self._readers:
            return
        self.board.set_subscribed(sid, True)
        self._readers[sid] = asyncio.ensure_future(self._read(sid, track))

    def _stop_reader(self, sid: str) -> None:
        task = self._readers.pop(sid, None)
        if task is not None:
            task.cancel()

    async def _read(self, sid: str, track: rtc.RemoteDataTrack) -> None:
        name = track.info.name
        stream = track.subscribe()
        try:
            async for frame in stream:
                self._feed.frame(sid, bytes(frame.payload), frame.user_timestamp, time.time())
        except rtc.SubscribeDataTrackError as error:
            self._emit(
                SessionWarning(message=f"Could not receive the data track {name!r}: {redact(error.message)}.")
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the SDK failed under us: say so, keep the session
            log.warning("reading the data track %r failed: %s", name, redact(str(error)))
        finally:
            with contextlib.suppress(Exception):
                stream.close()
            if self._readers.get(sid) is asyncio.current_task():
                del self._readers[sid]
            self.board.set_subscribed(sid, False)
