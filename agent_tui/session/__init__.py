"""agent_tui.session — LiveKit's client Session API for Python, with no UI in it.

Create a :class:`Session` from a token source and :class:`SessionOptions`, ``await start()``, read its
state or subscribe to its :attr:`Session.events`, interact (chat, RPC, byte streams, attributes) and
``await end()``. This package imports nothing from the rest of agent-tui and could be published alone.

Everything a front end may use is named below and importable from ``agent_tui.session`` itself; the
modules behind it (``tokens/``, ``agent_stream/``, ``session.py``, ...) are private and may move.
:mod:`agent_tui.session.testing` holds the fakes for testing a front end without a server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: The whole public surface, by the module each name lives in. ``__all__`` and the lazy loader below
#: are built from it; the ``TYPE_CHECKING`` block repeats it for type checkers (a test keeps the two equal).
_SURFACE: dict[str, tuple[str, ...]] = {
    "session": ("Session",),
    "options": ("SessionOptions",),
    "encryption": ("EncryptionOptions", "EncryptionOptionsError", "KeyDerivation"),
    "encryption_state": ("EncryptionState",),
    "conversation": ("Conversation",),
    "connection": ("ConnectionState",),
    "agent_state": ("AgentFailure", "AgentSnapshot", "AgentState"),
    "expression": ("AgentExpression", "AgentMood"),
    "transcript": ("Message", "MessageKind", "Speaker"),
    "data_tracks": ("DataTrackView", "FrameRateWindow", "ReceivedFrame"),
    "data_track_handle": ("DataTrackHandle", "unix_millis"),
    "events": (
        "AgentAttributesChanged",
        "AgentAudioTrackChanged",
        "AgentExpressionChanged",
        "AgentJoined",
        "AgentLeft",
        "AgentStateChanged",
        "AgentVideoTrackChanged",
        "ByteStreamReceived",
        "ConnectionStateChanged",
        "DataTrackFrameReceived",
        "DataTrackPublished",
        "DataTrackUnpublished",
        "DataTrackUpdated",
        "EncryptionError",
        "EncryptionStateChanged",
        "EventBus",
        "MessageChanged",
        "SessionEvent",
        "SessionWarning",
    ),
    "agent_stream.events": (
        "AgentDebug",
        "AgentError",
        "AgentFramework",
        "AgentInfo",
        "AgentSessionStateChanged",
        "AnsweringMachinePrediction",
        "ChatHistory",
        "ConversationItemAdded",
        "EndOfTurnPrediction",
        "FalseInterruption",
        "InsightEvent",
        "LatencyStats",
        "OverlappingSpeech",
        "SessionStateSnapshot",
        "SessionUsage",
        "TextModeChanged",
        "ToolCall",
        "ToolResult",
        "ToolUpdate",
        "TurnMetrics",
        "TurnMetricsValues",
        "UserStateChanged",
        "UserTranscript",
        "VoiceLatency",
        "VoiceLatencySummary",
    ),
    "agent_stream.client": ("AgentSessionError",),
    "errors": (
        "AgentLeftError",
        "AgentTimeoutError",
        "AuthRejectedError",
        "ConnectionFailedError",
        "DataTrackError",
        "EncryptionRefusedError",
        "RpcCallError",
        "RpcPayloadTooLargeError",
        "SessionError",
        "SessionLibraryError",
        "SessionStateError",
        "TokenConfigError",
        "TokenEndpointHTTPError",
        "TokenEndpointTimeoutError",
        "TokenEndpointUnreachableError",
        "TokenInvalidError",
        "TokenResponseError",
        "TokenSourceError",
        "WaitTimeoutError",
    ),
    "tokens.source": ("CustomTokenSource", "LiteralTokenSource", "TokenSource"),
    "tokens.cache": ("CachingTokenSource",),
    "tokens.endpoint": ("EndpointTokenSource", "SandboxTokenSource"),
    "tokens.local": ("LocalTokenSource",),
    "tokens.details": ("ConnectionDetails", "TokenRequest"),
    "redaction": ("redact",),
}

if TYPE_CHECKING:
    from .agent_state import AgentFailure as AgentFailure
    from .agent_state import AgentSnapshot as AgentSnapshot
    from .agent_state import AgentState as AgentState
    from .agent_stream.client import AgentSessionError as AgentSessionError
    from .agent_stream.events import AgentDebug as AgentDebug
    from .agent_stream.events import AgentError as AgentError
    from .agent_stream.events import AgentFramework as AgentFramework
    from .agent_stream.events import AgentInfo as AgentInfo
    from .agent_stream.events import AgentSessionStateChanged as AgentSessionStateChanged
    from .agent_stream.events import AnsweringMachinePrediction as AnsweringMachinePrediction
    from .agent_stream.events import ChatHistory as ChatHistory
    from .agent_stream.events import ConversationItemAdded as ConversationItemAdded
    from .agent_stream.events import EndOfTurnPrediction as EndOfTurnPrediction
    from .agent_stream.events import FalseInterruption as FalseInterruption
    from .agent_stream.events import InsightEvent as InsightEvent
    from .agent_stream.events import LatencyStats as LatencyStats
    from .agent_stream.events import OverlappingSpeech as OverlappingSpeech
    from .agent_stream.events import SessionStateSnapshot as SessionStateSnapshot
    from .agent_stream.events import SessionUsage as SessionUsage
    from .agent_stream.events import TextModeChanged as TextModeChanged
    from .agent_stream.events import ToolCall as ToolCall
    from .agent_stream.events import ToolResult as ToolResult
    from .agent_stream.events import ToolUpdate as ToolUpdate
    from .agent_stream.events import TurnMetrics as TurnMetrics
    from .agent_stream.events import TurnMetricsValues as TurnMetricsValues
    from .agent_stream.events import UserStateChanged as UserStateChanged
    from .agent_stream.events import UserTranscript as UserTranscript
    from .agent_stream.events import VoiceLatency as VoiceLatency
    from .agent_stream.events import VoiceLatencySummary as VoiceLatencySummary
    from .connection import ConnectionState as ConnectionState
    from .conversation import Conversation as Conversation
    from .data_track_handle import DataTrackHandle as DataTrackHandle
    from .data_track_handle import unix_millis as unix_millis
    from .data_tracks import DataTrackView as DataTrackView
    from .data_tracks import FrameRateWindow as FrameRateWindow
    from .data_tracks import ReceivedFrame as ReceivedFrame
    from .encryption import EncryptionOptions as EncryptionOptions
    from .encryption import EncryptionOptionsError as EncryptionOptionsError
    from .encryption import KeyDerivation as KeyDerivation
    from .encryption_state import EncryptionState as EncryptionState
    from .errors import AgentLeftError as AgentLeftError
    from .errors import AgentTimeoutError as AgentTimeoutError
    from .errors import AuthRejectedError as AuthRejectedError
    from .errors import ConnectionFailedError as ConnectionFailedError
    from .errors import DataTrackError as DataTrackError
    from .errors import EncryptionRefusedError as EncryptionRefusedError
    from .errors import RpcCallError as RpcCallError
    from .errors import RpcPayloadTooLargeError as RpcPayloadTooLargeError
    from .errors import SessionError as SessionError
    from .errors import SessionLibraryError as SessionLibraryError
    from .errors import SessionStateError as SessionStateError
    from .errors import TokenConfigError as TokenConfigError
    from .errors import TokenEndpointHTTPError as TokenEndpointHTTPError
    from .errors import TokenEndpointTimeoutError as TokenEndpointTimeoutError
    from .errors import TokenEndpointUnreachableError as TokenEndpointUnreachableError
    from .errors import TokenInvalidError as TokenInvalidError
    from .errors import TokenResponseError as TokenResponseError
    from .errors import TokenSourceError as TokenSourceError
    from .errors import WaitTimeoutError as WaitTimeoutError
    from .events import AgentAttributesChanged as AgentAttributesChanged
    from .events import AgentAudioTrackChanged as AgentAudioTrackChanged
    from .events import AgentExpressionChanged as AgentExpressionChanged
    from .events import AgentJoined as AgentJoined
    from .events import AgentLeft as AgentLeft
    from .events import AgentStateChanged as AgentStateChanged
    from .events import AgentVideoTrackChanged as AgentVideoTrackChanged
    from .events import ByteStreamReceived as ByteStreamReceived
    from .events import ConnectionStateChanged as ConnectionStateChanged
    from .events import DataTrackFrameReceived as DataTrackFrameReceived
    from .events import DataTrackPublished as DataTrackPublished
    from .events import DataTrackUnpublished as DataTrackUnpublished
    from .events import DataTrackUpdated as DataTrackUpdated
    from .events import EncryptionError as EncryptionError
    from .events import EncryptionStateChanged as EncryptionStateChanged
    from .events import EventBus as EventBus
    from .events import MessageChanged as MessageChanged
    from .events import SessionEvent as SessionEvent
    from .events import SessionWarning as SessionWarning
    from .expression import AgentExpression as AgentExpression
    from .expression import AgentMood as AgentMood
    from .options import SessionOptions as SessionOptions
    from .redaction import redact as redact
    from .session import Session as Session
    from .tokens.cache import CachingTokenSource as CachingTokenSource
    from .tokens.details import ConnectionDetails as ConnectionDetails
    from .tokens.details import TokenRequest as TokenRequest
    from .tokens.endpoint import EndpointTokenSource as EndpointTokenSource
    from .tokens.endpoint import SandboxTokenSource as SandboxTokenSource
    from .tokens.local import LocalTokenSource as LocalTokenSource
    from .tokens.source import CustomTokenSource as CustomTokenSource
    from .tokens.source import LiteralTokenSource as LiteralTokenSource
    from .tokens.source import TokenSource as TokenSource
    from .transcript import Message as Message
    from .transcript import MessageKind as MessageKind
    from .transcript import Speaker as Speaker

#: Where each public name lives. Imported on first use (PEP 562) so that importing a light module
#: such as ``agent_tui.session.errors`` does not load the rtc SDK.
_HOME: dict[str, str] = {name: module for module, names in _SURFACE.items() for name in names}

__all__ = sorted(_HOME)  # noqa: PLE0605 - built from _SURFACE, the one list of the public names


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
