"""Reading scenario files: TOML (stdlib ``tomllib``) checked against :mod:`.model`, one-line errors.

Every mistake in a file is a :class:`ScenarioFileError` whose text is one line naming the file, the line
and the key (``a.scenario.toml:12: key 'scenario[1].step[2].expect.reply_regex': unknown key (known:
...)``), so ``agent-tui test`` can print it and exit 2 instead of showing a traceback. Scenario and step
numbers in key paths count from 1, as a person reading the file counts.

``tomllib`` keeps no line numbers, so a key's line is found again in the text: the first line defining
that key at or after the header of the table it belongs to (good enough for a person to find it). A TOML
syntax error keeps ``tomllib``'s own line.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from collections.abc import Sequence
from pathlib import Path
from types import NoneType, UnionType
from typing import Any

from agent_tui.scenario.model import (
    ACTIONS,
    FILE_SUFFIX,
    FORMAT_VERSION,
    STEP_TABLE,
    TOP_LEVEL_KEYS,
    Expectations,
    Scenario,
    Step,
    default_keys,
    expect_keys,
    field_types,
    scenario_keys,
    step_keys,
)
from agent_tui.session import AgentState

__all__ = ["ScenarioFileError", "find_scenario_files", "load_scenarios", "parse_scenario_text"]

#: The agent states an ``expect.state`` may name: the Session's own.
AGENT_STATES = tuple(state.value for state in AgentState)
#: Keys whose number must be above zero (``after_ms`` may be 0: speak as soon as the agent does).
_POSITIVE = frozenset(
    {"wait", "timeout", "step_timeout", "no_reply_within", "max_latency_ms", "max_e2e_ms"}
    | {"max_llm_ttft_ms", "max_tts_ttfb_ms"}
)


class ScenarioFileError(Exception):
    """A scenario file that cannot be used; ``str()`` is one line: ``path:line: key 'k': problem``."""

    def __init__(self, path: Path, line: int, key: str | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: key '{key}': {problem}" if key else f"{where}: {problem}")


class _Problem(Exception):
    """A problem at a key path (a tuple of names and 1-based indexes), located later in the text."""

    def __init__(self, path: tuple[str | int, ...], problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


# -- files and folders ------------------------------------------------------------------------------------


def find_scenario_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and every ``*.scenario.toml`` under the folders named (sorted, recursively)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob(f"*{FILE_SUFFIX}") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise ScenarioFileError(path, 0, None, "no such file or folder")
    return found


def load_scenarios(paths: Sequence[Path]) -> list[Scenario]:
    """Every scenario of the files and folders in ``paths``, in file order then file position."""
    scenarios: list[Scenario] = []
    for path in find_scenario_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise ScenarioFileError(path, 0, None, f"cannot read the file ({reason})") from None
        scenarios.extend(parse_scenario_text(text, path))
    return scenarios


# -- one file ---------------------------------------------------------------------------------------------


def parse_scenario_text(text: str, source: Path) -> list[Scenario]:
    """The scenarios of one file's ``text``; ``source`` names it in errors and anchors ``say_wav``."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = (
            int(match.group(1)) if match else (len(text.splitlines()) if "end of document" in message else 0)
        )
        problem = re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", message)
        raise ScenarioFileError(source, line, None, f"not valid TOML: {problem}") from None
    try:
        return _Document(document, source, text).scenarios()
    except _Problem as problem:
        raise ScenarioFileError(
            source, _locate(text, problem.path), _key_name(problem.path), problem.problem
        ) from None


class _Document:
    def __init__(self, document: dict[str, Any], source: Path, text: str) -> None:
        self._doc = document
        self._source = source
        self._text = text

    def scenarios(self) -> list[Scenario]:
        doc = self._doc
        _known(doc, TOP_LEVEL_KEYS, ())
        if "version" not in doc:
            raise _Problem(("version",), f"missing: put 'version = {FORMAT_VERSION}' at the top of the file")
        if doc["version"] != FORMAT_VERSION or isinstance(doc["version"], bool):
            raise _Problem(
                ("version",),
                f"unsupported scenario format version {doc['version']!r} (this build reads {FORMAT_VERSION})",
            )
        defaults = _table(doc.get("defaults", {}), ("defaults",))
        _known(defaults, default_keys(), ("defaults",))
        tables = doc.get("scenario")
        if not isinstance(tables, list) or not tables:
            raise _Problem(("scenario",), "no scenarios: add at least one [[scenario]] table")
        scenarios: list[Scenario] = []
        seen: set[str] = set()
        for number, table in enumerate(tables, start=1):
            scenario = self._scenario(_table(table, ("scenario", number)), number, defaults)
            if scenario.name in seen:
                raise _Problem(("scenario", number, "name"), f"duplicate scenario name {scenario.name!r}")
            seen.add(scenario.name)
            scenarios.append(scenario)
        return scenarios

    def _scenario(self, table: dict[str, Any], number: int, defaults: dict[str, Any]) -> Scenario:
        where: tuple[str | int, ...] = ("scenario", number)
        _known(table, scenario_keys(), where)
        types = field_types(Scenario)
        values: dict[str, Any] = {}
        for key in default_keys():
            if key in table:
                values[key] = _value(table[key], types[key], (*where, key))
            elif key in defaults:
                values[key] = _value(defaults[key], types[key], ("defaults", key))
        if "tags" in table:
            values["tags"] = _value(table["tags"], types["tags"], (*where, "tags"))
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _Problem((*where, "name"), "missing: every scenario needs a name (a non-empty string)")
        steps = table.get(STEP_TABLE)
        if not isinstance(steps, list) or not steps:
            raise _Problem((*where, STEP_TABLE), "no steps: add at least one [[scenario.step]] table")
        parsed = tuple(
            self._step(_table(step, (*where, STEP_TABLE, index)), index, where)
            for index, step in enumerate(steps, start=1)
        )
        line = _locate(self._text, where)
        return Scenario(name=name, source=self._source, line=line, steps=parsed, **values)

    def _step(self, table: dict[str, Any], index: int, scenario: tuple[str | int, ...]) -> Step:
        where = (*scenario, STEP_TABLE, index)
        _known(table, step_keys(), where)
        actions = [key for key in ACTIONS if key in table]
        if len(actions) != 1:
            found = f"it has {', '.join(actions)}" if actions else "it has none"
            raise _Problem(where, f"a step needs exactly one action of {', '.join(ACTIONS)} ({found})")
        action = actions[0]
        argument = _value(table[action], ACTIONS[action], (*where, action))
        if action == "say_wav":
            wav = (self._source.parent / argument).resolve()
            if not wav.is_file():
                raise _Problem((*where, action), f"no such WAV file: {wav}")
            argument = wav
        types = field_types(Step)
        timeout = (
            _value(table["timeout"], types["timeout"], (*where, "timeout")) if "timeout" in table else None
        )
        expect = self._expect(table.get("expect", {}), (*where, "expect"))
        return Step(
            index=index,
            action=action,
            argument=argument,
            timeout=timeout,
            expect=expect,
            line=_locate(self._text, where),
        )

    def _expect(self, raw: Any, where: tuple[str | int, ...]) -> Expectations:
        table = _table(raw, where)
        _known(table, expect_keys(), where)
        types = field_types(Expectations)
        values = {key: _value(value, types[key], (*where, key)) for key, value in table.items()}
        if "reply_matches" in values:
            try:
                re.compile(values["reply_matches"])
            except re.error as error:
                raise _Problem(
                    (*where, "reply_matches"), f"not a valid regular expression ({error})"
                ) from None
        if "state" in values and values["state"] not in AGENT_STATES:
            raise _Problem(
                (*where, "state"), f"unknown state {values['state']!r} (known: {', '.join(AGENT_STATES)})"
            )
        for key in ("tool_args", "tool_result"):
            if key in values and "tool" not in values:
                raise _Problem((*where, key), "needs 'tool' (the name of the call it describes)")
        return Expectations(**values)


# -- values -----------------------------------------------------------------------------------------------


def _table(value: Any, where: tuple[str | int, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Problem(where, f"must be a table, got {_kind(value)}")
    return value


def _known(table: dict[str, Any], known: Sequence[str], where: tuple[str | int, ...]) -> None:
    for key in table:
        if key not in known:
            raise _Problem((*where, key), f"unknown key (known: {', '.join(known)})")


def _value(value: Any, hint: Any, where: tuple[str | int, ...]) -> Any:
    """``value`` checked against a field type of :mod:`.model` (see its docstring), converted."""
    options = [arg for arg in typing.get_args(hint) if arg is not NoneType] if _is_union(hint) else [hint]
    expected = options[0]
    origin = typing.get_origin(expected)
    key = where[-1]
    if expected is str:
        if not isinstance(value, str):
            raise _Problem(where, f"must be a string, got {_kind(value)}")
        return value
    if expected is bool:
        if not isinstance(value, bool):
            raise _Problem(where, f"must be true or false, got {_kind(value)}")
        return value
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Problem(where, f"must be a number, got {_kind(value)}")
        minimum_ok = value > 0 if key in _POSITIVE else value >= 0
        if not minimum_ok:
            raise _Problem(where, f"must be {'above' if key in _POSITIVE else 'at least'} 0, got {value!r}")
        return float(value)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _Problem(where, f"must be a list of strings, got {_kind(value)}")
        return tuple(value)
    if origin is dict:
        table = _table(value, where)
        value_type = typing.get_args(expected)[1]
        if value_type is str and not all(isinstance(item, str) for item in table.values()):
            raise _Problem(where, 'must be a table of strings (key = "value")')
        return dict(table)
    if dataclasses.is_dataclass(expected) and isinstance(expected, type):
        return _argument(value, expected, where)
    raise AssertionError(f"no check for the field type {hint!r}")  # a model field the parser lacks


def _argument(value: Any, cls: type, where: tuple[str | int, ...]) -> Any:
    """A table with ``cls``'s keys (an inline table such as ``rpc = { method = "m" }``)."""
    table = _table(value, where)
    fields = dataclasses.fields(cls)
    _known(table, [f.name for f in fields], where)
    types = field_types(cls)
    values: dict[str, Any] = {}
    for f in fields:
        if f.name in table:
            values[f.name] = _value(table[f.name], types[f.name], (*where, f.name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _Problem((*where, f.name), "missing")
    return cls(**values)


def _is_union(hint: Any) -> bool:
    return isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


# -- where a key is -----------------------------------------------------------------------------------------


def _key_name(path: tuple[str | int, ...]) -> str:
    """``('scenario', 1, 'step', 2, 'say')`` as ``scenario[1].step[2].say``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _locate(text: str, path: tuple[str | int, ...]) -> int:
    """The 1-based line where the key at ``path`` is defined, or its nearest enclosing table's line."""
    lines = text.splitlines()
    position = 0  # index of the line where the current table begins
    found_line = 0
    tables: list[str] = []
    parts = list(path)
    i = 0
    while i < len(parts):
        part = parts[i]
        assert isinstance(part, str)
        if i + 1 < len(parts) and isinstance(parts[i + 1], int):
            tables.append(part)
            number = parts[i + 1]
            assert isinstance(number, int)
            header = re.compile(rf"^\s*\[\[\s*{re.escape('.'.join(tables))}\s*\]\]")
            hits = [n for n in range(position, len(lines)) if header.match(lines[n])]
            if len(hits) < number:
                return found_line
            position = hits[number - 1]
            found_line = position + 1
            i += 2
            continue
        header = re.compile(rf"^\s*\[\s*{re.escape('.'.join([*tables, part]))}\s*\]")
        definition = re.compile(rf"^\s*(\"?){re.escape(part)}\1\s*=|[{{,]\s*{re.escape(part)}\s*=")
        for n in range(position, len(lines)):
            if n > position and re.match(r"^\s*\[", lines[n]) and not header.match(lines[n]):
                break  # the next table: the key is not in this one
            if header.match(lines[n]) or definition.search(lines[n]):
                position = n
                found_line = n + 1
                break
        tables.append(part)
        i += 1
    return found_line
