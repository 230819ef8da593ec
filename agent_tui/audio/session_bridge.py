"""Where the audio engine meets the Session: everything the engine hears from it or tells it.

The :class:`~.engine.AudioEngine` moves audio between devices (or WAVs) and tracks and knows nothing of the
Session; :class:`SessionAudioBridge` holds both and is the only place they touch, so the engine can be
tested, benchmarked and reasoned about as a pure audio pipeline, and the Session never learns of devices.

From the session to the engine: the agent's audio track to play; flushing what is queued when the agent
is interrupted or text mode starts; who the agent is and whether it has the push-to-talk turn RPCs; when the
published microphone gets a listener (the WAV input starts, the pre-connect buffer is sent).

From the engine to the session: mute (also applied to a track published after the user muted) and
push-to-talk; every frame sent and played, for the voice-latency meter; the turn RPCs
(:mod:`.push_to_talk`); the pre-connect buffer once the agent listens (:mod:`.preconnect`); the engine's
warnings, as ``SessionWarning`` on the session's bus.

Use, where the session is set up (:mod:`agent_tui.wiring.session`)::

    await engine.start()                       # the session publishes engine.source, so it exists first
    session = Session(..., microphone=engine.source, preconnect_buffer=engine.preconnect_enabled)
    bridge = SessionAudioBridge(engine, session)
    bridge.attach()                            # before session.start(), on the event loop
    ...
    await bridge.aclose()                      # before engine.aclose()

Everything here runs on the event loop; nothing blocks it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent_tui.session import (
    AgentAttributesChanged,
    AgentAudioTrackChanged,
    AgentJoined,
    AgentState,
    AgentStateChanged,
    ConnectionState,
    ConnectionStateChanged,
    RpcCallError,
    SessionError,
    SessionEvent,
    SessionWarning,
    TextModeChanged,
)

from .controls import MicMode
from .errors import AudioDeviceError
from .levels import FrameRms
from .preconnect import MIME_TYPE as PRECONNECT_MIME_TYPE
from .preconnect import PAYLOAD_SAMPLE_RATE, STREAM_NAME, TOPIC, stream_attributes
from .push_to_talk import (
    TURN_RPC_REGISTER_WAIT,
    TURN_RPC_RETRY_INTERVAL,
    TURN_RPC_TIMEOUT,
    TurnMethod,
    TurnRpcOutcome,
    TurnRpcSupport,
)
from .ring_buffer import Int16Array
from .tasks import AudioTasks

if TYPE_CHECKING:
    from agent_tui.session import Session

    from .engine import AudioEngine

log = logging.getLogger(__name__)

#: Longest wait for the agent to subscribe to the microphone before the pre-connect buffer is given up.
SUBSCRIBE_TIMEOUT_MARGIN = 10.0


class SessionAudioBridge:
    """Links one started :class:`~.engine.AudioEngine` to one Session; see the module docstring.

    It is the engine's :class:`~.engine.EngineObserver` while attached.
    """

    def __init__(self, engine: AudioEngine, session: Session) -> None:
        self.engine = engine
        self.session = session
        self._turns = TurnRpcSupport()
        self._mic_rms = FrameRms()
        self._agent_rms = FrameRms()
        self._session_changed = asyncio.Event()
        self._mute_applied_to: object | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks = AudioTasks(log)

    @property
    def attached(self) -> bool:
        return self._unsubscribe is not None

    def attach(self) -> None:
        """Follow the session: play its agent's track, flush on interruption, send the pre-connect buffer,
        mirror mute on the published track, use the turn RPCs. Call on the event loop, before
        ``session.start()``; a second call does nothing."""
        if self.attached:
            return
        engine, session = self.engine, self.session
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = session.events.subscribe(self._on_session_event)
        self._turns.agent_joined(session.agent_attributes)
        engine.set_observer(self)
        # The mode may have been set before (``--push-to-talk``): the latency meter must know it too.
        session.set_push_to_talk(engine.status.mode is MicMode.PUSH_TO_TALK)
        if session.agent_audio_track is not None:
            engine.play(session.agent_audio_track)
        if engine.source is not None:
            self._spawn(self._watch_microphone())

    def detach(self) -> None:
        """Stop following the session: no more events, the agent's track no longer played, work pending
        for the session (the pre-connect hand-off, a turn RPC) cancelled. Safe to call twice."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            self.engine.set_observer(None)
        self.engine.play(None)
        self._tasks.cancel()

    async def aclose(self) -> None:
        """:meth:`detach`, then wait for the cancelled work to finish."""
        self.detach()
        await self._tasks.aclose()

    # -- EngineObserver: what the engine tells the session (loop) --------------------------------------------
    @property
    def turn_rpcs(self) -> bool | None:
        """Whether the agent answers the turn RPCs (None: not known yet), for the engine's status."""
        return self._turns.supported

    def muted_changed(self, muted: bool) -> None:
        self.session.set_microphone_muted(muted)

    def mode_changed(self, mode: MicMode, *, turn_abandoned: bool) -> None:
        self.session.set_push_to_talk(mode is MicMode.PUSH_TO_TALK)
        if turn_abandoned:
            self._spawn(self._cancel_turn())

    async def talk_started(self) -> None:
        session = self.session
        session.insight.latency.user_turn_started(self._require_loop().time())
        session.user_turn_started()
        await self._start_turn()

    async def talk_ended(self) -> None:
        # With push-to-talk the user's turn ends at the key release, not at a VAD decision.
        self.session.insight.latency.user_turn_ended(self._require_loop().time())
        await self._turn_rpc(TurnMethod.END)

    async def talk_cancelled(self) -> None:
        self.session.insight.latency.user_turn_cancelled()
        await self._cancel_turn()

    def microphone_frame(self, samples: Int16Array, now: float) -> None:
        """What the agent will hear (after the gate): the latency meter's end-of-speech detector."""
        latency = self.session.insight.latency.mic_frame(now, self._mic_rms(samples))
        if latency is not None:
            self.session.events.emit(latency)

    def agent_frame(self, samples: Int16Array, now: float) -> None:
        """What the agent said, as it arrives: the latency meter's start-of-reply detector."""
        latency = self.session.insight.latency.agent_frame(now, self._agent_rms(samples))
        if latency is not None:
            self.session.events.emit(latency)

    def warning(self, message: str) -> None:
        self.session.events.emit(SessionWarning(message=message))

    # -- what the session tells the engine (loop) ------------------------------------------------------------
    def _on_session_event(self, event: SessionEvent) -> None:
        self._session_changed.set()
        engine, session = self.engine, self.session
        if isinstance(event, TextModeChanged):
            # The agent stops voicing new replies, but one already playing goes on: silence it here.
            engine.set_text_mode(event.on)
        if isinstance(event, AgentAudioTrackChanged):
            engine.play(event.track)
        elif isinstance(event, AgentStateChanged):
            if event.previous is AgentState.SPEAKING and event.state is not AgentState.SPEAKING:
                # Interrupted (or finished): whatever is still queued must not keep talking.
                engine.flush_playback()
        elif isinstance(event, AgentJoined):
            self._turns.agent_joined(event.attributes)
            engine.refresh_status()
        elif isinstance(event, AgentAttributesChanged):
            before = self._turns.supported
            self._turns.attributes_changed(event.attributes)
            if before != self._turns.supported:
                engine.refresh_status()
        elif isinstance(event, ConnectionStateChanged) and event.state is ConnectionState.DISCONNECTED:
            self._mute_applied_to = None
        if engine.status.muted:
            publication = session.microphone_publication
            if publication is not None and publication is not self._mute_applied_to:
                # The track did not exist when the user muted: mute it now so the agent sees it.
                self._mute_applied_to = publication
                session.set_microphone_muted(True)

    async def _until(self, predicate: Callable[[], Any], limit: float) -> Any:
        """Wait (on session events) until ``predicate()`` is truthy; returns it, or None on timeout."""
        loop = self._require_loop()
        deadline = loop.time() + limit
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._session_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._session_changed.wait(), remaining)

    # -- the pre-connect hand-off (loop) ---------------------------------------------------------------------
    async def _watch_microphone(self) -> None:
        """Once someone listens to the mic: start the WAV input, send the agent the pre-connect audio."""
        engine, session = self.engine, self.session
        limit = (
            session.options.room_connect_timeout
            + session.options.agent_connect_timeout
            + SUBSCRIBE_TIMEOUT_MARGIN
        )
        publication = await self._until(lambda: session.microphone_publication, limit)
        subscribed = publication is not None and await self._listener_arrives(publication, limit)
        if subscribed:
            engine.listener_arrived()
        preconnect = engine.preconnect
        if preconnect is None:
            return
        preconnect.stop()
        agent = (
            await self._until(lambda: session.agent.identity, SUBSCRIBE_TIMEOUT_MARGIN)
            if subscribed
            else None
        )
        if publication is None or agent is None or not self.attached:
            preconnect.discard()
            return
        payload = preconnect.payload(PAYLOAD_SAMPLE_RATE)
        try:
            await session.send_bytes(
                payload,
                name=STREAM_NAME,
                topic=TOPIC,
                mime_type=PRECONNECT_MIME_TYPE,
                attributes=stream_attributes(track_sid=publication.sid, sample_rate=PAYLOAD_SAMPLE_RATE),
                destination_identities=[agent],
            )
            engine.preconnect_delivered(len(payload) / 2 / PAYLOAD_SAMPLE_RATE)
        except Exception as error:
            engine.warn(f"The pre-connect audio could not be sent to the agent ({error}).")
        finally:
            preconnect.discard()

    async def _listener_arrives(self, publication: Any, limit: float) -> bool:
        """Until the agent listens: it subscribed to the microphone, or it reports a listening state.

        The subscription (``local_track_subscribed``) is the precise moment and what the JS SDK waits for;
        the agent's own state is the fallback for servers that do not tell publishers about subscribers.
        """
        session = self.session
        subscription = asyncio.ensure_future(publication.wait_for_subscription())
        listening = asyncio.ensure_future(
            self._until(lambda: session.agent.identity and session.agent_state.is_connected, limit)
        )
        try:
            done, _ = await asyncio.wait(
                {subscription, listening}, timeout=limit, return_when=FIRST_COMPLETED
            )
        finally:
            subscription.cancel()
            listening.cancel()
        if subscription in done and not subscription.cancelled() and subscription.exception() is None:
            return True
        return listening in done and not listening.cancelled() and bool(listening.result())

    # -- push-to-talk turn RPCs (loop) -----------------------------------------------------------------------
    async def _start_turn(self) -> None:
        """``start_turn``, waiting a little for an agent that is not in the room yet, or that advertises the
        turn RPCs and has not registered them yet (see :mod:`.push_to_talk`): a turn the agent did not
        hear is said on screen, never lost without a word."""
        session = self.session
        if not self.attached or not self._turns.should_call:
            return
        loop = self._require_loop()
        deadline = loop.time() + TURN_RPC_REGISTER_WAIT
        if session.agent.identity is None:
            await self._until(lambda: session.agent.identity, TURN_RPC_REGISTER_WAIT)
        while await self._turn_rpc(TurnMethod.START) is TurnRpcOutcome.NOT_REGISTERED:
            if loop.time() >= deadline or not self.engine.status.talking or not self.attached:
                self.engine.warn(
                    "Push-to-talk: the agent has not registered start_turn yet, so it did not hear this "
                    "turn. Press the talk key again."
                )
                return
            # Its registration cannot be observed from here: asking again is the only way to learn of it.
            await asyncio.sleep(TURN_RPC_RETRY_INTERVAL)

    async def _cancel_turn(self) -> None:
        """``cancel_turn``; once the agent has forgotten the turn, its words are marked cancelled."""
        outcome = await self._turn_rpc(TurnMethod.CANCEL)
        if outcome is TurnRpcOutcome.DONE and self.attached:
            self.session.user_turn_cancelled()

    async def _turn_rpc(self, method: TurnMethod) -> TurnRpcOutcome:
        session = self.session
        if not self.attached or not self._turns.should_call or session.agent.identity is None:
            return TurnRpcOutcome.SKIPPED
        before = self._turns.supported
        outcome = TurnRpcOutcome.SKIPPED
        try:
            await session.perform_rpc(method.value, "", response_timeout=TURN_RPC_TIMEOUT)
            self._turns.succeeded(method)
            outcome = TurnRpcOutcome.DONE
        except RpcCallError as error:
            if self._turns.not_registered_yet(error.code):
                outcome = TurnRpcOutcome.NOT_REGISTERED
            elif not self._turns.failed(error.code):
                self.engine.warn(f"Push-to-talk: the agent's {method.value} failed ({error.detail}).")
        except SessionError:
            return TurnRpcOutcome.SKIPPED  # not connected (any more): the gate alone applies
        if before != self._turns.supported:
            self.engine.refresh_status()
        return outcome

    def _spawn(self, coro: Any) -> None:
        self._tasks.spawn(self._require_loop(), coro)

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise AudioDeviceError("The session bridge is not attached; call attach() first.")
        return self._loop
