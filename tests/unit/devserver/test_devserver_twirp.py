"""The Twirp API's routing, authentication and error shape, through livekit-api's own client.

Rooms here are opened by the API (a dispatch into a room nobody joined), so no media moves; the
participant-level methods are exercised end to end in ``tests/e2e/test_twirp_api.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from livekit import api

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer
from agent_tui.devserver.twirp_api import MAX_BODY_BYTES

pytestmark = pytest.mark.timeout(30)


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
    # A token that does not verify is refused before anything else, in plain text, as livekit-server's
    # auth middleware does (livekit-api then reports code "unknown", as it does there).
    wrong = api.LiveKitAPI(server.url, DEFAULT_API_KEY, "w" * 48)
    try:
        with pytest.raises(api.ServerError) as refused:
            await wrong.room.list_rooms(api.ListRoomsRequest())
        assert (refused.value.code, refused.value.status) == ("unknown", 401)
    finally:
        await wrong.aclose()

    body = api.ListParticipantsRequest(room="r").SerializeToString()
    path = "/twirp/livekit.RoomService/ListParticipants"
    # A valid token without the grant the method needs: unauthenticated, as livekit-server's twirpAuthError.
    for token in (admin_token(room_list=True), admin_token(room_admin=True, room="another-room")):
        status, text = await post(server, path, body, token=token, content_type="application/protobuf")
        assert (status, json.loads(text)["code"]) == (401, "unauthenticated")
        assert json.loads(text)["msg"].startswith("permissions denied")


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


GOOD = "good"
NO_GRANT = "no-grant"
NONE = "none"
JSON = "application/json"
PROTOBUF = "application/protobuf"
BAD_JSON = ("malformed", "the json request could not be decoded")
BAD_PROTOBUF = ("malformed", "the protobuf request could not be decoded")
NO_PERMISSION = ("unauthenticated", "permissions denied")


@pytest.mark.parametrize(
    ("auth", "content_type", "body", "status", "answer"),
    [
        # As measured on livekit-server 1.13.5 (POST /twirp/livekit.RoomService/ListRooms).
        (NONE, JSON, b"{garbage", 400, BAD_JSON),
        (NONE, JSON, b"", 400, BAD_JSON),
        (NONE, JSON, b"{}", 401, NO_PERMISSION),
        (NONE, PROTOBUF, b"\xff\xff\xff", 400, BAD_PROTOBUF),
        ("Bearer abc", JSON, b"{garbage", 401, "invalid authorization token"),
        ("Basic abc", JSON, b"{}", 401, "invalid authorization header. Must start with Bearer "),
        (NO_GRANT, JSON, b"{garbage", 400, BAD_JSON),
        (NO_GRANT, JSON, b"{}", 401, NO_PERMISSION),
        (GOOD, JSON, b"\xff\xfe{", 400, BAD_JSON),
        (GOOD, JSON, b'{"names": 5}', 400, BAD_JSON),
        (GOOD, JSON, b"[]", 400, BAD_JSON),
        (GOOD, JSON, b"[" * 100_000, 400, BAD_JSON),
        (GOOD, JSON, b'{"nope": 1}', 200, None),
        (GOOD, JSON, b"{} garbage", 200, None),
        (GOOD, "application/json; charset=utf-8", b'{"names": ["\xff"]}', 200, None),
        (GOOD, "text/plain", b"{}", 404, ("bad_route", "unexpected Content-Type 'text/plain'")),
    ],
)
async def test_bad_bodies_and_tokens_are_answered_as_livekit_server_answers_them(
    server: DevServer,
    caplog: pytest.LogCaptureFixture,
    auth: str,
    content_type: str,
    body: bytes,
    status: int,
    answer: tuple[str, str] | str | None,
) -> None:
    caplog.set_level(logging.INFO)
    headers = {"Content-Type": content_type}
    if auth == GOOD:
        headers["Authorization"] = f"Bearer {admin_token(room_list=True)}"
    elif auth == NO_GRANT:
        headers["Authorization"] = f"Bearer {admin_token()}"
    elif auth != NONE:
        headers["Authorization"] = auth
    url = server.url.replace("ws://", "http://") + "/twirp/livekit.RoomService/ListRooms"
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as response:
        got_status, text = response.status, await response.text()
    assert got_status == status
    if isinstance(answer, tuple):
        error = json.loads(text)
        assert (error["code"], error["msg"].split(":")[0]) == answer
    elif isinstance(answer, str):
        assert text.startswith(answer)
    # One line per refused request, and never a traceback.
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


async def test_a_body_over_the_limit_is_refused_unread_with_413(
    server: DevServer, caplog: pytest.LogCaptureFixture
) -> None:
    """livekit-server serves a 5 MB body; the dev server refuses anything over MAX_BODY_BYTES (1 MiB) with
    413 and a Twirp error, whether the size is declared or the body is chunked."""
    caplog.set_level(logging.INFO)
    url = server.url.replace("ws://", "http://") + "/twirp/livekit.RoomService/ListRooms"
    big = b'{"names":["' + b"a" * 5_000_000 + b'"]}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {admin_token(room_list=True)}"}
    async with aiohttp.ClientSession() as http:
        for data in (big, chunks()):
            async with http.post(url, data=data, headers=headers) as response:
                assert response.status == 413
                error = json.loads(await response.text())
            assert error["code"] == "resource_exhausted"
            assert f"limit of {MAX_BODY_BYTES} bytes" in error["msg"]
        # A body just under the limit is served.
        fits = b'{"names":["' + b"a" * (MAX_BODY_BYTES - 100) + b'"]}'
        async with http.post(url, data=fits, headers=headers) as response:
            assert response.status == 200
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
