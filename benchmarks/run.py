"""Run the rectflow benchmarks: the write path against its peers, memory, report, verify, agenda.

    .venv/bin/python benchmarks/run.py            # full: N = 10^4, 10^5, 10^6 (make bench)
    .venv/bin/python benchmarks/run.py --quick    # N = 10^4, under 2 minutes (make bench-quick)
    .venv/bin/python benchmarks/run.py --smoke --out /tmp/x.json   # N = 10^3 (make bench-smoke)

Writes ``benchmarks/results/latest.json`` (or ``--out``) and regenerates the tables in
``docs/performance.md`` and the README's Performance section from it (not with
``--smoke``, nor with ``--no-docs``). Not part of the test suite: no test depends on a
timing. See benchmarks/README.md for what each figure measures.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _results
import bench_agenda
import bench_import
import bench_write as bw
from _common import fmt_s, say

BUDGET = 120.0
"""Seconds a figure may take at one size; a size it would exceed is skipped and said so."""


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="N = 10^4 only (under 2 minutes)")
    mode.add_argument("--smoke", action="store_true", help="N = 10^3: the harness works")
    p.add_argument("--sizes", type=int, nargs="+", help="the sizes N to measure")
    p.add_argument("--out", type=Path, help="the JSON file (default results/latest.json)")
    p.add_argument("--no-docs", action="store_true", help="do not regenerate the tables")
    p.add_argument("--no-profiles", action="store_true", help="no pyinstrument profiles")
    p.add_argument("--budget", type=float, default=BUDGET, help="seconds per figure and size")
    p.add_argument("--skip-postgres", action="store_true")
    p.add_argument("--skip-agenda", action="store_true")
    p.add_argument("--skip-import", action="store_true")
    p.add_argument(
        "--only-import",
        action="store_true",
        help="measure only the import and merge it into the existing results file",
    )
    p.add_argument(
        "--import-rows", type=int, help="rows of the import figure (default 10^5; smoke 10^3)"
    )
    return p.parse_args(argv)


class Run:
    """The figures of one run, with the budget rule."""

    def __init__(self, budget: float) -> None:
        """Start empty."""
        self.budget = budget
        self.figures: dict[str, dict[str, dict[str, Any]]] = {}
        self.skipped: list[dict[str, Any]] = []
        self.elapsed: dict[str, tuple[int, float]] = {}
        self.notes: list[dict[str, Any]] = []

    def note(self, figure: str, n: int, text: str) -> None:
        """Record how a figure at size *n* was measured differently."""
        self.notes.append({"figure": figure, "n": n, "note": text})

    def measure(self, group: str, n: int, fn: Callable[[], dict[str, Any]]) -> None:
        """Run figure group *group* at size *n*, unless the last size says it would not fit."""
        last = self.elapsed.get(group)
        if last is not None:
            estimate = last[1] * n / last[0]
            if estimate > self.budget:
                self.skipped.append(
                    {
                        "figure": group,
                        "n": n,
                        "reason": f"would take about {estimate:,.0f} s "
                        f"(from {last[1]:,.1f} s at N = {last[0]:,}), over the "
                        f"{self.budget:.0f} s budget",
                    }
                )
                say(f"  skip {group} at N = {n:,}: {self.skipped[-1]['reason']}")
                return
        say(f"  {group} at N = {n:,} ...")
        gc.collect()
        t0 = time.perf_counter()
        raw = fn()
        elapsed = time.perf_counter() - t0
        self.elapsed[group] = (n, elapsed)
        for key, value in raw.items():
            runs = value if isinstance(value, list) else [value]
            self.figures.setdefault(str(n), {})[key] = bw.summary(runs)
        say(f"    {fmt_s(elapsed)}")


def _profiles(targets: list[dict[str, Any]]) -> dict[str, str]:
    """A pyinstrument profile of each target not met, on a small workload."""
    n = 2_000
    jobs: dict[str, Callable[..., Any]] = {
        "fire_readme_vs_b": lambda: bw.memory_fire(n),
        "add_readme_vs_b": lambda: bw.memory_fire(n),
        "fire_vs_b": lambda: bw.memory_fire(n),
        "apply_vs_b": lambda: bw.memory_fire(n),
        "lifecycle_vs_c": lambda: bw.memory_fire(n),
        "add_1e6": lambda: bw.memory_fire(n),
        "mem_add": lambda: bw.memory_fire(n),
        "mem_4": lambda: bw.memory_fire(n),
        "report_memory": lambda: bw.memory_report_verify(n),
        "verify_memory": lambda: bw.memory_report_verify(n),
    }

    def durable() -> None:
        with bw.tempdir() as tmp:
            bw.sqlite_figures(n, 300, tmp)

    for key in ("sqlite_commit_vs_e", "sqlite_batch_rate", "sqlite_batch_vs_e"):
        jobs[key] = durable
    pg = bw.postgres_url()
    if pg is not None:
        jobs["pg_commit_vs_e"] = lambda: bw.postgres_figures(pg, n, 300)
    jobs["report_sqlite"] = jobs["verify_sqlite"] = lambda: bw.sqlite_report_verify(n)
    jobs["import_5s"] = jobs["import_vs_floor"] = lambda: bench_import.profile_job(n)
    # the agenda on 10^5 findings loaded through the public path (the load not profiled)
    setups: dict[str, Callable[[], Any]] = {
        "agenda_memory": lambda: bench_agenda.profiled_ledger(10**5)
    }
    jobs["agenda_memory"] = bench_agenda.profile_agenda
    done: dict[Callable[..., Any], str] = {}
    out = {}
    for row in targets:
        job = jobs.get(row["target"])
        if row["met"] or job is None or row["target"] in out:
            continue
        if job not in done:
            say(f"  profiling {row['target']} ...")
            done[job] = _results.profile(row["target"], job, setups.get(row["target"]))
        out[row["target"]] = done[job]
    return out


def _measure_import(run: Run, args: argparse.Namespace, mode: str, pg: str | None) -> None:
    """The ledger-file import, at one size: the issue's 10^5 rows (10^3 in the smoke run)."""
    rows = args.import_rows or {"smoke": 10**3, "quick": 10**4, "full": 10**5}[mode]
    pg_rows = 0 if pg is None or mode == "smoke" else min(rows, 10**4)
    if pg_rows:
        run.note("import_postgres", rows, f"measured on {pg_rows:,} rows, one run")
    say(f"ledger-file import at {rows:,} rows")
    run.measure("import", rows, lambda: bench_import.harness_figures(rows, bw.SLICES, pg_rows))


def _only_import(run: Run, args: argparse.Namespace, mode: str, pg: str | None, out: Path) -> int:
    """Measure the import alone and merge its figures into the results file *out*.

    The other figures stay as their run left them; a note says when and under what
    load the import was measured, and the targets and tables are redone.
    """
    data = json.loads(out.read_text())
    load = _results.machine_info()["load_average"] or []
    _measure_import(run, args, mode, pg)
    for size, figures in run.figures.items():
        data["figures"].setdefault(size, {}).update(figures)
    data["targets"] = _results.evaluate(data["figures"])
    data["notes"] = [n for n in data.get("notes", []) if not n["figure"].startswith("import")]
    for size in run.figures:
        text = (
            f"measured {_results.now_text()[:16].replace('T', ' ')} UTC in a run of its own"
            f" (`run.py --only-import`), load average {', '.join(f'{x:.1f}' for x in load)}"
        )
        data["notes"].append({"figure": "import", "n": int(size), "note": text})
    data["notes"] += run.notes
    if not args.no_profiles:
        wanted = [t for t in data["targets"] if t["target"].startswith("import")]
        data["profiles"] = {
            k: v for k, v in data.get("profiles", {}).items() if not k.startswith("import")
        }
        data["profiles"].update(_profiles(wanted))
    _results.write_json(data, out)
    say(f"merged the import figures into {out}")
    if not args.no_docs:
        _results.regenerate(_results.ROOT / "docs" / "performance.md", _results.tables(data))
        _results.regenerate(_results.ROOT / "README.md", _results.tables(data, compact=True))
        say("regenerated docs/performance.md and the README's Performance section")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks asked for and write the results; 1 when a correctness check failed."""
    args = _args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    sizes = args.sizes or {"smoke": [10**3], "quick": [10**4], "full": [10**4, 10**5, 10**6]}[mode]
    commits = {"smoke": 100, "quick": 300, "full": 2_000}[mode]
    # The quick run keeps under 2 minutes: machines per record and PostgreSQL on fewer.
    per_object_cap = {"smoke": 1_000, "quick": 1_000, "full": 10**6}[mode]
    pg_cap = {"smoke": 1_000, "quick": 2_000, "full": 10**6}[mode]
    small_cap = {"smoke": 1_000, "quick": 3_000, "full": 10**6}[mode]  # tracemalloc, replays
    out = args.out or _results.RESULTS / "latest.json"
    run = Run(args.budget)
    started = _results.now_text()
    machine = _results.machine_info()
    say(f"rectflow benchmarks, {mode} run, N = {', '.join(f'{n:,}' for n in sizes)}")
    pg = None if args.skip_postgres else bw.postgres_url()
    if pg is None:
        run.skipped.append({"figure": "postgres", "n": 0, "reason": "no PostgreSQL server"})
    if args.only_import:
        return _only_import(run, args, mode, pg, out)
    t_start = time.perf_counter()
    for n in sizes:
        say(f"N = {n:,}")
        run.measure("memory_fire", n, lambda n=n: bw.memory_fire(n))
        for key in bw.PEERS:
            size = n if key in ("peer_a", "peer_b") else min(n, per_object_cap)
            if size < n:
                run.note(key, n, f"measured on {size:,} records (a machine each)")
            run.measure(key, n, lambda size=size, key=key: bw.peer_figures(key, size))
        size = min(n, small_cap)
        if size < n:
            run.note("memory_footprint", n, f"measured on {size:,} findings")
            run.note("report_verify", n, f"measured on {size:,} findings")
        run.measure("memory_footprint", n, lambda size=size: bw.memory_footprint(size))
        run.measure("memory_report_verify", n, lambda size=size: bw.memory_report_verify(size))
        run.measure("sqlite_report_verify", n, lambda size=size: bw.sqlite_report_verify(size))

        def durable(n: int = n) -> dict[str, Any]:
            with bw.tempdir() as tmp:
                return bw.sqlite_figures(n, commits, tmp)

        run.measure("sqlite", n, durable)
        if pg is not None:
            size = min(n, pg_cap)
            if size < n:
                run.note("postgres", n, f"measured on {size:,} findings")
            run.measure(
                "postgres", n, lambda size=size, pg=pg: bw.postgres_figures(pg, size, commits)
            )
    if not args.skip_import:
        _measure_import(run, args, mode, pg)
    ok = True
    if not args.skip_agenda:
        n = max(sizes)
        say(f"agenda at N = {n:,}, loaded through add_finding and fire")
        memory = bench_agenda.run_memory(n, 5, public=True)
        ok &= bool(memory["ok"])
        run.figures.setdefault(str(n), {})["agenda_memory"] = bw.summary(memory["runs"])
        del memory
        gc.collect()
        sqlite = bench_agenda.run_sqlite(n, 5, args.budget, public=True)
        if sqlite is not None:
            ok &= bool(sqlite["ok"])
            if sqlite["n"] == n:
                run.figures[str(n)]["agenda_sqlite"] = bw.summary(sqlite["runs"])
            else:
                run.skipped.append(
                    {
                        "figure": "agenda_sqlite",
                        "n": n,
                        "reason": f"loading stopped at {sqlite['n']:,} within the budget",
                    }
                )
    targets = _results.evaluate(run.figures)
    profiles = {} if args.no_profiles or args.smoke else _profiles(targets)
    if profiles or not (args.no_profiles or args.smoke):
        for stale in _results.RESULTS.glob("profile-*.txt"):  # of targets met by now
            if str(stale.relative_to(_results.ROOT)) not in profiles.values():
                stale.unlink()
    data = {
        "mode": mode,
        "started": started,
        "finished": _results.now_text(),
        "seconds": time.perf_counter() - t_start,
        "machine": machine,
        "sizes": sizes,
        "repeats": bw.SLICES,
        "figures": run.figures,
        "targets": targets,
        "profiles": profiles,
        "skipped": run.skipped,
        "notes": run.notes,
        "agenda_ok": ok,
    }
    _results.write_json(data, out)
    say(f"wrote {out}")
    say(_results.tables(data))
    if not (args.no_docs or args.smoke):
        _results.regenerate(_results.ROOT / "docs" / "performance.md", _results.tables(data))
        _results.regenerate(_results.ROOT / "README.md", _results.tables(data, compact=True))
        say("regenerated docs/performance.md and the README's Performance section")
    if not ok:
        say("A CORRECTNESS CHECK FAILED: the agenda differs from the brute-force scan")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
