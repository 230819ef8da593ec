"""The worker's lifeline: when the process that started it goes away, the worker and its children go too.

``agent-tui demo`` starts the worker as a subprocess in a new session (so its own process group, out of
reach of the terminal's Ctrl-C, which the demo handles itself) with a pipe as its stdin, and sets
:data:`~agent_tui.demo.ENV_LIFELINE`. Nothing is ever written to that pipe; the demo only holds its write
end. However the demo ends (a clean exit, a crash, or SIGKILL, which no handler can catch), the kernel
closes that end, and the read below returns end-of-file. The worker then kills its whole process group
with SIGKILL: the worker itself, livekit-agents' forkserver and every job process, so no orphan is left.

Why a pipe rather than ``prctl(PR_SET_PDEATHSIG)``: the death signal reaches only the one process that set
it (not the job processes forked later by the forkserver), fires when the *thread* that forked the child
exits rather than the process, and exists only on Linux. A pipe works on every POSIX system and the
group kill covers every descendant. SIGKILL rather than a graceful drain, because by then the demo's
in-process dev server is gone too: there is no one left to say goodbye to.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["start_lifeline"]


def start_lifeline(fd: int = 0) -> threading.Thread:
    """Watch file descriptor ``fd`` (default: stdin) on a daemon thread; at end-of-file, kill the group.

    It reads the raw descriptor with ``os.read``, not ``sys.stdin``: a daemon thread blocked inside
    ``sys.stdin.buffer.read`` holds the buffered reader's lock, and an interpreter shutting down while
    it does aborts ("could not acquire lock for <stdin> at interpreter shutdown"), turning every clean
    exit of the worker into SIGABRT.
    """
    thread = threading.Thread(target=_watch, args=(fd,), name="agent-tui-demo-lifeline", daemon=True)
    thread.start()
    return thread


def _watch(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass  # the demo never writes; anything that arrives anyway is not a reason to stop
    except OSError:
        pass  # a closed or broken stdin means the same thing as end-of-file
    _kill_own_group()


def _kill_own_group() -> None:
    """SIGKILL to the process group when this process leads it (the demo starts it so), else to itself.

    The check matters: a worker started by hand from a shell shares the shell's group, and killing that
    group would take the user's other processes with it.
    """
    pid = os.getpid()
    if os.getpgrp() == pid:
        os.killpg(pid, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
