"""End-to-end encryption through real servers (tests/netns/run).

- livekit-server (which forwards RTP untouched): our Session with a shared key publishes a 440 Hz tone as
  its microphone; an agent-side ``rtc.Room`` with the same key publishes 880 Hz back. Each decodes the
  other's tone (RMS and dominant frequency of what it received: undecryptable frames play as silence),
  both publications are marked encrypted, and the Session reports the agent's encryption state as ok. A
  third participant with another key is reported through the Session's state and an EncryptionError, and
  a Session with no key is told the agent's media is encrypted.
- the dev server (which decodes media to relay it): an encrypted microphone is refused, and the Session's
  start fails with the reason (EncryptionRefusedError) rather than the SDK's bare publish timeout, and
  ``agent-tui --e2ee-key-file`` ends there with exit 4 and that one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from livekit import rtc

from agent_tui.devserver.publish_rules import ENCRYPTED
from agent_tui.session import (
    EncryptionError,
    EncryptionOptions,
    EncryptionRefusedError,
    EncryptionState,
    EncryptionStateChanged,
    LiteralTokenSource,
    Session,
    SessionEvent,
    SessionOptions,
)
from tests.e2e.e2e_audio import (
    IDEAL_RMS,
    SAMPLE_RATE,
    AudioRecorder,
    TonePublisher,
    dominant_frequency,
    feed_tone,
    rms,
)
from tests.e2e.e2e_harness import Connector, LiveServer
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

USER_HZ = 440.0
AGENT_HZ = 880.0
INTRUDER_HZ = 660.0
#: Half a second of a decoded tone is well above this; what cannot be decrypted plays as (near) silence.
HEARD_RMS = IDEAL_RMS / 4


class Microphone:
    """A 48 kHz source fed a tone in real time: what the Session publishes as its microphone."""

    def __init__(self, frequency: float) -> None:
        self.source = rtc.AudioSource(SAMPLE_RATE, 1)
        self._task = asyncio.create_task(feed_tone(self.source, frequency))

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.source.aclose()


@pytest.fixture
async def microphone() -> AsyncIterator[Microphone]:
    mic = Microphone(USER_HZ)
    yield mic
    await mic.aclose()


def encrypted_session(server: LiveServer, microphone: Microphone, key: bytes) -> Session:
    return Session(
        LiteralTokenSource(server.url, server.token("user")),
        SessionOptions(participant_identity="user", encryption=EncryptionOptions(shared_key=key)),
        microphone=microphone.source,
        preconnect_buffer=False,
    )


def encrypted_room(key: bytes) -> rtc.RoomOptions:
    return rtc.RoomOptions(encryption=EncryptionOptions(shared_key=key).to_rtc())


def record_audio_of(room: rtc.Room, identity: str) -> Callable[[], AudioRecorder | None]:
    """Starts recording ``identity``'s audio in ``room`` once subscribed; returns the recorder's getter."""
    recorders: list[AudioRecorder] = []

    def on_subscribed(
        track: rtc.Track, _: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if participant.identity == identity and track.kind == rtc.TrackKind.KIND_AUDIO and not recorders:
            recorders.append(AudioRecorder(track))

    room.on("track_subscribed", on_subscribed)
    return lambda: recorders[0] if recorders else None


def hears(recorder: AudioRecorder | None, frequency: float) -> bool:
    """Whether the last half second ``recorder`` got is the tone of ``frequency``, decoded."""
    if recorder is None or recorder.received_seconds() < 0.5:
        return False
    samples = recorder.last_seconds(0.5)
    return rms(samples) > HEARD_RMS and abs(dominant_frequency(samples) - frequency) < 20.0


@pytest.mark.servers("livekit")
async def test_encrypted_user_and_agent_hear_each_other_and_a_wrong_key_is_reported(
    server: LiveServer, connect: Connector, microphone: Microphone
) -> None:
    key = secrets.token_bytes(32)
    agent = await connect(
        "agent-1", kind="agent", options=encrypted_room(key), attributes={"lk.agent.state": "listening"}
    )
    agent_heard = record_audio_of(agent, "user")
    agent_voice = TonePublisher(agent, AGENT_HZ)
    await agent_voice.start()
    session = encrypted_session(server, microphone, key)
    events: list[SessionEvent] = []
    session.events.subscribe(events.append)
    user_heard: AudioRecorder | None = None
    try:
        await session.start()
        await wait_until(lambda: session.agent_audio_track is not None, what="the agent's track at the user")
        assert session.agent_audio_track is not None
        user_heard = AudioRecorder(session.agent_audio_track)
        await wait_until(
            lambda: hears(user_heard, AGENT_HZ), what="the agent's 880 Hz decrypted", within_s=20
        )
        await wait_until(
            lambda: hears(agent_heard(), USER_HZ), what="the user's 440 Hz decrypted", within_s=20
        )
        await wait_until(
            lambda: (
                session.encryption_states.get("agent-1")
                in (EncryptionState.OK, EncryptionState.KEY_RATCHETED)
            ),
            what="the agent's encryption state ok at the user",
        )
        user_publication = agent.remote_participants["user"].track_publications
        assert [p.encryption_type for p in user_publication.values()] == [rtc.EncryptionType.GCM]
        agent_publication = session.agent_participant
        assert agent_publication is not None
        assert [p.encryption_type for p in agent_publication.track_publications.values()] == [
            rtc.EncryptionType.GCM
        ]
        assert not [e for e in events if isinstance(e, EncryptionError)]

        intruder = await connect("intruder", options=encrypted_room(b"not the shared key"))
        intruder_voice = TonePublisher(intruder, INTRUDER_HZ)
        await intruder_voice.start()
        try:
            await wait_until(
                lambda: any(isinstance(e, EncryptionError) and e.identity == "intruder" for e in events),
                what="an EncryptionError for the participant with the wrong key",
                within_s=20,
            )
        finally:
            await intruder_voice.stop()
        error = next(e for e in events if isinstance(e, EncryptionError) and e.identity == "intruder")
        assert error.state.is_failure
        assert "intruder" in error.message and "same shared key" in error.message
        assert session.encryption_states["intruder"].is_failure
        assert any(
            isinstance(e, EncryptionStateChanged) and e.identity == "intruder" and e.state is error.state
            for e in events
        )
        # The agent, with the right key, is still heard and was never reported.
        await wait_until(lambda: hears(user_heard, AGENT_HZ), what="the agent's 880 Hz still decrypted")
        assert not [e for e in events if isinstance(e, EncryptionError) and e.identity != "intruder"]
    finally:
        if user_heard is not None:
            await user_heard.close()
        recorder = agent_heard()
        if recorder is not None:
            await recorder.close()
        await session.end()
        await agent_voice.stop()


@pytest.mark.servers("livekit")
async def test_a_session_without_a_key_is_told_the_agent_is_encrypted(
    server: LiveServer, connect: Connector
) -> None:
    agent = await connect("agent-1", kind="agent", options=encrypted_room(secrets.token_bytes(32)))
    agent_voice = TonePublisher(agent, AGENT_HZ)
    await agent_voice.start()
    session = Session(
        LiteralTokenSource(server.url, server.token("user")), SessionOptions(participant_identity="user")
    )
    errors: list[EncryptionError] = []
    session.events.subscribe(
        lambda event: errors.append(event) if isinstance(event, EncryptionError) else None
    )
    try:
        await session.start()
        await wait_until(lambda: bool(errors), what="an EncryptionError for the encrypted agent")
        assert not session.encryption_enabled
        assert [(e.identity, e.state) for e in errors] == [("agent-1", EncryptionState.MISSING_KEY)]
        assert "no key" in errors[0].message
    finally:
        await session.end()
        await agent_voice.stop()


async def test_the_dev_server_refuses_an_encrypted_microphone_with_the_reason(
    dev_server: object, server: LiveServer, microphone: Microphone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agent_tui.devserver")
    session = encrypted_session(server, microphone, secrets.token_bytes(32))
    with pytest.raises(EncryptionRefusedError) as refused:
        await asyncio.wait_for(session.start(), timeout=30)
    assert "end-to-end encrypted" in str(refused.value) and "livekit-server" in str(refused.value)
    assert f"refusing track 'microphone' from user: {ENCRYPTED}" in caplog.text
    assert session.error is refused.value


async def test_agent_tui_with_a_key_file_on_the_dev_server_exits_4_saying_to_use_livekit_server(
    dev_server: object, server: LiveServer, tmp_path: Path
) -> None:
    key = tmp_path / "e2ee.key"
    key.write_bytes(secrets.token_bytes(32))
    question = tmp_path / "in.wav"
    with wave.open(str(question), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(bytes(SAMPLE_RATE // 5))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env.update(
        LIVEKIT_API_KEY=server.api_key, LIVEKIT_API_SECRET=server.api_secret, AGENT_TUI_CONFIG="/dev/null"
    )
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("agent-tui")), "--no-ui", "--url", server.url,
        "--e2ee-key-file", str(key), "--input-wav", str(question), "--output-wav", str(tmp_path / "out.wav"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 4, err.decode()
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert len(lines) == 1 and "end-to-end encrypted microphone track" in lines[0], lines
    assert "livekit-server" in lines[0]
