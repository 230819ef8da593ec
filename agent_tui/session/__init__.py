"""agent_tui.session — LiveKit's client Session API for Python, with no UI in it.

Create a :class:`Session` from a token source and :class:`SessionOptions`, ``await start()``, read its
state or subscribe to its :attr:`Session.events`, interact (chat, RPC, byte streams, attributes) and
``await end()``. This package imports nothing from the rest of agent-tui and could be published alone.
"""

from .agent_state import AgentFailure, AgentSnapshot, AgentState
from .connection import ConnectionState
from .errors import (
    AgentLeftError,
    AgentTimeoutError,
    AgentTuiError,
    AuthRejectedError,
    ConnectionFailedError,
    RpcCallError,
    SessionError,
    SessionStateError,
    TokenConfigError,
    TokenEndpointHTTPError,
    TokenEndpointTimeoutError,
    TokenEndpointUnreachableError,
    TokenInvalidError,
    TokenResponseError,
    TokenSourceError,
    exit_code_for,
)
from .events import (
    AgentAttributesChanged,
    AgentAudioTrackChanged,
    AgentJoined,
    AgentLeft,
    AgentStateChanged,
    ByteStreamReceived,
    ConnectionStateChanged,
    EventBus,
    MessageChanged,
    SessionEvent,
    SessionWarning,
)
from .options import SessionOptions
from .session import Session
from .token_cache import CachingTokenSource
from .token_endpoint import EndpointTokenSource, SandboxTokenSource
from .token_local import LocalTokenSource
from .token_source import CustomTokenSource, LiteralTokenSource, TokenSource
from .token_types import ConnectionDetails, TokenRequest
from .transcript import Message, MessageKind, Speaker

__all__ = [
    "AgentAttributesChanged",
    "AgentAudioTrackChanged",
    "AgentFailure",
    "AgentJoined",
    "AgentLeft",
    "AgentLeftError",
    "AgentSnapshot",
    "AgentState",
    "AgentStateChanged",
    "AgentTimeoutError",
    "AgentTuiError",
    "AuthRejectedError",
    "ByteStreamReceived",
    "CachingTokenSource",
    "ConnectionDetails",
    "ConnectionFailedError",
    "ConnectionState",
    "ConnectionStateChanged",
    "CustomTokenSource",
    "EndpointTokenSource",
    "EventBus",
    "LiteralTokenSource",
    "LocalTokenSource",
    "Message",
    "MessageChanged",
    "MessageKind",
    "RpcCallError",
    "SandboxTokenSource",
    "Session",
    "SessionError",
    "SessionEvent",
    "SessionOptions",
    "SessionStateError",
    "SessionWarning",
    "Speaker",
    "TokenConfigError",
    "TokenEndpointHTTPError",
    "TokenEndpointTimeoutError",
    "TokenEndpointUnreachableError",
    "TokenInvalidError",
    "TokenRequest",
    "TokenResponseError",
    "TokenSource",
    "TokenSourceError",
    "exit_code_for",
]
