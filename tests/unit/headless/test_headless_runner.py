"""The headless runner against a scripted fake session: sequencing, exit codes, output, signals."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent_tui.config import ConfigError, Settings
from agent_tui.headless.runner import Script, run_headless
from agent_tui.session import Conversation
from agent_tui.session.agent_state import AgentFailure, AgentState
from agent_tui.session.connection import ConnectionState
from agent_tui.session.errors import AgentTimeoutError, AuthRejectedError, ConnectionFailedError
from agent_tui.session.testing import FakeConversation
from agent_tui.session.transcript import Message

SECRET = "AnApiSecretThatMustNeverBePrinted-42"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(("AGENT_TUI_", "LIVEKIT_")):
            monkeypatch.delenv(name)


def factory(session: FakeConversation) -> Callable[[Settings], Conversation]:
    return lambda settings: session


async def run(
    session: FakeConversation, script: Script | None = None, **settings: Any
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_headless(
        Settings(**{"ui": False, "answer_timeout": 2.0, **settings}),
        script,
        stdout=out,
        stderr=err,
        session_factory=factory(session),
    )
    return code, out.getvalue(), err.getvalue()


def bodies(out: str) -> list[str]:
    """The text lines without their clock."""
    return [line.split(" ", 1)[1] for line in out.splitlines()]


async def test_sends_in_order_each_after_the_previous_answer_then_exits_0() -> None:
    session = FakeConversation()
    code, out, err = await run(session, Script(sends=("one", "two")))
    assert (code, err) == (0, "")
    said = [line for line in bodies(out) if line.startswith(("you", "agent:"))]
    assert said == ["you (chat): one", "agent: answer to one", "you (chat): two", "agent: answer to two"]
    sends = [args for name, args in session.calls if name == "send_chat"]
    assert sends == [("one", "listening"), ("two", "listening")]
    assert session.ended
    assert bodies(out)[-1] == "ended: every message was answered and the agent is listening (exit 0)"


async def test_first_send_waits_for_the_greeting_to_finish() -> None:
    session = FakeConversation(greeting=True)
    code, out, _ = await run(session, Script(sends=("hi",)))
    assert code == 0
    said = [line for line in bodies(out) if line.startswith(("you", "agent:"))]
    assert said == ["agent: Welcome!", "you (chat): hi", "agent: answer to hi"]


async def test_json_output_is_versioned_and_complete() -> None:
    session = FakeConversation()
    code, out, _ = await run(
        session, Script(sends=("one",)), output="json", url="wss://lk.example", agent="bot"
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    for record in records:
        assert record["v"] == 2 and isinstance(record["type"], str)
        assert record["ts"].endswith("Z") and len(record["ts"]) == len("2025-01-01T00:00:00.000Z")
    types = [record["type"] for record in records]
    session_index = types.index("session")
    assert records[session_index] == {
        "v": 2, "type": "session", "ts": records[session_index]["ts"], "room": "room-1", "identity": "me",
        "url": "ws://127.0.0.1:7880", "agent": "bot",
    }  # fmt: skip
    assert records[session_index + 1]["type"] == "connection_state"
    assert records[session_index + 1]["state"] == "connected"
    messages = [r for r in records if r["type"] == "message"]
    assert [(m["speaker"], m["kind"], m["text"]) for m in messages] == [
        ("user", "chat", "one"),
        ("agent", "transcript", "answer to one"),
    ]
    assert types[-1] == "end" and records[-1]["exit_code"] == 0


async def test_transcript_file_gets_every_final_message(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    code, _, _ = await run(FakeConversation(), Script(sends=("one", "two")), transcript=path)
    assert code == 0
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert {r["type"] for r in records} == {"message"}
    assert [r["text"] for r in records] == ["one", "answer to one", "two", "answer to two"]


async def test_unopenable_transcript_is_exit_2(tmp_path: Path) -> None:
    session = FakeConversation()
    code, out, err = await run(session, transcript=tmp_path / "no-such-dir" / "t.jsonl", output="json")
    assert code == 2
    assert err.startswith("agent-tui: Cannot open the transcript file") and err.count("\n") == 1
    assert [json.loads(line)["type"] for line in out.splitlines()] == ["error", "end"]
    assert session.calls == []


async def test_no_answer_warns_and_goes_on() -> None:
    session = FakeConversation(behaviour="silent")
    code, out, _ = await run(session, Script(sends=("one", "two")), answer_timeout=0.1)
    assert code == 0
    warnings = [line for line in bodies(out) if line.startswith("warning:")]
    assert warnings == [
        "warning: No answer to message 1 within 0.1 s; going on.",
        "warning: No answer to message 2 within 0.1 s; going on.",
    ]
    assert [a[0] for n, a in session.calls if n == "send_chat"] == ["one", "two"]


async def test_script_order_rpc_then_files_then_sends(tmp_path: Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("x")
    session = FakeConversation()
    script = Script(sends=("hi",), send_files=(file,), rpcs=(("echo", "p=1"), ("fail", "")))
    code, out, _ = await run(session, script)
    assert code == 0
    order = [name for name, _ in session.calls if name in ("perform_rpc", "send_file", "send_chat")]
    assert order == ["perform_rpc", "perform_rpc", "send_file", "send_chat"]
    lines = bodies(out)
    assert "rpc echo → echo:p=1" in lines
    assert "rpc fail failed: RPC 'fail' failed: application error (code 1500)." in lines
    assert f"file sent: {file} (stream stream-1)" in lines
    assert ("wait_for_agent", "listening") in session.calls


async def test_an_rpc_payload_too_large_for_the_agent_is_one_line_naming_the_limit() -> None:
    session = FakeConversation(agent_client_protocol=0)
    code, out, _ = await run(session, Script(sends=("hi",), rpcs=(("lookup", "é" * 10_000),)))
    assert code == 0  # a failed call is reported and the run goes on
    assert [line for line in bodies(out) if line.startswith("rpc ")] == [
        "rpc lookup failed: RPC 'lookup' failed: the payload is 20,000 bytes (UTF-8), over the 15,360-byte "
        "RPC v1 limit; 'agent-1' announces client protocol 0, without RPC over data streams. Update its "
        "LiveKit SDK, or send the data as a byte stream (code 1402)."
    ]


@pytest.mark.parametrize(("exit_when", "expected"), [(None, 6), ("idle", 6), ("agent-left", 0)])
async def test_agent_leaving(exit_when: str | None, expected: int) -> None:
    session = FakeConversation(behaviour="leave")
    code, out, err = await run(session, Script(sends=("bye",)), exit_when=exit_when)
    assert code == expected
    if expected == 6:
        assert err == f"agent-tui: {AgentFailure.LEFT.value} — {AgentFailure.LEFT.hint}.\n"
    else:
        assert err == ""
    assert "agent left: agent-1 (unexpected)" in bodies(out)
    assert session.ended


async def test_connection_lost_is_exit_4() -> None:
    session = FakeConversation(behaviour="drop")
    code, out, err = await run(session, Script(sends=("x",)), output="json")
    assert code == 4
    assert err.startswith(
        "agent-tui: The connection to the LiveKit server was lost (disconnected by the server"
    )
    records = [json.loads(line) for line in out.splitlines()]
    assert records[-2]["type"] == "error" and records[-2]["exit_code"] == 4
    assert records[-1] == {**records[-1], "type": "end", "exit_code": 4, "reason": "connection lost"}


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AuthRejectedError("The LiveKit server refused the token."), 3),
        (ConnectionFailedError("Could not connect to the LiveKit server."), 4),
        (AgentTimeoutError("Agent did not join the room."), 5),
        (ConfigError("bad config"), 2),
    ],
)
async def test_start_errors_map_to_their_exit_codes(error: Exception, code: int) -> None:
    session = FakeConversation(start_error=error)
    result, out, err = await run(session, Script(sends=("x",)), output="json")
    assert result == code
    assert err == f"agent-tui: {error}\n"
    records = [json.loads(line) for line in out.splitlines()]
    assert records[-2] == {**records[-2], "type": "error", "message": str(error), "exit_code": code}
    assert records[-1]["type"] == "end" and records[-1]["exit_code"] == code
    assert session.ended
    assert not any(name == "send_chat" for name, _ in session.calls)


async def test_agent_timeout_after_start_is_exit_5() -> None:
    session = FakeConversation()

    async def start(*, wait_for_agent: bool = True) -> None:
        session.set_connection(ConnectionState.CONNECTING)
        session.set_connection(ConnectionState.CONNECTED)

    async def wait_for_agent() -> None:
        await asyncio.sleep(0.01)
        session.set_agent(AgentState.FAILED, AgentFailure.DID_NOT_JOIN)
        await asyncio.sleep(3600)

    session.start = start  # type: ignore[method-assign]
    session.wait_for_agent = wait_for_agent  # type: ignore[method-assign]
    code, _, err = await run(session, Script(sends=("x",)))
    assert code == 5
    assert AgentFailure.DID_NOT_JOIN.value in err


async def test_factory_config_error_is_exit_2() -> None:
    def failing(settings: Settings) -> Conversation:
        raise ConfigError("No way to get a token is configured.")

    out, err = io.StringIO(), io.StringIO()
    code = await run_headless(Settings(ui=False), stdout=out, stderr=err, session_factory=failing)
    assert code == 2
    assert err.getvalue() == "agent-tui: No way to get a token is configured.\n"


async def test_unexpected_exception_is_exit_1_without_traceback_unless_debug() -> None:
    class Broken(FakeConversation):
        async def send_chat(self, text: str) -> Message:
            raise RuntimeError(f"boom with {SECRET}")

    code, _, err = await run(Broken(), Script(sends=("x",)), api_secret=SECRET)
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error: RuntimeError: boom" in err and "--log-level debug" in err
    assert SECRET not in err

    code, _, err = await run(Broken(), Script(sends=("x",)), api_secret=SECRET, log_level="debug")
    assert code == 1
    assert "Traceback" in err
    assert SECRET not in err


async def test_secrets_never_reach_stdout_or_stderr() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"
    error = ConnectionFailedError(f"server said: bad secret {SECRET} for token {token}")
    for output in ("text", "json"):
        code, out, err = await run(
            FakeConversation(start_error=error), api_secret=SECRET, token=token, output=output
        )
        assert code == 4
        assert SECRET not in out + err
        assert token not in out + err


@pytest.mark.parametrize(("sig", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
async def test_signals_end_the_session_cleanly(sig: signal.Signals, expected: int) -> None:
    session = FakeConversation()
    asyncio.get_running_loop().call_later(0.1, os.kill, os.getpid(), sig)
    code, out, err = await run(session)  # no script: runs until interrupted
    assert code == expected
    assert err == ""
    assert session.ended
    assert bodies(out)[-1].startswith("ended: ") and bodies(out)[-1].endswith(f"(exit {expected})")
    # The handlers are gone again: the process has its default SIGTERM behaviour back.
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


async def test_exit_when_never_outlives_the_agent_leaving() -> None:
    session = FakeConversation(behaviour="leave")
    asyncio.get_running_loop().call_later(0.3, os.kill, os.getpid(), signal.SIGTERM)
    code, out, _ = await run(session, Script(sends=("bye",)), exit_when="never", answer_timeout=0.05)
    assert code == 143
    assert "agent left: agent-1 (unexpected)" in bodies(out)


async def test_a_closed_stdout_does_not_stop_the_run(tmp_path: Path) -> None:
    out = io.StringIO()
    out.close()
    err = io.StringIO()
    path = tmp_path / "t.jsonl"
    code = await run_headless(
        Settings(ui=False, transcript=path),
        Script(sends=("one",)),
        stdout=out,
        stderr=err,
        session_factory=factory(FakeConversation()),
    )
    assert code == 0
    assert len(path.read_text().splitlines()) == 2
