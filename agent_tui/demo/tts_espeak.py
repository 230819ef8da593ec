"""Text-to-speech on the ``espeak-ng`` command-line synthesiser, as a livekit-agents ``tts.TTS``.

Why espeak-ng: it is a small Debian package, needs no model download and no network, and
synthesises far faster than real time (about 30 s of audio in 0.08 s). Its voice is robotic, but the
``en-us+klatt3`` voice at 150 words per minute is one that pocketsphinx recognises reliably, which is
what the end-to-end voice tests need (audio-and-terminal.md §3).

How it streams:

* :meth:`EspeakTTS.stream` (the path AgentSession uses, since ``capabilities.streaming`` is true)
  splits the incoming LLM text into sentences with the framework's sentence tokenizer and runs one
  espeak-ng process per sentence as soon as that sentence is complete. The first sentence is heard
  while the LLM is still producing the rest of the reply.
* Within one process, PCM is forwarded as espeak-ng writes it to stdout, so even
  :meth:`EspeakTTS.synthesize` (one process for the whole text) delivers its first audio before the
  whole text has been synthesised.

Every process runs through ``asyncio.create_subprocess_exec``: nothing here blocks the event loop, and
a cancelled synthesis (the user interrupted the agent) kills its process.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator

from livekit import rtc
from livekit.agents import tokenize, tts, utils
from livekit.agents._exceptions import APIError
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

from agent_tui.espeak import (
    DEFAULT_RATE_WPM,
    DEFAULT_VOICE,
    ESPEAK_BINARY,
    ESPEAK_MISSING_MESSAGE,
    EspeakNotInstalledError,
    espeak_arguments,
    find_espeak,
)

__all__ = [
    "DEFAULT_RATE_WPM",
    "DEFAULT_VOICE",
    "ESPEAK_BINARY",
    "ESPEAK_MISSING_MESSAGE",
    "ESPEAK_SAMPLE_RATE",
    "EspeakChunkedStream",
    "EspeakNotInstalledError",
    "EspeakSynthesizeStream",
    "EspeakTTS",
    "WavStreamParser",
    "find_espeak",
]

ESPEAK_SAMPLE_RATE = 22050
"""espeak-ng's native output rate for its own (non-mbrola) voices; the WAV header is checked anyway."""

_READ_CHUNK = 4096
"""Bytes per stdout read: about 93 ms of 22.05 kHz mono audio, small enough that the first frame
leaves quickly, large enough that a long reply is not thousands of reads."""
_FRAME_MS = 100
"""Frame size handed to the framework's AudioEmitter (its default is 200 ms); shorter frames mean
less audio is buffered before the first one is emitted."""


class WavStreamParser:
    """Incremental parser for the WAV stream espeak-ng writes with ``--stdout``.

    espeak-ng cannot know the length up front, so its RIFF and data sizes are placeholders
    (0x7FFFF000) and the data chunk simply runs until EOF. The parser reads the header chunks as they
    arrive (so the sample rate and channel count come from the stream, not from an assumption) and
    then passes every following byte through as PCM. It keeps an odd trailing byte back so every
    chunk it returns holds whole 16-bit samples.
    """

    def __init__(self) -> None:
        self._header = bytearray()
        self._in_data = False
        self._carry = b""
        self.sample_rate = 0
        self.num_channels = 0

    @property
    def header_done(self) -> bool:
        return self._in_data

    def feed(self, data: bytes) -> bytes:
        """Consume ``data`` and return the PCM bytes (whole samples) now available."""
        if not self._in_data:
            self._header += data
            pcm = self._parse_header()
            if not self._in_data:
                return b""
        else:
            pcm = data
        pcm = self._carry + pcm
        frame_bytes = 2 * max(self.num_channels, 1)
        usable = len(pcm) - len(pcm) % frame_bytes
        self._carry = pcm[usable:]
        return pcm[:usable]

    def _parse_header(self) -> bytes:
        buf = bytes(self._header)
        if len(buf) < 12:
            return b""
        if buf[:4] != b"RIFF" or buf[8:12] != b"WAVE":
            raise APIError(
                f"espeak-ng did not write a WAV stream (starts with {buf[:12]!r})", retryable=False
            )
        pos = 12
        while len(buf) >= pos + 8:
            chunk_id = buf[pos : pos + 4]
            (size,) = struct.unpack("<I", buf[pos + 4 : pos + 8])
            body = pos + 8
            if chunk_id == b"data":
                if not self.sample_rate:
                    raise APIError("espeak-ng WAV stream has no fmt chunk before its data", retryable=False)
                self._in_data = True
                self._header.clear()
                return buf[body:]
            if len(buf) < body + size:
                return b""
            if chunk_id == b"fmt ":
                fmt_tag, channels, rate = struct.unpack("<HHI", buf[body : body + 8])
                (bits,) = struct.unpack("<H", buf[body + 14 : body + 16])
                if fmt_tag != 1 or bits != 16:
                    raise APIError(
                        f"espeak-ng wrote WAV format {fmt_tag} with {bits}-bit samples",
                        retryable=False,
                    )
                self.sample_rate, self.num_channels = rate, channels
            pos = body + size + (size & 1)
        return b""


class EspeakTTS(tts.TTS):
    """Offline TTS: espeak-ng, 22.05 kHz mono 16-bit PCM, streaming sentence by sentence."""

    def __init__(
        self,
        *,
        voice: str = DEFAULT_VOICE,
        rate_wpm: int = DEFAULT_RATE_WPM,
        binary: str = ESPEAK_BINARY,
        sentence_tokenizer: tokenize.SentenceTokenizer | None = None,
    ) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=True),
            sample_rate=ESPEAK_SAMPLE_RATE,
            num_channels=1,
        )
        if rate_wpm <= 0:
            raise ValueError(f"rate_wpm must be positive, got {rate_wpm}")
        self._binary = find_espeak(binary)
        self._voice = voice
        self._rate_wpm = rate_wpm
        # min_sentence_len=1: a short first sentence ("Hello.") should be spoken at once, not held
        # back to be merged with the next one as the default (20 characters) would.
        self._sentence_tokenizer = sentence_tokenizer or tokenize.basic.SentenceTokenizer(min_sentence_len=1)

    @property
    def model(self) -> str:
        return self._voice

    @property
    def provider(self) -> str:
        return "espeak-ng"

    @property
    def voice(self) -> str:
        return self._voice

    @property
    def rate_wpm(self) -> int:
        return self._rate_wpm

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> EspeakChunkedStream:
        return EspeakChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> EspeakSynthesizeStream:
        return EspeakSynthesizeStream(tts=self, conn_options=conn_options)

    async def synthesize_pcm(self, text: str) -> AsyncIterator[bytes]:
        """Run one espeak-ng process on ``text`` and yield its PCM as it is written.

        The audio is resampled if espeak-ng's WAV header announces a rate other than
        :data:`ESPEAK_SAMPLE_RATE` (an mbrola voice, say), so callers always get the rate the TTS
        declared to the framework.
        """
        proc = await asyncio.create_subprocess_exec(
            self._binary,
            "--stdout",
            *espeak_arguments(self._voice, self._rate_wpm),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        # The text goes through stdin (see espeak_arguments), written from its own task so a long text
        # cannot deadlock against a full stdout pipe.
        stdin = proc.stdin

        async def _write_text() -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                stdin.write(text.replace("\r", " ").encode("utf-8") + b"\n")
                await stdin.drain()
                stdin.close()

        writer = asyncio.create_task(_write_text(), name="espeak-ng stdin")
        stderr_task = asyncio.create_task(proc.stderr.read(), name="espeak-ng stderr")
        parser = WavStreamParser()
        resampler: rtc.AudioResampler | None = None
        try:
            while chunk := await proc.stdout.read(_READ_CHUNK):
                pcm = parser.feed(chunk)
                if not pcm:
                    continue
                if parser.num_channels != 1:
                    raise APIError(
                        f"espeak-ng wrote {parser.num_channels} channels, expected 1",
                        retryable=False,
                    )
                if parser.sample_rate != ESPEAK_SAMPLE_RATE:
                    if resampler is None:
                        resampler = rtc.AudioResampler(
                            parser.sample_rate,
                            ESPEAK_SAMPLE_RATE,
                            quality=rtc.AudioResamplerQuality.HIGH,
                        )
                    frame = rtc.AudioFrame(pcm, parser.sample_rate, 1, len(pcm) // 2)
                    for out in resampler.push(frame):
                        yield out.data.tobytes()
                else:
                    yield pcm
            if resampler is not None:
                for out in resampler.flush():
                    yield out.data.tobytes()
            returncode = await proc.wait()
            await writer
            stderr = (await stderr_task).decode("utf-8", "replace").strip()
            if returncode != 0:
                raise APIError(
                    f"espeak-ng exited with status {returncode} (voice {self._voice!r}): {stderr}",
                    retryable=False,
                )
            if not parser.header_done:
                raise APIError("espeak-ng produced no audio", retryable=False)
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            await utils.aio.cancel_and_wait(writer, stderr_task)


class EspeakChunkedStream(tts.ChunkedStream):
    """Non-streaming synthesis of a whole text in one espeak-ng process (PCM still flows early)."""

    def __init__(self, *, tts: EspeakTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._espeak = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=self._espeak.sample_rate,
            num_channels=self._espeak.num_channels,
            mime_type="audio/pcm",
            frame_size_ms=_FRAME_MS,
        )
        async for pcm in self._espeak.synthesize_pcm(self.input_text):
            output_emitter.push(pcm)
        output_emitter.flush()


class EspeakSynthesizeStream(tts.SynthesizeStream):
    """Streaming synthesis: one espeak-ng process per sentence, started as soon as it is complete.

    One instance carries one segment (the framework makes a new stream per reply); flushes from the
    framework only tell the sentence tokenizer to release what it holds.
    """

    def __init__(self, *, tts: EspeakTTS, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, conn_options=conn_options)
        self._espeak = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=self._espeak.sample_rate,
            num_channels=self._espeak.num_channels,
            mime_type="audio/pcm",
            frame_size_ms=_FRAME_MS,
            stream=True,
        )
        output_emitter.start_segment(segment_id=utils.shortuuid())
        sentences = self._espeak._sentence_tokenizer.stream()

        async def _forward_input() -> None:
            async for data in self._input_ch:
                if isinstance(data, self._FlushSentinel):
                    sentences.flush()
                else:
                    sentences.push_text(data)
            sentences.end_input()

        async def _synthesize() -> None:
            async for ev in sentences:
                text = ev.token.strip()
                if not text:
                    continue
                self._mark_started()
                async for pcm in self._espeak.synthesize_pcm(text):
                    output_emitter.push(pcm)
                # emit the sentence's tail now instead of waiting for the next sentence's audio
                output_emitter.flush()

        tasks = [
            asyncio.create_task(_forward_input(), name="espeak forward input"),
            asyncio.create_task(_synthesize(), name="espeak synthesize"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            await utils.aio.cancel_and_wait(*tasks)
            await sentences.aclose()
        output_emitter.end_segment()
