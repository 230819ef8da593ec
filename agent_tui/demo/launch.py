"""``python -m agent_tui.demo start|check``: the worker's entry point, light until it has to be heavy.

Parsing the arguments, the lifeline, the settings and the environment need only the standard library
(:mod:`.config`); :mod:`.worker` imports livekit-agents, which takes about a second. In between, for
``start``, the job processes' forkserver is started (:mod:`.forkserver`), so that it imports the
framework at the same time as this process does instead of after it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from . import ENV_LIFELINE, LIVEKIT_ENV
from .config import config_from_args, env_flag, parser, prepare_offline_environment

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker command; returns the process exit status."""
    args = parser().parse_args(argv)
    if env_flag(os.environ.pop(ENV_LIFELINE, None), default=False):
        # First, so that a parent killed while the models load still takes the worker with it. Popped so
        # that nothing this worker starts believes it owns the lifeline too.
        from .lifeline import start_lifeline

        start_lifeline()
    try:
        config = config_from_args(args, os.environ)
    except ValueError as e:
        print(f"agent-tui demo: {e}", file=sys.stderr)
        return 2
    server: tuple[str, str, str] | None = None
    if args.command == "start":
        url = args.url or os.environ.get("LIVEKIT_URL")
        api_key = args.api_key or os.environ.get("LIVEKIT_API_KEY")
        api_secret = args.api_secret or os.environ.get("LIVEKIT_API_SECRET")
        if not (url and api_key and api_secret):
            missing = [
                name for name, value in zip(LIVEKIT_ENV, (url, api_key, api_secret), strict=True) if not value
            ]
            print(
                f"agent-tui demo: set {', '.join(missing)} (or pass --url/--api-key/--api-secret)",
                file=sys.stderr,
            )
            return 2
        server = (url, api_key, api_secret)
    os.environ.update(config.to_env())
    for name in prepare_offline_environment(os.environ):
        print(f"agent-tui demo: ignoring {name} (the demo sends nothing off-host)", file=sys.stderr)
    if server is not None:
        from .forkserver import start_early

        start_early()  # after the environment is final: job processes inherit the forkserver's

    from .worker import serve

    return serve(args, config, server)
