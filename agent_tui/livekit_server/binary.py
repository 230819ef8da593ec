"""Finding the ``livekit-server`` binary: an explicit path, else the project's built one, else ``PATH``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Final

__all__ = ["BUILD_HINT", "TOOLS_BINARY", "LiveKitServerNotFound", "find_livekit_server"]

TOOLS_BINARY: Final = Path(__file__).resolve().parents[2] / ".tools" / "bin" / "livekit-server"
"""Where ``make livekit-server`` installs the server it builds (a git-ignored folder of the checkout)."""

BUILD_HINT: Final = (
    "build it with 'make livekit-server' (needs Go 1.26 or later on PATH) or install livekit-server "
    "and put it on PATH"
)


class LiveKitServerNotFound(Exception):
    """No usable ``livekit-server`` binary; the message says where we looked and how to get one."""


def find_livekit_server(explicit: Path | str | None = None) -> Path:
    """The binary to run: ``explicit`` when given (it must exist and be executable), else
    :data:`TOOLS_BINARY` when built, else ``livekit-server`` on ``PATH``."""
    if explicit is not None and str(explicit) != "":
        path = Path(explicit).expanduser()
        if path.is_dir():
            raise LiveKitServerNotFound(f"{path} is a folder, not the livekit-server binary")
        if not path.exists():
            found = shutil.which(str(explicit))
            if found:
                return Path(found)
            raise LiveKitServerNotFound(f"no livekit-server at {path}: {BUILD_HINT}")
        if not os.access(path, os.X_OK):
            raise LiveKitServerNotFound(f"{path} is not executable (chmod +x it)")
        return path
    if TOOLS_BINARY.is_file() and os.access(TOOLS_BINARY, os.X_OK):
        return TOOLS_BINARY
    found = shutil.which("livekit-server")
    if found:
        return Path(found)
    raise LiveKitServerNotFound(
        f"livekit-server was not found (not in {TOOLS_BINARY.parent}, not on PATH): {BUILD_HINT}"
    )
