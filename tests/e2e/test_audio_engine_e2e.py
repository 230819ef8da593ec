"""The audio engine end to end: Session + engine ↔ a server ↔ real rtc participants (tests/netns/run).

- WAV in → an echo participant → WAV out: the returned audio matches what was sent, 50 ms piece by
  piece; the round-trip latency is printed (never asserted; speed targets belong to the benchmark).
- Push-to-talk calls the turn RPCs on an agent that registered them, and falls back to the gate on one
  that did not (the real SDK's RpcError 1400).
- The pre-connect buffer reaches livekit-agents' own ``PreConnectAudioHandler``, the code a real agent runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc

from agent_tui.audio.controls import MicMode
from agent_tui.audio.engine import AudioEngine
from agent_tui.audio.session_bridge import SessionAudioBridge
from agent_tui.audio.settings import AudioSettings
from agent_tui.audio.wav_io import read_wav
from agent_tui.session import LiteralTokenSource
from agent_tui.session.options import SessionOptions
from agent_tui.session.session import Session
from tests.e2e.e2e_harness import Connector, LiveServer
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

RATE = 48000


def chirp(seconds: float, low: float = 300.0, high: float = 3000.0, amplitude: float = 0.3) -> np.ndarray:
    """A sweep: its autocorrelation has one sharp peak, so the echo's lag is unambiguous."""
    t = np.arange(round(seconds * RATE)) / RATE
    phase = 2 * np.pi * (low * t + (high - low) * t**2 / (2 * seconds))
    return np.round(amplitude * 32767 * np.sin(phase)).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.astype("<i2").tobytes())
    return path


def best_alignment(sent: np.ndarray, received: np.ndarray) -> tuple[int, float]:
    """(lag in samples of ``sent`` inside ``received``, normalised correlation at that lag)."""
    a = sent.astype(np.float64)
    b = received.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    correlation = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)[
        : len(b) - len(a) + 1
    ]
    lag = int(np.argmax(correlation))
    window = b[lag : lag + len(a)]
    score = float(np.dot(a, window) / (np.linalg.norm(a) * np.linalg.norm(window) + 1e-9))
    return lag, score


def segment_scores(
    sent: np.ndarray, received: np.ndarray, lag: int, *, segment_s: float = 0.05, slack_s: float = 0.12
) -> list[float]:
    """Each ``segment_s`` piece of ``sent``: its best normalised correlation near where the last one was.

    One number for the whole sweep drops to nothing when the path loses a packet or a jitter buffer
    stretches time once (everything after is shifted). Piece by piece, each looked for within ``slack_s``
    of where the piece before it was found, a torn echo shows as a few bad pieces around each tear, and
    an echo that is not the sweep as bad pieces everywhere.
    """
    size, slack = round(segment_s * RATE), round(slack_s * RATE)
    as_float = received.astype(np.float64)
    scores = []
    for start in range(0, len(sent) - size + 1, size):
        piece = sent[start : start + size].astype(np.float64)
        first = max(0, lag + start - slack)
        around = as_float[first : lag + start + size + slack]
        if len(around) < size:
            scores.append(0.0)
            continue
        windows = np.lib.stride_tricks.sliding_window_view(around, size)
        correlation = windows @ piece / (np.linalg.norm(windows, axis=1) * np.linalg.norm(piece) + 1e-9)
        best = int(np.argmax(correlation))
        scores.append(float(correlation[best]))
        if correlation[best] > 0.8:  # follow the echo's timeline only where it was really found
            lag = first + best - start
    return scores


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


class Echo:
    """A participant that plays back whatever the user publishes, on its own track, with no queue."""

    def __init__(self, room: rtc.Room) -> None:
        self.room = room
        self.source = rtc.AudioSource(RATE, 1, queue_size_ms=0)
        self.track = rtc.LocalAudioTrack.create_audio_track("echo", self.source)
        self._tasks: list[asyncio.Task[None]] = []
        room.on("track_subscribed", self._on_subscribed)

    async def publish(self) -> None:
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(self.track, options)

    def _on_subscribed(self, track: rtc.Track, *_: object) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            self._tasks.append(asyncio.get_running_loop().create_task(self._relay(track)))

    async def _relay(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1)
        try:
            async for event in stream:
                await self.source.capture_frame(event.frame)
        finally:
            await stream.aclose()

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.source.aclose()


@pytest.fixture
async def user_session(server: LiveServer) -> AsyncIterator[object]:
    """Builds (engine, session) pairs for the user and ends them after the test."""
    made: list[tuple[AudioEngine, Session, SessionAudioBridge]] = []

    async def build(settings: AudioSettings, identity: str = "user") -> tuple[AudioEngine, Session]:
        engine = AudioEngine(settings)
        await engine.start()
        tokens = LiteralTokenSource(server.url, server.token(identity))
        session = Session(
            tokens,
            SessionOptions(participant_identity=identity),
            microphone=engine.source,
            preconnect_buffer=engine.preconnect_enabled,
        )
        bridge = SessionAudioBridge(engine, session)
        bridge.attach()
        made.append((engine, session, bridge))
        return engine, session

    yield build
    for engine, session, bridge in made:
        await session.end()
        await bridge.aclose()
        await engine.aclose()


# livekit-server only. Scored as one number for the whole sweep, this test failed there in 2 of 5 runs
# (correlation 0.54-0.58): the echo was all there, but a jitter buffer had stretched time once or twice.
# Scored piece by piece along the echo's own timeline, every piece matched in 6 of 6 runs, two busy loops
# on the 2 cores included. The dev server's relay (aiortc, in this test's process) is another matter:
# with the machine busy it loses whole stretches of the sweep (a CI run: 0.308; here 45% of the pieces,
# the worst at 0.01), which says nothing about the engine; the dev server's audio has its own tests.
@pytest.mark.servers("livekit")
async def test_wav_through_an_echo_participant_comes_back(
    tmp_path: Path, connect: Connector, user_session: object
) -> None:
    sent = chirp(1.0)
    # The echo says it listens (lk.agent.state) like an agent would; a leading second of silence keeps the
    # sweep clear of the moment the echo's subscription becomes active.
    lead = np.zeros(RATE, dtype=np.int16)
    echo = Echo(await connect("echo", kind="agent", attributes={"lk.agent.state": "listening"}))
    await echo.publish()
    settings = AudioSettings(
        input_wav=write_wav(tmp_path / "in.wav", np.concatenate([lead, sent])),
        output_wav=tmp_path / "out.wav",
        preconnect_buffer=False,
    )
    engine, session = await user_session(settings)  # type: ignore[operator]
    try:
        await session.start()
        await asyncio.wait_for(engine.wait_input_done(), 20)  # starts once the echo subscribes
        await wait_until(lambda: engine.output_level().peak_db > -20.0, what="the echo's audio")
        await asyncio.sleep(1.0)
        started, input_started = engine.started_at, engine.input_started_at
    finally:
        await session.end()
        await engine.aclose()
        await echo.aclose()
    assert input_started is not None
    received, rate = read_wav(tmp_path / "out.wav")
    assert rate == RATE and len(received) > len(sent)
    lag, score = best_alignment(sent, received)
    round_trip_ms = (started + lag / RATE - (input_started + len(lead) / RATE)) * 1000.0
    pieces = segment_scores(sent, received, lag)
    matched = sum(piece > 0.8 for piece in pieces) / len(pieces)
    print(
        f"\necho round trip: {round_trip_ms:.1f} ms (whole-sweep correlation {score:.3f}, "
        f"{matched:.0%} of 50 ms pieces above 0.8, worst {min(pieces):.2f})"
    )
    assert matched >= 0.8, (
        f"the echo does not match what was sent: {matched:.0%} of its 50 ms pieces correlate above 0.8 "
        f"(whole-sweep correlation {score:.3f})"
    )


async def test_push_to_talk_calls_the_agents_turn_rpcs(
    tmp_path: Path, connect: Connector, user_session: object
) -> None:
    agent = await connect("ptt-agent", kind="agent", attributes={"push-to-talk": "1"})
    calls: list[tuple[str, str]] = []

    def handler(method: str) -> object:
        async def handle(data: rtc.RpcInvocationData) -> str:
            calls.append((method, data.caller_identity))
            return ""

        return handle

    for method in ("start_turn", "end_turn", "cancel_turn"):
        agent.local_participant.register_rpc_method(method, handler(method))  # type: ignore[arg-type]
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(4800, dtype=np.int16))
    settings = AudioSettings(
        input_wav=quiet, output_wav=tmp_path / "out.wav", mode=MicMode.PUSH_TO_TALK, preconnect_buffer=False
    )
    engine, session = await user_session(settings)  # type: ignore[operator]
    await session.start()
    await wait_until(lambda: session.agent.identity == "ptt-agent", what="the agent")
    assert engine.status.turn_rpcs is True
    await engine.talk_start()
    assert engine.status.talking
    await engine.talk_end()
    await engine.talk_start()
    await engine.talk_cancel()
    assert calls == [
        ("start_turn", "user"),
        ("end_turn", "user"),
        ("start_turn", "user"),
        ("cancel_turn", "user"),
    ]


async def test_push_to_talk_without_turn_rpcs_falls_back_to_the_gate(
    tmp_path: Path, connect: Connector, user_session: object
) -> None:
    await connect("plain-agent", kind="agent")
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(4800, dtype=np.int16))
    settings = AudioSettings(
        input_wav=quiet, output_wav=tmp_path / "out.wav", mode=MicMode.PUSH_TO_TALK, preconnect_buffer=False
    )
    engine, session = await user_session(settings)  # type: ignore[operator]
    await session.start()
    await wait_until(lambda: session.agent.identity == "plain-agent", what="the agent")
    assert engine.status.turn_rpcs is None
    await engine.talk_start()  # the real SDK answers 1400: method not supported
    assert engine.status.talking and engine.status.turn_rpcs is False
    await engine.talk_end()
    assert not engine.status.talking


async def test_preconnect_buffer_reaches_the_livekit_agents_handler(
    tmp_path: Path, connect: Connector, user_session: object
) -> None:
    from livekit.agents.voice.room_io._pre_connect_audio import PreConnectAudioHandler
    from livekit.rtc._proto.track_pb2 import AudioTrackFeature

    spoken = np.round(0.3 * 32767 * np.sin(2 * np.pi * 1000 * np.arange(int(0.8 * RATE)) / RATE)).astype(
        np.int16
    )
    settings = AudioSettings(
        input_wav=write_wav(tmp_path / "in.wav", spoken),
        input_wav_start="immediately",
        output_wav=tmp_path / "out.wav",
    )
    engine, session = await user_session(settings)  # type: ignore[operator]
    assert engine.preconnect_enabled
    await session.start()
    # The user speaks while no agent is in the room yet.
    await asyncio.wait_for(engine.wait_input_done(), 10)

    agent_room = rtc.Room()
    handler = PreConnectAudioHandler(agent_room, timeout=5.0)
    handler.register()  # before connecting, as livekit-agents' RoomIO does
    received: asyncio.Future[tuple[list[rtc.AudioFrame], bool]] = asyncio.get_running_loop().create_future()

    async def collect(publication: rtc.RemoteTrackPublication) -> None:
        flagged = AudioTrackFeature.TF_PRECONNECT_BUFFER in publication.audio_features
        try:
            frames = await handler.wait_for_data(publication.sid)
        except Exception as error:
            received.set_exception(error)
            return
        received.set_result((frames, flagged))

    def on_subscribed(track: rtc.Track, publication: rtc.RemoteTrackPublication, *_: object) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and not received.done():
            asyncio.get_running_loop().create_task(collect(publication))

    agent_room.on("track_subscribed", on_subscribed)
    await connect("agent-1", kind="agent", room=agent_room, attributes={"lk.agent.state": "listening"})
    try:
        frames, flagged = await asyncio.wait_for(received, 20)
    finally:
        await handler.aclose()
    assert flagged, "the microphone was not published with TF_PRECONNECT_BUFFER"
    assert frames, "the agent got no pre-connect audio"
    rate = frames[0].sample_rate
    audio = np.concatenate([np.frombuffer(frame.data, dtype=np.int16) for frame in frames])
    loud = np.nonzero(np.abs(audio) > 2000)[0]
    assert len(loud) and (loud[-1] - loud[0]) / rate >= 0.75, "the user's first words were cut"
    assert dominant_hz(audio[loud[0] : loud[-1]], rate) == pytest.approx(1000, abs=5)
    stats = engine.stats()
    assert stats.preconnect_sent_s is not None
    print(f"\npre-connect buffer: {stats.preconnect_sent_s:.2f} s sent at {rate} Hz")
