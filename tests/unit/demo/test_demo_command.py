"""``agent-tui demo`` without a network: its options, the client settings it builds, the worker's
environment and error lines, and the worker's stdin lifeline (real processes, no LiveKit)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent_tui import cli
from agent_tui.audio.controls import MicMode
from agent_tui.demo import ENV_LIFELINE
from agent_tui.demo import command as demo_command
from agent_tui.demo.supervisor import describe_status, last_message, worker_environment
from agent_tui.livekit_server import LiveKitServerProcess
from agent_tui.livekit_server.binary import BUILD_HINT
from agent_tui.wiring.token_choice import choose_token_source


def parse(*argv: str) -> argparse.Namespace:
    parser = cli._Parser(prog="agent-tui demo", allow_abbrev=False)
    demo_command.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_takes_the_clients_flags_and_its_own() -> None:
    args = parse(
        "--no-ui", "--json", "--send", "what time is it", "--transcript", "t.jsonl",
        "--input-wav", "q.wav", "--agent-name", "other", "--ptt", "--room", "r1",
    )  # fmt: skip
    assert args.ui is False and args.json is True and args.sends == ["what time is it"]
    assert args.transcript == Path("t.jsonl") and args.input_wav == Path("q.wav")
    assert (args.agent_name, args.ptt, args.room) == ("other", True, "r1")


@pytest.mark.parametrize(
    "flag", ["--url", "--token", "--token-file", "--token-endpoint", "--sandbox-id", "--agent"]
)
def test_has_no_server_token_or_agent_flags(flag: str) -> None:
    with pytest.raises(cli.UsageError, match="unrecognized arguments"):
        parse(flag, "x")


def test_given_flags_only_reach_the_settings() -> None:
    # Client options default to "not given" (as in agent-tui) so the config file keeps its say.
    args = parse()
    assert "ui" not in vars(args) and "sends" not in vars(args)
    assert (args.agent_name, args.ptt) == ("demo", False)


def test_client_settings_point_at_the_demo_whatever_the_environment_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENT_TUI_CONFIG", "/dev/null")
    monkeypatch.setenv("LIVEKIT_URL", "wss://elsewhere.example")
    monkeypatch.setenv("LIVEKIT_API_KEY", "theirs")
    monkeypatch.setenv("AGENT_TUI_TOKEN_ENDPOINT", "https://tokens.example/t")
    monkeypatch.setenv("AGENT_TUI_SANDBOX_ID", "sandbox-1")
    monkeypatch.setenv("AGENT_TUI_AGENT", "someone-else")
    args = parse("--no-ui", "--ptt", "--agent-name", "demo-2")
    settings = demo_command._client_settings(args, url="ws://127.0.0.1:7", api_secret="s" * 43)
    assert settings.url == "ws://127.0.0.1:7" and settings.api_key == demo_command.DEMO_API_KEY
    assert settings.token_endpoint is None and settings.sandbox_id is None and settings.token is None
    assert settings.agent == "demo-2" and settings.ui is False
    assert settings.audio.mode is MicMode.PUSH_TO_TALK
    assert type(choose_token_source(settings)).__name__ == "CachingTokenSource"
    assert "LocalTokenSource" in repr(choose_token_source(settings))


def test_worker_environment_drops_livekit_variables_and_sets_the_lifeline() -> None:
    env = worker_environment(
        {"PATH": "/bin", "LIVEKIT_OBSERVABILITY_URL": "https://x", "LIVEKIT_URL": "wss://cloud"},
        url="ws://127.0.0.1:9",
        api_key="k",
        api_secret="s",
    )
    assert env == {
        "PATH": "/bin",
        "LIVEKIT_URL": "ws://127.0.0.1:9",
        "LIVEKIT_API_KEY": "k",
        "LIVEKIT_API_SECRET": "s",
        ENV_LIFELINE: "1",
    }


def test_last_message_prefers_the_workers_own_error_then_an_error_log() -> None:
    error_log = json.dumps({"message": "worker failed", "level": "ERROR"})
    info_log = json.dumps({"message": "draining worker", "level": "INFO"})
    assert last_message(["agent-tui demo: espeak-ng is missing", info_log]) == "espeak-ng is missing"
    assert last_message([error_log, info_log]) == "worker failed"
    assert last_message([info_log]) == "draining worker"
    assert last_message(["x" * 300]) == "x" * 197 + "..."
    assert last_message([]) is None


def test_describe_status() -> None:
    assert describe_status(2) == "exit code 2"
    assert describe_status(-signal.SIGKILL) == "killed by SIGKILL"


def test_help_lists_the_demo_and_its_reminder(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--agent-name" in text and "--no-ui" in text and "--input-wav" in text
    assert "LiveKit Cloud" in text and "--token-endpoint" in text
    assert cli.main(["--help"]) == 0
    assert "agent-tui demo " in capsys.readouterr().out


def test_reminder_says_where_it_runs_and_how_to_go_elsewhere() -> None:
    text = demo_command.reminder()
    assert "all run on this machine" in text
    assert "agent-tui --url wss://" in text and "LIVEKIT_API_KEY" in text and "--token-endpoint" in text


# -- the lifeline, with real processes ------------------------------------------------------------------
_GUARDED = textwrap.dedent(
    """
    import subprocess, sys, time
    from agent_tui.demo.lifeline import start_lifeline
    start_lifeline()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    print(child.pid, flush=True)
    if sys.argv[1] == "exit":
        child.kill(); child.wait()
        sys.exit(0)
    time.sleep(60)
    """
)


async def _guarded(mode: str) -> tuple[asyncio.subprocess.Process, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _GUARDED, mode,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 20)
    return process, int(line)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone, only not reaped yet
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except OSError:
        return False


async def test_closing_the_pipe_kills_the_whole_group() -> None:
    process, grandchild = await _guarded("sleep")
    try:
        assert _alive(grandchild)
        assert process.stdin is not None
        process.stdin.close()  # what the kernel does when the demo dies
        assert await asyncio.wait_for(process.wait(), 10) == -signal.SIGKILL
        for _ in range(200):  # up to 10 s for the kill to land
            if not _alive(grandchild):
                break
            await asyncio.sleep(0.05)
        assert not _alive(grandchild)
    finally:
        for pid in (process.pid, grandchild):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


async def test_a_clean_exit_with_the_lifeline_running_stays_clean() -> None:
    # A thread blocked in sys.stdin's buffered read made interpreter shutdown abort (SIGABRT).
    process, _ = await _guarded("exit")
    try:
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()


@pytest.mark.parametrize("name", ["", " demo"])
def test_a_blank_or_padded_agent_name_is_a_usage_error(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--agent-name", name]) == 2
    assert "--agent-name" in capsys.readouterr().err


def test_a_livekit_server_that_is_not_there_is_one_line_and_exit_2() -> None:
    missing = Path("/nonexistent/livekit-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("agent-tui")), "demo", "--livekit-server", str(missing),
         "--no-ui", "--send", "hi"],
        env={**env, "AGENT_TUI_CONFIG": "/dev/null"}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("agent-tui demo: ")]
    assert errors == [f"agent-tui demo: no livekit-server at {missing}: {BUILD_HINT}"], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_livekit_server_config_keeps_every_address_on_this_machine() -> None:
    """What the demo and the tests give livekit-server: no STUN server it could ask or hand out but a
    dummy on the node's own address, no external-IP lookup, media on the node address only."""
    server = LiveKitServerProcess(binary=sys.executable, api_secret="s" * 40, node_ip="10.1.2.3", port=7880)
    config = server.config()
    assert config["bind_addresses"] == ["127.0.0.1"]
    assert config["keys"] == {"devkey": "s" * 40}
    rtc = config["rtc"]
    assert rtc["node_ip"] == "10.1.2.3" and rtc["use_external_ip"] is False
    assert rtc["stun_servers"] == ["10.1.2.3:3478"] and rtc["ips"] == {"includes": ["10.1.2.3/32"]}
    assert config["turn"] == {"enabled": False}
    assert "redis" not in config and "webhook" not in config and "prometheus_port" not in config


@pytest.mark.parametrize(
    "command",
    [
        ["--url", "ws://127.0.0.1:9", "--no-ui", "--send", "hi"],
        ["demo", "--no-ui", "--send", "hi"],
        ["test", "examples", "--url", "ws://127.0.0.1:9"],
    ],
)
def test_a_log_file_that_cannot_be_opened_is_one_line_and_exit_2(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``agent-tui``, ``agent-tui demo`` and ``agent-tui test`` set logging up the same way and say the
    same about it."""
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    log_file = blocked / "agent.log"  # under a file: no directory can be made there, even by root
    assert cli.main([*command, "--log-file", str(log_file)]) == 2
    err = capsys.readouterr().err
    assert f"cannot open the log file {log_file} (" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


class _Worker:
    """Stands in for the early worker: records being stopped."""

    def __init__(self) -> None:
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True


async def test_a_port_taken_before_the_dev_server_binds_it_restarts_the_worker_for_any_free_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo starts its worker for a port it found free a moment before the dev server binds it; if
    another program took the port in between, the server binds any free port and the worker is started
    again for that one (the early worker would be registering with someone else's port)."""
    import socket

    from agent_tui.devserver import DevServer
    from agent_tui.headless.runner import Script

    args = parse("--no-ui")
    demo = demo_command._Demo(
        args, Script(), demo_command._client_settings(args, url="ws://x", api_secret="s" * 43), "s" * 43,
        sys.stderr,
    )  # fmt: skip
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = DevServer(port=taken.getsockname()[1], api_key="demo", api_secret="s" * 43)
        early = _Worker()
        demo._worker = early  # type: ignore[assignment]
        await demo._start_server(server)
        try:
            assert early.stopped and demo._worker is None
            assert server.port not in (0, taken.getsockname()[1])
        finally:
            await server.stop()
