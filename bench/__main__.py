"""``make bench``: run every benchmark in turn, each in its own process so one's load cannot skew another.

Run one alone with ``python -m bench.bench_devserver`` (or ``bench_demo_start``, ``bench_audio``,
``bench_audio_room``, ``bench_app``, ``bench_video``, ``bench_scenario``, ``bench_load``); media benchmarks
need the private network namespace, which ``make bench`` provides.
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    "bench.bench_devserver",
    "bench.bench_demo_start",
    "bench.bench_prepare",
    "bench.bench_audio",
    "bench.bench_audio_room",
    "bench.bench_app",
    "bench.bench_video",
    "bench.bench_scenario",
    "bench.bench_load",
)


def main() -> int:
    failed = []
    for module in BENCHMARKS:
        print(f"\n=== {module} ===", flush=True)
        if subprocess.run([sys.executable, "-m", module], check=False).returncode != 0:
            failed.append(module)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
