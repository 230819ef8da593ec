"""The Textual front end: a thin controller between the Session's events and the widgets.

Flow: the Session emits typed events on its bus; :meth:`AgentTuiApp._forward_session_event` posts each
as the message of its type (:mod:`.messages`), and the app's ``on_<message>`` handlers set the app's
state — reactives (connection, agent state, banner, problem, microphone, levels) that the main screen's
widgets watch — or write the transcript. Audio is read, never pushed: one timer at ``refresh_hz`` polls
the engine's levels and status, advances the state animation and the elapsed clock, so audio threads
never touch widgets and the repaint rate is bounded. Everything the user can do is an action from the
one table in :mod:`.actions` (a remappable key, a palette entry, a help line) that calls the Session or
the audio engine in a worker; any failure becomes a notification, a transcript line or the error panel —
never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import App
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.reactive import var
from textual.timer import Timer

from agent_tui.audio.controls import AudioControls, AudioStatus, MicMode
from agent_tui.session import (
    AgentExpression,
    AgentFailure,
    AgentState,
    ConnectionState,
    Conversation,
    DataTrackView,
)
from agent_tui.ui.agent_state import ANIMATED_STATES
from agent_tui.ui.chat_input import AgentChatInput
from agent_tui.ui.chat_transcript import AgentChatTranscript
from agent_tui.ui.insight_panel import InsightPanel
from agent_tui.ui.level_meter import FLOOR_DB
from agent_tui.ui.messages import (
    AgentArrived,
    AgentDeparted,
    AgentStateUpdated,
    AttributesUpdated,
    ConnectionChanged,
    DataTrackAppeared,
    DataTrackGone,
    DataTrackRefreshed,
    EncryptionFailed,
    ExpressionUpdated,
    FileReceived,
    InsightReceived,
    SessionMessage,
    SessionStartFailed,
    WarningRaised,
    shown_safely,
)
from agent_tui.ui.video_view import AgentVideoView
from agent_tui.video.agent_view import AgentVideoFeed
from agent_tui.video.cell_pixels import FALLBACK_CELL, CellPixels, terminal_cell_pixels
from agent_tui.video.controller import VideoController
from agent_tui.video.frame_reader import SourceKind
from agent_tui.video.graphics_support import Graphics, detect_graphics
from agent_tui.video.settings import VideoSettings

from . import alerts
from .actions import bindings_for, unknown_binding_ids
from .alerts import WARNING_TIMEOUT, BannerNote, ProblemDisplay
from .commands import AgentCommands
from .data_tracks import DataTrackPresenter
from .downloads import save_download, size_text
from .insight import InsightPresenter
from .key_release import KeyRelease, KeyRepeat, KittyFlagsReported
from .microphone import Levels, MicControl, MicView
from .problems import (
    Problem,
    problem_for_audio,
    problem_for_connection_lost,
    problem_for_error,
    problem_for_failure,
)
from .ptt import PushToTalk
from .screens.dialogs import FileDialog, FileRequest, RpcDialog, RpcRequest
from .screens.help import HelpScreen
from .screens.main import MainScreen
from .settings import AppSettings, PttMethodSetting
from .talk import TalkControl
from .transcript_export import format_transcript, write_transcript

log = logging.getLogger(__name__)

#: How long quitting waits for the session to end cleanly before leaving anyway.
END_TIMEOUT = 5.0
#: Frames a second while nothing moves (see AgentTuiApp._pace): the clock and a first word still show.
IDLE_REFRESH_HZ = 4.0

__all__ = ["AgentTuiApp", "SessionStartFailed"]


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

    # What the events said last (the app follows the event stream, not the session's live fields);
    # the main screen's widgets watch these.
    connection: var[ConnectionState] = var(ConnectionState.DISCONNECTED, init=False)
    agent_status: var[tuple[AgentState, AgentFailure | None]] = var(
        (AgentState.DISCONNECTED, None), init=False
    )
    agent_expression: var[AgentExpression] = var(AgentExpression(), init=False)
    room: var[str | None] = var(None, init=False)
    agent_name: var[str | None] = var(None, init=False)
    attributes: var[tuple[Mapping[str, str], frozenset[str]]] = var(({}, frozenset()), init=False)
    #: The remote data tracks (the agent's), with their rates and latest frames.
    data_tracks: var[tuple[DataTrackView, ...]] = var((), init=False)
    elapsed: var[float | None] = var(None, init=False)
    banner: var[BannerNote | None] = var(None, init=False)
    mic_view: var[MicView | None] = var(None, init=False)
    levels: var[Levels | None] = var(None, init=False)
    #: The problem that stopped the conversation (its exit code is the app's); every assignment is
    #: shown, so the same problem after its panel was closed opens it again.
    problem: var[Problem | None] = var(None, init=False, always_update=True)

    def __init__(
        self,
        session: Conversation,
        *,
        audio: AudioControls | None,
        app_settings: AppSettings,
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
        self.app_settings = app_settings
        self.transcript_path = transcript_path
        self._text_only_reason = text_only_reason
        self._autostart = autostart
        self._animations = animate
        self._busy_timer: Timer | None = None
        self._idle_timer: Timer | None = None
        self._idling = False
        self._still_ticks = 0
        self._clock = clock
        self._clock_format = clock_format
        self._user_keymap = app_settings.effective_keymap()
        self._release_supported = False
        self._talk = TalkControl(self, app_settings, self._user_keymap, clock)
        self._mic = MicControl(
            audio, session, self._talk, notify=self.notify, text_only_reason=text_only_reason
        )
        self._problems = ProblemDisplay(self)
        self._started_at: float | None = None
        self._stopped_at: float | None = None
        #: The room and identity of the agent whose joining the transcript last announced.
        self._announced_agent: tuple[str | None, str] | None = None
        self.set_reactive(AgentTuiApp.connection, session.connection_state)
        self.set_reactive(AgentTuiApp.agent_status, (session.agent_state, session.agent_failure))
        self.set_reactive(AgentTuiApp.agent_expression, session.agent_expression)
        self.set_reactive(AgentTuiApp.agent_name, session.options.agent_name)
        self.set_reactive(AgentTuiApp.room, self._room_name())
        self.set_reactive(AgentTuiApp.attributes, (dict(session.agent_attributes), frozenset()))
        self._ending = False
        self._quitting = False
        self._notice_serial = 0
        self._insight = InsightPresenter(self)
        self._data_tracks = DataTrackPresenter(self, session, clock)
        # Video: the panel is open unless --no-video; it shows only while the agent has a video track.
        self.video = video
        self.video_settings = video_settings or (video.settings if video is not None else VideoSettings())
        self._video_open = self.video_settings.show_agent_video
        # Picked once: the [video] graphics setting, or for "auto" what the environment says the terminal is.
        self.video_graphics = detect_graphics(os.environ, setting=self.video_settings.graphics)
        if cell_pixels is None and self.video_graphics is not Graphics.HALFBLOCK:
            cell_pixels = terminal_cell_pixels()
        self.cell_pixels = cell_pixels or FALLBACK_CELL
        # Made now, not when the app runs: its provider subscribes to the session's events at once, so
        # none published before the screen is up is lost (they wait, in order, until it mounts).
        self._main: MainScreen | None = MainScreen(
            max_transcript_lines=app_settings.max_transcript_lines,
            clock_format=clock_format,
            graphics=self.video_graphics,
            cell=self.cell_pixels,
            session=session,
            audio=audio,
            animate=animate,
            video_fps=self.video_settings.panel_fps,
            video_open=self._video_open,
            clock=clock,
        )
        # The app follows the provider's session messages, in order with the transcript's own lines.
        self._main.provider.follow(self._session_message)

    # -- public state (read by tests, the palette and the help screen) ------------------------------------
    @property
    def audio_available(self) -> bool:
        return self.audio is not None and not self._mic.text_only

    @property
    def video_panel(self) -> AgentVideoView:
        return self.main.query_one("#video-panel", AgentVideoView)

    @property
    def video_feed(self) -> AgentVideoFeed:
        return self.video_panel.feed

    @property
    def video_open(self) -> bool:
        return self._video_open

    @property
    def ptt(self) -> PushToTalk:
        return self._talk.ptt

    @property
    def release_supported(self) -> bool:
        return self._release_supported

    @property
    def current_problem(self) -> Problem | None:
        return self.problem

    @property
    def main(self) -> MainScreen:
        assert self._main is not None, "the main screen exists once the app runs"
        return self._main

    @property
    def transcript(self) -> AgentChatTranscript:
        return self.main.query_one("#transcript", AgentChatTranscript)

    @property
    def insight_panel(self) -> InsightPanel:
        return self.main.query_one(InsightPanel)

    @property
    def insight(self) -> InsightPresenter:
        return self._insight

    def action_state(self, state: str) -> bool:
        """The toggles' states, for the palette's titles (see :data:`.actions.ACTIONS`)."""
        status = self._mic.status()
        video = self.video
        states = {
            "muted": status is not None and status.muted,
            "push_to_talk": status is not None and status.mode is MicMode.PUSH_TO_TALK,
            "aec": status is not None and status.aec,
            "attributes_shown": self.main.is_mounted and self.main.attributes_shown,
            "text_mode": self._insight.text_mode,
            "agent_info_shown": self.main.is_mounted and self._insight.panel_shown,
            "video_open": self._video_open,
            "camera": video is not None and video.wanted(SourceKind.CAMERA),
            "screen_share": video is not None and video.wanted(SourceKind.SCREEN),
        }
        return states[state]

    def ptt_keys(self) -> list[str]:
        return self._talk.keys()

    def ptt_summary(self) -> str:
        key = " / ".join(self.ptt_keys())
        support = (
            "this terminal reports key releases"
            if self._release_supported
            else "this terminal does not report key releases (tmux, most legacy terminals)"
        )
        return (
            f"{key} — {self.ptt.method.label}; {support}. Set ptt_method = "
            f"auto | release | repeat | toggle and ptt_key in [app]. Esc cancels a turn."
        )

    # -- life cycle ---------------------------------------------------------------------------------------
    def get_default_screen(self) -> MainScreen:
        return self.main

    def on_mount(self) -> None:
        # The theme is set before the first paint; the rest waits for the main screen (on_ready).
        if self.app_settings.theme in self.available_themes:
            self.theme = self.app_settings.theme
        else:
            self.notify(f"Unknown theme {self.app_settings.theme!r}; using {self.theme}.", severity="warning")

    def on_ready(self) -> None:
        # Everything made so far (modules, the app, its widgets and styles) lives as long as the app. The
        # cyclic collector's full passes walked all of it again and again, and a frame's short-lived
        # strips and segments set those passes off: 1 % of a core while the agent spoke. Frozen objects
        # are left out of every pass.
        gc.freeze()
        unknown = unknown_binding_ids(self._user_keymap)
        if unknown:
            self.notify(
                f"Unknown binding ids in [tui.keymap]: {', '.join(unknown)} (see F1).", severity="warning"
            )
        try:
            self.set_keymap(self._user_keymap)
        except Exception as error:  # a malformed key string must not stop the app
            self.notify(f"The keymap could not be applied: {error}", severity="error")
        chat = self.main.query_one("#chat", AgentChatInput)
        if not self._animations:
            chat.cursor_blink = False
        for topic in self.app_settings.file_topics:
            self.session.receive_byte_streams(topic)
        self.mic_changed()
        self._update_video_panel()
        self.run_worker(self._talk.pump(), group="talk", exit_on_error=False)
        if self._animations:
            busy_interval, idle_interval = 1 / self.app_settings.refresh_hz, 1 / IDLE_REFRESH_HZ
            self._busy_timer = self.set_interval(busy_interval, self.refresh_now, name="refresh")
            self._idle_timer = self.set_interval(idle_interval, self.refresh_now, name="idle", pause=True)
        chat.focus()
        if self._text_only_reason:
            self._show_problem(problem_for_audio(self._text_only_reason))
        if self._autostart:
            self.start_session()

    @work(group="session", exclusive=True, exit_on_error=False)
    async def start_session(self) -> None:
        """Start the session without waiting for the agent: its arrival shows up as state changes."""
        self.main.provider.begin_generation()
        self._ending = False
        self.banner = alerts.CONNECTING
        try:
            await self.session.start(wait_for_agent=False)
        except Exception as error:
            log.info("session start failed: %s", error)
            self.post_message(SessionStartFailed(error))

    def on_session_start_failed(self, message: SessionStartFailed) -> None:
        self.banner = alerts.NOT_CONNECTED
        self._show_problem(problem_for_error(message.error))

    async def _end_session(self) -> None:
        self._ending = True
        try:
            await asyncio.wait_for(self.session.end(), timeout=END_TIMEOUT)
        except Exception as error:
            log.warning("ending the session failed: %s", error)

    # -- session events: the provider's messages (see agent_tui.ui.messages), one handler each ------------
    def _session_message(self, message: SessionMessage[Any]) -> None:
        """Each message the provider follows, to its ``on_<message>`` handler here (if any)."""
        handler = getattr(self, message.handler_name, None)
        if handler is not None:
            handler(message)

    def on_agent_chat_transcript_tools_running(self, message: AgentChatTranscript.ToolsRunning) -> None:
        self.insight_panel.set_running_tools(message.running)

    @shown_safely
    def on_insight_received(self, message: InsightReceived) -> None:
        self._insight.show(message.event)  # tool calls, latency badges, agent info and errors

    @shown_safely
    def on_connection_changed(self, message: ConnectionChanged) -> None:
        event = message.event
        self.connection = event.state
        self.room = self._room_name()
        ending = self._ending or self._quitting
        note = alerts.banner_for_connection(event, ending=ending)
        if event.state is ConnectionState.CONNECTED:
            if self._started_at is None or event.previous is ConnectionState.CONNECTING:
                self._started_at = self._clock()
                self._stopped_at = None
            if event.previous is ConnectionState.RECONNECTING:
                self.notify("Reconnected.")
                self.add_notice("Reconnected to the LiveKit server.", at=event.at)
            self._update_waiting_banner()
        else:
            self.banner = note
        if event.state is ConnectionState.DISCONNECTED:
            self._stopped_at = self._clock()
            self._talk.cancel()
            if not alerts.ended_on_purpose(event, ending=ending):
                self.add_notice(
                    f"Connection lost ({event.reason or 'no reason given'}).", error=True, at=event.at
                )
                self._show_problem(problem_for_connection_lost(event.reason))
        self.refresh_now()

    @shown_safely
    def on_agent_state_updated(self, message: AgentStateUpdated) -> None:
        event = message.event
        self.agent_status = (event.state, event.failure)
        if event.state is AgentState.FAILED and event.failure is not None and not self._ending:
            self._show_problem(problem_for_failure(event.failure))
        elif event.state.is_connected and self.problem is not None and self.problem.kind == "agent":
            self._clear_problem("The agent is here now.")
        self._update_waiting_banner()

    def _update_waiting_banner(self) -> None:
        if self.connection is ConnectionState.CONNECTED:
            self.banner = alerts.waiting_banner(self.agent_status[0])

    def on_expression_updated(self, message: ExpressionUpdated) -> None:
        event = message.event
        self.agent_expression = AgentExpression(mood=event.mood, expression=event.expression)

    @shown_safely
    def on_agent_arrived(self, message: AgentArrived) -> None:
        event = message.event
        self.agent_name = self.session.options.agent_name or event.name or event.identity
        self._insight.agent_changed()
        self.attributes = (dict(event.attributes), frozenset())
        # A new session (Retry, F5) that lands in the same room finds the agent still there, and the
        # Session reports it as joined: it never left, and the transcript already says it joined.
        agent = (self._room_name(), event.identity)
        if agent != self._announced_agent:
            self._announced_agent = agent
            self.add_notice(f"{self.agent_name} joined the room.", at=event.at)

    @shown_safely
    def on_agent_departed(self, message: AgentDeparted) -> None:
        if message.event.unexpected:
            self._announced_agent = None
            self.add_notice("The agent left the room.", error=True, at=message.event.at)

    @shown_safely
    def on_attributes_updated(self, message: AttributesUpdated) -> None:
        self.attributes = (dict(message.event.attributes), frozenset(message.event.changed or ()))

    @shown_safely
    def on_data_track_appeared(self, message: DataTrackAppeared) -> None:
        self._data_tracks.published(message.event.track)

    @shown_safely
    def on_data_track_gone(self, message: DataTrackGone) -> None:
        self._data_tracks.refresh()

    @shown_safely
    def on_data_track_refreshed(self, message: DataTrackRefreshed) -> None:
        self._data_tracks.refresh()

    @shown_safely
    def on_warning_raised(self, message: WarningRaised) -> None:
        self.add_notice(message.event.message, error=True, at=message.event.at)
        self.notify(message.event.message, severity="warning", timeout=WARNING_TIMEOUT)

    @shown_safely
    def on_encryption_failed(self, message: EncryptionFailed) -> None:
        """A participant's media cannot be decrypted (or ours encrypted): heard as silence, so say why."""
        self.add_notice(message.event.message, error=True, at=message.event.at)
        self.notify(message.event.message, severity="error", timeout=WARNING_TIMEOUT)

    @shown_safely
    def on_file_received(self, message: FileReceived) -> None:
        if message.event.topic in self.app_settings.file_topics:
            self._save_file(message.event.name, message.event.data, message.event.mime_type)

    @work(group="files", exit_on_error=False)
    async def _save_file(self, name: str, data: bytes, mime_type: str) -> None:
        try:
            path = await asyncio.to_thread(save_download, self.app_settings.downloads_dir, name, data)
        except OSError as error:
            self.add_notice(f"Could not save {name!r} from the agent: {error.strerror or error}.", error=True)
            return
        self.add_notice(f"Received {name!r} ({size_text(len(data))}, {mime_type}) — saved to {path}")
        self.notify(f"Saved {path.name} to {path.parent}")

    def _room_name(self) -> str | None:
        return self.session.room_name or self.session.options.room_name

    # -- the agent's video (the kit's AgentVideoView reads it while open) ------------------------------------
    def _update_video_panel(self) -> None:
        self.video_panel.open = self._video_open

    def action_toggle_video_panel(self) -> None:
        self._video_open = not self._video_open
        # Unsubscribing is what stops the SDK from receiving and decoding the agent's video.
        self.session.set_agent_video_subscribed(self._video_open)
        self._update_video_panel()
        if self._video_open and self.video_panel.track is None:
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
        elif self.connection is not ConnectionState.CONNECTED:
            self.notify(f"{label} on once connected.")

    # -- transcript helpers -------------------------------------------------------------------------------
    def add_notice(self, text: str, *, error: bool = False, at: float | None = None) -> None:
        self.transcript.add_notice(text, error=error, at=at)

    # -- the refresh tick ---------------------------------------------------------------------------------
    def refresh_now(self) -> None:
        """One frame: elapsed time, the state animation, audio status and levels (also called by tests)."""
        main = self._main
        if main is None or not main.is_mounted:
            return
        if self._started_at is not None:
            self.elapsed = (
                self._stopped_at if self._stopped_at is not None else self._clock()
            ) - self._started_at
        else:
            self.elapsed = None
        try:
            main.provider.tick()
            self.mic_changed()
            if self.mic_view is not None:
                self.levels = self._mic.levels(self.mic_view)
            self._data_tracks.tick()
        except NoMatches:
            # A tick can land while the app is closing and the screen's widgets are already gone (seen
            # once in the video benchmark): there is nothing left to draw, and the app must not crash.
            return
        self._pace()

    def _pace(self) -> None:
        """Tick at ``refresh_hz`` while something moves, at :data:`IDLE_REFRESH_HZ` once nothing has for
        a second: the timer's own round trip through Textual's message queue, fifteen times a second,
        was most of what the app cost left open with nobody speaking (0.8 % of a core). The first loud
        frame or an animated state brings the full rate back within a quarter of a second."""
        busy_timer, idle_timer = self._busy_timer, self._idle_timer
        if busy_timer is None or idle_timer is None:
            return
        if self._moving():
            self._still_ticks = 0
            if self._idling:
                self._idling = False
                idle_timer.pause()
                busy_timer.resume()
            return
        self._still_ticks += 1
        if not self._idling and self._still_ticks >= self.app_settings.refresh_hz:
            self._idling = True
            busy_timer.pause()
            idle_timer.resume()

    def _moving(self) -> bool:
        """Whether the next frames may differ: an animated agent state, a level above the meters' floor,
        or a push-to-talk turn."""
        if self.main.provider.agent_state in ANIMATED_STATES:
            return True
        levels = self.levels
        if levels is not None and (
            levels.agent_db > FLOOR_DB or (levels.mic_db is not None and levels.mic_db > FLOOR_DB)
        ):
            return True
        view = self.mic_view
        return view is not None and view.status is not None and view.status.talking

    def audio_status(self) -> AudioStatus | None:
        return self._mic.status()

    def mic_changed(self) -> None:
        """Read the microphone again (after an action, a push-to-talk step, on each tick)."""
        self.mic_view = self._mic.view()

    # -- push-to-talk (see .talk) -------------------------------------------------------------------------
    def action_ptt(self) -> None:
        self._talk.press()

    def action_ptt_cancel(self) -> None:
        self._talk.cancel()

    def on_key_repeat(self, message: KeyRepeat) -> None:
        if not self._talk.repeat(message.key):
            # Repeats of every other key behave as before: held backspace keeps deleting.
            self.post_message(events.Key(message.key, message.character))

    def on_key_release(self, message: KeyRelease) -> None:
        self._talk.release(message.key)

    def on_kitty_flags_reported(self, message: KittyFlagsReported) -> None:
        self._release_supported = message.reports_event_types
        self._talk.apply_method(self.app_settings.ptt_method, release_supported=self._release_supported)

    def on_app_blur(self) -> None:
        self._talk.focus_lost()

    def set_ptt_method(self, setting: PttMethodSetting) -> None:
        """Change the push-to-talk method while running (tests and the palette)."""
        self.app_settings = self.app_settings.model_copy(update={"ptt_method": setting})
        self._talk.apply_method(setting, release_supported=self._release_supported)

    def check_ptt(self) -> None:
        self._talk.check()

    # -- microphone actions (see .microphone) -------------------------------------------------------------
    def action_toggle_mute(self) -> None:
        self._mic.toggle_mute()
        self.mic_changed()

    def action_toggle_mic_mode(self) -> None:
        note = self._mic.toggle_mode()
        if note is not None:
            self.mic_changed()
            self.notify(note)

    def action_toggle_aec(self) -> None:
        self._mic.toggle_aec()
        self.mic_changed()

    @work(group="devices", exclusive=True, exit_on_error=False)
    async def action_pick_devices(self) -> None:
        if await self._mic.pick_devices(self.push_screen_wait):
            self.mic_changed()

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
        topic = self.app_settings.file_topics[0] if self.app_settings.file_topics else "files"
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
        path = self.transcript_path or self.app_settings.downloads_dir / time.strftime(
            "transcript-%Y%m%d-%H%M%S.txt"
        )
        try:
            written = await self._write_transcript(path)
        except OSError as error:
            self.notify(f"Could not write {path}: {error.strerror or error}", severity="error")
            return
        self.notify(f"Transcript written to {written}")

    async def _write_transcript(self, path: Path) -> Path:
        text = format_transcript(self.transcript.entries, room=self.session.room_name, agent=self.agent_name)
        return await asyncio.to_thread(write_transcript, path, text)

    # -- view actions -------------------------------------------------------------------------------------
    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(keymap=self._user_keymap, ptt_summary=self.ptt_summary()))

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
        self.banner = alerts.ENDING
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
        return self.problem.exit_code if self.problem is not None else 0

    # -- problems (see .alerts) ---------------------------------------------------------------------------
    def _show_problem(self, problem: Problem) -> None:
        if problem.survivable:
            self._problems.warn(problem)
        else:
            self.problem = problem

    def watch_problem(self, problem: Problem | None) -> None:
        self._problems.show(problem)

    def _clear_problem(self, note: str | None) -> None:
        had_panel = self._problems.close("resolved")
        self.problem = None
        if had_panel and note:
            self.notify(note)

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
