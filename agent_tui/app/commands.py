"""Command-palette provider: the app's actions by name, so everything is reachable without
remembering a key (mute, mode, devices, files, RPC, export, reconnect, echo cancellation, end)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    help: str
    action: str
    needs_audio: bool = False


PALETTE_COMMANDS: tuple[PaletteCommand, ...] = (
    PaletteCommand("Mute / unmute microphone", "Toggle the microphone's mute.", "toggle_mute", True),
    PaletteCommand(
        "Push-to-talk mode / open mic", "Switch how the microphone is gated.", "toggle_mic_mode", True
    ),
    PaletteCommand("Switch audio device", "Pick the microphone and the speaker.", "pick_devices", True),
    PaletteCommand(
        "Toggle echo cancellation", "Turn acoustic echo cancellation on or off.", "toggle_aec", True
    ),
    PaletteCommand("Send file or image", "Send a file to the agent as a byte stream.", "send_file"),
    PaletteCommand("Call RPC method", "Call a method on the agent and show its reply.", "call_rpc"),
    PaletteCommand("Export transcript", "Write the conversation to a text file.", "export_transcript"),
    PaletteCommand("Reconnect", "End the session and start a new one (the transcript is kept).", "reconnect"),
    PaletteCommand("End session", "Leave the room but keep the app open.", "end_session"),
    PaletteCommand(
        "Show / hide agent video", "Open or close the panel with the agent's video.", "toggle_video_panel"
    ),
    PaletteCommand("Camera on / off", "Publish your camera (or --video-file) to the agent.", "toggle_camera"),
    PaletteCommand("Share screen on / off", "Share your screen with the agent.", "toggle_screen_share"),
    PaletteCommand("Show agent attributes", "Show or hide the agent's shared state.", "toggle_attributes"),
    PaletteCommand(
        "Text mode on / off",
        "The agent answers in text only and stops listening (its session stream is needed).",
        "toggle_text_mode",
    ),
    PaletteCommand(
        "Show / hide agent info", "The agent's id, framework, tools and instructions.", "toggle_agent_info"
    ),
    PaletteCommand("Help", "Keys and push-to-talk.", "help"),
)


class AgentCommands(Provider):
    """Offers :data:`PALETTE_COMMANDS`; audio commands are marked when the session is text-only."""

    def _commands(self) -> list[PaletteCommand]:
        return list(PALETTE_COMMANDS)

    def _help(self, command: PaletteCommand) -> str:
        audio = getattr(self.app, "audio_available", True)
        if command.needs_audio and not audio:
            return f"{command.help} (no audio in this session)"
        return command.help

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(
                command.title, partial(self.app.run_action, command.action), help=self._help(command)
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    partial(self.app.run_action, command.action),
                    help=self._help(command),
                )
