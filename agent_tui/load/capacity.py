"""How many conversations one load-generating process holds honestly on this kind of machine.

Past this the generator, not the agent, is what a run measures: its loop falls behind, the microphone's
10 ms frames go late and every latency grows for the generator's sake. The figures are measured by
``python -m bench load`` (bench/bench_load.py): conversations at once in one process, against the dev
server and the real demo worker, the most at which the loop's lag stayed under
:data:`MAX_LOOP_LAG_MS` at its 95th percentile. They were measured on the project's 2-core development
machine (README, "Load testing"); re-measure on yours with ``make bench``.
"""

from __future__ import annotations

from typing import Final

#: The loop lag (95th percentile) beyond which the generator is said to be saturated.
MAX_LOOP_LAG_MS: Final = 20.0
#: Text-only conversations one process held within that lag (bench_load, measured).
TEXT_SESSIONS_PER_PROCESS: Final = 40
#: Conversations with a published microphone and the agent's voice (bench_load, measured).
VOICE_SESSIONS_PER_PROCESS: Final = 20


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
