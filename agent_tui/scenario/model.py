"""What a scenario file says, as frozen dataclasses: the one description of the format.

The parser (:mod:`.parser`) checks a file against these classes and the JSON Schema shipped beside them
(``scenario.schema.json``) must agree with them; both derive the keys a file may use from the fields
here (:func:`scenario_keys`, :func:`step_keys`, ...), so adding an expectation is adding one field.

Field types are what the parser checks a value against: ``str``, ``float`` (an integer is accepted),
``bool``, ``dict[str, str]``, ``tuple[str, ...]``, ``dict[str, Any]`` (any TOML table), or one of the
small argument classes below (a TOML table with exactly their keys).
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The only format version this build reads.
FORMAT_VERSION = 1
#: What a scenario file's name ends with; folders are searched for it.
FILE_SUFFIX = ".scenario.toml"


@dataclass(frozen=True)
class RpcCall:
    """``rpc = { method, payload, reply }``: call ``method`` on the agent; ``reply`` is a substring the
    answer must contain (checked with the step's expectations)."""

    method: str
    payload: str = ""
    reply: str | None = None


@dataclass(frozen=True)
class Interrupt:
    """``interrupt = { after_ms, say }``: speak ``say`` ``after_ms`` into the agent's next answer."""

    say: str
    after_ms: float = 500.0


@dataclass(frozen=True)
class PushToTalk:
    """``push_to_talk = { say, cancel }``: the talk-start RPC, ``say`` spoken, then talk-end (or
    cancel-turn with ``cancel = true``)."""

    say: str
    cancel: bool = False


@dataclass(frozen=True)
class AttributeExpectation:
    """``attribute = { name, value }``: the agent participant's attribute ``name`` equals ``value``."""

    name: str
    value: str


#: Every step action and the type of its value; a step has exactly one of them.
ACTIONS: dict[str, type] = {
    "say": str,
    "send": str,
    "say_wav": str,
    "wait": float,
    "rpc": RpcCall,
    "interrupt": Interrupt,
    "push_to_talk": PushToTalk,
    "text_mode": bool,
}
#: Actions whose step sends speech: the voice-latency budget applies to them.
VOICE_ACTIONS = frozenset({"say", "say_wav", "interrupt", "push_to_talk"})


@dataclass(frozen=True)
class Expectations:
    """What must hold after a step; every field is optional (None: not checked)."""

    #: The agent's reply contains this (case-insensitive).
    reply: str | None = None
    #: A Python regular expression found in the reply (``re.search``).
    reply_matches: str | None = None
    #: The reply contains at least one of these (case-insensitive).
    reply_any_of: tuple[str, ...] | None = None
    #: The reply does not contain this (case-insensitive).
    reply_not: str | None = None
    #: Seconds during which the agent says nothing at all.
    no_reply_within: float | None = None
    #: A tool of this name was called during the step.
    tool: str | None = None
    #: A subset of that call's arguments (needs ``tool``).
    tool_args: dict[str, Any] | None = None
    #: A substring of that call's result (needs ``tool``).
    tool_result: str | None = None
    #: No tool of this name was called during the step.
    no_tool: str | None = None
    #: The agent reached this state during or after the step (``listening``, ``speaking``, ...).
    state: str | None = None
    #: An agent participant attribute has this value after the step.
    attribute: AttributeExpectation | None = None
    #: True: the agent left during the step; False: it is still in the room.
    agent_left: bool | None = None
    #: Client-measured voice-to-voice latency budget (voice steps).
    max_latency_ms: float | None = None
    #: The agent's own figures, when it publishes them.
    max_e2e_ms: float | None = None
    max_llm_ttft_ms: float | None = None
    max_tts_ttfb_ms: float | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in dataclasses.fields(self))


StepArgument = str | float | bool | Path | RpcCall | Interrupt | PushToTalk


@dataclass(frozen=True)
class Step:
    """One step: its 1-based ``index`` in the scenario, its ``action`` (a key of :data:`ACTIONS`) and
    that action's ``argument`` (``say_wav`` resolved to a Path beside the file)."""

    index: int
    action: str
    argument: StepArgument
    timeout: float | None = None
    expect: Expectations = field(default_factory=Expectations)
    line: int = 0

    @property
    def summary(self) -> str:
        """The step in a few words, for the report: ``say "what time is it"``."""
        argument = self.argument
        if isinstance(argument, RpcCall):
            text = f"{argument.method}({argument.payload!r})"
        elif isinstance(argument, Interrupt):
            text = f'"{argument.say}" after {argument.after_ms:g} ms'
        elif isinstance(argument, PushToTalk):
            text = f'"{argument.say}"' + (" (cancelled)" if argument.cancel else "")
        elif isinstance(argument, Path):
            text = argument.name
        elif isinstance(argument, str):
            text = f'"{argument}"'
        elif isinstance(argument, bool):
            text = "on" if argument else "off"
        else:
            text = f"{argument:g} s"
        return f"{self.action} {text}"

    @property
    def speaks(self) -> bool:
        return self.action in VOICE_ACTIONS


@dataclass(frozen=True)
class Scenario:
    """One ``[[scenario]]``: a conversation run in its own room. ``line`` is its header's line."""

    name: str
    source: Path
    line: int
    agent: str | None = None
    voice: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    metadata: str | None = None
    agent_metadata: str | None = None
    tags: tuple[str, ...] = ()
    step_timeout: float | None = None
    steps: tuple[Step, ...] = ()


# -- the keys a file may use, derived from the classes above -----------------------------------------------

#: Scenario fields that are not keys of the file (where it came from, and its steps' own table).
_NOT_SCENARIO_KEYS = ("source", "line", "steps")
#: Scenario keys that make no sense for every scenario of a file at once.
_NOT_DEFAULT_KEYS = ("name", "tags")
#: Step fields that are not keys: the action key names itself.
_NOT_STEP_KEYS = ("index", "action", "argument", "line")
#: The keys of the file's top level.
TOP_LEVEL_KEYS = ("version", "defaults", "scenario")
#: The key of a scenario's array of steps.
STEP_TABLE = "step"


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved annotation of each field of a dataclass of this module."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def scenario_keys() -> tuple[str, ...]:
    """The keys of a ``[[scenario]]`` table."""
    names = [f.name for f in dataclasses.fields(Scenario) if f.name not in _NOT_SCENARIO_KEYS]
    return (*names, STEP_TABLE)


def default_keys() -> tuple[str, ...]:
    """The keys of ``[defaults]``: every scenario key that can apply to all of a file's scenarios."""
    return tuple(key for key in scenario_keys() if key not in (*_NOT_DEFAULT_KEYS, STEP_TABLE))


def step_keys() -> tuple[str, ...]:
    """The keys of a ``[[scenario.step]]`` table: the actions, then the step's options."""
    options = [f.name for f in dataclasses.fields(Step) if f.name not in _NOT_STEP_KEYS]
    return (*ACTIONS, *options)


def expect_keys() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Expectations))


def argument_classes() -> dict[str, type]:
    """The actions and expectations whose value is a table, by key, with the class it becomes."""
    tables = {key: cls for key, cls in ACTIONS.items() if dataclasses.is_dataclass(cls)}
    for key, hint in field_types(Expectations).items():
        for arg in typing.get_args(hint):
            if isinstance(arg, type) and dataclasses.is_dataclass(arg):
                tables[key] = arg
    return tables
