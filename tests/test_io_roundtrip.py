"""Round trips (hypothesis): any ledger → export → import → the same ledger, for each format.

YAML is lossless: the same events and the same head. CSV and XLSX hold the table
(one row per finding, the state and the fields that define it): the re-imported
findings agree on every exported field, and exporting them again gives the same
table.
"""

from __future__ import annotations

import csv
import datetime as dt
import pathlib
import re
import tempfile
from typing import Any

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rectflow import STATES, Ledger, Measure, Owner
from rectflow._workflow import normalize_name

openpyxl = pytest.importorskip("openpyxl")

NOW = pendulum.datetime(2024, 6, 1, 12, tz="Asia/Shanghai")
NAMES = ["黄主任", "王老师", "陈书记", "李校长", "郭主任", "Alice Wu", "@bob", "-carol", "=dave"]
PATHS = [
    *STATES,
    "rejected",
    "rebound",
    "extended",
    "cancelled_staged",
]
_ALPHABET = st.sampled_from(
    [*"整改问题措施德育资产制度检查会议abcXYZ0123456789 =+-@'\"，,。;；()（）：:\t", "＝", "　"]
)
_ENUMERATED = re.compile(r"[一二三四五六七八九十]+是")


def _line(min_size: int = 1) -> st.SearchStrategy[str]:
    """One line of text, as a stripped cell keeps it (may start like a formula)."""
    return (
        st.text(_ALPHABET, min_size=min_size, max_size=12)
        .map(lambda s: s.strip(" \t\u3000"))
        .filter(lambda s: len(s) >= min_size and not _ENUMERATED.search(s))
    )


_text = _line(1).filter(lambda s: s.strip() != "")


@st.composite
def findings(draw: Any) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        people = draw(st.permutations(NAMES))
        out.append(
            {
                "id": f"{i + 1}.{draw(st.integers(1, 12))}",
                "title": draw(_text) + draw(st.sampled_from(["", "\n第二行"])),
                "aspect": draw(_text),
                "category": draw(_text),
                "kind": draw(st.sampled_from(["immediate", "deadline", "long_term"])),
                "owner": Owner(draw(st.sampled_from(["", *NAMES])), draw(_text), people[0]),
                "deadline": dt.date(2023, 12, 20) + dt.timedelta(days=draw(st.integers(0, 60))),
                "measures": draw(st.lists(_text, max_size=3)),
                "itemized": draw(st.booleans()),
                "path": draw(st.sampled_from(PATHS)),
                "submitter": people[1],
                "signer": people[2],
                "note": draw(_text),
                "evidence": draw(st.lists(_text, min_size=1, max_size=2)),
            }
        )
    seen: set[str] = set()
    return [f for f in out if not (f["id"] in seen or seen.add(f["id"]))]  # type: ignore[func-returns-value]


def _at(day: int, hour: int = 9) -> str:
    return (pendulum.datetime(2023, 12, 1, hour, tz="Asia/Shanghai").add(days=day)).isoformat()


def build(specs: list[dict[str, Any]]) -> Ledger:
    """A ledger holding *specs*, each driven along its path through the public API."""
    ledger = Ledger.open(":memory:", clock=lambda: NOW)
    ledger.add_inspection("R1", title="巡察", feedback_at="2023-11-23", at=_at(-8))
    for s in specs:
        fid = s["id"]
        ledger.add_finding(
            fid,
            inspection="R1",
            title=s["title"],
            kind=s["kind"],
            owner=s["owner"],
            deadline=s["deadline"],
            actor="巡察办",
            aspect=s["aspect"],
            category=s["category"],
            measures=[Measure(f"{fid}-{n}", t) for n, t in enumerate(s["measures"], 1)],
            itemized=s["itemized"],
            at=_at(0),
        )
        path, person, ev, note = s["path"], s["owner"].person, s["evidence"], s["note"]

        def fire(event: str, day: int, actor: str = "整改办", **kw: Any) -> None:
            ledger.fire(fid, event, actor=actor, at=_at(day), **kw)  # noqa: B023

        if path == "assigned":
            continue
        if path == "cancelled":
            fire("cancel", 1, reason=note, evidence=ev)
            continue
        if path == "extended":
            fire("extend", 1, requested_by=person, until="2024-03-30", reason=note)
            continue
        fire("start", 1, actor=person, note=note)
        if path == "in_progress":
            continue
        if path in ("staged_result", "cancelled_staged"):
            fire("stage", 2, note=note, evidence=ev, next_checkpoint="2024-02-20")
            if path == "cancelled_staged":
                fire("cancel", 3, reason=note, evidence=ev)
            continue
        for m in ledger.get(fid).measures:
            fire("record_measure", 2, measure=m.id)
        fire("submit", 3, actor=s["submitter"], note=note, evidence=ev)
        if path == "pending_signoff":
            continue
        if path == "rejected":
            fire("reject", 4, actor=s["signer"], note=note)
            continue
        fire("sign_off", 5, actor=s["signer"])
        if path == "rechecked":
            fire("recheck", 150, note=note, evidence=ev)
        elif path == "rebound":
            fire("rebound", 40, evidence=ev, note=note, deadline="2024-04-30")
    return ledger


def fresh() -> Ledger:
    ledger = Ledger.open(":memory:", clock=lambda: NOW)
    ledger.add_inspection("R1", title="巡察", feedback_at="2023-11-23", at=_at(-8))
    return ledger


def table_view(ledger: Ledger) -> list[tuple[Any, ...]]:
    """What a table export says about each finding."""
    out = []
    for f in ledger.findings():
        done = f.state in ("completed", "rechecked")
        out.append(
            (
                f.id,
                f.inspection,
                f.aspect,
                f.category,
                f.title,
                f.kind,
                f.owner,
                f.deadline,
                [m.text for m in f.measures],
                f.state,
                f.itemized,
                f.submitter if done or f.state == "pending_signoff" else None,
                f.signed_off_by if done else None,
                f.completed_at if done else None,
                f.next_checkpoint if f.state == "staged_result" else None,
            )
        )
    return out


def _workdir() -> pathlib.Path:
    return pathlib.Path(tempfile.mkdtemp(prefix="rectflow-rt-"))


@given(findings())
def test_yaml_round_trip_keeps_every_event_and_the_head(specs):
    """Any ledger → YAML → an empty ledger: the same inspections, events and head."""
    ledger = build(specs)
    path = _workdir() / "l.yaml"
    ledger.export_file(path)
    copy = Ledger.open(":memory:", clock=lambda: NOW)
    copy.import_file(path, actor="恢复")
    assert copy.head() == ledger.head()
    assert [e.event for e in copy.store.chain()] == [e.event for e in ledger.store.chain()]
    assert copy.inspections() == ledger.inspections()
    assert list(copy.findings()) == list(ledger.findings())


def _cells(path: pathlib.Path) -> list[list[Any]]:
    """A table file's cells (an XLSX's bytes vary with its timestamps; its cells must not)."""
    if path.suffix == ".csv":
        return [[path.read_bytes()]]
    sheet = openpyxl.load_workbook(path).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@given(specs=findings())
def test_table_round_trip_keeps_the_table(fmt, specs):
    """Any ledger → CSV/XLSX → import: the same table, and exporting again gives the same file."""
    ledger = build(specs)
    work = _workdir()
    ledger.export_file(work / f"a.{fmt}")
    copy = fresh()
    copy.import_file(work / f"a.{fmt}", actor="整改办")
    assert table_view(copy) == table_view(ledger)
    copy.export_file(work / f"b.{fmt}")
    assert _cells(work / f"b.{fmt}") == _cells(work / f"a.{fmt}")
    assert copy.verify()


def test_the_strategy_reaches_every_path():
    """The builder drives a finding to each state (the paths are not dead code)."""
    specs = [
        {
            "id": f"{i}",
            "title": "t",
            "aspect": "a",
            "category": "c",
            "kind": "deadline",
            "owner": Owner("", "d", "黄主任"),
            "deadline": dt.date(2024, 1, 31),
            "measures": ["m"],
            "itemized": True,
            "path": path,
            "submitter": "王老师",
            "signer": "陈书记",
            "note": "n",
            "evidence": ["e"],
        }
        for i, path in enumerate(PATHS)
    ]
    ledger = build(specs)
    states = [ledger.get(str(i)).state for i in range(len(PATHS))]
    assert states == [
        "assigned",
        "in_progress",
        "staged_result",
        "pending_signoff",
        "completed",
        "rechecked",
        "cancelled",
        "in_progress",
        "in_progress",
        "assigned",
        "cancelled",
    ]
    work = _workdir()
    ledger.export_file(work / "a.csv")
    rows = list(csv.DictReader((work / "a.csv").open(encoding="utf-8-sig")))
    by_id = {r["编号"]: r["状态"] for r in rows}
    assert [by_id["0"], by_id["1"], by_id["2"]] == ["已交办", "整改中", "取得阶段性成效"]
    assert normalize_name(" 王老师 ") == "王老师"
