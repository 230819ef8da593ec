"""A voice client for any LiveKit agent on agent-tui's Agents UI kit: with LIVEKIT_URL, LIVEKIT_API_KEY
and LIVEKIT_API_SECRET set, run `python examples/voice_client.py AGENT`."""

import asyncio
import sys

from textual.app import App, ComposeResult

from agent_tui import ui
from agent_tui.audio.controls import AudioControls
from agent_tui.config import load_settings
from agent_tui.session import Conversation
from agent_tui.wiring.session import open_conversation


class VoiceClient(App[None]):
    AUTO_FOCUS = "AgentChatInput"  # typing goes to the chat line

    def __init__(self, session: Conversation, audio: AudioControls | None = None) -> None:
        super().__init__()
        self.session, self.audio = session, audio

    def compose(self) -> ComposeResult:
        with ui.SessionProvider(self.session, audio=self.audio, autostart=True):
            yield ui.AgentStateIndicator()
            yield ui.AgentChatTranscript()
            yield ui.AgentAudioVisualizer()
            yield ui.AgentControlBar()
            yield ui.AgentChatInput()


async def main(agent: str) -> None:
    async with open_conversation(load_settings({"agent": agent})) as parts:
        await VoiceClient(parts.session, parts.audio).run_async()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
