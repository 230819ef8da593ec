"""Microphone controls as the user sees them: mute, mode, the push-to-talk method in use, devices,
echo cancellation and the input level — or a plain statement that the session is text-only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from agent_tui.audio.controls import AudioStatus, MicMode
from agent_tui.ui.level_meter import LevelMeter
from agent_tui.ui.panes import VerticalPane

if TYPE_CHECKING:
    from ..microphone import Levels, MicView


class MicPanel(Vertical):
    def compose(self) -> ComposeResult:
        # The level sits under the badge, next to the other things that move (the agent's spinner and
        # meter above), and the settings below it share a pane: the meter's repaints, fifteen a second,
        # then leave them alone (see agent_tui.ui.panes).
        yield Label("", id="mic-badge")
        yield LevelMeter("mic", id="mic-level")
        with VerticalPane(id="mic-status"):
            yield Label("", id="mic-mode")
            yield Label("", id="mic-ptt")
            yield Label("", id="mic-input")
            yield Label("", id="mic-output")
            yield Label("", id="mic-aec")
        yield Label("", id="mic-text-only")

    def show_text_only(self, reason: str | None) -> None:
        """No audio runs: say so, say why, and hide the controls that would do nothing."""
        for child in self.query("#mic-mode, #mic-ptt, #mic-input, #mic-output, #mic-aec, #mic-level"):
            child.display = False
        badge = self.query_one("#mic-badge", Label)
        badge.update("TEXT ONLY")
        badge.set_classes("-text-only")
        note = self.query_one("#mic-text-only", Label)
        note.update(f"{reason or 'Audio is off.'}\nType below to talk to the agent.")
        note.display = True

    def show_status(self, status: AudioStatus, *, ptt_method: str, ptt_key: str) -> None:
        if status.text_only:
            self.show_text_only(status.reason)
            return
        for child in self.query("#mic-mode, #mic-ptt, #mic-input, #mic-output, #mic-aec, #mic-level"):
            child.display = True
        self.query_one("#mic-text-only", Label).display = False
        badge = self.query_one("#mic-badge", Label)
        push_to_talk = status.mode is MicMode.PUSH_TO_TALK
        if status.muted:
            badge.update("MUTED")
            badge.set_classes("-muted")
        elif push_to_talk and status.talking:
            badge.update("TALKING")
            badge.set_classes("-talking")
        elif push_to_talk:
            verb = "HOLD" if ptt_method.startswith("hold") else "PRESS"
            badge.update(f"{verb} {ptt_key.upper()} TO TALK")
            badge.set_classes("-ptt-idle")
        else:
            badge.update("LIVE")
            badge.set_classes("-live")
        self.query_one("#mic-mode", Label).update(f"mode  {'push-to-talk' if push_to_talk else 'open mic'}")
        short_key = ptt_key.replace("ctrl+", "^")  # the footer's notation; keeps the line in the panel
        self.query_one("#mic-ptt", Label).update(f"ptt   {short_key} {ptt_method}")
        self.query_one("#mic-input", Label).update(f"in    {status.input_name or 'default'}")
        self.query_one("#mic-output", Label).update(f"out   {status.output_name or 'default'}")
        self.query_one("#mic-aec", Label).update(f"aec   {'on' if status.aec else 'off'}")
        if status.muted:
            self.query_one("#mic-level", LevelMeter).set_off("muted")

    def show_view(self, view: MicView | None) -> None:
        """What the app read from the engine (None: not read yet)."""
        if view is None:
            return
        if view.status is None:
            self.show_text_only(view.reason)
        else:
            self.show_status(view.status, ptt_method=view.ptt_method, ptt_key=view.ptt_key)

    def show_levels(self, levels: Levels | None) -> None:
        if levels is not None and levels.mic_db is not None:
            self.set_input_level(levels.mic_db)

    def set_input_level(self, level_db: float) -> None:
        self.query_one("#mic-level", LevelMeter).set_level(level_db)
