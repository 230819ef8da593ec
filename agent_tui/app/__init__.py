"""agent_tui.app — the Textual front end over the Session.

``run_app(session, audio=..., app_settings=...)`` runs it to the end and returns the process exit code;
tests build :class:`AgentTuiApp` directly with ``autostart=False`` and feed real session events.

Names are imported on first use (PEP 562) so that the config loader can read :class:`AppSettings`
without loading Textual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_tui.ui.messages import SessionStartFailed

    from .app import AgentTuiApp
    from .runner import run_app
    from .settings import AppSettings, PttMethodSetting

_EXPORTS = {
    "AgentTuiApp": "app",
    "SessionStartFailed": "app",
    "run_app": "runner",
    "PttMethodSetting": "settings",
    "AppSettings": "settings",
}

__all__ = [
    "AgentTuiApp",
    "AppSettings",
    "PttMethodSetting",
    "SessionStartFailed",
    "run_app",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
