"""Start the job processes' forkserver early, so that it loads livekit-agents while the worker does.

On Linux livekit-agents starts its job processes from a ``multiprocessing`` forkserver, which it starts
when its process pool first spawns, with a preload list (the registered plugins' packages, the server's
``preload_modules``, then its own warm-up modules). That forkserver is a fresh interpreter importing the
framework again: about a second, after the worker's own import of it, on the way to registering (the
worker registers once its idle processes are warm). Started first, with the same list, it imports in
parallel with the worker on a second core; the standard library then reuses the running forkserver,
and the list livekit-agents sets later changes nothing.

The environment matters: job processes inherit the forkserver's, not the worker's, and read the demo's
settings from it, so :func:`start_early` runs only once the worker has exported them. The list must be
the one livekit-agents would compute; :func:`framework_preload` computes it the framework's way, and the
worker checks it against :data:`FORKSERVER_PRELOAD` after the import (a mismatch only costs speed: a
job process imports what its forkserver did not).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import sys
from collections.abc import Sequence
from typing import Final

__all__ = ["FORKSERVER_PRELOAD", "PRELOAD_MODULES", "framework_preload", "start_early"]

#: What the demo worker asks livekit-agents to preload besides its plugins: the worker module itself,
#: so each job process finds the entry point, pocketsphinx and the rules already imported.
PRELOAD_MODULES: Final = ("agent_tui.demo.worker",)
#: The plugins the worker registers (silero's VAD), as livekit-agents lists them.
PLUGIN_PACKAGES: Final = ("livekit.plugins.silero",)
#: livekit-agents 1.8's own warm-up modules, in its order (the freeze must stay last).
FRAMEWORK_MODULES: Final = ("livekit.agents.ipc._preload", "livekit.agents.ipc._preload_freeze")


def framework_preload(plugin_packages: Sequence[str], preload_modules: Sequence[str]) -> list[str]:
    """The forkserver preload list as livekit-agents 1.8.9 builds it in ``AgentServer.run``."""
    return list(dict.fromkeys([*plugin_packages, *preload_modules])) + list(FRAMEWORK_MODULES)


FORKSERVER_PRELOAD: Final = tuple(framework_preload(PLUGIN_PACKAGES, PRELOAD_MODULES))


def start_early() -> bool:
    """Start the forkserver with :data:`FORKSERVER_PRELOAD` where livekit-agents uses one (Linux);
    returns whether it did. Returns at once: the forkserver imports in its own process."""
    if not sys.platform.startswith("linux"):
        return False
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(FORKSERVER_PRELOAD))
    multiprocessing.forkserver.ensure_running()
    return True
