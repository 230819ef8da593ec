"""The scenario file parser: what a good file becomes; one line naming file, line and key for a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_tui.scenario.model import Interrupt, PushToTalk, RpcCall
from agent_tui.scenario.parser import ScenarioFileError, load_scenarios, parse_scenario_text

GOOD = """\
version = 1

[defaults]
agent = "demo"
voice = "en-us"
step_timeout = 12

[[scenario]]
name = "first"
tags = ["voice", "smoke"]
attributes = { tier = "gold" }

  [[scenario.step]]
  say = "what time is it"
  timeout = 30
    [scenario.step.expect]
    reply = "time"
    reply_any_of = ["a", "b"]
    tool = "get_time"
    tool_args = { tz = "UTC" }
    attribute = { name = "k", value = "v" }
    max_latency_ms = 3000

  [[scenario.step]]
  rpc = { method = "m", payload = "p", reply = "ok" }

  [[scenario.step]]
  interrupt = { after_ms = 0, say = "stop" }

  [[scenario.step]]
  push_to_talk = { say = "hi", cancel = true }

  [[scenario.step]]
  wait = 2

[[scenario]]
name = "second"
agent = "other"
voice = "en-us+f3"
step_timeout = 5

  [[scenario.step]]
  text_mode = true
"""


#: A file's first lines up to a step's first key.
HEAD = 'version = 1\n[[scenario]]\nname = "a"\n[[scenario.step]]\n'


def parse(text: str, name: str = "x.scenario.toml") -> list:
    return parse_scenario_text(text, Path(name))


def error_of(text: str) -> ScenarioFileError:
    with pytest.raises(ScenarioFileError) as caught:
        parse(text)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("x.scenario.toml")
    return caught.value


def test_a_good_file_becomes_scenarios_with_defaults_applied_and_lines() -> None:
    first, second = parse(GOOD)
    assert (first.name, first.agent, first.voice, first.step_timeout, first.line) == (
        "first",
        "demo",
        "en-us",
        12.0,
        8,
    )
    assert first.tags == ("voice", "smoke") and first.attributes == {"tier": "gold"}
    say, rpc, interrupt, ptt, wait = first.steps
    assert (say.index, say.action, say.argument, say.timeout, say.line) == (
        1,
        "say",
        "what time is it",
        30.0,
        13,
    )
    assert say.expect.reply_any_of == ("a", "b") and say.expect.tool_args == {"tz": "UTC"}
    assert say.expect.attribute is not None and say.expect.attribute.value == "v"
    assert say.expect.max_latency_ms == 3000.0
    assert rpc.argument == RpcCall(method="m", payload="p", reply="ok") and rpc.expect.empty
    assert interrupt.argument == Interrupt(say="stop", after_ms=0.0)
    assert ptt.argument == PushToTalk(say="hi", cancel=True)
    assert wait.argument == 2.0 and wait.summary == "wait 2 s"
    assert say.summary == 'say "what time is it"'
    assert (second.agent, second.voice, second.step_timeout) == ("other", "en-us+f3", 5.0)
    assert second.steps[0].argument is True


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        ("version = 2\n", 1, "version", "unsupported scenario format version 2"),
        ('[[scenario]]\nname = "a"\n', 0, "version", "missing"),
        ("version = 1\n", 0, "scenario", "no scenarios"),
        ("version = 1\nbogus = 1\n", 2, "bogus", "unknown key (known: version, defaults, scenario)"),
        ('version = 1\n[defaults]\nname = "x"\n', 3, "defaults.name", "unknown key"),
        ('version = 1\n[[scenario]]\nname = "a"\n', 2, "scenario[1].step", "no steps"),
        ('version = 1\n[[scenario]]\n[[scenario.step]]\nsay = "x"\n', 2, "scenario[1].name", "missing"),
        (
            HEAD + 'say = "x"\n[[scenario]]\nname = "a"\n[[scenario.step]]\nsay = "x"\n',
            7,
            "scenario[2].name",
            "duplicate scenario name 'a'",
        ),
        (
            HEAD + 'say = "x"\n[[scenario.step]]\n'
            'send = "y"\n  [scenario.step.expect]\n  reply = "z"\n  reply_regex = "q"\n',
            10,
            "scenario[1].step[2].expect.reply_regex",
            "unknown key (known: reply, reply_matches",
        ),
        (HEAD + "say = 3\n", 5, "scenario[1].step[1].say", "must be a string, got the number 3"),
        (HEAD + 'say = "x"\nsend = "y"\n', 4, "scenario[1].step[1]", "exactly one action"),
        (HEAD + "timeout = 3\n", 4, "scenario[1].step[1]", "(it has none)"),
        (HEAD + "wait = 0\n", 5, "scenario[1].step[1].wait", "must be above 0"),
        (HEAD + 'rpc = { payload = "p" }\n', 5, "scenario[1].step[1].rpc.method", "missing"),
        (
            HEAD + 'rpc = { method = "m", x = 1 }\n',
            5,
            "scenario[1].step[1].rpc.x",
            "unknown key (known: method, payload, reply)",
        ),
        (
            HEAD + 'say = "x"\nexpect = { reply_matches = "(" }\n',
            6,
            "scenario[1].step[1].expect.reply_matches",
            "not a valid regular expression",
        ),
        (
            HEAD + 'say = "x"\nexpect = { state = "asleep" }\n',
            6,
            "scenario[1].step[1].expect.state",
            "unknown state 'asleep'",
        ),
        (
            HEAD + 'say = "x"\nexpect = { tool_result = "r" }\n',
            6,
            "scenario[1].step[1].expect.tool_result",
            "needs 'tool'",
        ),
        (
            'version = 1\n[[scenario]]\nname = "a"\ntags = "t"\n[[scenario.step]]\nsay = "x"\n',
            4,
            "scenario[1].tags",
            "must be a list of strings",
        ),
        (
            'version = 1\n[[scenario]]\nname = "a"\nattributes = { k = 1 }\n[[scenario.step]]\nsay = "x"\n',
            4,
            "scenario[1].attributes",
            "table of strings",
        ),
        (HEAD + 'text_mode = "yes"\n', 5, "scenario[1].step[1].text_mode", "must be true or false"),
    ],
)
def test_a_bad_file_is_one_line_naming_file_line_and_key(text: str, line: int, key: str, words: str) -> None:
    error = error_of(text)
    assert (error.line, error.key) == (line, key)
    assert words in str(error)
    prefix = f"x.scenario.toml:{line}: " if line else "x.scenario.toml: "
    assert str(error).startswith(f"{prefix}key '{key}': ")


def test_a_toml_syntax_error_keeps_tomllibs_line() -> None:
    error = error_of('version = 1\n\n[[scenario]]\nname = "a\n')
    assert error.line == 4 and error.key is None and "not valid TOML" in str(error)


def test_say_wav_is_resolved_beside_the_file_and_must_exist(tmp_path: Path) -> None:
    (tmp_path / "q.wav").write_bytes(b"RIFF")
    text = HEAD + 'say_wav = "q.wav"\n'
    (scenario,) = parse_scenario_text(text, tmp_path / "a.scenario.toml")
    assert scenario.steps[0].argument == tmp_path / "q.wav"
    with pytest.raises(ScenarioFileError, match=r"key 'scenario\[1\]\.step\[1\]\.say_wav': no such WAV file"):
        parse_scenario_text(text.replace("q.wav", "missing.wav"), tmp_path / "a.scenario.toml")


def test_folders_are_searched_recursively_in_sorted_order(tmp_path: Path) -> None:
    one = 'version = 1\n[[scenario]]\nname = "{name}"\n[[scenario.step]]\nsend = "x"\n'
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.scenario.toml").write_text(one.format(name="z"))
    (tmp_path / "a.scenario.toml").write_text(one.format(name="a"))
    (tmp_path / "notes.toml").write_text("not a scenario")
    names = [s.name for s in load_scenarios([tmp_path])]
    assert names == ["a", "z"]
    with pytest.raises(ScenarioFileError, match="no such file or folder"):
        load_scenarios([tmp_path / "nope"])
