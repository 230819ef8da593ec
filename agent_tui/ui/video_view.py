"""``AgentVideoView``: the agent's video (or its avatar's), shown while it publishes one and the view is
open.

A :class:`~.video_panel.VideoPanel` (kitty graphics, sixel or half blocks) fed by an
:class:`~agent_tui.video.agent_view.AgentVideoFeed` at up to ``fps`` frames a second. The feed reads the
track only while the view is ``open`` and the agent has one, and the view is hidden otherwise. The
provider's ``VideoTrackUpdated`` messages move it to a new track. Closing the view stops the reading;
whether the SDK still receives the video is the host's call (``session.set_agent_video_subscribed``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from livekit import rtc
from textual.css.query import NoMatches

from agent_tui.video.agent_view import AgentVideoFeed
from agent_tui.video.cell_pixels import FALLBACK_CELL, CellPixels
from agent_tui.video.graphics_support import Graphics

from .messages import SessionMessage, VideoTrackUpdated
from .provider import provider_of
from .video_panel import VideoPanel

__all__ = ["AgentVideoView"]

#: The note while the view is open and the agent has no video.
WAITING = "Waiting for the agent's video…"


class AgentVideoView(VideoPanel):
    """See the module docstring."""

    def __init__(
        self,
        *,
        graphics: Graphics = Graphics.HALFBLOCK,
        cell: CellPixels = FALLBACK_CELL,
        fps: float = 10.0,
        open: bool = True,
        clock: Callable[[], float] = time.monotonic,
        id: str | None = None,
    ) -> None:
        super().__init__(graphics=graphics, cell=cell, id=id)
        self._open = open
        self._track: rtc.RemoteVideoTrack | None = None
        self._unfollow: Callable[[], None] | None = None
        #: The reader of the agent's track (tests and benchmarks feed it frames without a room).
        self.feed = AgentVideoFeed(self._show, picture_size=self._size_for, fps=fps, clock=clock)

    @property
    def open(self) -> bool:
        return self._open

    @open.setter
    def open(self, value: bool) -> None:
        self._open = value
        self._update()

    @property
    def track(self) -> rtc.RemoteVideoTrack | None:
        """The agent's video track as last announced (None: it has none)."""
        return self._track

    def on_mount(self) -> None:
        provider = provider_of(self)
        self._track = provider.session.agent_video_track
        self._unfollow = provider.follow(self._followed)
        self._update()

    def _on_unmount(self) -> None:  # VideoPanel's on_unmount takes its picture down too
        if self._unfollow is not None:
            self._unfollow()
        self.feed.attach(None)

    def _followed(self, message: SessionMessage[Any]) -> None:
        if isinstance(message, VideoTrackUpdated):
            self._track = message.event.track
            self._update()

    def _update(self) -> None:
        """Shown while open and the agent has video; the track is read only then."""
        track = self._track if self._open else None
        self.display = track is not None
        if track is None:
            self.show_note(WAITING)
        self.feed.attach(track)

    # The feed can outlive the view by a frame (the app closing): a frame then finds no room and is dropped.
    def _size_for(self, frame: tuple[int, int]) -> tuple[int, int]:
        if not self.is_mounted:
            return 0, 0
        try:
            return self.picture_size(frame)
        except NoMatches:
            return 0, 0

    def _show(self, rgb: np.ndarray) -> None:
        if self.is_mounted:
            self.show_frame(rgb)
