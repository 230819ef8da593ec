"""Options of a :class:`~agent_tui.session.session.Session` (the Create step of the Session API)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent_tui.session.encryption import EncryptionOptions

#: The anchors' default (components-js ``DEFAULT_AGENT_CONNECT_TIMEOUT_MILLISECONDS``).
DEFAULT_AGENT_CONNECT_TIMEOUT = 20.0
#: How long ``rtc.Room.connect`` may take before we call the server unreachable.
DEFAULT_ROOM_CONNECT_TIMEOUT = 20.0


def generate_room_name() -> str:
    """A fresh, unique room: agents are dispatched when a room is created, so every start needs one."""
    return f"agent-tui-{secrets.token_hex(5)}"


@dataclass(frozen=True)
class SessionOptions:
    """What the session asks for: the agent to dispatch, the room, and who we are in it.

    ``room_name`` None means a new generated room on every start (so a restarted session dispatches
    the agent again, as the anchors' forced token refetch intends).
    """

    agent_name: str | None = None
    agent_metadata: str | None = None
    room_name: str | None = None
    participant_identity: str | None = None
    participant_name: str | None = None
    participant_metadata: str | None = None
    participant_attributes: Mapping[str, str] = field(default_factory=dict)
    agent_connect_timeout: float = DEFAULT_AGENT_CONNECT_TIMEOUT
    room_connect_timeout: float = DEFAULT_ROOM_CONNECT_TIMEOUT
    #: Keep at most this many messages in memory, and remember as many tool calls (None: all); long
    #: sessions stay bounded.
    max_messages: int | None = None
    #: End-to-end encryption with a shared key (None: media is encrypted only hop by hop, as usual).
    #: Needs a server that forwards media without decoding it, such as livekit-server.
    encryption: EncryptionOptions | None = None
