"""What the dev server says about itself in every JoinResponse.

The SDK requires a positive ping interval and timeout (an interval of 0 panics its timer, a timeout of
0 fails at once) and reads the server version and protocol to decide which features it may use; the
values below are those of the LiveKit release whose behaviour this server follows.
"""

from __future__ import annotations

from typing import Final

from livekit.protocol.models import ServerInfo

PING_INTERVAL_S: Final = 5
PING_TIMEOUT_S: Final = 15

SERVER_INFO: Final = ServerInfo(
    edition=ServerInfo.Edition.Standard,
    version="1.9.0",
    protocol=16,
    node_id="agent-tui-devserver",
)
