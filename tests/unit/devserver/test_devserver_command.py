"""The dev-server subcommand's options and refusals (running it is covered by the e2e tests)."""

from __future__ import annotations

import argparse

import pytest

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer
from agent_tui.devserver.command import MIN_SECRET_LENGTH, add_arguments, banner, run


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_bind_locally_with_the_printed_dev_keys() -> None:
    args = _parse()
    assert (args.host, args.port, args.api_key, args.api_secret) == (
        "127.0.0.1",
        7880,
        DEFAULT_API_KEY,
        DEFAULT_API_SECRET,
    )
    assert len(DEFAULT_API_SECRET) >= MIN_SECRET_LENGTH


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--api-secret", "short"], "--api-secret must be at least 32 characters"),
        (["--api-key", ""], "--api-key must not be empty"),
    ],
)
def test_bad_keys_are_refused_with_exit_code_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(_parse(*argv)) == 2
    assert message in capsys.readouterr().err


def test_banner_has_the_url_keys_and_export_lines() -> None:
    server = DevServer(host="127.0.0.1", port=7999, api_key="k", api_secret="s" * 32)
    text = banner(server)
    assert "listening on ws://127.0.0.1:7999" in text
    assert "export LIVEKIT_URL=ws://127.0.0.1:7999\n" in text
    assert "export LIVEKIT_API_KEY=k\n" in text
    assert f"export LIVEKIT_API_SECRET={'s' * 32}\n" in text
    # and what a web app needs: the URL and the token endpoint in LiveKit's standard format
    assert "POST LiveKit's standard request JSON to http://127.0.0.1:7999/token" in text
    assert '{"room_config": {"agents": [{"agent_name": "NAME"}]}}' in text
