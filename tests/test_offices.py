"""Office sheets as offices really keep them import with no edits (issue 14, "Reading real sheets").

The corpus under ``tests/data/offices/`` is built here from the tables below, the
way offices make them: merged title rows, a 填报单位/填报时间 row, two-row headers,
方面/类别 merged down, 序号 restarting per aspect, blank rows, the header printed
again on a new page, footers and 注 rows; XLSX with fonts, borders and merges, and
CSV saved as GB18030 by Excel on a Chinese Windows. Each sheet imports as it is
and gives exactly its expected findings, states, remarks and extra columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import pathlib
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
import pytest

from rectflow import Ledger, LedgerFileError, Policy, RectflowError
from rectflow._policy import Period
from rectflow._workflow import Workflow
from rectflow.cli import main

openpyxl = pytest.importorskip("openpyxl")
from openpyxl.styles import Alignment, Border, Font, Side  # noqa: E402

NOW = pendulum.datetime(2024, 6, 1, 12, tz="Asia/Shanghai")
FEEDBACK = "2023-11-23"
OFFICES = pathlib.Path(__file__).parent / "data" / "offices"

UNIT = "XX县第一中学党支部"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


@attrs.frozen
class Sheet:
    """One office sheet: its rows as the office laid them out, and what must come in."""

    name: str
    rows: list[list[Any]]
    merges: tuple[str, ...] = ()
    header_rows: tuple[int, ...] = ()
    expected: tuple[tuple[Any, ...], ...] = ()
    """(id, title, state, kind, deadline, remarks, extra) per finding."""
    skipped: tuple[str, ...] = ()
    """The reasons of the skipped rows, in order."""
    renumbered: str = ""
    at: str = ""
    """The sheet's 填报时间 (the events' time), or "" for now."""
    options: dict[str, Any] = attrs.field(factory=dict)


def _period(months: int) -> dt.date:
    """The day *months* after the feedback day, through the policy's calendar (art. 203)."""
    return Period(months, "months").after(dt.date(2023, 11, 23), Policy().work_calendar())


# 10 working days after 2023-11-23 (Thursday): 2023-12-07
IMMEDIATE = dt.date(2023, 12, 7)
LONG = _period(2)  # a long-term finding's report day: the report period (2 months)

H1 = [
    "序号",
    "方面",
    "问题类别",
    "存在问题",
    "整改措施",
    "责任领导",
    "责任部门",
    "责任人",
    "整改时限",
    "完成情况",
    "备注",
]

SCHOOL = Sheet(
    "01-school-restart-per-aspect.xlsx",
    [
        ["XX县第一中学巡察反馈问题整改台账", *[None] * 10],
        [f"填报单位:{UNIT}", *[None] * 7, "填报时间:2024年1月22日", None, None],
        H1,
        [
            1,
            "一、党的领导方面",
            "(一)意识形态工作责任制落实不力",
            "理论学习中心组学习不规范",
            "一是制定年度学习计划;二是建立学习台账",
            "张书记",
            "党办",
            "王主任",
            "立行立改",
            "已完成",
            "学习台账已建立",
        ],
        [
            2,
            None,
            None,
            "意识形态阵地管理不严",
            "开展阵地排查",
            "张书记",
            "党办",
            "王主任",
            "长期坚持",
            "已取得阶段性成效,正在持续推进",
            None,
        ],
        [
            3,
            None,
            "(二)落实主体责任有差距",
            "主体责任清单未细化",
            "细化责任清单",
            "张书记",
            "党办",
            "李老师",
            "2个月",
            "正在整改",
            None,
        ],
        [None] * 11,
        [
            1,
            "二、全面从严治党方面",
            "(一)财务管理不规范",
            "公务接待审批不严",
            "完善接待审批制度",
            "刘校长",
            "财务室",
            "赵会计",
            dt.datetime(2024, 1, 31),
            "已整改",
            "制度已印发",
        ],
        [
            2,
            None,
            None,
            "固定资产账实不符",
            "开展资产清查",
            "刘校长",
            "财务室",
            "赵会计",
            "2024年1月31日",
            None,
            None,
        ],
        [None] * 11,
        ["填表人:王主任                审核人:张书记", *[None] * 10],
        ["注:1.整改时限为立行立改的,应于反馈后10个工作日内完成。", *[None] * 10],
    ],
    merges=("A1:K1", "A2:H2", "I2:K2", "B4:B6", "C4:C5", "B8:B9", "C8:C9", "A11:K11", "A12:K12"),
    header_rows=(3,),
    expected=(
        (
            "1.1.1",
            "理论学习中心组学习不规范",
            "completed",
            "immediate",
            IMMEDIATE,
            "学习台账已建立",
            {},
        ),
        ("1.1.2", "意识形态阵地管理不严", "staged_result", "long_term", LONG, "", {}),
        ("1.2.1", "主体责任清单未细化", "in_progress", "deadline", _period(2), "", {}),
        (
            "2.1.1",
            "公务接待审批不严",
            "completed",
            "deadline",
            dt.date(2024, 1, 31),
            "制度已印发",
            {},
        ),
        ("2.1.2", "固定资产账实不符", "assigned", "deadline", dt.date(2024, 1, 31), "", {}),
    ),
    skipped=("blank", "blank", "footer", "footer"),
    renumbered="aspect",
    at="2024-01-22",
)

TWO_ROWS = Sheet(
    "02-two-row-header.xlsx",
    [
        ["关于巡察反馈意见整改落实情况台账", *[None] * 9],
        ["(2023年第二轮巡察 · 截至2024年1月)", *[None] * 9],
        [
            "序号",
            "问题表现",
            "整改目标",
            "整改措施",
            "责任主体",
            None,
            None,
            "完成时限",
            "整改进展",
            "备注",
        ],
        [None, None, None, None, "责任领导", "责任部门", "责任人", None, None, None],
        [
            1,
            "校务公开不及时",
            "按月公开",
            "建立公开清单",
            "刘校长",
            "校办",
            "孙老师",
            "3个月内",
            "完成整改",
            None,
        ],
        [
            2,
            "食堂账目不清",
            "账目清楚",
            "聘请审计",
            "刘校长",
            "总务处",
            "周主任",
            "半年",
            "整改中",
            "与审计局对接",
        ],
        [
            3,
            "教师培训不足",
            "全员培训",
            "制定培训计划",
            "陈副校长",
            "教务处",
            "吴老师",
            "2024年1月底",
            "已销号",
            None,
        ],
    ],
    merges=(
        "A1:J1",
        "A2:J2",
        "A3:A4",
        "B3:B4",
        "C3:C4",
        "D3:D4",
        "E3:G3",
        "H3:H4",
        "I3:I4",
        "J3:J4",
    ),
    header_rows=(3, 4),
    expected=(
        ("1", "校务公开不及时", "completed", "deadline", _period(3), "", {"整改目标": "按月公开"}),
        (
            "2",
            "食堂账目不清",
            "in_progress",
            "deadline",
            _period(6),
            "与审计局对接",
            {"整改目标": "账目清楚"},
        ),
        (
            "3",
            "教师培训不足",
            "completed",
            "deadline",
            dt.date(2024, 1, 31),
            "",
            {"整改目标": "全员培训"},
        ),
    ),
)

GB_CSV = Sheet(
    "03-gb18030-title-and-unit.csv",
    [
        ["XX县实验小学巡察整改台账", "", "", "", "", "", "", ""],
        ["填报单位:XX县实验小学", "", "", "", "填报日期:2024.1.22", "", "", ""],
        ["序号", "方面", "类别", "问题", "责任部门", "责任人", "整改时限", "进展情况"],
        ["1", "师德师风", "有偿补课", "个别教师有偿补课", "政教处", "郑主任", "一年", "推进中"],
        ["2", "", "", "师德档案不全", "政教处", "郑主任", "2024年1月", "已完成整改"],
        ["3", "安全管理", "消防", "消防通道堵塞", "总务处", "冯主任", "立即整改", "已整改"],
        ["", "", "", "", "", "", "", ""],
        ["联系电话:0000-1234567", "", "", "", "", "", "", ""],
    ],
    expected=(
        ("1", "个别教师有偿补课", "in_progress", "deadline", _period(12), "", {}),
        ("2", "师德档案不全", "completed", "deadline", dt.date(2024, 1, 31), "", {}),
        ("3", "消防通道堵塞", "completed", "immediate", IMMEDIATE, "", {}),
    ),
    skipped=("blank", "footer"),
    at="2024-01-22",
)

REPEATED = Sheet(
    "04-repeated-header-pages.xlsx",
    [
        ["XX镇中心学校整改台账", *[None] * 6],
        ["编号", "方面", "主要问题", "责任单位", "责任人", "整改期限", "整改情况"],
        ["1.1.1", "第一方面", "三重一大制度执行不严", "校办", "钱老师", "2024年1月", "未启动"],
        ["1.1.2", None, "会议记录不全", "校办", "钱老师", "一年", "正在推进"],
        ["编号", "方面", "主要问题", "责任单位", "责任人", "整改期限", "整改情况"],
        ["2.1.1", "第二方面", "采购程序不规范", "总务处", "许老师", "2个月", "已完成整改"],
        ["审核人:刘校长", *[None] * 6],
    ],
    merges=("A1:G1", "A7:G7"),
    header_rows=(2, 5),
    expected=(
        ("1.1.1", "三重一大制度执行不严", "assigned", "deadline", dt.date(2024, 1, 31), "", {}),
        ("1.1.2", "会议记录不全", "in_progress", "deadline", _period(12), "", {}),
        ("2.1.1", "采购程序不规范", "completed", "deadline", _period(2), "", {}),
    ),
    skipped=("header", "footer"),
)

SECTIONS = Sheet(
    "05-section-rows-gb18030.csv",
    [
        ["巡察整改任务清单", "", "", "", "", ""],
        ["序号", "存在问题", "责任部门", "责任人", "整改时限", "完成情况"],
        ["一、思想政治建设方面", "", "", "", "", ""],
        ["1", "政治理论学习流于形式", "党办", "王主任", "长期", "持续推进"],
        ["2", "三会一课不规范", "党办", "王主任", "2个月", "已完成"],
        ["二、教育教学管理方面", "", "", "", "", ""],
        ["1", "作业管理不规范", "教务处", "吴老师", "3个月", "未启动"],
        ["说明:本表一式两份。", "", "", "", "", ""],
    ],
    expected=(
        ("1.1.1", "政治理论学习流于形式", "staged_result", "long_term", LONG, "", {}),
        ("1.1.2", "三会一课不规范", "completed", "deadline", _period(2), "", {}),
        ("2.1.1", "作业管理不规范", "assigned", "deadline", _period(3), "", {}),
    ),
    skipped=("section", "section", "footer"),
    renumbered="aspect",
)

CATEGORY = Sheet(
    "06-restart-per-category.xlsx",
    [
        ["XX中学巡察整改台账(第二批)", *[None] * 8],
        [
            "序号",
            "方面",
            "类别",
            "问题描述",
            "责任领导",
            "责任部门",
            "完成时限",
            "状态",
            "整改情况",
        ],
        [1, "第一方面", "类别甲", "问题甲一", "刘校长", "校办", "2个月", "已销号", "已办结"],
        [2, None, None, "问题甲二", "刘校长", "校办", "2个月", "整改中", "方案已定"],
        [1, None, "类别乙", "问题乙一", "刘校长", "校办", "3个月", "阶段性成效", "初见成效"],
        [1, "第二方面", "类别丙", "问题丙一", "陈副校长", "教务处", "2个月", "", ""],
    ],
    merges=("A1:I1", "B3:B5", "C3:C4"),
    header_rows=(2,),
    expected=(
        ("1.1.1", "问题甲一", "completed", "deadline", _period(2), "", {}),
        ("1.1.2", "问题甲二", "in_progress", "deadline", _period(2), "", {}),
        ("1.2.1", "问题乙一", "staged_result", "deadline", _period(3), "", {}),
        ("2.1.1", "问题丙一", "assigned", "deadline", _period(2), "", {}),
    ),
    renumbered="category",
)

NAMES = Sheet(
    "07-with-signers.xlsx",
    [
        ["整改台账", *[None] * 10],
        ["填报单位:XX县第二中学  填报时间:2024-01-22", *[None] * 10],
        [
            "序号",
            "方面",
            "存在问题",
            "责任部门",
            "责任人",
            "整改时限",
            "完成情况",
            "佐证材料",
            "提交人",
            "销号人",
            "督办意见",
        ],
        [
            1,
            "第一方面",
            "校园安保不到位",
            "保卫科",
            "韩科长",
            "2024/1/15",
            "已完成",
            "安保方案.pdf",
            "韩科长",
            "刘校长",
            "按期办结",
        ],
        [
            2,
            None,
            "门卫登记不全",
            "保卫科",
            "韩科长",
            "2024/1/15",
            "已完成",
            None,
            None,
            None,
            None,
        ],
        [
            3,
            None,
            "监控有盲区",
            "保卫科",
            "韩科长",
            "长期坚持",
            "已取得阶段性成效",
            "监控清单.xlsx",
            None,
            None,
            None,
        ],
    ],
    merges=("A1:K1", "A2:K2", "B4:B6"),
    header_rows=(3,),
    expected=(
        (
            "1",
            "校园安保不到位",
            "completed",
            "deadline",
            dt.date(2024, 1, 15),
            "",
            {"督办意见": "按期办结"},
        ),
        ("2", "门卫登记不全", "completed", "deadline", dt.date(2024, 1, 15), "", {}),
        ("3", "监控有盲区", "staged_result", "long_term", LONG, "", {}),
    ),
    at="2024-01-22",
)

PLAIN_CSV = Sheet(
    "08-utf8-remarks-and-extras.csv",
    [
        [
            "问题编号",
            "巡察",
            "问题",
            "整改单位",
            "责任人",
            "整改时限",
            "整改进展",
            "备注",
            "牵头校领导",
            "资金(万元)",
        ],
        [
            "A-1",
            "R1",
            "实验室台账缺失",
            "教务处",
            "吴老师",
            "2024-01-31",
            "完成整改",
            "待复核",
            "",
            "0.5",
        ],
        ["A-2", "R1", "图书室开放不足", "教务处", "吴老师", "2个月", "", "", "陈副校长", ""],
    ],
    expected=(
        (
            "A-1",
            "实验室台账缺失",
            "completed",
            "deadline",
            dt.date(2024, 1, 31),
            "待复核",
            {"资金(万元)": "0.5"},
        ),
        (
            "A-2",
            "图书室开放不足",
            "assigned",
            "deadline",
            _period(2),
            "",
            {"牵头校领导": "陈副校长"},
        ),
    ),
)

SHEETS = (SCHOOL, TWO_ROWS, GB_CSV, REPEATED, SECTIONS, CATEGORY, NAMES, PLAIN_CSV)


def write_sheet(sheet: Sheet, path: pathlib.Path) -> pathlib.Path:
    """Write *sheet* the way an office saves it (XLSX with styles and merges; CSV as GB18030)."""
    if path.suffix == ".csv":
        encoding = "utf-8-sig" if "utf8" in path.name else "gb18030"
        with path.open("w", encoding=encoding, newline="") as out:
            csv.writer(out).writerows([["" if c is None else c for c in row] for row in sheet.rows])
        return path
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "整改台账"
    width = max(len(r) for r in sheet.rows)
    for row in sheet.rows:
        ws.append(row)
    for number, row in enumerate(sheet.rows, 1):
        for column in range(1, width + 1):
            cell = ws.cell(number, column)
            if number == 1:
                cell.font = Font(name="方正小标宋简体", size=18)
                cell.alignment = Alignment(horizontal="center")
            elif number in sheet.header_rows:
                cell.font = Font(name="黑体", size=11, bold=True)
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                cell.border = BOX
            else:
                cell.font = Font(name="仿宋_GB2312", size=11)
                cell.alignment = Alignment(vertical="center", wrap_text=True)
                if (
                    any(v is not None for v in row)
                    and sheet.header_rows
                    and (number > max(sheet.header_rows))
                ):
                    cell.border = BOX
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy年m月d日"
    for span in sheet.merges:
        ws.merge_cells(span)
    for letter, size in zip(
        "ABCDEFGHIJK", (6, 14, 18, 30, 24, 10, 10, 10, 12, 24, 14), strict=False
    ):
        ws.column_dimensions[letter].width = size
    ws.page_setup.orientation = "landscape"
    book.save(path)
    return path


@pytest.fixture(scope="module")
def corpus() -> dict[str, pathlib.Path]:
    """The office corpus, written under tests/data/offices/ from the tables above."""
    OFFICES.mkdir(parents=True, exist_ok=True)
    return {s.name: write_sheet(s, OFFICES / s.name) for s in SHEETS}


def _ledger(target: str = ":memory:") -> Ledger:
    return Ledger.open(target, clock=lambda: NOW)


def _import(ledger: Ledger, sheet: Sheet, path: pathlib.Path, **kwargs: Any) -> Any:
    return ledger.import_file(
        path,
        actor="整改办",
        inspection="R1",
        feedback_at=FEEDBACK,
        declared_findings=len(sheet.expected) + 2,
        **{**sheet.options, **kwargs},
    )


def _check(ledger: Ledger, sheet: Sheet, summary: Any) -> None:
    got = {
        f.id: (f.id, f.title, f.state, f.kind, f.deadline, f.remarks, dict(f.extra))
        for f in ledger.findings("R1")
    }
    assert got == {e[0]: e for e in sheet.expected}
    assert [reason for _row, reason, _text in summary.skipped] == list(sheet.skipped)
    assert summary.renumbered == sheet.renumbered
    if sheet.at:
        assert summary.at_source == "sheet"
        assert summary.at.startswith(sheet.at)
    else:
        assert summary.at_source == "now"


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.name)
def test_office_sheet_imports_as_it_is(sheet: Sheet, corpus: dict[str, pathlib.Path]) -> None:
    """Each office sheet imports with no edit and gives exactly its findings, states, remarks, extras."""
    ledger = _ledger()
    summary = _import(ledger, sheet, corpus[sheet.name])
    assert summary.findings_added == len(sheet.expected)
    assert summary.inspections_added == 1
    _check(ledger, sheet, summary)
    assert ledger.verify().ok


def test_the_corpus_has_eight_layouts(corpus: dict[str, pathlib.Path]) -> None:
    """At least 8 sheets, XLSX and GB18030 CSV among them."""
    assert len(corpus) >= 8
    suffixes = {p.suffix for p in corpus.values()}
    assert suffixes == {".xlsx", ".csv"}
    raw = corpus[GB_CSV.name].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "填报单位".encode("gb18030") in raw


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.name)
def test_postgres_imports_the_corpus(
    sheet: Sheet, corpus: dict[str, pathlib.Path], pg_target: str
) -> None:
    """Each office sheet imports on PostgreSQL too, with the same findings, and verifies."""
    with Ledger.open(pg_target, clock=lambda: NOW) as ledger:
        summary = _import(ledger, sheet, corpus[sheet.name])
        _check(ledger, sheet, summary)
    with Ledger.open(pg_target, clock=lambda: NOW) as ledger:  # read back from the server
        got = {f.id: (f.state, f.remarks, dict(f.extra)) for f in ledger.findings("R1")}
        assert got == {e[0]: (e[2], e[5], e[6]) for e in sheet.expected}
        assert ledger.verify().ok


def test_completed_without_names_is_attested_by_the_importer(
    corpus: dict[str, pathlib.Path],
) -> None:
    """A row that says completed naming nobody ends in an attest event by the importer."""
    ledger = _ledger()
    summary = _import(ledger, SCHOOL, corpus[SCHOOL.name])
    assert summary.completed_by_import == 2
    history = ledger.history("1.1.1")
    last = history[-1]
    assert last.name == "attest"
    assert last.actor == "整改办"
    assert last.payload["provenance"] == "attested_by_import"
    assert last.note == "已完成"
    assert last.at == pendulum.datetime(2024, 1, 22, tz="Asia/Shanghai")
    assert ledger.get("1.1.1").signed_off_by == "整改办"
    # the sheet keeps no evidence: its row is cited, and the summary says so
    assert set(summary.no_evidence) == {"1.1.1", "1.1.2", "2.1.1"}
    assert last.evidence == (f"{SCHOOL.name}:4",)


def test_names_on_the_row_go_through_every_rule(corpus: dict[str, pathlib.Path]) -> None:
    """With a submitter and a signer the row is submitted and signed off as before."""
    ledger = _ledger()
    summary = _import(ledger, NAMES, corpus[NAMES.name])
    names = [e.name for e in ledger.history("1")]
    assert names == ["add", "start", "submit", "sign_off"]
    assert [e.name for e in ledger.history("2")][-1] == "attest"
    assert summary.completed_by_import == 1
    assert summary.no_evidence == ("2",)  # a warning, not an error


def test_staged_row_with_an_empty_evidence_column_is_still_refused(tmp_path: pathlib.Path) -> None:
    """The sheet has a 佐证材料 column and leaves it empty: the evidence rule applies."""
    path = tmp_path / "s.csv"
    path.write_text(
        "序号,问题,责任部门,整改时限,完成情况,佐证材料\n1,问题,德育处,2个月,阶段性成效,\n",
        encoding="utf-8",
    )
    with pytest.raises(LedgerFileError) as info:
        _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert [e.code for e in info.value.errors] == ["rule.evidence_required"]


def test_attest_is_refused_outside_an_import() -> None:
    """fire() refuses attest, and the workflow refuses one without its import provenance."""
    ledger = _ledger()
    ledger.add_inspection("R1", title="t", feedback_at=FEEDBACK, at=NOW)
    from rectflow import Owner  # noqa: PLC0415

    ledger.add_finding(
        "F1",
        inspection="R1",
        title="t",
        kind="deadline",
        owner=Owner("a", "b", "c"),
        deadline="2024-01-31",
        actor="x",
        at=NOW,
    )
    ledger.fire("F1", "start", actor="x", at=NOW)
    with pytest.raises(RectflowError, match="导入"):
        ledger.fire("F1", "attest", actor="y", at=NOW)
    from rectflow._model import Event  # noqa: PLC0415

    wf = Workflow(ledger.policy)
    with pytest.raises(RectflowError) as info:
        wf.apply(ledger.get("F1"), Event("F1", "attest", NOW, "y"))
    assert getattr(info.value, "rule", None) == "attest_import_only"


def test_roles_mode_needs_the_sign_off_role_to_attest(corpus: dict[str, pathlib.Path]) -> None:
    """In roles mode an importer without the sign-off role cannot attest completions."""
    ledger = _ledger()
    early = pendulum.datetime(2023, 11, 24, tz="Asia/Shanghai")
    ledger.add_actor("巡察办", roles=["inspector"], at=early)
    ledger.add_actor("整改办", roles=["inspector", "owner"], actor="巡察办", at=early)
    with pytest.raises(LedgerFileError) as info:
        ledger.import_file(
            corpus[GB_CSV.name], actor="整改办", inspection="R1", feedback_at=FEEDBACK
        )
    assert "permission_denied" in {e.code for e in info.value.errors}
    ledger.add_actor("刘校长", roles=["leader", "inspector", "owner"], actor="巡察办", at=early)
    summary = ledger.import_file(
        corpus[GB_CSV.name], actor="刘校长", inspection="R1", feedback_at=FEEDBACK
    )
    assert summary.completed_by_import == 2


def test_at_overrides_the_sheet_date_and_report_as_of_shows_the_sheet(
    corpus: dict[str, pathlib.Path],
) -> None:
    """--at sets the events' time; the report the day after the sheet's date shows its figures."""
    ledger = _ledger()
    summary = _import(ledger, SCHOOL, corpus[SCHOOL.name], at="2024-01-25T09:00:00+08:00")
    assert summary.at_source == "at"
    assert ledger.history("2.1.2")[0].at == pendulum.datetime(2024, 1, 25, 9, tz="Asia/Shanghai")
    other = _ledger()
    _import(other, SCHOOL, corpus[SCHOOL.name])
    before = other.report("R1", as_of="2024-01-21")
    after = other.report("R1", as_of="2024-01-23")
    assert before.to_dict()["total"] == 0
    assert after.to_dict()["total"] == 5
    assert after.to_dict()["by_state"]["completed"] == 2
    assert after.to_dict()["completed_by_import"] == 2
    assert "其中2项为导入台账时已完成" in after.to_markdown()
    assert "2 of the completed were completed as the imported sheet says" in after.to_markdown("en")


def test_unit_and_title_come_from_the_sheet(corpus: dict[str, pathlib.Path]) -> None:
    """The created inspection takes the sheet's title; its unit is read from 填报单位."""
    ledger = _ledger()
    summary = _import(ledger, SCHOOL, corpus[SCHOOL.name])
    inspection = ledger.inspection("R1")
    assert inspection.title == "XX县第一中学巡察反馈问题整改台账"
    assert inspection.feedback_at == dt.date(2023, 11, 23)
    assert inspection.declared_findings == 7
    assert summary.unit == UNIT
    if hasattr(inspection, "unit"):
        assert inspection.unit == UNIT


def test_strict_columns_refuses_unknown_columns(corpus: dict[str, pathlib.Path]) -> None:
    """strict_columns=True refuses the columns rectflow does not know; the default keeps them."""
    with pytest.raises(LedgerFileError) as info:
        _import(_ledger(), TWO_ROWS, corpus[TWO_ROWS.name], strict_columns=True)
    assert [(e.column, e.code) for e in info.value.errors] == [("C", "unknown_column")]


def test_unknown_phrase_lists_the_known_phrases_in_chinese(tmp_path: pathlib.Path) -> None:
    """A 完成情况 that maps to no state is an error naming the phrases a sheet may use."""
    path = tmp_path / "p.csv"
    path.write_text(
        "序号,问题,责任部门,整改时限,完成情况\n1,问题,德育处,2个月,按计划稳步实施\n",
        encoding="utf-8",
    )
    with pytest.raises(LedgerFileError) as info:
        _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    (error,) = info.value.errors
    assert (error.column, error.code) == ("E", "unknown_state")
    assert "已完成" in error.message
    assert "阶段性成效" in error.message
    assert "正在整改" in error.message


def test_state_from_names_an_unusual_column(tmp_path: pathlib.Path) -> None:
    """--state-from reads the state from the named column; the progress note stays."""
    path = tmp_path / "s.csv"
    path.write_text(
        "序号,问题,责任部门,整改时限,落实结果,整改进展\n1,问题,德育处,2个月,已整改,措施已落实\n",
        encoding="utf-8",
    )
    ledger = _ledger()
    ledger.import_file(
        path, actor="整改办", inspection="R1", feedback_at=FEEDBACK, state_from="落实结果"
    )
    assert ledger.get("1").state == "completed"
    assert ledger.history("1")[-1].note == "措施已落实"


def test_impossible_date_says_why(tmp_path: pathlib.Path) -> None:
    """2024年2月30日 is refused, and the message says February 2024 has 29 days."""
    path = tmp_path / "d.csv"
    path.write_text("序号,问题,责任部门,整改时限\n1,问题,德育处,2024年2月30日\n", encoding="utf-8")
    with pytest.raises(LedgerFileError) as info:
        _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    (error,) = info.value.errors
    assert error.code == "bad_date"
    assert "2024年2月只有29天" in error.message


def test_unexplained_duplicates_stay_errors(tmp_path: pathlib.Path) -> None:
    """序号 repeating within one aspect is not a restart: the duplicate is refused."""
    path = tmp_path / "dup.csv"
    path.write_text(
        "序号,方面,问题,责任部门,整改时限\n1,甲,问题一,德育处,2个月\n1,甲,问题二,德育处,2个月\n"
        "1,乙,问题三,德育处,2个月\n",
        encoding="utf-8",
    )
    with pytest.raises(LedgerFileError) as info:
        _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert [(e.row, e.code) for e in info.value.errors] == [
        (3, "duplicate_id"),
        (4, "duplicate_id"),
    ]


def test_extra_and_remarks_travel_through_export(
    corpus: dict[str, pathlib.Path], tmp_path: pathlib.Path
) -> None:
    """Remarks and extra columns are exported (CSV, XLSX, YAML) and come back on import."""
    ledger = _ledger()
    _import(ledger, PLAIN_CSV, corpus[PLAIN_CSV.name])
    want = {f.id: (f.state, f.remarks, dict(f.extra)) for f in ledger.findings()}
    for suffix in ("csv", "xlsx", "yaml"):
        out = tmp_path / f"out.{suffix}"
        ledger.export_file(out)
        again = _ledger()
        if suffix != "yaml":
            again.add_inspection("R1", title="t", feedback_at=FEEDBACK, at=NOW)
        again.import_file(out, actor="整改办")
        got = {f.id: (f.state, f.remarks, dict(f.extra)) for f in again.findings()}
        assert got == want, suffix


def test_empty_extra_keeps_the_canonical_json() -> None:
    """A finding without remarks or extra has no such keys in its canonical JSON."""
    from rectflow import _codec  # noqa: PLC0415

    ledger = _ledger()
    ledger.add_inspection("R1", title="t", feedback_at=FEEDBACK, at=NOW)
    from rectflow import Owner  # noqa: PLC0415

    f = ledger.add_finding(
        "F1",
        inspection="R1",
        title="t",
        kind="deadline",
        owner=Owner("a", "b", "c"),
        deadline="2024-01-31",
        actor="x",
        at=NOW,
    )
    text = _codec.finding_json(f)
    assert '"extra"' not in text
    assert '"remarks"' not in text
    assert '"remarks"' not in _codec.event_json(ledger.history("F1")[0])


def test_cli_import_creates_the_inspection_and_shows_extras(
    corpus: dict[str, pathlib.Path], tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """rectflow import --inspection --feedback-at creates it; show prints remarks and extras."""
    db = str(tmp_path / "l.db")
    assert main(["init", "--ledger", db]) == 0
    code = main(
        [
            "import",
            str(corpus[TWO_ROWS.name]),
            "--ledger",
            db,
            "--inspection",
            "R1",
            "--feedback-at",
            FEEDBACK,
            "--declared",
            "5",
            "--actor",
            "整改办",
            "--at",
            "2024-01-22T09:00:00+08:00",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert main(["show", "2", "--ledger", db]) == 0
    shown = capsys.readouterr().out
    assert "整改目标" in shown
    assert "账目清楚" in shown
    assert "与审计局对接" in shown


def test_cli_import_into_a_missing_ledger_says_how_to_create_it(
    corpus: dict[str, pathlib.Path], tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Importing into a ledger file that does not exist creates nothing and names `init`."""
    db = tmp_path / "none.db"
    code = main(
        [
            "import",
            str(corpus[GB_CSV.name]),
            "--ledger",
            str(db),
            "--inspection",
            "R1",
            "--feedback-at",
            FEEDBACK,
        ]
    )
    assert code == 2
    assert not db.exists()
    assert "rectflow init" in capsys.readouterr().err


SheetMaker = Callable[[Sheet, pathlib.Path], pathlib.Path]


def test_a_merged_footer_is_never_spread_into_the_rows_below(tmp_path: pathlib.Path) -> None:
    """A footer merged down two rows is skipped as a footer both times, nothing filled from it."""
    path = tmp_path / "footer.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["序号", "方面", "问题", "责任部门", "整改时限"])
    ws.append([1, "第一方面", "问题一", "党办", "2个月"])
    ws.append([2, None, "问题二", "党办", "2个月"])
    ws.append(["说明:本表由党办汇总,每月报送一次。"])
    ws.append([None])
    ws.append([3, None, "问题三", "党办", "2个月"])  # after the footer: its own aspect (none)
    ws.merge_cells("B2:B3")
    ws.merge_cells("A4:E5")
    book.save(path)
    ledger = _ledger()
    summary = ledger.import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert [(row, reason) for row, reason, _ in summary.skipped] == [(4, "footer"), (5, "footer")]
    assert {f.id: f.aspect for f in ledger.findings()} == {
        "1": "第一方面",
        "2": "第一方面",
        "3": "",
    }


def test_cli_import_says_what_it_did_in_english(
    corpus: dict[str, pathlib.Path], tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The import's notes (date source, skipped rows, renumbering, attested) follow --lang."""
    db = str(tmp_path / "l.db")
    assert main(["init", "--ledger", db]) == 0
    capsys.readouterr()
    code = main(
        ["--lang", "en", "import", str(corpus[SCHOOL.name]), "--ledger", db, "--inspection",
         "R1", "--feedback-at", FEEDBACK, "--actor", "整改办"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "(the sheet's 填报时间)" in out
    assert "skipped 4 rows that are not findings" in out
    assert "序号 restarts within each aspect" in out
    assert "2 completed as the sheet says" in out


def test_missing_inspection_says_how_to_create_it(corpus: dict[str, pathlib.Path]) -> None:
    """An import naming an inspection that is not there, without a feedback day, says how."""
    from rectflow import InspectionNotFound  # noqa: PLC0415

    ledger = _ledger()
    with pytest.raises(InspectionNotFound) as info:
        ledger.import_file(corpus[SCHOOL.name], actor="整改办", inspection="R9")
    assert "--feedback-at" in str(info.value)
    assert "--feedback-at" in info.value.in_lang("en")
    assert list(ledger.inspections()) == []


def test_long_runs_of_blank_rows_are_one_entry(tmp_path: pathlib.Path) -> None:
    """A few blank rows are listed one by one; a long run (a sheet's empty expanse) is one
    entry naming its first and last row, so a far cell cannot flood the summary."""
    path = tmp_path / "gaps.csv"
    head = "序号,问题,责任部门,整改时限\n1,问题一,德育处,2个月\n"
    path.write_text(
        head + ",,,\n" * 2 + "2,问题二,德育处,2个月\n" + ",,,\n" * 500 + "3,问题三,德育处,2个月\n",
        encoding="utf-8",
    )
    summary = _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert summary.findings_added == 3
    assert summary.skipped == ((3, "blank", ""), (4, "blank", ""), (6, "blank", "-505"))


def test_text_beyond_the_header_is_no_section_row(tmp_path: pathlib.Path) -> None:
    """A lone value outside the table's columns is refused as a ragged row, not skipped."""
    path = tmp_path / "far.csv"
    path.write_text(
        "序号,问题,责任部门,整改时限\n1,问题一,德育处,2个月\n,,,,,,旁注\n", encoding="utf-8"
    )
    with pytest.raises(LedgerFileError) as info:
        _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert [(e.row, e.code) for e in info.value.errors] == [(3, "ragged_row")]


def test_a_sheet_without_a_department_column_names_its_owners_otherwise(
    tmp_path: pathlib.Path,
) -> None:
    """责任领导 and 责任人 without 责任部门 are enough; a row naming nobody is refused, and a
    sheet with none of the three columns says which it needs."""
    path = tmp_path / "owners.csv"
    path.write_text(
        "序号,问题,责任领导,责任人,完成时限\n1,问题一,李书记,张老师,2个月\n2,问题二,,,2个月\n",
        encoding="utf-8",
    )
    with pytest.raises(LedgerFileError) as info:
        _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert [(e.row, e.column, e.code) for e in info.value.errors] == [(3, "D", "required")]
    path.write_text(
        "序号,问题,责任领导,责任人,完成时限\n1,问题一,李书记,张老师,2个月\n", encoding="utf-8"
    )
    ledger = _ledger()
    ledger.import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert (ledger.get("1").owner.leader, ledger.get("1").owner.person) == ("李书记", "张老师")
    path.write_text("序号,问题,完成时限\n1,问题一,2个月\n", encoding="utf-8")
    with pytest.raises(LedgerFileError) as info:
        _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    [error] = info.value.errors
    assert error.code == "missing_column"
    assert "责任部门" in error.message
    assert "责任人" in error.message


def test_the_seal_mark_is_no_part_of_the_unit(tmp_path: pathlib.Path) -> None:
    """填报单位：XX小学（盖章） gives the unit XX小学."""
    path = tmp_path / "seal.csv"
    path.write_text(
        "XX县实验小学整改台账\n填报单位：XX县实验小学（盖章）,,,填报时间：2024年3月5日\n"
        "序号,问题,责任部门,整改时限\n1,问题一,德育处,2个月\n",
        encoding="utf-8",
    )
    summary = _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert summary.unit == "XX县实验小学"


@pytest.mark.parametrize("deadline", ["0000年1月", "0001年1月1日", "3000年1月底", "0723-09-03"])
def test_a_deadline_in_a_year_a_ledger_cannot_hold_is_a_bad_date(
    deadline: str, tmp_path: pathlib.Path
) -> None:
    """A deadline written in year 0, 1 or 3000 is a bad_date of its cell, never an escape."""
    path = tmp_path / "year.csv"
    path.write_text(f"序号,问题,责任部门,整改时限\n1,问题一,德育处,{deadline}\n", encoding="utf-8")
    with pytest.raises(LedgerFileError) as info:
        _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert [(e.row, e.column, e.code) for e in info.value.errors] == [(2, "D", "bad_date")]


def test_excel_dates_in_year_one_are_refused_or_ignored(tmp_path: pathlib.Path) -> None:
    """An Excel date cell in year 1 as a deadline is a bad_date; as the 填报时间 it is no date."""
    path = tmp_path / "year.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["填报时间", dt.datetime(1, 1, 1)])
    ws.append(["序号", "问题", "责任部门", "整改时限"])
    ws.append([1, "问题一", "德育处", dt.datetime(1, 1, 1)])
    book.save(path)
    with pytest.raises(LedgerFileError) as info:
        _ledger().import_file(path, actor="整改办", inspection="R1", feedback_at=FEEDBACK)
    assert [(e.row, e.column, e.code) for e in info.value.errors] == [(3, "D", "bad_date")]
