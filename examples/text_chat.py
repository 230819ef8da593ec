"""A text-only chat console for any LiveKit agent, on agent-tui's Agents UI kit (agent_tui.ui): no
microphone, no speaker; the agent's state and shared attributes beside the conversation.

    LIVEKIT_URL=... LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... python examples/text_chat.py AGENT
"""

import asyncio
import sys

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical

from agent_tui import ui
from agent_tui.config import load_settings
from agent_tui.session import Conversation
from agent_tui.wiring.session import open_conversation

CSS = """
#side { width: 34; border-left: solid $panel; padding: 0 1; }
"""


class TextChat(App[None]):
    CSS = CSS
    AUTO_FOCUS = "AgentChatInput"

    def __init__(self, session: Conversation) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        with ui.SessionProvider(self.session, autostart=True):
            with Horizontal():
                yield ui.AgentChatTranscript(empty_text="No messages yet: type below.")
                with Vertical(id="side"):
                    yield ui.AgentStateIndicator()
                    yield ui.AgentInfo()
            yield ui.AgentChatInput(placeholder="Type a message and press Enter (Ctrl+Q quits)")


async def main(agent: str) -> None:
    settings = load_settings({"agent": agent, "audio": {"enabled": False}})
    async with open_conversation(settings) as parts:
        await TextChat(parts.session).run_async()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
