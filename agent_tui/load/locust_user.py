"""``ConversationUser``: a Locust user that holds scripted conversations with a voice agent.

Each iteration of a simulated user is one scenario run (:func:`agent_tui.scenario.runner.run_scenario`)
in a new room, exactly as ``agent-tui test`` runs it, on the process's one asyncio loop
(:mod:`.bridge`); its phases are then reported to Locust as requests of type ``agent-tui``
(:mod:`.phases`): ``connect``, ``agent joined``, ``first answer``, ``turn N`` / ``turn N voice-to-voice``,
``conversation``, each with its time, a missed expectation or a timeout as a failure whose message says
what was expected and what came.

In a locustfile of your own (run with ``LOCUST_SKIP_MONKEY_PATCH=1 locust -f ...``, see :mod:`.bridge`)::

    from agent_tui.load.locust_user import ConversationUser

    class Caller(ConversationUser):
        scenario_paths = ("calls/",)       # *.scenario.toml files or folders
        # settings: from the environment and agent-tui's config file, as the CLI resolves them

With several scenarios, a user takes them in turn, iteration by iteration.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import gevent
from locust import User, constant, task
from locust.exception import StopUser

from agent_tui.load.bridge import shared_loop
from agent_tui.load.phases import CONVERSATION, phase_samples

if TYPE_CHECKING:
    from locust.env import Environment

    from agent_tui.config import Settings
    from agent_tui.scenario.model import Scenario
    from agent_tui.scenario.results import ScenarioResult
    from agent_tui.scenario.speech import Speech

__all__ = ["REQUEST_TYPE", "ConversationUser", "PhaseFailure", "join_gate", "process_speech", "time_limit"]

#: Locust's "Type" column for every phase.
REQUEST_TYPE: Final = "agent-tui"
#: Seconds a conversation may run beyond its steps' and the agent's own time limits before it is called off.
CONVERSATION_MARGIN: Final = 30.0


@functools.cache
def _join_gate(pid: int) -> asyncio.Lock:
    return asyncio.Lock()


def join_gate() -> asyncio.Lock:
    """The process's one gate that conversations *join* through one at a time (the runner holds it from
    connecting until the agent joined): a livekit-agents worker with no job running refuses the second
    of two simultaneous job requests, and no server offers a refused job again, so callers that all
    dialled at once would lose their agents to the generator's haste, not to the agent's capacity.
    The wait for it is no phase of its own (``connect`` starts once through it); it is part of the
    ``conversation``."""
    return _join_gate(os.getpid())


@functools.cache
def _speech(pid: int) -> Speech:
    from agent_tui.scenario.runner import SAMPLE_RATE
    from agent_tui.scenario.speech import Speech

    return Speech(SAMPLE_RATE)


def process_speech() -> Speech:
    """The process's one maker of phrases: every simulated user's ``say`` of the same words (and voice)
    is synthesised once per process and reused, so the generator spends its CPU on conversations."""
    return _speech(os.getpid())


def time_limit(scenario: Scenario, settings: Settings, step_timeout: float | None) -> float:
    """The longest one conversation of ``scenario`` may take: the agent's time to come, every step's
    time limit, and a margin for connecting and hanging up."""
    from agent_tui.scenario.runner import step_timeout_for

    steps = sum(step_timeout_for(step, scenario, step_timeout) for step in scenario.steps)
    return settings.agent_timeout + steps + CONVERSATION_MARGIN


class PhaseFailure(Exception):
    """Why a phase failed, as Locust shows it in its failures table (one line)."""


class ConversationUser(User):
    """One simulated caller; see the module docstring. Subclass it, or let ``agent-tui load`` do it."""

    abstract = True
    #: No pause between conversations: a caller hangs up and calls again (override for think time).
    wait_time = constant(0)
    #: The scenario files or folders to replay.
    scenario_paths: ClassVar[Sequence[str | Path]] = ()
    #: The connection; None: from the environment and the config file, as ``agent-tui`` resolves them.
    settings: ClassVar[Settings | None] = None
    #: ``--timeout``: how long each step may take unless it says (None: the file's, else 30 s).
    step_timeout: ClassVar[float | None] = None
    #: Stop after this many conversations (None: until the test ends).
    iterations: ClassVar[int | None] = None

    _loaded: ClassVar[tuple[list[Scenario], Settings] | None] = None

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._scenarios, self._settings = self._load()
        self._runs = 0

    @classmethod
    def _load(cls) -> tuple[list[Scenario], Settings]:
        """The scenarios and settings, read once per class (every user of a process shares them)."""
        loaded = cls.__dict__.get("_loaded")
        if loaded is None:
            from agent_tui.config import load_settings
            from agent_tui.scenario.parser import load_scenarios

            scenarios = load_scenarios([Path(path) for path in cls.scenario_paths])
            if not scenarios:
                raise ValueError(f"{cls.__name__}: no scenario in {list(cls.scenario_paths)!r}")
            settings = cls.settings if cls.settings is not None else load_settings({})
            loaded = (scenarios, settings)
            cls._loaded = loaded
        return loaded

    @task
    def converse(self) -> None:
        """One conversation, its phases reported; the user stops after :attr:`iterations` of them."""
        scenario = self._scenarios[self._runs % len(self._scenarios)]
        self._runs += 1
        began = time.monotonic()
        outcome = self.converse_once(scenario, self._runs)
        self.report(scenario, outcome, waited_s=time.monotonic() - began)
        if self.iterations is not None and self._runs >= self.iterations:
            raise StopUser()

    def converse_once(self, scenario: Scenario, run: int) -> ScenarioResult | str:
        """Run ``scenario`` on the shared loop, waiting cooperatively; its result, or why there is none."""
        from agent_tui.scenario.runner import run_scenario

        # A safety net only (every step and the agent's coming have limits of their own): generous, since
        # this process's other users may be joining ahead of this one.
        queued = max(getattr(self.environment.runner, "user_count", 1), 1)
        limit = self.time_limit(scenario) + self._settings.agent_timeout * queued
        conversation = run_scenario(
            scenario,
            self._settings,
            run=run,
            step_timeout=self.step_timeout,
            start_gate=join_gate(),
            speech=process_speech(),
        )
        try:
            return shared_loop().run(conversation, timeout=limit)
        except gevent.Timeout:
            return f"the conversation did not end within {limit:g} s"

    def time_limit(self, scenario: Scenario) -> float:
        return time_limit(scenario, self._settings, self.step_timeout)

    def report(self, scenario: Scenario, outcome: ScenarioResult | str, waited_s: float = 0.0) -> None:
        """Fire one Locust request per phase of ``outcome``; a bare reason is the conversation's failure,
        after ``waited_s``."""
        fire = self.environment.events.request.fire
        context: dict[str, Any] = {"scenario": scenario.name}
        if isinstance(outcome, str):
            fire(
                request_type=REQUEST_TYPE,
                name=CONVERSATION,
                response_time=waited_s * 1000.0,
                response_length=0,
                exception=PhaseFailure(outcome),
                context=context,
            )
            return
        context["room"] = outcome.room
        for sample in phase_samples(outcome):
            fire(
                request_type=REQUEST_TYPE,
                name=sample.name,
                response_time=sample.response_time_ms,
                response_length=0,
                exception=PhaseFailure(sample.failure) if sample.failure is not None else None,
                context=context,
            )
