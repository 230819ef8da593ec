"""``agent-tui test`` end to end: scenario files run by ``agent-tui demo test`` against the real demo worker.

- the shipped examples pass (``agent-tui demo test examples/``, exit 0): the text scenario's answers, and
  the voice scenario's spoken time question answered after a ``get_time`` call, with a client-measured
  voice-to-voice latency in the record;
- a scenario whose expected reply is wrong and whose expected tool is not called fails with exit 7, and
  both misses are reported as expected vs got, in the summary and in the JSON record;
- text mode on and off (a typed question answered in text, then a spoken one by voice again), a wait
  with nothing said, the agent's state and attributes, an RPC the agent does not have;
- push-to-talk against the demo agent in ``--ptt`` mode: a held turn is answered (with its tool call), a
  cancelled one is not, the next is answered on its own words;
- ``--jobs 3 --repeat 3``: three scenarios, three runs each, every run in a room of its own, three at once;
- a bad scenario file is exit 2 with one line naming the file, the line and the key, before anything starts.

Each test starts its own demo (dev server or livekit-server, and a worker: 3-8 s).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")

from tests.e2e.e2e_harness import DemoServer
from tests.e2e.scenario_harness import run_agent_tui, user_env

pytestmark = [pytest.mark.e2e]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def agent_tui(*args: str, within_s: float) -> tuple[int, str, str]:
    """``agent-tui ARGS`` as a user with no settings and no server of their own runs it."""
    return await run_agent_tui(*args, env=user_env(), within_s=within_s)


def results_of(path: Path) -> list[dict[str, Any]]:
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["v"] == 1
    results: list[dict[str, Any]] = record["results"]
    return results


def by_name(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {result["name"]: result for result in results}


@pytest.mark.timeout(150)
async def test_the_shipped_examples_pass_against_the_demo(tmp_path: Path, demo_server: DemoServer) -> None:
    record = tmp_path / "record.json"
    code, out, err = await agent_tui(
        "demo", "test", str(EXAMPLES), "--json", str(record), *demo_server.args, within_s=140
    )
    assert code == 0, f"{out}\n{err}"
    results = by_name(results_of(record))
    text = results["greets back and tells the time by chat"]
    hello, time_step = text["steps"]
    assert hello["passed"] and "how can i help" in hello["reply"].lower()
    assert [tool["name"] for tool in hello["tools"]] == []
    assert time_step["passed"] and [tool["name"] for tool in time_step["tools"]] == ["get_time"]
    assert time_step["reply"].startswith("The time is ")
    voice = results["asks the time by voice"]
    (spoken,) = voice["steps"]
    assert spoken["passed"], spoken
    assert [tool["name"] for tool in spoken["tools"]] == ["get_time"]
    assert spoken["tools"][0]["result"] in spoken["reply"]
    assert spoken["latency_ms"] is not None and 0 < spoken["latency_ms"] < 10_000
    assert spoken["answer_s"] > spoken["latency_ms"] / 1000  # the whole answer, not just its first sound
    assert any(event["type"] == "voice_latency" for event in voice["events"])
    assert text["room"] != voice["room"]
    assert "PASS" in out or "passed" in out


FAILING = """\
version = 1

[[scenario]]
name = "expects the wrong things"

  [[scenario.step]]
  send = "hello"
    [scenario.step.expect]
    reply = "the weather is sunny"
    tool = "get_weather"

  [[scenario.step]]
  rpc = { method = "no_such_method", reply = "ok" }
"""


@pytest.mark.timeout(120)
async def test_a_failing_scenario_reports_expected_vs_got_and_exits_7(
    tmp_path: Path, demo_server: DemoServer
) -> None:
    scenario = tmp_path / "failing.scenario.toml"
    scenario.write_text(FAILING, encoding="utf-8")
    record = tmp_path / "record.json"
    code, out, err = await agent_tui(
        "demo", "test", str(scenario), "--json", str(record), *demo_server.args, within_s=110
    )
    assert code == 7, f"{out}\n{err}"
    (result,) = results_of(record)
    assert result["passed"] is False and result["error"] is None
    step, rpc = result["steps"]
    assert step["error"] is None and "how can i help" in step["reply"].lower()
    (rpc_failure,) = rpc["failures"]
    assert rpc_failure["expectation"] == "rpc.reply" and "'ok'" in rpc_failure["expected"]
    assert "no_such_method" in rpc_failure["got"] and "1400" in rpc_failure["got"]
    failures = {failure["expectation"]: failure for failure in step["failures"]}
    assert set(failures) == {"reply", "tool"}
    assert "the weather is sunny" in failures["reply"]["expected"]
    assert "How can I help" in failures["reply"]["got"]
    assert "get_weather" in failures["tool"]["expected"] and failures["tool"]["got"] == "no tool calls"
    assert "the weather is sunny" in out and "get_weather" in out


EVERY_ACTION = r"""version = 1

[[scenario]]
name = "every action"

  [[scenario.step]]
  text_mode = true

  [[scenario.step]]
  send = "what time is it"
    [scenario.step.expect]
    tool = "get_time"
    reply_matches = '^The time is \d\d:\d\d\.$'

  [[scenario.step]]
  text_mode = false

  [[scenario.step]]
  say = "help"
    [scenario.step.expect]
    reply = "repeat what you say"
    no_tool = "get_time"

  [[scenario.step]]
  wait = 0.5
    [scenario.step.expect]
    no_reply_within = 1.5
    state = "listening"
    agent_left = false
    attribute = { name = "lk.agent.state", value = "listening" }
"""


@pytest.mark.timeout(150)
async def test_every_action_against_the_demo_agent(tmp_path: Path, demo_server: DemoServer) -> None:
    scenario = tmp_path / "every.scenario.toml"
    scenario.write_text(EVERY_ACTION, encoding="utf-8")
    record = tmp_path / "record.json"
    code, out, err = await agent_tui(
        "demo", "test", str(scenario), "--json", str(record), *demo_server.args, within_s=140
    )
    assert code == 0, f"{out}\n{err}"
    (result,) = results_of(record)
    _, typed, _, spoken, quiet = result["steps"]
    assert typed["reply"].startswith("The time is ") and [t["name"] for t in typed["tools"]] == ["get_time"]
    assert typed["latency_ms"] is None  # a typed question has no voice-to-voice latency
    assert spoken["tools"] == [] and spoken["latency_ms"] is not None  # answered by voice again
    assert quiet["reply"] is None
    events = [event["type"] for event in result["events"]]
    assert events.count("text_mode") == 2


PUSH_TO_TALK = """\
version = 1

[[scenario]]
name = "push to talk"

  [[scenario.step]]
  push_to_talk = { say = "what time is it" }
    [scenario.step.expect]
    tool = "get_time"
    reply = "the time is"

  [[scenario.step]]
  push_to_talk = { say = "help", cancel = true }
    [scenario.step.expect]
    no_reply_within = 3

  [[scenario.step]]
  push_to_talk = { say = "hello" }
    [scenario.step.expect]
    reply = "how can I help"
    reply_not = "repeat what you say"
"""


@pytest.mark.timeout(150)
async def test_push_to_talk_turns_against_the_demo_agent_in_ptt_mode(
    tmp_path: Path, demo_server: DemoServer
) -> None:
    scenario = tmp_path / "ptt.scenario.toml"
    scenario.write_text(PUSH_TO_TALK, encoding="utf-8")
    record = tmp_path / "record.json"
    code, out, err = await agent_tui(
        "demo", "test", "--ptt", str(scenario), "--json", str(record), *demo_server.args, within_s=140
    )
    assert code == 0, f"{out}\n{err}"
    (result,) = results_of(record)
    held, cancelled, again = result["steps"]
    assert [t["name"] for t in held["tools"]] == ["get_time"] and held["latency_ms"] is not None
    assert cancelled["reply"] is None and cancelled["tools"] == []
    assert again["reply"].startswith("Hello there")
    said = [
        (e["text"], e["cancelled"])
        for e in result["events"]
        if e["type"] == "message" and e["speaker"] == "user"
    ]
    # The cancelled turn: the agent dropped its audio (no transcript), or its words are marked cancelled.
    assert all(cancelled for text, cancelled in said if text == "help"), said


MANY = """\
version = 1
{scenarios}
"""
ONE = """
[[scenario]]
name = "{name}"
  [[scenario.step]]
  send = "{text}"
    [scenario.step.expect]
    reply = "{reply}"
"""


@pytest.mark.timeout(180)
async def test_jobs_and_repeat_run_every_run_in_a_room_of_its_own(
    tmp_path: Path, demo_server: DemoServer
) -> None:
    scenarios = "".join(
        ONE.format(name=name, text=text, reply=reply)
        for name, text, reply in (
            ("greeting", "hello", "how can I help"),
            ("help", "help", "tell you the time"),
            ("echo", "purple elephants", "you said"),
        )
    )
    path = tmp_path / "three.scenario.toml"
    path.write_text(MANY.format(scenarios=scenarios), encoding="utf-8")
    record = tmp_path / "record.json"
    code, out, err = await agent_tui(
        "demo", "test", str(path), "--jobs", "3", "--repeat", "3", "--json", str(record),
        *demo_server.args, within_s=170,
    )  # fmt: skip
    assert code == 0, f"{out}\n{err}"
    results = results_of(record)
    assert sorted((r["name"], r["run"]) for r in results) == sorted(
        (name, run) for name in ("greeting", "help", "echo") for run in (1, 2, 3)
    )
    assert all(result["passed"] for result in results)
    rooms = [result["room"] for result in results]
    assert len(set(rooms)) == 9, rooms
    spans = [(r["started_at"], r["started_at"] + r["duration_s"]) for r in results]
    overlapping = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert overlapping >= 2, spans  # --jobs 3: runs overlap (the third may start as the first ends)
    assert "3/3" in out


@pytest.mark.timeout(30)
async def test_a_bad_file_is_exit_2_naming_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.scenario.toml"
    bad.write_text(
        'version = 1\n[[scenario]]\nname = "a"\n[[scenario.step]]\nsend = "hi"\n'
        '  [scenario.step.expect]\n  reply_regex = "x"\n',
        encoding="utf-8",
    )
    for command in (("test",), ("demo", "test")):
        code, out, err = await agent_tui(*command, str(bad), within_s=25)
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert f"{bad}:7: key 'scenario[1].step[1].expect.reply_regex': unknown key" in lines[0]
        assert "Traceback" not in err and out == ""
