"""Where agent-tui keeps its files on this platform.

One small module so that the config loader, the log set-up and (later) the download of received files
agree on the same directories, and so tests can point all of them elsewhere through one environment
variable per kind. :mod:`platformdirs` knows each platform's conventions (XDG on Linux, ``Library`` on
macOS, ``AppData`` on Windows), which is exactly the kind of detail not to write by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "agent-tui"
#: Overrides the config file's location; ``--config`` overrides this in turn.
CONFIG_ENV = "AGENT_TUI_CONFIG"
CONFIG_FILE_NAME = "config.toml"
LOG_FILE_NAME = "agent-tui.log"


def config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def default_config_file() -> Path:
    """The config file read when neither ``--config`` nor ``AGENT_TUI_CONFIG`` names one."""
    return config_dir() / CONFIG_FILE_NAME


def config_file_from_env(env: os._Environ[str] | dict[str, str] | None = None) -> Path | None:
    """``AGENT_TUI_CONFIG`` as a path, or None when it is unset or empty."""
    value = (os.environ if env is None else env).get(CONFIG_ENV, "").strip()
    return Path(value).expanduser() if value else None


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def default_log_file() -> Path:
    return log_dir() / LOG_FILE_NAME


def downloads_dir() -> Path:
    """Where files the agent sends us (byte streams) are saved: a folder in the user's Downloads, where
    people look for received files, rather than hidden in an application data directory."""
    return platformdirs.user_downloads_path() / APP_NAME
