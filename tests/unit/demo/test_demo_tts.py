"""EspeakTTS on its own: format, duration, audible output, streaming, errors."""

from __future__ import annotations

import asyncio
import os
import shutil
import struct
import time

import numpy as np
import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from livekit import rtc
from livekit.agents._exceptions import APIError

from agent_tui.demo.tts_espeak import (
    ESPEAK_MISSING_MESSAGE,
    ESPEAK_SAMPLE_RATE,
    EspeakNotInstalledError,
    EspeakTTS,
    WavStreamParser,
    find_espeak,
)

requires_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None and os.environ.get("CI") != "true",
    reason=ESPEAK_MISSING_MESSAGE,
)


def _rms(frames: list[rtc.AudioFrame]) -> float:
    samples = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


@requires_espeak
@pytest.mark.timeout(20)
async def test_synthesize_phrase_format_and_duration() -> None:
    tts = EspeakTTS()
    assert (tts.sample_rate, tts.num_channels) == (ESPEAK_SAMPLE_RATE, 1)
    assert tts.capabilities.streaming
    frames: list[rtc.AudioFrame] = []
    async with tts.synthesize("hello what time is it") as stream:
        async for ev in stream:
            frames.append(ev.frame)
    assert frames
    assert {(f.sample_rate, f.num_channels) for f in frames} == {(ESPEAK_SAMPLE_RATE, 1)}
    duration = sum(f.duration for f in frames)
    # five words at 150 wpm: espeak-ng makes about 1.7 s including its short trailing pause
    assert 1.2 < duration < 2.5
    assert _rms(frames) > 500  # speech, not silence


@requires_espeak
@pytest.mark.timeout(20)
async def test_rate_changes_duration() -> None:
    text = "this sentence is spoken at two different rates"
    slow = await EspeakTTS(rate_wpm=100).synthesize(text).collect()
    fast = await EspeakTTS(rate_wpm=200).synthesize(text).collect()
    assert slow.duration > 1.5 * fast.duration


@requires_espeak
@pytest.mark.timeout(20)
async def test_stream_speaks_first_sentence_before_the_text_is_complete() -> None:
    tts = EspeakTTS()
    stream = tts.stream()
    try:
        # the LLM has produced one sentence and part of the next; no end of input yet
        stream.push_text("Hello there. ")
        stream.push_text("The second sentence is still being")
        started = time.perf_counter()
        first = await asyncio.wait_for(stream.__anext__(), timeout=5)
        first_audio_after = time.perf_counter() - started
        assert first.frame.sample_rate == ESPEAK_SAMPLE_RATE
        # the rest of the reply arrives only now
        stream.push_text(" written. And here is a third one.")
        stream.end_input()
        rest = [ev.frame async for ev in stream]
    finally:
        await stream.aclose()
    total = first.frame.duration + sum(f.duration for f in rest)
    hello_only = await tts.synthesize("Hello there.").collect()
    assert total > 2 * hello_only.duration  # all three sentences were spoken
    assert first_audio_after < 1.0


@requires_espeak
@pytest.mark.timeout(20)
async def test_chunked_stream_delivers_audio_before_synthesis_ends() -> None:
    long_text = " ".join(f"This is sentence number {i} of a long reply." for i in range(12))
    tts = EspeakTTS()
    arrivals: list[float] = []
    started = time.perf_counter()
    async with tts.synthesize(long_text) as stream:
        async for _ in stream:
            arrivals.append(time.perf_counter() - started)
    assert len(arrivals) > 50
    # frames are forwarded as espeak-ng writes them, not all at once at the end
    assert arrivals[0] < arrivals[-1]


@requires_espeak
@pytest.mark.timeout(20)
async def test_cancelled_synthesis_stops_quickly() -> None:
    tts = EspeakTTS()
    text = " ".join(["A very long reply that nobody will hear to the end."] * 200)
    stream = tts.synthesize(text)
    first = await asyncio.wait_for(stream.__anext__(), timeout=5)
    assert first.frame.duration > 0
    started = time.perf_counter()
    await stream.aclose()
    assert time.perf_counter() - started < 2


@requires_espeak
@pytest.mark.timeout(20)
async def test_unknown_voice_is_a_clear_error() -> None:
    tts = EspeakTTS(voice="zzqvoice")
    with pytest.raises(APIError, match="zzqvoice"):
        await tts.synthesize("hello").collect()


def test_missing_binary_says_how_to_install() -> None:
    with pytest.raises(EspeakNotInstalledError) as info:
        find_espeak("espeak-ng-does-not-exist")
    assert str(info.value) == "espeak-ng is not installed: run 'sudo apt-get install espeak-ng'"
    with pytest.raises(EspeakNotInstalledError):
        EspeakTTS(binary="espeak-ng-does-not-exist")


def _wav_header(rate: int, channels: int, *, extra_chunk: bytes = b"") -> bytes:
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 0x7FFFF000)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + extra_chunk
        + b"data"
        + struct.pack("<I", 0x7FFFF000)
    )


def test_wav_parser_byte_by_byte() -> None:
    pcm = np.arange(-500, 500, dtype=np.int16).tobytes()
    odd = b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # odd-sized chunk with its pad byte
    stream = _wav_header(16000, 1, extra_chunk=odd) + pcm
    parser = WavStreamParser()
    out = b"".join(parser.feed(stream[i : i + 1]) for i in range(len(stream)))
    assert out == pcm
    assert (parser.sample_rate, parser.num_channels) == (16000, 1)


def test_wav_parser_rejects_non_wav() -> None:
    with pytest.raises(APIError):
        WavStreamParser().feed(b"not a wav stream at all")
