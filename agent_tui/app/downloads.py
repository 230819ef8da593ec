"""Saving files the agent sends: a safe name inside the downloads folder, never overwriting.

The name comes from the sender, so it is reduced to its last path component and stripped of anything a
file system might read as a path or a device before it touches the disk.
"""

from __future__ import annotations

import re
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_file_name(name: str, *, fallback: str = "download") -> str:
    """A plain file name for ``name``: no directories, no leading dots, no control or odd characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    return base[:120] or fallback


def unique_path(directory: Path, name: str) -> Path:
    """``directory/name``, or ``name (2)``, ``name (3)``… if it already exists."""
    candidate = directory / name
    stem, suffix = candidate.stem, candidate.suffix
    counter = 2
    while candidate.exists():
        candidate = directory / f"{stem} ({counter}){suffix}"
        counter += 1
    return candidate


def save_download(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` under a safe, unique name in ``directory`` (created if needed). Blocking: run it
    in a thread."""
    directory.mkdir(parents=True, exist_ok=True)
    path = unique_path(directory, safe_file_name(name))
    with path.open("xb") as handle:
        handle.write(data)
    return path


def size_text(count: int) -> str:
    """A byte count as people read it: ``512 bytes``, ``1.5 KB``, ``2.0 MB``."""
    size = float(count)
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
