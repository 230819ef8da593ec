"""This machine's own IPv4 addresses, to give livekit-server a ``node_ip`` without asking anyone.

Without ``rtc.node_ip`` livekit-server asks public STUN servers for its address; WebRTC clients ignore
loopback candidates, so the address it advertises must be one of this machine's interfaces. Reading the
interfaces sends nothing anywhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import socket
import struct
from typing import Final

__all__ = ["local_ipv4_addresses", "pick_node_ip"]

_SIOCGIFADDR: Final = 0x8915


def local_ipv4_addresses() -> list[str]:
    """The IPv4 address of every interface that has one, loopback last (Linux; elsewhere what the host
    name resolves to)."""
    found: list[str] = []
    try:
        names = [name for _index, name in socket.if_nameindex()]
    except OSError:
        names = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for name in names:
            request = struct.pack("256s", name.encode()[:15])
            with contextlib.suppress(OSError):
                reply = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)
                found.append(socket.inet_ntoa(reply[20:24]))
    if not found:
        with contextlib.suppress(OSError):
            infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
            found = sorted({str(info[4][0]) for info in infos})
    return sorted(dict.fromkeys(found), key=lambda address: ipaddress.ip_address(address).is_loopback)


def pick_node_ip() -> str | None:
    """The first non-loopback IPv4 address of this machine, or None when it has only loopback."""
    for address in local_ipv4_addresses():
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return None
