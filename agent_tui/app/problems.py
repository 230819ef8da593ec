"""What the app says about each kind of problem: a title, the one-line message the error already carries
(what happened, what to do), whether retrying can help, and whether the conversation survives it.

Kept apart from the screens so the wording is tested without a terminal, and so every failure the app
can meet maps to words rather than a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agent_tui.audio.errors import AudioDeviceError
from agent_tui.exit_codes import ExitCode, exit_code_for
from agent_tui.session import (
    AgentFailure,
    AgentLeftError,
    AgentTimeoutError,
    AuthRejectedError,
    ConnectionFailedError,
    SessionError,
    TokenSourceError,
)


@dataclass(frozen=True)
class Problem:
    """One panel's worth: ``retry`` offers "Retry" (restart the session); ``exit_code`` is what the
    process returns if the user quits from the panel. A ``survivable`` problem leaves the conversation
    going (no audio device: it goes on text-only), so it is a notification, never a dialog that takes the
    keyboard; the others stop the conversation and open the error panel."""

    title: str
    message: str
    hint: str | None
    retry: bool
    exit_code: int
    kind: str
    survivable: bool = False

    @property
    def text(self) -> str:
        """The message and the hint, as one notification says them."""
        return f"{self.message} {self.hint}" if self.hint else self.message


def problem_for_error(error: BaseException) -> Problem:
    """The panel for an error raised while starting or running the session: it stopped the conversation."""
    message = str(error) or type(error).__name__
    code = exit_code_for(error)
    if isinstance(error, AuthRejectedError):
        return Problem("The server refused the token", message, None, True, code, "token")
    if isinstance(error, TokenSourceError):
        return Problem("Could not get a token", message, None, True, code, "token")
    if isinstance(error, ConnectionFailedError):
        return Problem("Cannot reach the LiveKit server", message, None, True, code, "connection")
    if isinstance(error, AgentTimeoutError):
        return Problem("The agent did not join", message, None, True, code, "agent")
    if isinstance(error, AgentLeftError):
        return Problem("The agent left", message, None, True, code, "agent")
    if isinstance(error, AudioDeviceError):  # it stopped the session: not the text-only warning
        return replace(problem_for_audio(message), survivable=False)
    if isinstance(error, SessionError):
        return Problem("The session stopped", message, None, True, code, "session")
    return Problem(
        "Something went wrong",
        f"{type(error).__name__}: {message}",
        "This is a bug in agent-tui; the log has the details. Retrying may help.",
        True,
        code,
        "internal",
    )


def problem_for_failure(failure: AgentFailure) -> Problem:
    """The panel for the agent state ``failed``."""
    title = {
        AgentFailure.DID_NOT_JOIN: "The agent did not join",
        AgentFailure.DID_NOT_INITIALIZE: "The agent did not start",
        AgentFailure.LEFT: "The agent left",
    }[failure]
    hint = f"{failure.hint[0].upper()}{failure.hint[1:]}."
    code = ExitCode.AGENT_LEFT if failure is AgentFailure.LEFT else ExitCode.AGENT_TIMEOUT
    return Problem(title, failure.value, hint, True, code, "agent")


def problem_for_connection_lost(reason: str | None) -> Problem:
    detail = f" ({reason})" if reason else ""
    return Problem(
        "Connection lost",
        f"The connection to the LiveKit server was lost{detail}.",
        "Check the network and that the server is running, then reconnect. The transcript is kept.",
        True,
        ExitCode.CONNECTION_ERROR,
        "connection",
    )


def problem_for_audio(reason: str) -> Problem:
    """No audio device or no PortAudio: the session goes on text-only, so there is nothing to retry and
    nothing to stop for."""
    portaudio = "portaudio" in reason.lower()
    title = "PortAudio is missing" if portaudio else "No audio device"
    hint = (
        "Install it (Debian/Ubuntu: sudo apt-get install libportaudio2) and restart agent-tui."
        if portaudio
        else "Plug in a microphone and speakers (or pick others with F4); meanwhile you can chat by text."
    )
    return Problem(title, reason, hint, False, ExitCode.INTERNAL_ERROR, "audio", survivable=True)
