"""The agent's data tracks in the terminal UI: receive each one as it is published (so its rate and
latest frame are known) and keep the app's ``data_tracks`` state in step with the Session's.

The Session's :class:`~agent_tui.session.DataTrackUpdated` events come at most twice a second per track;
a track that stalls sends none, so the app also refreshes once a second on its own clock to let the
rate fall to zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from agent_tui.session import Conversation, DataTrackView

#: How often the panel's rates are refreshed without an event (seconds).
REFRESH_S = 1.0


class DataTrackState(Protocol):
    data_tracks: tuple[DataTrackView, ...]


class DataTrackPresenter:
    def __init__(self, state: DataTrackState, session: Conversation, clock: Callable[[], float]) -> None:
        self._state = state
        self._session = session
        self._clock = clock
        self._refreshed_at: float | None = None

    def published(self, view: DataTrackView) -> None:
        """A track came: receive it (no event per frame, only the Session's rate-limited updates)."""
        self._session.subscribe_data_track(view.name)
        self.refresh()

    def refresh(self) -> None:
        self._refreshed_at = self._clock()
        views = tuple(self._session.data_tracks)
        if views != self._state.data_tracks:
            self._state.data_tracks = views

    def tick(self) -> None:
        """The app's frame timer: refresh once a second while there are tracks to show."""
        if not self._state.data_tracks:
            return
        if self._refreshed_at is None or self._clock() - self._refreshed_at >= REFRESH_S:
            self.refresh()
