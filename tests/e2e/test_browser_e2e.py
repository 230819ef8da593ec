"""LiveKit's own JS SDK (livekit-client in Debian's Chromium) as the second client, on both servers.

The browser joins as the agent side of an agent-tui Session (a participant of kind agent that says it is
listening), so each check goes through both SDKs: chat and transcriptions, RPC both ways, attributes, a
byte stream, audio both ways, the real demo worker dispatched by a browser's token, and a refused token
reported to the JS SDK with the server's reason.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
from collections.abc import AsyncIterator

import pytest
from livekit import rtc
from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration

from agent_tui.demo.responder import GREETING_TEXT
from agent_tui.devserver import DevServer
from agent_tui.session import (
    AgentState,
    ByteStreamReceived,
    LocalTokenSource,
    Session,
    SessionEvent,
    SessionOptions,
    Speaker,
)
from tests.e2e.browser_client import BrowserClient, BrowserError
from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_audio import AudioRecorder, TonePublisher, rms
from tests.e2e.e2e_harness import ROOM, Connector, LiveServer
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture
async def browser() -> AsyncIterator[BrowserClient]:
    async with BrowserClient.open() as client:
        yield client


async def browser_agent(server: LiveServer, browser: BrowserClient) -> None:
    token = server.token("web-agent", kind="agent", attributes={"lk.agent.state": "listening"})
    await browser.call("connect", server.url, token)


async def started_session(server: LiveServer) -> tuple[Session, list[SessionEvent]]:
    session = Session(
        LocalTokenSource(server.url, server.api_key, server.api_secret),
        SessionOptions(room_name=ROOM, participant_identity="py-user", agent_connect_timeout=20),
    )
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    session.receive_byte_streams("files")
    await session.start()
    await wait_until(lambda: session.agent_state is AgentState.LISTENING, what="the browser agent")
    return session, events


async def test_chat_rpc_attributes_and_bytes_between_the_js_sdk_and_a_session(
    server: LiveServer, browser: BrowserClient
) -> None:
    await browser_agent(server, browser)
    session, events = await started_session(server)
    try:
        assert session.agent.identity == "web-agent"
        # chat: ours to the browser, and the browser's transcription to us
        await session.send_chat("hello from python")
        chat = await browser.wait_for(lambda e: e["type"] == "text" and e["topic"] == "lk.chat", what="chat")
        assert (chat["from"], chat["text"]) == ("py-user", "hello from python")
        await browser.call("sendText", "hello from the browser", "lk.transcription")
        await wait_until(
            lambda: any(
                m.speaker is Speaker.AGENT and m.text == "hello from the browser" for m in session.messages
            ),
            what="the browser's transcription",
        )
        # RPC both ways
        await browser.call("registerRpc", "web.echo", "pong from js")
        assert await session.perform_rpc("web.echo", "ping") == "pong from js"
        called = await browser.wait_for(lambda e: e["type"] == "rpc", what="the RPC at the browser")
        assert (called["caller"], called["payload"]) == ("py-user", "ping")

        async def whoami(data: rtc.RpcInvocationData) -> str:
            return f"python answers {data.caller_identity}"

        session.register_rpc_method("py.whoami", whoami)
        assert await browser.call("performRpc", "py-user", "py.whoami", "") == "python answers web-agent"
        # attributes both ways
        await browser.call("setAttributes", {"topic": "weather"})
        await wait_until(lambda: session.agent_attributes.get("topic") == "weather", what="browser attribute")
        await session.set_attributes({"mood": "curious"})
        # (livekit-server may announce us to the browser only after the change: poll what it holds)
        deadline = asyncio.get_running_loop().time() + 20
        while ((await browser.call("remoteAttributes", "py-user")) or {}).get("mood") != "curious":
            assert asyncio.get_running_loop().time() < deadline, "our attribute never reached the browser"
            await asyncio.sleep(0.1)
        # a 200 kB byte stream from the browser, intact
        sent = await browser.call("sendBytes", "blob.bin", 200_000, "files")
        await wait_until(
            lambda: any(isinstance(e, ByteStreamReceived) for e in events),
            what="the byte stream",
            within_s=30,
        )
        [received] = [e for e in events if isinstance(e, ByteStreamReceived)]
        assert (received.name, len(received.data)) == ("blob.bin", 200_000)
        assert hashlib.sha256(received.data).hexdigest() == sent["sha256"]
    finally:
        await session.end()


async def test_audio_both_ways_between_the_browser_and_the_rtc_sdk(
    server: LiveServer, browser: BrowserClient, connect: Connector
) -> None:
    recorders: list[AudioRecorder] = []
    listener = rtc.Room()
    listener.on("track_subscribed", lambda track, *_: recorders.append(AudioRecorder(track)))
    await connect("py-listener", room=listener)
    tone = TonePublisher(listener, 440.0)
    await tone.start()
    try:
        await browser.call("connect", server.url, server.token("web-user"))
        await browser.call("enableMicrophone")
        # the browser's fake microphone, heard by Python
        await wait_until(
            lambda: recorders and recorders[0].received_seconds() > 2.0, what="the browser's mic"
        )
        assert rms(recorders[0].last_seconds(2.0)) > 100, "the browser's microphone arrived silent"
        # Python's 440 Hz, heard in the browser (WebAudio analyser, 23 Hz bins)
        await browser.wait_for(lambda e: e["type"] == "track_subscribed", what="the tone at the browser")
        heard = await browser.call("analyseAudio", "py-listener", 2.0)
        assert abs(heard["peakHz"] - 440.0) <= 2 * heard["binHz"], heard
        assert heard["rms"] > 0.01, heard
    finally:
        await tone.stop()


async def test_a_browser_token_dispatches_the_demo_agent_which_greets_it(
    server: LiveServer, browser: BrowserClient
) -> None:
    worker = DemoWorker(
        server.url, "demo-web", extra_args=(), api_key=server.api_key, api_secret=server.api_secret
    )
    await worker.start()
    try:
        config = RoomConfiguration(agents=[RoomAgentDispatch(agent_name="demo-web")])
        await browser.call(
            "connect", server.url, server.token("web-user", room="web-room", room_config=config)
        )
        await browser.call("enableMicrophone")
        greeting = await browser.wait_for(
            lambda e: e["type"] == "text" and e["topic"] == "lk.transcription" and e["text"] == GREETING_TEXT,
            what="the demo agent's greeting",
            within_s=40,
        )
        assert greeting["from"].startswith("agent-")
        heard = await browser.call("analyseAudio", greeting["from"], 1.5)
        assert heard["rms"] > 0.001, heard
    finally:
        await worker.stop()


async def test_a_refused_token_reaches_the_js_sdk_with_the_servers_reason(
    server: LiveServer, browser: BrowserClient
) -> None:
    expired = server.token("web-user", ttl=datetime.timedelta(minutes=-5))
    with pytest.raises(BrowserError) as refused:
        await browser.call("connect", server.url, expired)
    # The SDK reads the reason from /rtc/v1/validate after the refusal: a browser lets it only with CORS.
    assert refused.value.name == "ConnectionError"
    assert refused.value.reason_name == "NotAllowed", refused.value
    assert "expired" in refused.value.message, refused.value


async def test_a_web_app_gets_a_token_from_the_dev_servers_endpoint_and_its_agent(
    dev_server: DevServer, browser: BrowserClient
) -> None:
    """Dev server only (livekit-server has no token endpoint): ``POST /token`` in LiveKit's standard format,
    fetched from the page across origins as ``TokenSource.endpoint`` does, dispatches the demo agent."""
    worker = DemoWorker(dev_server.url, "demo-endpoint", extra_args=())
    await worker.start()
    try:
        endpoint = dev_server.url.replace("ws://", "http://") + "/token"
        request = {"room_name": "web-endpoint", "room_config": {"agents": [{"agent_name": "demo-endpoint"}]}}
        answer = await browser.call("fetchToken", endpoint, request)
        assert answer["server_url"] == dev_server.url
        await browser.call("connect", answer["server_url"], answer["participant_token"])
        greeting = await browser.wait_for(
            lambda e: e["type"] == "text" and e["topic"] == "lk.transcription" and e["text"] == GREETING_TEXT,
            what="the demo agent's greeting",
            within_s=40,
        )
        assert greeting["from"].startswith("agent-")
    finally:
        await worker.stop()
