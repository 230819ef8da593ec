"""One ``livekit-server`` child process: a config written for it, started, known ready, always stopped.

What it is told, and why:

* **No outside traffic.** ``rtc.node_ip`` is one of this machine's addresses and ``rtc.use_external_ip``
  is off, so the server never asks a STUN server who it is; ``rtc.stun_servers`` is a dummy on the node's
  own address, because with none configured it hands LiveKit's public STUN servers to every client. TURN,
  webhooks, Prometheus and analytics stay off (they are off unless configured).
* **Single node, no Redis**, with one key pair given by the caller (a fresh secret per run in the demo
  and the tests). The secret goes into a config file only this user can read, in a private folder
  removed at :meth:`stop`; never into argv, where ``ps`` shows it.
* **Ports** are picked free at start unless given; signalling listens on ``host`` only (127.0.0.1 unless
  told), media on the node address only (``rtc.ips.includes``).
* **A lifeline.** On Linux the server is started through ``setpriv --pdeathsig KILL`` (util-linux), so it
  dies with the process that started it even when that one is SIGKILLed: no server is left holding ports.
* **Stopping**: livekit-server's first SIGTERM waits for every participant to leave; the second forces.
  :meth:`stop` sends one, gives it ``grace`` seconds, sends the second, then SIGKILLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import httpx

from agent_tui.child_output import ChildOutput
from agent_tui.session import redact

from .binary import find_livekit_server
from .network import pick_node_ip

__all__ = ["DEFAULT_API_KEY", "LiveKitServerProcess", "LiveKitServerStartError"]

DEFAULT_API_KEY: Final = "devkey"
READY_TIMEOUT: Final = 15.0
"""livekit-server answers HTTP ~0.15 s after exec here; 15 s leaves room for a cold disk."""


class LiveKitServerStartError(Exception):
    """livekit-server did not start (exited, or never answered); the message says why in one line."""


class _PortTaken(LiveKitServerStartError):
    """It exited because a port it was given was bound by someone else first: worth another try."""


PORT_ATTEMPTS: Final = 4
"""How often a start is tried with fresh ports when one that was free is taken before the server binds it."""

_EPHEMERAL_FALLBACK: Final = (32768, 60999)


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing ports: a port picked inside it can be handed to any connect()."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return _EPHEMERAL_FALLBACK


@functools.cache
def _listening_ports() -> tuple[int, ...]:
    """The ports :func:`free_port` picks from: 10000 and up, less the outgoing range (read once)."""
    low, high = _ephemeral_range()
    return tuple(port for port in range(10000, 65536) if not low <= port <= high)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nobody holds on any address right now, outside the kernel's outgoing-port range.

    livekit-server binds its RTC ports on every address (``:port``), so the check binds the wildcard
    too; and a port outside the ephemeral range cannot be taken meanwhile by some client's connect()
    (a CI run saw exactly that: ``listen tcp :49219: bind: address already in use``).
    """
    candidates = _listening_ports()
    for _ in range(200):
        port = candidates[secrets.randbelow(len(candidates))]
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, kind) as probe:  # a crowded machine: let the kernel choose
        probe.bind(("", 0))
        return int(probe.getsockname()[1])


class LiveKitServerProcess:
    """``async with LiveKitServerProcess(...) as server:`` → ``server.url`` takes clients and workers."""

    def __init__(
        self,
        *,
        binary: Path | str | None = None,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str | None = None,
        host: str = "127.0.0.1",
        node_ip: str | None = None,
        port: int = 0,
        rtc_tcp_port: int = 0,
        rtc_udp_port: int = 0,
        departure_timeout: float = 20.0,
        empty_timeout: float = 300.0,
        log_path: Path | None = None,
        log_level: str = "info",
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self.binary = find_livekit_server(binary)
        self.api_key = api_key
        self.api_secret = api_secret or secrets.token_urlsafe(32)
        self.host = host
        self.node_ip = node_ip
        self.port = port
        self.rtc_tcp_port = rtc_tcp_port
        self.rtc_udp_port = rtc_udp_port
        self.departure_timeout = departure_timeout
        self.empty_timeout = empty_timeout
        self.log_path = log_path
        self.log_level = log_level
        self.extra_config = extra_config or {}
        self._folder: Path | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._output = self._new_output()
        self.started_in_s: float | None = None

    # -- addresses ------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Where clients and workers connect (``ws://host:port``)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        """The same port for HTTP: the Twirp API (``/twirp/...``) and the health check."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process is not None else None

    @property
    def tail(self) -> list[str]:
        """The server's last output lines, oldest first."""
        return self._output.tail

    def config(self) -> dict[str, Any]:
        """The configuration the server runs with (YAML is a superset of JSON, so it is written as JSON)."""
        node_ip = self.node_ip or self.host
        config: dict[str, Any] = {
            "port": self.port,
            "bind_addresses": [self.host],
            "keys": {self.api_key: self.api_secret},
            "log_level": self.log_level,
            "rtc": {
                "node_ip": node_ip,
                "use_external_ip": False,
                "enable_loopback_candidate": False,
                "tcp_port": self.rtc_tcp_port,
                "udp_port": self.rtc_udp_port,
                "ips": {"includes": [f"{node_ip}/32"]},
                "stun_servers": [f"{node_ip}:3478"],
            },
            "room": {
                "empty_timeout": int(self.empty_timeout),
                "departure_timeout": max(1, round(self.departure_timeout)),
            },
            "turn": {"enabled": False},
        }
        for key, value in self.extra_config.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
        return config

    # -- lifecycle ------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Write the config, start the server and wait until it answers HTTP.

        Ports left at 0 are picked here; when one is taken between the pick and the server's bind, the
        start is tried again with fresh ones (ports the caller chose are never changed).
        """
        if self._process is not None:
            raise RuntimeError("the server was already started")
        if self.node_ip is None:
            self.node_ip = pick_node_ip()
            if self.node_ip is None:
                raise LiveKitServerStartError(
                    "this machine has no network address but loopback, and WebRTC clients ignore "
                    "loopback: livekit-server needs one (any local interface will do)"
                )
        chosen = (self.port, self.rtc_tcp_port, self.rtc_udp_port)
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = chosen[0] or free_port()
            self.rtc_tcp_port = chosen[1] or free_port()
            self.rtc_udp_port = chosen[2] or free_port(socket.SOCK_DGRAM)
            try:
                await self._start_once()
                return
            except _PortTaken:
                if attempt == PORT_ATTEMPTS or all(chosen):
                    raise
                self._process = None
                self._reader = None
                self._output = self._new_output()

    async def _start_once(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="agent-tui-livekit-"))  # 0700
        config_file = self._folder / "livekit.yaml"
        descriptor = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump(self.config(), stream)
        self._output.open()
        began = time.monotonic()
        self._process = await asyncio.create_subprocess_exec(
            *_lifeline_prefix(),
            str(self.binary),
            "--config",
            str(config_file),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=_server_environment(os.environ),
            start_new_session=True,
        )
        assert self._process.stdout is not None
        self._reader = asyncio.create_task(
            self._output.read(self._process.stdout), name="livekit-server-output"
        )
        try:
            await self._wait_ready(READY_TIMEOUT)
        except BaseException:
            await self.stop()
            raise
        self.started_in_s = time.monotonic() - began

    async def stop(self, grace: float = 1.0) -> int | None:
        """Ask it to stop, force it after ``grace`` seconds, kill it after 3 more; always cleans up."""
        process = self._process
        try:
            if process is not None and process.returncode is None:
                for signum, wait_s in ((signal.SIGTERM, grace), (signal.SIGTERM, 3.0)):
                    with contextlib.suppress(ProcessLookupError):
                        process.send_signal(signum)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(process.wait(), wait_s)
                        break
                else:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
            if self._reader is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._reader, 2.0)
                self._reader.cancel()
                await asyncio.gather(self._reader, return_exceptions=True)
        finally:
            self._output.close()
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None
        return process.returncode if process is not None else None

    def kill_now(self) -> None:
        """SIGKILL without waiting: a crash, as a fault test or a second Ctrl-C wants it."""
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    async def __aenter__(self) -> LiveKitServerProcess:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # -- internals ------------------------------------------------------------------------------------
    async def _wait_ready(self, within_s: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient(timeout=1.0, trust_env=False) as client:
            while True:
                if self._process.returncode is not None:
                    if self._reader is not None:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(asyncio.shield(self._reader), 1.0)
                    words = self._last_words()
                    error = _PortTaken if "address already in use" in words else LiveKitServerStartError
                    raise error(
                        f"livekit-server exited during start-up (exit code {self._process.returncode}){words}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.http_url + "/")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise LiveKitServerStartError(
                        f"livekit-server did not answer on {self.http_url} within {within_s:g} s"
                        f"{self._last_words()}"
                    )
                await asyncio.sleep(0.05)

    def _new_output(self) -> ChildOutput:
        """The reader of one run's output: its log file (rewritten by a retried start) and its tail."""
        return ChildOutput(self.log_path, what="livekit-server", scrub=self._scrub)

    def _scrub(self, line: str) -> str:
        """Tokens (livekit-server echoes a refused one whole) and our secret never reach the log."""
        return redact(line, self.api_secret)

    def _last_words(self) -> str:
        tail = self._output.tail
        errors = [line for line in tail if "ERROR" in line or "error" in line]
        said = (errors or tail or [""])[-1].strip()
        if len(said) > 200:
            said = said[:197] + "..."
        text = f": {said}" if said else ""
        if self.log_path is not None:
            text += f" (log: {self.log_path})"
        return text


def _lifeline_prefix() -> list[str]:
    """``setpriv --pdeathsig KILL --`` where util-linux has it: the kernel kills the server when the
    process that started it dies, however it dies."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def _server_environment(base: os._Environ[str] | dict[str, str]) -> dict[str, str]:
    """The environment without LiveKit's own variables: ``LIVEKIT_KEYS`` or ``LIVEKIT_CONFIG`` from the
    user's shell would override the config we wrote."""
    return {name: value for name, value in base.items() if not name.startswith("LIVEKIT_")}
