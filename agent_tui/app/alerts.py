"""Problems and the banner: what the app tells the user about the connection and what went wrong.

The app holds the current :class:`~.problems.Problem` and the banner's :class:`BannerNote` as reactives;
this module decides what they say (:func:`banner_for_connection`, :func:`waiting_banner`) and how a
problem is shown (:class:`ProblemDisplay`): a problem the conversation survives is a notification (its
panel shows the state): a dialog would take the keyboard from the chat input while the user types. Only
a problem that stops the conversation opens the error panel, and clearing it closes the panel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from agent_tui.session import AgentState, ConnectionState, ConnectionStateChanged

from .problems import Problem
from .screens.error_panel import ErrorPanel
from .widgets.banner import BannerNote

#: How long a warning (a problem the conversation survives) stays on screen, in seconds.
WARNING_TIMEOUT = 10.0
CONNECTING = BannerNote("Connecting to the LiveKit server…")
NOT_CONNECTED = BannerNote("Not connected — F5 to retry.", "error")
ENDING = BannerNote("Ending the session… (press again to leave at once)")
WAITING = BannerNote("Connected — waiting for the agent to join…")
RECONNECTING = BannerNote("⟳ Reconnecting… the connection dropped; the conversation is kept.", "warning")
ENDED = BannerNote("Session ended — F5 starts a new one.")
DISCONNECTED = BannerNote("✖ Disconnected — F5 to reconnect.", "error")


def ended_on_purpose(event: ConnectionStateChanged, *, ending: bool) -> bool:
    """A disconnect we asked for (end, quit, a failed start) rather than a lost connection."""
    return ending or event.deliberate


def banner_for_connection(event: ConnectionStateChanged, *, ending: bool) -> BannerNote | None:
    """The banner a connection change brings, or None where the agent's state decides (connected)."""
    if event.state is ConnectionState.CONNECTING:
        return CONNECTING
    if event.state is ConnectionState.RECONNECTING:
        return RECONNECTING
    if event.state is ConnectionState.CONNECTED:
        return None
    return ENDED if ended_on_purpose(event, ending=ending) else DISCONNECTED


def waiting_banner(agent: AgentState) -> BannerNote | None:
    """While connected: nothing once the agent is here (or failed: its panel says so), else waiting."""
    return None if agent.is_connected or agent is AgentState.FAILED else WAITING


class ProblemHost(Protocol):
    """What :class:`ProblemDisplay` needs of the app."""

    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., timeout: float | None = ...
    ) -> None: ...

    def push_screen(self, screen: Any, callback: Callable[[Any], None] | None = ...) -> Any: ...

    def exit(self, result: Any = ...) -> None: ...

    def action_reconnect(self) -> Any: ...


class ProblemDisplay:
    """Shows the app's current problem: called from the app's ``watch_problem``."""

    def __init__(self, host: ProblemHost) -> None:
        self._host = host
        self._screen: ErrorPanel | None = None

    def warn(self, problem: Problem) -> None:
        self._host.notify(problem.text, title=problem.title, severity="warning", timeout=WARNING_TIMEOUT)

    def show(self, problem: Problem | None) -> None:
        """Open the error panel for ``problem`` (replacing another), or close it for None."""
        if problem is None:
            self.close("resolved")
            return
        if self._screen is not None:
            if self._screen.problem == problem:
                return
            self._screen.dismiss("replaced")
        screen = ErrorPanel(problem)
        self._screen = screen

        def chosen(choice: str | None) -> None:
            if self._screen is screen:
                self._screen = None
            if choice == "retry":
                self._host.action_reconnect()
            elif choice == "quit":
                self._host.exit(problem.exit_code)

        self._host.push_screen(screen, chosen)

    def close(self, why: str) -> bool:
        """Close the panel if one is open; True if one was."""
        screen, self._screen = self._screen, None
        if screen is None:
            return False
        screen.dismiss(why)
        return True
