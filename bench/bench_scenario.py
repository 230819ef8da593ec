"""The scenario runner's own overhead: what ``agent-tui test`` adds to the time the agent takes.

Runs the shipped examples (``examples/*.scenario.toml``, a text and a voice conversation) against the
offline demo agent, as a user would (``agent-tui demo test examples/ --json FILE``, a real dev server and a
real livekit-agents worker), and reads the JSON record. For each run:

- **wall**: the run's duration, from starting its Session to hanging up;
- **answers**: the sum of the agent's answer times the runner measured (each step's whole answer: from the
  end of our chat or speech to the agent listening again);
- **overhead**: wall minus answers — connecting, the agent joining, speaking our own phrases at real-time
  pace, waiting for its audio, hanging up — and the ratio wall / answers.

The anchor is the agent's own answering, measured in the same run. Then the whole command's wall time
(demo start included). Figures, not verdicts: nothing asserts a timing. Run inside the test network
namespace (``make bench`` does): ``tests/netns/run .venv/bin/python -m bench.bench_scenario``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    agent_tui = str(Path(sys.executable).with_name("agent-tui"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_TUI_", "LIVEKIT_"))}
    env["AGENT_TUI_CONFIG"] = "/dev/null"
    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / "record.json"
        started = time.perf_counter()
        done = subprocess.run(
            [agent_tui, "demo", "test", str(ROOT / "examples"), "--json", str(record)],
            env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        command_s = time.perf_counter() - started
        if not record.exists():
            print(f"agent-tui demo test wrote no record (exit {done.returncode}):\n{done.stderr[-2000:]}")
            return 1
        results = json.loads(record.read_text(encoding="utf-8"))["results"]
    print(f"{'scenario':44} {'result':6} {'wall':>8} {'answers':>8} {'overhead':>9} {'ratio':>6}")
    total_wall = total_answers = 0.0
    for result in results:
        wall = float(result["duration_s"])
        answers = sum(_answer_s(step) for step in result["steps"])
        total_wall, total_answers = total_wall + wall, total_answers + answers
        ratio = f"{wall / answers:5.2f}x" if answers > 0 else "    —"
        outcome = "pass" if result["passed"] else "FAIL"
        name = result["name"][:44]
        print(f"{name:44} {outcome:6} {wall:7.2f}s {answers:7.2f}s {wall - answers:8.2f}s {ratio:>6}")
    if total_answers > 0:
        print(
            f"{'all runs':44} {'':6} {total_wall:7.2f}s {total_answers:7.2f}s "
            f"{total_wall - total_answers:8.2f}s {total_wall / total_answers:5.2f}x"
        )
    print(f"agent-tui demo test examples/ from start to exit (demo start included): {command_s:.1f} s")
    return 0 if done.returncode == 0 else 1


def _answer_s(step: dict[str, Any]) -> float:
    """The step's answer time, by :meth:`StepResult.answer_time_s` itself (the record is ``asdict``)."""
    from agent_tui.scenario.results import Failure, StepResult

    fields = {**step, "failures": [Failure(**failure) for failure in step.get("failures", [])]}
    return StepResult(**fields).answer_time_s()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
