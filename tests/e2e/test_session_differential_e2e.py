"""Our Session against components-js's (useSession, useAgent, useSessionMessages), on the same script.

Each scenario runs twice against the same server and agent: once through a React page built from
@livekit/components-react in Chromium (tests/browser/session_app.jsx records every change of the agent's
state and helpers, and the message list) and once through ``agent_tui.session.Session``, each in a room
of its own. Both must go through the same agent states (ignoring timing and repeats), show the same
helper values for each state, and end with the same final messages in the same order. A difference is
a bug in one of them; where it is components-js's, the test and the README say so.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from livekit import api, rtc
from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration

from agent_tui.demo.responder import HELLO_REPLY_TEXT
from agent_tui.session import (
    AgentState,
    AgentStateChanged,
    LocalTokenSource,
    Session,
    SessionEvent,
    SessionOptions,
    Speaker,
)
from tests.e2e.browser_client import BrowserClient
from tests.e2e.demo_worker_process import DemoWorker
from tests.e2e.e2e_audio import TonePublisher
from tests.e2e.e2e_harness import LiveServer
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

AGENT = "demo-diff"
QUESTIONS = ("what time is it", "hello")
JS_KINDS = {"chatMessage": "chat", "agentTranscript": "transcript", "userTranscript": "transcript"}


@pytest.fixture
async def worker(server: LiveServer) -> AsyncIterator[DemoWorker]:
    demo = DemoWorker(server.url, AGENT, api_key=server.api_key, api_secret=server.api_secret)
    await demo.start()
    yield demo
    await demo.stop()


def squeeze(states: list[str]) -> list[str]:
    """States in order with repeats folded and the idle ``disconnected`` before start dropped."""
    folded = [state for state, _ in itertools.groupby(states)]
    return folded[1:] if folded[:1] == ["disconnected"] else folded


class JsRun:
    """The page's run of a scenario: what components-js showed."""

    def __init__(self, browser: BrowserClient) -> None:
        self.browser = browser

    def agent_records(self) -> list[dict[str, Any]]:
        return [e for e in self.browser.events if e["type"] == "js_agent"]

    def states(self) -> list[str]:
        return squeeze([record["state"] for record in self.agent_records()])

    def messages(self) -> list[dict[str, Any]]:
        lists = [e["messages"] for e in self.browser.events if e["type"] == "js_messages"]
        return lists[-1] if lists else []

    def final_messages(self) -> list[tuple[str, str, str]]:
        return [
            ("user" if m["local"] else "agent", JS_KINDS.get(m["type"], m["type"]), m["text"])
            for m in self.messages()
        ]

    def message_rows(self) -> list[tuple[str, str, str, bool]]:
        """Every message shown, final or not: (speaker, kind, text, final)."""
        return [
            ("user" if m["local"] else "agent", JS_KINDS.get(m["type"], m["type"]), m["text"], m["final"])
            for m in self.messages()
        ]

    async def ask(self, question: str) -> None:
        """Send ``question`` as chat; return once the agent's whole answer is shown and it listens again."""
        await self.browser.call("sessionApp.send", question)
        await self.browser.wait_for(
            lambda e: (
                e["type"] == "js_messages"
                and any(
                    m["local"] is False and m["type"] == "agentTranscript" and _answers(question, m["text"])
                    for m in e["messages"]
                )
            ),
            what=f"components-js's answer to {question!r}",
            within_s=40,
        )
        await self.wait_state("listening")

    async def wait_state(self, state: str, within_s: float = 40) -> None:
        await self.browser.wait_for(
            lambda e: e["type"] == "js_agent" and e["state"] == state and e is self.agent_records()[-1],
            what=f"components-js to show the agent {state}",
            within_s=within_s,
        )


def assert_helpers_match_our_rules(records: list[dict[str, Any]]) -> None:
    """components-js's helper values for each state are what our AgentState says for that state."""
    for record in records:
        state = AgentState(record["state"])
        ours = (state.is_connected, state.can_listen, state.is_finished, state.is_pending)
        theirs = (record["isConnected"], record["canListen"], record["isFinished"], record["isPending"])
        assert theirs == ours, f"{record['state']}: components-js {theirs}, ours {ours}"


def our_states(events: list[SessionEvent]) -> list[str]:
    return squeeze([str(e.state) for e in events if isinstance(e, AgentStateChanged)])


def our_final_messages(session: Session) -> list[tuple[str, str, str]]:
    return [
        ("user" if m.speaker is Speaker.USER else "agent", str(m.kind), m.text)
        for m in session.messages
        if m.final
    ]


def our_message_rows(session: Session) -> list[tuple[str, str, str, bool]]:
    return [
        ("user" if m.speaker is Speaker.USER else "agent", str(m.kind), m.text, m.final)
        for m in session.messages
    ]


async def our_ask(session: Session, question: str) -> None:
    """Send ``question`` as chat; return once the agent's whole answer is final and it listens again."""
    await session.send_chat(question)
    await wait_until(
        lambda: any(
            m.speaker is Speaker.AGENT and m.final and _answers(question, m.text) for m in session.messages
        ),
        what=f"our answer to {question!r}",
        within_s=40,
    )
    await wait_until(lambda: session.agent_state is AgentState.LISTENING, what="listening again")


def dispatching_token(server: LiveServer, identity: str, room: str, agent: str) -> str:
    config = RoomConfiguration(agents=[RoomAgentDispatch(agent_name=agent)])
    return server.token(identity, room=room, room_config=config)


def our_session(server: LiveServer, room: str, agent: str, timeout_s: float) -> Session:
    return Session(
        LocalTokenSource(server.url, server.api_key, server.api_secret),
        SessionOptions(
            agent_name=agent, room_name=room, participant_identity="py-user", agent_connect_timeout=timeout_s
        ),
    )


async def test_two_questions_to_the_demo_agent(server: LiveServer, worker: DemoWorker) -> None:
    async with BrowserClient.open() as browser:
        js = JsRun(browser)
        token = dispatching_token(server, "web-user", "diff-js", AGENT)
        await browser.call("sessionApp.start", {"url": server.url, "token": token, "agentTimeoutMs": 30000})
        await js.wait_state("listening")
        for question in QUESTIONS:
            await js.ask(question)
        theirs_said = js.final_messages()  # useSessionMessages empties the list when the session ends
        await browser.call("sessionApp.end")
        await js.wait_state("disconnected")

    session = our_session(server, "diff-py", AGENT, 30)
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    await session.start()
    try:
        for question in QUESTIONS:
            await our_ask(session, question)
    finally:
        await session.end()

    assert_helpers_match_our_rules(js.agent_records())
    assert our_states(events) == js.states()
    ours = [(who, kind, _shape(text)) for who, kind, text in our_final_messages(session)]
    theirs = [(who, kind, _shape(text)) for who, kind, text in theirs_said]
    assert ours == theirs


async def test_a_text_mode_turn(server: LiveServer, worker: DemoWorker) -> None:
    """Text mode as agent-tui's ctrl+t asks for it (``update_io`` on ``lk.agent.session``: the agent's audio
    input and output off), then a typed question: the agent answers in text only, its reply published on
    ``lk.transcription`` unsynchronised (no TTS, no audio). components-js has no text-mode call, so the page
    sends the same request over livekit-client's byte streams, as a web front end would."""
    question = QUESTIONS[0]
    async with BrowserClient.open() as browser:
        js = JsRun(browser)
        token = dispatching_token(server, "web-user", "diff-js-text", AGENT)
        await browser.call("sessionApp.start", {"url": server.url, "token": token, "agentTimeoutMs": 30000})
        await js.wait_state("listening")
        await browser.call("sessionApp.textMode", True, within_s=30)
        await js.ask(question)
        theirs_said = js.message_rows()
        await browser.call("sessionApp.end")
        await js.wait_state("disconnected")

    session = our_session(server, "diff-py-text", AGENT, 30)
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    await session.start()
    try:
        await wait_until(lambda: session.insight.available, what="the agent's session stream", within_s=15)
        await session.insight.set_text_mode(True)
        await our_ask(session, question)
    finally:
        ours_said = our_message_rows(session)
        await session.end()

    assert_helpers_match_our_rules(js.agent_records())
    # With no speech to play, the agent is "speaking" for milliseconds (and "thinking" hardly longer): the
    # server may coalesce those attribute updates, so a room's client may never hear of one of them.
    # That is the server's timing, not a client's semantics; each client must show the agent's sequence
    # with at most one of the two turn states left out, and both the whole of it when both heard it all.
    turn = ["connecting", "listening", "thinking", "speaking", "listening", "disconnected"]
    allowed = [turn, turn[:2] + turn[3:], turn[:3] + turn[4:]]
    assert our_states(events) in allowed and js.states() in allowed, (our_states(events), js.states())
    ours = [(who, kind, _shape(text), final) for who, kind, text, final in ours_said]
    theirs = [(who, kind, _shape(text), final) for who, kind, text, final in theirs_said]
    shown_final = [final for *_, final in theirs][1:]
    print(f"\nstates ours {our_states(events)}, components-js {js.states()}; JS reply final: {shown_final}")
    assert all(final for *_, final in ours), ours
    # The one divergence (README, "Web front ends"): a text-mode reply is one lk.transcription stream whose
    # header says lk.transcription_final "false" and whose trailer says "true". components-core 0.12.15's
    # useTranscriptions emits per chunk and not when the stream ends, so useSessionMessages keeps showing the
    # header's "false" until something else changes the list (whether the last chunk's render already saw
    # the trailer is a race). Our Session marks it final at the trailer, as livekit-agents means it.
    theirs = [
        (who, kind, text, True if (who, kind) == ("agent", "transcript") else final)
        for who, kind, text, final in theirs
    ]
    # A reply can arrive before our send_chat returns (no speech to wait for, a loaded machine): the
    # Session lists the question by the time it was sent, so it still comes first, as in components-js.
    assert ours == theirs


def _answers(question: str, text: str) -> bool:
    """``text`` is the whole answer to ``question`` (not a first part of it still streaming in)."""
    if question == "what time is it":
        return re.fullmatch(r"The time is \d\d:\d\d\.", text) is not None
    return text == HELLO_REPLY_TEXT


def _shape(text: str) -> str:
    """The answer's words without the clock (the two runs ask at different minutes)."""
    return "The time is HH:MM." if text.startswith("The time is") else text


async def test_an_agent_nobody_serves_times_out_as_did_not_join(server: LiveServer) -> None:
    async with BrowserClient.open() as browser:
        js = JsRun(browser)
        token = dispatching_token(server, "web-user", "diff-js-none", "nobody-serves")
        await browser.call("sessionApp.start", {"url": server.url, "token": token, "agentTimeoutMs": 3000})
        await js.wait_state("failed", within_s=20)
        failure = js.agent_records()[-1]["failureReasons"]

    session = our_session(server, "diff-py-none", "nobody-serves", 3)
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    with pytest.raises(Exception, match="did not join"):
        await session.start()
    our_failure = session.agent_failure
    await session.end()
    assert_helpers_match_our_rules(js.agent_records())
    ours = our_states(events)
    assert ours[: ours.index("failed") + 1] == js.states()
    assert our_failure is not None and failure == [our_failure.value] == ["Agent did not join the room."]


async def test_the_agent_leaving(server: LiveServer, worker: DemoWorker) -> None:
    async def remove_agent(room: str) -> None:
        async with server.api() as lk:
            participants = (
                await lk.room.list_participants(api.ListParticipantsRequest(room=room))
            ).participants
            agent = next(p.identity for p in participants if p.identity.startswith("agent-"))
            await lk.room.remove_participant(api.RoomParticipantIdentity(room=room, identity=agent))

    async with BrowserClient.open() as browser:
        js = JsRun(browser)
        token = dispatching_token(server, "web-user", "diff-js-left", AGENT)
        await browser.call("sessionApp.start", {"url": server.url, "token": token, "agentTimeoutMs": 30000})
        await js.wait_state("listening")
        await remove_agent("diff-js-left")
        await js.wait_state("failed", within_s=20)
        failure = js.agent_records()[-1]["failureReasons"]

    session = our_session(server, "diff-py-left", AGENT, 30)
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    await session.start()
    our_failure = None
    try:
        await remove_agent("diff-py-left")
        await wait_until(
            lambda: session.agent_state is AgentState.FAILED, what="our agent failed", within_s=20
        )
        our_failure = session.agent_failure
    finally:
        await session.end()
    assert_helpers_match_our_rules(js.agent_records())
    ours = our_states(events)
    assert ours[: ours.index("failed") + 1] == js.states()
    assert our_failure is not None and failure == [our_failure.value]


async def avatar_then_agent(server: LiveServer, room: str, *, until_joined: Any) -> list[rtc.Room]:
    """An avatar worker (``lk.publish_on_behalf``, publishing audio) joins first, then the agent it speaks
    for, which reports ``initializing`` and then ``listening`` once the user saw it initializing."""
    avatar = rtc.Room()
    await avatar.connect(
        server.url,
        server.token("avatar-1", room=room, kind="agent", attributes={"lk.publish_on_behalf": "agent-1"}),
        rtc.RoomOptions(),
    )
    tone = TonePublisher(avatar, 330.0, name="avatar-voice")
    await tone.start()
    agent = rtc.Room()
    await agent.connect(
        server.url,
        server.token("agent-1", room=room, kind="agent", attributes={"lk.agent.state": "initializing"}),
        rtc.RoomOptions(),
    )
    await until_joined()
    await agent.local_participant.set_attributes({"lk.agent.state": "listening"})
    return [avatar, agent]


async def test_an_avatar_worker_joining_first_is_not_the_agent(server: LiveServer) -> None:
    rooms: list[rtc.Room] = []
    try:
        async with BrowserClient.open() as browser:
            js = JsRun(browser)
            await browser.call(
                "sessionApp.start",
                {"url": server.url, "token": server.token("web-user", room="av-js"), "agentTimeoutMs": 20000},
            )
            await browser.wait_for(
                lambda e: e["type"] == "js_session" and e["isConnected"], what="JS connected"
            )
            rooms += await avatar_then_agent(
                server, "av-js", until_joined=lambda: js.wait_state("initializing")
            )
            await js.wait_state("listening")
            identities = {r["identity"] for r in js.agent_records() if r["identity"]}
            await browser.call("sessionApp.end")
            await js.wait_state("disconnected")
        for room in rooms:
            await room.disconnect()
        rooms.clear()

        session = Session(
            LocalTokenSource(server.url, server.api_key, server.api_secret),
            SessionOptions(room_name="av-py", participant_identity="py-user"),
        )
        events: list[SessionEvent] = []
        session.events.subscribe(events.append)
        starting = asyncio.ensure_future(session.start())
        await wait_until(lambda: session.connection_state.value == "connected", what="our session connected")

        async def ours_initializing() -> None:
            await wait_until(lambda: session.agent_state is AgentState.INITIALIZING, what="ours initializing")

        rooms += await avatar_then_agent(server, "av-py", until_joined=ours_initializing)
        await asyncio.wait_for(starting, 20)
        await wait_until(lambda: session.agent_state is AgentState.LISTENING, what="ours listening")
        our_identity = session.agent.identity
        await session.end()
    finally:
        for room in rooms:
            await room.disconnect()
    assert identities == {"agent-1"} and our_identity == "agent-1"
    assert_helpers_match_our_rules(js.agent_records())
    assert our_states(events) == js.states()
