"""The main screen: header, banner, transcript, agent and microphone panels, chat input, footer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer

from agent_tui.audio.controls import AudioControls
from agent_tui.session import Conversation
from agent_tui.ui.agent_state import AgentStateIndicator
from agent_tui.ui.attributes_panel import AttributesPanel
from agent_tui.ui.chat_input import AgentChatInput
from agent_tui.ui.chat_transcript import AgentChatTranscript
from agent_tui.ui.insight_panel import InsightPanel
from agent_tui.ui.level_meter import LevelMeter
from agent_tui.ui.panes import HorizontalPane, VerticalPane
from agent_tui.ui.provider import SessionProvider
from agent_tui.ui.video_view import AgentVideoView
from agent_tui.video.cell_pixels import FALLBACK_CELL, CellPixels
from agent_tui.video.graphics_support import Graphics

from ..actions import bindings_for
from ..microphone import Levels, MicView
from ..widgets.banner import Banner
from ..widgets.data_tracks_panel import DataTracksPanel
from ..widgets.header_bar import HeaderBar
from ..widgets.mic_panel import MicPanel


class MainScreen(Screen[None]):
    """The layout, and the actions that only move its own widgets (scrolling, focus, the attributes
    panel); the app fills the widgets from session events."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("main")
    #: The screen shows only its background; its widgets paint the rest (see agent_tui.ui.panes).
    BLANK = True

    def __init__(
        self,
        *,
        max_transcript_lines: int,
        clock_format: Callable[[float], str] | None = None,
        graphics: Graphics = Graphics.HALFBLOCK,
        cell: CellPixels = FALLBACK_CELL,
        session: Conversation,
        audio: AudioControls | None = None,
        animate: bool = True,
        video_fps: float = 10.0,
        video_open: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(id="main")
        self._video_fps = video_fps
        self._video_open = video_open
        self._clock = clock
        # The app drives the provider's frames from its own refresh timer (refresh_hz=None), and follows
        # its messages rather than receiving them bubbled (bubble=False): see AgentTuiApp.
        self.provider = SessionProvider(
            session, audio=audio, refresh_hz=None, animate=animate, bubble=False, id="provider"
        )
        self._max_transcript_lines = max_transcript_lines
        self._clock_format = clock_format
        self._graphics = graphics
        self._cell = cell

    def compose(self) -> ComposeResult:
        with self.provider:
            yield from self._conversation()
        with HorizontalPane(id="footer-pane"):
            yield Footer(id="footer")

    def _conversation(self) -> ComposeResult:
        yield HeaderBar(id="header")
        yield Banner("", id="banner")
        # Panes (see agent_tui.ui.panes) keep the sidebar's meters from repainting the conversation.
        with HorizontalPane(id="body"):
            with HorizontalPane(id="conversation"):
                kwargs = {"clock_format": self._clock_format} if self._clock_format is not None else {}
                transcript = AgentChatTranscript(
                    max_entries=self._max_transcript_lines, id="transcript", **kwargs
                )
                transcript.border_title = "Conversation"
                yield transcript
                video = AgentVideoView(
                    graphics=self._graphics,
                    cell=self._cell,
                    fps=self._video_fps,
                    open=self._video_open,
                    clock=self._clock,
                    id="video-panel",
                )
                video.border_title = "Agent video"
                yield video
            with VerticalPane(id="sidebar"):
                with Vertical(id="agent-panel") as agent_panel:
                    agent_panel.border_title = "Agent"
                    yield AgentStateIndicator(id="agent-state")
                    yield LevelMeter("voice", id="agent-level")
                mic = MicPanel(id="mic-panel")
                mic.border_title = "Microphone"
                yield mic
                insight = InsightPanel(id="insight")
                insight.border_title = "Agent info"
                yield insight
                data_tracks = DataTracksPanel(id="data-tracks")
                data_tracks.border_title = "Data tracks"
                yield data_tracks
                with VerticalPane(id="attributes-pane"):
                    attributes = AttributesPanel(id="attributes")
                    attributes.border_title = "Agent attributes"
                    yield attributes
        with HorizontalPane(id="chat-pane"):
            yield AgentChatInput(placeholder="Type a message and press Enter (F1 for help)", id="chat")

    def on_mount(self) -> None:
        """Each widget watches the app state it shows, so the app sets its reactives and never reaches
        for a widget; a widget that is removed stops watching."""
        app = self.app
        header = self.query_one(HeaderBar)
        banner = self.query_one(Banner)
        mic = self.query_one(MicPanel)
        attributes = self.query_one(AttributesPanel)
        agent_level = self.query_one("#agent-level", LevelMeter)
        header.watch(app, "connection", header.set_connection)
        header.watch(app, "room", header.set_room)
        header.watch(app, "agent_name", header.set_agent)
        header.watch(app, "elapsed", header.set_elapsed)
        banner.watch(app, "banner", banner.show_note)
        attributes.watch(app, "attributes", lambda shown: attributes.set_attributes(*shown))
        data_tracks = self.query_one(DataTracksPanel)
        data_tracks.watch(app, "data_tracks", data_tracks.show_tracks)
        mic.watch(app, "mic_view", mic.show_view)
        mic.watch(app, "levels", mic.show_levels)
        agent_level.watch(app, "mic_view", self._agent_level_off)
        agent_level.watch(app, "levels", self._agent_level)

    def _agent_level_off(self, view: MicView | None) -> None:
        if view is not None and view.text_only:
            self.query_one("#agent-level", LevelMeter).set_off("text only")

    def _agent_level(self, levels: Levels | None) -> None:
        if levels is not None:
            self.query_one("#agent-level", LevelMeter).set_level(levels.agent_db)

    @property
    def attributes_shown(self) -> bool:
        return bool(self.query_one(AttributesPanel).display)

    def action_toggle_attributes(self) -> None:
        panel = self.query_one(AttributesPanel)
        panel.display = not panel.display

    def action_transcript_page_up(self) -> None:
        self.query_one(AgentChatTranscript).page_up()

    def action_transcript_page_down(self) -> None:
        self.query_one(AgentChatTranscript).page_down()

    def action_jump_to_latest(self) -> None:
        self.query_one(AgentChatTranscript).jump_to_latest()

    def action_focus_chat(self) -> None:
        self.query_one(AgentChatInput).focus()

    def on_screen_suspend(self, event: events.ScreenSuspend) -> None:
        # A dialog, the palette or help went on top: a kitty picture would show through it.
        self.query_one(AgentVideoView).covered()
