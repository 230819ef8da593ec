"""Running the demo worker as a child process: start it, know when it has registered, always stop it.

Used by ``agent-tui demo`` and by the end-to-end tests. Like the rest of this package outside
:mod:`.worker`, it imports nothing from livekit-agents: the worker runs in its own interpreter.

Process management, and why:

* **Own session and process group** (``start_new_session=True``). The terminal's Ctrl-C is sent to the
  whole foreground process group; the worker must not get it, because the demo has to end the client's
  session *before* the worker goes (otherwise the agent vanishes mid-sentence and the client reports
  "agent left"). It also lets one ``killpg`` reach every process livekit-agents starts (forkserver,
  job processes).
* **Stopping**: SIGTERM to the worker, which drains (finishes its jobs) and exits; after
  :data:`STOP_GRACE` seconds SIGKILL to the whole group; then SIGKILL to the group once more for any
  straggler whose parent exited without it.
* **The lifeline** (:mod:`.lifeline`): the worker's stdin is a pipe whose write end only this process
  holds. If this process dies without stopping the worker (SIGKILL, a crash), the kernel closes the pipe,
  the worker sees end-of-file and kills its process group. No orphan survives its parent.
* **Output**: the worker's stdout and stderr are one pipe, read continuously (a full pipe would block the
  worker) into a log file and a short in-memory tail for error messages; the readiness line
  (:data:`~agent_tui.demo.READY_RE`) is picked out of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from agent_tui.child_output import ChildOutput

from . import ENV_LIFELINE, parse_ready_line, worker_command

__all__ = [
    "READY_TIMEOUT",
    "STOP_GRACE",
    "WorkerExited",
    "WorkerNotReady",
    "WorkerProcess",
    "worker_environment",
]

READY_TIMEOUT: Final = 30.0
"""How long the worker may take to register. It needs 4-8 s (importing livekit-agents, loading silero
and pocketsphinx); 30 s leaves room for a cold disk cache on a slow machine."""
STOP_GRACE: Final = 6.0
"""How long a SIGTERM'd worker may drain before its process group is killed. A drain with no job left
takes about 2 s (the job process notices its room is gone and exits)."""

#: Variables that would point the worker at another server or at LiveKit's cloud services.
_DROPPED_PREFIXES: Final = ("LIVEKIT_",)


class WorkerNotReady(Exception):
    """The worker did not register in time; the message says so in one line."""


class WorkerExited(WorkerNotReady):
    """The worker exited before it registered; ``returncode`` is its exit status."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode


def worker_environment(base: Mapping[str, str], *, url: str, api_key: str, api_secret: str) -> dict[str, str]:
    """``base`` without any ``LIVEKIT_*`` variable, plus the server and keys to register with.

    The credentials travel in the environment, never in argv, where ``ps`` would show the secret.
    """
    env = {name: value for name, value in base.items() if not name.startswith(_DROPPED_PREFIXES)}
    env.update(LIVEKIT_URL=url, LIVEKIT_API_KEY=api_key, LIVEKIT_API_SECRET=api_secret)
    env[ENV_LIFELINE] = "1"
    return env


class WorkerProcess:
    """One demo worker subprocess, from :meth:`start` to :meth:`stop` (which is safe to call always)."""

    def __init__(
        self,
        *,
        url: str,
        api_key: str,
        api_secret: str,
        agent_name: str | None = None,
        ptt: bool = False,
        extra_args: Sequence[str] = (),
        log_path: Path | None = None,
        python: str = sys.executable,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = worker_command(python=python, agent_name=agent_name, ptt=ptt, extra_args=extra_args)
        self.log_path = log_path
        self.worker_id: str | None = None
        self.registered_agent_name: str | None = None
        self._env = worker_environment(
            os.environ if base_env is None else base_env, url=url, api_key=api_key, api_secret=api_secret
        )
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._registered = asyncio.Event()
        self._output = ChildOutput(log_path, what="the demo agent", on_line=self._on_line)

    # -- state -------------------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        """The exit status once the worker has exited (negative: killed by that signal), else None."""
        return self._process.returncode if self._process is not None else None

    @property
    def tail(self) -> list[str]:
        """The worker's last output lines, oldest first."""
        return self._output.tail

    @property
    def log_error(self) -> str | None:
        """Why the log file could not be written, if it could not (the worker runs anyway)."""
        return self._output.log_error

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the process (returns at once; :meth:`wait_registered` waits for the server's yes)."""
        if self._process is not None:
            raise RuntimeError("the worker was already started")
        self._output.open()
        self._process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=self._env,
            start_new_session=True,
        )
        assert self._process.stdout is not None
        self._reader = asyncio.create_task(self._output.read(self._process.stdout), name="demo-worker-output")

    async def wait_registered(self, within_s: float = READY_TIMEOUT) -> str:
        """Wait for the readiness line; returns the worker id.

        Raises :class:`WorkerExited` if the worker exits first and :class:`WorkerNotReady` after
        ``within_s`` seconds. Either way the worker is still to be :meth:`stop`\\ ped by the caller.
        """
        process = self._require_process()
        registered = asyncio.create_task(self._registered.wait())
        exited = asyncio.create_task(process.wait())
        try:
            await asyncio.wait({registered, exited}, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (registered, exited):
                task.cancel()
            await asyncio.gather(registered, exited, return_exceptions=True)
        if self._registered.is_set() and self.worker_id is not None:
            return self.worker_id
        if process.returncode is not None:
            if self._reader is not None:  # its last words are the likeliest explanation
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._reader), 1.0)
            raise WorkerExited(
                f"the demo agent exited during start-up ({describe_status(process.returncode)})"
                f"{self._last_words()}",
                process.returncode,
            )
        raise WorkerNotReady(f"the demo agent did not register within {within_s:g} s{self._last_words()}")

    async def wait_exited(self) -> int:
        """Wait until the worker exits (for any reason); returns its exit status."""
        return await self._require_process().wait()

    async def stop(self, grace: float = STOP_GRACE) -> int | None:
        """SIGTERM, up to ``grace`` seconds to drain, then SIGKILL to the group; returns the exit status.

        Idempotent, and safe when :meth:`start` failed or was never called.
        """
        process = self._process
        if process is None:
            self._output.close()
            return None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                self._kill_group(process.pid)
                await process.wait()
        # Anything the worker left behind (a job process whose parent died first) is still in its group.
        self._kill_group(process.pid)
        if process.stdin is not None:
            process.stdin.close()  # the lifeline has nothing left to guard
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._reader, 2.0)
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        self._output.close()
        return process.returncode

    def kill_now(self) -> None:
        """SIGKILL the worker's whole group without waiting (a second Ctrl-C while stopping)."""
        if self._process is not None:
            self._kill_group(self._process.pid)

    # -- internals ---------------------------------------------------------------------------------------
    def _require_process(self) -> asyncio.subprocess.Process:
        if self._process is None:
            raise RuntimeError("the worker has not been started")
        return self._process

    @staticmethod
    def _kill_group(pgid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    def _on_line(self, line: str) -> None:
        ready = parse_ready_line(line)
        if ready is not None:
            self.registered_agent_name, self.worker_id = ready
            self._registered.set()

    def _last_words(self) -> str:
        """``: <the worker's last meaningful line>`` plus where the whole log is, for error messages."""
        said = last_message(self.tail)
        text = f": {said}" if said else ""
        if self._output.logging:
            text += f" (log: {self.log_path})"
        return text


def last_message(lines: Sequence[str]) -> str | None:
    """The most telling of the worker's last lines: its own ``agent-tui demo: …`` error if there is one,
    else the last error-level log message, else the last line; shortened to one readable line."""
    for line in reversed(lines):
        if line.startswith("agent-tui demo:"):
            return line.removeprefix("agent-tui demo:").strip()
    for line in reversed(lines):
        message = _json_message(line, levels=("ERROR", "CRITICAL"))
        if message:
            return message
    if not lines:
        return None
    last = _json_message(lines[-1]) or lines[-1]
    return last if len(last) <= 200 else last[:197] + "..."


def _json_message(line: str, levels: Sequence[str] | None = None) -> str | None:
    """The ``message`` of a livekit-agents JSON log line (of one of ``levels``), else None."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("message"), str):
        return None
    if levels is not None and record.get("level") not in levels:
        return None
    return str(record["message"])


def describe_status(returncode: int) -> str:
    """``exit code 1`` or ``killed by SIGKILL``, as a shell user would say it."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exit code {returncode}"
