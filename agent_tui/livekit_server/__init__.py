"""Running the open-source LiveKit server (livekit-server, Go) as a child process, with no outside traffic.

``agent-tui demo --livekit-server`` and the end-to-end tests use it to put the real server where the
embedded dev server usually stands. The binary is not shipped: ``make livekit-server`` builds it from its
Go module into the project's ``.tools/bin`` (see :data:`TOOLS_BINARY`). Like the dev server and the demo,
this package uses nothing of the Session core.
"""

from .binary import TOOLS_BINARY, LiveKitServerNotFound, find_livekit_server
from .network import local_ipv4_addresses, pick_node_ip
from .process import LiveKitServerProcess, LiveKitServerStartError

__all__ = [
    "TOOLS_BINARY",
    "LiveKitServerNotFound",
    "LiveKitServerProcess",
    "LiveKitServerStartError",
    "find_livekit_server",
    "local_ipv4_addresses",
    "pick_node_ip",
]
