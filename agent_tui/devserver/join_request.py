"""The JoinRequest a ``/rtc/v1`` client puts in its connection URL.

The single-peer-connection protocol carries the whole ``JoinRequest`` (client info, connection settings
and, on a first join, the SDP offer) as ``?join_request=<base64url(WrappedJoinRequest)>``, gzipped when
that makes it smaller. Decoding it before the WebSocket upgrade lets a malformed request be refused with
an HTTP 400, as LiveKit does, instead of a connection that dies after the upgrade.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qs

from google.protobuf.message import DecodeError
from livekit.protocol.rtc import JoinRequest, WrappedJoinRequest

# As livekit-server (pkg/service/utils.go DecompressGzip, rtcservice.go): a join request larger than
# http.DefaultMaxHeaderBytes, once decompressed, is refused rather than inflated without bound.
MAX_JOIN_REQUEST_BYTES: Final = 1 << 20
_TOO_LARGE: Final = "join request too large"


class JoinRequestError(Exception):
    """The URL's join request cannot be read; answered with an HTTP 400."""

    status = HTTPStatus.BAD_REQUEST


@dataclass(frozen=True)
class RequestTarget:
    """A request path split into the route and its query parameters (first value of each)."""

    path: str
    query: dict[str, str]

    @classmethod
    def parse(cls, target: str) -> RequestTarget:
        """Split ``/rtc/v1?join_request=…`` into ``/rtc/v1`` and its parameters (empty segments ignored)."""
        raw_path, _, raw_query = target.partition("?")
        path = "/" + "/".join(segment for segment in raw_path.split("/") if segment)
        query = {key: values[0] for key, values in parse_qs(raw_query, keep_blank_values=True).items()}
        return cls(path=path, query=query)


def decode_join_request(encoded: str | None) -> JoinRequest:
    """The ``JoinRequest`` inside a ``join_request`` query value, or :class:`JoinRequestError`."""
    if not encoded:
        raise JoinRequestError("missing join_request parameter (this endpoint speaks the /rtc/v1 protocol)")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        wrapped = WrappedJoinRequest.FromString(raw)
        payload = wrapped.join_request
        if wrapped.compression == WrappedJoinRequest.Compression.GZIP:
            payload = _gunzip(payload)
        if len(payload) > MAX_JOIN_REQUEST_BYTES:
            raise JoinRequestError(_TOO_LARGE)
        return JoinRequest.FromString(payload)
    except (binascii.Error, ValueError, DecodeError, OSError, EOFError, zlib.error) as error:
        raise JoinRequestError(f"cannot decode join_request: {error}") from None


def _gunzip(payload: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    inflated = inflater.decompress(payload, MAX_JOIN_REQUEST_BYTES + 1)
    if len(inflated) > MAX_JOIN_REQUEST_BYTES:
        raise JoinRequestError(_TOO_LARGE)
    if not inflater.eof:
        raise EOFError("compressed data ended before the end-of-stream marker was reached")
    return inflated


def encode_join_request(request: JoinRequest, *, compress: bool = False) -> str:
    """The query value for ``request``; the inverse of :func:`decode_join_request` (tests and tools)."""
    payload = request.SerializeToString()
    wrapped = WrappedJoinRequest(
        join_request=gzip.compress(payload) if compress else payload,
        compression=WrappedJoinRequest.Compression.GZIP if compress else WrappedJoinRequest.Compression.NONE,
    )
    return base64.urlsafe_b64encode(wrapped.SerializeToString()).decode("ascii").rstrip("=")
