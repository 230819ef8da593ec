"""espeak-ng, the offline speech synthesiser: what both the demo agent and the scenario runner speak with.

The demo agent's TTS (:mod:`agent_tui.demo.tts_espeak`, a livekit-agents plugin) and ``agent-tui test``'s
``say`` steps (:mod:`agent_tui.scenario.speech`, no livekit-agents needed) run the same binary with the
same voice and options, so a question a scenario says sounds exactly like the demo's own speech, which the
demo's recogniser is tuned for. Only what they share lives here: the binary, its default voice and rate,
the arguments, and the check that it is installed.
"""

from __future__ import annotations

import shutil

__all__ = [
    "DEFAULT_RATE_WPM",
    "DEFAULT_VOICE",
    "ESPEAK_BINARY",
    "ESPEAK_MISSING_MESSAGE",
    "EspeakNotInstalledError",
    "espeak_arguments",
    "find_espeak",
]

ESPEAK_BINARY = "espeak-ng"
ESPEAK_MISSING_MESSAGE = "espeak-ng is not installed: run 'sudo apt-get install espeak-ng'"
DEFAULT_VOICE = "en-us+klatt3"
"""The voice pocketsphinx recognises best among those tried (audio-and-terminal.md §3)."""
DEFAULT_RATE_WPM = 150


class EspeakNotInstalledError(RuntimeError):
    """The espeak-ng binary is not on PATH; the message says how to install it."""

    def __init__(self, message: str = ESPEAK_MISSING_MESSAGE) -> None:
        super().__init__(message)


def find_espeak(binary: str = ESPEAK_BINARY) -> str:
    """Return the full path of ``binary`` or raise :class:`EspeakNotInstalledError`.

    Called before the first synthesis, so a missing espeak-ng fails up front with the install command
    rather than in the middle of a call.
    """
    path = shutil.which(binary)
    if path is None:
        raise EspeakNotInstalledError()
    return path


def espeak_arguments(voice: str, rate_wpm: int) -> list[str]:
    """The options after the binary and its output option; the text itself goes through stdin, never
    argv, so a text starting with "-" cannot be read as an option."""
    return ["-b", "1", "-v", voice, "-s", str(rate_wpm)]  # -b 1: the input is UTF-8
