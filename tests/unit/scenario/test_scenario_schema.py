"""The JSON Schema for editors and the parser accept the same keys, and every shipped example parses."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from agent_tui.scenario import model
from agent_tui.scenario.parser import AGENT_STATES, load_scenarios

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    text = resources.files("agent_tui.scenario").joinpath("scenario.schema.json").read_text("utf-8")
    return json.loads(text)


def keys(schema: dict[str, Any], name: str) -> list[str]:
    return list(schema["$defs"][name]["properties"])


def test_the_schema_ships_with_the_package_and_has_the_models_keys(schema: dict[str, Any]) -> None:
    assert list(schema["properties"]) == list(model.TOP_LEVEL_KEYS)
    assert keys(schema, "defaults") == list(model.default_keys())
    assert keys(schema, "scenario") == list(model.scenario_keys())
    assert keys(schema, "step") == list(model.step_keys())
    assert keys(schema, "expect") == list(model.expect_keys())
    actions = [option["required"][0] for option in schema["$defs"]["step"]["oneOf"]]
    assert actions == list(model.ACTIONS)


def test_the_schemas_tables_have_the_argument_classes_fields(schema: dict[str, Any]) -> None:
    import dataclasses

    for key, cls in model.argument_classes().items():
        fields = dataclasses.fields(cls)
        definition = schema["$defs"][key]
        assert list(definition["properties"]) == [f.name for f in fields], key
        required = [f.name for f in fields if f.default is dataclasses.MISSING]
        assert definition["required"] == required, key
        assert definition["additionalProperties"] is False


def test_the_schemas_states_are_the_parsers(schema: dict[str, Any]) -> None:
    assert schema["$defs"]["expect"]["properties"]["state"]["enum"] == list(AGENT_STATES)


def test_every_shipped_example_parses() -> None:
    files = sorted(EXAMPLES.glob("*.scenario.toml"))
    assert len(files) >= 2
    scenarios = load_scenarios(files)
    assert {step.action for s in scenarios for step in s.steps} >= {"say", "send"}
