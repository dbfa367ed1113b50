"""An office clerk's month with the CLI (issue 14): a sheet in its own layout, as it is."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from rectflow import Ledger
from rectflow.cli import main

openpyxl = pytest.importorskip("openpyxl")

HEADER = [
    "编号", "问题方面", "问题类型", "具体问题", "整改举措", "牵头领导", "牵头部门",
    "具体责任人", "完成时限", "落实情况", "佐证材料目录", "督办意见", "备注",
]  # fmt: skip
A1, A2 = "一、学习贯彻党的创新理论方面", "二、落实全面从严治党方面"
ROWS = [
    [1, A1, "(一)理论学习", "中心组学习计划性不强", "制定年度学习计划", "王书记", "党政办",
     "李四", dt.datetime(2024, 1, 31), "已整改到位", "学习计划.pdf", "", ""],
    [2, None, None, "学习记录不完整", "规范学习记录", "王书记", "党政办", "李四", "立行立改",
     "已完成", "", "", ""],
    [1, A2, "(一)财务管理", "食堂账目公示不及时", "每月公示", "张校长", "总务处", "赵六",
     "2024年6月底", "正在推进,已召开专题会", "", "", "需财政所配合"],
    [2, None, None, "固定资产账实不符", "全面清查", "张校长", "总务处", "赵六", "3个月内", "",
     None, "已督办", ""],
    [3, None, "(二)作风建设", "教师考勤制度执行不严", "完善考勤制度", "张校长", "教务处",
     "钱七", "长期坚持", "持续推进,每月通报", "考勤通报", "", "长期"],
]  # fmt: skip
TITLE = "XX镇中心小学落实县委第三巡察组反馈意见整改台账"


def march_sheet(path: pathlib.Path) -> pathlib.Path:
    """The school's own layout: a 填报单位(盖章) and a 填报日期 beside an Excel date, merges, footers."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append([TITLE])
    ws.merge_cells("A1:M1")
    ws.append(["填报单位(盖章):XX镇中心小学", *[None] * 7, "填报日期:", dt.datetime(2024, 3, 5)])
    ws.merge_cells("A2:H2")
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    for span in ("B4:B5", "C4:C5", "B6:B8", "C6:C7"):
        ws.merge_cells(span)
    ws.append([])
    ws.append(["填表人:李四        联系电话:0000-1234567"])
    ws.merge_cells(f"A{ws.max_row}:M{ws.max_row}")
    ws.append(["说明:完成时限为立行立改的,应在反馈后10个工作日内完成。"])
    book.save(path)
    return path


def april_sheet(exported: pathlib.Path, path: pathlib.Path) -> pathlib.Path:
    """rectflow's export edited the way a clerk does it a month later."""
    book = openpyxl.load_workbook(exported)
    ws = book.active
    assert ws.cell(1, 1).value == TITLE  # the sheet's own title, not doubled
    assert ws.cell(2, 1).value == "填报单位:XX镇中心小学"
    (date_cell,) = [c for c in ws[2] if c.value and str(c.value).startswith("填报时间")]
    date_cell.value = "填报时间:二〇二四年四月五日"  # the 落款 way of writing it
    col = {c.value: c.column for c in ws[3]}
    at = {ws.cell(r, 1).value: r for r in range(4, ws.max_row + 1)}
    ws.cell(at["2.1.1"], col["状态"]).value = "已完成整改"
    ws.cell(at["2.1.1"], col["整改进展"]).value = "已完成,每月在校务公开栏公示"
    ws.cell(at["2.1.2"], col["状态"]).value = "整改中"
    ws.cell(at["2.1.2"], col["督办意见"]).value = "二次督办"
    ws.cell(at["2.2.1"], col["备注"]).value = "长期坚持,每月通报"
    new = ws.max_row + 1
    for name, value in {
        "编号": "2.2.2", "方面": A2, "类别": "(二)作风建设", "问题": "值班制度落实不到位",
        "整改措施": "修订值班制度", "责任领导": "张校长", "责任部门": "教务处", "责任人": "钱七",
        "整改时限": "2024年5月31日", "巡察": "R1",
    }.items():  # fmt: skip
        ws.cell(new, col[name]).value = value
    book.save(path)
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    """A ledger file, or a fresh PostgreSQL schema."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_target"))
    return str(tmp_path / "x.db")


def test_a_clerks_month(
    target: str, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """init, import as it is, report, export, edit, update (dry run, then for real), verify, 销号."""

    def run(*args: str) -> str:
        code = main(["--ledger", target, *args])
        out, err = capsys.readouterr()
        assert (code, err) == (0, ""), err
        return out

    run("init")
    out = run("import", str(march_sheet(tmp_path / "3月.xlsx")), "--inspection", "R1",
              "--feedback-at", "2023-12-20", "--actor", "校办")  # fmt: skip
    assert "2024-03-05T00:00:00+08:00(表格的填报时间)" in out
    assert "其中2项为导入台账时已完成" in out
    assert "提醒: 1.1.2 未附佐证材料" in out  # 佐证材料目录 is the evidence column
    assert "保留的其他列: 督办意见" in out
    report = run("report", "R1", "--as-of", "2024-03-06")
    assert "已完成整改2项" in report
    assert "整改完成率40.00%(2/5)。" in report  # no on-time rate: no completion day is known
    assert "2项完成日期不详" in report
    assert report.rstrip().endswith("XX镇中心小学\n二〇二四年三月六日")
    run("export", str(tmp_path / "导出.xlsx"))
    april = april_sheet(tmp_path / "导出.xlsx", tmp_path / "4月.xlsx")

    dry = run("import", str(april), "--update", "--dry-run", "--actor", "校办")
    assert "2.1.1  状态 整改中 → 已完成整改  [记录措施、导入台账时已完成]" in dry
    assert "「督办意见」 '已督办' → '二次督办'" in dry
    assert "「备注」 '长期' → '长期坚持,每月通报'" in dry
    assert "2.2.2  新增 (已交办)" in dry
    assert "2024-04-05T00:00:00+08:00(表格的填报时间)" in dry
    done = run("import", str(april), "--update", "--actor", "校办")
    assert "4 个问题有变化" in done
    assert "校验通过" in run("verify")
    listed = run("list", "--state", "已完成整改")
    assert [line.split()[0] for line in listed.splitlines()] == ["1.1.1", "1.1.2", "2.1.1"]
    assert "没有变化" in run("import", str(april), "--update", "--actor", "校办")

    code = main(["--ledger", target, "fire", "2.1.2", "销号", "--actor", "王书记"])
    err = capsys.readouterr().err
    assert code == 2
    assert "可执行: 报告阶段性成效(stage)、提交销号(submit)" in err
    run("fire", "2.1.2", "记录措施", "--actor", "赵六", "--arg", "measure=2.1.2-1",
        "--at", "2024-04-10T09:00:00+08:00")  # fmt: skip
    run("fire", "2.1.2", "提交销号", "--actor", "赵六", "--evidence", "清查表.xlsx",
        "--at", "2024-04-10T10:00:00+08:00")  # fmt: skip
    run("fire", "2.1.2", "销号", "--actor", "王书记", "--at", "2024-04-11T10:00:00+08:00")
    with Ledger.open(target) as ledger:
        data = ledger.report("R1", as_of="2024-04-12").to_dict()
        assert ledger.inspection("R1").unit == "XX镇中心小学"
    assert (data["total"], data["completed"], data["completed_by_import"]) == (6, 4, 3)
    # 2.1.2 was due 2024-03-20 (3个月内 after 2023-12-20) and signed off on 2024-04-11
    assert (data["on_time_unknown"], data["on_time"], data["late_completions"]) == (3, 0, ["2.1.2"])
