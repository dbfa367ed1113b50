"""The results of a benchmark run: targets, ratios, the JSON file and the generated tables.

``benchmarks/results/latest.json`` holds the machine, the versions, every figure
(median/min/max over its repeats, per size), every ratio against its peer with the
target and whether it is met, the sizes skipped and why, and the pyinstrument profile
of each target not met. The tables in ``docs/performance.md`` and the README's
Performance section are regenerated from it, between ``<!-- bench:start -->`` and
``<!-- bench:end -->``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

LABELS: dict[str, tuple[str, str]] = {
    "add_memory": ("`Ledger.add_finding`, memory, the README's path", "µs/finding"),
    "fire_memory": ("`Ledger.fire`, memory, the README's path (rules + hashed event)", "µs/event"),
    "apply": ("`Workflow.apply` alone", "µs/event"),
    "lifecycle_memory": (
        "a finding's lifecycle (add + 3 events), memory, the README's path",
        "µs/finding",
    ),
    "add_memory_fixed": ("`Ledger.add_finding`, memory, fixed clock", "µs/finding"),
    "fire_memory_fixed": ("`Ledger.fire`, memory, fixed clock", "µs/event"),
    "lifecycle_memory_fixed": ("a finding's lifecycle, memory, fixed clock", "µs/finding"),
    "peer_a_event": ("(a) dict dispatch on slotted attrs", "µs/event"),
    "peer_b_event": ("(b) `transitions`, one shared machine", "µs/event"),
    "peer_c_event": ("(c) `transitions`, Machine per object", "µs/event"),
    "peer_d_event": ("(d) `python-statemachine`", "µs/event"),
    "peer_a_lifecycle": ("(a) lifecycle: new + 3 events", "µs/finding"),
    "peer_b_lifecycle": ("(b) lifecycle: new + 3 events", "µs/finding"),
    "peer_c_lifecycle": ("(c) lifecycle: Machine built + 3 events", "µs/finding"),
    "peer_d_lifecycle": ("(d) lifecycle: instance + 3 events", "µs/finding"),
    "bytes_after_add": ("memory per finding after `add` (tracemalloc)", "B/finding"),
    "bytes_after_4_events": ("memory per finding after 4 events (tracemalloc)", "B/finding"),
    "memory_report": ("`report(as_of=…)`, memory, 5 events each", "µs/finding"),
    "memory_verify": ("`verify`, memory", "µs/event"),
    "sqlite_commit": ("`Ledger.fire`, SQLite, one commit each", "µs/event"),
    "raw_sqlite_commit": ("(e) raw `sqlite3` loop, one commit each", "µs/event"),
    "sqlite_batch": ("`Ledger.fire`/`add_finding`, SQLite, inside `batch()`", "µs/event"),
    "raw_sqlite_batch": ("(e) raw `sqlite3` loop, a commit per 10^4", "µs/event"),
    "sqlite_report": ("`report(as_of=…)`, SQLite, 5 events each", "µs/finding"),
    "sqlite_verify": ("`verify`, SQLite", "µs/event"),
    "pg_commit": ("`Ledger.fire`, PostgreSQL, one commit each", "µs/event"),
    "raw_pg_commit": ("(e) raw `psycopg` loop, one commit each", "µs/event"),
    "pg_batch": ("`Ledger.fire`/`add_finding`, PostgreSQL, inside `batch()`", "µs/event"),
    "raw_pg_batch": ("(e) raw `psycopg` loop, a commit per 2,500 findings", "µs/event"),
    "import_sqlite": ("`Ledger.import_file`, CSV into SQLite (read, check, write)", "µs/row"),
    "import_floor": ("(f) `csv` + `executemany` floor, same rows and hashes", "µs/row"),
    "import_peak_bytes": ("`Ledger.import_file`, tracemalloc peak", "B/row"),
    "import_postgres": ("`Ledger.import_file`, CSV into PostgreSQL", "µs/row"),
    "agenda_memory": ("agenda, memory", "s"),
    "agenda_sqlite": ("agenda, SQLite", "s"),
}


@attrs.frozen
class Target:
    """A target of issue 10, checked on the figures of one size.

    Attributes:
        id: Its key in the JSON.
        text: The target as the issue states it.
        figure: The figure measured.
        peer: The peer figure it is divided by (None: an absolute target).
        op: ``"<="`` or ``">="``.
        limit: The bound on the ratio (or on the absolute value, in the figure's unit).
        invert: Compare peer / figure (``"x times faster than"``) instead of figure / peer.
    """

    id: str
    text: str
    figure: str
    peer: str | None
    op: str
    limit: float
    invert: bool = False

    def value(self, medians: dict[str, float]) -> float | None:
        """The ratio (or absolute value) from the medians of one size, None if missing."""
        if self.figure not in medians or (self.peer is not None and self.peer not in medians):
            return None
        if self.peer is None:
            return medians[self.figure]
        a, b = medians[self.figure], medians[self.peer]
        return b / a if self.invert else a / b

    def met(self, value: float) -> bool:
        """Whether *value* meets the target."""
        return value <= self.limit if self.op == "<=" else value >= self.limit


US = 1e-6
TARGETS: tuple[Target, ...] = (
    Target(
        "fire_readme_vs_b",
        "`Ledger.fire`, the README's path, ≤ 4× (b) per event",
        "fire_memory",
        "peer_b_event",
        "<=",
        4,
    ),
    Target(
        "add_readme_vs_b",
        "`Ledger.add_finding`, the README's path, ≤ 5× (b)",
        "add_memory",
        "peer_b_event",
        "<=",
        5,
    ),
    Target(
        "fire_vs_b",
        "`Ledger.fire`, fixed clock, ≤ 2× (b) per event",
        "fire_memory_fixed",
        "peer_b_event",
        "<=",
        2,
    ),
    Target("apply_vs_b", "`Workflow.apply` ≤ 1.25× (b)", "apply", "peer_b_event", "<=", 1.25),
    Target(
        "lifecycle_vs_c",
        "lifecycle ≥ 2× faster than (c)",
        "lifecycle_memory",
        "peer_c_lifecycle",
        ">=",
        2,
        invert=True,
    ),
    Target(
        "add_1e6",
        "10^6 findings created < 3 s (≤ 3 µs each), fixed clock",
        "add_memory_fixed",
        None,
        "<=",
        3 * US,
    ),
    Target("mem_add", "≤ 1 KiB per finding after add", "bytes_after_add", None, "<=", 1024),
    Target("mem_4", "≤ 2 KiB after 4 events", "bytes_after_4_events", None, "<=", 2048),
    Target(
        "sqlite_commit_vs_e",
        "SQLite one commit per fire ≤ 1.3× (e) (issue 16; was 1.5× in issue 10)",
        "sqlite_commit",
        "raw_sqlite_commit",
        "<=",
        1.3,
    ),
    Target(
        "pg_commit_vs_e",
        "PostgreSQL one commit per fire ≤ 1.3× (e)",
        "pg_commit",
        "raw_pg_commit",
        "<=",
        1.3,
    ),
    Target(
        "sqlite_batch_rate", "SQLite `batch()` ≥ 50 k events/s", "sqlite_batch", None, "<=", 20 * US
    ),
    Target(
        "sqlite_batch_vs_e",
        "SQLite `batch()` ≤ 2× (e) batch loop",
        "sqlite_batch",
        "raw_sqlite_batch",
        "<=",
        2,
    ),
    Target(
        "report_memory",
        "report 10^5 × 5 events < 1 s memory (≤ 10 µs/finding)",
        "memory_report",
        None,
        "<=",
        10 * US,
    ),
    Target(
        "report_sqlite",
        "report 10^5 × 5 events < 2 s SQLite (≤ 20 µs/finding)",
        "sqlite_report",
        None,
        "<=",
        20 * US,
    ),
    Target(
        "verify_memory",
        "verify 10^5 events < 1 s memory (≤ 10 µs/event)",
        "memory_verify",
        None,
        "<=",
        10 * US,
    ),
    Target(
        "verify_sqlite",
        "verify 10^5 events < 2 s SQLite (≤ 20 µs/event)",
        "sqlite_verify",
        None,
        "<=",
        20 * US,
    ),
    Target(
        "import_5s",
        "import a 10^5-row CSV into SQLite < 5 s (≤ 50 µs/row)",
        "import_sqlite",
        None,
        "<=",
        50 * US,
    ),
    Target(
        "import_vs_floor",
        "import ≤ 8× (f) `csv` + `executemany`",
        "import_sqlite",
        "import_floor",
        "<=",
        8,
    ),
    Target(
        "agenda_memory",
        "agenda < 0.5 s memory (the target is at 10^6)",
        "agenda_memory",
        None,
        "<=",
        0.5,
    ),
    Target(
        "agenda_sqlite",
        "agenda < 2 s SQLite (the target is at 10^6)",
        "agenda_sqlite",
        None,
        "<=",
        2.0,
    ),
)
"""Per-unit forms of the issue's totals: a target on 10^5 findings is checked as its
per-finding rate at every size, so growth shows as the rate changing with N."""


def machine_info() -> dict[str, Any]:
    """The machine and the versions the run used."""
    versions = {}
    for dist in ("rectflow", "transitions", "python-statemachine", "attrs", "pendulum", "psycopg"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    import sqlite3  # noqa: PLC0415

    versions["sqlite"] = sqlite3.sqlite_version
    cpu = ""
    with_cpu = Path("/proc/cpuinfo")
    if with_cpu.exists():
        found = re.search(r"model name\s*:\s*(.+)", with_cpu.read_text())
        cpu = found.group(1).strip() if found else ""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": versions,
    }


def evaluate(figures: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every target at every size it can be checked at."""
    out = []
    for size, by_id in figures.items():
        medians = {k: v["median"] for k, v in by_id.items()}
        for target in TARGETS:
            value = target.value(medians)
            if value is None:
                continue
            out.append(
                {
                    "target": target.id,
                    "text": target.text,
                    "n": int(size),
                    "figure": target.figure,
                    "peer": target.peer,
                    "value": value,
                    "op": target.op,
                    "limit": target.limit,
                    "met": target.met(value),
                }
            )
    return out


def profile(name: str, fn: Callable[..., Any], setup: Callable[[], Any] | None = None) -> str:
    """Run *fn* under pyinstrument; the text report's path, relative to the repository.

    With *setup*, what it returns is made first, outside the profile, and passed to *fn*.
    """
    from pyinstrument import Profiler  # noqa: PLC0415 - the bench extra

    prepared = () if setup is None else (setup(),)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    fn(*prepared)
    profiler.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"profile-{name}.txt"
    path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return str(path.relative_to(ROOT))


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write the results."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _fmt(value: float, unit: str) -> str:
    if unit.startswith("µs"):
        return f"{value * 1e6:,.1f}"
    if unit.startswith("B"):
        return f"{value:,.0f}"
    return f"{value:.3f}"


def _fmt_ratio(row: dict[str, Any]) -> str:
    if row["peer"] is None:
        unit = LABELS.get(row["figure"], ("", ""))[1]
        shown = _fmt(row["value"], unit) + " " + unit.split("/")[0]
    else:
        shown = f"{row['value']:.2f}×"
    return shown


def tables(data: dict[str, Any], *, compact: bool = False) -> str:
    """The Markdown tables of a results file: targets, then (unless compact) every figure."""
    # A figure measured at a size of its own (the import's 10^5 rows) gets its column too.
    sizes = [str(n) for n in sorted({*data["sizes"], *map(int, data["figures"])})]
    lines = [
        (
            f"Measured {data['finished'][:16].replace('T', ' ')} UTC, `{data['mode']}` run, "
            f"Python {data['machine']['python']}, {data['machine']['cpus']} CPUs "
            f"({data['machine']['cpu'] or data['machine']['machine']}), load average "
            f"{', '.join(f'{x:.1f}' for x in data['machine']['load_average'] or [])} at the start."
        ),
        "",
        "| target | " + " | ".join(f"N = {int(n):,}" for n in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    by_target: dict[str, dict[str, dict[str, Any]]] = {}
    for row in data["targets"]:
        by_target.setdefault(row["target"], {})[str(row["n"])] = row
    for target in TARGETS:
        rows = by_target.get(target.id)
        if not rows:
            continue
        cells = []
        for n in sizes:
            row = rows.get(n)
            if row is None:
                cells.append("—")
                continue
            mark = "✓" if row["met"] else "✗ **not met**"
            cells.append(f"{_fmt_ratio(row)} {mark}")
        lines.append(f"| {target.text} | " + " | ".join(cells) + " |")
    if data.get("profiles"):
        lines += [
            "",
            "Profiles of the targets not met (pyinstrument, in `benchmarks/results/`):",
            "",
        ]
        lines += [f"- {t}: `{p}`" for t, p in sorted(data["profiles"].items())]
    if data.get("skipped"):
        lines += ["", "Skipped:", ""]
        lines += [f"- {s['figure']} at N = {s['n']:,}: {s['reason']}" for s in data["skipped"]]
    if data.get("notes"):
        lines += ["", "Notes:", ""]
        lines += [f"- {s['figure']} at N = {s['n']:,}: {s['note']}" for s in data["notes"]]
    if compact:
        return "\n".join(lines)
    lines += [
        "",
        "Every figure: median (min–max) over its repeats.",
        "",
        "| figure | unit | " + " | ".join(f"N = {int(n):,}" for n in sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    for key, (label, unit) in LABELS.items():
        cells = []
        present = False
        for n in sizes:
            fig = data["figures"].get(n, {}).get(key)
            if fig is None:
                cells.append("—")
                continue
            present = True
            cells.append(
                f"{_fmt(fig['median'], unit)} ({_fmt(fig['min'], unit)}–{_fmt(fig['max'], unit)})"
            )
        if present:
            lines.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def regenerate(path: Path, text: str) -> None:
    """Replace what stands between the markers in *path* with *text*."""
    content = path.read_text()
    if START not in content or END not in content:
        raise SystemExit(f"{path}: no {START} … {END} markers to regenerate between")
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def now_text() -> str:
    """The current UTC time, ISO."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
