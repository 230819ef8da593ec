"""The demo worker's configuration, CLI checks, and registration with the dev server.

The registration test starts ``python -m agent_tui.demo start`` against the real dev server's
``/agent`` endpoint on 127.0.0.1 (registration only: no room, no job, no media, so no test namespace
is needed) and waits for the readiness line.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from agent_tui import demo
from agent_tui.demo import worker
from agent_tui.demo.tts_espeak import ESPEAK_MISSING_MESSAGE, EspeakNotInstalledError
from agent_tui.demo.worker import DemoConfig
from agent_tui.devserver import DevServer

requires_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None and os.environ.get("CI") != "true",
    reason=ESPEAK_MISSING_MESSAGE,
)


def test_config_from_env_and_back() -> None:
    assert DemoConfig.from_env({}) == DemoConfig()
    config = DemoConfig(
        agent_name="other", ptt=True, voice="en-us", rate_wpm=170, jsgf_path="/g.jsgf", greeting=False
    )
    assert DemoConfig.from_env(config.to_env()) == config
    assert DemoConfig.from_env({demo.ENV_PTT: "true", demo.ENV_AGENT_NAME: " x "}).ptt
    assert DemoConfig.from_env({demo.ENV_AGENT_NAME: " x "}).agent_name == "x"
    with pytest.raises(ValueError):
        DemoConfig.from_env({demo.ENV_PTT: "maybe"})


def test_prepare_offline_environment() -> None:
    env = {"LIVEKIT_OBSERVABILITY_URL": "https://example.invalid", "LIVEKIT_URL": "ws://x"}
    assert worker.prepare_offline_environment(env) == ["LIVEKIT_OBSERVABILITY_URL"]
    assert env == {"LIVEKIT_URL": "ws://x", "LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE": "0"}


@requires_espeak
@pytest.mark.timeout(20)
def test_start_without_server_settings_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in demo.LIVEKIT_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in (demo.ENV_AGENT_NAME, demo.ENV_PTT, demo.ENV_JSGF, demo.ENV_VOICE, demo.ENV_RATE):
        monkeypatch.setenv(name, "")  # main() exports its config; keep the test's env tidy
    monkeypatch.setenv("LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE", "0")
    assert worker.main(["start"]) == 2
    assert "LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET" in capsys.readouterr().err


@pytest.mark.timeout(20)
def test_missing_espeak_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def missing(binary: str = "espeak-ng") -> str:
        raise EspeakNotInstalledError()

    monkeypatch.setattr(worker, "find_espeak", missing)
    assert worker.main(["check"]) == 1
    assert ESPEAK_MISSING_MESSAGE in capsys.readouterr().err


@pytest.mark.timeout(20)
def test_bad_grammar_exits_2(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert worker.main(["check", "--jsgf", "/nonexistent/grammar.jsgf"]) == 2
    assert "grammar.jsgf" in capsys.readouterr().err


@requires_espeak
@pytest.mark.timeout(30)
def test_check_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in (demo.ENV_AGENT_NAME, demo.ENV_PTT, demo.ENV_JSGF, demo.ENV_VOICE, demo.ENV_RATE):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE", "0")
    assert worker.main(["check"]) == 0
    assert "pocketsphinx heard 'hello what time is it'" in capsys.readouterr().out


@requires_espeak
@pytest.mark.timeout(60)
async def test_worker_registers_and_prints_ready_line() -> None:
    server = DevServer(port=0)
    await server.start()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AGENT_TUI_DEMO_") and k not in ("HTTP_PROXY", "HTTPS_PROXY")
    }
    env.update(LIVEKIT_URL=server.url, LIVEKIT_API_KEY=server.api_key, LIVEKIT_API_SECRET=server.api_secret)
    argv = demo.worker_command(agent_name="demo-test", ptt=True)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        ready = None
        while ready is None:
            raw = await asyncio.wait_for(proc.stdout.readline(), timeout=40)
            assert raw, f"worker exited before registering: {lines}"
            line = raw.decode(errors="replace").rstrip()
            lines.append(line)
            ready = demo.parse_ready_line(line)
        agent_name, worker_id = ready
        assert agent_name == "demo-test"
        assert time.monotonic() - started < 40
        registered = server.dispatcher.workers[worker_id]
        assert (registered.agent_name, registered.version) == ("demo-test", "1.8.9")
        assert registered.permissions.agent and registered.permissions.can_publish
        assert any(demo.FRAMEWORK_READY_MESSAGE in line for line in lines)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            returncode = await asyncio.wait_for(proc.wait(), timeout=15)
        except TimeoutError:
            proc.kill()
            returncode = await proc.wait()
        await server.stop()
    assert returncode == 0
    assert not server.dispatcher.workers


def test_the_demo_worker_reports_its_load_by_jobs_not_by_cpu() -> None:
    """A busy CPU must not make the demo agent turn its one user away (see ``demo_load``)."""
    from types import SimpleNamespace

    from agent_tui.demo.worker import DEMO_CAPACITY, demo_load

    assert demo_load(SimpleNamespace(active_jobs=[])) == 0.0  # type: ignore[arg-type]
    assert demo_load(SimpleNamespace(active_jobs=[object()])) == 1 / DEMO_CAPACITY  # type: ignore[arg-type]
    assert demo_load(SimpleNamespace(active_jobs=[object()] * (DEMO_CAPACITY + 3))) == 1.0  # type: ignore[arg-type]


def test_the_early_forkserver_preloads_what_livekit_agents_would() -> None:
    """The worker starts the job processes' forkserver before it imports livekit-agents (so both import
    at once); the standard library reuses a running forkserver whatever list the framework sets later, so
    the early list must be the framework's: its registered plugins, the worker's preload modules, then
    its own warm-up modules."""
    from livekit.agents import Plugin

    from agent_tui.demo.forkserver import FORKSERVER_PRELOAD, PRELOAD_MODULES, framework_preload

    assert worker.build_server(worker.DemoConfig())._preload_modules == list(PRELOAD_MODULES)
    plugins = [plugin.package for plugin in Plugin.registered_plugins]
    assert tuple(framework_preload(plugins, PRELOAD_MODULES)) == FORKSERVER_PRELOAD
    assert FORKSERVER_PRELOAD[-1] == "livekit.agents.ipc._preload_freeze"
