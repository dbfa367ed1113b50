"""Run the rectflow benchmarks and print tables of medians.

    .venv/bin/python benchmarks/run.py            # full: N = 10^6 (several minutes)
    .venv/bin/python benchmarks/run.py --quick    # smoke test: N = 10^4 (seconds)

Not part of the test suite. See benchmarks/README.md for what each table measures.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_agenda
import bench_fire
import bench_memory
from _common import fmt_s, say, table  # _common puts src/ on the path if rectflow is not installed


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="N = 10^4 everywhere, fewer repeats")
    p.add_argument("--n", type=int, help="findings in the memory backend (default 10^6)")
    p.add_argument("--sqlite-n", type=int, help="findings asked of SQLite (default: --n)")
    p.add_argument(
        "--sqlite-budget",
        type=float,
        default=120.0,
        help="seconds of SQLite loading before stopping at the N reached (default 120)",
    )
    p.add_argument("--breakdown-n", type=int, help="N for the tracemalloc breakdown (default 10^5)")
    p.add_argument("--repeats", type=int, help="timed runs per agenda measurement (default 5)")
    p.add_argument(
        "--mix",
        choices=("heavy", "light"),
        default="heavy",
        help="heavy: ~17 %% of findings on the agenda; light: ~2-3 %% (a typical day)",
    )
    p.add_argument("--skip-fire", action="store_true")
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--skip-sqlite", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run everything asked for; returns 1 when a correctness check failed."""
    args = _args(argv)
    quick = args.quick
    n = args.n or (10**4 if quick else 10**6)
    sqlite_n = args.sqlite_n or n
    breakdown_n = args.breakdown_n or min(n, 10**5)
    repeats = args.repeats or (3 if quick else 5)
    import rectflow  # noqa: PLC0415

    say(
        f"rectflow {rectflow.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {'quick' if quick else 'full'} run"
    )
    started = time.perf_counter()
    summary: list[tuple[str, str, str]] = []
    ok = True

    if not args.skip_fire:
        fire = bench_fire.run(
            number=2_000 if quick else 20_000,
            repeats=3 if quick else 7,
            per_object_n=200 if quick else 1_000,
        )
        summary += [
            (
                "Workflow.apply start / bare shared machine",
                f"{fire['apply start'] / fire['bare start']:.1f}x",
                "",
            ),
            (
                "bare shared machine start / dict dispatch",
                f"{fire['bare start'] / fire['dict start']:.0f}x",
                "",
            ),
        ]

    if not args.skip_memory:
        result = bench_agenda.run_memory(n, repeats, args.mix)
        ok &= result["ok"]
        summary += [
            (
                f"memory agenda, N = {n:,}, {args.mix} mix",
                fmt_s(result["median"]),
                "target < 0.5 s",
            ),
            (
                f"memory RSS per finding, N = {n:,}",
                f"{result['rss_per_finding']:,.0f} B",
                "target < 1 KiB",
            ),
        ]
        del result
        gc.collect()
        breakdown = bench_memory.run(breakdown_n)
        summary.append(
            (
                f"memory per finding (tracemalloc), N = {breakdown_n:,}",
                f"{breakdown['store total']:,.0f} B",
                "",
            )
        )

    if not args.skip_sqlite:
        result_sql = bench_agenda.run_sqlite(
            sqlite_n, min(repeats, 3), args.sqlite_budget, args.mix
        )
        if result_sql is not None:
            ok &= result_sql["ok"]
            summary.append(
                (
                    f"SQLite agenda, N = {result_sql['n']:,}, {args.mix} mix",
                    fmt_s(result_sql["median"]),
                    "target < 2 s at 10^6",
                )
            )
        else:
            summary.append(("SQLite agenda", "skipped", "rectflow._store.sqlite missing"))

    table("Summary", ("measure", "value", "note"), summary)
    say(f"\ntotal benchmark time: {fmt_s(time.perf_counter() - started)}")
    if not ok:
        say("A CORRECTNESS CHECK FAILED: the agenda differs from the brute-force scan")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
