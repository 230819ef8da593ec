"""A real terminal for end-to-end tests of Textual front ends: a tmux server of the test's own running
one program in a pane of a fixed size, read back with ``capture-pane`` and typed into with
``send-keys``. The program is started from a script that exports its environment, so a key pair
never shows on a command line (where ``ps`` shows it)."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["TmuxTerminal", "tmux_missing"]


def tmux_missing() -> bool:
    return shutil.which("tmux") is None


class TmuxTerminal:
    """``async with TmuxTerminal(tmp_path, env, command) as terminal``: the command runs in a 120 by 40
    pane that stays open when it exits; leaving kills the tmux server."""

    def __init__(
        self,
        folder: Path,
        env: Mapping[str, str],
        command: Sequence[str],
        *,
        width: int = 120,
        height: int = 40,
    ) -> None:
        self.name = f"agent-tui-e2e-{uuid.uuid4().hex[:6]}"
        self._script = folder / f"{self.name}.sh"
        exports = "".join(f"export {key}={shlex.quote(value)}\n" for key, value in sorted(env.items()))
        self._script.write_text(
            "#!/bin/sh\n"
            + exports
            + "unset COLUMNS LINES\n"  # a Textual app would take the size from them, not the terminal
            + f"{shlex.join(command)}\n"
            + "sleep 30\n",
            encoding="utf-8",
        )
        self._script.chmod(0o700)
        self._size = (width, height)

    def tmux(self, *args: str) -> str:
        """One tmux command on this terminal's own server, started without a config file."""
        return subprocess.run(
            ["tmux", "-L", self.name, *args], check=True, capture_output=True, text=True, timeout=10
        ).stdout

    async def __aenter__(self) -> TmuxTerminal:
        width, height = self._size
        self.tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height)
        )
        self.tmux("set-option", "-t", self.name, "remain-on-exit", "on")
        self.tmux("respawn-pane", "-k", "-t", self.name, str(self._script))
        return self

    async def __aexit__(self, *_: object) -> None:
        kill = ["tmux", "-L", self.name, "kill-server"]
        await asyncio.to_thread(subprocess.run, kill, check=False, capture_output=True, timeout=10)

    def screen(self) -> str:
        """What the pane shows now."""
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def type(self, text: str) -> None:
        """Type ``text`` literally."""
        self.tmux("send-keys", "-t", self.name, "-l", text)

    def press(self, key: str) -> None:
        """Press one key by tmux's name for it (``Enter``, ``C-q``)."""
        self.tmux("send-keys", "-t", self.name, key)

    @staticmethod
    async def a_moment() -> None:
        await asyncio.sleep(0.2)  # capture-pane is a process: look five times a second, not fifty
