"""``agent-tui load`` end to end: Locust's users hold real conversations with the real demo worker.

- 5 users on a text scenario for a bounded run: Locust's statistics (its CSV report, read back) hold
  every phase, each with a count and sane times; the table is printed; exit 0;
- a scenario whose expectation fails: the failures are Locust failures, with expected vs got; exit 7;
- one master and two worker processes (``--processes 2``): 4 users of one conversation each give
  exactly 4 of every phase in the master's aggregate: each conversation counted once, none lost on the
  way from a worker to the master, none counted twice.

Each test starts its own server and demo worker; runs are bounded by ``--iterations`` and ``--duration``.
"""

from __future__ import annotations

import csv
from importlib.util import find_spec
from pathlib import Path

import pytest

pytest.importorskip("livekit.agents", reason="the [demo] extra is not installed")
if find_spec("locust") is None:  # not imported here: importing it would monkey-patch this process
    pytest.skip("the [load] extra is not installed", allow_module_level=True)

from tests.e2e.e2e_harness import LiveServer
from tests.e2e.scenario_harness import demo_worker, run_agent_tui, user_env

pytestmark = [pytest.mark.e2e]

TEXT = """\
version = 1

[[scenario]]
name = "greets"
  [[scenario.step]]
  send = "hello"
    [scenario.step.expect]
    reply = "how can I help"
"""

FAILING = """\
version = 1

[[scenario]]
name = "expects the weather"
  [[scenario.step]]
  send = "hello"
    [scenario.step.expect]
    reply = "the weather is sunny"
"""

PHASES = ("connect", "agent joined", "first answer", "turn 1", "conversation")


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    """A Locust CSV report's rows of agent-tui phases, by name."""
    with path.open(encoding="utf-8") as file:
        return {
            row["Name"]: row
            for row in csv.DictReader(file)
            if row.get("Type", row.get("Method")) == "agent-tui"
        }


def stats_of(prefix: Path) -> dict[str, dict[str, str]]:
    """Locust's ``PREFIX_stats.csv``."""
    return rows_of(Path(f"{prefix}_stats.csv"))


async def load(
    server: LiveServer, tmp_path: Path, text: str, *args: str, within_s: float, agent_serves: bool = True
) -> tuple[int, str, str]:
    """``agent-tui load`` on ``text`` against a demo worker of its own (none if not ``agent_serves``)."""
    scenario = tmp_path / "load.scenario.toml"
    scenario.write_text(text, encoding="utf-8")
    agent = f"load-{tmp_path.name[-12:]}".replace("_", "-")
    command = ("load", str(scenario), "--agent", agent, "--timeout", "40", *args)
    if not agent_serves:
        return await run_agent_tui(*command, env=user_env(server), within_s=within_s)
    async with demo_worker(server, agent):
        return await run_agent_tui(*command, env=user_env(server), within_s=within_s)


@pytest.mark.timeout(60)
async def test_five_users_hold_text_conversations_and_locust_has_every_phase(
    server: LiveServer, tmp_path: Path
) -> None:
    prefix = tmp_path / "run"
    code, out, err = await load(
        server, tmp_path, TEXT,
        "--users", "5", "--spawn-rate", "5", "--iterations", "1", "--duration", "35", "--agent-timeout", "30",
        "--csv", str(prefix), "--html", str(tmp_path / "report.html"),
        within_s=50,
    )  # fmt: skip
    assert code == 0, f"{out}\n{err}"
    stats = stats_of(prefix)
    assert set(PHASES) <= set(stats), stats.keys()
    for phase in PHASES:
        row = stats[phase]
        assert int(row["Request Count"]) == 5, (phase, row)
        assert int(row["Failure Count"]) == 0, (phase, row)
    median = {phase: float(stats[phase]["Median Response Time"]) for phase in PHASES}
    # Sane, not fast (no timing is a verdict here): each phase took some time and ended within its own
    # limit. Five callers share the demo agent's 2 cores, so a typed turn's median reached 12 s on CI.
    assert 0 < median["connect"] < 30_000 and median["agent joined"] < 30_000  # --agent-timeout 30
    assert 0 < median["turn 1"] < 40_000 and median["first answer"] == median["turn 1"]  # --timeout 40
    assert median["conversation"] > median["connect"] + median["turn 1"]
    for phase in PHASES:
        assert phase in out
    assert "p95 ms" in out and "report.html" not in err
    assert (tmp_path / "report.html").read_text(encoding="utf-8").lstrip().startswith("<")


@pytest.mark.timeout(60)
async def test_a_failing_expectation_is_a_locust_failure_with_expected_vs_got(
    server: LiveServer, tmp_path: Path
) -> None:
    prefix = tmp_path / "run"
    code, out, err = await load(
        server, tmp_path, FAILING,
        "--users", "2", "--spawn-rate", "1", "--iterations", "1", "--duration", "35", "--agent-timeout", "30",
        "--csv", str(prefix),
        within_s=50,
    )  # fmt: skip
    assert code == 7, f"{out}\n{err}"
    stats = stats_of(prefix)
    failed = {phase: int(row["Failure Count"]) for phase, row in stats.items()}
    assert failed == {"connect": 0, "agent joined": 0, "first answer": 2, "turn 1": 2, "conversation": 2}, out
    failures = rows_of(Path(f"{prefix}_failures.csv"))
    assert "the weather is sunny" in failures["turn 1"]["Error"]
    assert "how can i help" in failures["turn 1"]["Error"].lower()  # what the agent did say
    assert "expected" in out and "the weather is sunny" in out


@pytest.mark.timeout(60)
async def test_a_master_and_two_worker_processes_count_every_conversation_once(
    server: LiveServer, tmp_path: Path
) -> None:
    prefix = tmp_path / "run"
    code, out, err = await load(
        server, tmp_path, TEXT,
        "--users", "4", "--spawn-rate", "2", "--iterations", "1", "--duration", "38", "--agent-timeout", "30",
        "--processes", "2", "--csv", str(prefix),
        within_s=55,
    )  # fmt: skip
    assert code == 0, f"{out}\n{err}"
    stats = stats_of(prefix)
    counts = {phase: int(stats[phase]["Request Count"]) for phase in PHASES}
    assert counts == dict.fromkeys(PHASES, 4), out


@pytest.mark.timeout(60)
async def test_conversations_in_flight_at_the_duration_are_counted_when_they_end_within_the_stop_timeout(
    server: LiveServer, tmp_path: Path
) -> None:
    """Workers stop their users within ``--stop-timeout`` before their last report; the master waits for
    it (Locust's own quit waits 0.5 s, and lost every conversation slower than ``--duration``). No worker
    serves the agent, so each conversation ends in the agent's timeout, after the duration."""
    prefix = tmp_path / "run"
    code, out, err = await load(
        server, tmp_path, TEXT,
        "--users", "2", "--spawn-rate", "2", "--iterations", "1", "--duration", "2", "--agent-timeout", "8",
        "--stop-timeout", "25", "--processes", "2", "--csv", str(prefix),
        within_s=50, agent_serves=False,
    )  # fmt: skip
    assert code == 7, f"{out}\n{err}"
    assert "no conversation finished" not in out + err
    stats = stats_of(prefix)
    shown = f"{out}\n{err}"
    assert int(stats["connect"]["Request Count"]) == 2 and int(stats["connect"]["Failure Count"]) == 0, shown
    assert int(stats["agent joined"]["Failure Count"]) == 2, shown
    assert int(stats["conversation"]["Failure Count"]) == 2, shown
    assert "did not join" in rows_of(Path(f"{prefix}_failures.csv"))["agent joined"]["Error"]
