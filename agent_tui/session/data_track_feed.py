"""What happens to a data track, as session events: the one translation of the board's bookkeeping into
:class:`DataTrackPublished`, :class:`DataTrackUnpublished`, :class:`DataTrackUpdated` and
:class:`DataTrackFrameReceived`.

The Session's rtc link and :class:`~agent_tui.session.testing.FakeConversation` both feed it, so a front
end tested on the fake sees exactly the events a real session publishes.
"""

from __future__ import annotations

from collections.abc import Callable

from agent_tui.session.data_tracks import DataTrackBoard, DataTrackView
from agent_tui.session.events import (
    DataTrackFrameReceived,
    DataTrackPublished,
    DataTrackUnpublished,
    DataTrackUpdated,
    SessionEvent,
)


class DataTrackFeed:
    """A :class:`DataTrackBoard` whose changes are published through ``emit``."""

    def __init__(self, emit: Callable[[SessionEvent], None], board: DataTrackBoard | None = None) -> None:
        self._emit = emit
        self.board = board or DataTrackBoard()

    def published(self, *, sid: str, name: str, participant_identity: str) -> DataTrackView:
        view = self.board.published(sid=sid, name=name, participant_identity=participant_identity)
        self._emit(DataTrackPublished(track=view))
        return view

    def unpublished(self, sid: str, now: float) -> None:
        view = self.board.unpublished(sid, now)
        if view is not None:
            self._emit(DataTrackUnpublished(track=view))

    def frame(self, sid: str, payload: bytes, user_timestamp: int | None, now: float) -> None:
        """A frame arrived on a subscribed track: a frame event when its name was wanted frame by frame,
        and an update when one is due."""
        due = self.board.frame(sid, payload, user_timestamp, now)
        view = self.board.view(sid, now)
        if view is None:
            return
        if self.board.every_frame(sid):
            self._emit(
                DataTrackFrameReceived(
                    at=now,
                    sid=sid,
                    name=view.name,
                    participant_identity=view.participant_identity,
                    payload=payload,
                    user_timestamp=user_timestamp,
                )
            )
        if due:
            self._emit(DataTrackUpdated(at=now, track=view))
