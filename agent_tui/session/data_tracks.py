"""The remote participants' data tracks as state: what is published, what we receive, how fast.

A data track is a named stream of frames (bytes and an optional *user timestamp*, by convention Unix
milliseconds) that a participant publishes and others subscribe to. A front end wants to list the agent's
tracks with their frame rates and show the latest frame, and a script wants every frame of the tracks it
named; neither wants an event per frame of every track on the bus. So the rules here keep, per track,
the count, a sliding-window frame rate and the latest frame (readable at any time), and say when a
rate-limited update is due. They are pure (time is passed in) so they are tested alone; the Session
feeds them from the rtc SDK (:mod:`.data_track_link`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

#: The frame-rate window: long enough to smooth jitter, short enough that a stalled track shows 0 soon.
RATE_WINDOW_S = 2.0
#: At most one :class:`~agent_tui.session.events.DataTrackUpdated` per track this often.
UPDATE_INTERVAL_S = 0.5
#: Arrivals remembered per track for its rate (a 5 kHz track fills the window; the count is exact).
MAX_ARRIVALS = 10_000


class FrameRateWindow:
    """Frames per second over the last ``window_s`` seconds of arrivals.

    Once the track has been received for a whole window the rate is the frames in it over the window,
    so it falls to 0 within one window of the frames stopping. Before that (just subscribed) a whole
    window would understate it, so it is measured over the intervals seen: ``(n - 1) / (newest - oldest)``.
    """

    def __init__(self, window_s: float = RATE_WINDOW_S, *, max_arrivals: int = MAX_ARRIVALS) -> None:
        if window_s <= 0:
            raise ValueError("the window must be positive")
        self.window_s = window_s
        self._arrivals: deque[float] = deque(maxlen=max_arrivals)
        self._first: float | None = None

    def add(self, now: float) -> None:
        if self._first is None:
            self._first = now
        self._arrivals.append(now)

    def rate(self, now: float) -> float:
        arrivals = self._arrivals
        while arrivals and arrivals[0] <= now - self.window_s:
            arrivals.popleft()
        if self._first is None or not arrivals:
            return 0.0
        if now - self._first >= self.window_s:
            return len(arrivals) / self.window_s
        span = arrivals[-1] - arrivals[0]
        return (len(arrivals) - 1) / span if span > 0 else 0.0


@dataclass(frozen=True)
class ReceivedFrame:
    """One frame as received: its payload, the publisher's user timestamp (if any), our arrival time."""

    payload: bytes
    user_timestamp: int | None
    at: float


@dataclass(frozen=True)
class DataTrackView:
    """A remote data track as a front end reads it; ``frame_rate`` is as of when the view was taken."""

    sid: str
    name: str
    participant_identity: str
    subscribed: bool = False
    frames: int = 0
    frame_rate: float = 0.0
    latest: ReceivedFrame | None = None


class _Track:
    def __init__(self, view: DataTrackView, window_s: float) -> None:
        self.view = view
        self.window = FrameRateWindow(window_s)
        self.last_update: float | None = None


class DataTrackBoard:
    """Every remote data track by sid, and which names we want received (and whether frame by frame).

    Names are what a user knows (``--data-track NAME``); sids change on a reconnect. So wanting a name
    covers every track of that name, published now or later, by any remote participant.
    """

    def __init__(
        self, *, window_s: float = RATE_WINDOW_S, update_interval_s: float = UPDATE_INTERVAL_S
    ) -> None:
        self._window_s = window_s
        self._update_interval_s = update_interval_s
        self._tracks: dict[str, _Track] = {}
        #: Wanted names, mapped to whether each frame is wanted as an event.
        self._wanted: dict[str, bool] = {}

    # -- interest -----------------------------------------------------------------------------------------
    def want(self, name: str, *, every_frame: bool) -> list[str]:
        """Want tracks named ``name`` received; returns the sids of those already published, to subscribe.
        Wanting a name again only ever adds ``every_frame`` (two callers may want it differently)."""
        self._wanted[name] = self._wanted.get(name, False) or every_frame
        return [
            sid
            for sid, track in self._tracks.items()
            if track.view.name == name and not track.view.subscribed
        ]

    def unwant(self, name: str) -> list[str]:
        """Stop wanting ``name``; returns the sids of its subscribed tracks, to unsubscribe."""
        self._wanted.pop(name, None)
        sids = [
            sid for sid, track in self._tracks.items() if track.view.name == name and track.view.subscribed
        ]
        for sid in sids:
            self.set_subscribed(sid, False)
        return sids

    def is_wanted(self, name: str) -> bool:
        return name in self._wanted

    def every_frame(self, sid: str) -> bool:
        track = self._tracks.get(sid)
        return track is not None and self._wanted.get(track.view.name, False)

    # -- the tracks ----------------------------------------------------------------------------------------
    def published(self, *, sid: str, name: str, participant_identity: str) -> DataTrackView:
        view = DataTrackView(sid=sid, name=name, participant_identity=participant_identity)
        self._tracks[sid] = _Track(view, self._window_s)
        return view

    def unpublished(self, sid: str, now: float) -> DataTrackView | None:
        """Forget track ``sid``; its last view (None when it was unknown)."""
        track = self._tracks.pop(sid, None)
        return self._view(track, now) if track is not None else None

    def participant_left(self, identity: str, now: float) -> list[DataTrackView]:
        """Forget the tracks of a participant who left (its tracks go with it, announced or not)."""
        sids = [sid for sid, track in self._tracks.items() if track.view.participant_identity == identity]
        return [view for sid in sids if (view := self.unpublished(sid, now)) is not None]

    def is_subscribed(self, sid: str) -> bool:
        track = self._tracks.get(sid)
        return track is not None and track.view.subscribed

    def set_subscribed(self, sid: str, subscribed: bool) -> None:
        track = self._tracks.get(sid)
        if track is not None:
            track.view = replace(track.view, subscribed=subscribed)

    def frame(self, sid: str, payload: bytes, user_timestamp: int | None, now: float) -> bool:
        """Count a received frame; whether an update of the track is due (its first frame, then at most
        one per update interval). False for an unknown track."""
        track = self._tracks.get(sid)
        if track is None:
            return False
        track.window.add(now)
        track.view = replace(
            track.view, frames=track.view.frames + 1, latest=ReceivedFrame(payload, user_timestamp, now)
        )
        if track.last_update is None or now - track.last_update >= self._update_interval_s:
            track.last_update = now
            return True
        return False

    def view(self, sid: str, now: float) -> DataTrackView | None:
        track = self._tracks.get(sid)
        return self._view(track, now) if track is not None else None

    def views(self, now: float) -> list[DataTrackView]:
        """Every track, in the order they were published."""
        return [self._view(track, now) for track in self._tracks.values()]

    def clear(self) -> None:
        """The room is gone: no track is left (the wanted names stay, for the next start)."""
        self._tracks.clear()

    def _view(self, track: _Track, now: float) -> DataTrackView:
        return replace(track.view, frame_rate=track.window.rate(now))
