"""The Textual front end: a thin controller between the Session's events and the widgets.

Flow: the Session emits typed events on its bus; :meth:`AgentTuiApp._forward_session_event` wraps each in a
:class:`SessionEventPosted` message, and the handler updates widgets. Audio is read, never pushed: one
timer at ``refresh_hz`` polls the engine's levels and status, advances the state animation and the
elapsed clock, so audio threads never touch widgets and the repaint rate is bounded. Everything the user
can do is an action (bound to a remappable key and listed in the palette) that calls the Session or the
audio engine in a worker; any failure becomes a notification, a transcript line or the error panel —
never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import App
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Input

from agent_tui.audio.controls import AudioControls, AudioStatus, MicMode
from agent_tui.session import (
    AgentAttributesChanged,
    AgentJoined,
    AgentLeft,
    AgentState,
    AgentStateChanged,
    AgentVideoTrackChanged,
    ByteStreamReceived,
    ConnectionState,
    ConnectionStateChanged,
    MessageChanged,
    Session,
    SessionEvent,
    SessionWarning,
    Speaker,
)
from agent_tui.video.agent_view import AgentVideoFeed
from agent_tui.video.cell_pixels import FALLBACK_CELL, CellPixels, terminal_cell_pixels
from agent_tui.video.controller import VideoController
from agent_tui.video.frame_reader import SourceKind
from agent_tui.video.graphics_support import Graphics, detect_graphics
from agent_tui.video.settings import VideoSettings

from .actions import base_key, bindings_for, keys_for, unknown_binding_ids
from .commands import AgentCommands
from .downloads import save_download
from .insight import InsightPresenter
from .key_release import KeyRelease, KeyRepeat, KittyFlagsReported
from .problems import (
    Problem,
    problem_for_audio,
    problem_for_connection_lost,
    problem_for_error,
    problem_for_failure,
)
from .ptt import PttAction, PttMethod, PushToTalk, resolve_method
from .screens.device_picker import DeviceChoice, DevicePicker
from .screens.dialogs import FileDialog, FileRequest, RpcDialog, RpcRequest
from .screens.error_panel import ErrorPanel
from .screens.help import HelpScreen
from .screens.main import MainScreen
from .settings import PttMethodSetting, UiSettings
from .transcript_export import format_transcript, write_transcript
from .widgets.agent_state import AgentStateIndicator
from .widgets.attributes_panel import AttributesPanel
from .widgets.banner import Banner
from .widgets.chat_input import ChatInput
from .widgets.header_bar import HeaderBar
from .widgets.level_meter import LevelMeter
from .widgets.mic_panel import MicPanel
from .widgets.transcript_view import EntryKind, TranscriptEntry, TranscriptView
from .widgets.video_panel import VideoPanel

log = logging.getLogger(__name__)

#: How long quitting waits for the session to end cleanly before leaving anyway.
END_TIMEOUT = 5.0
#: How long a warning (a problem the conversation survives) stays on screen, in seconds.
WARNING_TIMEOUT = 10.0
#: Connection-state reasons that mean "we ended it on purpose" (see Session._teardown callers).
_DELIBERATE_REASONS = frozenset({"ended", "start failed"})


# -- messages -----------------------------------------------------------------------------------------
class SessionEventPosted(Message):
    """A Session event, delivered through the app's message queue so widgets are only touched there."""

    def __init__(self, event: SessionEvent) -> None:
        super().__init__()
        self.event = event


class SessionStartFailed(Message):
    """``Session.start`` raised; the error panel explains it."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class AgentTuiApp(App[int]):
    """See the module docstring. ``autostart=False`` and ``animate=False`` are for tests and snapshots:
    the session is then driven by events the test emits, and nothing moves on its own. ``cell_pixels``
    fixes the terminal's cell size in pixels (tests, benchmarks); by default the terminal is asked once,
    and only when the video panel draws with kitty or sixel."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "agent-tui"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("app")
    COMMANDS = App.COMMANDS | {AgentCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        session: Session,
        *,
        audio: AudioControls | None,
        ui: UiSettings,
        transcript_path: Path | None = None,
        text_only_reason: str | None = None,
        video: VideoController | None = None,
        video_settings: VideoSettings | None = None,
        autostart: bool = True,
        animate: bool = True,
        clock: Callable[[], float] = time.monotonic,
        clock_format: Callable[[float], str] | None = None,
        cell_pixels: CellPixels | None = None,
        driver_class: Any = None,
    ) -> None:
        super().__init__(driver_class=driver_class)
        self.session = session
        self.audio = audio
        self.ui = ui
        self.transcript_path = transcript_path
        self._text_only_reason = text_only_reason
        self._autostart = autostart
        self._animations = animate
        self._clock = clock
        self._clock_format = clock_format
        self._user_keymap = ui.effective_keymap()
        self._release_supported = False
        self._ptt = PushToTalk(
            resolve_method(ui.ptt_method, release_supported=False),
            release_timeout=ui.ptt_release_timeout_ms / 1000,
            repeat_delay=ui.ptt_repeat_delay_ms / 1000,
        )
        self._talk_queue: asyncio.Queue[PttAction] = asyncio.Queue()
        self._ptt_timer: Any = None
        self._generation = 0
        self._started_at: float | None = None
        self._stopped_at: float | None = None
        self._agent_name: str | None = session.options.agent_name
        #: The room and identity of the agent whose joining the transcript last announced.
        self._announced_agent: tuple[str | None, str] | None = None
        # What the events said last: the app follows the event stream, not the session's live fields.
        self._connection = session.connection_state
        self._agent_state = session.agent_state
        self._problem: Problem | None = None
        self._problem_screen: ErrorPanel | None = None
        self._ending = False
        self._quitting = False
        self._last_status: AudioStatus | None = None
        self._last_open_mic_hint = -1e9
        self._notice_serial = 0
        self._main: MainScreen | None = None
        self._insight = InsightPresenter(self)
        # Subscribed from the start so no event is lost; those that arrive before the main screen is
        # up wait in ``_pending`` and are shown, in order, once it is.
        self._screen_ready = False
        self._pending: list[SessionEvent] = []
        # Video: the panel is open unless --no-video; it shows only while the agent has a video track.
        self.video = video
        self.video_settings = video_settings or (video.settings if video is not None else VideoSettings())
        self._video_open = self.video_settings.show_agent_video
        self._agent_video_track = session.agent_video_track
        # Picked once: the [video] graphics setting, or for "auto" what the environment says the terminal is.
        self.video_graphics = detect_graphics(os.environ, setting=self.video_settings.graphics)
        if cell_pixels is None and self.video_graphics is not Graphics.HALFBLOCK:
            cell_pixels = terminal_cell_pixels()
        self.cell_pixels = cell_pixels or FALLBACK_CELL
        self._video_feed = AgentVideoFeed(
            self._show_video_frame,
            picture_size=self._video_picture_size,
            fps=self.video_settings.panel_fps,
            clock=clock,
        )
        self._unsubscribe: Callable[[], None] | None = session.events.subscribe(self._forward_session_event)

    # -- public state (read by tests, the palette and the help screen) ------------------------------------
    @property
    def audio_available(self) -> bool:
        return self.audio is not None and not self._status_text_only()

    @property
    def video_panel(self) -> VideoPanel:
        return self.main.query_one("#video-panel", VideoPanel)

    @property
    def video_feed(self) -> AgentVideoFeed:
        return self._video_feed

    @property
    def video_open(self) -> bool:
        return self._video_open

    @property
    def ptt(self) -> PushToTalk:
        return self._ptt

    @property
    def release_supported(self) -> bool:
        return self._release_supported

    @property
    def current_problem(self) -> Problem | None:
        return self._problem

    @property
    def main(self) -> MainScreen:
        assert self._main is not None, "the main screen exists once the app runs"
        return self._main

    @property
    def transcript(self) -> TranscriptView:
        return self.main.query_one("#transcript", TranscriptView)

    def action_state(self, state: str) -> bool:
        """The toggles' states, for the palette's titles (see :data:`.actions.ACTIONS`)."""
        status = self._status()
        video = self.video
        states = {
            "muted": status is not None and status.muted,
            "push_to_talk": status is not None and status.mode is MicMode.PUSH_TO_TALK,
            "aec": status is not None and status.aec,
            "attributes_shown": self._main is not None and self.main.attributes_shown,
            "text_mode": self._insight.text_mode,
            "agent_info_shown": self._main is not None and self._insight.panel_shown,
            "video_open": self._video_open,
            "camera": video is not None and video.wanted(SourceKind.CAMERA),
            "screen_share": video is not None and video.wanted(SourceKind.SCREEN),
        }
        return states[state]

    def ptt_keys(self) -> list[str]:
        return keys_for("ptt", self._user_keymap)

    def ptt_summary(self) -> str:
        key = " / ".join(self.ptt_keys())
        support = (
            "this terminal reports key releases"
            if self._release_supported
            else "this terminal does not report key releases (tmux, most legacy terminals)"
        )
        return (
            f"{key} — {self._ptt.method.label}; {support}. Set ptt_method = "
            f"auto | release | repeat | toggle and ptt_key in [tui]. Esc cancels a turn."
        )

    # -- life cycle ---------------------------------------------------------------------------------------
    def get_default_screen(self) -> MainScreen:
        self._main = MainScreen(
            max_transcript_lines=self.ui.max_transcript_lines,
            clock_format=self._clock_format,
            graphics=self.video_graphics,
            cell=self.cell_pixels,
        )
        return self._main

    def on_mount(self) -> None:
        # The theme is set before the first paint; the rest waits for the main screen (on_ready).
        if self.ui.theme in self.available_themes:
            self.theme = self.ui.theme
        else:
            self.notify(f"Unknown theme {self.ui.theme!r}; using {self.theme}.", severity="warning")

    def on_ready(self) -> None:
        unknown = unknown_binding_ids(self._user_keymap)
        if unknown:
            self.notify(
                f"Unknown binding ids in [tui.keymap]: {', '.join(unknown)} (see F1).", severity="warning"
            )
        try:
            self.set_keymap(self._user_keymap)
        except Exception as error:  # a malformed key string must not stop the app
            self.notify(f"The keymap could not be applied: {error}", severity="error")
        if not self._animations:
            self.main.query_one("#chat", ChatInput).cursor_blink = False
        for topic in self.ui.file_topics:
            self.session.receive_byte_streams(topic)
        self._show_initial_state()
        self._talk_pump()
        if self._animations:
            self.set_interval(1 / self.ui.refresh_hz, self.refresh_now, name="refresh")
        self.main.query_one("#chat", ChatInput).focus()
        if self._text_only_reason:
            self._show_problem(problem_for_audio(self._text_only_reason))
        self._screen_ready = True
        for event in self._pending:
            self._show_event(event)
        self._pending.clear()
        if self._autostart:
            self.start_session()

    def on_unmount(self) -> None:
        self._video_feed.attach(None)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _show_initial_state(self) -> None:
        main = self.main
        header = main.query_one(HeaderBar)
        header.set_room(self._room_name())
        header.set_agent(self._agent_name)
        header.set_connection(self.session.connection_state)
        main.query_one(AgentStateIndicator).set_state(self.session.agent_state, self.session.agent_failure)
        main.query_one("#banner", Banner).hide()
        self._refresh_audio_status(force=True)
        main.query_one(AttributesPanel).set_attributes(self.session.agent_attributes)
        self._update_video_panel()
        if self.audio is None or self._status_text_only():
            main.query_one("#agent-level", LevelMeter).set_off("text only")

    @work(group="session", exclusive=True, exit_on_error=False)
    async def start_session(self) -> None:
        """Start the session without waiting for the agent: its arrival shows up as state changes."""
        self._generation += 1
        self._ending = False
        self._banner("Connecting to the LiveKit server…", "info")
        try:
            await self.session.start(wait_for_agent=False)
        except Exception as error:
            log.info("session start failed: %s", error)
            self.post_message(SessionStartFailed(error))

    def on_session_start_failed(self, message: SessionStartFailed) -> None:
        self._banner("Not connected — F5 to retry.", "error")
        self._show_problem(problem_for_error(message.error))

    async def _end_session(self) -> None:
        self._ending = True
        try:
            await asyncio.wait_for(self.session.end(), timeout=END_TIMEOUT)
        except Exception as error:
            log.warning("ending the session failed: %s", error)

    # -- session events -----------------------------------------------------------------------------------
    def _forward_session_event(self, event: SessionEvent) -> None:
        """Runs in the Session's task: hand over to the message queue and return at once."""
        self.post_message(SessionEventPosted(event))

    def on_session_event_posted(self, message: SessionEventPosted) -> None:
        if self._screen_ready:
            self._show_event(message.event)
        else:
            self._pending.append(message.event)

    def _show_event(self, event: SessionEvent) -> None:
        try:
            if self._insight.show(event):  # tool calls, latency badges, agent info and errors
                return
            if isinstance(event, ConnectionStateChanged):
                self._handle_connection(event)
            elif isinstance(event, AgentStateChanged):
                self._handle_agent_state(event)
            elif isinstance(event, MessageChanged):
                self._handle_message(event)
            elif isinstance(event, AgentJoined):
                self._handle_agent_joined(event)
            elif isinstance(event, AgentLeft):
                if event.unexpected:
                    self._announced_agent = None
                    self.add_notice("The agent left the room.", error=True, at=event.at)
            elif isinstance(event, AgentAttributesChanged):
                self.main.query_one(AttributesPanel).set_attributes(event.attributes, event.changed)
            elif isinstance(event, ByteStreamReceived):
                self._handle_file(event)
            elif isinstance(event, AgentVideoTrackChanged):
                self._agent_video_track = event.track
                self._update_video_panel()
            elif isinstance(event, SessionWarning):
                self.add_notice(event.message, error=True, at=event.at)
                self.notify(event.message, severity="warning", timeout=WARNING_TIMEOUT)
        except Exception:
            # A display bug must not end the conversation; it is logged for the report.
            log.exception("could not show %s", type(event).__name__)

    def _handle_agent_joined(self, event: AgentJoined) -> None:
        self._agent_name = self.session.options.agent_name or event.name or event.identity
        self._insight.agent_changed()
        self.main.query_one(HeaderBar).set_agent(self._agent_name)
        self.main.query_one(AttributesPanel).set_attributes(event.attributes)
        # A new session (Retry, F5) that lands in the same room finds the agent still there, and the
        # Session reports it as joined: it never left, and the transcript already says it joined.
        agent = (self._room_name(), event.identity)
        if agent != self._announced_agent:
            self._announced_agent = agent
            self.add_notice(f"{self._agent_name} joined the room.", at=event.at)

    def _room_name(self) -> str | None:
        return self.session.room_name or self.session.options.room_name

    def _handle_connection(self, event: ConnectionStateChanged) -> None:
        self._connection = event.state
        main = self.main
        main.query_one(HeaderBar).set_connection(event.state)
        main.query_one(HeaderBar).set_room(self._room_name())
        if event.state is ConnectionState.CONNECTING:
            self._banner("Connecting to the LiveKit server…", "info")
        elif event.state is ConnectionState.RECONNECTING:
            self._banner("⟳ Reconnecting… the connection dropped; the conversation is kept.", "warning")
        elif event.state is ConnectionState.CONNECTED:
            if self._started_at is None or event.previous is ConnectionState.CONNECTING:
                self._started_at = self._clock()
                self._stopped_at = None
            if event.previous is ConnectionState.RECONNECTING:
                self.notify("Reconnected.")
                self.add_notice("Reconnected to the LiveKit server.", at=event.at)
            self._update_waiting_banner()
        else:
            self._stopped_at = self._clock()
            if self._ptt.talking:
                self._dispatch_ptt(self._ptt.cancel())
            if self._ending or self._quitting or event.reason in _DELIBERATE_REASONS:
                self._banner("Session ended — F5 starts a new one.", "info")
            else:
                self._banner("✖ Disconnected — F5 to reconnect.", "error")
                self.add_notice(
                    f"Connection lost ({event.reason or 'no reason given'}).", error=True, at=event.at
                )
                self._show_problem(problem_for_connection_lost(event.reason))
        self.refresh_now()

    def _handle_agent_state(self, event: AgentStateChanged) -> None:
        self._agent_state = event.state
        self.main.query_one(AgentStateIndicator).set_state(event.state, event.failure)
        if event.state is AgentState.FAILED and event.failure is not None and not self._ending:
            self._show_problem(problem_for_failure(event.failure))
        elif event.state.is_connected and self._problem is not None and self._problem.kind == "agent":
            self._clear_problem("The agent is here now.")
        self._update_waiting_banner()

    def _update_waiting_banner(self) -> None:
        if self._connection is not ConnectionState.CONNECTED:
            return
        state = self._agent_state
        if state.is_connected or state is AgentState.FAILED:
            self._banner(None)
        else:
            self._banner("Connected — waiting for the agent to join…", "info")

    def _handle_message(self, event: MessageChanged) -> None:
        message = event.message
        agent = message.speaker is Speaker.AGENT
        self.transcript.upsert(
            TranscriptEntry(
                key=f"{self._generation}:{message.id}",
                kind=EntryKind.AGENT if agent else EntryKind.USER,
                text=message.text,
                at=message.first_seen,
                final=message.final,
                label="Agent" if agent else "You",
                cancelled=message.cancelled,
            )
        )

    @work(group="files", exit_on_error=False)
    async def _handle_file(self, event: ByteStreamReceived) -> None:
        if event.topic not in self.ui.file_topics:
            return
        try:
            path = await asyncio.to_thread(save_download, self.ui.downloads_dir, event.name, event.data)
        except OSError as error:
            self.add_notice(
                f"Could not save {event.name!r} from the agent: {error.strerror or error}.", error=True
            )
            return
        self.add_notice(
            f"Received {event.name!r} ({_size(len(event.data))}, {event.mime_type}) — saved to {path}"
        )
        self.notify(f"Saved {path.name} to {path.parent}")

    # -- the agent's video ----------------------------------------------------------------------------
    def _update_video_panel(self) -> None:
        """Show the panel while it is open and the agent has video; read the track only then."""
        panel = self.video_panel
        track = self._agent_video_track if self._video_open else None
        panel.display = track is not None
        if track is None:
            panel.show_note("Waiting for the agent's video…")
        self._video_feed.attach(track)

    # The feed runs until the app unmounts, which comes after the screen's widgets are gone: a frame in
    # between finds no panel and is dropped (size (0, 0) skips it before any conversion).
    def _video_picture_size(self, frame: tuple[int, int]) -> tuple[int, int]:
        try:
            return self.video_panel.picture_size(frame)
        except NoMatches:
            return 0, 0

    def _show_video_frame(self, rgb: Any) -> None:
        with contextlib.suppress(NoMatches):
            self.video_panel.show_frame(rgb)

    def action_toggle_video_panel(self) -> None:
        self._video_open = not self._video_open
        # Unsubscribing is what stops the SDK from receiving and decoding the agent's video.
        self.session.set_agent_video_subscribed(self._video_open)
        self._update_video_panel()
        if self._video_open and self._agent_video_track is None:
            self.notify("The agent's video shows here when it publishes some.")
        elif not self._video_open:
            self.notify("Agent video hidden.")

    # -- our video ----------------------------------------------------------------------------------------
    def action_toggle_camera(self) -> None:
        self._toggle_source(SourceKind.CAMERA)

    def action_toggle_screen_share(self) -> None:
        self._toggle_source(SourceKind.SCREEN)

    @work(group="video", exit_on_error=False)
    async def _toggle_source(self, kind: SourceKind) -> None:
        video = self.video
        if video is None:
            self.notify("Video publishing is not available in this session.", severity="warning")
            return
        on = await video.toggle(kind)
        label = video.label(kind)
        if not on:
            self.notify(f"{label} off.")
        elif video.publishing(kind):
            self.notify(f"{label} on: the agent can see it.")
        elif self._connection is not ConnectionState.CONNECTED:
            self.notify(f"{label} on once connected.")

    # -- transcript helpers -------------------------------------------------------------------------------
    def add_notice(self, text: str, *, error: bool = False, at: float | None = None) -> None:
        self._notice_serial += 1
        self.transcript.upsert(
            TranscriptEntry(
                key=f"notice:{self._notice_serial}",
                kind=EntryKind.ERROR if error else EntryKind.NOTICE,
                text=text,
                at=time.time() if at is None else at,
            )
        )

    # -- the refresh tick ---------------------------------------------------------------------------------
    def refresh_now(self) -> None:
        """One frame: elapsed time, the state animation, audio status and levels (also called by tests)."""
        main = self._main
        if main is None or not main.is_mounted:
            return
        elapsed = None
        if self._started_at is not None:
            elapsed = (self._stopped_at if self._stopped_at is not None else self._clock()) - self._started_at
        try:
            main.query_one(HeaderBar).set_elapsed(elapsed)
            if self._animations:
                main.query_one(AgentStateIndicator).advance()
            self._refresh_audio_status()
            self._poll_levels()
        except NoMatches:
            # A tick can land while the app is closing and the screen's widgets are already gone (seen
            # once in the video benchmark): there is nothing left to draw, and the app must not crash.
            return

    def _status(self) -> AudioStatus | None:
        if self.audio is None:
            return None
        try:
            return self.audio.status
        except Exception:
            log.exception("audio status failed")
            return None

    def _status_text_only(self) -> bool:
        status = self._status()
        return status is None or status.text_only

    def _refresh_audio_status(self, *, force: bool = False) -> None:
        status = self._status()
        if status == self._last_status and not force:
            return
        self._last_status = status
        panel = self.main.query_one(MicPanel)
        if status is None:
            panel.show_text_only(self._text_only_reason or "No audio in this session.")
            return
        panel.show_status(status, ptt_method=self._ptt.method.label, ptt_key=self.ptt_keys()[0])
        if status.text_only:
            self.main.query_one("#agent-level", LevelMeter).set_off("text only")

    def _poll_levels(self) -> None:
        status = self._last_status
        if self.audio is None or status is None or status.text_only:
            return
        try:
            self.main.query_one("#agent-level", LevelMeter).set_level(self.audio.output_level().rms_db)
            if not status.muted:
                self.main.query_one(MicPanel).set_input_level(self.audio.input_level().rms_db)
        except Exception:
            log.exception("reading audio levels failed")

    # -- chat -----------------------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "chat":
            return
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        self._send_chat(text)

    @work(group="chat", exit_on_error=False)
    async def _send_chat(self, text: str) -> None:
        try:
            await self.session.send_chat(text)
        except Exception as error:
            chat = self.main.query_one("#chat", ChatInput)
            if not chat.value:
                chat.value = text  # give the text back so it is not lost
            self.notify(f"Not sent: {error}", severity="error")

    # -- push-to-talk -------------------------------------------------------------------------------------
    def _ptt_ready(self, *, quiet: bool = False) -> bool:
        status = self._status()
        if status is None or status.text_only:
            if not quiet:
                self._hint_once("No microphone in this session: type your message instead.")
            return False
        if status.mode is not MicMode.PUSH_TO_TALK:
            if not quiet:
                key = " / ".join(keys_for("mic_mode", self._user_keymap))
                self._hint_once(f"The mic is open (always on). {key} switches to push-to-talk.")
            return False
        return True

    def _hint_once(self, text: str) -> None:
        """Held keys repeat: one hint per few seconds, not one per repeat."""
        now = self._clock()
        if now - self._last_open_mic_hint > 3.0:
            self._last_open_mic_hint = now
            self.notify(text)

    def action_ptt(self) -> None:
        if self._ptt_ready():
            self._dispatch_ptt(self._ptt.press(self._clock()))

    def action_ptt_cancel(self) -> None:
        if self._ptt.talking:
            self._dispatch_ptt(self._ptt.cancel())

    def on_key_repeat(self, message: KeyRepeat) -> None:
        if self._is_ptt_key(message.key):
            if self._ptt_ready(quiet=True):
                self._dispatch_ptt(self._ptt.repeat(self._clock()))
            return
        # Repeats of every other key behave as before: held backspace keeps deleting.
        self.post_message(events.Key(message.key, message.character))

    def on_key_release(self, message: KeyRelease) -> None:
        if self._is_ptt_key(message.key):
            self._dispatch_ptt(self._ptt.release(self._clock()))

    def on_kitty_flags_reported(self, message: KittyFlagsReported) -> None:
        self._release_supported = message.reports_event_types
        self._apply_ptt_method()

    def on_app_blur(self) -> None:
        self._dispatch_ptt(self._ptt.focus_lost())

    def set_ptt_method(self, setting: PttMethodSetting) -> None:
        """Change the push-to-talk method while running (tests and the palette)."""
        self.ui = self.ui.model_copy(update={"ptt_method": setting})
        self._apply_ptt_method()

    def _apply_ptt_method(self) -> None:
        method = resolve_method(self.ui.ptt_method, release_supported=self._release_supported)
        if method is not self._ptt.method:
            self._dispatch_ptt(self._ptt.set_method(method))
            if self.ui.ptt_method is PttMethodSetting.RELEASE and method is PttMethod.REPEAT:
                self.notify(
                    "This terminal does not report key releases; push-to-talk infers them from key repeat."
                )
        self._refresh_audio_status(force=True)

    def _is_ptt_key(self, key: str) -> bool:
        return base_key(key) in {base_key(k) for k in self.ptt_keys()}

    def _dispatch_ptt(self, action: PttAction | None) -> None:
        if action is None:
            self._schedule_ptt_check()
            return
        self._talk_queue.put_nowait(action)
        self._schedule_ptt_check()
        self._refresh_audio_status(force=True)

    def _schedule_ptt_check(self) -> None:
        if self._ptt_timer is not None:
            self._ptt_timer.stop()
            self._ptt_timer = None
        deadline = self._ptt.deadline
        if deadline is not None:
            self._ptt_timer = self.set_timer(max(0.0, deadline - self._clock()) + 0.005, self.check_ptt)

    def check_ptt(self) -> None:
        """Infer a release in repeat mode once the key-repeat stream has stopped."""
        self._ptt_timer = None
        self._dispatch_ptt(self._ptt.tick(self._clock()))

    @work(group="talk", exit_on_error=False)
    async def _talk_pump(self) -> None:
        """Applies push-to-talk actions to the engine one at a time, in order: a slow ``start_turn`` RPC
        must not let the following ``end`` overtake it."""
        while True:
            action = await self._talk_queue.get()
            audio = self.audio
            if audio is None:
                continue
            try:
                if action is PttAction.START:
                    await audio.talk_start()
                elif action is PttAction.END:
                    await audio.talk_end()
                else:
                    await audio.talk_cancel()
            except Exception as error:
                self.notify(f"Push-to-talk: {error}", severity="error")
            self._refresh_audio_status(force=True)

    # -- microphone actions -------------------------------------------------------------------------------
    def _audio_or_hint(self) -> AudioControls | None:
        if self.audio is None or self._status_text_only():
            self.notify("No audio in this session (text only).", severity="warning")
            return None
        return self.audio

    def action_toggle_mute(self) -> None:
        audio = self._audio_or_hint()
        if audio is None:
            return
        muted = not audio.status.muted
        try:
            audio.set_muted(muted)
            self.session.set_microphone_muted(muted)
        except Exception as error:
            self.notify(f"Mute failed: {error}", severity="error")
        if muted:
            self.main.query_one("#mic-level", LevelMeter).set_off("muted")
        self._refresh_audio_status(force=True)

    def action_toggle_mic_mode(self) -> None:
        audio = self._audio_or_hint()
        if audio is None:
            return
        mode = MicMode.OPEN if audio.status.mode is MicMode.PUSH_TO_TALK else MicMode.PUSH_TO_TALK
        if mode is MicMode.OPEN and self._ptt.talking:
            self._dispatch_ptt(self._ptt.cancel())
        try:
            audio.set_mode(mode)
        except Exception as error:
            self.notify(f"Could not change the mic mode: {error}", severity="error")
        self._refresh_audio_status(force=True)
        if mode is MicMode.PUSH_TO_TALK:
            self.notify(f"Push-to-talk: {' / '.join(self.ptt_keys())} — {self._ptt.method.label}.")
        else:
            self.notify("Open mic: the microphone is always on.")

    def action_toggle_aec(self) -> None:
        audio = self._audio_or_hint()
        if audio is None:
            return
        enabled = not audio.status.aec
        try:
            audio.set_aec(enabled)
        except Exception as error:
            self.notify(f"Echo cancellation: {error}", severity="error")
        self._refresh_audio_status(force=True)
        self.notify(f"Echo cancellation {'on' if enabled else 'off'}.")

    @work(group="devices", exclusive=True, exit_on_error=False)
    async def action_pick_devices(self) -> None:
        audio = self._audio_or_hint()
        if audio is None:
            return
        try:
            devices = await asyncio.to_thread(audio.list_devices)
        except Exception as error:
            self.notify(f"Could not list audio devices: {error}", severity="error")
            return
        status = audio.status
        choice: DeviceChoice | None = await self.push_screen_wait(
            DevicePicker(devices, input_name=status.input_name, output_name=status.output_name)
        )
        if choice is None:
            return
        try:
            await audio.select_devices(input_device=choice.input_device, output_device=choice.output_device)
        except Exception as error:
            self.notify(str(error), severity="error", title="Audio device")
            return
        self._refresh_audio_status(force=True)
        self.notify(
            f"Using {audio.status.input_name or 'default'} / {audio.status.output_name or 'default'}."
        )

    # -- session actions ----------------------------------------------------------------------------------
    @work(group="session-control", exclusive=True, exit_on_error=False)
    async def action_reconnect(self) -> None:
        self._clear_problem(None)
        self.add_notice("Starting a new session…")
        await self._end_session()
        self._started_at = None
        self.start_session()

    @work(group="session-control", exclusive=True, exit_on_error=False)
    async def action_end_session(self) -> None:
        await self._end_session()
        self.add_notice("Session ended. F5 starts a new one.")

    @work(group="files", exit_on_error=False)
    async def action_send_file(self) -> None:
        topic = self.ui.file_topics[0] if self.ui.file_topics else "files"
        request: FileRequest | None = await self.push_screen_wait(FileDialog(topic=topic))
        if request is None:
            return
        if not await asyncio.to_thread(request.path.is_file):
            self.notify(f"No such file: {request.path}", severity="error")
            return
        try:
            await self.session.send_file(request.path, topic=request.topic)
        except Exception as error:
            self.notify(f"Could not send {request.path.name}: {error}", severity="error")
            return
        self.add_notice(f"Sent {request.path.name} on {request.topic!r}.")

    @work(group="rpc", exit_on_error=False)
    async def action_call_rpc(self) -> None:
        request: RpcRequest | None = await self.push_screen_wait(RpcDialog())
        if request is None:
            return
        await self.call_rpc(request.method, request.payload)

    async def call_rpc(self, method: str, payload: str) -> None:
        """Call ``method`` on the agent and put the reply (or the error) in the transcript."""
        self.add_notice(f"RPC {method}({payload}) …")
        try:
            reply = await self.session.perform_rpc(method, payload)
        except Exception as error:
            self.add_notice(f"RPC {method} failed: {error}", error=True)
            self.notify(str(error), severity="error", title="RPC")
            return
        self.add_notice(f"RPC {method} → {reply}")
        self.notify(reply or "(empty reply)", title=f"RPC {method}")

    @work(group="export", exit_on_error=False)
    async def action_export_transcript(self) -> None:
        path = self.transcript_path or self.ui.downloads_dir / time.strftime("transcript-%Y%m%d-%H%M%S.txt")
        try:
            written = await self._write_transcript(path)
        except OSError as error:
            self.notify(f"Could not write {path}: {error.strerror or error}", severity="error")
            return
        self.notify(f"Transcript written to {written}")

    async def _write_transcript(self, path: Path) -> Path:
        text = format_transcript(self.transcript.entries, room=self.session.room_name, agent=self._agent_name)
        return await asyncio.to_thread(write_transcript, path, text)

    # -- view actions -------------------------------------------------------------------------------------
    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(keymap=self._user_keymap, ptt_summary=self.ptt_summary()))

    @property
    def insight(self) -> InsightPresenter:
        return self._insight

    @work(group="text-mode", exclusive=True, exit_on_error=False)
    async def action_toggle_text_mode(self) -> None:
        await self._insight.toggle_text_mode()

    def action_toggle_agent_info(self) -> None:
        self._insight.toggle_panel()

    # -- quitting -----------------------------------------------------------------------------------------
    async def action_quit(self) -> None:
        if self._quitting:
            self.exit(self._exit_code())  # second press: leave now
            return
        self._quitting = True
        self._banner("Ending the session… (press again to leave at once)", "info")
        self._quit()

    @work(group="quit", exit_on_error=False)
    async def _quit(self) -> None:
        await self._end_session()
        if self.transcript_path is not None:
            try:
                await self._write_transcript(self.transcript_path)
            except OSError as error:
                log.warning("could not write the transcript: %s", error)
        self.exit(self._exit_code())

    def _exit_code(self) -> int:
        return self._problem.exit_code if self._problem is not None else 0

    # -- problems -----------------------------------------------------------------------------------------
    def _show_problem(self, problem: Problem) -> None:
        """A problem the conversation survives is a notification (its panel shows the state): a dialog
        would take the keyboard from the chat input while the user types. Only a problem that stops the
        conversation opens the error panel."""
        if problem.survivable:
            self.notify(problem.text, title=problem.title, severity="warning", timeout=WARNING_TIMEOUT)
            return
        self._problem = problem
        if self._problem_screen is not None:
            if self._problem_screen.problem == problem:
                return
            self._problem_screen.dismiss("replaced")
        screen = ErrorPanel(problem)
        self._problem_screen = screen

        def chosen(choice: str | None) -> None:
            if self._problem_screen is screen:
                self._problem_screen = None
            if choice == "retry":
                self.action_reconnect()
            elif choice == "quit":
                self.exit(problem.exit_code)

        self.push_screen(screen, chosen)

    def _clear_problem(self, note: str | None) -> None:
        self._problem = None
        screen = self._problem_screen
        if screen is not None:
            self._problem_screen = None
            screen.dismiss("resolved")
            if note:
                self.notify(note)

    def _banner(self, text: str | None, variant: str = "info") -> None:
        main = self._main
        if main is None or not main.is_mounted:
            return
        banner = main.query_one("#banner", Banner)
        if text is None:
            banner.hide()
        else:
            banner.show(text, variant)

    # -- last line of defence -----------------------------------------------------------------------------
    def _fatal_error(self) -> None:
        """Textual would print a full traceback with locals here; log it and tell the user one line."""
        error = self._exception
        log.error("agent-tui stopped after an unexpected error", exc_info=error)
        with contextlib.suppress(Exception):
            self.session.events.close()
        self._exit_renderables.append(
            Text(
                f"agent-tui stopped after an unexpected error: {type(error).__name__}: {error}. "
                "This is a bug; the log has the details.",
                style="bold red",
            )
        )
        self._close_messages_no_wait()


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
