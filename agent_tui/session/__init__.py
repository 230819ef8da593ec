"""agent_tui.session — LiveKit's client Session API for Python, with no UI in it.

Create a :class:`Session` from a token source and :class:`SessionOptions`, ``await start()``, read its
state or subscribe to its :attr:`Session.events`, interact (chat, RPC, byte streams, attributes) and
``await end()``. This package imports nothing from the rest of agent-tui and could be published alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        AgentVideoTrackChanged,
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

#: Where each public name lives. Imported on first use (PEP 562) so that importing a light module
#: such as ``agent_tui.session.errors`` does not load the rtc SDK.
_EXPORTS = {
    "AgentAttributesChanged": "events",
    "AgentAudioTrackChanged": "events",
    "AgentFailure": "agent_state",
    "AgentJoined": "events",
    "AgentLeft": "events",
    "AgentLeftError": "errors",
    "AgentSnapshot": "agent_state",
    "AgentState": "agent_state",
    "AgentStateChanged": "events",
    "AgentTimeoutError": "errors",
    "AgentTuiError": "errors",
    "AgentVideoTrackChanged": "events",
    "AuthRejectedError": "errors",
    "ByteStreamReceived": "events",
    "CachingTokenSource": "token_cache",
    "ConnectionDetails": "token_types",
    "ConnectionFailedError": "errors",
    "ConnectionState": "connection",
    "ConnectionStateChanged": "events",
    "CustomTokenSource": "token_source",
    "EndpointTokenSource": "token_endpoint",
    "EventBus": "events",
    "LiteralTokenSource": "token_source",
    "LocalTokenSource": "token_local",
    "Message": "transcript",
    "MessageChanged": "events",
    "MessageKind": "transcript",
    "RpcCallError": "errors",
    "SandboxTokenSource": "token_endpoint",
    "Session": "session",
    "SessionError": "errors",
    "SessionEvent": "events",
    "SessionOptions": "options",
    "SessionStateError": "errors",
    "SessionWarning": "events",
    "Speaker": "transcript",
    "TokenConfigError": "errors",
    "TokenEndpointHTTPError": "errors",
    "TokenEndpointTimeoutError": "errors",
    "TokenEndpointUnreachableError": "errors",
    "TokenInvalidError": "errors",
    "TokenRequest": "token_types",
    "TokenResponseError": "errors",
    "TokenSource": "token_source",
    "TokenSourceError": "errors",
    "exit_code_for": "errors",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


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
    "AgentVideoTrackChanged",
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
