"""What a scenario says: ``say`` text through espeak-ng, ``say_wav`` files, as the microphone's samples.

Synthesis runs espeak-ng (:mod:`agent_tui.espeak`) writing a WAV file in a temporary folder, then reads
it with the audio package's WAV reader, resampled to the microphone's rate; the process is asynchronous
and the reading happens off the event loop, so many scenarios can speak at once in one process. Each
phrase is made once per process (``--repeat`` and ``--jobs`` say the same phrases again and again).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from agent_tui.audio.ring_buffer import Int16Array
from agent_tui.audio.wav_io import load_wav
from agent_tui.espeak import DEFAULT_RATE_WPM, DEFAULT_VOICE, espeak_arguments, find_espeak

__all__ = ["Speech", "SpeechError"]


class SpeechError(Exception):
    """A phrase could not be made (espeak-ng missing or failing, an unreadable WAV); one line."""


class Speech:
    """Phrases and WAV files as mono int16 samples at ``sample_rate``, each made once."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._made: dict[tuple[str, str], asyncio.Future[Int16Array]] = {}

    async def say(self, text: str, voice: str | None = None) -> Int16Array:
        """``text`` spoken by espeak-ng in ``voice`` (default: the demo agent's best-recognised one)."""
        key = ("say", f"{voice or DEFAULT_VOICE}\n{text}")
        return await self._once(key, lambda: self._synthesize(text, voice))

    async def wav(self, path: Path) -> Int16Array:
        return await self._once(("wav", str(path)), lambda: self._read(path))

    async def _once(
        self, key: tuple[str, str], make: Callable[[], Coroutine[Any, Any, Int16Array]]
    ) -> Int16Array:
        future = self._made.get(key)
        if future is None:
            future = asyncio.ensure_future(make())
            self._made[key] = future
        try:
            return await asyncio.shield(future)
        except SpeechError:
            self._made.pop(key, None)  # a later call may succeed (the file appeared, espeak installed)
            raise

    async def _synthesize(self, text: str, voice: str | None) -> Int16Array:
        try:
            binary = find_espeak()
        except RuntimeError as error:
            raise SpeechError(str(error)) from None
        with tempfile.TemporaryDirectory(prefix="agent-tui-say-") as folder:
            path = Path(folder) / "say.wav"
            process = await asyncio.create_subprocess_exec(
                binary,
                "-w",
                str(path),
                *espeak_arguments(voice or DEFAULT_VOICE, DEFAULT_RATE_WPM),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _, stderr = await process.communicate(text.replace("\r", " ").encode("utf-8") + b"\n")
            if process.returncode != 0 or not path.is_file():
                reason = stderr.decode("utf-8", "replace").strip().splitlines()
                detail = f": {reason[-1]}" if reason else ""
                raise SpeechError(
                    f"espeak-ng could not say {text!r} with voice {voice or DEFAULT_VOICE!r} "
                    f"(exit status {process.returncode}){detail}"
                )
            return await self._read(path)

    async def _read(self, path: Path) -> Int16Array:
        from agent_tui.audio.errors import AudioFileError

        try:
            return await asyncio.to_thread(load_wav, path, self.sample_rate)
        except AudioFileError as error:
            raise SpeechError(str(error)) from None
