"""The optional extras (``pip install 'agent-tui[demo]'``): what each one brings, and the one line that says
which to install when a command or an option needs one that is missing.

The table mirrors ``[project.optional-dependencies]`` in ``pyproject.toml`` (a test keeps them in step):
one importable module per distribution. Checking is :func:`importlib.util.find_spec`, which finds a
module without running it, so the check costs next to nothing and happens before any work starts.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Final

#: The modules each extra installs, in pyproject.toml's order.
EXTRA_MODULES: Final[dict[str, tuple[str, ...]]] = {
    "devserver": ("aiortc", "aiohttp"),
    "demo": ("livekit.agents", "livekit.plugins.silero", "pocketsphinx", "aiortc", "aiohttp"),
    "video": ("av", "mss"),
    "load": ("locust", "gevent"),
}


def missing_module(extra: str) -> str | None:
    """The first of ``extra``'s modules that cannot be imported, or None when all of them can."""
    for module in EXTRA_MODULES[extra]:
        try:
            found = find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package is missing, or a broken stub in sys.modules
            found = False
        if not found:
            return module
    return None


def install_hint(extra: str) -> str:
    """How to install ``extra``, with pip into an environment and with pipx for an installed tool."""
    return f"pip install 'agent-tui[{extra}]' (or pipx install --force 'agent-tui[{extra}]')"


def needs_extra(what: str, extra: str, module: str) -> str:
    """The line for ``what`` (a command, an option) needing ``extra``, whose ``module`` is missing."""
    return f"{what} needs the '{extra}' extra ({module} is not installed): {install_hint(extra)}"


def extra_problem(what: str, extra: str) -> str | None:
    """:func:`needs_extra`'s line when ``extra`` is not fully installed, else None."""
    module = missing_module(extra)
    return None if module is None else needs_extra(what, extra, module)
