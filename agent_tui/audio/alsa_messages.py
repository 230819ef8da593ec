"""Silencing ALSA's own error printer.

libasound prints diagnostics such as "ALSA lib pcm.c:…: underrun occurred" straight to the process's
stderr from C. Under the terminal UI that text lands in the middle of the screen, and in headless runs it
breaks the promise of one clear line per problem. agent-tui already counts underruns and reports device
problems itself, so the library's printer is replaced by a no-op handler (``snd_lib_error_set_handler``)
when PortAudio is loaded. Where libasound is absent (macOS, Windows) there is nothing to silence.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

# snd_lib_error_handler_t: void (*)(const char *file, int line, const char *function, int err,
# const char *fmt, ...). The variadic tail is never read by the no-op, so the fixed part suffices.
_HANDLER_TYPE = ctypes.CFUNCTYPE(
    None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
)


def _ignore(file: Any, line: Any, function: Any, err: Any, fmt: Any) -> None:
    return None


#: Kept for the life of the process: libasound holds the pointer, and a collected callback would crash.
_HANDLER = _HANDLER_TYPE(_ignore)
#: Whether the handler is in place (a set, so the module needs no ``global`` statement).
_INSTALLED: set[bool] = set()


def silence_alsa_messages() -> bool:
    """Install the no-op handler once; whether libasound was found and took it."""
    if _INSTALLED:
        return True
    name = ctypes.util.find_library("asound")
    if name is None:
        return False
    try:
        library = ctypes.CDLL(name)
        library.snd_lib_error_set_handler(_HANDLER)
    except (OSError, AttributeError):
        return False
    _INSTALLED.add(True)
    return True
