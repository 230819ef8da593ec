"""Logs never hold a secret: the filter and the formatter scrub messages, arguments and tracebacks."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

from agent_tui.logging_setup import configure_logging, remove_handlers

SECRET = "my-api-secret-value"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"


def test_file_log_is_scrubbed_of_secrets_tokens_and_tracebacks(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "run.log"
    handlers = configure_logging(level="debug", log_file=log_file, to_stderr=False, secrets=[SECRET])
    try:
        log = logging.getLogger("livekit")
        log.debug("connecting with %s and secret %s", TOKEN, SECRET)
        try:
            raise RuntimeError(f"failed with {SECRET}")
        except RuntimeError:
            logging.getLogger("agent_tui.test").exception("boom %s", "x")
    finally:
        remove_handlers(handlers)
    text = log_file.read_text()
    assert "connecting with" in text and "boom x" in text and "Traceback" in text
    assert SECRET not in text
    assert TOKEN not in text


def test_level_filters_records(tmp_path: Path) -> None:
    log_file = tmp_path / "run.log"
    handlers = configure_logging(level="warning", log_file=log_file, to_stderr=False)
    try:
        logging.getLogger("agent_tui.test").info("quiet")
        logging.getLogger("agent_tui.test").warning("loud")
    finally:
        remove_handlers(handlers)
    text = log_file.read_text()
    assert "loud" in text and "quiet" not in text


def test_without_file_or_level_nothing_reaches_stderr() -> None:
    # In a child process: pytest's own log capture would hide Python's last-resort stderr handler here.
    probe = (
        "import logging, warnings\n"
        "from agent_tui.logging_setup import configure_logging\n"
        "configure_logging(level='warning', log_file=None, to_stderr=False)\n"
        "logging.getLogger('livekit').error('should not be printed')\n"
        "warnings.warn('nor this')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0
    assert result.stderr == ""


def test_explicit_level_without_file_logs_to_stderr() -> None:
    stream = io.StringIO()
    handlers = configure_logging(level="info", log_file=None, to_stderr=True, secrets=[SECRET], stderr=stream)
    try:
        logging.getLogger("agent_tui.test").info("hello %s", SECRET)
    finally:
        remove_handlers(handlers)
    assert "hello …" in stream.getvalue()
