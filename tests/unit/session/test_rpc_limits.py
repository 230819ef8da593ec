"""RPC payload limits: over 15 KiB only to a destination that takes RPC over data streams."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from agent_tui.session import RpcCallError, RpcPayloadTooLargeError
from agent_tui.session.rpc_limits import (
    MAX_V1_PAYLOAD_BYTES,
    announced_protocol,
    call_error,
    check_request,
    payload_bytes,
)


def participant(protocol: int) -> object:
    return SimpleNamespace(_info=SimpleNamespace(client_protocol=protocol))


def test_the_limit_is_the_js_sdks() -> None:
    assert MAX_V1_PAYLOAD_BYTES == 15360


def test_size_is_counted_in_utf8_bytes() -> None:
    assert payload_bytes("é" * 8000) == 16000
    with pytest.raises(RpcPayloadTooLargeError) as raised:
        check_request("m", "é" * 8000, destination="agent-1", protocol=0)  # 8000 characters, 16000 bytes
    assert (raised.value.size, raised.value.limit) == (16000, 15360)


@pytest.mark.parametrize("protocol", [None, 0])
def test_exactly_the_limit_passes_and_one_byte_more_does_not(protocol: int | None) -> None:
    check_request("m", "x" * MAX_V1_PAYLOAD_BYTES, destination="agent-1", protocol=protocol)
    with pytest.raises(RpcPayloadTooLargeError):
        check_request("m", "x" * (MAX_V1_PAYLOAD_BYTES + 1), destination="agent-1", protocol=protocol)


@pytest.mark.parametrize("protocol", [1, 2])
def test_a_destination_with_rpc_over_data_streams_takes_any_size(protocol: int) -> None:
    check_request("m", "x" * 2_000_000, destination="agent-1", protocol=protocol)


def test_the_error_names_the_limit_the_size_and_what_to_do() -> None:
    with pytest.raises(RpcPayloadTooLargeError) as raised:
        check_request("lookup", "x" * 20_000, destination="agent-1", protocol=0)
    assert str(raised.value) == (
        "RPC 'lookup' failed: the payload is 20,000 bytes (UTF-8), over the 15,360-byte RPC v1 limit; "
        "'agent-1' announces client protocol 0, without RPC over data streams. Update its LiveKit SDK, "
        "or send the data as a byte stream (code 1402)."
    )
    assert isinstance(raised.value, RpcCallError)  # front ends that catch RPC failures catch this too
    assert "\n" not in str(raised.value)


def test_an_unseen_destination_is_said_to_be_absent() -> None:
    with pytest.raises(RpcPayloadTooLargeError, match="'ghost' is not in the room"):
        check_request("m", "x" * 20_000, destination="ghost", protocol=None)


def test_the_announced_protocol_is_read_from_the_participant() -> None:
    assert announced_protocol(participant(2)) == 2
    assert announced_protocol(None) is None
    assert announced_protocol(SimpleNamespace()) is None  # an SDK that keeps it elsewhere


def test_the_sdks_too_large_refusals_name_the_limit() -> None:
    request = call_error("m", 1402, "Request payload too large", size=20_000)
    reply = call_error("m", 1504, "Response payload too large", size=10)
    assert isinstance(request, RpcPayloadTooLargeError)
    assert isinstance(reply, RpcPayloadTooLargeError)
    assert "20,000 bytes" in str(request)
    assert str(reply).startswith("RPC 'm' failed: the reply is over the 15,360-byte RPC v1 limit")
    other = call_error("m", 1400, "Application error in method handler", size=10)
    assert type(other) is RpcCallError
    assert str(other) == "RPC 'm' failed: Application error in method handler (code 1400)."
