"""Prepared connections: ``Session.start()`` until the demo agent listens, with and without ``prepare()``.

Run it inside the test network namespace (it dispatches the real demo worker on each server):

    tests/netns/run .venv/bin/python -m bench.bench_prepare

With prepare, ``prepare()`` runs first (as agent-tui runs it while the audio devices open and the screen
paints) and only ``start()`` is timed; its own time is printed beside. Runs alternate between the two so
that a drift of the machine's load does not favour one. Two token sources: one that mints the token
in-process (``LocalTokenSource``, nothing for prepare to save but the warm-up) and, on the dev server,
its real HTTP token endpoint (``EndpointTokenSource`` on ``/token``, the path a web app's backend takes).
Figures, not verdicts: nothing here asserts a timing.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

from agent_tui.session import EndpointTokenSource, LocalTokenSource, Session, SessionOptions, TokenSource
from bench.bench_devserver import (
    DemoWorker,
    ServerProcess,
    for_each_server,
    line,
    outside_the_namespace,
    percentile,
)

RUNS = 4  # of each mode, per token source
AGENT = "bench-prepare"


async def one_start(source: TokenSource, *, prepared: bool) -> tuple[float, float]:
    """(start → agent listening, prepare's own time) for one session in a new room."""
    session = Session(source, SessionOptions(agent_name=AGENT))
    prepare_s = 0.0
    try:
        if prepared:
            began = time.perf_counter()
            await session.prepare()
            prepare_s = time.perf_counter() - began
        began = time.perf_counter()
        await session.start()
        return time.perf_counter() - began, prepare_s
    finally:
        await session.end()
        await asyncio.sleep(1.5)  # the job ends and the worker's process pool refills


async def bench_source(name: str, make_source: Callable[[], TokenSource]) -> dict[str, float]:
    plain: list[float] = []
    with_prepare: list[float] = []
    prepare_times: list[float] = []
    for _ in range(RUNS):
        plain.append((await one_start(make_source(), prepared=False))[0])
        start_s, prepare_s = await one_start(make_source(), prepared=True)
        with_prepare.append(start_s)
        prepare_times.append(prepare_s)
    print(f"  token source: {name}", flush=True)
    print(line("    start() -> agent listening, no prepare  ", plain), flush=True)
    print(line("    start() -> agent listening, after prepare", with_prepare), flush=True)
    print(line("    prepare() itself (token + warm-up)       ", prepare_times), flush=True)
    saved = percentile(plain, 50) - percentile(with_prepare, 50)
    print(f"    p50 saved by prepare: {saved * 1000:.0f} ms", flush=True)
    return {f"{name} saved p50 ms": saved * 1000}


async def measure(server: ServerProcess, *, has_token_endpoint: bool) -> None:
    worker = DemoWorker(server.url, AGENT, api_key=server.api_key, api_secret=server.api_secret)
    await worker.start()
    try:
        await bench_source(
            "local (minted in-process)",
            lambda: LocalTokenSource(server.url, server.api_key, server.api_secret),
        )
        if has_token_endpoint:
            endpoint = "http" + server.url.removeprefix("ws") + "/token"
            await bench_source(f"endpoint ({endpoint})", lambda: EndpointTokenSource(endpoint))
    finally:
        await worker.stop()


async def main() -> int:
    if outside_the_namespace("bench_prepare"):
        return 2

    async def measure_one(name: str, server: ServerProcess) -> None:
        await measure(server, has_token_endpoint=server.livekit is None)

    await for_each_server(measure_one)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
