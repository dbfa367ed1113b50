"""Importing a 10^5-row ledger CSV: ``Ledger.import_file`` against a plain SQL floor.

Run on its own::

    python benchmarks/bench_import.py --rows 100000 [--repeats 5] [--pg-rows 10000]

Measured in the same run, medians of ``--repeats`` runs (after one warm-up):

- ``import_file``: a CSV of *rows* findings (one measure each, state 已交办) into a
  fresh SQLite ledger through the whole path (read, check every cell, build
  each ``add`` through ``add_finding``'s checks and the workflow, ``_admit``,
  ``Store.append_many``);
- the floor: ``csv.reader`` + a hand-built event and finding JSON per row, the
  same SHA-256 chain, and two ``executemany`` into the same tables, one
  transaction;
- memory: the tracemalloc peak of one ``import_file`` (a separate run);
- PostgreSQL: the same ``import_file`` path into a fresh schema (``--pg-rows``,
  skipped when no server answers at ``$RECTFLOW_PG_URL``).

``main()`` returns the figures as a dict; ``harness_figures`` gives ``benchmarks/run.py``
its per-row figures (``import_sqlite``, ``import_floor``, ``import_peak_bytes``,
``import_postgres``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pendulum
from _common import median_seconds

from rectflow import Ledger

NOW = pendulum.datetime(2024, 6, 1, 12, tz="Asia/Shanghai")
HEADER = [
    "编号",
    "巡察",
    "方面",
    "类别",
    "问题",
    "责任领导",
    "责任部门",
    "责任人",
    "整改时限",
    "整改措施",
]
PG_URL = os.environ.get("RECTFLOW_PG_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def write_csv(path: Path, rows: int) -> None:
    """A ledger CSV of *rows* findings (UTF-8 with BOM, as Excel saves it)."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["XX县巡察整改台账"])
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow(
                [
                    f"{i // 1000 + 1}.{i % 1000 + 1}",
                    "R1",
                    f"第{i % 3 + 1}方面",
                    f"({i % 10 + 1})类别",
                    f"问题描述第{i}条: 对整改工作重视不够, 措施落实不到位",
                    "刘副校长",
                    f"部门{i % 20}",
                    f"责任人{i % 50}",
                    f"2024-{i % 12 + 1:02}-15",
                    "每月召开专题会议",
                ]
            )


def _new_ledger(target: str) -> Ledger:
    ledger = Ledger.open(target, clock=lambda: NOW)
    ledger.add_inspection(
        "R1", title="县委巡察", feedback_at="2023-11-23", at="2023-11-23T09:00:00+08:00"
    )
    return ledger


def run_import(source: Path, target: str) -> Any:
    with _new_ledger(target) as ledger:
        return ledger.import_file(source, actor="整改办")


def _dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def run_floor(source: Path, target: str) -> int:
    """csv + executemany writing the same kind of rows and the same chain of hashes."""
    _new_ledger(target).close()  # the schema
    at = NOW.isoformat()
    at_us = int(NOW.timestamp()) * 1_000_000
    events, findings = [], []
    # The chain continues after the entries the ledger already holds (its inspection's).
    with sqlite3.connect(target) as conn:
        tip = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    first, prev = (1, "0" * 64) if tip is None else (int(tip[0]) + 1, str(tip[1]))
    with source.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        next(reader)
        for seq, cells in enumerate(reader, first):
            fid, insp, aspect, category, title, leader, dept, person, deadline, measure = cells
            owner = {"leader": leader, "department": dept, "person": person}
            measures = [{"id": f"{fid}-1", "text": measure, "kind": "one_off"}]
            payload = {
                "inspection": insp,
                "aspect": aspect,
                "category": category,
                "title": title,
                "kind": "deadline",
                "owner": owner,
                "deadline": deadline,
                "measures": measures,
                "itemized": True,
                "provenance": "imported",
            }
            event = {
                "finding_id": fid,
                "name": "add",
                "at": at,
                "actor": "整改办",
                "note": None,
                "evidence": [],
                "payload": payload,
                "version": 1,
            }
            data = _dumps(event)
            digest = hashlib.sha256(f"{prev}\n{_dumps({**event, 'seq': seq})}".encode()).hexdigest()
            events.append((fid, 1, seq, "add", at, at_us, data, prev, digest))
            prev = digest
            finding = {**payload, "id": fid, "state": "assigned", "version": 1}
            findings.append((insp, 1, "assigned", deadline, None, None, None, _dumps(finding), fid))
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO events (finding_id, version, seq, name, at, at_us, data, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        events,
    )
    conn.executemany(
        "INSERT INTO findings (inspection, version, state, deadline, next_checkpoint,"
        " completed_at_us, recurring_due, data, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        findings,
    )
    conn.execute("COMMIT")
    conn.close()
    return len(events)


def _pg_available() -> bool:
    try:
        import psycopg  # noqa: PLC0415

        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception:  # noqa: BLE001 - any failure means: skip
        return False
    return True


def run_pg(source: Path) -> float:
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"
    try:
        t0 = time.perf_counter()
        run_import(source, url)
        return time.perf_counter() - t0
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def measure(rows: int, repeats: int = 5, pg_rows: int = 0) -> dict[str, Any]:
    """The import figures at *rows* rows (and *pg_rows* on PostgreSQL; 0: none)."""
    work = Path(tempfile.mkdtemp(prefix="rectflow-bench-import-"))
    source = work / "ledger.csv"
    write_csv(source, rows)
    counter = iter(range(10**9))

    def fresh() -> str:
        return str(work / f"l{next(counter)}.db")

    imported, import_runs = median_seconds(lambda: run_import(source, fresh()), repeats)
    floor, floor_runs = median_seconds(lambda: run_floor(source, fresh()), repeats)
    tracemalloc.start()
    run_import(source, fresh())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures: dict[str, Any] = {
        "rows": rows,
        "file_bytes": source.stat().st_size,
        "import_file_sqlite_s": round(imported, 3),
        "import_file_runs_s": [round(r, 6) for r in import_runs],
        "floor_csv_executemany_s": round(floor, 3),
        "floor_runs_s": [round(r, 6) for r in floor_runs],
        "ratio": round(imported / floor, 1),
        "per_row_us": round(imported / rows * 1e6, 1),
        "tracemalloc_peak_mib": round(peak / 2**20, 1),
        "peak_bytes_per_row": round(peak / rows),
        "target_s": 5.0,
        "target_ratio": 8.0,
    }
    if pg_rows and _pg_available():
        pg_source = work / "pg.csv"
        write_csv(pg_source, pg_rows)
        seconds = run_pg(pg_source)
        figures["postgres_rows"] = pg_rows
        figures["import_file_postgres_s"] = round(seconds, 3)
        figures["postgres_per_row_us"] = round(seconds / pg_rows * 1e6, 1)
    for path in work.iterdir():
        path.unlink()
    work.rmdir()
    return figures


def harness_figures(rows: int, repeats: int, pg_rows: int) -> dict[str, Any]:
    """The figures ``benchmarks/run.py`` keeps: seconds per row (each run), bytes per row."""
    raw = measure(rows, repeats, pg_rows)
    out: dict[str, Any] = {
        "import_sqlite": [r / rows for r in raw["import_file_runs_s"]],
        "import_floor": [r / rows for r in raw["floor_runs_s"]],
        "import_peak_bytes": float(raw["peak_bytes_per_row"]),
    }
    if "import_file_postgres_s" in raw:
        out["import_postgres"] = raw["import_file_postgres_s"] / pg_rows
    return out


def profile_job(rows: int) -> None:
    """One import of *rows* rows into a fresh SQLite ledger (what the profile records)."""
    work = Path(tempfile.mkdtemp(prefix="rectflow-bench-import-"))
    try:
        write_csv(work / "ledger.csv", rows)
        run_import(work / "ledger.csv", str(work / "ledger.db"))
    finally:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """The figures of a run from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pg-rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    return measure(args.rows, args.repeats, args.pg_rows)


if __name__ == "__main__":
    result = main()
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
