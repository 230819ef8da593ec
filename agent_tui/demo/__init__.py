"""The offline demo agent: a real livekit-agents 1.8.9 worker with local speech and rules.

Speech in is silero VAD plus pocketsphinx, language is a rule-based responder behind the framework's
``llm.LLM`` interface (with a ``get_time`` function tool), speech out is espeak-ng. Nothing reaches
the network except the LiveKit server named by ``LIVEKIT_URL``.

This package's ``__init__`` deliberately imports nothing from livekit-agents: an orchestrator (the
``agent-tui demo`` command, tests) imports it to learn how to start the worker as a subprocess and
how to tell when it is ready, even where the ``[demo]`` extra is not installed. The worker itself is
:mod:`agent_tui.demo.worker`.

Running it::

    LIVEKIT_URL=ws://127.0.0.1:7880 LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret \\
        python -m agent_tui.demo start [--agent-name demo] [--ptt]

and waiting for a stdout line matching :data:`READY_RE` (see :func:`parse_ready_line`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

__all__ = [
    "DEFAULT_AGENT_NAME",
    "ENV_AGENT_NAME",
    "ENV_GREETING",
    "ENV_JSGF",
    "ENV_LIFELINE",
    "ENV_PTT",
    "ENV_RATE",
    "ENV_VOICE",
    "FRAMEWORK_READY_MESSAGE",
    "LIVEKIT_ENV",
    "READY_RE",
    "WORKER_MODULE",
    "format_ready_line",
    "parse_ready_line",
    "worker_command",
]

WORKER_MODULE = "agent_tui.demo"
"""Run the worker with ``python -m agent_tui.demo start``."""

DEFAULT_AGENT_NAME = "demo"
"""The agent name the worker registers (explicit dispatch: clients ask for it by name)."""

ENV_AGENT_NAME = "AGENT_TUI_DEMO_AGENT_NAME"
"""Agent name to register; default :data:`DEFAULT_AGENT_NAME`. ``--agent-name`` overrides it."""
ENV_PTT = "AGENT_TUI_DEMO_PTT"
"""``1``/``true``: push-to-talk mode (manual turns, ``start_turn``/``end_turn``/``cancel_turn`` RPCs,
participant attribute ``push-to-talk=1``). ``--ptt`` sets it."""
ENV_VOICE = "AGENT_TUI_DEMO_VOICE"
"""espeak-ng voice; default ``en-us+klatt3``. ``--voice`` overrides it."""
ENV_RATE = "AGENT_TUI_DEMO_RATE"
"""espeak-ng speaking rate in words per minute; default 150. ``--rate`` overrides it."""
ENV_JSGF = "AGENT_TUI_DEMO_JSGF"
"""Path of a JSGF grammar file for the STT (exact recognition of its phrases, for tests); unset uses
pocketsphinx's general English model. ``--jsgf`` overrides it."""
ENV_GREETING = "AGENT_TUI_DEMO_GREETING"
"""``0``/``false`` turns off the greeting the agent says when it joins. ``--no-greeting`` sets it."""
ENV_LIFELINE = "AGENT_TUI_DEMO_LIFELINE"
"""``1``: the worker's stdin is a pipe from the process that started it, and end-of-file on it (that
process exited or was killed) makes the worker kill its process group (:mod:`.lifeline`). Only set it
when the worker leads its own process group (``start_new_session=True``)."""

LIVEKIT_ENV = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
"""The server and credentials the worker registers with (``--url``/``--api-key``/``--api-secret``)."""

FRAMEWORK_READY_MESSAGE = "registered worker"
"""livekit-agents' own INFO log message on registration (a JSON log line on stdout in ``start``
mode, with ``"message": "registered worker"``, ``"agent_name"`` and ``"id"``). Prefer
:data:`READY_RE`, which does not depend on the log format."""

_READY_PREFIX = "agent-tui demo: worker registered"
READY_RE = re.compile(r"^agent-tui demo: worker registered agent_name=(?P<agent_name>\S*) id=(?P<id>\S+)$")
"""The worker prints one such line on stdout each time the server accepts its registration."""


def format_ready_line(agent_name: str, worker_id: str) -> str:
    """The readiness line the worker prints (see :data:`READY_RE`)."""
    return f"{_READY_PREFIX} agent_name={agent_name} id={worker_id}"


def parse_ready_line(line: str) -> tuple[str, str] | None:
    """Return ``(agent_name, worker_id)`` if ``line`` is the readiness line, else ``None``."""
    match = READY_RE.match(line.strip())
    if match is None:
        return None
    return match["agent_name"], match["id"]


def worker_command(
    *,
    python: str = sys.executable,
    agent_name: str | None = None,
    ptt: bool = False,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The argv that starts the worker; it reads :data:`LIVEKIT_ENV` from its environment."""
    argv = [python, "-m", WORKER_MODULE, "start"]
    if agent_name is not None:
        argv += ["--agent-name", agent_name]
    if ptt:
        argv.append("--ptt")
    argv += list(extra_args)
    return argv
