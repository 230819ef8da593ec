"""The transport-agnostic request/response client: correlation, timeouts, detection, close, text mode.

The transport is a plain async callable. A scripted agent answers requests from the bytes sent; the last
tests put livekit-agents 1.8.9's own SessionHost behind the callable, so request and answer bytes are
the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from livekit.protocol.agent_pb import agent_session as pb

from agent_tui.session.agent_stream.client import (
    AgentSessionClient,
    AgentSessionClosedError,
    AgentSessionError,
    AgentSessionProtocolError,
    AgentSessionRequestError,
    AgentSessionSendError,
    AgentSessionTimeoutError,
)
from agent_tui.session.agent_stream.codec import build_ping, build_run_input
from agent_tui.session.agent_stream.events import (
    AgentError,
    AgentSessionStateChanged,
    ChatMessageItem,
    FunctionCallItem,
)
from agent_tui.session.events import SessionEvent

Answer = Callable[[pb.SessionRequest], pb.SessionResponse | None]


def parse(data: bytes) -> pb.SessionRequest:
    message = pb.AgentSessionMessage()
    message.ParseFromString(data)
    assert message.WhichOneof("message") == "request"
    return message.request


def wire(response: pb.SessionResponse) -> bytes:
    return pb.AgentSessionMessage(response=response).SerializeToString()


def event_wire(event: pb.AgentSessionEvent) -> bytes:
    return pb.AgentSessionMessage(event=event).SerializeToString()


class FakeAgent:
    """Records what the client sends and, with ``answer``, replies on the next loop iteration."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.sent: list[pb.SessionRequest] = []
        self.answer = answer
        self.fail_sends = 0
        self.client: AgentSessionClient | None = None

    async def send(self, data: bytes) -> None:
        if self.fail_sends:
            self.fail_sends -= 1
            raise ConnectionError("not connected yet")
        request = parse(data)
        self.sent.append(request)
        if self.answer is not None and self.client is not None:
            response = self.answer(request)
            if response is not None:
                asyncio.get_running_loop().call_soon(self.client.feed, wire(response))

    def kinds(self) -> list[str | None]:
        return [r.WhichOneof("request") for r in self.sent]


def make(
    answer: Answer | None = None, **kwargs: Any
) -> tuple[AgentSessionClient, FakeAgent, list[SessionEvent]]:
    agent = FakeAgent(answer)
    events: list[SessionEvent] = []
    client = AgentSessionClient(agent.send, on_event=events.append, id_prefix="t_", **kwargs)
    agent.client = client
    return client, agent, events


def pong(request: pb.SessionRequest) -> pb.SessionResponse:
    return pb.SessionResponse(request_id=request.request_id, pong=pb.SessionResponse.Pong())


# --- correlation ---------------------------------------------------------------------------------------


async def test_concurrent_requests_are_matched_by_id_whatever_the_order() -> None:
    client, agent, _ = make()
    first = asyncio.create_task(client.agent_info())
    second = asyncio.create_task(client.session_state())
    await asyncio.sleep(0)
    assert [r.request_id for r in agent.sent] == ["t_1", "t_2"] and client.pending == 2
    client.feed(
        wire(
            pb.SessionResponse(
                request_id="t_2",
                get_session_state=pb.SessionResponse.GetSessionStateResponse(
                    agent_state=pb.AS_THINKING, agent_id="a"
                ),
            )
        )
    )
    client.feed(
        wire(
            pb.SessionResponse(
                request_id="t_1",
                get_agent_info=pb.SessionResponse.GetAgentInfoResponse(
                    id="a", instructions="hi", tools=["x"]
                ),
            )
        )
    )
    info, state = await first, await second
    assert (info.id, info.instructions, info.tools) == ("a", "hi", ("x",))
    assert (state.agent_state, state.agent_id) == ("thinking", "a")
    assert client.pending == 0


async def test_responses_for_other_clients_are_ignored_and_counted() -> None:
    client, _, _ = make()
    task = asyncio.create_task(client.request(lambda rid: build_run_input(rid, "x"), name="run_input"))
    await asyncio.sleep(0)
    client.feed(wire(pb.SessionResponse(request_id="someone_else_1", pong=pb.SessionResponse.Pong())))
    assert not task.done() and client.stray_responses == 1
    client.feed(wire(pb.SessionResponse(request_id="t_1", run_input=pb.SessionResponse.RunInputResponse())))
    response = await task
    assert response.kind == "run_input"


async def test_answer_arriving_during_send_is_not_lost() -> None:
    client: AgentSessionClient

    async def send(data: bytes) -> None:
        client.feed(wire(pong(parse(data))))  # answered before send() returns

    client = AgentSessionClient(send, id_prefix="x_")
    response = await client.request(build_ping)
    assert response.kind == "pong"


async def test_request_ids_have_a_random_per_client_prefix() -> None:
    a = AgentSessionClient(FakeAgent().send)
    b = AgentSessionClient(FakeAgent().send)
    assert a.next_request_id().startswith("req_") and a.next_request_id() != a.next_request_id()
    assert a.next_request_id()[:13] != b.next_request_id()[:13]


# --- failures ------------------------------------------------------------------------------------------


async def test_timeout_raises_and_forgets_the_request() -> None:
    client, _, _ = make()
    started = time.monotonic()
    with pytest.raises(AgentSessionTimeoutError, match="get_chat_history") as info:
        await client.chat_history(timeout=0.05)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, AgentSessionError)
    assert time.monotonic() - started < 1.0
    assert client.pending == 0
    client.feed(wire(pb.SessionResponse(request_id="t_1", pong=pb.SessionResponse.Pong())))  # too late
    assert client.stray_responses == 1


async def test_default_timeout_is_the_clients() -> None:
    client, _, _ = make(request_timeout=0.05)
    with pytest.raises(AgentSessionTimeoutError):
        await client.session_usage()


async def test_error_answer_raises_request_error() -> None:
    client, _, _ = make(lambda r: pb.SessionResponse(request_id=r.request_id, error="internal error"))
    with pytest.raises(AgentSessionRequestError) as info:
        await client.agent_info()
    assert info.value.error == "internal error" and info.value.request == "get_agent_info"


async def test_answer_of_the_wrong_kind_is_a_protocol_error() -> None:
    client, _, _ = make(pong)
    with pytest.raises(AgentSessionProtocolError):
        await client.chat_history()
    with pytest.raises(AgentSessionProtocolError):
        await client.update_io(audio_output=True)


async def test_send_failure_raises_send_error() -> None:
    client, agent, _ = make()
    agent.fail_sends = 1
    with pytest.raises(AgentSessionSendError) as info:
        await client.framework_info()
    assert isinstance(info.value.__cause__, ConnectionError)
    assert client.pending == 0


async def test_close_fails_pending_requests_and_later_ones() -> None:
    client, _, _ = make()
    tasks = [asyncio.create_task(client.chat_history()), asyncio.create_task(client.agent_info())]
    await asyncio.sleep(0)
    assert client.pending == 2
    client.close()
    for task in tasks:
        with pytest.raises(AgentSessionClosedError):
            await task
    assert client.pending == 0 and client.closed
    with pytest.raises(AgentSessionClosedError):
        await client.session_state()
    client.close()  # idempotent
    assert (
        client.feed(event_wire(pb.AgentSessionEvent(error=pb.AgentSessionEvent.Error(message="x")))).events
        == ()
    )


async def test_send_error_after_the_answer_arrived_still_returns_it() -> None:
    client: AgentSessionClient

    async def send(data: bytes) -> None:
        client.feed(wire(pong(parse(data))))
        raise ConnectionError("ack lost")

    client = AgentSessionClient(send)
    response = await client.request(build_ping, name="ping")
    assert response.kind == "pong"


async def test_close_while_sending_reports_closed() -> None:
    client: AgentSessionClient
    gate = asyncio.Event()

    async def send(data: bytes) -> None:
        await gate.wait()
        raise ConnectionError("room gone")

    client = AgentSessionClient(send)
    task = asyncio.create_task(client.agent_info())
    await asyncio.sleep(0)
    client.close()
    gate.set()
    with pytest.raises(AgentSessionClosedError):
        await task


async def test_empty_run_text_is_refused_locally() -> None:
    client, agent, _ = make()
    with pytest.raises(ValueError, match="non-empty"):
        await client.run_text("")
    assert agent.sent == []


# --- detection -----------------------------------------------------------------------------------------


async def test_detect_true_once_a_pong_arrives() -> None:
    answered = {"n": 0}

    def answer_third(request: pb.SessionRequest) -> pb.SessionResponse | None:
        answered["n"] += 1
        return pong(request) if answered["n"] >= 3 else None

    client, agent, _ = make(answer_third)
    assert client.available is None
    assert await client.detect(timeout=1.0, retry_interval=0.02) is True
    assert client.available is True
    assert agent.kinds() == ["ping", "ping", "ping"] and client.pending == 0


async def test_detect_false_when_nobody_answers() -> None:
    client, agent, _ = make()
    started = time.monotonic()
    assert await client.detect(timeout=0.1, retry_interval=0.02) is False
    elapsed = time.monotonic() - started
    assert 0.09 <= elapsed < 1.0
    assert client.available is False
    assert 2 <= len(agent.sent) <= 7 and client.pending == 0


async def test_close_then_cancel_during_detect_leaves_no_unretrieved_exception() -> None:
    """Ending a session closes the client and then cancels its tasks: a detect() waiting for its pong
    must not leave the close's exception unread ("Future exception was never retrieved")."""
    client, _agent, _ = make()
    task = asyncio.create_task(client.detect(timeout=5.0, retry_interval=1.0))
    await asyncio.sleep(0.05)  # the first ping went out; detect waits for its pong
    client.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    unread: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unread.append(context))
    try:
        gc.collect()  # an unread future reports its exception when it is collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert unread == []


async def test_detect_accepts_a_late_pong_to_an_earlier_ping() -> None:
    agent = FakeAgent()
    second_ping = asyncio.Event()

    async def send(data: bytes) -> None:
        await agent.send(data)
        if len(agent.sent) >= 2:
            second_ping.set()

    client = AgentSessionClient(send)
    task = asyncio.create_task(client.detect(timeout=1.0, retry_interval=0.02))
    await second_ping.wait()  # the first ping went unanswered
    client.feed(wire(pong(agent.sent[0])))
    assert await task is True
    assert client.stray_responses == 0


async def test_detect_retries_through_send_failures() -> None:
    client, agent, _ = make(pong)
    agent.fail_sends = 2
    assert await client.detect(timeout=1.0, retry_interval=0.01) is True
    assert len(agent.sent) == 1


async def test_detect_false_when_closed() -> None:
    client, _, _ = make()
    task = asyncio.create_task(client.detect(timeout=5.0, retry_interval=0.02))
    await asyncio.sleep(0.03)
    client.close()
    assert await task is False
    assert await client.detect() is False


# --- events --------------------------------------------------------------------------------------------


async def test_events_reach_on_event_in_order() -> None:
    client, _, events = make()
    E = pb.AgentSessionEvent
    client.feed(
        event_wire(E(agent_state_changed=E.AgentStateChanged(old_state=pb.AS_IDLE, new_state=pb.AS_SPEAKING)))
    )
    client.feed(b"\xff garbage")
    client.feed(event_wire(E(error=E.Error(message="stt down"))))
    assert [type(e) for e in events] == [AgentSessionStateChanged, AgentError]
    assert client.decoder.stats.malformed == 1


async def test_a_failing_subscriber_does_not_break_the_stream() -> None:
    errors: list[BaseException] = []
    seen: list[SessionEvent] = []

    def on_event(event: SessionEvent) -> None:
        seen.append(event)
        raise RuntimeError("subscriber bug")

    client = AgentSessionClient(
        FakeAgent().send, on_event=on_event, on_callback_error=errors.append, id_prefix="t_"
    )
    task = asyncio.create_task(client.agent_info())
    await asyncio.sleep(0)
    E = pb.AgentSessionEvent
    client.feed(event_wire(E(error=E.Error(message="x"))))
    client.feed(
        wire(
            pb.SessionResponse(
                request_id="t_1", get_agent_info=pb.SessionResponse.GetAgentInfoResponse(id="a")
            )
        )
    )
    assert (await task).id == "a"
    assert len(seen) == 1 and client.callback_errors == 1 and isinstance(errors[0], RuntimeError)


# --- convenience methods -------------------------------------------------------------------------------


async def test_chat_history_run_text_usage_framework() -> None:
    items = [pb.ChatContext.ChatItem(message=pb.ChatMessage(id="1", role=pb.USER, content=[{"text": "hi"}]))]

    def answer(request: pb.SessionRequest) -> pb.SessionResponse:
        rid = request.request_id
        kind = request.WhichOneof("request")
        if kind == "get_chat_history":
            return pb.SessionResponse(request_id=rid, get_chat_history={"items": items})
        if kind == "run_input":
            assert request.run_input.text == "hello"
            return pb.SessionResponse(request_id=rid, run_input={"items": items})
        if kind == "get_session_usage":
            return pb.SessionResponse(
                request_id=rid, get_session_usage={"usage": {"model_usage": [{"eot": {}}]}}
            )
        return pb.SessionResponse(
            request_id=rid, get_framework_info={"sdk": "python", "sdk_version": "1.8.9"}
        )

    client, _, _ = make(answer)
    history = await client.chat_history()
    assert [i.id for i in history.items] == ["1"]
    assert (await client.run_text("hello")).items == history.items
    assert (await client.session_usage()).models[0].kind == "eot"
    assert (await client.framework_info()).sdk_version == "1.8.9"


@pytest.mark.parametrize("on", [True, False])
async def test_set_text_mode_sends_audio_flags_only(on: bool) -> None:
    client, agent, _ = make(lambda r: pb.SessionResponse(request_id=r.request_id, update_io={}))
    await client.set_text_mode(on)
    update = agent.sent[0].update_io
    assert update.input.audio_enabled is (not on) and update.output.audio_enabled is (not on)
    assert not update.output.HasField("transcription_enabled")
    assert not update.input.HasField("video_enabled") and not update.output.HasField("video_enabled")


async def test_set_text_mode_can_switch_transcription_too() -> None:
    client, agent, _ = make(lambda r: pb.SessionResponse(request_id=r.request_id, update_io={}))
    await client.set_text_mode(True, transcription=False)  # what the Go console sends
    output = agent.sent[0].update_io.output
    assert output.HasField("transcription_enabled") and output.transcription_enabled is False


# --- against livekit-agents 1.8.9's own SessionHost ----------------------------------------------------


class _HostTransport:
    def __init__(self) -> None:
        self.client: AgentSessionClient | None = None

    async def send_message(self, message: pb.AgentSessionMessage) -> None:
        assert self.client is not None
        self.client.feed(message.SerializeToString())


@pytest.fixture
async def real_host(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A 1.8.9 SessionHost on a fake session; the client's bytes go through its real request handler."""
    remote_session = pytest.importorskip("livekit.agents.voice.remote_session")
    agents = pytest.importorskip("livekit.agents")
    llm = pytest.importorskip("livekit.agents.llm")
    monkeypatch.setattr(remote_session, "_serialize_options", lambda options: {"max_tool_steps": "3"})

    @agents.function_tool  # type: ignore[untyped-decorator]
    async def lookup(query: str) -> str:
        """Look something up."""
        return query

    history = llm.ChatContext()
    history.add_message(role="user", content="hi")
    history.add_message(role="assistant", content="hello")
    history.insert(llm.FunctionCall(call_id="c1", name="lookup", arguments='{"query": "x"}'))
    io_calls: list[tuple[str, bool]] = []

    def recorder(name: str) -> Callable[[bool], None]:
        return lambda value: io_calls.append((name, value))

    session = SimpleNamespace(
        history=history,
        current_agent=agents.Agent(instructions="Be brief.", tools=[lookup]),
        agent_state="listening",
        user_state="away",
        _started_at=1_700_000_000.0,
        options=None,
        input=SimpleNamespace(
            set_audio_enabled=recorder("input.audio"), set_video_enabled=recorder("input.video")
        ),
        output=SimpleNamespace(
            set_audio_enabled=recorder("output.audio"),
            set_video_enabled=recorder("output.video"),
            set_transcription_enabled=recorder("output.transcription"),
        ),
    )
    transport = _HostTransport()
    host = remote_session.SessionHost(transport=transport)
    host._session = session

    async def send(data: bytes) -> None:
        message = pb.AgentSessionMessage()
        message.ParseFromString(data)
        asyncio.get_running_loop().create_task(host._handle_request_safe(message.request))

    client = AgentSessionClient(send)
    transport.client = client
    return SimpleNamespace(client=client, io_calls=io_calls)


async def test_livekit_agents_host_round_trip(real_host: Any) -> None:
    client: AgentSessionClient = real_host.client
    assert await client.detect(timeout=1.0, retry_interval=0.05) is True
    history = await client.chat_history()
    assert [type(i) for i in history.items] == [ChatMessageItem, ChatMessageItem, FunctionCallItem]
    assert [getattr(i, "text", None) for i in history.items[:2]] == ["hi", "hello"]
    assert all(i.metrics is None for i in history.items[:2])  # type: ignore[union-attr]
    info = await client.agent_info()
    assert (info.instructions, info.tools) == ("Be brief.", ("lookup",))
    state = await client.session_state()
    assert (state.agent_state, state.user_state, state.options) == (
        "listening",
        "away",
        {"max_tool_steps": "3"},
    )
    assert state.started_at == pytest.approx(1_700_000_000.0)
    framework = await client.framework_info()
    assert framework.sdk == "python" and framework.sdk_version


async def test_livekit_agents_host_applies_text_mode_flags(real_host: Any) -> None:
    client: AgentSessionClient = real_host.client
    await client.set_text_mode(True)
    assert real_host.io_calls == [("input.audio", False), ("output.audio", False)]
    real_host.io_calls.clear()
    await client.set_text_mode(False, transcription=True)
    assert real_host.io_calls == [
        ("input.audio", True),
        ("output.audio", True),
        ("output.transcription", True),
    ]


async def test_livekit_agents_host_errors(real_host: Any) -> None:
    client: AgentSessionClient = real_host.client
    with pytest.raises(AgentSessionRequestError, match="empty run_input text"):
        await client.request(lambda rid: build_run_input(rid, ""), name="run_input")
