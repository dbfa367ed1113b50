"""The XLSX export is a 台账 (issue 14): laid out as offices print it, and it imports back."""

from __future__ import annotations

import datetime as dt
import pathlib
import tempfile
from typing import Any

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rectflow import Ledger, Measure, Owner
from rectflow._io.xlsxledger import display_width

openpyxl = pytest.importorskip("openpyxl")

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2024, 6, 1, 12, tz=TZ)
UNIT = "中共X县X中学委员会"


def at(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz=TZ)  # type: ignore[return-value]


def office_ledger() -> Ledger:
    """Two aspects, three categories, findings in every state an export shows."""
    ledger = Ledger.open(":memory:", clock=lambda: NOW)
    ledger.add_inspection(
        "R1", title="县委巡察", feedback_at="2023-11-23", at=at("2023-11-23 09:00"), unit=UNIT
    )
    rows = [
        ("1.10", "第一方面:党的领导", "(一)学习", "completed"),
        ("1.2", "第一方面:党的领导", "(一)学习", "staged"),
        ("1.3", "第一方面:党的领导", "(二)制度", "assigned"),
        ("2.1", "第二方面:作风", "(一)接待", "assigned"),
        ("10.1", "第二方面:作风", "(一)接待", "completed"),
    ]
    for fid, aspect, category, state in rows:
        ledger.add_finding(
            fid,
            inspection="R1",
            title=f"问题{fid}:" + "较长的问题描述" * 4,
            kind="deadline",
            owner=Owner("刘副校长", "德育处", "黄主任"),
            deadline="2024-01-31",
            actor="巡察办",
            aspect=aspect,
            category=category,
            measures=[Measure(f"{fid}-1", "措施一"), Measure(f"{fid}-2", "措施二")],
            at=at("2023-11-27 09:00"),
        )
        if state != "assigned":
            ledger.fire(fid, "start", actor="黄主任", at=at("2023-12-01 09:00"))
        if state == "completed":
            for m in ledger.get(fid).measures:
                ledger.fire(fid, "record_measure", actor="黄主任", at=at("2023-12-02 09:00"),
                            measure=m.id)  # fmt: skip
            ledger.fire(fid, "submit", actor="黄主任", at=at("2023-12-20 09:00"), evidence=["a"])
            ledger.fire(fid, "sign_off", actor="陈书记", at=at("2023-12-22 15:30:15.123"))
        elif state == "staged":
            ledger.fire(fid, "stage", actor="黄主任", at=at("2024-01-10 09:00"), note="阶段性成效",
                        evidence=["b"], next_checkpoint="2024-03-10")  # fmt: skip
    return ledger


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("x") / "台账.xlsx"
    office_ledger().export_file(path, as_of="2024-01-22")
    return openpyxl.load_workbook(path).active


def test_title_and_filler_rows_above_a_bold_bordered_header(sheet):
    """Row 1: the title merged across; row 2: 填报单位 / 填报时间; row 3: the header, bold, boxed."""
    merged = {str(r) for r in sheet.merged_cells.ranges}
    last = openpyxl.utils.get_column_letter(sheet.max_column)
    assert sheet["A1"].value == "县委巡察反馈问题整改台账"
    assert f"A1:{last}1" in merged
    assert sheet["A1"].font.b
    row2 = [c.value for c in sheet[2] if c.value]
    assert row2 == [f"填报单位:{UNIT}", "填报时间:二〇二四年一月二十二日"]
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["编号", "方面", "类别", "问题"]
    for c in sheet[3]:
        assert c.font.b
        assert {c.border.left.style, c.border.right.style, c.border.top.style} == {"thin"}


def test_aspect_and_category_merged_down(sheet):
    """方面 merges over its run of rows, 类别 within its 方面's run; rows follow 1.2 < 1.10 < 10.1."""
    merged = {str(r) for r in sheet.merged_cells.ranges}
    ids = [sheet.cell(row, 1).value for row in range(4, sheet.max_row + 1)]
    assert ids == ["1.2", "1.3", "1.10", "2.1", "10.1"]
    assert {"B4:B6", "B7:B8"} <= merged  # 第一方面 over 1.2-1.10, 第二方面 over 2.1-10.1
    # (一)学习 holds 1.2 and 1.10 but 1.3 ((二)制度) sits between: no span joins them
    assert "C7:C8" in merged
    assert not any(r.startswith("C4:") for r in merged)
    assert sheet["B4"].value == "第一方面:党的领导"
    assert sheet["B5"].value is None  # hidden under the merge


def test_cells_wrap_and_columns_fit(sheet):
    """Body cells wrap and are boxed; widths follow the content (wide text capped, ids narrow)."""
    widths = {c: sheet.column_dimensions[c].width for c in ("A", "D", "I")}
    assert widths["A"] < 12  # 编号
    assert widths["D"] > 30  # 问题: long text, capped
    assert widths["D"] <= 48
    assert display_width("编号") == 4
    for c in sheet[4]:
        assert c.alignment.wrap_text
        assert c.border.left.style == "thin"


def test_every_date_column_holds_dates(sheet):
    """整改时限 and 下次检查时间 are date cells; 销号时间 and 状态时间 date-time cells (Beijing time)."""
    header = [c.value for c in sheet[3]]
    row = {h: sheet.cell(4, i + 1) for i, h in enumerate(header)}  # 1.2, staged
    done = {h: sheet.cell(6, i + 1) for i, h in enumerate(header)}  # 1.10, completed
    assert row["整改时限"].value == dt.datetime(2024, 1, 31)
    assert row["整改时限"].is_date
    assert row["下次检查时间"].value == dt.datetime(2024, 3, 10)
    assert row["状态时间"].value == dt.datetime(2024, 1, 10, 9)
    assert done["销号时间"].value == dt.datetime(2023, 12, 22, 15, 30, 15, 123000)
    assert done["销号时间"].is_date
    assert "hh:mm" in done["销号时间"].number_format


def test_frozen_header_and_a4_landscape_print_set_up(sheet):
    """The header stays in view; A4 landscape, fitted to the width, header repeated, office columns."""
    assert sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    header = [c.value for c in sheet[3]]
    printed = header.index("备注") + 1  # 备注 is the last printed column
    letter = openpyxl.utils.get_column_letter(printed)
    assert sheet.print_area == f"'整改台账'!$A$1:${letter}${sheet.max_row}"


def test_own_export_imports_into_an_empty_ledger(tmp_path: pathlib.Path):
    """Export → an empty ledger → the same findings and states (times to the millisecond)."""
    ledger = office_ledger()
    ledger.export_file(tmp_path / "a.xlsx")
    copy = Ledger.open(":memory:", clock=lambda: NOW)
    copy.add_inspection("R1", title="县委巡察", feedback_at="2023-11-23", at=at("2023-11-23 09:00"))
    summary = copy.import_file(tmp_path / "a.xlsx", actor="整改办")
    assert summary.findings_added == 5
    assert view(copy) == view(ledger)
    assert copy.verify()


# ---------------------------------------------------------------- the round trip, for any ledger


def view(ledger: Ledger) -> list[tuple[Any, ...]]:
    """What the table says of each finding: fields, state, 备注, extras (times to the ms)."""
    out = []
    for f in sorted(ledger.findings(), key=lambda f: f.id):
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
                _ms(f.completed_at) if done else None,
                f.next_checkpoint if f.state == "staged_result" else None,
                f.remarks,
                dict(f.extra),
            )
        )
    return out


def _ms(when: dt.datetime | None) -> dt.datetime | None:
    return None if when is None else when.replace(microsecond=when.microsecond // 1000 * 1000)


_WORDS = st.sampled_from(["意识形态", "作风建设", "资产管理", "(一)学习", "第一方面:领导", "A&B"])
_REMARKS = st.sampled_from(["", "已完成", "需长期坚持\n第二行", "A&B", "=1+1"])
_EXTRA_HEADERS = st.sampled_from(["督办意见", "整改成效", "Note x"])
_EXTRA_TEXT = st.sampled_from(["已督办", "二次督办\n限期", "0012", "A&B"])
_STATES = ("assigned", "in_progress", "staged_result", "pending_signoff", "completed", "rechecked")


@st.composite
def ledgers(draw: Any) -> list[dict[str, Any]]:
    """Findings with ids people number (1.2, 1.10, 10), repeating aspects, any state."""
    ids = draw(
        st.lists(
            st.tuples(st.integers(1, 12), st.integers(1, 12)).map(lambda t: f"{t[0]}.{t[1]}"),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    return [
        {
            "id": fid,
            "aspect": draw(_WORDS | st.just("")),  # a seed finding may have none
            "category": draw(_WORDS | st.just("")),
            "title": draw(_WORDS) + draw(st.sampled_from(["", "\n第二行", " 说明"])),
            "state": draw(st.sampled_from(_STATES)),
            "deadline": dt.date(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 90))),
            "ms": draw(st.integers(0, 999_999)),  # a sign-off's sub-second part
            "remarks": draw(_REMARKS),
            "extra": draw(st.dictionaries(_EXTRA_HEADERS, _EXTRA_TEXT, max_size=3)),
        }
        for fid in ids
    ]


def build(specs: list[dict[str, Any]]) -> Ledger:
    ledger = Ledger.open(":memory:", clock=lambda: NOW)
    ledger.add_inspection("R1", title="巡察", feedback_at="2023-11-23", at=at("2023-11-23 09:00"))
    for s in specs:
        fid, state = s["id"], s["state"]
        ledger.add_finding(
            fid,
            inspection="R1",
            title=s["title"],
            kind="deadline",
            owner=Owner("", "德育处", "黄主任"),
            deadline=s["deadline"],
            actor="巡察办",
            aspect=s["aspect"],
            category=s["category"],
            at=at("2023-11-27 09:00"),
        )
        changes = {
            key: {"old": old, "new": s[key]}
            for key, old in (("remarks", ""), ("extra", {}))
            if s[key] != old
        }
        if changes:  # 备注 and the office's own columns, as an office sheet brings them
            ledger.fire(fid, "amend", actor="巡察办", at=at("2023-11-27 10:00"), changes=changes)
        if state == "assigned":
            continue
        ledger.fire(fid, "start", actor="黄主任", at=at("2023-12-01 09:00"))
        if state == "staged_result":
            ledger.fire(fid, "stage", actor="黄主任", at=at("2023-12-05 09:00"), note="n",
                        evidence=["e"], next_checkpoint="2024-02-20")  # fmt: skip
        if state in ("pending_signoff", "completed", "rechecked"):
            ledger.fire(fid, "submit", actor="王老师", at=at("2023-12-10 09:00"), evidence=["e"])
        if state in ("completed", "rechecked"):
            signed = at("2023-12-12 15:00").add(microseconds=s["ms"])
            ledger.fire(fid, "sign_off", actor="陈书记", at=signed)
        if state == "rechecked":
            ledger.fire(fid, "recheck", actor="整改办", at=at("2024-05-20 09:00"), evidence=["r"])
    return ledger


@given(ledgers())
def test_any_ledger_exported_as_a_ledger_sheet_imports_the_same(specs):
    """Any ledger → XLSX 台账 → an empty ledger: the same findings, states, remarks and extras."""
    ledger = build(specs)
    work = pathlib.Path(tempfile.mkdtemp(prefix="rectflow-sheet-"))
    ledger.export_file(work / "a.xlsx")
    copy = Ledger.open(":memory:", clock=lambda: NOW)
    copy.add_inspection("R1", title="巡察", feedback_at="2023-11-23", at=at("2023-11-23 09:00"))
    copy.import_file(work / "a.xlsx", actor="整改办")
    assert view(copy) == view(ledger)
    copy.export_file(work / "b.xlsx")
    cells = [
        [list(r) for r in openpyxl.load_workbook(work / n).active.iter_rows(values_only=True)]
        for n in ("a.xlsx", "b.xlsx")
    ]
    assert cells[0] == cells[1]


def test_empty_aspect_survives_the_xlsx_but_a_csv_blank_is_as_above(tmp_path: pathlib.Path):
    """XLSX: only merged cells repeat 方面/类别, a blank one is empty; a CSV blank is "as above"."""
    ledger = Ledger.open(":memory:", clock=lambda: NOW)
    ledger.add_inspection("R1", title="巡察", feedback_at="2023-11-23", at=at("2023-11-23 09:00"))
    for fid, aspect, category in (("1.1", "A", "c"), ("1.2", "A", ""), ("2.1", "", ""),
                                  ("2.2", "", "d")):  # fmt: skip
        ledger.add_finding(fid, inspection="R1", title=f"问题{fid}", kind="deadline",
                           owner=Owner("", "德育处", "黄主任"), deadline="2024-01-31",
                           actor="巡察办", aspect=aspect, category=category,
                           at=at("2023-11-27 09:00"))  # fmt: skip
    got = {}
    for suffix in ("xlsx", "csv"):
        ledger.export_file(tmp_path / f"a.{suffix}")
        copy = Ledger.open(":memory:", clock=lambda: NOW)
        copy.add_inspection("R1", title="巡察", feedback_at="2023-11-23", at=at("2023-11-23 09:00"))
        copy.import_file(tmp_path / f"a.{suffix}", actor="整改办")
        got[suffix] = [(f.id, f.aspect, f.category) for f in copy.findings()]
    assert got["xlsx"] == [("1.1", "A", "c"), ("1.2", "A", ""), ("2.1", "", ""), ("2.2", "", "d")]
    # a CSV cannot merge: a blank is the cell above (office CSVs saved from merged sheets)
    assert got["csv"] == [
        ("1.1", "A", "c"),
        ("1.2", "A", "c"),
        ("2.1", "A", "c"),
        ("2.2", "A", "d"),
    ]
