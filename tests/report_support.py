"""An office's ledger taken in from its 台账 (XLSX), for the report tests and the screenshot."""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import Any

import pendulum

from rectflow import Ledger, Owner

TZ = "Asia/Shanghai"
UNIT = "中共X县X中学委员会"
TITLE = "县委第一巡察组对X中学党委的巡察"
# The office numbers its aspects and categories itself, as offices do.
ASPECTS = {
    "1": ("第一方面:在贯彻落实党的路线方针政策方面", "(一)落实意识形态工作责任制不力"),
    "2": ("第二方面:在群众身边腐败问题方面", "(一)作风建设有待加强"),
    "10": ("第三方面:在基层党组织建设方面", "（一）发展党员工作存在短板"),
}
# id, title, deadline, state (as the sheet says it) after the import
ROWS = (
    ("1.1", "意识形态阵地管理不严", "2023-12-31", "completed"),
    ("1.2", "理论学习中心组学习流于形式", "2024-02-29", "open"),
    ("1.10", "宣传栏内容更新不及时", "2024-02-29", "completed_later"),
    ("1.3", "网络舆情应对机制不健全", "2024-06-30", "staged"),
    ("2.1", "公务接待审批不规范", "2024-01-15", "completed"),
    ("2.2", "食堂采购台账记录不全", "2024-02-20", "open"),
    ("2.10", "会议室管理不到位", "2024-03-31", "open"),
    ("10.1", "发展党员程序不规范", "2024-02-29", "completed_later"),
    ("10.2", "入党积极分子培养考察不细", "2024-06-30", "staged"),
)


def at(text: str) -> pendulum.DateTime:
    """A wall-clock time in Shanghai, e.g. ``2024-01-22 10:00``."""
    return pendulum.parse(text, tz=TZ)  # type: ignore[return-value]


class Clock:
    """A clock the test moves forward."""

    def __init__(self, start: str) -> None:
        self.now = at(start)

    def __call__(self) -> dt.datetime:
        return self.now


def _source(clock: Clock) -> Ledger:
    """The ledger the office kept elsewhere, as of 2024-01-22 (what its sheet shows)."""
    ledger = Ledger.open(":memory:", clock=clock)
    ledger.add_inspection("R1", title=TITLE, feedback_at="2023-11-23", at=at("2023-11-23 09:00"))
    for fid, title, deadline, state in ROWS:
        aspect, category = ASPECTS[fid.split(".")[0]]
        ledger.add_finding(
            fid,
            inspection="R1",
            title=title,
            kind="deadline",
            owner=Owner("刘副校长", "德育处", "黄主任"),
            deadline=deadline,
            actor="巡察办",
            aspect=aspect,
            category=category,
            at=at("2023-11-27 09:00"),
        )
        if state in ("completed", "staged"):
            ledger.fire(fid, "start", actor="黄主任", at=at("2023-12-01 09:00"))
        if state == "completed":
            ledger.fire(
                fid, "submit", actor="黄主任", at=at("2023-12-20 09:00"), evidence=["报告.pdf"]
            )
            ledger.fire(fid, "sign_off", actor="陈书记", at=at("2023-12-22 15:00"))
        elif state == "staged":
            ledger.fire(
                fid,
                "stage",
                actor="黄主任",
                at=at("2024-01-10 09:00"),
                note="已取得阶段性成效,持续推进",
                evidence=["纪要.pdf"],
                next_checkpoint="2024-03-10",
            )
    return ledger


def imported_ledger(work: pathlib.Path) -> tuple[Ledger, dict[str, Any]]:
    """The office's 台账 (exported XLSX) imported into a new ledger on 2024-01-22, then
    two findings signed off in February. Returns the ledger and the facts to check."""
    clock = Clock("2024-01-22 10:00")
    sheet = work / "台账.xlsx"
    _source(clock).export_file(sheet)
    ledger = Ledger.open(":memory:", clock=clock)
    ledger.add_inspection(
        "R1", title=TITLE, feedback_at="2023-11-23", at=at("2024-01-22 09:00"), unit=UNIT
    )
    summary = ledger.import_file(sheet, actor="整改办")
    clock.now = at("2024-03-05 09:00")
    for fid in (fid for fid, *_, state in ROWS if state == "completed_later"):
        ledger.fire(fid, "start", actor="黄主任", at=at("2024-02-01 09:00"))
        ledger.fire(fid, "submit", actor="黄主任", at=at("2024-02-20 09:00"), evidence=["e.pdf"])
        ledger.fire(fid, "sign_off", actor="陈书记", at=at("2024-02-26 15:00"))
    overdue = [
        (fid, title)
        for fid, title, deadline, state in ROWS
        if state == "open" and dt.date.fromisoformat(deadline) < dt.date(2024, 3, 1)
    ]
    return ledger, {"summary": summary, "as_of": "2024-03-01", "overdue": overdue}
