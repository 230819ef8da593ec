"""The Twirp API's routing, authentication and error shape, through livekit-api's own client.

Rooms here are opened by the API (a dispatch into a room nobody joined), so no media moves; the
participant-level methods are exercised end to end in ``tests/e2e/test_twirp_api.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from livekit import api

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def server() -> AsyncIterator[DevServer]:
    dev = DevServer(port=0, departure_timeout=0.5)
    await dev.start()
    try:
        yield dev
    finally:
        await dev.stop()


@pytest.fixture
async def lkapi(server: DevServer) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(server.url, DEFAULT_API_KEY, DEFAULT_API_SECRET)
    try:
        yield client
    finally:
        await client.aclose()


def admin_token(**grants: object) -> str:
    return (
        api.AccessToken(DEFAULT_API_KEY, DEFAULT_API_SECRET).with_grants(api.VideoGrants(**grants)).to_jwt()
    )  # type: ignore[arg-type]


async def post(
    server: DevServer, path: str, body: bytes, *, token: str, content_type: str
) -> tuple[int, str]:
    url = server.url.replace("ws://", "http://") + path
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as response:
        return response.status, await response.text()


async def test_rooms_opened_by_a_dispatch_are_listed_and_can_be_deleted(
    server: DevServer, lkapi: api.LiveKitAPI
) -> None:
    await lkapi.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(agent_name="a", room="api-room")
    )
    rooms = (await lkapi.room.list_rooms(api.ListRoomsRequest())).rooms
    assert [(r.name, r.sid, r.num_participants) for r in rooms] == [
        ("api-room", server.rooms["api-room"].sid, 0)
    ]
    assert (await lkapi.room.list_rooms(api.ListRoomsRequest(names=["other"]))).rooms == []
    assert (
        await lkapi.room.list_participants(api.ListParticipantsRequest(room="api-room"))
    ).participants == []
    await lkapi.room.delete_room(api.DeleteRoomRequest(room="api-room"))
    assert not server.rooms
    assert await lkapi.agent_dispatch.list_dispatch("api-room") == []


@pytest.mark.parametrize(
    ("call", "code", "status"),
    [
        pytest.param(
            lambda lk: lk.room.list_participants(api.ListParticipantsRequest(room="missing")),
            "not_found",
            404,
            id="missing-room",
        ),
        pytest.param(
            lambda lk: lk.room.remove_participant(api.RoomParticipantIdentity(room="missing", identity="x")),
            "not_found",
            404,
            id="missing-participant",
        ),
        pytest.param(
            lambda lk: lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(agent_name="a")),
            "invalid_argument",
            400,
            id="no-room",
        ),
        pytest.param(
            lambda lk: lk.room.create_room(api.CreateRoomRequest(name="r")),
            "unimplemented",
            501,
            id="unserved-method",
        ),
    ],
)
async def test_failures_come_back_as_twirp_errors(
    lkapi: api.LiveKitAPI, call: object, code: str, status: int
) -> None:
    assert callable(call)
    with pytest.raises(api.ServerError) as failed:
        await call(lkapi)
    assert (failed.value.code, failed.value.status) == (code, status)
    assert failed.value.message


async def test_tokens_are_checked_like_livekit(server: DevServer) -> None:
    wrong = api.LiveKitAPI(server.url, DEFAULT_API_KEY, "w" * 48)
    try:
        with pytest.raises(api.ServerError) as refused:
            await wrong.room.list_rooms(api.ListRoomsRequest())
        assert (refused.value.code, refused.value.status) == ("unauthenticated", 401)
        assert "Signature verification failed" in refused.value.message
    finally:
        await wrong.aclose()

    body = api.ListParticipantsRequest(room="r").SerializeToString()
    path = "/twirp/livekit.RoomService/ListParticipants"
    for token in (admin_token(room_list=True), admin_token(room_admin=True, room="another-room")):
        status, text = await post(server, path, body, token=token, content_type="application/protobuf")
        assert status == 403
        assert json.loads(text)["code"] == "permission_denied"
    status, text = await post(server, path, body, token="", content_type="application/protobuf")
    assert (status, json.loads(text)["code"]) == (401, "unauthenticated")


async def test_routing_json_bodies_and_malformed_requests(server: DevServer) -> None:
    token = admin_token(room_list=True)
    status, text = await post(
        server, "/twirp/livekit.RoomService/ListRooms", b"{}", token=token, content_type="application/json"
    )
    assert (status, json.loads(text)) == (200, {})
    status, text = await post(
        server,
        "/twirp/livekit.RoomService/ListRooms",
        b"\xff\xff",
        token=token,
        content_type="application/protobuf",
    )
    assert (status, json.loads(text)["code"]) == (400, "malformed")
    status, text = await post(
        server, "/twirp/livekit.Nope/Do", b"", token=token, content_type="application/protobuf"
    )
    assert (status, json.loads(text)["code"]) == (404, "bad_route")
    error = json.loads(text)
    assert set(error) == {"code", "msg", "meta"}
