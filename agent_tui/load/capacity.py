"""How many conversations one load-generating process holds honestly on this kind of machine.

Past this the generator, not the agent, is what a run measures: its loop falls behind, the microphone's
10 ms frames go late and every latency grows for the generator's sake. The figures are measured by
``python -m bench.bench_load`` (part of ``make bench``): real Sessions at once in one process, each
sending its microphone at real-time pace (and, for voice, hearing another's audio), against
livekit-server; the most at which the loop's lag stayed under :data:`MAX_LOOP_LAG_MS` at its 95th
percentile. Measured on the project's 2-core development machine while other work ran on it (README,
"Load testing"): a quiet machine does better, so re-measure on yours before trusting the warning.
"""

from __future__ import annotations

from typing import Final

#: The loop lag (95th percentile) beyond which the generator is said to be saturated: microphone frames
#: (10 ms each) then leave in bursts of five and more, and every turn's latency carries the delay.
MAX_LOOP_LAG_MS: Final = 50.0
#: The machine's CPU (all cores) the generator may use: the SDK's media threads run beside the loop.
MAX_MACHINE_CPU_SHARE: Final = 0.8
#: Text-only conversations one process held within that lag: measured 16 (lag p95 45 ms; 24 gave 133 ms),
#: the process at one core (its Python side is bound to one), 2026-12-03, 2 cores, load average ~6.
TEXT_SESSIONS_PER_PROCESS: Final = 16
#: Conversations that also hear and decode the agent's voice: measured 4 (lag p95 37 ms; 8 gave 74 ms).
VOICE_SESSIONS_PER_PROCESS: Final = 4


def capacity(processes: int, *, voice: bool) -> int:
    """Conversations ``processes`` generator processes hold honestly."""
    per_process = VOICE_SESSIONS_PER_PROCESS if voice else TEXT_SESSIONS_PER_PROCESS
    return per_process * max(processes, 1)


def capacity_warning(users: int, processes: int, *, voice: bool) -> str | None:
    """The warning when ``users`` exceeds what ``processes`` processes can generate, else None."""
    most = capacity(processes, voice=voice)
    if users <= most:
        return None
    kind = "voice" if voice else "text"
    return (
        f"{users} users exceed this machine's measured capacity of {most} {kind} conversations "
        f"({processes} process{'es' if processes != 1 else ''}): the generator, not the agent, would be "
        "measured — add --processes, or workers on more machines (--master / --worker)"
    )
