"""Speech fixtures: say a phrase with espeak-ng, recognise audio with pocketsphinx.

The demo's own tests, its ``check`` command and the end-to-end voice tests all need the same two
steps: make the audio of a question with no recorded data, and turn the agent's answer back into
exact words. Recognition with a JSGF grammar of the expected phrases is exact for espeak-ng's
``en-us+klatt3`` voice, where the general model is not (audio-and-terminal.md §3).
"""

from __future__ import annotations

from collections.abc import Sequence

from livekit import rtc

from .stt_pocketsphinx import PocketsphinxSTT, jsgf_from_phrases
from .tts_espeak import DEFAULT_RATE_WPM, DEFAULT_VOICE, EspeakTTS

__all__ = ["recognize", "synthesize"]


async def synthesize(
    text: str, *, voice: str = DEFAULT_VOICE, rate_wpm: int = DEFAULT_RATE_WPM
) -> rtc.AudioFrame:
    """The whole of ``text`` spoken by espeak-ng, as one 22.05 kHz mono frame."""
    tts = EspeakTTS(voice=voice, rate_wpm=rate_wpm)
    async with tts.synthesize(text) as stream:
        return await stream.collect()


async def recognize(
    audio: rtc.AudioFrame | list[rtc.AudioFrame], phrases: Sequence[str] | None = None
) -> str:
    """The words pocketsphinx hears in ``audio`` (any rate, any channel count).

    With ``phrases`` only those phrases can be recognised (an empty string means none matched);
    without, the general English model is used.
    """
    grammar = jsgf_from_phrases(phrases) if phrases is not None else None
    stt = PocketsphinxSTT(grammar=grammar)
    event = await stt.recognize(audio)
    return event.alternatives[0].text if event.alternatives else ""
