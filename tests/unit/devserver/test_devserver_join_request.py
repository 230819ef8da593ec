"""Reading the JoinRequest a /rtc/v1 client puts in its URL."""

from __future__ import annotations

import base64
import gzip

import pytest
from livekit.protocol.models import ClientInfo
from livekit.protocol.rtc import ConnectionSettings, JoinRequest, SessionDescription, WrappedJoinRequest

from agent_tui.devserver.join_request import (
    MAX_JOIN_REQUEST_BYTES,
    JoinRequestError,
    RequestTarget,
    decode_join_request,
    encode_join_request,
)

REQUEST = JoinRequest(
    client_info=ClientInfo(sdk=ClientInfo.SDK.PYTHON, version="1.1.21", protocol=17, client_protocol=2),
    connection_settings=ConnectionSettings(auto_subscribe=True),
    publisher_offer=SessionDescription(type="offer", sdp="v=0\r\n" + "a=x\r\n" * 500),
)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_join_request_round_trips(compress: bool) -> None:
    encoded = encode_join_request(REQUEST, compress=compress)
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded  # URL-safe, unpadded
    assert decode_join_request(encoded) == REQUEST


def test_gzip_makes_a_large_offer_smaller() -> None:
    assert len(encode_join_request(REQUEST, compress=True)) < len(encode_join_request(REQUEST)) / 5


@pytest.mark.parametrize("value", [None, "", "!!!not-base64!!!", "AAAA", encode_join_request(REQUEST)[:-12]])
def test_unreadable_join_requests_are_refused(value: str | None) -> None:
    with pytest.raises(JoinRequestError):
        decode_join_request(value)


def test_a_join_request_that_inflates_past_the_limit_is_refused_without_inflating_it() -> None:
    """As livekit-server: more than 1 MiB once decompressed is "join request too large". A 48 kB URL
    value here would inflate to 50 MB."""
    bomb = gzip.compress(bytes(50_000_000))
    wrapped = WrappedJoinRequest(join_request=bomb, compression=WrappedJoinRequest.Compression.GZIP)
    with pytest.raises(JoinRequestError, match=r"^join request too large$"):
        decode_join_request(base64.urlsafe_b64encode(wrapped.SerializeToString()).decode())
    fits = JoinRequest(metadata="m" * (MAX_JOIN_REQUEST_BYTES - 100))
    assert decode_join_request(encode_join_request(fits, compress=True)) == fits


def test_request_target_splits_path_and_query() -> None:
    target = RequestTarget.parse("/rtc/v1/?room=demo&join_request=abc&empty=")
    assert target.path == "/rtc/v1"
    assert target.query == {"room": "demo", "join_request": "abc", "empty": ""}
    assert RequestTarget.parse("/").path == "/"
    assert RequestTarget.parse("//rtc/validate").path == "/rtc/validate"
