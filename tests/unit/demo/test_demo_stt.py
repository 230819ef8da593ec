"""PocketsphinxSTT on its own, fed with speech espeak-ng synthesises at test time."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from livekit import rtc
from livekit.agents import stt
from livekit.agents._exceptions import APIError

from agent_tui.demo.speech import recognize, synthesize
from agent_tui.demo.stt_pocketsphinx import (
    PocketsphinxOptions,
    PocketsphinxSTT,
    jsgf_from_phrases,
)
from agent_tui.demo.tts_espeak import ESPEAK_MISSING_MESSAGE

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None and os.environ.get("CI") != "true",
    reason=ESPEAK_MISSING_MESSAGE,
)

PHRASES = [
    "hello what time is it",
    "what is the weather like today",
    "goodbye",
    "the time is twelve thirty four",
]
GRAMMAR = jsgf_from_phrases(PHRASES, name="fixtures")
EventType = stt.SpeechEventType


def _frames(audio: rtc.AudioFrame, *, chunk_ms: int = 20) -> list[rtc.AudioFrame]:
    channels = audio.num_channels
    n = audio.sample_rate * chunk_ms // 1000 * channels
    data = np.frombuffer(audio.data, dtype=np.int16)
    return [
        rtc.AudioFrame(
            data[i : i + n].tobytes(), audio.sample_rate, channels, len(data[i : i + n]) // channels
        )
        for i in range(0, len(data), n)
    ]


def _silence(seconds: float, rate: int, channels: int = 1) -> rtc.AudioFrame:
    n = int(rate * seconds)
    return rtc.AudioFrame(b"\x00\x00" * n * channels, rate, channels, n)


def _to_48k_stereo(audio: rtc.AudioFrame) -> rtc.AudioFrame:
    resampler = rtc.AudioResampler(audio.sample_rate, 48000)
    mono = np.concatenate(
        [np.frombuffer(f.data, dtype=np.int16) for f in resampler.push(audio) + resampler.flush()]
    )
    stereo = np.repeat(mono, 2)
    return rtc.AudioFrame(stereo.tobytes(), 48000, 2, len(mono))


async def _stream_events(recognizer: PocketsphinxSTT, frames: list[rtc.AudioFrame]) -> list[stt.SpeechEvent]:
    stream = recognizer.stream()
    try:
        for frame in frames:
            stream.push_frame(frame)
        stream.end_input()
        return [ev async for ev in stream]
    finally:
        await stream.aclose()


def test_grammar_builder() -> None:
    assert jsgf_from_phrases(["Hello, World!", "hello world", "bye"], name="g") == (
        "#JSGF V1.0;\ngrammar g;\npublic <g> = hello world | bye;\n"
    )
    with pytest.raises(ValueError):
        jsgf_from_phrases(["", "  "])
    with pytest.raises(ValueError):
        PocketsphinxOptions(grammar="not jsgf")
    with pytest.raises(ValueError):
        PocketsphinxOptions(language="fr-FR")


@pytest.mark.timeout(30)
async def test_streaming_interims_then_exact_final() -> None:
    question = await synthesize("hello what time is it")
    frames = [_silence(0.5, question.sample_rate), *_frames(question)]
    frames.append(_silence(1.2, question.sample_rate))  # longer than min_silence: own endpointing
    events = await _stream_events(PocketsphinxSTT(grammar=GRAMMAR), frames)

    kinds = [ev.type for ev in events]
    assert kinds[0] is EventType.START_OF_SPEECH
    finals = [ev for ev in events if ev.type is EventType.FINAL_TRANSCRIPT]
    interims = [ev for ev in events if ev.type is EventType.INTERIM_TRANSCRIPT]
    assert finals[0].alternatives[0].text == "hello what time is it"
    assert interims, "interim results must appear while the user speaks"
    assert kinds.index(EventType.INTERIM_TRANSCRIPT) < kinds.index(EventType.FINAL_TRANSCRIPT)
    # the last interim, heard before the trailing silence, is already (a prefix of) the final
    assert "hello what time is it".startswith(interims[-1].alternatives[0].text)
    # the utterance was closed by silence, before end_input's flush (which adds an empty final)
    end = kinds.index(EventType.END_OF_SPEECH)
    assert kinds.index(EventType.FINAL_TRANSCRIPT) < end
    assert [ev.alternatives[0].text for ev in finals[1:]] == [""]
    usage = [ev for ev in events if ev.type is EventType.RECOGNITION_USAGE]
    assert usage and usage[0].recognition_usage is not None
    assert 1.0 < usage[0].recognition_usage.audio_duration < 4.0
    final = finals[0].alternatives[0]
    assert 0.0 <= final.start_time < final.end_time


@pytest.mark.timeout(30)
async def test_flush_finalises_without_waiting_for_silence() -> None:
    question = await synthesize("what is the weather like today")
    stream = PocketsphinxSTT(grammar=GRAMMAR).stream()
    try:
        for frame in [_silence(0.3, question.sample_rate), *_frames(question)]:
            stream.push_frame(frame)
        stream.flush()  # as the session does on VAD end of speech or a committed PTT turn
        events: list[stt.SpeechEvent] = []
        async for ev in stream:
            events.append(ev)
            if ev.type is EventType.FINAL_TRANSCRIPT:
                break
    finally:
        await stream.aclose()
    assert events[-1].alternatives[0].text == "what is the weather like today"


@pytest.mark.timeout(30)
async def test_48k_stereo_input_is_resampled_and_downmixed() -> None:
    question = _to_48k_stereo(await synthesize("goodbye"))
    frames = [_silence(0.3, 48000, 2), *_frames(question), _silence(1.0, 48000, 2)]
    events = await _stream_events(PocketsphinxSTT(grammar=GRAMMAR), frames)
    finals = [ev.alternatives[0].text for ev in events if ev.type is EventType.FINAL_TRANSCRIPT]
    assert finals[0] == "goodbye"


@pytest.mark.timeout(30)
async def test_silence_gives_no_speech_and_flush_gives_empty_final() -> None:
    events = await _stream_events(PocketsphinxSTT(grammar=GRAMMAR), [_silence(1.0, 16000)])
    assert [ev.type for ev in events] == [EventType.FINAL_TRANSCRIPT]
    assert events[0].alternatives[0].text == ""


@pytest.mark.timeout(30)
async def test_batch_recognition_with_grammar() -> None:
    for phrase in PHRASES:
        audio = await synthesize(phrase)
        assert await recognize(audio, PHRASES) == phrase
    # a sentence outside the grammar is not forced onto one of its phrases
    assert await recognize(await synthesize("please tell me a joke"), PHRASES) == ""


@pytest.mark.timeout(30)
async def test_general_model_hears_the_time_question() -> None:
    # the general model is loose, but the words the responder keys on come through
    heard = await recognize(await synthesize("what time is it"))
    assert "time is it" in heard


@pytest.mark.timeout(30)
async def test_grammar_with_unknown_word_fails_clearly() -> None:
    recognizer = PocketsphinxSTT(grammar=jsgf_from_phrases(["zzqxj blorft"]))
    with pytest.raises(APIError, match="JSGF"):
        await recognizer.recognize(_silence(0.5, 16000))
