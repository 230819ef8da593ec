"""Logging for a run: where records go, at which level, and scrubbed of secrets on the way.

By default nothing is logged to the terminal: stderr is reserved for agent-tui's own one-line errors
(and the terminal UI owns the screen), so log records only appear when the user asks for them, with
``--log-file`` or an explicit ``--log-level``. Every record passes through :class:`RedactingFilter`
before any handler formats it, and the formatter scrubs the finished text once more (tracebacks are
formatted late and can quote a token), so neither our code nor the rtc SDK (logger ``livekit``) can
put a credential into a log.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from agent_tui.session import redact

if TYPE_CHECKING:
    from agent_tui.config import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The rtc SDK's logger; its Rust side forwards records here.
LIVEKIT_LOGGER = "livekit"


class RedactingFilter(logging.Filter):
    """Replaces a record's message with its redacted text; returns True so the record is kept."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in some library must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message, *self._secrets)
        record.args = None
        return True


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str = LOG_FORMAT, secrets: Sequence[str] = ()) -> None:
        super().__init__(fmt)
        self._secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), *self._secrets)


def configure_logging(
    *,
    level: str,
    log_file: Path | None,
    to_stderr: bool,
    secrets: Sequence[str] = (),
    stderr: TextIO | None = None,
) -> list[logging.Handler]:
    """Install handlers on the root logger; returns them so a caller (or a test) can remove them.

    Raises :class:`OSError` when the log file cannot be opened; the CLI reports that as a usage error.
    """
    # Library warnings (an insecure key length, a deprecation) are log records, not stray stderr lines.
    logging.captureWarnings(True)
    handlers: list[logging.Handler] = []
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    if to_stderr:
        handlers.append(logging.StreamHandler(stderr if stderr is not None else sys.stderr))
    root = logging.getLogger()
    numeric = logging.getLevelName(level.upper())
    for handler in handlers:
        handler.setLevel(numeric)
        handler.addFilter(RedactingFilter(secrets))
        handler.setFormatter(RedactingFormatter(LOG_FORMAT, secrets))
        root.addHandler(handler)
    if handlers:
        root.setLevel(numeric)
        logging.getLogger(LIVEKIT_LOGGER).setLevel(numeric)
    else:
        # Records below CRITICAL would otherwise reach Python's last-resort handler on stderr.
        root.addHandler(logging.NullHandler())
        handlers.append(root.handlers[-1])
    return handlers


def remove_handlers(handlers: Sequence[logging.Handler]) -> None:
    root = logging.getLogger()
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()


class LogFileError(Exception):
    """The log file the settings name cannot be opened; the message is the one line a user sees."""


@contextlib.contextmanager
def logging_for(settings: Settings) -> Iterator[None]:
    """Logging as ``settings`` ask for it (``--log-file``, ``--log-level``), for the duration of a run.

    ``agent-tui`` and ``agent-tui demo`` both log this way: records reach the terminal only when the user
    named a level and no file, because stderr otherwise carries only agent-tui's own one-line errors.
    Raises :class:`LogFileError` when the file cannot be opened.
    """
    try:
        handlers = configure_logging(
            level=settings.log_level,
            log_file=settings.log_file,
            to_stderr=settings.log_file is None and "log_level" in settings.model_fields_set,
            secrets=settings.secret_values(),
        )
    except OSError as error:
        raise LogFileError(
            f"cannot open the log file {settings.log_file} ({error.strerror or error})"
        ) from None
    try:
        yield
    finally:
        remove_handlers(handlers)
