"""The headless runner: one Session, its events printed, an optional script, and a documented exit code.

Flow: open the transcript file, create the session (the token source is chosen here, so a missing
configuration fails before any network traffic), subscribe to its events, then run two things at once —
the *driver* (start the session, wait for the agent, perform ``--rpc`` calls, send ``--send-file``
files, send ``--send`` messages one by one) and the *policy* (:class:`RunPolicy`, fed every event),
until the first of: the policy decides the run is over, the driver fails, or SIGINT/SIGTERM arrives.
The session is always ended and the transcript closed before the exit code is returned.

Errors are reported once: one line on stderr (``agent-tui: …``), plus an ``error`` record on stdout in
JSON mode. Both pass through :func:`~agent_tui.session.redaction.redact` with the run's own secrets, so a
token or an API secret cannot reach the output even through a message that quotes one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from agent_tui.config import ConfigError, Settings
from agent_tui.exit_codes import ExitCode, exit_code_for
from agent_tui.headless import jsonl, lines
from agent_tui.headless.metrics_file import MetricsFile
from agent_tui.headless.policy import Outcome, RunPolicy
from agent_tui.headless.records import (
    FileSent,
    OutputEvent,
    Record,
    RpcResult,
    RunEnded,
    RunError,
    RunStarted,
    RunWarning,
    to_record,
)
from agent_tui.headless.transcript_file import TranscriptFile
from agent_tui.session import (
    ConnectionState,
    ConnectionStateChanged,
    Conversation,
    InsightEvent,
    Message,
    MessageChanged,
    MessageKind,
    SessionEvent,
    SessionLibraryError,
    Speaker,
    TurnMetrics,
    redact,
)

if TYPE_CHECKING:
    from agent_tui.audio.engine import AudioEngine

log = logging.getLogger(__name__)

#: How long ``session.end()`` may take before we give up on a clean goodbye and exit anyway.
END_TIMEOUT = 5.0
#: How long a finished script waits for the agent's figures of its last turn.
LAST_METRICS_GRACE = 2.0


@dataclass(frozen=True)
class Script:
    """What a headless run does once the agent is there, in this order: RPC calls, files, messages; and
    from the start, the agent's data tracks whose every frame it writes (``--data-track``)."""

    sends: tuple[str, ...] = ()
    send_files: tuple[Path, ...] = ()
    rpcs: tuple[tuple[str, str], ...] = ()
    data_tracks: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.sends or self.send_files or self.rpcs or self.data_tracks)


SessionFactory = Callable[[Settings], Conversation]


class _Output:
    """Writes records to stdout in the chosen format and final messages to the transcript file.

    Writes are tiny and line-sized, so they happen directly on the event loop. A closed pipe (``| head``)
    stops stdout output but not the run: the transcript file and the exit code still matter.
    """

    def __init__(self, stdout: TextIO, *, as_json: bool) -> None:
        self._stdout = stdout
        self._as_json = as_json
        self.transcript: TranscriptFile | None = None
        self.metrics: MetricsFile | None = None
        self._stdout_open = True
        self._messages_seen: set[tuple[str, str, bool]] = set()

    def emit(self, event: OutputEvent) -> None:
        if self.metrics is not None and isinstance(event, SessionEvent):
            try:
                self.metrics.observe(event)
            except OSError as error:
                log.error("cannot write the metrics file: %s", error)
        record = to_record(event)
        if record is None:
            return
        if isinstance(event, MessageChanged):
            key = (event.message.id, event.message.text, event.message.cancelled)
            if key in self._messages_seen:  # a final message updated with the same text
                return
            self._messages_seen.add(key)
            if self.transcript is not None:
                try:
                    self.transcript.write(record)
                except OSError as error:
                    log.error("cannot write the transcript file: %s", error)
        self._write(record)

    def _write(self, record: Record) -> None:
        text = jsonl.render(record) if self._as_json else lines.render(record)
        if text is None or not self._stdout_open:
            return
        try:
            self._stdout.write(text + "\n")
            self._stdout.flush()
        except (BrokenPipeError, ValueError):  # ValueError: the stream was closed under us
            self._stdout_open = False


async def run_headless(
    settings: Settings,
    script: Script | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    session_factory: SessionFactory | None = None,
) -> int:
    """Run one headless session for ``settings``; returns the exit code (:mod:`agent_tui.exit_codes`)."""
    script = script or Script()
    out_stream = stdout if stdout is not None else sys.stdout
    err_stream = stderr if stderr is not None else sys.stderr
    secrets = settings.secret_values()
    debug = settings.log_level == "debug"
    as_json = settings.output == "json"

    output = _Output(out_stream, as_json=as_json)

    def report(outcome: Outcome) -> int:
        if outcome.error is not None:
            message = redact(outcome.error, *secrets)
            _print_error(err_stream, message)
            if as_json:
                output.emit(RunError(message=message, exit_code=outcome.exit_code))
        output.emit(RunEnded(exit_code=outcome.exit_code, reason=outcome.reason))
        return outcome.exit_code

    transcript: TranscriptFile | None = None
    if settings.transcript is not None:
        try:
            transcript = TranscriptFile.open(settings.transcript)
        except OSError as error:
            reason = error.strerror or str(error)
            return report(
                Outcome(
                    ExitCode.USAGE_ERROR,
                    "the transcript file cannot be opened",
                    f"Cannot open the transcript file {settings.transcript} ({reason}) — check the path.",
                )
            )
        output.transcript = transcript
    if settings.metrics is not None:
        try:
            output.metrics = MetricsFile.open(settings.metrics)
        except OSError as error:
            if transcript is not None:
                transcript.close()
            reason = error.strerror or str(error)
            return report(
                Outcome(
                    ExitCode.USAGE_ERROR,
                    "the metrics file cannot be opened",
                    f"Cannot open the metrics file {settings.metrics} ({reason}) — check the path.",
                )
            )
    audio: AudioEngine | None = None
    try:
        async with contextlib.AsyncExitStack() as parts:
            try:
                if session_factory is not None:
                    session = session_factory(settings)
                else:
                    from agent_tui.wiring.session import open_conversation

                    # Publishes --camera / --screen / --video-file once connected; failures are warnings.
                    conversation = await parts.enter_async_context(open_conversation(settings))
                    audio = conversation.audio
                    if audio is not None and audio.status.text_only and audio.status.reason:
                        output.emit(RunWarning(message=audio.status.reason))
                    session = conversation.session
            except ConfigError as error:
                code = exit_code_for(error)
                return report(Outcome(code, _reason_for(code), str(error)))
            from agent_tui.scenario.record import recording_for

            def warn(message: str) -> None:
                output.emit(RunWarning(message=message))

            with recording_for(session.events, settings, on_warning=warn):
                outcome = await _Run(session, settings, script, output, err_stream, audio=audio).run()
        return report(outcome)
    except Exception as error:  # a bug of ours: still one line, and the traceback only on request
        if debug:
            err_stream.write(redact("".join(traceback.format_exception(error)), *secrets))
        return report(_internal_error(error))
    finally:
        if transcript is not None:
            transcript.close()
        if output.metrics is not None:
            output.metrics.close()


def _print_error(stream: TextIO, message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.write(f"agent-tui: {message}\n")
        stream.flush()


#: The ``end`` record's reason for an error exit, short enough for the human-readable line.
_ERROR_REASONS: dict[int, str] = {
    ExitCode.USAGE_ERROR: "configuration error",
    ExitCode.AUTH_ERROR: "token or auth error",
    ExitCode.CONNECTION_ERROR: "connection error",
    ExitCode.AGENT_TIMEOUT: "the agent did not become ready",
    ExitCode.AGENT_LEFT: "the agent left unexpectedly",
}


def _reason_for(code: int) -> str:
    return _ERROR_REASONS.get(code, "error")


def _internal_error(error: BaseException) -> Outcome:
    return Outcome(
        ExitCode.INTERNAL_ERROR,
        "internal error",
        f"internal error: {type(error).__name__}: {error} — rerun with --log-level debug and report "
        "the traceback.",
    )


class _Run:
    """One run's moving parts; lives exactly as long as :meth:`run`."""

    def __init__(
        self,
        session: Conversation,
        settings: Settings,
        script: Script,
        output: _Output,
        stderr: TextIO,
        *,
        audio: AudioEngine | None = None,
    ) -> None:
        self._session = session
        self._audio = audio
        self._stderr = stderr
        self._settings = settings
        self._script = script
        self._output = output
        self._policy = RunPolicy(exit_when=settings.effective_exit_when(has_sends=bool(script.sends)))
        self._insight_seen = False
        self._agent_metrics_at = 0.0
        self._speaks = audio is not None and settings.audio.input_wav is not None and audio.source is not None
        self._changed = asyncio.Event()
        self._done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._announced = False
        self._signals: list[signal.Signals] = []

    async def run(self) -> Outcome:
        unsubscribe = self._session.events.subscribe(self._on_event)
        self._install_signal_handlers()
        driver = asyncio.create_task(self._drive())
        driver.add_done_callback(self._on_driver_done)
        try:
            outcome = await self._done
        finally:
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
            self._policy.ending()
            try:
                await asyncio.wait_for(self._session.end(), END_TIMEOUT)
            except TimeoutError:
                self._output.emit(RunWarning(message=f"The session did not end within {END_TIMEOUT:g} s."))
            except Exception as error:
                log.warning("ending the session failed: %s", error)
            self._remove_signal_handlers()
            unsubscribe()
        return outcome

    # -- ending ------------------------------------------------------------------------------------------
    def _finish(self, outcome: Outcome) -> None:
        if not self._done.done():
            self._done.set_result(outcome)

    def _on_driver_done(self, task: asyncio.Task[Outcome | None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            outcome = task.result()
            if outcome is not None:
                self._finish(outcome)
            return
        if isinstance(error, SessionLibraryError):
            code = exit_code_for(error)
            self._finish(Outcome(code, _reason_for(code), str(error)))
            return
        if self._settings.log_level == "debug":
            with contextlib.suppress(OSError, ValueError):
                self._stderr.write(self._redact("".join(traceback.format_exception(error))))
        self._finish(_internal_error(error))

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig, code, reason in (
            (signal.SIGINT, ExitCode.INTERRUPTED, "interrupted (SIGINT)"),
            (signal.SIGTERM, ExitCode.TERMINATED, "terminated (SIGTERM)"),
        ):
            try:
                loop.add_signal_handler(sig, self._on_signal, Outcome(code, reason))
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # not the main thread, or Windows: KeyboardInterrupt still reaches the CLI
            self._signals.append(sig)

    def _on_signal(self, outcome: Outcome) -> None:
        self._finish(outcome)
        # A second signal while we end must not be swallowed: give the defaults back.
        self._remove_signal_handlers()

    def _remove_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
        self._signals.clear()

    # -- events ------------------------------------------------------------------------------------------
    def _on_event(self, event: SessionEvent) -> None:
        if (
            isinstance(event, ConnectionStateChanged)
            and event.state is ConnectionState.CONNECTED
            and not self._announced
        ):
            self._announced = True
            self._output.emit(
                RunStarted(
                    room=self._session.room_name,
                    identity=self._session.local_identity,
                    url=self._session.server_url or self._settings.url,
                    agent=self._settings.agent,
                )
            )
        if isinstance(event, InsightEvent):
            self._insight_seen = True
            if isinstance(event, TurnMetrics) and event.role == "assistant":
                self._agent_metrics_at = event.at
        self._output.emit(event)
        outcome = self._policy.observe(event)
        if outcome is not None:
            self._finish(outcome)
        self._changed.set()

    async def _wait_until(self, condition: Callable[[], bool], seconds: float) -> bool:
        """Whether ``condition`` became true within ``seconds``; re-checked after every event."""

        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), seconds)
        except TimeoutError:
            return False
        return True

    # -- the driver --------------------------------------------------------------------------------------
    async def _drive(self) -> Outcome | None:
        session, script, policy = self._session, self._script, self._policy
        for name in script.data_tracks:  # before the start: a track published as we join is not missed
            session.subscribe_data_track(name, every_frame=True)
        await session.start()
        policy.started()
        if not script.empty or policy.exit_when != "never":
            await session.wait_for_agent()
        for method, payload in script.rpcs:
            await self._rpc(method, payload)
        for path in script.send_files:
            await self._send_file(path)
        answer_timeout = self._settings.answer_timeout
        for number, text in enumerate(script.sends, start=1):
            if not await self._wait_until(lambda: policy.ready_to_send, answer_timeout):
                self._warn(
                    f"The agent is not listening after {answer_timeout:g} s; sending message {number} anyway."
                )
            policy.sending(time.time())
            await session.send_chat(text)
            if not await self._wait_until(lambda: policy.answered, answer_timeout):
                self._warn(f"No answer to message {number} within {answer_timeout:g} s; going on.")
            policy.stop_waiting()
        if self._speaks:
            await self._speak_input_wav()
        await self._last_turn_metrics()
        return policy.script_finished()

    async def _last_turn_metrics(self) -> None:
        """An agent with a session stream reports a turn's figures just after the turn: wait briefly for
        them, so ``--metrics`` and the JSONL hold the last turn's agent figures too."""
        if not self._insight_seen or (not self._script.sends and not self._speaks):
            return
        answered_at = time.time()
        await self._wait_until(lambda: self._agent_metrics_at >= answered_at - 1.0, LAST_METRICS_GRACE)

    async def _speak_input_wav(self) -> None:
        """``--input-wav`` is a spoken question: wait until it has been sent, the agent has heard it (a
        final user transcript) and has answered, as a ``--send`` is waited for."""
        audio, policy, answer_timeout = self._audio, self._policy, self._settings.answer_timeout
        assert audio is not None
        began = time.time()
        await audio.wait_input_done()

        heard: list[Message] = []

        def transcribed() -> bool:
            # Remember the first final transcript: a later interim stream of the same segment may
            # make it non-final again for a moment, and the question has been heard all the same.
            if not heard:
                heard.extend(
                    m
                    for m in self._session.messages
                    if m.speaker is Speaker.USER
                    and m.kind is MessageKind.TRANSCRIPT
                    and m.final
                    and m.first_seen >= began
                )
            return bool(heard)

        if not await self._wait_until(transcribed, answer_timeout):
            self._warn(f"The agent did not transcribe the input WAV within {answer_timeout:g} s.")
            return
        question = heard[-1]
        policy.sending(question.first_seen)
        if not await self._wait_until(lambda: policy.answered, answer_timeout):
            self._warn(f"No answer to the input WAV within {answer_timeout:g} s.")
        policy.stop_waiting()

    async def _rpc(self, method: str, payload: str) -> None:
        """One RPC call; a failure is reported in its ``rpc`` record and the script goes on."""
        try:
            reply = await self._session.perform_rpc(method, payload)
        except SessionLibraryError as error:
            self._output.emit(RpcResult(method=method, error=self._redact(str(error))))
            return
        self._output.emit(RpcResult(method=method, response=reply))

    async def _send_file(self, path: Path) -> None:
        try:
            stream_id = await self._session.send_file(path)
        except (SessionLibraryError, OSError) as error:
            self._warn(f"Could not send {path}: {self._redact(str(error))}")
            return
        self._output.emit(FileSent(path=str(path), stream_id=stream_id))

    def _warn(self, message: str) -> None:
        self._output.emit(RunWarning(message=message))

    def _redact(self, text: str) -> str:
        return redact(text, *self._settings.secret_values())
