"""One published video track: a reader in a worker thread, an ``rtc.VideoSource``, the Session's track.

The reader opens in a thread (a camera can take a second), then the track is published through
:meth:`Session.publish_video` with the source kind the agent expects (camera or screen share), simulcast
off and our frame rate always asked for (see :mod:`.encoding`); frames cross from the thread to the loop
through :class:`LatestFrame` and are captured there, so the rtc SDK is only ever called from the event
loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from livekit import rtc

from agent_tui.session import Session

from .encoding import default_bitrate
from .errors import VideoError
from .frame_handoff import LatestFrame
from .frame_reader import FrameReader, SourceKind

log = logging.getLogger(__name__)


class VideoPublisher:
    """Publishes ``reader``'s frames on ``session`` from :meth:`start` until :meth:`stop`."""

    def __init__(
        self,
        session: Session,
        reader: FrameReader,
        *,
        fps: float,
        simulcast: bool = False,
        max_bitrate: int | None = None,
        on_ended: Callable[[VideoPublisher, BaseException | None], None] | None = None,
    ) -> None:
        self.session = session
        self.reader = reader
        self._fps = fps
        self._simulcast = simulcast
        self._max_bitrate = max_bitrate
        self._on_ended = on_ended
        self._source: rtc.VideoSource | None = None
        self._handoff: LatestFrame[rtc.VideoFrame] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._go = threading.Event()  # set once published (or stopping): the thread may read
        self.publication: rtc.LocalTrackPublication | None = None
        self.frames_sent = 0

    @property
    def kind(self) -> SourceKind:
        return self.reader.kind

    async def start(self) -> rtc.LocalTrackPublication:
        """Open the source and publish it; raises :class:`VideoError` (nothing stays published then).

        One thread opens and then reads the source: some capture libraries (mss on X11) must be used
        from the thread that opened them.
        """
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[tuple[int, int]] = loop.create_future()
        self._handoff = LatestFrame(loop, self._capture)
        self._thread = threading.Thread(
            target=self._pump, args=(loop, opened), name=f"video-{self.kind.value}", daemon=True
        )
        self._thread.start()
        try:
            width, height = await opened
            source = rtc.VideoSource(width, height, is_screencast=self.kind is SourceKind.SCREEN)
            self._source = source
            track = rtc.LocalVideoTrack.create_video_track(self.kind.value, source)
            bitrate = self._max_bitrate or default_bitrate(width, height, self._fps)
            encoding = rtc.VideoEncoding(max_bitrate=bitrate, max_framerate=self._fps)
            self.publication = await self.session.publish_video(
                track, source=self.kind.track_source, encoding=encoding, simulcast=self._simulcast
            )
        except BaseException:
            await self.stop()
            raise
        self._go.set()
        return self.publication

    def _capture(self, frame: rtc.VideoFrame) -> None:
        if self._source is None or self._stopping:
            return
        self._source.capture_frame(frame)
        self.frames_sent += 1

    def _pump(self, loop: asyncio.AbstractEventLoop, opened: asyncio.Future[tuple[int, int]]) -> None:
        """The worker thread: open, wait until published, read until stopped, the end or a failure."""
        failure: BaseException | None = None
        handoff = self._handoff
        assert handoff is not None
        try:
            try:
                size = self.reader.open()
            except BaseException as error:
                loop.call_soon_threadsafe(_settle, opened, None, error)
                return
            loop.call_soon_threadsafe(_settle, opened, size, None)
            self._go.wait()
            while not self._stopping:
                frame = self.reader.read()
                if frame is None or not handoff.put(frame):
                    break
        except Exception as error:
            failure = error
        finally:
            with contextlib.suppress(Exception):
                self.reader.close()
        if not self._stopping:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._ended, failure)

    def _ended(self, failure: BaseException | None) -> None:
        if failure is not None and not isinstance(failure, VideoError):
            log.warning("video source %s failed", self.reader.label, exc_info=failure)
        if self._on_ended is not None:
            self._on_ended(self, failure)

    async def stop(self) -> None:
        """Stop reading, unpublish the track and release the source; idempotent."""
        self._stopping = True
        self.reader.stop()
        self._go.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, 5.0)
        publication, self.publication = self.publication, None
        if publication is not None:
            await self.session.unpublish_track(publication.sid)
        source, self._source = self._source, None
        if source is not None:
            await source.aclose()


def _settle(
    future: asyncio.Future[tuple[int, int]], size: tuple[int, int] | None, error: BaseException | None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert size is not None
        future.set_result(size)
