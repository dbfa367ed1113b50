"""The agenda (ledger.agenda / rectflow agenda): every kind, on the PRC calendar, both paths.

Dates used throughout (official 2024 arrangement): 2024-10-01..07 is the National Day
holiday; Sunday 2024-09-29 and Saturday 2024-10-12 are make-up working days.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json

import pendulum
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rectflow import (
    EVENT_NAMES,
    Agenda,
    InspectionNotFound,
    InvalidInput,
    Ledger,
    Measure,
    Owner,
    Period,
    Policy,
    RectflowError,
    RuleViolation,
    _codec,
    cli,
    policy_pack,
)
from rectflow._cli import app as cli_app
from rectflow._demo import load_seed
from rectflow._time import end_of_day
from rectflow.calendar import china

TZ = "Asia/Shanghai"
OWNER = Owner(leader="刘副校长", department="德育处", person="黄主任")
OWNER_TEXT = "德育处 黄主任"
ADDER = "巡察办"
SIGNER = "陈主任"
KNOWN_UNTIL = china().known_until


def at(day: str | dt.date, hour: int = 9) -> pendulum.DateTime:
    """An aware time on *day* in Shanghai."""
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return pendulum.datetime(d.year, d.month, d.day, hour, tz=TZ)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class Clock:
    """A settable clock; the ledger reads it on every call."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


FAR = at("2026-12-30", 12)
"""A clock later than any as_of below: agenda(as_of=D) replays history."""


def new_ledger(
    feedback: str = "2024-09-02", *, policy: Policy | None = None, inspection: str = "R1"
) -> tuple[Ledger, Clock]:
    clock = Clock(FAR)
    ledger = Ledger.open(policy=policy, clock=clock)
    ledger.add_inspection(
        inspection, title="县委巡察", feedback_at=feedback, declared_findings=5, at=at(feedback)
    )
    return ledger, clock


def add(
    ledger: Ledger,
    fid: str,
    deadline: object,
    *,
    on: str = "2024-09-02",
    measures: tuple[Measure, ...] = (),
    inspection: str = "R1",
    kind: str = "deadline",
):
    return ledger.add_finding(
        fid,
        inspection=inspection,
        title=f"问题{fid}",
        kind=kind,
        owner=OWNER,
        deadline=deadline,
        actor=ADDER,
        measures=measures,
        at=at(on, 10),
    )


def complete(ledger: Ledger, fid: str, *, start: str, submit: str, sign: str) -> None:
    ledger.fire(fid, "start", actor=OWNER.person, at=at(start))
    ledger.fire(fid, "submit", actor=OWNER.person, at=at(submit), evidence=["done.pdf"])
    ledger.fire(fid, "sign_off", actor=SIGNER, at=at(sign, 15))


def agenda_on(ledger: Ledger, clock: Clock, day: str, path: str) -> Agenda:
    """The agenda as of *day* through the indexed path (clock inside the day) or the replay path."""
    if path == "indexed":
        clock.now = at(day, 0)
        assert end_of_day(d(day), TZ) >= ledger.now()
    else:
        clock.now = FAR
        assert end_of_day(d(day), TZ) < ledger.now()
    return ledger.agenda(as_of=day)


def kinds(agenda: Agenda, fid: str) -> list[str]:
    return [i.kind for i in agenda.items if i.finding_id == fid]


def only(agenda: Agenda, kind: str, fid: str):
    found = [i for i in agenda.of_kind(kind) if i.finding_id == fid]
    assert len(found) == 1, (kind, fid, agenda.items)
    return found[0]


PATHS = pytest.mark.parametrize("path", ["indexed", "replay"])


# ---------------------------------------------------------------- overdue, escalation


@PATHS
def test_overdue_counts_working_days_across_national_day(path):
    """Deadline Fri 2024-09-27, as of 2024-10-08: 3 working days late (09-29 make-up, 09-30, 10-08)."""
    ledger, clock = new_ledger()
    add(ledger, "F1", "2024-09-27")
    item = only(agenda_on(ledger, clock, "2024-10-08", path), "overdue", "F1")
    assert item.due == d("2024-09-27")
    assert item.workdays == 3
    assert item.level == "warning"
    assert item.provisional is False
    assert item.owner == OWNER_TEXT
    assert item.inspection == "R1"
    assert item.title == "问题F1"
    # During the holiday no working day has passed since 09-30.
    assert only(agenda_on(ledger, clock, "2024-10-07", path), "overdue", "F1").workdays == 2


@PATHS
def test_not_overdue_on_the_deadline_itself(path):
    """On the deadline day a finding is due soon (0 working days left), overdue from the next day."""
    ledger, clock = new_ledger()
    add(ledger, "F1", "2024-09-27")
    agenda = agenda_on(ledger, clock, "2024-09-27", path)
    assert kinds(agenda, "F1") == ["due_soon"]
    assert only(agenda, "due_soon", "F1").workdays == 0
    item = only(agenda_on(ledger, clock, "2024-09-29", path), "overdue", "F1")
    assert item.workdays == 1  # Sunday 09-29 is a make-up working day


@PATHS
@pytest.mark.parametrize(
    ("day", "workdays", "level"),
    [
        ("2024-09-30", 2, "warning"),
        ("2024-10-15", 9, "warning"),
        ("2024-10-16", 10, "referral"),
        ("2024-12-02", 43, "referral"),
    ],
)
def test_escalation_default_ladder(path, day, workdays, level):
    """Default ladder: warning once overdue, referral from 10 working days (10-12 Sat counts)."""
    ledger, clock = new_ledger()
    add(ledger, "F1", "2024-09-27")
    item = only(agenda_on(ledger, clock, day, path), "overdue", "F1")
    assert (item.workdays, item.level) == (workdays, level)


@PATHS
@pytest.mark.parametrize(
    ("day", "level"),
    [
        ("2024-09-29", "warning"),  # 1
        ("2024-10-08", "referral"),  # 3
        ("2024-10-10", "referral"),  # 5
        ("2024-10-11", "discipline"),  # 6
    ],
)
def test_escalation_custom_ladder(path, day, level):
    """A policy's own ladder decides the level: referral from 3, discipline from 6 working days."""
    policy = Policy(escalation=[(1, "warning"), (3, "referral"), (6, "discipline")])
    ledger, clock = new_ledger(policy=policy)
    add(ledger, "F1", "2024-09-27")
    assert only(agenda_on(ledger, clock, day, path), "overdue", "F1").level == level


@PATHS
def test_overdue_includes_every_open_state(path):
    """Assigned, in progress, staged and pending sign-off findings all go overdue; completed do not."""
    ledger, clock = new_ledger()
    for fid in ("A", "B", "C", "D", "E"):
        add(ledger, fid, "2024-09-20")
    ledger.fire("B", "start", actor=OWNER.person, at=at("2024-09-03"))
    ledger.fire("C", "start", actor=OWNER.person, at=at("2024-09-03"))
    ledger.fire(
        "C",
        "stage",
        actor=OWNER.person,
        at=at("2024-09-05"),
        note="阶段性成效",
        evidence=["s.pdf"],
        next_checkpoint="2024-11-01",
    )
    ledger.fire("D", "start", actor=OWNER.person, at=at("2024-09-03"))
    ledger.fire("D", "submit", actor=OWNER.person, at=at("2024-09-04"), evidence=["x.pdf"])
    complete(ledger, "E", start="2024-09-03", submit="2024-09-04", sign="2024-09-05")
    agenda = agenda_on(ledger, clock, "2024-09-24", path)
    assert [i.finding_id for i in agenda.of_kind("overdue")] == ["A", "B", "C", "D"]
    assert kinds(agenda, "E") == []


@PATHS
def test_extension_and_rebound_set_the_deadline_that_counts(path):
    """An approved extension, or a rebound's new deadline, replaces the deadline the agenda uses."""
    ledger, clock = new_ledger()
    add(ledger, "EXT", "2024-09-27")
    ledger.fire(
        "EXT",
        "extend",
        actor=SIGNER,
        at=at("2024-09-20"),
        requested_by=OWNER.person,
        until="2024-10-31",
        reason="等待经费",
    )
    add(ledger, "REB", "2024-09-13")
    complete(ledger, "REB", start="2024-09-03", submit="2024-09-05", sign="2024-09-06")
    ledger.fire(
        "REB",
        "rebound",
        actor=ADDER,
        at=at("2024-09-20"),
        evidence=["r.jpg"],
        deadline="2024-09-30",
    )
    agenda = agenda_on(ledger, clock, "2024-10-09", path)
    assert kinds(agenda, "EXT") == []
    assert ledger.get("EXT").original_deadline == d("2024-09-27")
    item = only(agenda, "overdue", "REB")
    assert (item.due, item.workdays) == (d("2024-09-30"), 2)
    assert only(agenda_on(ledger, clock, "2024-11-01", path), "overdue", "EXT").workdays == 1


# ---------------------------------------------------------------- due soon


@PATHS
def test_due_soon_within_ten_working_days_not_eleven(path):
    """As of Fri 2024-09-20: 2024-10-10 is the 10th working day (due soon), 2024-10-11 the 11th (not)."""
    ledger, clock = new_ledger()
    add(ledger, "TEN", "2024-10-10")
    add(ledger, "ELEVEN", "2024-10-11")
    add(ledger, "TODAY", "2024-09-20")
    agenda = agenda_on(ledger, clock, "2024-09-20", path)
    ten = only(agenda, "due_soon", "TEN")
    assert (ten.workdays, ten.level, ten.due) == (10, "reminder", d("2024-10-10"))
    assert kinds(agenda, "ELEVEN") == []
    assert only(agenda, "due_soon", "TODAY").workdays == 0
    assert [i.finding_id for i in agenda.of_kind("due_soon")] == ["TODAY", "TEN"]
    # A working day later the 11th is inside the window too.
    later = agenda_on(ledger, clock, "2024-09-23", path)
    assert only(later, "due_soon", "ELEVEN").workdays == 10


def test_due_soon_window_follows_policy():
    """A 3-working-day window (hazard pack) lists a deadline 3 working days out, not 4."""
    policy = Policy(reminder_window="3个工作日")
    ledger, clock = new_ledger(policy=policy)
    add(ledger, "THREE", "2024-09-30")
    add(ledger, "FOUR", "2024-10-08")
    agenda = agenda_on(ledger, clock, "2024-09-26", "indexed")
    # After Thu 09-26: Fri 09-27 (1), Sun 09-29 (2), Mon 09-30 (3), then 10-08 (4).
    assert only(agenda, "due_soon", "THREE").workdays == 3
    assert kinds(agenda, "FOUR") == []


# ---------------------------------------------------------------- rest-day deadline


@PATHS
def test_deadline_on_rest_day_is_due_next_working_day(path):
    """A deadline on a holiday (Sat 2024-10-05) falls due on Tue 2024-10-08 (民法典 art. 203)."""
    ledger, clock = new_ledger()
    add(ledger, "F1", "2024-10-05")
    for day, left in (("2024-10-05", 1), ("2024-10-07", 1), ("2024-10-08", 0)):
        agenda = agenda_on(ledger, clock, day, path)
        assert kinds(agenda, "F1") == ["due_soon"], day
        assert only(agenda, "due_soon", "F1").workdays == left, day
    item = only(agenda_on(ledger, clock, "2024-10-09", path), "overdue", "F1")
    assert item.workdays == 1
    assert item.due == d("2024-10-05")


@PATHS
def test_deadline_on_make_up_working_day_is_not_rolled(path):
    """Sunday 2024-09-29 is a working day: a deadline on it is overdue on Mon 09-30."""
    ledger, clock = new_ledger()
    add(ledger, "F1", "2024-09-29")
    assert kinds(agenda_on(ledger, clock, "2024-09-29", path), "F1") == ["due_soon"]
    assert only(agenda_on(ledger, clock, "2024-09-30", path), "overdue", "F1").workdays == 1


# ---------------------------------------------------------------- checkpoints


def _staged(ledger: Ledger, fid: str, checkpoint: str) -> None:
    add(ledger, fid, "2025-06-30", kind="long_term")
    ledger.fire(fid, "start", actor=OWNER.person, at=at("2024-09-03"))
    ledger.fire(
        fid,
        "stage",
        actor=OWNER.person,
        at=at("2024-09-10"),
        note="取得阶段性成效",
        evidence=["stage.pdf"],
        next_checkpoint=checkpoint,
    )


@PATHS
def test_checkpoint_missed(path):
    """A staged finding is flagged the working day after its checkpoint, with working days late."""
    ledger, clock = new_ledger()
    _staged(ledger, "F1", "2024-09-27")
    assert kinds(agenda_on(ledger, clock, "2024-09-27", path), "F1") == []
    item = only(agenda_on(ledger, clock, "2024-10-08", path), "checkpoint_missed", "F1")
    assert (item.due, item.workdays, item.level) == (d("2024-09-27"), 3, "warning")
    assert item.owner == OWNER_TEXT


@PATHS
def test_checkpoint_reported_again_clears_it(path):
    """A new staged result with a later checkpoint clears the missed one; submitting does too."""
    ledger, clock = new_ledger()
    _staged(ledger, "F1", "2024-09-27")
    _staged(ledger, "F2", "2024-09-27")
    ledger.fire(
        "F1",
        "stage",
        actor=OWNER.person,
        at=at("2024-09-30"),
        note="again",
        evidence=["s2.pdf"],
        next_checkpoint="2024-12-20",
    )
    ledger.fire("F2", "submit", actor=OWNER.person, at=at("2024-09-30"), evidence=["x.pdf"])
    agenda = agenda_on(ledger, clock, "2024-10-08", path)
    assert kinds(agenda, "F1") == []
    assert kinds(agenda, "F2") == []
    assert only(agenda_on(ledger, clock, "2024-12-23", path), "checkpoint_missed", "F1")


@PATHS
def test_checkpoint_on_rest_day_is_due_next_working_day(path):
    """A checkpoint on Sat 2024-10-05 (holiday) is not missed before Tue 2024-10-08 has passed."""
    ledger, clock = new_ledger()
    _staged(ledger, "F1", "2024-10-05")
    assert kinds(agenda_on(ledger, clock, "2024-10-06", path), "F1") == []
    assert kinds(agenda_on(ledger, clock, "2024-10-08", path), "F1") == []
    item = only(agenda_on(ledger, clock, "2024-10-09", path), "checkpoint_missed", "F1")
    assert item.workdays == 1


# ---------------------------------------------------------------- look-back


@PATHS
def test_look_back_due_exactly_three_months_after_completion(path):
    """Signed off 2024-01-16: look-back due from 2024-04-16, not on 2024-04-15; gone once rechecked."""
    ledger, clock = new_ledger("2023-11-23")
    add(ledger, "F1", "2024-01-31", on="2023-11-27")
    complete(ledger, "F1", start="2023-12-01", submit="2024-01-12", sign="2024-01-16")
    assert kinds(agenda_on(ledger, clock, "2024-04-15", path), "F1") == []
    item = only(agenda_on(ledger, clock, "2024-04-16", path), "look_back_due", "F1")
    assert (item.due, item.workdays, item.level) == (d("2024-04-16"), None, None)
    assert only(agenda_on(ledger, clock, "2024-06-30", path), "look_back_due", "F1")
    ledger.fire("F1", "recheck", actor=ADDER, at=at("2024-04-17"), evidence=["lb.pdf"])
    assert kinds(agenda_on(ledger, clock, "2024-06-30", path), "F1") == []
    # As of the day before the recheck, the replay still shows it due.
    if path == "replay":
        assert kinds(agenda_on(ledger, clock, "2024-04-16", path), "F1") == ["look_back_due"]


@PATHS
def test_look_back_wait_ending_on_holiday_rolls_forward(path):
    """Signed off 2024-07-01: +3 months is 2024-10-01 (holiday), so the look-back is due 2024-10-08."""
    ledger, clock = new_ledger("2024-06-03")
    add(ledger, "F1", "2024-07-31", on="2024-06-04")
    complete(ledger, "F1", start="2024-06-05", submit="2024-06-28", sign="2024-07-01")
    assert kinds(agenda_on(ledger, clock, "2024-10-07", path), "F1") == []
    assert only(agenda_on(ledger, clock, "2024-10-08", path), "look_back_due", "F1").due == d(
        "2024-10-08"
    )


@PATHS
def test_look_back_wait_follows_policy(path):
    """With look_back_wait = 30 days, sign-off 2024-09-02 is due for look-back 2024-10-08."""
    ledger, clock = new_ledger("2024-08-01", policy=Policy(look_back_wait="30 days"))
    add(ledger, "F1", "2024-09-30", on="2024-08-01")
    complete(ledger, "F1", start="2024-08-30", submit="2024-08-30", sign="2024-09-02")
    # 09-02 + 30 days = 10-02, a holiday -> 10-08.
    assert kinds(agenda_on(ledger, clock, "2024-10-07", path), "F1") == []
    assert only(agenda_on(ledger, clock, "2024-10-08", path), "look_back_due", "F1")


# ---------------------------------------------------------------- recurring measures


MONTHLY = Measure(
    id="M1", text="每月开展一次安全排查", kind="recurring", owner="总务处", cadence="monthly"
)


def _recurring(ledger: Ledger, fid: str, days: list[str]) -> None:
    add(ledger, fid, "2025-06-30", on="2024-01-03", measures=(MONTHLY,), kind="long_term")
    ledger.fire(fid, "start", actor=OWNER.person, at=at("2024-01-05"))
    for day in days:
        ledger.fire(fid, "record_measure", actor="总务处", at=at(day), measure="M1")


@PATHS
def test_recurring_monthly_missed_month_flagged(path):
    """Monthly check recorded in January and February but not March: flagged from April 1."""
    ledger, clock = new_ledger("2024-01-02")
    _recurring(ledger, "GAP", ["2024-01-10", "2024-02-15"])
    _recurring(ledger, "KEPT", ["2024-01-10", "2024-02-15", "2024-03-28"])
    march = agenda_on(ledger, clock, "2024-03-31", path)
    assert kinds(march, "GAP") == []  # March is still running
    april = agenda_on(ledger, clock, "2024-04-01", path)
    item = only(april, "recurring_missed", "GAP")
    assert item.measure_id == "M1"
    assert item.missed == (d("2024-03-01"),)
    assert item.due == d("2024-03-01")
    assert item.owner == "总务处"
    assert item.level == "warning"
    assert kinds(april, "KEPT") == []


@PATHS
def test_recurring_late_record_does_not_make_up_a_month(path):
    """A record on April 2 belongs to April: March stays missed, later gaps accumulate."""
    ledger, clock = new_ledger("2024-01-02")
    _recurring(ledger, "F1", ["2024-01-10", "2024-02-15", "2024-04-02"])
    assert only(agenda_on(ledger, clock, "2024-04-05", path), "recurring_missed", "F1").missed == (
        d("2024-03-01"),
    )
    item = only(agenda_on(ledger, clock, "2024-07-01", path), "recurring_missed", "F1")
    assert item.missed == (d("2024-03-01"), d("2024-05-01"), d("2024-06-01"))


@PATHS
def test_recurring_without_first_record_not_flagged(path):
    """A recurring measure never established has no cadence to miss yet."""
    ledger, clock = new_ledger("2024-01-02")
    _recurring(ledger, "F1", [])
    assert kinds(agenda_on(ledger, clock, "2024-06-01", path), "F1") == []


# ---------------------------------------------------------------- cancelled


@PATHS
def test_cancelled_findings_never_listed(path):
    """A cancelled finding is listed under no kind, even when overdue, staged or missing records."""
    ledger, clock = new_ledger("2024-01-02")
    _recurring(ledger, "REC", ["2024-01-10"])
    add(ledger, "LATE", "2024-01-31", on="2024-01-03")
    ledger.fire(
        "REC",
        "extend",
        actor=SIGNER,
        at=at("2024-01-20"),
        requested_by=OWNER.person,
        until="2025-07-31",
        reason="经费",
    )
    ledger.fire(
        "REC",
        "stage",
        actor=OWNER.person,
        at=at("2024-01-20", 10),
        note="阶段",
        evidence=["s.pdf"],
        next_checkpoint="2024-03-01",
    )
    before = agenda_on(ledger, clock, "2024-04-01", path) if path == "replay" else None
    for fid in ("REC", "LATE"):
        ledger.fire(fid, "cancel", actor=ADDER, at=at("2024-04-02"), reason="重复登记")
    if before is not None:
        assert set(kinds(before, "REC")) == {"checkpoint_missed", "recurring_missed"}
        assert kinds(before, "LATE") == ["overdue"]
    for day in ("2024-04-02", "2024-06-30", "2025-12-31"):
        agenda = agenda_on(ledger, clock, day, path)
        assert agenda.items == ()
        assert agenda.inspections[0].inspection == "R1"


# ---------------------------------------------------------------- report due date


@PATHS
def test_report_due_two_months_after_feedback(path):
    """Feedback 2023-11-23: report due 2024-01-23; overdue from 2024-01-24."""
    ledger, clock = new_ledger("2023-11-23")
    on_day = agenda_on(ledger, clock, "2024-01-23", path).inspections[0]
    assert (on_day.report_due, on_day.report_overdue) == (d("2024-01-23"), False)
    assert on_day.report_provisional is False
    after = agenda_on(ledger, clock, "2024-01-24", path).inspections[0]
    assert (after.report_due, after.report_overdue) == (d("2024-01-23"), True)


@PATHS
def test_report_due_rolled_to_working_day(path):
    """Feedback Sat 2024-08-03: +2 months is 2024-10-03 (holiday), so the report is due 2024-10-08."""
    ledger, clock = new_ledger("2024-08-03")
    insp = agenda_on(ledger, clock, "2024-10-08", path).inspections[0]
    assert (insp.report_due, insp.report_overdue) == (d("2024-10-08"), False)
    assert agenda_on(ledger, clock, "2024-10-09", path).inspections[0].report_overdue is True


def test_report_due_follows_policy_period():
    """A three-month local rule moves the due day: feedback 2024-08-03 -> 2024-11-04 (Sun 11-03 rolled)."""
    ledger, clock = new_ledger("2024-08-03", policy=Policy(report_period="3个月"))
    insp = agenda_on(ledger, clock, "2024-09-01", "indexed").inspections[0]
    assert insp.report_due == d("2024-11-04")


def test_inspection_created_later_is_not_on_earlier_agenda():
    """The agenda as of a day lists only inspections already on the ledger then."""
    ledger, _ = new_ledger("2024-01-02")
    ledger.add_inspection("R2", title="二轮", feedback_at="2024-05-06", at=at("2024-05-07"))
    assert [a.inspection for a in ledger.agenda(as_of="2024-05-06").inspections] == ["R1"]
    assert [a.inspection for a in ledger.agenda(as_of="2024-05-07").inspections] == ["R1", "R2"]
    assert [
        a.inspection for a in ledger.agenda(as_of="2024-05-07", inspection="R2").inspections
    ] == ["R2"]
    with pytest.raises(InspectionNotFound):
        ledger.agenda(as_of="2024-05-07", inspection="R9")


@PATHS
def test_agenda_per_inspection(path):
    """Items are grouped under their own inspection; the inspection filter keeps one."""
    ledger, clock = new_ledger()
    ledger.add_inspection("R2", title="二轮", feedback_at="2024-09-02", at=at("2024-09-02"))
    add(ledger, "A", "2024-09-20")
    add(ledger, "B", "2024-09-20", inspection="R2")
    agenda = agenda_on(ledger, clock, "2024-09-24", path)
    by_insp = {a.inspection: [i.finding_id for i in a.items] for a in agenda.inspections}
    assert by_insp == {"R1": ["A"], "R2": ["B"]}
    only_r2 = ledger.agenda(as_of="2024-09-24", inspection="R2")
    assert [i.finding_id for i in only_r2.items] == ["B"]


# ---------------------------------------------------------------- provisional dates


@PATHS
def test_provisional_beyond_known_calendar(path):
    """Deadlines and report dates beyond calendar.known_until are flagged provisional."""
    late_year = KNOWN_UNTIL.year + 2
    deadline = dt.date(late_year, 3, 15)
    ledger, clock = new_ledger()
    add(ledger, "FAR", deadline.isoformat())
    add(ledger, "NEAR", "2024-09-27")
    feedback = KNOWN_UNTIL - dt.timedelta(days=20)
    clock.now = at(KNOWN_UNTIL, 12)
    ledger.add_inspection("R2", title="年末巡察", feedback_at=feedback, at=at(feedback))
    as_of = dt.date(late_year, 3, 20)
    # Indexed: the clock (end of the known years) is before as_of; replay: a clock after it.
    clock.now = at(as_of + dt.timedelta(days=365)) if path == "replay" else clock.now
    agenda = ledger.agenda(as_of=as_of)
    far = only(agenda, "overdue", "FAR")
    assert far.provisional is True
    assert only(agenda, "overdue", "NEAR").provisional is True  # counted across unknown days
    assert {i.finding_id for i in agenda.provisional} == {"FAR", "NEAR"}
    r2 = next(a for a in agenda.inspections if a.inspection == "R2")
    assert r2.report_provisional is True
    r1 = next(a for a in agenda.inspections if a.inspection == "R1")
    assert r1.report_provisional is False


@PATHS
def test_not_provisional_within_known_calendar(path):
    """Inside the published years nothing is provisional."""
    ledger, clock = new_ledger()
    add(ledger, "F1", "2024-09-27")
    agenda = agenda_on(ledger, clock, "2024-10-08", path)
    assert agenda.provisional == ()


def test_due_soon_provisional_before_a_far_deadline():
    """A deadline in a year without a published arrangement is provisional while due soon."""
    deadline = dt.date(KNOWN_UNTIL.year + 2, 3, 15)
    ledger, clock = new_ledger()
    add(ledger, "F1", deadline.isoformat())
    clock.now = at("2024-09-30")
    agenda = ledger.agenda(as_of=deadline - dt.timedelta(days=3))
    item = only(agenda, "due_soon", "F1")
    assert item.provisional is True


# ---------------------------------------------------------------- output: JSON and text


def _sample() -> tuple[Ledger, Clock]:
    ledger, clock = new_ledger("2024-01-02")
    add(ledger, "F1", "2024-03-29", on="2024-01-03")
    _recurring(ledger, "F2", ["2024-01-10", "2024-02-15"])
    add(ledger, "F3", "2024-04-10", on="2024-01-03")
    return ledger, clock


def test_agenda_to_dict_is_json():
    """to_dict() is JSON-native and carries every field of every item."""
    ledger, clock = _sample()
    agenda = agenda_on(ledger, clock, "2024-04-02", "indexed")
    data = agenda.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data == {
        "as_of": "2024-04-02",
        "timezone": "Asia/Shanghai",
        "inspections": [
            {
                "inspection": "R1",
                "title": "县委巡察",
                "report_due": "2024-03-04",
                "report_overdue": True,
                "report_provisional": False,
                "items": [
                    {
                        "id": "overdue:F1:2024-03-29",
                        "kind": "overdue",
                        "inspection": "R1",
                        "finding": "F1",
                        "title": "问题F1",
                        "due": "2024-03-29",
                        "workdays": 2,
                        "level": "warning",
                        "provisional": False,
                        "measure": None,
                        "missed": [],
                        "owner": OWNER_TEXT,
                        "check": None,
                    },
                    {
                        "id": "due_soon:F3:2024-04-10",
                        "kind": "due_soon",
                        "inspection": "R1",
                        "finding": "F3",
                        "title": "问题F3",
                        "due": "2024-04-10",
                        "workdays": 5,
                        "level": "reminder",
                        "provisional": False,
                        "measure": None,
                        "missed": [],
                        "owner": OWNER_TEXT,
                        "check": None,
                    },
                    {
                        "id": "recurring_missed:F2:2024-03-01:M1",
                        "kind": "recurring_missed",
                        "inspection": "R1",
                        "finding": "F2",
                        "title": "问题F2",
                        "due": "2024-03-01",
                        "workdays": None,
                        "level": "warning",
                        "provisional": False,
                        "measure": "M1",
                        "missed": ["2024-03-01"],
                        "owner": "总务处",
                        "check": None,
                    },
                ],
                "report_submitted": None,
            }
        ],
        "upcoming": [],
    }


def test_agenda_text_zh():
    """to_text('zh') (the default) lists each kind with its count and details in Chinese."""
    ledger, clock = _sample()
    agenda = agenda_on(ledger, clock, "2024-04-02", "indexed")
    text = agenda.to_text("zh")
    assert text == agenda.to_text()
    assert text.splitlines() == [
        "## 待办事项,截至 2024-04-02",
        "",
        "### R1 县委巡察",
        "- 整改报告报送时限: 2024-03-04 已逾期",
        "- 逾期未完成 (1)",
        "  - F1 问题F1 (2024-03-29; 逾期2个工作日; 预警)",
        "- 即将到期 (1)",
        "  - F3 问题F3 (2024-04-10; 剩余5个工作日; 提醒)",
        "- 常态化措施漏开展 (1)",
        "  - F2 问题F2 (2024-03-01; 预警; M1: 2024-03-01)",
    ]


def test_agenda_text_en():
    """to_text('en') says the same in English."""
    ledger, clock = _sample()
    text = agenda_on(ledger, clock, "2024-04-02", "indexed").to_text("en")
    assert text.splitlines() == [
        "## Agenda as of 2024-04-02",
        "",
        "### R1 县委巡察",
        "- report due: 2024-03-04 overdue",
        "- overdue (1)",
        "  - F1 问题F1 (2024-03-29; 2 working days late; warning)",
        "- due soon (1)",
        "  - F3 问题F3 (2024-04-10; 5 working days left; reminder)",
        "- recurring measure missed (1)",
        "  - F2 问题F2 (2024-03-01; warning; M1: 2024-03-01)",
    ]


def test_agenda_text_empty_and_other_kinds():
    """An empty inspection says so; checkpoint, look-back and provisional items render too."""
    ledger, clock = new_ledger("2023-11-23")
    empty = agenda_on(ledger, clock, "2023-12-01", "indexed")
    assert "- 无待办事项" in empty.to_text("zh")
    assert "- nothing due" in empty.to_text("en")
    assert "- report due: 2024-01-23" in empty.to_text("en").splitlines()
    clock.now = FAR
    add(ledger, "L", "2024-01-31", on="2023-11-27")
    complete(ledger, "L", start="2023-12-01", submit="2024-01-12", sign="2024-01-16")
    add(ledger, "S", "2025-06-30", on="2023-11-27", kind="long_term")
    ledger.fire("S", "start", actor=OWNER.person, at=at("2023-12-01"))
    ledger.fire(
        "S",
        "stage",
        actor=OWNER.person,
        at=at("2024-01-10"),
        note="阶段",
        evidence=["s.pdf"],
        next_checkpoint="2024-04-10",
    )
    text_en = agenda_on(ledger, clock, "2024-04-16", "indexed").to_text("en")
    assert "- checkpoint missed (1)" in text_en
    assert "  - S 问题S (2024-04-10; 4 working days late; warning)" in text_en
    assert "- look-back due (1)" in text_en
    assert "  - L 问题L (2024-04-16)" in text_en
    text_zh = agenda_on(ledger, clock, "2024-04-16", "indexed").to_text("zh")
    assert "- 阶段性成效检查点已过 (1)" in text_zh
    assert "- 应开展回头看 (1)" in text_zh
    far = dt.date(KNOWN_UNTIL.year + 2, 3, 15)
    clock.now = FAR
    ledger.fire("S", "submit", actor=OWNER.person, at=at("2024-04-16"), evidence=["x.pdf"])
    ledger.fire("S", "reject", actor=SIGNER, at=at("2024-04-16", 11), note="不充分")
    ledger.fire(
        "S",
        "extend",
        actor=SIGNER,
        at=at("2024-04-16", 12),
        requested_by=OWNER.person,
        until=far.isoformat(),
        reason="长期",
    )
    text = ledger.agenda(as_of=far).to_text("en")
    assert "provisional" in text
    assert "日期为预估" in ledger.agenda(as_of=far).to_text("zh")


# ---------------------------------------------------------------- relative deadlines


@pytest.mark.parametrize(
    ("feedback", "spec", "expected"),
    [
        ("2024-09-20", "10 working days", "2024-10-10"),
        ("2024-09-20", "10个工作日", "2024-10-10"),
        ("2024-09-20", Period(10, "workdays"), "2024-10-10"),
        ("2024-09-20", "2 months", "2024-11-20"),
        ("2024-09-20", "2个月", "2024-11-20"),
        ("2024-08-03", "2 months", "2024-10-08"),  # 10-03 is a holiday
        ("2024-08-03", "2个月", "2024-10-08"),
        ("2024-09-05", "30 days", "2024-10-08"),  # 10-05 is a holiday
        ("2023-12-31", "2 months", "2024-02-29"),  # no Feb 31st
        ("2024-09-20", "2024-12-31", "2024-12-31"),
        ("2024-09-20", dt.date(2025, 1, 4), "2025-01-04"),  # explicit dates are kept as given
    ],
)
def test_relative_deadline_resolves_through_calendar(feedback, spec, expected):
    """Deadlines relative to the feedback day are counted on the policy's (PRC) calendar."""
    ledger, clock = new_ledger(feedback)
    clock.now = at("2025-06-30")
    f = add(ledger, "F1", spec, on=feedback)
    assert f.deadline == d(expected)
    assert f.original_deadline == d(expected)
    assert ledger.get("F1").deadline == d(expected)
    assert ledger.history("F1")[0].payload["deadline"] == expected
    assert ledger.as_of("2025-06-30")[0].deadline == d(expected)


def test_relative_deadline_counts_from_feedback_not_entry_day():
    """'10个工作日' counts from the feedback day even when the finding is entered later."""
    ledger, _ = new_ledger("2024-09-20")
    f = add(ledger, "F1", "10个工作日", on="2024-09-25")
    assert f.deadline == d("2024-10-10")


def test_relative_deadline_uses_policy_calendar():
    """On a Monday–Friday calendar the same '10 working days' ends on 2024-10-04."""
    ledger, _ = new_ledger("2024-09-20", policy=Policy(calendar="weekdays"))
    assert add(ledger, "F1", "10 working days", on="2024-09-20").deadline == d("2024-10-04")


@pytest.mark.parametrize("spec", ["soon", "10 weeks", "2024-13-01", "", 42])
def test_relative_deadline_rejects_nonsense(spec):
    """A deadline that is neither a date nor a period raises InvalidInput; nothing is stored."""
    ledger, _ = new_ledger()
    with pytest.raises(InvalidInput):
        add(ledger, "F1", spec)
    assert "F1" not in ledger


def test_relative_deadline_resolved_once():
    """The resolved day is stored: the agenda uses it whatever the calendar says later."""
    ledger, clock = new_ledger("2024-09-20")
    add(ledger, "F1", "10 working days", on="2024-09-20")
    item = only(agenda_on(ledger, clock, "2024-10-11", "replay"), "overdue", "F1")
    assert (item.due, item.workdays) == (d("2024-10-10"), 1)


# ---------------------------------------------------------------- spot checks


def _spot_ledger() -> tuple[Ledger, Clock]:
    ledger, clock = new_ledger("2024-01-02")
    ledger.add_inspection("R2", title="二轮", feedback_at="2024-01-02", at=at("2024-01-02"))
    for n in range(8):
        fid = f"F{n}"
        add(ledger, fid, "2024-03-29", on="2024-01-03")
        if n < 6:
            complete(ledger, fid, start="2024-01-04", submit="2024-01-10", sign=f"2024-01-{11 + n}")
    ledger.fire("F0", "recheck", actor=ADDER, at=at("2024-04-22"), evidence=["lb.pdf"])
    ledger.fire("F7", "cancel", actor=ADDER, at=at("2024-01-20"), reason="重复")
    add(ledger, "X1", "2024-03-29", on="2024-01-03", inspection="R2")
    complete(ledger, "X1", start="2024-01-04", submit="2024-01-10", sign="2024-01-11")
    return ledger, clock


def test_draw_spot_checks_reproducible():
    """Same seed, same as_of: the same findings in the same order, from completed/rechecked only."""
    ledger, _ = _spot_ledger()
    a = ledger.draw_spot_checks("R1", k=3, seed=20240601, as_of="2024-06-01")
    b = ledger.draw_spot_checks("R1", k=3, seed=20240601, as_of="2024-06-01")
    assert a == b
    assert a.population == ("F0", "F1", "F2", "F3", "F4", "F5")
    assert len(a.findings) == 3
    assert len(set(a.findings)) == 3
    assert set(a.findings) <= set(a.population)
    assert (a.inspection, a.seed, a.k, a.as_of) == ("R1", 20240601, 3, d("2024-06-01"))
    draws = {
        ledger.draw_spot_checks("R1", k=3, seed=s, as_of="2024-06-01").findings for s in range(20)
    }
    assert len(draws) > 1  # the seed matters


def test_draw_spot_checks_population_as_of():
    """The population is taken as of the day: findings signed off later are not in it."""
    ledger, _ = _spot_ledger()
    draw = ledger.draw_spot_checks("R1", k=10, seed=1, as_of="2024-01-13")
    assert draw.population == ("F0", "F1", "F2")
    assert sorted(draw.findings) == ["F0", "F1", "F2"]  # k larger than the population
    assert ledger.draw_spot_checks("R1", k=0, seed=1, as_of="2024-06-01").findings == ()


def test_draw_spot_checks_defaults():
    """Default k is the policy's sample size; a missing seed is generated and returned."""
    ledger, clock = _spot_ledger()
    clock.now = at("2024-06-01", 12)
    draw = ledger.draw_spot_checks("R1")
    assert draw.k == Policy().spot_check_sample == 3
    assert len(draw.findings) == 3
    assert isinstance(draw.seed, int)
    assert draw.as_of == d("2024-06-01")
    again = ledger.draw_spot_checks("R1", seed=draw.seed, as_of=draw.as_of)
    assert again.findings == draw.findings


def test_spot_check_event_records_seed_for_auditor():
    """Firing spot_check with the draw's seed lets an auditor redo the draw from the history."""
    ledger, clock = _spot_ledger()
    clock.now = at("2024-06-03", 12)
    draw = ledger.draw_spot_checks("R1", k=2, seed=987654321, as_of="2024-06-03")
    for fid in draw.findings:
        after = ledger.fire(fid, "spot_check", actor=ADDER, at=at("2024-06-03", 10), seed=draw.seed)
        assert after.spot_checks == 1
        assert after.state in ("completed", "rechecked")
    events = [e for fid in draw.findings for e in ledger.history(fid) if e.name == "spot_check"]
    assert [e.payload["seed"] for e in events] == [987654321, 987654321]
    # The auditor: same seed, same day, same k -> same findings.
    redo = ledger.draw_spot_checks(
        "R1", k=2, seed=events[0].payload["seed"], as_of=events[0].at.date()
    )
    assert redo.findings == draw.findings


def test_spot_check_requires_seed():
    """A spot_check without the draw's seed is refused and changes nothing."""
    ledger, clock = _spot_ledger()
    clock.now = at("2024-06-03", 12)
    with pytest.raises(RuleViolation) as err:
        ledger.fire("F1", "spot_check", actor=ADDER, at=at("2024-06-03", 10))
    assert err.value.rule == "seed_required"
    assert ledger.get("F1").spot_checks == 0


def test_draw_spot_checks_bad_arguments():
    """Unknown inspection and negative k are refused."""
    ledger, _ = _spot_ledger()
    with pytest.raises(InspectionNotFound):
        ledger.draw_spot_checks("R9", k=1, seed=1)
    with pytest.raises(InvalidInput):
        ledger.draw_spot_checks("R1", k=-1, seed=1)


# ---------------------------------------------------------------- paths


def test_indexed_path_reads_no_history():
    """As of now the agenda comes from the store's indexes: no history replay, no full scan."""
    ledger, clock = _sample()
    clock.now = at("2024-04-02", 8)
    expected = ledger.agenda(as_of="2024-04-02")

    def boom(*_a, **_k):
        raise AssertionError("the indexed path must not scan or replay")

    ledger.store.history = boom  # type: ignore[method-assign]
    ledger.store.findings = boom  # type: ignore[method-assign]
    assert ledger.agenda(as_of="2024-04-02") == expected
    assert ledger.agenda() == expected  # default: as of now


def test_as_of_time_and_date_agree():
    """as_of may be an aware time: its local day is the agenda's day."""
    ledger, clock = _sample()
    clock.now = FAR
    by_date = ledger.agenda(as_of="2024-04-02")
    by_time = ledger.agenda(as_of="2024-04-02T23:59:59+08:00")
    assert by_time == by_date
    assert ledger.agenda(as_of=d("2024-04-02")) == by_date
    with pytest.raises(InvalidInput):
        ledger.agenda(as_of="2024-04-02T10:00:00")  # naive


# ---------------------------------------------------------------- CLI


def _cli_ledger_events(ledger: Ledger) -> None:
    add(ledger, "F1", "2024-09-27")
    add(ledger, "F2", "2024-10-10")


def _expected_cli(agenda_dict: dict) -> None:
    assert agenda_dict["as_of"] == "2024-09-30"
    items = agenda_dict["inspections"][0]["items"]
    assert [(i["kind"], i["finding"], i["workdays"]) for i in items] == [
        ("overdue", "F1", 2),
        ("due_soon", "F2", 3),
    ]


@pytest.mark.skipif(
    importlib.util.find_spec("rectflow._store.sqlite") is None,
    reason="rectflow._store.sqlite (the SQLite backend) is not available in this build",
)
def test_cli_agenda_json_on_sqlite(tmp_path, capsys):
    """`rectflow agenda --as-of D --json` on a SQLite ledger prints the agenda's to_dict()."""
    path = str(tmp_path / "ledger.db")
    clock = Clock(at("2024-09-02", 18))
    with Ledger.open(path, clock=clock) as ledger:
        ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-09-02", at=at("2024-09-02"))
        _cli_ledger_events(ledger)
    with Ledger.open(path, clock=lambda: FAR) as ledger:
        expected = ledger.agenda(as_of="2024-09-30").to_dict()
    capsys.readouterr()
    rc = cli.main(["agenda", "--ledger", path, "--as-of", "2024-09-30", "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    data = json.loads(out)
    assert data == expected
    _expected_cli(data)
    rc = cli.main(["agenda", "--ledger", path, "--as-of", "2024-09-30", "--lang", "en"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "## Agenda as of 2024-09-30" in text
    assert "  - F1 问题F1 (2024-09-27; 2 working days late; warning)" in text


def test_cli_agenda_json_on_memory_ledger(monkeypatch, capsys):
    """The CLI's agenda command prints to_dict() as JSON and to_text() in the chosen language."""
    ledger, clock = new_ledger()
    _cli_ledger_events(ledger)
    clock.now = FAR

    class _Open:
        @staticmethod
        def open(*_a, **_k):
            return ledger

    monkeypatch.setattr(cli_app, "Ledger", _Open)
    rc = cli.main(["agenda", "--ledger", ":memory:", "--as-of", "2024-09-30", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert data == ledger.agenda(as_of="2024-09-30").to_dict()
    _expected_cli(data)
    rc = cli.main(["agenda", "--ledger", ":memory:", "--as-of", "2024-09-30"])
    assert rc == 0
    assert "逾期2个工作日" in capsys.readouterr().out
    rc = cli.main(["agenda", "--ledger", ":memory:", "--as-of", "2024-09-31", "--json"])
    captured = capsys.readouterr()
    assert rc == 2
    assert json.loads(captured.err)["error"] == "InvalidInput"


# ---------------------------------------------------------------- replay == indexed


def ledger_replayed_to(src: Ledger, day: dt.date) -> Ledger:
    """A fresh ledger holding only *src*'s events up to the end of *day*, its clock at that end."""
    cutoff = end_of_day(day, src.policy.timezone)
    dst = Ledger.open(policy=src.policy, clock=lambda: cutoff)
    for insp in src.inspections():
        if insp.created_at is None or insp.created_at <= cutoff:
            dst.add_inspection(
                insp.id,
                title=insp.title,
                feedback_at=insp.feedback_at,
                declared_findings=insp.declared_findings,
                at=insp.created_at,
            )
    for entry in src.store.chain():
        e = entry.event
        if e.at > cutoff or not e.finding_id:  # ledger-level events: added above
            continue
        if e.name == "add":
            p = e.payload
            dst.add_finding(
                e.finding_id,
                inspection=p["inspection"],
                title=p["title"],
                kind=p["kind"],
                owner=_codec.owner_from(p["owner"]),
                deadline=p["deadline"],
                actor=e.actor,
                aspect=p.get("aspect", ""),
                category=p.get("category", ""),
                measures=[_codec.measure_from(m) for m in p.get("measures", ())],
                itemized=p.get("itemized", True),
                at=e.at,
            )
        else:
            dst.fire(
                e.finding_id,
                e.name,
                actor=e.actor,
                at=e.at,
                note=e.note,
                evidence=e.evidence,
                **dict(e.payload),
            )
    return dst


PROP_FEEDBACK = dt.date(2024, 3, 1)
PROP_CLOCK = at("2027-06-30", 12)
ACTORS = ("王老师", "李主任", SIGNER, ADDER)
PROP_OWNER = Owner(leader="张校长", department="总务处", person="王老师")
PROP_MEASURES = (
    Measure(id="M1", text="每月检查", kind="recurring", owner="总务处", cadence="monthly"),
    Measure(id="M2", text="制定制度", kind="institutional", owner="总务处", document="《制度》"),
    Measure(id="M3", text="每周巡查", kind="recurring", owner="总务处", cadence="weekly"),
)
EVENTS = ("next",) * 12 + EVENT_NAMES
"""Mostly "next" (a plausible event for the state), so findings get far; the rest at random."""

finding_specs = st.lists(
    st.tuples(
        st.integers(min_value=-10, max_value=200),  # deadline offset from feedback
        st.sets(st.sampled_from(range(len(PROP_MEASURES))), max_size=3),
    ),
    min_size=1,
    max_size=4,
)
steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),  # finding index (mod count)
        st.sampled_from(EVENTS),
        st.one_of(st.integers(0, 12), st.integers(13, 120)),  # days since previous step
        st.integers(min_value=0, max_value=len(ACTORS) - 1),
        st.integers(min_value=0, max_value=120),  # free parameter
    ),
    min_size=6,
    max_size=40,
)


def _natural(state: str, f, extra: int) -> tuple[str, str, dict]:
    """A plausible next event for a finding in *state*: (event, actor, kwargs)."""
    pending = [m for m in f.measures if not m.is_done]
    if state == "assigned":
        return "start", "王老师", {}
    if state in ("in_progress", "staged_result"):
        if pending:
            return "record_measure", "总务处", {"measure": pending[0].id}
        if extra % 3 == 0 and state == "in_progress":
            return (
                "stage",
                "王老师",
                {"note": "阶段", "evidence": ["s"], "_checkpoint": 1 + extra % 80},
            )
        recurring = [m for m in f.measures if m.kind == "recurring"]
        if recurring and extra % 3 == 1:
            return "record_measure", "总务处", {"measure": recurring[0].id}
        return "submit", "王老师", {"evidence": ["done"]}
    if state == "pending_signoff":
        return ("sign_off", SIGNER, {}) if extra % 4 else ("reject", SIGNER, {"note": "不足"})
    if state == "completed":
        return (
            ("recheck", ADDER, {"evidence": ["lb"]})
            if extra % 2
            else (
                "spot_check",
                ADDER,
                {"seed": extra},
            )
        )
    if state == "rechecked":
        return (
            ("rebound", ADDER, {"evidence": ["r"], "_deadline": 1 + extra})
            if extra % 3 == 0
            else (
                "spot_check",
                ADDER,
                {"seed": extra},
            )
        )
    return "start", "王老师", {}


def _kwargs(name: str, f, day: dt.date, extra: int) -> dict:
    if name == "stage":
        return {
            "note": "阶段",
            "evidence": ["s"],
            "next_checkpoint": day + dt.timedelta(days=1 + extra),
        }
    if name in ("submit", "recheck"):
        return {"evidence": ["e"]}
    if name == "reject":
        return {"note": "退回"}
    if name == "rebound":
        return {"evidence": ["r"], "deadline": day + dt.timedelta(days=extra - 5)}
    if name == "extend":
        return {
            "requested_by": "王老师",
            "until": f.deadline + dt.timedelta(days=extra - 10),
            "reason": "延期",
        }
    if name == "spot_check":
        return {"seed": extra}
    if name == "cancel":
        return {"reason": "撤销"}
    if name == "record_measure":
        ids = [m.id for m in f.measures] or ["M9"]
        return {"measure": ids[extra % len(ids)]}
    return {}


def build_random_ledger(specs, plan, policy: Policy | None = None) -> Ledger:
    ledger = Ledger.open(policy=policy, clock=lambda: PROP_CLOCK)
    ledger.add_inspection("R1", title="随机", feedback_at=PROP_FEEDBACK, at=at(PROP_FEEDBACK))
    for n, (offset, measure_ids) in enumerate(specs):
        ledger.add_finding(
            f"F{n}",
            inspection="R1",
            title=f"问题{n}",
            kind="deadline",
            owner=PROP_OWNER,
            deadline=PROP_FEEDBACK + dt.timedelta(days=offset),
            actor=ADDER,
            measures=[PROP_MEASURES[i] for i in sorted(measure_ids)],
            at=at(PROP_FEEDBACK, 10),
        )
    when = at(PROP_FEEDBACK, 11)
    for index, chosen, gap, actor_index, extra in plan:
        when = when.add(days=gap, hours=1)
        fid = f"F{index % len(specs)}"
        f = ledger.get(fid)
        day = when.date()
        if chosen == "next":
            name, actor, kwargs = _natural(f.state, f, extra)
            if "_checkpoint" in kwargs:
                kwargs["next_checkpoint"] = day + dt.timedelta(days=kwargs.pop("_checkpoint"))
            if "_deadline" in kwargs:
                kwargs["deadline"] = day + dt.timedelta(days=kwargs.pop("_deadline"))
        else:
            name, actor, kwargs = chosen, ACTORS[actor_index], _kwargs(chosen, f, day, extra)
        with contextlib.suppress(RectflowError):  # refused events change nothing
            ledger.fire(fid, name, actor=actor, at=when, **kwargs)
    return ledger


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=finding_specs,
    plan=steps,
    day_offsets=st.lists(st.integers(min_value=-3, max_value=900), min_size=1, max_size=3),
    pack=st.sampled_from(["xuncha", "hazard", "capa"]),
)
def test_agenda_as_of_equals_agenda_of_ledger_replayed_to_that_day(specs, plan, day_offsets, pack):
    """agenda(as_of=D) via replay equals the indexed agenda of a ledger holding only events ≤ D."""
    policy = policy_pack(pack)
    ledger = build_random_ledger(specs, plan, policy)
    for f in ledger.findings():
        event(f"state {f.state}")
    for offset in day_offsets:
        day = PROP_FEEDBACK + dt.timedelta(days=offset)
        replayed = ledger.agenda(as_of=day)  # D < clock: the replay path
        fresh = ledger_replayed_to(ledger, day)
        assert fresh.now() == end_of_day(day, policy.timezone)
        indexed = fresh.agenda(as_of=day)  # D's end == clock: the indexed path
        for item in replayed.items:
            event(f"item {item.kind}")
        assert indexed == replayed
        assert indexed.to_dict() == replayed.to_dict()


# ---------------------------------------------------------------- the seed school


@pytest.fixture(scope="module")
def seed_ledger() -> tuple[Ledger, Clock]:
    clock = Clock(FAR)
    ledger = Ledger.open(clock=clock)
    load_seed(ledger)
    return ledger, clock


def test_seed_agenda_as_of_report_day(seed_ledger):
    """As of the seed report's day (2024-01-22) 1.4.1 is overdue and the report is not yet due."""
    ledger, _ = seed_ledger
    agenda = ledger.agenda(as_of="2024-01-22")
    insp = agenda.inspections[0]
    assert (insp.inspection, insp.report_due, insp.report_overdue) == (
        "R1",
        d("2024-01-23"),
        False,
    )
    overdue = agenda.of_kind("overdue")
    assert [i.finding_id for i in overdue] == ["1.4.1"]
    assert (overdue[0].due, overdue[0].workdays, overdue[0].level) == (
        d("2024-01-15"),
        5,
        "warning",
    )
    assert agenda.provisional == ()


@pytest.mark.parametrize(
    "day", ["2023-12-08", "2024-01-10", "2024-01-22", "2024-02-29", "2024-04-30", "2024-07-15"]
)
def test_seed_indexed_equals_replay(seed_ledger, day):
    """For the seed ledger the indexed agenda of a ledger replayed to D equals the replay as of D."""
    ledger, _ = seed_ledger
    replayed = ledger.agenda(as_of=day)
    fresh = ledger_replayed_to(ledger, d(day))
    assert fresh.agenda(as_of=day) == replayed


def test_seed_indexed_equals_replay_moving_clock():
    """A seed ledger whose clock moves forward gives, at each later day, the replay path's agenda."""
    clock = Clock(at("2024-01-22", 20))
    ledger = Ledger.open(clock=clock)
    load_seed(ledger)
    reference = Ledger.open(clock=lambda: FAR)
    load_seed(reference)
    for day in ("2024-01-22", "2024-02-01", "2024-03-22", "2024-04-22", "2024-08-01", "2025-01-02"):
        clock.now = at(day, 8)
        indexed = ledger.agenda(as_of=day)
        assert indexed == reference.agenda(as_of=day), day
    late = reference.agenda(as_of="2024-04-22")
    assert late.inspections[0].report_overdue is True
    assert len(late.of_kind("look_back_due")) > 0
    assert [i.finding_id for i in late.of_kind("overdue")] == ["1.4.1"]
