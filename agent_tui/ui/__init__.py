"""agent_tui.ui — Agents UI for Textual: a :class:`SessionProvider` and the agent widgets inside it.

Any Textual app builds a voice client of its own from these::

    class MyApp(App):
        def compose(self):
            with SessionProvider(session, audio=engine, autostart=True):
                yield AgentStateIndicator()
                yield AgentChatTranscript()
                yield AgentAudioVisualizer()
                yield AgentControlBar()

Each widget finds its provider by walking up the DOM and raises :class:`NoSessionProvider` without one.
Only Textual, the Session core and the audio engine's controls are used: nothing of agent-tui's own app
(which is itself built on this kit).
"""

from __future__ import annotations

from .agent_info import AgentInfo
from .agent_state import AgentStateIndicator
from .audio_visualizer import AgentAudioVisualizer
from .chat_input import AgentChatInput
from .chat_transcript import AgentChatTranscript
from .control_bar import AgentControlBar
from .level_meter import AgentLevelMeter
from .messages import SessionMessage, SessionStartFailed
from .provider import AudioLevels, NoSessionProvider, SessionProvider, provider_of
from .video_view import AgentVideoView

__all__ = [
    "AgentAudioVisualizer",
    "AgentChatInput",
    "AgentChatTranscript",
    "AgentControlBar",
    "AgentInfo",
    "AgentLevelMeter",
    "AgentStateIndicator",
    "AgentVideoView",
    "AudioLevels",
    "NoSessionProvider",
    "SessionMessage",
    "SessionProvider",
    "SessionStartFailed",
    "provider_of",
]
