"""Which of our video sources should be on, kept true across session starts, restarts and failures.

Front ends say what the user wants (``--camera``, a toggle in the palette); this controller publishes it
whenever the session is connected and stops the capture when it is not, so F5 (a new session) brings
the camera back by itself. A source that fails (no camera, no display, a broken file) is reported once
through ``on_warning`` and switched off; the conversation goes on.

A ``--video-file`` stands in for the camera: it is published as the camera track and the camera toggle
switches it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from agent_tui.session import ConnectionState, ConnectionStateChanged, Session, SessionEvent

from .errors import VideoError
from .frame_reader import FrameReader, SourceKind
from .publisher import VideoPublisher
from .settings import VideoSettings

log = logging.getLogger(__name__)

ReaderFactory = Callable[[SourceKind, VideoSettings], FrameReader]


def default_reader(kind: SourceKind, settings: VideoSettings) -> FrameReader:
    """The reader for the camera slot (the file when one is given) or the screen."""
    if kind is SourceKind.SCREEN:
        from .screen_source import ScreenReader

        return ScreenReader(settings.monitor, size=settings.size, fps=settings.fps)
    if settings.video_file is not None:
        from .file_source import FileReader

        return FileReader(settings.video_file, size=settings.size, fps=settings.fps)
    from .camera_source import CameraReader

    return CameraReader(settings.camera_device, size=settings.size, fps=settings.fps)


class VideoController:
    """Publishes the wanted sources on ``session`` whenever it is connected; see the module docstring."""

    SLOTS = (SourceKind.CAMERA, SourceKind.SCREEN)

    def __init__(
        self,
        session: Session,
        settings: VideoSettings,
        *,
        on_warning: Callable[[str], None],
        reader_factory: ReaderFactory = default_reader,
    ) -> None:
        self.session = session
        self.settings = settings
        self._on_warning = on_warning
        self._reader_factory = reader_factory
        self._wanted = {
            SourceKind.CAMERA: settings.camera or settings.video_file is not None,
            SourceKind.SCREEN: settings.screen,
        }
        self._publishers: dict[SourceKind, VideoPublisher] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._unsubscribe: Callable[[], None] | None = session.events.subscribe(self._on_event)

    def wanted(self, kind: SourceKind) -> bool:
        return self._wanted[kind]

    def publishing(self, kind: SourceKind) -> bool:
        publisher = self._publishers.get(kind)
        return publisher is not None and publisher.publication is not None

    def publisher(self, kind: SourceKind) -> VideoPublisher | None:
        return self._publishers.get(kind)

    def label(self, kind: SourceKind) -> str:
        if kind is SourceKind.SCREEN:
            return "Screen share"
        return "Video file" if self.settings.video_file is not None else "Camera"

    async def set_wanted(self, kind: SourceKind, on: bool) -> None:
        """Switch a source on or off; takes effect now when connected, else at the next connection."""
        self._wanted[kind] = on
        if self.session.connection_state is ConnectionState.CONNECTED:
            await self._apply(kind)

    async def toggle(self, kind: SourceKind) -> bool:
        """Flip a source; returns whether it is now wanted."""
        await self.set_wanted(kind, not self._wanted[kind])
        return self._wanted[kind]

    async def sync(self) -> None:
        """Publish what is wanted and stop what is not (called on connection changes, and by tests)."""
        for kind in self.SLOTS:
            await self._apply(kind)

    async def aclose(self) -> None:
        """Stop every source and stop following the session."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for kind in self.SLOTS:
            await self._stop(kind)

    # -- internals ---------------------------------------------------------------------------------------
    def _on_event(self, event: SessionEvent) -> None:
        if isinstance(event, ConnectionStateChanged) and (
            event.state is ConnectionState.CONNECTED or event.state is ConnectionState.DISCONNECTED
        ):
            task = asyncio.ensure_future(self.sync())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _apply(self, kind: SourceKind) -> None:
        async with self._lock:
            connected = self.session.connection_state is ConnectionState.CONNECTED
            should_run = self._wanted[kind] and connected
            running = kind in self._publishers
            if running and not should_run:
                await self._stop_locked(kind)
            elif should_run and not running:
                await self._start_locked(kind)

    async def _start_locked(self, kind: SourceKind) -> None:
        settings = self.settings
        try:
            reader = self._reader_factory(kind, settings)
        except VideoError as error:
            self._fail(kind, error)
            return
        publisher = VideoPublisher(
            self.session,
            reader,
            fps=settings.fps,
            simulcast=settings.simulcast,
            max_bitrate=settings.max_bitrate,
            on_ended=self._publisher_ended,
        )
        self._publishers[kind] = publisher
        try:
            await publisher.start()
        except VideoError as error:
            self._publishers.pop(kind, None)
            self._fail(kind, error)
        except Exception as error:  # the room went away while publishing: retried at the next connect
            self._publishers.pop(kind, None)
            log.info("publishing %s failed: %s", reader.label, error)
        else:
            log.info("publishing %s", reader.label)

    async def _stop(self, kind: SourceKind) -> None:
        async with self._lock:
            await self._stop_locked(kind)

    async def _stop_locked(self, kind: SourceKind) -> None:
        publisher = self._publishers.pop(kind, None)
        if publisher is not None:
            await publisher.stop()

    def _fail(self, kind: SourceKind, error: BaseException) -> None:
        self._wanted[kind] = False
        self._on_warning(f"{self.label(kind)} off: {error}")

    def _publisher_ended(self, publisher: VideoPublisher, failure: BaseException | None) -> None:
        """A source ended by itself (unplugged camera, damaged file): unpublish it and say why."""
        kind = publisher.kind if publisher.kind is not SourceKind.FILE else SourceKind.CAMERA
        if self._publishers.get(kind) is not publisher:
            return
        self._fail(kind, failure or RuntimeError(f"{publisher.reader.label} ended"))
        task = asyncio.ensure_future(self._stop(kind))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
