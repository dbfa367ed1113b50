"""The agenda in people's calendars (issue 9): ICS export, stable UIDs, CAPA effectiveness checks."""

from __future__ import annotations

import datetime as dt

import icalendar
import pendulum
import pytest

from rectflow import Ledger, Owner, policy_pack
from rectflow._demo import load_seed

TZ = "Asia/Shanghai"
OWNER = Owner(leader="刘副校长", department="德育处", person="黄主任")


def at(day: str, hour: int = 9, tz: str = TZ) -> pendulum.DateTime:
    d = dt.date.fromisoformat(day)
    return pendulum.datetime(d.year, d.month, d.day, hour, tz=tz)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def events(text: str) -> dict[str, icalendar.Event]:
    """The VEVENTs of an iCalendar text by UID (asserting UIDs are unique)."""
    cal = icalendar.Calendar.from_ical(text)
    found = list(cal.walk("VEVENT"))
    by_uid = {str(e["uid"]): e for e in found}
    assert len(by_uid) == len(found), "duplicate UIDs"
    return by_uid


def ledger_with(policy_name: str = "xuncha") -> tuple[Ledger, Clock]:
    policy = policy_pack(policy_name)
    clock = Clock(at("2024-03-04", 18, policy.timezone))
    ledger = Ledger.open(policy=policy, clock=clock)
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-03-01", at=at("2024-03-01"))
    return ledger, clock


def add(ledger: Ledger, fid: str, deadline: str) -> None:
    ledger.add_finding(
        fid,
        inspection="R1",
        title=f"问题{fid}",
        kind="deadline",
        owner=OWNER,
        deadline=deadline,
        actor="巡察办",
        at=at("2024-03-04"),
    )


def test_seed_agenda_parses_back_with_one_all_day_event_per_date():
    """Every item, upcoming date and report due day is one all-day event, owner described."""
    ledger = Ledger.open(clock=lambda: at("2026-06-01"))
    load_seed(ledger)
    agenda = ledger.agenda(as_of="2024-03-01", upcoming=1000)
    text = agenda.to_ics()
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["version"]) == "2.0"
    assert str(cal["x-wr-timezone"]) == TZ
    found = events(text)
    expected = len(agenda.items) + len(agenda.upcoming) + len(agenda.inspections)
    assert len(found) == expected
    for event in found.values():
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert type(start) is dt.date  # all-day: a DATE, not a time
        assert end == start + dt.timedelta(days=1)
        assert event.decoded("dtstamp").tzinfo is not None
        assert str(event["uid"]).endswith("@rectflow")
    overdue = found["deadline/R1/1.4.1@rectflow"]
    assert overdue.decoded("dtstart") == dt.date(2024, 1, 15)
    assert "责任人: 总务处 总务处 郭主任" in str(overdue["description"])
    assert "1.4.1 体育设施存在安全隐患" in str(overdue["summary"])
    report = found["report/R1@rectflow"]
    assert report.decoded("dtstart") == dt.date(2024, 1, 23)
    kinds = {str(e["categories"].cats[0]) for e in found.values()}
    assert {"deadline", "look-back", "report"} <= kinds


def test_ics_in_english():
    """to_ics('en') writes English summaries and descriptions."""
    ledger, _ = ledger_with()
    add(ledger, "F1", "2024-03-15")
    text = ledger.agenda(as_of="2024-03-04").to_ics("en")
    found = events(text)
    event = found["deadline/R1/F1@rectflow"]
    assert str(event["summary"]) == "Deadline: F1 问题F1 (due soon)"
    assert "Owner: 德育处 黄主任" in str(event["description"])


def test_second_export_after_an_event_keeps_uids_and_moves_dates():
    """After an extension the deadline keeps its UID and moves; nothing is duplicated."""
    ledger, clock = ledger_with()
    add(ledger, "F1", "2024-03-15")
    add(ledger, "F2", "2024-06-28")
    first = events(ledger.agenda(upcoming=10).to_ics())
    clock.now = at("2024-03-08", 18)
    ledger.fire(
        "F1",
        "extend",
        actor="陈主任",
        at=at("2024-03-08"),
        requested_by="黄主任",
        until="2024-04-30",
        reason="资金未到位",
    )
    second = events(ledger.agenda(upcoming=10).to_ics())
    assert set(first) == set(second)
    uid = "deadline/R1/F1@rectflow"
    assert first[uid].decoded("dtstart") == dt.date(2024, 3, 15)
    assert second[uid].decoded("dtstart") == dt.date(2024, 4, 30)
    assert "即将到期" in str(first[uid]["summary"])  # due soon, then later: the same event
    assert second[uid].decoded("dtstamp") > first[uid].decoded("dtstamp")


def test_uid_domain_separates_ledgers():
    """domain= names the ledger in every UID, so two ledgers can share one calendar."""
    ledger, _ = ledger_with()
    add(ledger, "F1", "2024-03-15")
    found = events(ledger.agenda().to_ics(domain="school-a.example"))
    assert set(found) == {"report/R1@school-a.example", "deadline/R1/F1@school-a.example"}


def test_uids_quote_separators_in_ids():
    """Ids holding the UID separator are quoted, so distinct findings never share a UID."""
    ledger, _ = ledger_with()
    add(ledger, "A/B", "2024-03-15")
    assert "deadline/R1/A%2FB@rectflow" in events(ledger.agenda().to_ics())


# ---------------------------------------------------------------- CAPA effectiveness checks


def completed_capa() -> tuple[Ledger, Clock]:
    ledger, clock = ledger_with("capa")
    add(ledger, "C1", "2024-03-29")
    ledger.fire("C1", "start", actor="黄主任", at=at("2024-03-04", 10))
    clock.now = at("2024-03-11", 18, "UTC")
    ledger.fire("C1", "submit", actor="黄主任", at=at("2024-03-08"), evidence=["a.pdf"])
    ledger.fire("C1", "sign_off", actor="陈主任", at=at("2024-03-11"))
    return ledger, clock


def test_capa_effectiveness_checks_are_upcoming_after_sign_off():
    """Signed off on 2024-03-11: checks at 30, 60 and 90 days are upcoming dates."""
    ledger, _ = completed_capa()
    agenda = ledger.agenda(as_of="2024-03-11", upcoming=10)
    checks = [(i.due, i.check) for i in agenda.upcoming if i.kind == "next_effectiveness"]
    assert checks == [
        (dt.date(2024, 4, 10), "30 days"),
        (dt.date(2024, 5, 10), "60 days"),
        (dt.date(2024, 6, 10), "90 days"),  # day 90 is Sunday 06-09: the next working day
    ]


@pytest.mark.parametrize("path", ["indexed", "replay"])
def test_capa_effectiveness_check_falls_due_and_a_recheck_records_it(path):
    """On day 30 the first check is due (both paths); a recheck records it, the next is due later."""
    ledger, clock = completed_capa()
    clock.now = at("2024-04-10", 1, "UTC") if path == "indexed" else at("2024-12-31", 1, "UTC")
    agenda = ledger.agenda(as_of="2024-04-10")
    due = agenda.of_kind("effectiveness_due")
    assert [(i.finding_id, i.due, i.check, i.level) for i in due] == [
        ("C1", dt.date(2024, 4, 10), "30 days", "reminder")
    ]
    assert "有效性验证到期" in agenda.to_text()
    clock.now = at("2024-04-12", 18, "UTC")
    ledger.fire("C1", "recheck", actor="质量部 王工", at=at("2024-04-12"), evidence=["c.pdf"])
    later = ledger.agenda(as_of="2024-04-12", upcoming=10)
    assert later.of_kind("effectiveness_due") == ()
    assert [i.check for i in later.upcoming if i.kind == "next_effectiveness"] == [
        "60 days",
        "90 days",
    ]


def test_capa_effectiveness_checks_in_the_calendar():
    """The effectiveness checks are all-day events with stable UIDs, one per check."""
    ledger, _ = completed_capa()
    text = ledger.agenda(as_of="2024-03-11", upcoming=10).to_ics()
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["x-wr-timezone"]) == "UTC"
    found = events(text)
    for days, day in (("30days", "2024-04-10"), ("60days", "2024-05-10"), ("90days", "2024-06-10")):
        event = found[f"effectiveness/R1/C1/{days}@rectflow"]
        assert event.decoded("dtstart") == dt.date.fromisoformat(day)
        assert "有效性验证" in str(event["summary"])


def test_xuncha_has_no_effectiveness_checks():
    """Policies without effectiveness checks list none."""
    ledger, clock = ledger_with()
    add(ledger, "F1", "2024-03-29")
    ledger.fire("F1", "start", actor="黄主任", at=at("2024-03-04", 10))
    clock.now = at("2024-03-12", 18)
    ledger.fire("F1", "submit", actor="黄主任", at=at("2024-03-08"), evidence=["a.pdf"])
    ledger.fire("F1", "sign_off", actor="陈主任", at=at("2024-03-11"))
    agenda = ledger.agenda(as_of="2024-12-31", upcoming=10)
    assert agenda.of_kind("effectiveness_due") == ()
    assert not [i for i in agenda.upcoming if i.kind == "next_effectiveness"]


def test_a_submitted_report_keeps_its_uid_and_says_so():
    """After submit_report the report's calendar event keeps its UID and reads as submitted."""
    ledger, clock = ledger_with()
    uid = "report/R1@rectflow"
    before = events(ledger.agenda().to_ics())
    assert "整改报告报送时限" in str(before[uid]["summary"])
    clock.now = at("2024-04-20", 18)
    ledger.submit_report("R1", actor="王书记", evidence=["报告.pdf"], at=at("2024-04-20"))
    after = events(ledger.agenda().to_ics())
    assert set(before) == set(after)
    assert "整改报告已报送" in str(after[uid]["summary"])
    assert "2024-04-20" in str(after[uid]["description"])
    assert after[uid].decoded("dtstart") == before[uid].decoded("dtstart")
