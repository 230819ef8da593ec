"""Offline speech-to-text on pocketsphinx, as a streaming livekit-agents ``stt.STT``.

pocketsphinx 5's wheel ships an English acoustic model, a general language model and the CMU
dictionary, so recognition needs no download and no network. Two search modes:

* the general language model (the default): any English, recognised loosely. Fine for a person
  talking to the demo, since the responder only looks for a few keywords;
* a JSGF grammar (``grammar=``): only the listed phrases, recognised exactly. This is what tests use
  to get deterministic transcripts from synthesised speech (audio-and-terminal.md §3).

Streaming design. livekit-agents 1.8.9 feeds a streaming STT every audio frame of the call and
expects it to find utterances itself, emitting ``START_OF_SPEECH``, ``INTERIM_TRANSCRIPT``s,
``FINAL_TRANSCRIPT`` and ``END_OF_SPEECH``. This stream does its own endpointing with pocketsphinx's
WebRTC voice activity detector (30 ms frames, a short pre-roll so the first phoneme is not clipped,
an end after ``min_silence`` of non-speech). It also declares ``manual_flush``: the session then
flushes the stream when silero VAD decides the user stopped, or when a push-to-talk turn is committed,
and the stream finalises the open utterance at once instead of waiting for its own silence timer. A
flush with no open utterance answers with an empty final transcript so the session's
``commit_user_turn`` does not wait out its timeout.

Decoding runs while the user speaks: audio goes to the decoder in 100 ms blocks, and every
``interim_interval`` the current hypothesis is emitted as an interim transcript. A block costs under
2 ms with a grammar but 5-30 ms with the general model, and the final search at the end of an utterance
up to 0.4 s, so every decoder call runs in a worker thread (``run_in_executor``) rather than on the
event loop. One stream owns one decoder and awaits each call before the next, so a decoder is never
used from two threads at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import pocketsphinx
from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents._exceptions import APIError
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import AudioBuffer

__all__ = [
    "DEFAULT_LANGUAGE",
    "SAMPLE_RATE",
    "PocketsphinxOptions",
    "PocketsphinxRecognizeStream",
    "PocketsphinxSTT",
    "jsgf_from_phrases",
]

SAMPLE_RATE = 16000
"""The rate of pocketsphinx's bundled en-us acoustic model; input is resampled to it."""
DEFAULT_LANGUAGE = "en-US"

_VAD_FRAME_SECONDS = 0.03
_DECODE_BLOCK_SECONDS = 0.1
_BATCH_PADDING_SECONDS = 0.3
"""Silence added around a batch clip: the decoder's start/end silence models need some to match."""


def jsgf_from_phrases(phrases: Iterable[str], *, name: str = "phrases") -> str:
    """Build a JSGF grammar whose one public rule accepts exactly ``phrases``.

    Phrases are lower-cased and stripped of punctuation, since the grammar's words must be words of
    the pronunciation dictionary. Every word must be in pocketsphinx's CMU dictionary.
    """
    cleaned: list[str] = []
    for phrase in phrases:
        words = "".join(c if c.isalnum() or c in " '" else " " for c in phrase.lower()).split()
        if words and " ".join(words) not in cleaned:
            cleaned.append(" ".join(words))
    if not cleaned:
        raise ValueError("a grammar needs at least one non-empty phrase")
    if not name.isidentifier():
        raise ValueError(f"grammar name must be an identifier, got {name!r}")
    return f"#JSGF V1.0;\ngrammar {name};\npublic <{name}> = {' | '.join(cleaned)};\n"


@dataclass(frozen=True, slots=True)
class PocketsphinxOptions:
    """Recognition and endpointing settings (see the module docstring for the design)."""

    grammar: str | None = None
    """JSGF grammar text; ``None`` uses the general English language model."""
    language: str = DEFAULT_LANGUAGE
    vad_mode: int = 0
    """WebRTC VAD aggressiveness 0-3; 0 (loosest) misses the least quiet speech."""
    min_speech: float = 0.09
    """Consecutive speech needed to open an utterance, so a click does not."""
    min_silence: float = 0.8
    """Non-speech that closes an utterance. Longer than silero's 0.55 s default so that, in a
    session, the VAD-driven flush normally ends the utterance and this is only the fallback."""
    preroll: float = 0.3
    """Audio kept from before the utterance opened, fed to the decoder with it."""
    interim_interval: float = 0.3
    """Audio between interim transcripts."""
    max_utterance: float = 30.0
    """An utterance is finalised after this long even without silence, to bound latency and memory."""

    def __post_init__(self) -> None:
        if not 0 <= self.vad_mode <= 3:
            raise ValueError(f"vad_mode must be 0-3, got {self.vad_mode}")
        for field_name in ("min_speech", "min_silence", "interim_interval", "max_utterance"):
            if getattr(self, field_name) <= 0:
                raise ValueError(f"{field_name} must be positive")
        if self.preroll < 0:
            raise ValueError("preroll must not be negative")
        if self.grammar is not None and not self.grammar.lstrip().startswith("#JSGF"):
            raise ValueError("grammar must be JSGF text starting with '#JSGF'")
        if not self.language.lower().startswith("en"):
            raise ValueError(f"pocketsphinx's bundled model is English only, got {self.language!r}")


def _new_decoder(opts: PocketsphinxOptions) -> pocketsphinx.Decoder:
    """Build a decoder (blocking: 0.1 s with a grammar, 0.35 s loading the general model)."""
    if opts.grammar is None:
        return pocketsphinx.Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
    decoder = pocketsphinx.Decoder(samprate=SAMPLE_RATE, lm=None, loglevel="FATAL")
    try:
        decoder.add_jsgf_string("grammar", opts.grammar)
    except (ValueError, RuntimeError) as e:
        raise APIError(f"invalid JSGF grammar: {e}", retryable=False) from e
    decoder.activate_search("grammar")
    return decoder


def _hypothesis(decoder: pocketsphinx.Decoder) -> tuple[str, float]:
    hyp = decoder.hyp()
    if hyp is None:
        return "", 0.0
    return hyp.hypstr.strip(), min(1.0, max(0.0, float(hyp.prob)))


def _decode_block(
    decoder: pocketsphinx.Decoder, pcm: bytes, *, start: bool, want_hyp: bool
) -> tuple[str, float] | None:
    """Worker-thread step: optionally open an utterance, feed ``pcm``, optionally read the hyp."""
    if start:
        decoder.start_utt()
    if pcm:
        decoder.process_raw(pcm, False, False)
    return _hypothesis(decoder) if want_hyp else None


def _finish_utterance(decoder: pocketsphinx.Decoder, pcm: bytes) -> tuple[str, float]:
    """Worker-thread step: feed the last audio, close the utterance, return the final result."""
    if pcm:
        decoder.process_raw(pcm, False, False)
    decoder.end_utt()
    return _hypothesis(decoder)


def _decode_clip(decoder: pocketsphinx.Decoder, pcm: bytes) -> tuple[str, float]:
    """Worker-thread step: decode one whole clip as a single utterance."""
    decoder.start_utt()
    decoder.process_raw(pcm, False, True)
    decoder.end_utt()
    return _hypothesis(decoder)


def _to_mono_int16(frame: rtc.AudioFrame) -> bytes:
    if frame.num_channels == 1:
        return frame.data.tobytes()
    samples = np.frombuffer(frame.data, dtype=np.int16).reshape(-1, frame.num_channels)
    return samples.mean(axis=1).astype(np.int16).tobytes()


def _resample_to_16k(frames: list[rtc.AudioFrame]) -> bytes:
    if not frames:
        return b""
    rate = frames[0].sample_rate
    if rate == SAMPLE_RATE:
        return b"".join(_to_mono_int16(f) for f in frames)
    resampler = rtc.AudioResampler(rate, SAMPLE_RATE, quality=rtc.AudioResamplerQuality.HIGH)
    out: list[rtc.AudioFrame] = []
    for f in frames:
        mono = _to_mono_int16(f)
        out += resampler.push(rtc.AudioFrame(mono, rate, 1, len(mono) // 2))
    out += resampler.flush()
    return b"".join(f.data.tobytes() for f in out)


class PocketsphinxSTT(stt.STT):
    """Offline streaming STT: pocketsphinx with its own endpointing, interim and final results."""

    def __init__(
        self,
        *,
        grammar: str | None = None,
        language: str = DEFAULT_LANGUAGE,
        options: PocketsphinxOptions | None = None,
    ) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True,
                interim_results=True,
                offline_recognize=True,
                manual_flush=True,
            )
        )
        base = options or PocketsphinxOptions()
        if grammar is not None or language != DEFAULT_LANGUAGE:
            base = replace(
                base,
                grammar=grammar if grammar is not None else base.grammar,
                language=language,
            )
        self._opts = base
        # Spare decoders, only touched from the event loop's thread (or before it runs, in preload).
        self._spare: list[pocketsphinx.Decoder] = []
        self._warming: asyncio.Task[None] | None = None

    @property
    def options(self) -> PocketsphinxOptions:
        return self._opts

    @property
    def model(self) -> str:
        return "en-us/jsgf" if self._opts.grammar is not None else "en-us"

    @property
    def provider(self) -> str:
        return "pocketsphinx"

    def preload(self) -> None:
        """Build a decoder now, blocking. For a worker's prewarm step, outside any event loop."""
        self._spare.append(_new_decoder(self._opts))

    def prewarm(self) -> None:
        """Start building a decoder in a worker thread (the session calls this when it starts)."""
        if self._spare or self._warming is not None:
            return
        loop = asyncio.get_running_loop()

        async def _warm() -> None:
            self._spare.append(await loop.run_in_executor(None, _new_decoder, self._opts))

        self._warming = loop.create_task(_warm(), name="pocketsphinx prewarm")

    async def _acquire_decoder(self) -> pocketsphinx.Decoder:
        if not self._spare and self._warming is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._warming)
        if self._spare:
            return self._spare.pop()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, _new_decoder, self._opts)

    def _release_decoder(self, decoder: pocketsphinx.Decoder) -> None:
        self._spare.append(decoder)

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        frames = buffer if isinstance(buffer, list) else [buffer]
        pad = b"\x00\x00" * int(SAMPLE_RATE * _BATCH_PADDING_SECONDS)
        pcm = pad + _resample_to_16k(frames) + pad
        decoder = await self._acquire_decoder()
        loop = asyncio.get_running_loop()
        text, confidence = await loop.run_in_executor(None, _decode_clip, decoder, pcm)
        self._release_decoder(decoder)
        lang = language if utils.is_given(language) else self._opts.language
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=utils.shortuuid(),
            alternatives=[stt.SpeechData(language=lang, text=text, confidence=confidence)],
        )

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> PocketsphinxRecognizeStream:
        opts = self._opts
        if utils.is_given(language) and language != opts.language:
            opts = replace(opts, language=language)
        return PocketsphinxRecognizeStream(stt=self, opts=opts, conn_options=conn_options)

    async def aclose(self) -> None:
        if self._warming is not None:
            await utils.aio.cancel_and_wait(self._warming)
        self._spare.clear()


class PocketsphinxRecognizeStream(stt.RecognizeStream):
    """One continuous audio stream: endpointing, incremental decoding, interim and final events."""

    def __init__(
        self, *, stt: PocketsphinxSTT, opts: PocketsphinxOptions, conn_options: APIConnectOptions
    ) -> None:
        super().__init__(stt=stt, conn_options=conn_options, sample_rate=SAMPLE_RATE)
        self._ps_stt = stt
        self._opts = opts
        self._vad = pocketsphinx.Vad(opts.vad_mode, SAMPLE_RATE, _VAD_FRAME_SECONDS)
        self._vad_frame_bytes: int = self._vad.frame_bytes
        frame_seconds = self._vad_frame_bytes / 2 / SAMPLE_RATE
        self._start_frames = max(1, round(opts.min_speech / frame_seconds))
        self._end_frames = max(1, round(opts.min_silence / frame_seconds))
        self._preroll: deque[bytes] = deque(maxlen=max(1, round(opts.preroll / frame_seconds)))
        self._block_bytes = 2 * int(SAMPLE_RATE * _DECODE_BLOCK_SECONDS)
        self._interim_bytes = 2 * int(SAMPLE_RATE * opts.interim_interval)
        self._max_utt_bytes = 2 * int(SAMPLE_RATE * opts.max_utterance)

        self._decoder: pocketsphinx.Decoder | None = None
        self._decoder_busy = False
        self._in_utterance = False
        self._utt_started = False  # start_utt sent to the decoder
        self._request_id = ""
        self._pending = bytearray()  # utterance audio not yet given to the decoder
        self._unclassified = bytearray()  # audio not yet cut into VAD frames
        self._speech_run = 0
        self._silence_run = 0
        self._utt_bytes = 0
        self._since_interim = 0
        self._last_interim = ""
        self._stream_bytes = 0  # 16 kHz audio consumed, for event timestamps
        self._utt_start_bytes = 0

    def push_frame(self, frame: rtc.AudioFrame) -> None:
        """Downmix to mono first: the base class's resampler is built for one channel."""
        if frame.num_channels != 1:
            mono = _to_mono_int16(frame)
            frame = rtc.AudioFrame(mono, frame.sample_rate, 1, len(mono) // 2)
        super().push_frame(frame)

    def _now_audio(self) -> float:
        return self.start_time_offset + self._stream_bytes / 2 / SAMPLE_RATE

    async def _run(self) -> None:
        self._decoder = await self._ps_stt._acquire_decoder()
        try:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    await self._flush()
                    continue
                self._unclassified += _to_mono_int16(item)
                await self._consume()
            # end_input() sends a flush before closing, so any utterance is already final here
        finally:
            if not self._decoder_busy and not self._in_utterance:
                self._ps_stt._release_decoder(self._decoder)
            self._decoder = None

    async def _consume(self) -> None:
        fb = self._vad_frame_bytes
        while len(self._unclassified) >= fb:
            frame = bytes(self._unclassified[:fb])
            del self._unclassified[:fb]
            self._stream_bytes += fb
            speech = self._vad.is_speech(frame)
            if not self._in_utterance:
                self._preroll.append(frame)
                self._speech_run = self._speech_run + 1 if speech else 0
                if self._speech_run >= self._start_frames:
                    self._open_utterance()
                continue
            self._pending += frame
            self._utt_bytes += fb
            self._silence_run = 0 if speech else self._silence_run + 1
            if self._silence_run >= self._end_frames or self._utt_bytes >= self._max_utt_bytes:
                await self._close_utterance()
            elif len(self._pending) >= self._block_bytes:
                await self._decode_pending()

    def _open_utterance(self) -> None:
        self._in_utterance = True
        self._utt_started = False
        self._request_id = utils.shortuuid()
        preroll = b"".join(self._preroll)
        self._preroll.clear()
        self._pending = bytearray(preroll)
        self._utt_bytes = len(preroll)
        self._utt_start_bytes = self._stream_bytes - len(preroll)
        self._since_interim = 0
        self._last_interim = ""
        self._silence_run = 0
        self._speech_run = 0
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.START_OF_SPEECH,
                request_id=self._request_id,
                speech_start_time=time.time() - len(preroll) / 2 / SAMPLE_RATE,
            )
        )

    async def _decode_pending(self) -> None:
        decoder = self._decoder
        assert decoder is not None
        pcm = bytes(self._pending)
        self._pending.clear()
        self._since_interim += len(pcm)
        want_hyp = self._since_interim >= self._interim_bytes
        start = not self._utt_started
        self._utt_started = True
        loop = asyncio.get_running_loop()
        self._decoder_busy = True
        result = await loop.run_in_executor(
            None, lambda: _decode_block(decoder, pcm, start=start, want_hyp=want_hyp)
        )
        self._decoder_busy = False
        if result is None:
            return
        self._since_interim = 0
        text, confidence = result
        if text and text != self._last_interim:
            self._last_interim = text
            self._event_ch.send_nowait(
                stt.SpeechEvent(
                    type=stt.SpeechEventType.INTERIM_TRANSCRIPT,
                    request_id=self._request_id,
                    alternatives=[self._speech_data(text, confidence)],
                )
            )

    async def _close_utterance(self) -> None:
        decoder = self._decoder
        assert decoder is not None
        pcm = bytes(self._pending)
        self._pending.clear()
        start = not self._utt_started
        loop = asyncio.get_running_loop()

        def _finish() -> tuple[str, float]:
            if start:
                decoder.start_utt()
            return _finish_utterance(decoder, pcm)

        self._decoder_busy = True
        text, confidence = await loop.run_in_executor(None, _finish)
        self._decoder_busy = False
        self._in_utterance = False
        self._utt_started = False
        self._speech_run = 0
        self._silence_run = 0
        duration = self._utt_bytes / 2 / SAMPLE_RATE
        self._utt_bytes = 0
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                request_id=self._request_id,
                alternatives=[self._speech_data(text, confidence)],
            )
        )
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.END_OF_SPEECH,
                request_id=self._request_id,
                speech_end_time=time.time(),
            )
        )
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.RECOGNITION_USAGE,
                request_id=self._request_id,
                recognition_usage=stt.RecognitionUsage(audio_duration=duration),
            )
        )

    async def _flush(self) -> None:
        """Finalise the open utterance now; with none open, acknowledge with an empty final."""
        # audio shorter than one VAD frame is too short to matter; drop it with the flush
        self._unclassified.clear()
        if self._in_utterance:
            await self._close_utterance()
            return
        self._preroll.clear()
        self._speech_run = 0
        self._utt_start_bytes = self._stream_bytes
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                request_id=utils.shortuuid(),
                alternatives=[self._speech_data("", 0.0)],
            )
        )

    def _speech_data(self, text: str, confidence: float) -> stt.SpeechData:
        return stt.SpeechData(
            language=self._opts.language,
            text=text,
            confidence=confidence,
            start_time=self.start_time_offset + self._utt_start_bytes / 2 / SAMPLE_RATE,
            end_time=self._now_audio(),
        )
