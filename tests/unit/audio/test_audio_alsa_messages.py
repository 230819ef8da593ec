"""ALSA's stderr printer is replaced: its diagnostics cannot land on the UI or break one-line errors."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys

import pytest

from agent_tui.audio.alsa_messages import silence_alsa_messages

ALSA = ctypes.util.find_library("asound")


@pytest.mark.skipif(ALSA is None, reason="libasound is not installed on this machine")
def test_alsa_errors_no_longer_reach_stderr() -> None:
    # Opening a PCM that does not exist makes libasound print "ALSA lib …" on stderr — unless silenced.
    script = """
import ctypes, ctypes.util, sys
from agent_tui.audio.alsa_messages import silence_alsa_messages
if sys.argv[1] == "silence":
    assert silence_alsa_messages()
lib = ctypes.CDLL(ctypes.util.find_library("asound"))
handle = ctypes.c_void_p()
lib.snd_pcm_open(ctypes.byref(handle), b"no-such-pcm-device", 0, 0)
"""
    loud = subprocess.run(
        [sys.executable, "-c", script, "loud"], capture_output=True, text=True, timeout=30, check=False
    )
    quiet = subprocess.run(
        [sys.executable, "-c", script, "silence"], capture_output=True, text=True, timeout=30, check=False
    )
    assert "ALSA lib" in loud.stderr
    assert quiet.returncode == 0 and "ALSA lib" not in quiet.stderr


def test_silencing_works_where_libasound_exists_and_twice_is_harmless() -> None:
    assert silence_alsa_messages() is (ALSA is not None)
    assert silence_alsa_messages() is (ALSA is not None)
