"""Cutting the namespace's media path while signalling goes on, as a network outage would.

Inside ``tests/netns/run`` signalling runs on 127.0.0.1 and WebRTC media between the namespace's two
addresses (10.99.0.1 and .2). Policy routing can drop exactly the latter: the ``local`` table's rule is
moved behind a ``blackhole`` rule for 10.99.0.0/24, so every packet to those addresses is discarded
while 127.0.0.1 keeps working. (The kernel here has no netem or u32 classifier, so ``tc`` cannot do it.)
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator

MEDIA_NETWORK = "10.99.0.0/24"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=5)


@contextlib.contextmanager
def media_cut() -> Iterator[None]:
    """Drop every packet to the media addresses until the block ends; then restore routing as it was."""
    _ip("rule", "add", "pref", "100", "table", "local")
    _ip("rule", "del", "pref", "0", "table", "local")
    _ip("rule", "add", "pref", "10", "to", MEDIA_NETWORK, "blackhole")
    try:
        yield
    finally:
        _ip("rule", "del", "pref", "10")
        _ip("rule", "add", "pref", "0", "table", "local")
        _ip("rule", "del", "pref", "100", "table", "local")
