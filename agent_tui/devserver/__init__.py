"""A LiveKit-compatible dev server (the ``[devserver]`` extra): signalling, rooms, media relay, data routing.

It speaks the ``/rtc/v1`` single-peer-connection protocol of the Python ``livekit`` rtc SDK, ends WebRTC
in aiortc and verifies tokens with livekit-api, so ``agent-tui`` and a voice agent can meet on one
machine without a LiveKit install. Only this module's names are public; aiortc is imported here and
nowhere in the core.
"""

from .server import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer

__all__ = ["DEFAULT_API_KEY", "DEFAULT_API_SECRET", "DevServer"]
