"""How big an RPC payload may be, and the one-line error when it is too big.

LiveKit's RPC v1 carries a payload inside one data packet, limited to 15 KiB (client-sdk-js
``MAX_V1_PAYLOAD_BYTES = 15360``). RPC v2 (Swift 2.15, JS, and the Rust core under the Python SDK we
ship, ``livekit`` 1.1.21) sends it over a data stream instead, with no such limit, but only to a
participant that announces ``client_protocol`` 1 or more (JS ``CLIENT_PROTOCOL_DATA_STREAM_RPC``);
to any other, and to one the SDK has not seen yet, it falls back to v1 and refuses a bigger payload
with ``REQUEST_PAYLOAD_TOO_LARGE`` (1402), or the answer with ``RESPONSE_PAYLOAD_TOO_LARGE`` (1504).
The Python SDK exposes neither the limit nor the participant's protocol, so both are read here:
the check runs before sending, so the error can say what to do instead of the SDK's two words.
"""

from __future__ import annotations

from typing import Protocol

from agent_tui.session.errors import RpcCallError, RpcPayloadTooLargeError

#: The RPC v1 payload limit, in UTF-8 bytes (client-sdk-js ``MAX_V1_PAYLOAD_BYTES``; not exported by
#: the Python SDK, whose Rust core enforces the same number).
MAX_V1_PAYLOAD_BYTES = 15_360
#: The lowest ``client_protocol`` that takes RPC over data streams (JS ``CLIENT_PROTOCOL_DATA_STREAM_RPC``).
CLIENT_PROTOCOL_DATA_STREAM_RPC = 1
#: ``rtc.RpcError.ErrorCode`` values for the two too-large refusals.
REQUEST_PAYLOAD_TOO_LARGE = 1402
RESPONSE_PAYLOAD_TOO_LARGE = 1504


class _ParticipantInfo(Protocol):
    client_protocol: int


def announced_protocol(participant: object | None) -> int | None:
    """The ``client_protocol`` a remote participant announced, None when it is not known (not in the
    room, or an SDK that no longer keeps it where 1.1.21 does: ``participant._info``)."""
    info: _ParticipantInfo | None = getattr(participant, "_info", None)
    protocol = getattr(info, "client_protocol", None)
    return protocol if isinstance(protocol, int) else None


def payload_bytes(payload: str) -> int:
    return len(payload.encode("utf-8"))


def check_request(method: str, payload: str, *, destination: str, protocol: int | None) -> None:
    """Raise :class:`RpcPayloadTooLargeError` when the SDK would send ``payload`` by v1 and it is over
    the limit: the destination does not announce v2 (``protocol`` below 1, or None: not seen)."""
    size = payload_bytes(payload)
    if size <= MAX_V1_PAYLOAD_BYTES or (protocol is not None and protocol >= CLIENT_PROTOCOL_DATA_STREAM_RPC):
        return
    why = (
        f"{destination!r} is not in the room, so the SDK would send it as RPC v1"
        if protocol is None
        else f"{destination!r} announces client protocol {protocol}, without RPC over data streams"
    )
    raise RpcPayloadTooLargeError(
        method=method,
        code=REQUEST_PAYLOAD_TOO_LARGE,
        detail=(
            f"the payload is {size:,} bytes (UTF-8), over the {MAX_V1_PAYLOAD_BYTES:,}-byte RPC v1 limit; "
            f"{why}. Update its LiveKit SDK, or send the data as a byte stream"
        ),
        size=size,
        limit=MAX_V1_PAYLOAD_BYTES,
    )


def call_error(method: str, code: int, message: str, *, size: int) -> RpcCallError:
    """The error for an ``rtc.RpcError``: the too-large ones name the limit, the rest stay as they are."""
    if code == REQUEST_PAYLOAD_TOO_LARGE:
        detail = f"the payload is {size:,} bytes (UTF-8), over the {MAX_V1_PAYLOAD_BYTES:,}-byte RPC v1 limit"
    elif code == RESPONSE_PAYLOAD_TOO_LARGE:
        detail = (
            f"the reply is over the {MAX_V1_PAYLOAD_BYTES:,}-byte RPC v1 limit, and the other side sent "
            "it as RPC v1"
        )
    else:
        return RpcCallError(method=method, code=code, detail=message)
    return RpcPayloadTooLargeError(
        method=method, code=code, detail=detail, size=size, limit=MAX_V1_PAYLOAD_BYTES
    )
