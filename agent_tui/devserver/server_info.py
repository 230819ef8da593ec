"""What the dev server says about itself in every JoinResponse, and the signalling liveness it enforces.

The SDK requires a positive ping interval and timeout (an interval of 0 panics its timer, a timeout of
0 fails at once) and reads the server version and protocol to decide which features it may use; the
values below are those of the LiveKit release whose behaviour this server follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from livekit.protocol.models import ServerInfo

# livekit-server 1.13.5, pkg/rtc/participant.go: PingIntervalSeconds = 5, PingTimeoutSeconds = 15.
PING_INTERVAL_S: Final = 5
PING_TIMEOUT_S: Final = 15
# livekit-server's disconnectCleanupDuration (pkg/rtc/participant.go): once a participant's connection
# has failed it is told to resume, and removed if it has not within this time.
DISCONNECT_CLEANUP_S: Final = 5.0

SERVER_INFO: Final = ServerInfo(
    edition=ServerInfo.Edition.Standard,
    version="1.9.0",
    protocol=16,
    node_id="agent-tui-devserver",
)


@dataclass(frozen=True)
class SignalTiming:
    """The ping interval and timeout every JoinResponse advertises, in whole seconds (the protocol's
    unit), and the server enforces: a participant whose signalling stays silent for ``ping_timeout_s``
    (clients ping every ``ping_interval_s``) has its connection closed as dead."""

    ping_interval_s: int = PING_INTERVAL_S
    ping_timeout_s: int = PING_TIMEOUT_S

    def __post_init__(self) -> None:
        if not 0 < self.ping_interval_s < self.ping_timeout_s:
            raise ValueError("the ping interval must be positive and shorter than the ping timeout")
