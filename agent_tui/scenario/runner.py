"""Running scenarios: each run a Session of its own in a new room, its steps driven and checked.

One run (:func:`run_scenario`): the settings are copied for the scenario (its agent, attributes,
metadata, and a new uniquely named room), the Session is built from them by :mod:`agent_tui.wiring`'s
token choice and options, with a microphone of its own: an ``rtc.AudioSource`` this module feeds at
real-time pace, silence between phrases and the synthesised speech of ``say`` steps, so any number of
scenarios run in one process with no sound device. Like the audio engine's bridge, every frame sent and
every frame of the agent's voice received goes through the session's voice-latency meter, so a step's
``latency_ms`` is client-measured voice to voice.

A step waits for the agent to listen, acts, then (for the steps that talk) waits for the answer: a final
message of the agent that is new since the step began and the agent back at rest (the rule the headless
runner applies to ``--send``), bounded by the step's timeout. "New" is by message, not by time: the
answer an ``interrupt`` cuts short was already under way (its transcript may reach us after the agent
said it is speaking) and is not the reply to the interruption. A step followed by an ``interrupt`` only
waits for the agent to start speaking, so the interruption lands inside the answer. The step's reply,
tool calls (from the insight stream), states and figures are then checked (:mod:`.checks`), every unmet
expectation reported.

Many runs (:func:`run_all`): up to ``jobs`` at once (an asyncio semaphore), each scenario ``repeat``
times, with ``fail_fast`` starting no new run after the first failure. Runs *join* one at a time: a run
holds the start gate from connecting until its agent has joined (or failed to), then talks while the
next one connects. Without it ``--jobs`` loses dispatches on a single worker: a livekit-agents worker
(1.8) with no job running judges a job request by a fixed estimate of a job's load (its load threshold
over its idle processes; with one idle process, as the demo's, one request already fills it), so the
second of two simultaneous requests is refused, and neither livekit-server nor the dev server offers a
refused job again: that run's agent never comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from agent_tui.audio.errors import AudioDeviceError
from agent_tui.audio.levels import FrameRms
from agent_tui.audio.push_to_talk import (
    TURN_RPC_REGISTER_WAIT,
    TURN_RPC_RETRY_INTERVAL,
    TURN_RPC_TIMEOUT,
    TurnMethod,
    TurnRpcSupport,
)
from agent_tui.config import ConfigError, Settings
from agent_tui.exit_codes import exit_code_for
from agent_tui.headless.records import to_record
from agent_tui.scenario.checks import Observed, ToolSeen, check
from agent_tui.scenario.model import Interrupt, PushToTalk, RpcCall, Scenario, Step
from agent_tui.scenario.results import Failure, ProgressEvent, ScenarioResult, StepResult
from agent_tui.scenario.speech import Speech, SpeechError
from agent_tui.session import (
    AgentAudioTrackChanged,
    AgentLeft,
    AgentState,
    AgentStateChanged,
    Message,
    MessageChanged,
    RpcCallError,
    SessionEvent,
    SessionLibraryError,
    Speaker,
    ToolCall,
    ToolResult,
    TurnMetrics,
    VoiceLatency,
    redact,
)

if TYPE_CHECKING:
    from livekit import rtc

    from agent_tui.audio.ring_buffer import Int16Array
    from agent_tui.session import Session

__all__ = ["DEFAULT_STEP_TIMEOUT", "run_all", "run_scenario", "step_timeout_for"]

log = logging.getLogger(__name__)

#: Seconds a step may take when neither the step, ``--timeout`` nor the file says.
DEFAULT_STEP_TIMEOUT = 30.0
#: The microphone's format: 48 kHz mono in 10 ms frames, what WebRTC sends anyway.
SAMPLE_RATE = 48_000
FRAME_SAMPLES = SAMPLE_RATE // 100
#: How long ending a run's session may take before it is left behind.
END_TIMEOUT = 5.0
#: How long a run waits, before its first step, for the agent's published audio to reach us.
AGENT_AUDIO_WAIT = 10.0
#: How long a step waits for the agent's own figures of its answer when a budget asks for them.
METRICS_GRACE = 2.0
#: The agent states in which it is ready for the next step.
_AT_REST = (AgentState.LISTENING, AgentState.IDLE)
#: Steps that expect an answer from the agent.
_ANSWERED_ACTIONS = frozenset({"send", "say", "say_wav", "interrupt", "push_to_talk"})

ProgressCallback = Callable[[ProgressEvent], None]


def step_timeout_for(step: Step, scenario: Scenario, override: float | None) -> float:
    """The step's own ``timeout``, else ``--timeout``, else the file's ``step_timeout``, else the default."""
    for value in (step.timeout, override, scenario.step_timeout):
        if value is not None:
            return value
    return DEFAULT_STEP_TIMEOUT


def scenario_settings(scenario: Scenario, settings: Settings, run: int) -> Settings:
    """``settings`` for one run of ``scenario``: its agent and participant, and a room of its own."""
    slug = re.sub(r"[^a-z0-9]+", "-", scenario.name.lower()).strip("-")[:40] or "scenario"
    update: dict[str, Any] = {
        "room": f"test-{slug}-{run}-{secrets.token_hex(4)}",
        "attributes": {**settings.attributes, **scenario.attributes},
    }
    if scenario.agent is not None:
        update["agent"] = scenario.agent
    if scenario.metadata is not None:
        update["participant_metadata"] = scenario.metadata
    if scenario.agent_metadata is not None:
        update["agent_metadata"] = scenario.agent_metadata
    return settings.model_copy(update=update)


async def run_all(
    scenarios: Sequence[Scenario],
    settings: Settings,
    *,
    jobs: int = 1,
    repeat: int = 1,
    fail_fast: bool = False,
    step_timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[ScenarioResult]:
    """Every scenario ``repeat`` times, ``jobs`` at once; results in scenario order, then run order.
    With ``fail_fast`` no run starts after one failed (those already running finish)."""
    gate = asyncio.Semaphore(max(1, jobs))
    joining = asyncio.Lock()
    speech = Speech(SAMPLE_RATE)
    failed = asyncio.Event()
    results: dict[tuple[int, int], ScenarioResult] = {}

    async def one(position: int, scenario: Scenario, run: int) -> None:
        async with gate:
            if fail_fast and failed.is_set():
                return
            result = await run_scenario(
                scenario,
                settings,
                run=run,
                step_timeout=step_timeout,
                on_progress=on_progress,
                start_gate=joining,
                speech=speech,
            )
            results[(position, run)] = result
            if not result.passed:
                failed.set()

    async with asyncio.TaskGroup() as group:
        for position, scenario in enumerate(scenarios):
            for run in range(1, repeat + 1):
                group.create_task(one(position, scenario, run))
    return [results[key] for key in sorted(results)]


async def run_scenario(
    scenario: Scenario,
    settings: Settings,
    *,
    run: int = 1,
    step_timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
    start_gate: asyncio.Lock | None = None,
    speech: Speech | None = None,
) -> ScenarioResult:
    """One run of ``scenario`` in a new room. Never raises for what the agent or the server does: a run
    that cannot start has ``error`` set (and an ``error`` record with its exit code in ``events``).
    ``start_gate`` is held from connecting until the agent has joined (see the module docstring).
    ``speech`` is where the run's phrases are made, once each: pass one to many runs on the same loop
    (every run of ``run_all``, every simulated user of a load process) so each phrase is synthesised once."""

    def tell(kind: Any, step: StepResult | None = None, result: ScenarioResult | None = None) -> None:
        if on_progress is not None:
            on_progress(ProgressEvent(scenario=scenario.name, run=run, kind=kind, step=step, result=result))

    result = ScenarioResult(
        name=scenario.name,
        source=str(scenario.source),
        line=scenario.line,
        run=run,
        room=None,
        passed=False,
        started_at=time.time(),
    )
    tell("started")
    began = time.monotonic()
    conversation: _Conversation | None = None
    failure: dict[str, Any] | None = None
    try:
        conversation = _Conversation(
            scenario, scenario_settings(scenario, settings, run), step_timeout, speech or Speech(SAMPLE_RATE)
        )
        result.room = conversation.room
        await conversation.start(start_gate)
        for number, step in enumerate(scenario.steps):
            following = scenario.steps[number + 1] if number + 1 < len(scenario.steps) else None
            step_result = await conversation.step(step, following)
            result.steps.append(step_result)
            tell("step", step=step_result)
            if conversation.gone:
                break
    except (ConfigError, SessionLibraryError) as error:
        message = redact(str(error), *settings.secret_values())
        result.error = message
        failure = {"type": "error", "at": time.time(), "message": message, "exit_code": exit_code_for(error)}
    except Exception as error:  # a bug of ours must not take the other runs down with it
        log.debug("scenario %r run %d failed", scenario.name, run, exc_info=True)
        message = redact(f"internal error: {type(error).__name__}: {error}", *settings.secret_values())
        result.error = message
        failure = {"type": "error", "at": time.time(), "message": message, "exit_code": 1}
    finally:
        if conversation is not None:
            await conversation.close()
            result.events = conversation.records
    if failure is not None:
        result.events.append(failure)
    result.passed = (
        result.error is None
        and len(result.steps) == len(scenario.steps)
        and all(step.passed for step in result.steps)
    )
    result.duration_s = time.monotonic() - began
    tell("finished", result=result)
    return result


class _Microphone:
    """The run's microphone track: silence at real-time pace, and phrases when :meth:`say` asks.

    Every frame passes through ``on_frame`` (the latency meter's end-of-speech detector) as it is sent.
    The pace is the loop clock, 10 ms per frame; a loop that stalled resynchronises instead of bursting.
    """

    def __init__(self, on_frame: Callable[[Int16Array, float], None]) -> None:
        from livekit import rtc

        # queue_size_ms=0: each frame goes straight to WebRTC; this class keeps the pace itself.
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=0)
        self._on_frame = on_frame
        self._frame = rtc.AudioFrame.create(SAMPLE_RATE, 1, FRAME_SAMPLES)
        self._samples: Int16Array = np.frombuffer(self._frame.data, dtype=np.int16)
        self._phrase: Int16Array | None = None
        self._position = 0
        self._said: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump(), name="scenario-microphone")

    async def say(self, samples: Int16Array) -> None:
        """Until all of ``samples`` has been sent."""
        if self._task is None or self._task.done():
            raise AudioDeviceError("the scenario's microphone is not running")
        self._phrase, self._position = samples, 0
        self._said = asyncio.get_running_loop().create_future()
        await self._said

    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        samples = self._samples
        deadline = loop.time()
        while True:
            phrase = self._phrase
            if phrase is not None:
                chunk = phrase[self._position : self._position + FRAME_SAMPLES]
                samples[: len(chunk)] = chunk
                samples[len(chunk) :] = 0
                self._position += FRAME_SAMPLES
                if self._position >= len(phrase):
                    self._phrase = None
                    if self._said is not None and not self._said.done():
                        self._said.set_result(None)
            else:
                samples[:] = 0
            self._on_frame(samples, loop.time())
            await self.source.capture_frame(self._frame)
            deadline += FRAME_SAMPLES / SAMPLE_RATE
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                deadline = loop.time()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._said is not None and not self._said.done():
            self._said.cancel()
        await self.source.aclose()


class _Conversation:
    """One run's Session, microphone, agent-audio listener and record of events."""

    def __init__(
        self, scenario: Scenario, settings: Settings, step_timeout: float | None, speech: Speech
    ) -> None:
        from agent_tui.session import Session
        from agent_tui.wiring.session import choose_token_source, session_options

        self.scenario = scenario
        self.settings = settings
        self.room = settings.room
        self._step_timeout = step_timeout
        self._mic_rms = FrameRms()
        self._agent_rms = FrameRms(max_frame_samples=SAMPLE_RATE)
        self.microphone = _Microphone(self._mic_frame)
        self.session: Session = Session(
            choose_token_source(settings),
            session_options(settings),
            microphone=self.microphone.source,
            preconnect_buffer=False,
            agent_video=False,
        )
        self.speech = speech
        self.events: list[SessionEvent] = []
        self.records: list[dict[str, Any]] = []
        #: The messages there were before the step (its reply is the agent's messages not among them).
        self._known: set[str] = set()
        self._recorded: set[tuple[str, str, bool]] = set()
        self._changed = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._turns = TurnRpcSupport()
        self._unsubscribe = self.session.events.subscribe(self._on_event)
        self.gone = False

    # -- life cycle ------------------------------------------------------------------------------------
    async def start(self, gate: asyncio.Lock | None = None) -> None:
        """Connect and wait for the agent; ``gate`` is held until the agent has joined or failed to."""
        session = self.session
        self.microphone.start()
        async with gate if gate is not None else contextlib.nullcontext():
            await session.start(wait_for_agent=False)
            if session.dispatches_agent:
                await self._until(
                    lambda: session.agent.identity is not None or session.agent_failure is not None,
                    session.options.agent_connect_timeout,
                )
        await session.wait_for_agent()
        # The first step begins once we hear the agent: livekit-agents holds a reply until its audio
        # has a subscriber, and a step's time limit should not be spent on our own subscription.
        await self._until(lambda: not self._agent_audio_pending(), AGENT_AUDIO_WAIT)
        self._turns.agent_joined(session.agent_attributes)
        if session.agent_audio_track is not None:
            self._listen(session.agent_audio_track)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.session.end(), END_TIMEOUT)
        except TimeoutError:
            log.warning("the session of %r did not end within %g s", self.scenario.name, END_TIMEOUT)
        except Exception as error:
            log.warning("ending the session of %r failed: %s", self.scenario.name, error)
        self._unsubscribe()
        self._listen(None)
        await self.microphone.aclose()

    def _agent_audio_pending(self) -> bool:
        """The agent has published an audio track we have not subscribed to yet."""
        from livekit import rtc

        participant = self.session.agent_participant
        if participant is None or self.session.agent_audio_track is not None:
            return False
        return any(
            publication.kind == rtc.TrackKind.KIND_AUDIO
            for publication in participant.track_publications.values()
        )

    # -- events ----------------------------------------------------------------------------------------
    def _on_event(self, event: SessionEvent) -> None:
        self.events.append(event)
        record = to_record(event)
        if record is not None and isinstance(event, MessageChanged):
            key = (event.message.id, event.message.text, event.message.cancelled)
            if key in self._recorded:  # a final message updated with the same text, as --json leaves out
                record = None
            self._recorded.add(key)
        if record is not None:
            self.records.append(record)
        if isinstance(event, AgentAudioTrackChanged):
            self._listen(event.track)
        elif isinstance(event, AgentLeft) and event.unexpected:
            self.gone = True
        self._changed.set()

    def _mic_frame(self, samples: Int16Array, now: float) -> None:
        latency = self.session.insight.latency.mic_frame(now, self._mic_rms(samples))
        if latency is not None:
            self.session.events.emit(latency)

    def _listen(self, track: rtc.RemoteAudioTrack | None) -> None:
        if self._listener is not None:
            self._listener.cancel()
            self._listener = None
        if track is not None:
            self._listener = asyncio.create_task(self._hear(track), name="scenario-agent-audio")

    async def _hear(self, track: rtc.RemoteAudioTrack) -> None:
        """The agent's voice as it arrives: the latency meter's start-of-reply detector."""
        from livekit import rtc

        stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1)
        loop = asyncio.get_running_loop()
        try:
            async for event in stream:
                samples = np.frombuffer(event.frame.data, dtype=np.int16)
                latency = self.session.insight.latency.agent_frame(loop.time(), self._agent_rms(samples))
                if latency is not None:
                    self.session.events.emit(latency)
        finally:
            await stream.aclose()

    async def _until(self, condition: Callable[[], bool], seconds: float) -> bool:
        """Whether ``condition`` became true within ``seconds``, re-checked after every event."""

        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), max(seconds, 0.0))
        except TimeoutError:
            return False
        return True

    # -- one step --------------------------------------------------------------------------------------
    async def step(self, step: Step, following: Step | None) -> StepResult:
        timeout = step_timeout_for(step, self.scenario, self._step_timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        started = time.time()
        result = StepResult(
            index=step.index, action=step.action, summary=step.summary, passed=False, started_at=started
        )
        expect = step.expect
        waits_for_answer = step.action in _ANSWERED_ACTIONS and expect.no_reply_within is None
        if isinstance(step.argument, PushToTalk) and step.argument.cancel:
            waits_for_answer = False
        answered = True
        rpc_failure: Failure | None = None
        first_event = len(self.events)
        mark = started
        try:
            if step.action in _ANSWERED_ACTIONS and step.action != "interrupt":  # it speaks over the agent
                await self._until(lambda: self.session.agent_state in _AT_REST, timeout)
            mark = time.time()
            first_event = len(self.events)
            self._known = {message.id for message in self.session.messages}
            async with asyncio.timeout_at(deadline):
                rpc_failure = await self._act(step, deadline)
            acted = loop.time()
            if waits_for_answer:
                speaking = following is not None and following.action == "interrupt"
                answered = await self._until(
                    (lambda: self._speaking_since(first_event)) if speaking else self._answered,
                    deadline - loop.time(),
                )
                if answered and not speaking:
                    result.answer_s = loop.time() - acted
            if expect.no_reply_within is not None:
                await self._until(lambda: self._reply() is not None, expect.no_reply_within)
            if expect.agent_left:
                await self._until(lambda: self._left_since(first_event), deadline - loop.time())
            if self._wants_agent_figures(step) and answered:
                await self._until(lambda: self._agent_metrics_since(first_event) != {}, METRICS_GRACE)
        except TimeoutError:
            result.error = f"the step did not finish within {timeout:g} s"
        except (SessionLibraryError, SpeechError, AudioDeviceError) as error:
            result.error = redact(str(error), *self.settings.secret_values())
        seen = self._observed(first_event, mark, answered=answered)
        result.reply = seen.reply
        result.tools = [tool.as_dict() for tool in seen.tools]
        result.latency_ms = seen.latency_ms
        result.agent_metrics = dict(seen.agent_metrics)
        result.failures = check(expect, seen)
        if rpc_failure is not None:
            result.failures.insert(0, rpc_failure)
        if waits_for_answer and not answered and result.error is None:
            result.failures.insert(
                0, Failure(expectation="answer", expected=f"an answer within {timeout:g} s", got="no answer")
            )
        result.passed = result.error is None and not result.failures
        result.duration_s = time.time() - started
        return result

    def _wants_agent_figures(self, step: Step) -> bool:
        expect = step.expect
        return any(
            value is not None for value in (expect.max_e2e_ms, expect.max_llm_ttft_ms, expect.max_tts_ttfb_ms)
        )

    async def _act(self, step: Step, deadline: float) -> Failure | None:
        """Do the step's action; an RPC's unexpected answer is returned as its failure."""
        session, argument, voice = self.session, step.argument, self.scenario.voice
        match step.action:
            case "send":
                assert isinstance(argument, str)
                await session.send_chat(argument)
            case "say":
                assert isinstance(argument, str)
                await self.microphone.say(await self.speech.say(argument, voice))
            case "say_wav":
                from pathlib import Path

                assert isinstance(argument, Path)
                await self.microphone.say(await self.speech.wav(argument))
            case "wait":
                assert isinstance(argument, float)
                await asyncio.sleep(argument)
            case "text_mode":
                assert isinstance(argument, bool)
                insight = session.insight
                # The agent's session stream is found by a ping after it joined: wait for the answer.
                await self._until(
                    lambda: (
                        insight.available
                        or (insight.client is not None and insight.client.available is False)
                    ),
                    deadline - asyncio.get_running_loop().time(),
                )
                await session.set_text_mode(argument)  # returns once the agent has agreed
            case "rpc":
                assert isinstance(argument, RpcCall)
                return await self._rpc(argument, deadline)
            case "interrupt":
                assert isinstance(argument, Interrupt)
                await self._interrupt(argument, deadline)
            case "push_to_talk":
                assert isinstance(argument, PushToTalk)
                await self._push_to_talk(argument)
        return None

    async def _rpc(self, call: RpcCall, deadline: float) -> Failure | None:
        remaining = max(deadline - asyncio.get_running_loop().time(), 0.1)
        try:
            answer = await self.session.perform_rpc(call.method, call.payload, response_timeout=remaining)
        except RpcCallError as error:
            if call.reply is None:
                raise
            return Failure(
                expectation="rpc.reply", expected=f"an answer containing {call.reply!r}", got=str(error)
            )
        if call.reply is not None and call.reply.lower() not in answer.lower():
            return Failure(
                expectation="rpc.reply", expected=f"an answer containing {call.reply!r}", got=repr(answer)
            )
        return None

    async def _interrupt(self, interrupt: Interrupt, deadline: float) -> None:
        """Speak ``after_ms`` into the agent's answer (barge-in); the phrase is made before, so the
        delay is only the one asked for."""
        phrase = await self.speech.say(interrupt.say, self.scenario.voice)
        loop = asyncio.get_running_loop()
        if not await self._until(
            lambda: self.session.agent_state is AgentState.SPEAKING, deadline - loop.time()
        ):
            raise TimeoutError
        await asyncio.sleep(interrupt.after_ms / 1000.0)
        # What the agent has begun to say by now is the answer being cut short, not the reply to this.
        self._known = {message.id for message in self.session.messages}
        await self.microphone.say(phrase)

    async def _push_to_talk(self, turn: PushToTalk) -> None:
        """The turn RPCs around the phrase, as the audio engine's bridge makes them for the talk key:
        ``start_turn`` (asked again while an agent that advertises them has not registered them yet),
        the phrase, then ``end_turn`` or ``cancel_turn``."""
        session, latency = self.session, self.session.insight.latency
        phrase = await self.speech.say(turn.say, self.scenario.voice)
        loop = asyncio.get_running_loop()
        session.set_push_to_talk(True)
        try:
            latency.user_turn_started(loop.time())
            session.user_turn_started()
            registered_by = loop.time() + TURN_RPC_REGISTER_WAIT
            while True:
                try:
                    await session.perform_rpc(TurnMethod.START.value, "", response_timeout=TURN_RPC_TIMEOUT)
                    break
                except RpcCallError as error:
                    if not self._turns.not_registered_yet(error.code) or loop.time() >= registered_by:
                        raise
                # Its registration cannot be observed from here: asking again is the only way to learn of it.
                await asyncio.sleep(TURN_RPC_RETRY_INTERVAL)
            await self.microphone.say(phrase)
            if turn.cancel:
                latency.user_turn_cancelled()
                await session.perform_rpc(TurnMethod.CANCEL.value, "", response_timeout=TURN_RPC_TIMEOUT)
                session.user_turn_cancelled()
            else:
                latency.user_turn_ended(loop.time())
                await session.perform_rpc(TurnMethod.END.value, "", response_timeout=TURN_RPC_TIMEOUT)
        finally:
            session.set_push_to_talk(False)

    # -- what the step saw -------------------------------------------------------------------------------
    def _agent_messages(self) -> list[Message]:
        """The agent's messages of this step: those it began since the step did."""
        known = self._known
        return [
            message
            for message in self.session.messages
            if message.speaker is Speaker.AGENT and message.id not in known and message.text.strip()
        ]

    def _answered(self) -> bool:
        at_rest = self.session.agent_state in _AT_REST
        return at_rest and any(message.final for message in self._agent_messages())

    def _reply(self) -> str | None:
        messages = self._agent_messages()
        return " ".join(message.text.strip() for message in messages) if messages else None

    def _speaking_since(self, first_event: int) -> bool:
        return any(
            isinstance(event, AgentStateChanged) and event.state is AgentState.SPEAKING
            for event in self.events[first_event:]
        )

    def _left_since(self, first_event: int) -> bool:
        return any(isinstance(event, AgentLeft) for event in self.events[first_event:])

    def _agent_metrics_since(self, first_event: int) -> dict[str, float]:
        """The agent's figures of its answers in the step: the worst of each (a budget is a maximum)."""
        figures: dict[str, float] = {}
        for event in self.events[first_event:]:
            if isinstance(event, TurnMetrics) and event.role == "assistant":
                for key in ("e2e_ms", "llm_ttft_ms", "tts_ttfb_ms"):
                    value = getattr(event.metrics, key)
                    if value is not None:
                        figures[key] = max(value, figures.get(key, value))
        return figures

    def _observed(self, first_event: int, mark: float, *, answered: bool) -> Observed:
        events = self.events[first_event:]
        results = {event.call_id: event.output for event in events if isinstance(event, ToolResult)}
        tools = [
            ToolSeen.parsed(event.name, event.arguments, results.get(event.call_id))
            for event in events
            # A call of this step's turn can come from a history fetch made during the turn before its
            # live event (the Session announces each call once): the step's own events hold only this turn.
            if isinstance(event, ToolCall)
        ]
        states = [event.state.value for event in events if isinstance(event, AgentStateChanged)]
        states.append(self.session.agent_state.value)
        latencies = [event.latency_ms for event in events if isinstance(event, VoiceLatency)]
        messages = self._agent_messages()
        return Observed(
            reply=self._reply(),
            answered=answered,
            first_reply_after=messages[0].first_seen - mark if messages else None,
            tools=tools,
            states=states,
            agent_attributes=dict(self.session.agent_attributes),
            agent_left=self._left_since(first_event),
            latency_ms=latencies[0] if latencies else None,
            agent_metrics=self._agent_metrics_since(first_event),
        )
