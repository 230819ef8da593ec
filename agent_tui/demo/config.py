"""The demo worker's settings and command line, with nothing heavier than the standard library.

Kept apart from :mod:`.worker` (which imports livekit-agents, about a second) so that the worker's
entry point (:mod:`.launch`) can parse its arguments, export its settings to the environment and start
the job processes' forkserver *before* that import: the forkserver then loads the framework while the
worker itself does (see :mod:`.forkserver`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, replace
from pathlib import Path

from agent_tui.espeak import DEFAULT_RATE_WPM, DEFAULT_VOICE

from . import (
    DEFAULT_AGENT_NAME,
    ENV_AGENT_NAME,
    ENV_GREETING,
    ENV_JSGF,
    ENV_PTT,
    ENV_RATE,
    ENV_VOICE,
)

__all__ = ["DemoConfig", "config_from_args", "env_flag", "parser", "prepare_offline_environment"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_flag(value: str | None, *, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {value!r}")


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """Worker settings. The environment carries them to job processes (see :meth:`to_env`)."""

    agent_name: str = DEFAULT_AGENT_NAME
    ptt: bool = False
    voice: str = DEFAULT_VOICE
    rate_wpm: int = DEFAULT_RATE_WPM
    jsgf_path: str | None = None
    greeting: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> DemoConfig:
        rate = env.get(ENV_RATE, "").strip()
        return cls(
            agent_name=env.get(ENV_AGENT_NAME, "").strip() or DEFAULT_AGENT_NAME,
            ptt=env_flag(env.get(ENV_PTT), default=False),
            voice=env.get(ENV_VOICE, "").strip() or DEFAULT_VOICE,
            rate_wpm=int(rate) if rate else DEFAULT_RATE_WPM,
            jsgf_path=env.get(ENV_JSGF, "").strip() or None,
            greeting=env_flag(env.get(ENV_GREETING), default=True),
        )

    def to_env(self) -> dict[str, str]:
        """The variables that make :meth:`from_env` return this config in a job process.

        Job processes are started by the framework's process pool, not by this code, so the
        environment is the one channel that reliably reaches them.
        """
        env = {
            ENV_AGENT_NAME: self.agent_name,
            ENV_PTT: "1" if self.ptt else "0",
            ENV_VOICE: self.voice,
            ENV_RATE: str(self.rate_wpm),
            ENV_GREETING: "1" if self.greeting else "0",
            ENV_JSGF: self.jsgf_path or "",
        }
        return env

    def read_grammar(self) -> str | None:
        """The JSGF grammar text, or ``None`` for the general language model."""
        if self.jsgf_path is None:
            return None
        return Path(self.jsgf_path).read_text(encoding="utf-8")


def prepare_offline_environment(env: MutableMapping[str, str]) -> list[str]:
    """Remove or set the variables that would make livekit-agents reach other hosts.

    Returns the names of the variables it removed, so the caller can say so.
    """
    removed = [name for name in ("LIVEKIT_OBSERVABILITY_URL", "LIVEKIT_REMOTE_EOT_URL") if name in env]
    for name in removed:
        del env[name]
    env.setdefault("LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE", "0")
    return removed


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agent_tui.demo",
        description="The agent-tui offline demo agent (livekit-agents worker with local speech).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--agent-name", help=f"agent name to register (env {ENV_AGENT_NAME})")
    common.add_argument(
        "--ptt",
        action="store_true",
        default=None,
        help=f"push-to-talk mode: manual turns and the start_turn/end_turn/cancel_turn RPCs "
        f"(env {ENV_PTT}=1)",
    )
    common.add_argument("--voice", help=f"espeak-ng voice (env {ENV_VOICE})")
    common.add_argument("--rate", type=int, help=f"speaking rate, words per minute (env {ENV_RATE})")
    common.add_argument("--jsgf", help=f"JSGF grammar file for exact recognition (env {ENV_JSGF})")
    common.add_argument(
        "--no-greeting",
        action="store_true",
        default=None,
        help=f"do not greet when joining (env {ENV_GREETING}=0)",
    )
    start = sub.add_parser("start", parents=[common], help="register with the LiveKit server and serve jobs")
    start.add_argument("--url", help="LiveKit server URL (env LIVEKIT_URL)")
    start.add_argument("--api-key", help="API key (env LIVEKIT_API_KEY)")
    start.add_argument("--api-secret", help="API secret (env LIVEKIT_API_SECRET)")
    start.add_argument("--log-level", default="INFO")
    start.add_argument("--log-format", choices=["json", "colored"], default="json")
    sub.add_parser(
        "check",
        parents=[common],
        help="check the offline components (espeak-ng, silero, pocketsphinx) and exit",
    )
    return parser


def config_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> DemoConfig:
    config = DemoConfig.from_env(env)
    if args.agent_name:
        config = replace(config, agent_name=args.agent_name)
    if args.ptt:
        config = replace(config, ptt=True)
    if args.voice:
        config = replace(config, voice=args.voice)
    if args.rate is not None:
        config = replace(config, rate_wpm=args.rate)
    if args.jsgf:
        config = replace(config, jsgf_path=str(Path(args.jsgf).resolve()))
    if args.no_greeting:
        config = replace(config, greeting=False)
    return config
