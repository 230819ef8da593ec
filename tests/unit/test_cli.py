"""The command line: fast help, usage errors, exit codes, one-line errors, secrets never printed."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import types
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent_tui import __version__, cli
from agent_tui.exit_codes import EXIT_CODE_DESCRIPTIONS, ExitCode

REPO = Path(__file__).resolve().parents[2]
SECRET = "Sup3rSecretApiValue-do-not-print-0123456789"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.upper().startswith(("AGENT_TUI_", "LIVEKIT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    return tmp_path


@pytest.fixture
def no_ui(monkeypatch: pytest.MonkeyPatch) -> None:
    """This build as one without its terminal UI, as when Textual is missing: the app's runner cannot be
    imported, while its settings (plain pydantic, no Textual) still load as they do then. Hiding the whole
    ``agent_tui.app`` package instead made the tests depend on the order they ran in: the config loader
    imports the settings, so a lone run failed where a full run had already loaded them."""
    import agent_tui.app as app_package

    monkeypatch.setitem(sys.modules, "agent_tui.app.runner", None)
    monkeypatch.delitem(vars(app_package), "run_app", raising=False)  # its lazy-import cache


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(extra)
    return env


def jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def without_token_warning(stderr: str) -> str:
    """``stderr`` less the one warning ``--token`` always gets (which must be there, once)."""
    warning = f"agent-tui: warning: {cli.TOKEN_OPTION_WARNING}"
    lines = stderr.splitlines()
    assert lines.count(warning) == 1, stderr
    lines.remove(warning)
    return "\n".join(lines)


def token_file(directory: Path, text: str) -> Path:
    path = directory / "token"
    path.write_text(text)
    path.chmod(0o600)
    return path


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("agent-tui: ")
    assert "Traceback" not in stderr
    return lines[0]


# -- help and version: complete, and fast (no heavy import) -------------------------------------------
def test_help_lists_every_option_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for flag in (
        "--agent", "--url", "--token", "--token-endpoint", "--sandbox-id", "--room", "--identity",
        "--name", "--agent-metadata", "--attribute", "--config", "--log-file", "--log-level",
        "--agent-timeout", "--no-ui", "--json", "--transcript", "--send", "--send-file", "--rpc",
        "--exit-when", "--version", "--help", "dev-server",
    ):  # fmt: skip
        assert flag in out, flag
    for code, text in EXIT_CODE_DESCRIPTIONS.items():
        assert f"{int(code):>3}  {text}" in out
    assert "--api-secret" not in out


def test_help_names_the_schema_version_the_jsonl_writer_writes(capsys: pytest.CaptureFixture[str]) -> None:
    from agent_tui.headless.records import SCHEMA_VERSION

    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"schema version (\d+)", out) == [str(SCHEMA_VERSION)]
    assert re.findall(r'"v": (\d+)', out) == [str(SCHEMA_VERSION)]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"### JSON Lines schema (version {SCHEMA_VERSION})" in readme
    assert f'`"v": {SCHEMA_VERSION}`' in readme


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"agent-tui {__version__}"


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_nothing_heavy(flag: str) -> None:
    probe = (
        "import sys\n"
        "from agent_tui.cli import main\n"
        f"code = main([{flag!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'livekit', 'textual', 'numpy', 'pydantic',"
        " 'pydantic_settings', 'httpx', 'aiortc'})\n"
        "print('HEAVY=' + ','.join(heavy), 'CODE=' + str(code))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY= CODE=0" in result.stdout


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agent_tui", "--version"],
        check=False,
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"agent-tui {__version__}"


# -- usage errors: exit 2, one line -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--bogus"], "--bogus"),
        (["--api-secret", "x"], "--api-secret"),
        (["--api-key", "x"], "--api-key"),
        (["--attribute", "novalue"], "KEY=VALUE"),
        (["--attribute", "=v"], "KEY=VALUE"),
        (["--rpc", "no-equals"], "METHOD=PAYLOAD"),
        (["--rpc", "=payload"], "METHOD=PAYLOAD"),
        (["--agent-timeout", "-1"], "positive"),
        (["--agent-timeout", "0"], "positive"),
        (["--agent-timeout", "nan"], "positive"),
        (["--agent-timeout", "soon"], "number of seconds"),
        (["--answer-timeout", "-5"], "positive"),
        (["--exit-when", "sometimes"], "--exit-when"),
        (["--log-level", "loud"], "--log-level"),
        (["--url"], "--url"),
        (["--url", ""], "--url"),
        (["--age", "x"], "--age"),  # no abbreviations: a typo must not pick an option
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == ExitCode.USAGE_ERROR
    captured = capsys.readouterr()
    assert expected in one_error_line(captured.err)
    assert captured.out == ""


def test_missing_send_file_is_a_usage_error_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIVEKIT_TOKEN", "x")
    missing = tmp_path / "nope.bin"
    code = cli.main(["--no-ui", "--send-file", str(missing), "--url", "ws://127.0.0.1:9"])
    assert code == ExitCode.USAGE_ERROR
    assert str(missing) in one_error_line(capsys.readouterr().err)


def test_no_token_configuration_is_exit_2(no_ui: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--no-ui", "--agent", "a"]) == ExitCode.USAGE_ERROR
    line = one_error_line(capsys.readouterr().err)
    for way in ("--token", "--token-endpoint", "--sandbox-id", "LIVEKIT_API_SECRET"):
        assert way in line


def test_token_without_url_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = jwt({"exp": time.time() + 600})
    assert cli.main(["--no-ui", "--token", token]) == ExitCode.USAGE_ERROR
    assert "--url" in one_error_line(without_token_warning(capsys.readouterr().err))

    assert cli.main(["--no-ui", "--token-file", str(token_file(tmp_path, token))]) == ExitCode.USAGE_ERROR
    assert "--url" in one_error_line(capsys.readouterr().err)

    monkeypatch.setenv("LIVEKIT_TOKEN", token)
    assert cli.main(["--no-ui"]) == ExitCode.USAGE_ERROR
    assert "--url" in one_error_line(capsys.readouterr().err)


# -- a token minted elsewhere: from a file, standard input or the environment; --token warned about ---------
def given_token(argv: list[str]) -> str | None:
    from agent_tui.config import load_settings

    loaded = load_settings(cli.cli_settings(cli.build_parser().parse_args(argv)))
    assert loaded.token is None or isinstance(loaded.token, SecretStr)
    return None if loaded.token is None else loaded.token.get_secret_value()


def test_token_file_is_read_stripped_as_a_secret(tmp_path: Path) -> None:
    path = token_file(tmp_path, "\n  eyJ.token.x \r\n\n")
    args = cli.build_parser().parse_args(["--token-file", str(path)])
    assert isinstance(cli.cli_settings(args)["token"], SecretStr)
    assert "eyJ.token.x" not in repr(args)
    assert given_token(["--token-file", str(path)]) == "eyJ.token.x"


def test_token_file_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("eyJ.from.stdin\n"))
    assert given_token(["--token-file", "-"]) == "eyJ.from.stdin"


def test_livekit_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_TOKEN", "eyJ.from.env")
    assert given_token([]) == "eyJ.from.env"


def test_a_way_given_on_the_command_line_beats_a_token_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agent_tui.config import load_settings
    from agent_tui.session import CachingTokenSource
    from agent_tui.wiring.token_choice import choose_token_source

    monkeypatch.setenv("LIVEKIT_TOKEN", "eyJ.stale")
    monkeypatch.setenv("LIVEKIT_URL", "wss://lk.example")
    args = cli.build_parser().parse_args(["--sandbox-id", "sb-1"])
    loaded = load_settings(cli.cli_settings(args))
    assert loaded.token is None and loaded.sandbox_id == "sb-1"
    assert isinstance(choose_token_source(loaded), CachingTokenSource)


@pytest.mark.parametrize(
    ("content", "expected"),
    [("", "is empty"), (" \n\t\n", "is empty"), (b"\xff\xfe\x00bad", "not text"), ("x" * 70_000, "KiB")],
)
def test_bad_token_file_is_exit_2_with_one_line(
    tmp_path: Path, content: str | bytes, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "token"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert cli.main(["--no-ui", "--url", "ws://127.0.0.1:9", "--token-file", str(path)]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert "--token-file" in line and str(path) in line and expected in line
    assert "x" * 100 not in captured.err and captured.out == ""


def test_missing_or_directory_token_file_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--no-ui", "--token-file", str(tmp_path / "nope")]) == ExitCode.USAGE_ERROR
    assert "no such file" in one_error_line(capsys.readouterr().err)
    assert cli.main(["--no-ui", "--token-file", str(tmp_path)]) == ExitCode.USAGE_ERROR
    assert "is a directory" in one_error_line(capsys.readouterr().err)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="file modes bind only non-root users")
def test_unreadable_token_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = token_file(tmp_path, "eyJ.x.y")
    path.chmod(0)
    assert cli.main(["--no-ui", "--token-file", str(path)]) == ExitCode.USAGE_ERROR
    assert "permission denied" in one_error_line(capsys.readouterr().err)


def test_empty_standard_input_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert cli.main(["--no-ui", "--token-file", "-"]) == ExitCode.USAGE_ERROR
    assert "standard input is empty" in one_error_line(capsys.readouterr().err)


def test_token_and_token_file_together_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = token_file(tmp_path, "eyJ.x.y")
    assert cli.main(["--token", "t", "--token-file", str(path)]) == ExitCode.USAGE_ERROR
    assert "not allowed with" in one_error_line(capsys.readouterr().err)


def test_token_option_warns_once_and_token_file_does_not(
    no_ui: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = jwt({"exp": time.time() - 3600, "sub": "me", "video": {"room": "r", "roomJoin": True}})
    argv = ["--no-ui", "--url", "ws://127.0.0.1:9"]
    assert cli.main([*argv, "--token", token]) == ExitCode.AUTH_ERROR
    err = capsys.readouterr().err
    assert "expired" in one_error_line(without_token_warning(err))
    assert "ps" in cli.TOKEN_OPTION_WARNING and "--token-file" in cli.TOKEN_OPTION_WARNING

    monkeypatch.setattr(sys, "stdin", io.StringIO(token + "\n"))
    assert cli.main([*argv, "--token-file", "-"]) == ExitCode.AUTH_ERROR
    captured = capsys.readouterr()
    assert "expired" in one_error_line(captured.err)
    assert token not in captured.err + captured.out


def test_half_local_configuration_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIVEKIT_API_KEY", "APIkey")
    assert cli.main(["--no-ui", "--url", "ws://127.0.0.1:9"]) == ExitCode.USAGE_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert "LIVEKIT_API_SECRET" in line
    assert "LIVEKIT_URL" not in line


def test_bad_token_endpoint_url_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--no-ui", "--token-endpoint", "localhost/token"]) == ExitCode.USAGE_ERROR
    assert "token_endpoint" in one_error_line(capsys.readouterr().err)


def test_config_file_errors_are_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text('agent_timeout = "abc"\n')
    assert cli.main(["--no-ui", "--config", str(config)]) == ExitCode.USAGE_ERROR
    line = one_error_line(capsys.readouterr().err)
    assert "agent_timeout" in line and str(config) in line

    config.write_text('agnet = "x"\n')
    assert cli.main(["--no-ui", "--config", str(config)]) == ExitCode.USAGE_ERROR
    assert "'agnet'" in one_error_line(capsys.readouterr().err)

    assert cli.main(["--config", str(tmp_path / "missing.toml")]) == ExitCode.USAGE_ERROR
    assert "does not exist" in one_error_line(capsys.readouterr().err)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_world_readable_config_with_secret_warns_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'api_secret = "{SECRET}"\nagent_timeout = "bad"\n')
    config.chmod(0o644)
    assert cli.main(["--no-ui", "--config", str(config)]) == ExitCode.USAGE_ERROR
    err = capsys.readouterr().err
    assert "agent-tui: warning:" in err and "chmod 600" in err
    assert SECRET not in err


def test_expired_literal_token_is_exit_3(no_ui: None, capsys: pytest.CaptureFixture[str]) -> None:
    token = jwt({"exp": time.time() - 3600, "sub": "me", "video": {"room": "r", "roomJoin": True}})
    code = cli.main(["--no-ui", "--url", "ws://127.0.0.1:9", "--token", token])
    captured = capsys.readouterr()
    assert code == ExitCode.AUTH_ERROR
    line = one_error_line(without_token_warning(captured.err))
    assert "expired" in line
    assert token not in captured.err + captured.out


def test_unreachable_server_is_exit_4_and_never_prints_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIVEKIT_API_KEY", "APIkey")
    monkeypatch.setenv("LIVEKIT_API_SECRET", SECRET)
    log = tmp_path / "run.log"
    code = cli.main(
        [
            "--json",
            "--url",
            "ws://127.0.0.1:9",
            "--agent",
            "a",
            "--log-file",
            str(log),
            "--log-level",
            "debug",
        ]
    )
    captured = capsys.readouterr()
    assert code == ExitCode.CONNECTION_ERROR
    assert "127.0.0.1:9" in one_error_line(captured.err)
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert records[-1]["type"] == "end" and records[-1]["exit_code"] == 4
    assert any(r["type"] == "error" and r["exit_code"] == 4 for r in records)
    for text in (captured.out, captured.err, log.read_text()):
        assert SECRET not in text
        assert "eyJ" not in text  # no token either


def test_ui_unavailable_falls_back_to_headless(
    no_ui: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIVEKIT_TOKEN", jwt({"exp": time.time() - 60}))
    assert cli.main(["--url", "ws://127.0.0.1:9"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[0] == cli.UI_UNAVAILABLE
    assert err[1].startswith("agent-tui: ")


def fake_app(monkeypatch: pytest.MonkeyPatch, calls: list[dict[str, object]]) -> None:
    """An ``agent_tui.app`` with the real one's entry point shape, recording how it was called."""
    fake = types.ModuleType("agent_tui.app")

    class AppSettings:
        pass

    async def run_app(
        session: object,
        *,
        audio: object,
        app_settings: object,
        transcript_path: object = None,
        text_only_reason: object = None,
        video: object = None,
    ) -> int:
        calls.append(
            {"session": session, "audio": audio, "app_settings": app_settings,
             "transcript_path": transcript_path, "text_only_reason": text_only_reason, "video": video}
        )  # fmt: skip
        return 7

    fake.AppSettings = AppSettings  # type: ignore[attr-defined]
    fake.run_app = run_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "agent_tui.app", fake)


def test_ui_runs_when_available(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from agent_tui.session import Session

    calls: list[dict[str, object]] = []
    fake_app(monkeypatch, calls)
    token = jwt({"exp": time.time() + 600})
    transcript = tmp_path / "t.jsonl"
    code = cli.main(
        ["--agent", "x", "--url", "ws://127.0.0.1:9", "--token", token, "--transcript", str(transcript)]
    )
    assert code == 7
    assert len(calls) == 1
    session = calls[0]["session"]
    assert isinstance(session, Session) and session.options.agent_name == "x"
    assert calls[0]["transcript_path"] == transcript


def test_ui_without_token_configuration_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, object]] = []
    fake_app(monkeypatch, calls)
    assert cli.main(["--agent", "x"]) == ExitCode.USAGE_ERROR
    assert "No way to get a token" in one_error_line(capsys.readouterr().err)
    assert calls == []


def test_json_and_scripts_imply_headless(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, object]] = []
    fake_app(monkeypatch, calls)
    # An expired token: the headless runner answers 3 before any network; the fake UI would answer 7.
    argv = ["--url", "ws://127.0.0.1:9", "--token", jwt({"exp": time.time() - 60})]
    assert cli.main([*argv, "--json"]) == ExitCode.AUTH_ERROR
    assert cli.main([*argv, "--send", "hi"]) == ExitCode.AUTH_ERROR
    assert cli.main([*argv, "--rpc", "m=p"]) == ExitCode.AUTH_ERROR
    assert calls == []


def test_cli_settings_hold_only_given_options() -> None:
    parser = cli.build_parser()
    assert cli.cli_settings(parser.parse_args([])) == {}
    values = cli.cli_settings(
        parser.parse_args(
            [
                "--json",
                "--attribute",
                "a=1",
                "--attribute",
                "b=x=y",
                "--agent-timeout",
                "3",
                "--log-level",
                "DEBUG",
            ]
        )
    )
    assert values == {
        "attributes": {"a": "1", "b": "x=y"},
        "agent_timeout": 3.0,
        "output": "json",
        "ui": False,
        "log_level": "debug",
    }


def test_script_keeps_order_and_payloads(tmp_path: Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("x")
    args = cli.build_parser().parse_args(
        ["--send", "one", "--rpc", "m=a=b", "--send", "two", "--rpc", "n=", "--send-file", str(file)]
    )
    script = cli.script_from(args)
    assert script.sends == ("one", "two")
    assert script.rpcs == (("m", "a=b"), ("n", ""))
    assert script.send_files == (file,)


def test_cli_option_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_tui.config import load_settings

    monkeypatch.setenv("AGENT_TUI_AGENT", "env-agent")
    monkeypatch.setenv("AGENT_TUI_UI", "true")
    args = cli.build_parser().parse_args(["--agent", "cli-agent", "--no-ui"])
    loaded = load_settings(cli.cli_settings(args))
    assert loaded.agent == "cli-agent" and loaded.ui is False
    assert load_settings(cli.cli_settings(cli.build_parser().parse_args([]))).agent == "env-agent"


# -- the dev-server subcommand -------------------------------------------------------------------------
def test_dev_server_missing_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "agent_tui.devserver.command", None)
    assert cli.main(["dev-server"]) == ExitCode.USAGE_ERROR
    assert "agent-tui[devserver]" in one_error_line(capsys.readouterr().err)


# -- commands and options that need an optional extra: one line naming it, exit 2 ----------------------
def test_the_extras_table_is_pyprojects() -> None:
    from agent_tui.extras import EXTRA_MODULES

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    modules = {
        extra: tuple(
            re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].replace("-", ".") for requirement in deps
        )
        for extra, deps in declared.items()
        if extra != "dev"
    }
    assert modules == EXTRA_MODULES


@pytest.mark.parametrize(
    ("argv", "absent", "what", "extra"),
    [
        (["demo", "--no-ui", "--send", "hi"], "aiortc", "agent-tui demo", "demo"),
        (["demo"], "livekit.agents", "agent-tui demo", "demo"),
        (["demo", "--help"], "pocketsphinx", "agent-tui demo", "demo"),
        (["dev-server"], "aiohttp", "agent-tui dev-server", "devserver"),
        (["--no-ui", "--camera"], "av", "--camera", "video"),
        (["--no-ui", "--screen", "0"], "mss", "--screen", "video"),
        (["--no-ui", "--video-file", "clip.mp4", "--token", "t"], "av", "--video-file", "video"),
        (["load", "x.scenario.toml", "--users", "2", "--duration", "5"], "locust", "agent-tui load", "load"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it_and_exit_2(
    argv: list[str],
    absent: str,
    what: str,
    extra: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, absent, None)  # what find_spec and import see for a missing module
    assert cli.main(argv) == ExitCode.USAGE_ERROR
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert line.startswith(f"agent-tui: {what} needs the '{extra}' extra ({absent} is not installed)")
    assert (
        f"pip install 'agent-tui[{extra}]'" in line and f"pipx install --force 'agent-tui[{extra}]'" in line
    )
    assert captured.out == ""


def test_installed_extras_pass_the_check() -> None:
    from agent_tui.extras import EXTRA_MODULES

    for extra in EXTRA_MODULES:  # this environment has every extra (make install)
        cli.require_extra(extra, "x")


def test_dev_server_dispatches_to_its_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = types.ModuleType("agent_tui.devserver.command")
    fake.add_arguments = lambda parser: parser.add_argument("--port", type=int, default=7880)  # type: ignore[attr-defined]
    fake.run = lambda args: args.port - 7000  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "agent_tui.devserver.command", fake)
    assert cli.main(["dev-server", "--port", "7003"]) == 3
    assert cli.main(["dev-server", "--nope"]) == ExitCode.USAGE_ERROR
    assert "--nope" in one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize(("content", "words"), [(None, "does not exist"), (b"\n", "is empty")])
def test_a_bad_e2ee_key_file_is_one_line_and_exit_2_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, words: str
) -> None:
    path = tmp_path / "e2ee.key"
    if content is not None:
        path.write_bytes(content)
    assert cli.main(["--no-ui", "--e2ee-key-file", str(path)]) == ExitCode.USAGE_ERROR
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert words in line and str(path) in line and "Traceback" not in captured.err


def test_a_blank_e2ee_key_in_the_environment_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENT_TUI_E2EE__KEY", "  ")
    assert cli.main(["--no-ui"]) == ExitCode.USAGE_ERROR
    assert "e2ee.key setting is empty" in one_error_line(capsys.readouterr().err)


def test_the_e2ee_key_itself_is_never_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--no-ui", "--e2ee-key", "secret"]) == ExitCode.USAGE_ERROR
    assert "--e2ee-key" in one_error_line(capsys.readouterr().err)


def test_a_server_refusing_encrypted_media_is_a_connection_error() -> None:
    from agent_tui.exit_codes import exit_code_for
    from agent_tui.session import EncryptionRefusedError

    assert exit_code_for(EncryptionRefusedError("refused")) == ExitCode.CONNECTION_ERROR
