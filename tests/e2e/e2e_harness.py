"""Helpers shared by the e2e tests and the benchmark: the server under test, tokens and bounded waits."""

from __future__ import annotations

import datetime
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

import pytest
from livekit import api, rtc
from livekit.protocol.room import RoomConfiguration

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer
from agent_tui.livekit_server import LiveKitServerNotFound, find_livekit_server

ROOM = "e2e-room"
#: The namespace's first address: where livekit-server's media (ICE) listens and what it advertises.
NODE_IP = "10.99.0.1"

Connector = Callable[..., Awaitable[rtc.Room]]

ServerKind = Literal["dev", "livekit", "url"]


@dataclass
class LiveServer:
    """The LiveKit server a test talks to: our dev server or livekit-server, each fresh for the test (or
    a server of the user's own, ``url``).

    Tests use only what both have (a URL, a key pair, the Twirp API on the same port); ``dev`` is the
    in-process dev server for the tests that look inside it, None on livekit-server.
    """

    kind: ServerKind
    url: str
    api_key: str
    api_secret: str
    dev: DevServer | None = None

    @property
    def http_url(self) -> str:
        """The Twirp API's base URL (the same port as signalling on both servers)."""
        return "http" + self.url.removeprefix("ws")

    def token(self, identity: str, **options: Any) -> str:
        """A participant token signed with this server's keys; options as :func:`mint_token`'s."""
        return mint_token(identity, api_key=self.api_key, api_secret=self.api_secret, **options)

    def api(self) -> api.LiveKitAPI:
        """A server API client (RoomService, AgentDispatchService, ...); close it with ``aclose()``."""
        return api.LiveKitAPI(self.http_url, self.api_key, self.api_secret)


@dataclass(frozen=True)
class DemoServer:
    """How ``agent-tui demo`` is told which server to run: ``args`` to add, ``name`` as it says it."""

    kind: ServerKind
    args: tuple[str, ...]
    name: str


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def cannot_run(problem: str, *, which: str) -> NoReturn:
    """Skip with ``problem`` as the reason; on CI (``CI=true``) fail instead: there ``which`` must run."""
    if on_ci():
        pytest.fail(f"{problem} (CI=true: {which} must run)", pytrace=False)
    pytest.skip(problem)


def livekit_server_binary() -> str:
    """The livekit-server to test against, or a skip (a failure on CI) saying how to get one."""
    try:
        return str(find_livekit_server(os.environ.get("AGENT_TUI_LIVEKIT_SERVER") or None))
    except LiveKitServerNotFound as error:
        cannot_run(str(error), which="the livekit-server tests")


def mint_token(
    identity: str,
    *,
    room: str = ROOM,
    kind: str = "standard",
    name: str = "",
    metadata: str = "",
    attributes: dict[str, str] | None = None,
    ttl: datetime.timedelta = datetime.timedelta(minutes=10),
    room_config: RoomConfiguration | None = None,
    api_key: str = DEFAULT_API_KEY,
    api_secret: str = DEFAULT_API_SECRET,
    **grants: Any,
) -> str:
    """A participant token for the dev server; ``grants`` override VideoGrants fields."""
    video = api.VideoGrants(room_join=True, room=room, can_update_own_metadata=True)
    for key, value in grants.items():
        setattr(video, key, value)
    token = (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_kind(kind)  # type: ignore[arg-type]
        .with_name(name or identity)
        .with_metadata(metadata)
        .with_attributes(attributes or {})
        .with_ttl(ttl)
        .with_grants(video)
    )
    if room_config is not None:
        token = token.with_room_config(room_config)
    return token.to_jwt()
