"""``agent-tui dev-server``: run the dev server in the foreground.

It prints what a client needs (URL, key pair, ready-to-paste ``export`` lines), then logs one line per
room event (join, leave, resume, room opened/closed) and per agent event (worker registered or gone,
dispatch, job assigned, job status change) until SIGINT or SIGTERM, and shuts down cleanly: clients
and workers are told the server is going away and the port is released.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from typing import Final, TextIO

from .server import DEFAULT_API_KEY, DEFAULT_API_SECRET, DevServer

# livekit-server refuses shorter secrets, and HS256 keys below 32 bytes are weak.
MIN_SECRET_LENGTH: Final = 32


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``dev-server`` options to ``parser``."""
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on for signalling (default: 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--port", type=int, default=7880, help="port to listen on (default: 7880; 0 picks one)"
    )
    parser.add_argument(
        "--api-key",
        default=DEFAULT_API_KEY,
        help=f"API key tokens must be signed with (default: {DEFAULT_API_KEY})",
    )
    parser.add_argument(
        "--api-secret",
        default=DEFAULT_API_SECRET,
        help=f"API secret, at least {MIN_SECRET_LENGTH} characters (default: a printed development secret)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the server until SIGINT/SIGTERM; 0 after a clean stop, 2 for bad options, 1 if it cannot listen."""
    if len(args.api_secret) < MIN_SECRET_LENGTH:
        print(
            f"agent-tui dev-server: --api-secret must be at least {MIN_SECRET_LENGTH} characters",
            file=sys.stderr,
        )
        return 2
    if not args.api_key:
        print("agent-tui dev-server: --api-key must not be empty", file=sys.stderr)
        return 2
    _configure_logging(sys.stderr)
    server = DevServer(host=args.host, port=args.port, api_key=args.api_key, api_secret=args.api_secret)
    try:
        asyncio.run(_serve(server, sys.stdout))
    except OSError as error:
        print(
            f"agent-tui dev-server: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    return 0


async def _serve(server: DevServer, out: TextIO) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.start()
        out.write(banner(server))
        out.flush()
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await server.stop()


def banner(server: DevServer) -> str:
    """What the command prints once listening: where to connect and with which keys."""
    return (
        f"agent-tui dev server (LiveKit-compatible) listening on {server.url}\n"
        f"  API key:    {server.api_key}\n"
        f"  API secret: {server.api_secret}\n"
        "\n"
        "In another shell:\n"
        f"  export LIVEKIT_URL={server.url}\n"
        f"  export LIVEKIT_API_KEY={server.api_key}\n"
        f"  export LIVEKIT_API_SECRET={server.api_secret}\n"
        "\n"
        "Agent workers (livekit-agents) register with the same three settings, e.g.\n"
        "  python -m agent_tui.demo start\n"
        "\n"
        f"{web_app_hint(server.url)}"
        "\n"
        "Press Ctrl+C to stop.\n"
    )


def web_app_hint(url: str, *, agent_name: str = "NAME", keys_shown: bool = True) -> str:
    """What a web front end (livekit-client, components-js, the agents playground) needs to join."""
    http_url = url.replace("ws://", "http://", 1)
    request = json.dumps({"room_config": {"agents": [{"agent_name": agent_name}]}})
    lines = [
        f"Web apps (livekit-client, components-js, the agents playground) connect to {url}; for a",
        f"token, POST LiveKit's standard request JSON to {http_url}/token (TokenSource.endpoint does),",
        f"  e.g. {request} to have the agent dispatched"
        + (", or sign one with the key and secret above." if keys_shown else "."),
        "  Every answer carries CORS headers.",
    ]
    return "\n".join(lines) + "\n"


def _configure_logging(stream: TextIO) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    logger = logging.getLogger("agent_tui.devserver")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
