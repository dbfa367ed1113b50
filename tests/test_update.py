"""The monthly cycle (issue 14): an office's updated sheet imported with ``update=True``."""

from __future__ import annotations

import csv
import json
import pathlib
from collections.abc import Callable, Iterator

import pendulum
import pytest

from rectflow import (
    Change,
    FieldChange,
    InvalidInput,
    Ledger,
    LedgerFileError,
    Owner,
    RuleViolation,
    TransitionNotAllowed,
    UpdateSummary,
)
from rectflow.cli import main

HEADER = [
    "序号", "方面", "类别", "问题", "整改措施", "责任领导", "责任部门", "责任人",
    "整改时限", "状态", "完成情况", "佐证材料", "提交人", "销号人",
]  # fmt: skip
ASPECT1, ASPECT2, ASPECT3 = "第一方面", "第二方面", "第三方面"
CAT11, CAT12, CAT21, CAT31 = "(一)理论学习", "(二)德育工作", "(一)资产管理", "(一)作风建设"


def _row(fid: str, aspect: str, category: str, title: str, **cells: str) -> list[str]:
    values = {
        "measures": "召开专题会议",
        "leader": "刘副校长",
        "department": "德育处",
        "person": "黄主任",
        "deadline": "2024-03-31",
        "state": "已交办",
        "progress": "",
        "evidence": "",
        "submitted_by": "",
        "signed_off_by": "",
        **cells,
    }
    keys = ("measures", "leader", "department", "person", "deadline", "state", "progress")
    rest = ("evidence", "submitted_by", "signed_off_by")
    return [fid, aspect, category, title, *(values[k] for k in keys), *(values[k] for k in rest)]


DONE = {
    "state": "已完成整改",
    "progress": "已完成",
    "evidence": "会议纪要.pdf",
    "submitted_by": "黄主任",
    "signed_off_by": "陈书记",
}
STAGED = {"state": "取得阶段性成效", "progress": "已取得阶段性成效", "evidence": "方案.docx"}

JANUARY = [
    _row("1.1.1", ASPECT1, CAT11, "理论学习不深入", **DONE),
    _row("1.1.2", ASPECT1, CAT11, "学习制度执行不严"),
    _row("1.1.3", ASPECT1, CAT11, "学习记录不全", state="整改中"),
    _row("1.2.1", ASPECT1, CAT12, "德育活动形式单一", state="整改中"),
    _row("1.2.2", ASPECT1, CAT12, "家校沟通不畅", **STAGED),
    _row("2.1.1", ASPECT2, CAT21, "资产借用无登记", **STAGED),
    _row("2.1.2", ASPECT2, CAT21, "固定资产未及时入账", state="整改中"),
    _row("2.1.3", ASPECT2, CAT21, "报废资产未处置"),
    _row("3.1.1", ASPECT3, CAT31, "会议过多过长"),
]
"""The sheet as the office sent it on 2024-01-22."""

FEBRUARY = [
    JANUARY[0],
    _row("1.1.2", ASPECT1, CAT11, "学习制度执行不严", state="整改中"),  # moved: start
    _row("1.1.3", ASPECT1, CAT11, "理论学习记录不全、不规范", state="整改中"),  # edited: title
    _row("1.2.1", ASPECT1, CAT12, "德育活动形式单一", **STAGED),  # moved: stage
    JANUARY[4],
    _row("2.1.1", ASPECT2, CAT21, "资产借用无登记", **DONE),  # moved: submit, sign_off
    _row(  # edited: person and deadline
        "2.1.2",
        ASPECT2,
        CAT21,
        "固定资产未及时入账",
        state="整改中",
        person="郭主任",
        deadline="2024年4月30日",
    ),
    JANUARY[7],
    # 3.1.1 removed
    _row("3.1.2", ASPECT3, CAT31, "调研走过场"),  # added
]
"""The same sheet a month later (2024-02-22)."""

JAN_AT = pendulum.datetime(2024, 1, 22, 10, tz="Asia/Shanghai")
FEB_AT = pendulum.datetime(2024, 2, 22, 10, tz="Asia/Shanghai")


def write_sheet(path: pathlib.Path, rows: list[list[str]]) -> pathlib.Path:
    """A GB18030 CSV the way Excel on a Chinese Windows saves one."""
    with path.open("w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["XX中学巡察整改台账"])
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    """A durable ledger: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_target"))
    return str(tmp_path / "ledger.db")


@pytest.fixture
def clock() -> list[pendulum.DateTime]:
    """The ledger clock, moved by the test from one sheet's date to the next."""
    return [JAN_AT]


@pytest.fixture
def open_ledger(target: str, clock: list[pendulum.DateTime]) -> Iterator[Callable[[], Ledger]]:
    """Opens the ledger under test (the clock injected); closes what it opened."""
    opened: list[Ledger] = []

    def make() -> Ledger:
        ledger = Ledger.open(target, clock=lambda: clock[0])
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


def _january(ledger: Ledger, tmp_path: pathlib.Path) -> pathlib.Path:
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2023-11-23", at=JAN_AT)
    ledger.import_file(write_sheet(tmp_path / "1月.csv", JANUARY), actor="巡察办", inspection="R1")
    return write_sheet(tmp_path / "2月.csv", FEBRUARY)


def _expected_changes() -> list[tuple[str, str, str | None, str | None, tuple[str, ...]]]:
    return [
        ("1.1.2", "update", "assigned", "in_progress", ("start",)),
        ("1.1.3", "update", "in_progress", "in_progress", ("amend",)),
        ("1.2.1", "update", "in_progress", "staged_result", ("stage",)),
        ("2.1.1", "update", "staged_result", "completed", ("record_measure", "submit", "sign_off")),
        ("2.1.2", "update", "in_progress", "in_progress", ("amend",)),
        ("3.1.2", "add", None, "assigned", ("add",)),
        ("3.1.1", "missing", "assigned", None, ()),
    ]


def _shape(
    summary: UpdateSummary,
) -> list[tuple[str, str, str | None, str | None, tuple[str, ...]]]:
    return [(c.finding_id, c.action, c.before, c.after, c.events) for c in summary.changes]


def test_monthly_cycle(
    open_ledger: Callable[[], Ledger], clock: list[pendulum.DateTime], tmp_path: pathlib.Path
) -> None:
    """3 moved, 2 edited, 1 added, 1 removed: listed exactly, applied, reported, verified."""
    ledger = open_ledger()
    february = _january(ledger, tmp_path)
    clock[0] = FEB_AT
    head = ledger.head()

    dry = ledger.import_file(february, actor="巡察办", inspection="R1", update=True, dry_run=True)
    assert isinstance(dry, UpdateSummary)
    assert _shape(dry) == _expected_changes()
    assert dry.dry_run
    assert dry.unchanged == 3  # 1.1.1, 1.2.2, 2.1.3
    assert ledger.head() == head  # nothing written
    edited = {c.finding_id: c.fields for c in dry.changes if "amend" in c.events}
    assert edited == {
        "1.1.3": (FieldChange("title", "学习记录不全", "理论学习记录不全、不规范"),),
        "2.1.2": (
            FieldChange("person", "黄主任", "郭主任"),
            FieldChange("deadline", "2024-03-31", "2024-04-30"),
        ),
    }
    assert [c.applied for c in dry.changes] == [True] * 6 + [False]

    done = ledger.import_file(february, actor="巡察办", inspection="R1", update=True)
    assert _shape(done) == _expected_changes()
    assert not done.dry_run
    assert (
        done.events_added == 8
    )  # start, amend, stage, record_measure, submit, sign_off, amend, add
    assert ledger.get("1.1.3").title == "理论学习记录不全、不规范"
    moved = ledger.get("2.1.2")
    assert (moved.owner.person, str(moved.deadline)) == ("郭主任", "2024-04-30")
    assert str(moved.original_deadline) == "2024-03-31"  # on-time figures keep the first
    assert ledger.get("3.1.1").state == "assigned"  # missing from the sheet: left as it was
    amend = ledger.history("2.1.2")[-1]
    assert amend.name == "amend"
    assert amend.at == FEB_AT
    assert dict(amend.payload["changes"]["person"]) == {"old": "黄主任", "new": "郭主任"}
    assert ledger.verify().ok
    for f in ledger.findings():  # what replaying each history gives is what is stored
        assert ledger.workflow.replay(ledger.history(f.id)) == f

    january = ledger.report("R1", as_of="2024-01-22").to_dict()
    assert (january["total"], january["completed"], january["staged"]) == (9, 1, 2)
    assert january["by_state"]["in_progress"] == 3
    feb = ledger.report("R1", as_of="2024-02-22").to_dict()
    assert (feb["total"], feb["completed"], feb["staged"]) == (10, 2, 2)
    assert (feb["by_state"]["in_progress"], feb["by_state"]["assigned"]) == (3, 3)

    head = ledger.head()
    again = ledger.import_file(february, actor="巡察办", inspection="R1", update=True)
    assert _shape(again) == [("3.1.1", "missing", "assigned", None, ())]
    assert not again.changed
    assert again.events_added == 0
    assert ledger.head() == head


def test_unchanged_sheet_changes_nothing_and_says_so(
    open_ledger: Callable[[], Ledger], tmp_path: pathlib.Path
) -> None:
    """Re-importing the sheet the ledger came from writes nothing and says "nothing changed"."""
    ledger = open_ledger()
    _january(ledger, tmp_path)
    head = ledger.head()
    summary = ledger.import_file(tmp_path / "1月.csv", actor="巡察办", inspection="R1", update=True)
    assert isinstance(summary, UpdateSummary)
    assert summary.changes == ()
    assert summary.unchanged == len(JANUARY)
    assert ledger.head() == head
    assert "没有变化" in summary.to_text("zh")
    assert "nothing changed" in summary.to_text("en")


@pytest.fixture
def memory(clock: list[pendulum.DateTime]) -> Iterator[Ledger]:
    """An in-memory ledger holding January's sheet, its clock at February."""
    with Ledger.open(":memory:", clock=lambda: clock[0]) as ledger:
        yield ledger


def _moved_back(tmp_path: pathlib.Path, progress: str, evidence: str = "") -> pathlib.Path:
    rows = [list(r) for r in JANUARY]
    rows[0] = _row(
        "1.1.1",
        ASPECT1,
        CAT11,
        "理论学习不深入",
        state="整改中",
        progress=progress,
        evidence=evidence,
        deadline="2024-05-31",
    )
    return write_sheet(tmp_path / "back.csv", rows)


def test_backward_move_is_reported_not_applied(
    memory: Ledger, clock: list[pendulum.DateTime], tmp_path: pathlib.Path
) -> None:
    """Completed → in progress without a rebound row is listed as not applied."""
    _january(memory, tmp_path)
    clock[0] = FEB_AT
    head = memory.head()
    summary = memory.import_file(
        _moved_back(tmp_path, "正在整改"), actor="巡察办", inspection="R1", update=True
    )
    assert isinstance(summary, UpdateSummary)
    (change,) = summary.changes
    assert (change.action, change.before, change.after, change.applied) == (
        "backward",
        "completed",
        "in_progress",
        False,
    )
    assert memory.head() == head
    assert memory.get("1.1.1").state == "completed"
    assert "--allow-rebound" in summary.to_text("zh")


def test_rebound_row_fires_rebound_with_its_rules(
    memory: Ledger, clock: list[pendulum.DateTime], tmp_path: pathlib.Path
) -> None:
    """A row recording 反弹 reopens the finding through ``rebound``: evidence, new deadline."""
    _january(memory, tmp_path)
    clock[0] = FEB_AT
    with pytest.raises(LedgerFileError) as refused:  # rebound needs evidence of the relapse
        memory.import_file(
            _moved_back(tmp_path, "反弹: 抽查发现记录缺失"),
            actor="巡察办",
            inspection="R1",
            update=True,
        )
    assert [e.code for e in refused.value.errors] == ["rule.evidence_required"]
    summary = memory.import_file(
        _moved_back(tmp_path, "反弹: 抽查发现记录缺失", "抽查记录.pdf"),
        actor="巡察办",
        inspection="R1",
        update=True,
    )
    assert isinstance(summary, UpdateSummary)
    (change,) = summary.changes
    assert (change.action, change.events) == ("update", ("rebound",))
    finding = memory.get("1.1.1")
    assert (finding.state, finding.rework, str(finding.deadline)) == (
        "in_progress",
        1,
        "2024-05-31",
    )
    assert memory.verify().ok


def test_allow_rebound_applies_a_move_back(
    memory: Ledger, clock: list[pendulum.DateTime], tmp_path: pathlib.Path
) -> None:
    """With ``allow_rebound`` a move back without a rebound row fires ``rebound``."""
    _january(memory, tmp_path)
    clock[0] = FEB_AT
    sheet = _moved_back(tmp_path, "正在整改", "抽查记录.pdf")
    summary = memory.import_file(
        sheet, actor="巡察办", inspection="R1", update=True, allow_rebound=True
    )
    assert isinstance(summary, UpdateSummary)
    assert [c.events for c in summary.changes] == [("rebound",)]
    assert memory.get("1.1.1").rework == 1


def test_forward_move_to_completed_needs_the_names(
    memory: Ledger, clock: list[pendulum.DateTime], tmp_path: pathlib.Path
) -> None:
    """A row moved to completed without 销号人 is refused, naming the column as the sheet does."""
    _january(memory, tmp_path)
    clock[0] = FEB_AT
    rows = [list(r) for r in JANUARY]
    rows[5] = _row("2.1.1", ASPECT2, CAT21, "资产借用无登记", **{**DONE, "signed_off_by": ""})
    head = memory.head()
    with pytest.raises(LedgerFileError) as refused:
        memory.import_file(
            write_sheet(tmp_path / "x.csv", rows), actor="巡察办", inspection="R1", update=True
        )
    (error,) = refused.value.errors
    assert (error.row, error.column, error.code) == (8, "N", "required")
    assert "「销号人」" in error.message
    assert memory.head() == head


def test_amend_is_checked_on_replay(memory: Ledger) -> None:
    """An ``amend`` whose old value is not the ledger's is refused; a good one replays."""
    memory.add_inspection("R1", title="t", feedback_at="2023-11-23", at=JAN_AT)
    memory.add_finding(
        "1",
        inspection="R1",
        title="旧",
        kind="deadline",
        owner=Owner("a", "b", "c"),
        deadline="2024-03-01",
        actor="x",
        at=JAN_AT,
    )
    with pytest.raises(RuleViolation) as stale:
        memory.fire("1", "amend", actor="x", changes={"title": {"old": "别的", "new": "新"}})
    assert stale.value.rule == "amend_stale"
    with pytest.raises(RuleViolation) as unknown:
        memory.fire("1", "amend", actor="x", changes={"state": {"old": "assigned", "new": "x"}})
    assert unknown.value.rule == "amend_field"
    after = memory.fire("1", "amend", actor="x", changes={"title": {"old": "旧", "new": "新"}})
    assert after.title == "新"
    memory.fire("1", "cancel", actor="x", reason="重复")
    with pytest.raises(TransitionNotAllowed) as closed:
        memory.fire("1", "amend", actor="x", changes={"title": {"old": "新", "new": "再"}})
    assert (closed.value.state, closed.value.event) == ("cancelled", "amend")
    assert memory.verify().ok


def test_update_of_a_yaml_file_is_refused(memory: Ledger, tmp_path: pathlib.Path) -> None:
    """``update`` applies to tables; a YAML ledger file is refused with a clear error."""
    path = tmp_path / "x.yaml"
    path.write_text("format: rectflow-ledger\nversion: 1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="CSV"):
        memory.import_file(path, actor="x", update=True)


def test_change_to_text_and_dict() -> None:
    """A change reads as one line in either language and serialises as JSON."""
    change = Change(
        "2.1.2",
        "update",
        7,
        "in_progress",
        "in_progress",
        (FieldChange("person", "黄主任", "郭主任"),),
        ("amend",),
    )
    assert change.to_text("zh") == "2.1.2  修订: 「责任人」 '黄主任' → '郭主任'  [修订台账信息]"
    assert change.to_text("en") == "2.1.2  amended: person '黄主任' → '郭主任'  [amend]"
    assert json.loads(json.dumps(change.to_dict()))["fields"][0]["new"] == "郭主任"


def test_cli_update_dry_run_json_then_update(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``import --update --dry-run --json`` lists the changes and writes nothing; then applies."""
    db = str(tmp_path / "l.db")
    with Ledger.open(db) as ledger:
        february = _january(ledger, tmp_path)
        head = ledger.head()
    base = [
        "--ledger",
        db,
        "import",
        str(february),
        "--update",
        "--actor",
        "巡察办",
        "--inspection",
        "R1",
    ]
    assert main([*base, "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(c["finding_id"], c["action"]) for c in data["changes"]] == [
        (fid, action) for fid, action, *_ in _expected_changes()
    ]
    with Ledger.open(db) as ledger:
        assert ledger.head() == head
    assert main(base) == 0
    out = capsys.readouterr().out
    assert "已按" in out
    assert "1.1.2  状态 已交办 → 整改中" in out
    assert "3.1.1  表中已无此问题" in out
    assert main(base) == 0
    assert "3.1.1" in capsys.readouterr().out  # still missing, still listed
    assert main(["--ledger", db, "verify"]) == 0
    capsys.readouterr()
    assert (
        main(
            ["--ledger", db, "import", str(tmp_path / "1月.csv"), "--update", "--inspection", "R1"]
        )
        == 0
    )
    # back to January's sheet: the moves back are listed, not applied
    out = capsys.readouterr().out
    assert "状态倒退" in out
    assert "未应用" in out


def test_amend_takes_the_roles_of_add_unless_the_policy_lists_it(
    memory: Ledger, clock: list[pendulum.DateTime], tmp_path: pathlib.Path
) -> None:
    """In roles mode an update's ``amend`` needs a role that may ``add``; an owner is refused."""
    from rectflow import PermissionDenied  # noqa: PLC0415

    february = _january(memory, tmp_path)
    memory.add_actor("巡察办", roles=["inspector", "leader", "owner"], at=JAN_AT)
    memory.add_actor("黄主任", roles=["owner"], actor="巡察办", at=JAN_AT)
    memory.add_actor("陈书记", roles=["leader"], actor="巡察办", at=JAN_AT)
    clock[0] = FEB_AT
    change = {"title": {"old": "学习记录不全", "new": "记录不全"}}
    with pytest.raises(PermissionDenied) as denied:
        memory.fire("1.1.3", "amend", actor="黄主任", changes=change)
    assert set(denied.value.needed) == {"inspector", "leader"}
    summary = memory.import_file(february, actor="巡察办", inspection="R1", update=True)
    assert isinstance(summary, UpdateSummary)
    assert len(summary.changes) == 7
    assert memory.verify().ok


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_own_export_updates_nothing(
    memory: Ledger, clock: list[pendulum.DateTime], tmp_path: pathlib.Path, suffix: str
) -> None:
    """rectflow's own export of a ledger, imported back with ``update``, changes nothing."""
    if suffix == "xlsx":
        pytest.importorskip("openpyxl")
    february = _january(memory, tmp_path)
    clock[0] = FEB_AT
    memory.import_file(february, actor="巡察办", inspection="R1", update=True)
    memory.export_file(tmp_path / f"out.{suffix}")
    head = memory.head()
    summary = memory.import_file(tmp_path / f"out.{suffix}", actor="巡察办", update=True)
    assert isinstance(summary, UpdateSummary)
    assert (summary.changes, summary.unchanged) == ((), 10)
    assert memory.head() == head


OFFICE_HEADER = [
    "序号", "方面", "问题类别", "存在问题", "整改措施", "责任部门", "责任人",
    "整改时限", "完成情况", "备注", "督办情况",
]  # fmt: skip


def _office(fid: str, title: str, progress: str = "", remarks: str = "", urged: str = "") -> list:
    """A row as an office keeps it: no 状态, no names, its state in 完成情况's wording."""
    return [
        fid, "第一方面", "(一)教学管理", title, "制定制度", "教务处", "黄主任",
        "2024年3月31日", progress, remarks, urged,
    ]  # fmt: skip


OFFICE_JANUARY = [
    _office("1", "作业布置过多", "已完成"),
    _office("2", "听课记录不全", "正在整改"),
    _office("3", "教研活动流于形式"),
    _office("4", "课后服务不规范", "已取得阶段性成效,正在持续推进"),
    _office("5", "教案检查不到位", urged="已督办"),
]
OFFICE_FEBRUARY = [
    OFFICE_JANUARY[0],
    _office("2", "听课记录不全", "已完成整改"),  # in progress → completed, no names: attested
    _office("3", "教研活动流于形式", "整改中"),  # assigned → in progress
    _office("4", "课后服务不规范", "已取得阶段性成效,正在持续推进", remarks="需长期坚持"),
    _office("5", "教案检查不到位", urged="二次督办"),  # the office's own column changed
    _office("6", "实验室台账缺失"),  # added
]


def write_office_sheet(path: pathlib.Path, rows: list[list[str]], day: str) -> pathlib.Path:
    """A GB18030 CSV with a title row and a 填报单位/填报时间 row over the header."""
    with path.open("w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["XX中学巡察整改台账", *[""] * 10])
        writer.writerow([f"填报单位:XX中学    填报时间:{day}", *[""] * 10])
        writer.writerow(OFFICE_HEADER)
        writer.writerows(rows)
    return path


def test_monthly_cycle_dated_by_each_sheet(target: str, tmp_path: pathlib.Path) -> None:
    """No clock games: each sheet's 填报时间 dates its events; wording, 备注, extras followed."""
    january = write_office_sheet(tmp_path / "1月.csv", OFFICE_JANUARY, "2024年1月22日")
    february = write_office_sheet(tmp_path / "2月.csv", OFFICE_FEBRUARY, "2024年2月22日")
    with Ledger.open(target) as ledger:  # the real clock: it is long after both sheets
        first = ledger.import_file(
            january, actor="巡察办", inspection="R1", feedback_at="2023-11-23"
        )
        assert (first.at_source, first.completed_by_import) == ("sheet", 1)
        dry = ledger.import_file(
            february, actor="巡察办", inspection="R1", update=True, dry_run=True
        )
        assert isinstance(dry, UpdateSummary)
        assert _shape(dry) == [
            ("2", "update", "in_progress", "completed", ("record_measure", "attest")),
            ("3", "update", "assigned", "in_progress", ("start",)),
            ("4", "update", "staged_result", "staged_result", ("amend",)),
            ("5", "update", "assigned", "assigned", ("amend",)),
            ("6", "add", None, "assigned", ("add",)),
        ]
        assert [c.fields for c in dry.changes if c.finding_id in ("4", "5")] == [
            (FieldChange("remarks", "", "需长期坚持"),),
            (FieldChange("extra", {"督办情况": "已督办"}, {"督办情况": "二次督办"}),),
        ]
        assert "「备注」" in dry.to_text("zh")
        assert "「督办情况」 '已督办' → '二次督办'" in dry.to_text("zh")
        done = ledger.import_file(february, actor="巡察办", inspection="R1", update=True)
        assert done.at_source == "sheet"
        feb_day = pendulum.datetime(2024, 2, 22, tz="Asia/Shanghai")
        attest = ledger.history("2")[-1]
        assert (attest.name, attest.actor, attest.at) == ("attest", "巡察办", feb_day)
        assert attest.payload["provenance"] == "attested_by_import"
        assert all(e.at == feb_day for e in ledger.history("3")[1:])
        assert ledger.history("4")[-1].at == feb_day
        assert ledger.get("4").remarks == "需长期坚持"
        assert dict(ledger.get("5").extra) == {"督办情况": "二次督办"}
        assert ledger.verify().ok
        for f in ledger.findings():  # replaying each history gives what is stored
            assert ledger.workflow.replay(ledger.history(f.id)) == f

        jan = ledger.report("R1", as_of="2024-01-22").to_dict()
        assert (jan["total"], jan["completed"], jan["staged"]) == (5, 1, 1)
        assert (jan["by_state"]["in_progress"], jan["by_state"]["assigned"]) == (1, 2)
        assert jan["completed_by_import"] == 1
        feb = ledger.report("R1", as_of="2024-02-22").to_dict()
        assert (feb["total"], feb["completed"], feb["staged"]) == (6, 2, 1)
        assert (feb["by_state"]["in_progress"], feb["by_state"]["assigned"]) == (1, 2)
        assert feb["completed_by_import"] == 2

        head = ledger.head()
        again = ledger.import_file(february, actor="巡察办", inspection="R1", update=True)
        assert (again.changes, again.events_added) == ((), 0)
        assert ledger.head() == head
