"""The Ledger: input checking, errors, the clock, concurrency, batches, reports, spot checks, the seed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pendulum
import pytest

from rectflow import (
    DONE_STATES,
    STATES,
    ConcurrencyConflict,
    DuplicateId,
    Event,
    FindingNotFound,
    InspectionNotFound,
    InvalidInput,
    Ledger,
    Measure,
    MemoryStore,
    Owner,
    Policy,
    PolicyError,
    RectflowError,
    RuleViolation,
    policy_pack,
)
from rectflow._demo import Seed, load_seed
from rectflow._time import parse_time

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2026, 1, 1, tz=TZ)
PERSON = "王老师"
ADDER = "巡察办"
SIGNER = "陈主任"
CHECKER = "李主任"
OWNER = Owner(leader="张校长", department="德育处", person=PERSON)
CJK = re.compile(r"[\u4e00-\u9fff]")

REPORT_KEYS = {
    "as_of",
    "declared",
    "total",
    "itemized",
    "not_itemized",
    "by_state",
    "completed",
    "staged",
    "overdue",
    "completion_rate",
    "by_aspect",
}


def at(day: str, hour: int = 9, minute: int = 0) -> str:
    """An aware ISO time on *day* in Beijing time."""
    return f"{day}T{hour:02d}:{minute:02d}:00+08:00"


class Clock:
    """A settable ledger clock."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_ledger(
    *,
    clock: Callable[[], dt.datetime] | None = None,
    lang: str = "zh",
    owner: Owner = OWNER,
    policy: Policy | None = None,
) -> Ledger:
    """A memory ledger (Mon–Fri calendar, clock 2026-01-01) with inspection R1 and finding F1."""
    ledger = Ledger.open(
        ":memory:",
        policy=policy or Policy(calendar="weekdays"),
        clock=clock or (lambda: NOW),
        lang=lang,
    )
    ledger.add_inspection(
        "R1", title="县委巡察", feedback_at="2023-11-23", declared_findings=28, at=at("2023-11-23")
    )
    add(ledger, "F1", owner=owner)
    return ledger


def add(ledger: Ledger, finding_id: str, **overrides: Any) -> None:
    """Add a finding to R1 with sensible defaults."""
    kwargs: dict[str, Any] = {
        "inspection": "R1",
        "aspect": "第一方面",
        "category": "(一)",
        "title": "资产借用未登记",
        "kind": "deadline",
        "owner": OWNER,
        "deadline": "2024-01-31",
        "actor": ADDER,
        "at": at("2023-11-30"),
    }
    kwargs.update(overrides)
    ledger.add_finding(finding_id, **kwargs)


START = ("start", {"actor": PERSON, "at": at("2023-12-01")})
SUBMIT = ("submit", {"actor": PERSON, "at": at("2024-01-10"), "evidence": ["完成.pdf"]})
SIGN_OFF = ("sign_off", {"actor": SIGNER, "at": at("2024-01-15", 11)})
RECHECK = ("recheck", {"actor": CHECKER, "at": at("2024-04-16"), "evidence": ["回头看.pdf"]})
STAGE = (
    "stage",
    {
        "actor": PERSON,
        "at": at("2023-12-15"),
        "note": "已取得阶段性成效",
        "evidence": ["进展.pdf"],
        "next_checkpoint": "2024-03-01",
    },
)
TO: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "assigned": (),
    "in_progress": (START,),
    "staged_result": (START, STAGE),
    "pending_signoff": (START, SUBMIT),
    "completed": (START, SUBMIT, SIGN_OFF),
    "rechecked": (START, SUBMIT, SIGN_OFF, RECHECK),
}


def bring(ledger: Ledger, finding_id: str, state: str) -> None:
    """Fire the events that take a new finding to *state*."""
    for name, kwargs in TO[state]:
        ledger.fire(finding_id, name, **kwargs)


def snapshot(ledger: Ledger) -> tuple[Any, ...]:
    """Everything an error must leave untouched."""
    findings = list(ledger.findings())
    return (
        findings,
        {f.id: ledger.history(f.id) for f in findings},
        ledger.head(),
        ledger.inspections(),
    )


@contextmanager
def refused(ledger: Ledger, error: type[Exception]) -> Iterator[pytest.ExceptionInfo[Any]]:
    """Expect *error* from the block and assert that the ledger did not change."""
    before = snapshot(ledger)
    with pytest.raises(error) as info:
        yield info
    assert snapshot(ledger) == before


@pytest.fixture
def ledger() -> Ledger:
    """The small ledger of make_ledger()."""
    return make_ledger()


@pytest.fixture(scope="module")
def demo() -> tuple[Ledger, Seed]:
    """The seed school's ledger (built once per module; tests only read it)."""
    ledger = Ledger.open(":memory:")
    return ledger, load_seed(ledger)


# ---------------------------------------------------------------- invalid input


@pytest.mark.parametrize(
    "when", ["2024-03-01 10:00", "2024-03-01T10:00:00", "2023-12-01", "2023-12-01T09:00"]
)
def test_naive_time_strings_are_invalid(ledger, when):
    """A time string without offset is InvalidInput (a ValueError), never assumed UTC."""
    with refused(ledger, InvalidInput) as info:
        ledger.fire("F1", "start", actor=PERSON, at=when)
    assert isinstance(info.value, ValueError)
    assert info.value.field == "at"


def test_naive_datetime_is_invalid(ledger):
    """A naive datetime object is InvalidInput."""
    with refused(ledger, InvalidInput) as info:
        ledger.fire("F1", "start", actor=PERSON, at=dt.datetime(2023, 12, 1, 9))
    assert info.value.field == "at"


def test_naive_time_when_adding_is_invalid(ledger):
    """add_finding and add_inspection refuse naive times too."""
    with refused(ledger, InvalidInput):
        add(ledger, "F2", at="2023-11-30 09:00")
    with refused(ledger, InvalidInput):
        ledger.add_inspection("R2", title="t", feedback_at="2023-11-23", at=dt.datetime(2024, 1, 1))


def test_aware_datetime_objects_are_accepted(ledger):
    """An aware datetime in another zone is accepted and kept as that instant."""
    when = dt.datetime(2023, 12, 1, 1, tzinfo=dt.timezone.utc)
    ledger.fire("F1", "start", actor=PERSON, at=when)
    assert ledger.history("F1")[-1].at == pendulum.datetime(2023, 12, 1, 9, tz=TZ)


def test_impossible_time_is_invalid(ledger):
    """A time on 30 February is InvalidInput."""
    with refused(ledger, InvalidInput):
        ledger.fire("F1", "start", actor=PERSON, at="2024-02-30T10:00:00+08:00")


def test_impossible_deadline_is_invalid(ledger):
    """A deadline of 2024-02-30 is InvalidInput naming the deadline; nothing is added."""
    with refused(ledger, InvalidInput) as info:
        add(ledger, "F2", deadline="2024-02-30")
    assert info.value.field == "deadline"
    assert "F2" not in ledger


def test_impossible_event_date_argument_is_invalid(ledger):
    """A next_checkpoint of 2024-02-30 is InvalidInput naming next_checkpoint."""
    bring(ledger, "F1", "in_progress")
    kwargs = {**STAGE[1], "next_checkpoint": "2024-02-30"}
    with refused(ledger, InvalidInput) as info:
        ledger.fire("F1", "stage", **kwargs)
    assert info.value.field == "next_checkpoint"


def test_impossible_feedback_day_is_invalid(ledger):
    """An inspection with feedback on 2023-02-29 is InvalidInput."""
    with refused(ledger, InvalidInput) as info:
        ledger.add_inspection("R2", title="t", feedback_at="2023-02-29")
    assert info.value.field == "feedback_at"


@pytest.mark.parametrize("event", ["finish", "Start", "add", "to_completed", ""])
def test_unknown_event_is_invalid(ledger, event):
    """An event name the workflow does not have is InvalidInput naming 'event'."""
    with refused(ledger, InvalidInput) as info:
        ledger.fire("F1", event, actor=PERSON, at=at("2023-12-01"))
    assert info.value.field == "event"
    assert isinstance(info.value, ValueError)


def test_unknown_state_is_invalid(ledger):
    """findings(state=…) with an unknown state is InvalidInput; a known one filters."""
    with pytest.raises(InvalidInput):
        ledger.findings(state="done")
    add(ledger, "F2")
    bring(ledger, "F2", "in_progress")
    assert [f.id for f in ledger.findings(state="assigned")] == ["F1"]
    assert [f.id for f in ledger.findings("R1", state="in_progress")] == ["F2"]
    assert list(ledger.findings(state="completed")) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "urgent"},
        {"measures": [Measure("m1", "t", kind="sometimes")]},
        {"measures": [Measure("m1", "t", kind="recurring", cadence="hourly")]},
        {"measures": [Measure("m1", "t"), Measure("m1", "u")]},
        {"owner": {"leader": "a", "department": "b", "person": "c"}},
        {"deadline": "soon"},
        {"title": " "},
    ],
    ids=["kind", "measure-kind", "cadence", "duplicate-measure", "owner", "deadline", "title"],
)
def test_bad_definition_is_invalid(ledger, overrides):
    """Unknown kinds, cadences, duplicate measures, a non-Owner, an unreadable deadline: InvalidInput."""
    with refused(ledger, InvalidInput):
        add(ledger, "F2", **overrides)
    assert "F2" not in ledger


@pytest.mark.parametrize("actor", ["", "   ", None])
def test_empty_actor_is_invalid(ledger, actor):
    """An event needs a non-empty actor: empty, blank or None is InvalidInput."""
    with refused(ledger, InvalidInput) as info:
        ledger.fire("F1", "start", actor=actor, at=at("2023-12-01"))
    assert info.value.field == "actor"
    with refused(ledger, InvalidInput):
        add(ledger, "F2", actor=actor)


def test_unknown_language_is_invalid():
    """Only zh and en are languages of a ledger."""
    with pytest.raises(InvalidInput):
        Ledger.open(":memory:", lang="fr")


def test_relative_deadline_counts_from_feedback(ledger):
    """'2 months' and '10个工作日' are counted from the feedback day through the calendar."""
    add(ledger, "F2", deadline="2 months")
    add(ledger, "F3", deadline="10个工作日")
    assert ledger.get("F2").deadline == dt.date(2024, 1, 23)
    assert ledger.get("F3").deadline == dt.date(2023, 12, 7)


# ---------------------------------------------------------------- not found, duplicates


def test_finding_not_found(ledger):
    """An unknown finding id is FindingNotFound, which is also a KeyError."""
    for call in (
        lambda: ledger.get("X9"),
        lambda: ledger.history("X9"),
        lambda: ledger.fire("X9", "start", actor=PERSON, at=at("2023-12-01")),
    ):
        with refused(ledger, FindingNotFound) as info:
            call()
        assert isinstance(info.value, KeyError)
        assert info.value.finding_id == "X9"
        assert "X9" in str(info.value)
    assert "X9" not in ledger
    assert "F1" in ledger


def test_inspection_not_found(ledger):
    """An unknown inspection id is InspectionNotFound (a KeyError) wherever it is used."""
    for call in (
        lambda: ledger.inspection("R9"),
        lambda: add(ledger, "F2", inspection="R9"),
        lambda: ledger.report("R9"),
        lambda: ledger.draw_spot_checks("R9", seed=1),
    ):
        with refused(ledger, InspectionNotFound) as info:
            call()
        assert isinstance(info.value, KeyError)
        assert info.value.inspection_id == "R9"


def test_duplicate_finding_id(ledger):
    """Adding a finding id twice is DuplicateId (a ValueError); the first stays as it was."""
    with refused(ledger, DuplicateId) as info:
        add(ledger, "F1", title="another")
    assert isinstance(info.value, ValueError)
    assert info.value.id == "F1"
    assert ledger.get("F1").title == "资产借用未登记"


def test_duplicate_inspection_id(ledger):
    """Adding an inspection id twice is DuplicateId; the first stays as it was."""
    with refused(ledger, DuplicateId) as info:
        ledger.add_inspection("R1", title="another", feedback_at="2024-01-01")
    assert info.value.id == "R1"
    assert ledger.inspection("R1").title == "县委巡察"


# ---------------------------------------------------------------- the clock


def test_at_defaults_to_the_injected_clock():
    """Without at, additions and events take the ledger clock's time, read at each call."""
    clock = Clock(pendulum.datetime(2023, 11, 30, 9, tz=TZ))
    ledger = make_ledger(clock=clock)
    add(ledger, "F2", at=None)
    assert ledger.get("F2").created_at == clock.now
    clock.now = pendulum.datetime(2023, 12, 1, 10, 30, tz=TZ)
    ledger.fire("F2", "start", actor=PERSON)
    assert ledger.history("F2")[-1].at == clock.now
    assert ledger.get("F2").updated_at == clock.now
    assert ledger.now() == clock.now


def test_events_after_the_clock_are_refused():
    """An event later than the clock is not_in_future; once the clock passes it, it is accepted."""
    clock = Clock(pendulum.datetime(2023, 12, 1, 9, tz=TZ))
    ledger = make_ledger(clock=clock)
    later = "2023-12-01T09:00:01+08:00"
    with refused(ledger, RuleViolation) as info:
        ledger.fire("F1", "start", actor=PERSON, at=later)
    assert info.value.rule == "not_in_future"
    clock.now = pendulum.datetime(2023, 12, 1, 9, 0, 1, tz=TZ)
    assert ledger.fire("F1", "start", actor=PERSON, at=later).state == "in_progress"


def test_clock_must_be_aware():
    """A clock returning naive datetimes is InvalidInput when its time is needed."""
    ledger = Ledger.open(":memory:", clock=lambda: dt.datetime(2026, 1, 1))
    with pytest.raises(InvalidInput):
        ledger.now()
    with pytest.raises(InvalidInput):
        ledger.add_inspection("R1", title="t", feedback_at="2023-11-23")
    assert ledger.inspections() == []


# ---------------------------------------------------------------- concurrency


def test_expected_version_mismatch_is_a_conflict(ledger):
    """A stale expected_version raises ConcurrencyConflict and writes nothing."""
    seen = ledger.get("F1")
    ledger.fire("F1", "start", actor=PERSON, at=at("2023-12-01"))
    with refused(ledger, ConcurrencyConflict) as info:
        ledger.fire(
            "F1",
            "cancel",
            actor=ADDER,
            at=at("2023-12-02"),
            reason="重复",
            expected_version=seen.version,
        )
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert info.value.finding_id == "F1"


def test_expected_version_match_is_written(ledger):
    """The current version as expected_version lets the event through."""
    version = ledger.get("F1").version
    after = ledger.fire("F1", "start", actor=PERSON, at=at("2023-12-01"), expected_version=version)
    assert after.version == version + 1


def test_a_real_race_is_a_conflict_not_last_writer_wins():
    """Two writers on one store: the one that read first and writes second gets a conflict."""
    store = MemoryStore()
    policy = Policy(calendar="weekdays")
    first = Ledger(store, policy=policy, clock=lambda: NOW)
    second = Ledger(store, policy=policy, clock=lambda: NOW)
    first.add_inspection("R1", title="t", feedback_at="2023-11-23", at=at("2023-11-23"))
    add(first, "F1")

    def other_writer_moves_first() -> None:
        first._writer.before_write = None
        second.fire("F1", "start", actor=PERSON, at=at("2023-12-01"))

    first._writer.before_write = other_writer_moves_first
    with pytest.raises(ConcurrencyConflict) as info:
        first.fire("F1", "cancel", actor=ADDER, at=at("2023-12-02"), reason="重复")
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert first.get("F1").state == "in_progress"
    assert [e.name for e in first.history("F1")] == ["add", "start"]
    assert first.verify().ok


# ---------------------------------------------------------------- batches


def failing_batch(ledger: Ledger, error: Exception | None = None) -> None:
    """Several valid changes, then an error (a refused event unless *error* is given)."""
    with ledger.batch():
        ledger.add_inspection("R2", title="t", feedback_at="2023-11-23", at=at("2023-11-24"))
        bring(ledger, "F1", "pending_signoff")
        add(ledger, "F2")
        ledger.fire("F2", "start", actor=PERSON, at=at("2023-12-01"))
        if error is not None:
            raise error
        ledger.fire("F1", "sign_off", actor=PERSON, at=at("2024-01-15"))  # the submitter


def test_batch_rolls_back_every_change_on_a_rule_violation(ledger):
    """A refused event inside batch() undoes every change of the batch; head unchanged."""
    with refused(ledger, RuleViolation) as info:
        failing_batch(ledger)
    assert info.value.rule == "signer_not_submitter"
    assert ledger.get("F1").state == "assigned"
    assert len(ledger.history("F1")) == 1
    assert "F2" not in ledger
    assert [i.id for i in ledger.inspections()] == ["R1"]
    assert ledger.verify().ok


def test_batch_rolls_back_on_any_exception(ledger):
    """Any exception leaving the batch, not only rectflow's, rolls it back."""
    with refused(ledger, RuntimeError):
        failing_batch(ledger, RuntimeError("boom"))
    assert "F2" not in ledger


def test_batch_commits_when_nothing_fails(ledger):
    """A batch without error keeps every change."""
    head = ledger.head()
    with ledger.batch():
        bring(ledger, "F1", "completed")
        add(ledger, "F2")
    assert ledger.get("F1").state == "completed"
    assert "F2" in ledger
    assert ledger.head().count == head.count + 4
    assert ledger.verify().ok


def test_ledger_usable_after_a_rolled_back_batch(ledger):
    """After a rollback the same changes can be made again and the chain verifies."""
    with pytest.raises(RuleViolation):
        failing_batch(ledger)
    bring(ledger, "F1", "completed")
    assert ledger.get("F1").state == "completed"
    assert ledger.verify().ok


# ---------------------------------------------------------------- history, replay, verify


def test_history_is_a_tuple_oldest_first(ledger):
    """history() is a tuple of Events in order, versions 1..n, the last version the record's."""
    bring(ledger, "F1", "rechecked")
    history = ledger.history("F1")
    assert isinstance(history, tuple)
    assert all(isinstance(e, Event) for e in history)
    assert [e.name for e in history] == ["add", "start", "submit", "sign_off", "recheck"]
    assert [e.version for e in history] == [1, 2, 3, 4, 5]
    assert history[-1].version == ledger.get("F1").version
    assert [e.at for e in history] == sorted(e.at for e in history)


@pytest.mark.parametrize("state", sorted(TO))
def test_history_replays_to_the_record(ledger, state):
    """Replaying a finding's history gives exactly its current record."""
    bring(ledger, "F1", state)
    assert ledger.workflow.replay(ledger.history("F1")) == ledger.get("F1")


def test_verify_ok_with_its_own_head_as_anchor(ledger):
    """verify() is truthy and accepts the head it reported as an anchor."""
    bring(ledger, "F1", "completed")
    head = ledger.head()
    result = ledger.verify(head)
    assert result
    assert result.count == head.count
    assert result.head == head


# ---------------------------------------------------------------- reports


def test_report_as_of_a_past_day_shows_what_was_true_then(ledger):
    """Before the sign-off day the report says pending; from that day, completed."""
    bring(ledger, "F1", "completed")  # signed off 2024-01-15 11:00
    before = ledger.report("R1", as_of="2024-01-14").to_dict()
    on = ledger.report("R1", as_of="2024-01-15").to_dict()
    assert before["by_state"]["pending_signoff"] == 1
    assert before["by_state"]["completed"] == 0
    assert before["completed"] == 0
    assert on["by_state"]["completed"] == 1
    assert on["completed"] == 1
    assert ledger.get("F1").state == "completed"  # reporting changes nothing


def test_report_as_of_an_instant(ledger):
    """An aware as_of time counts events up to that instant."""
    bring(ledger, "F1", "completed")
    assert ledger.report("R1", as_of=at("2024-01-15", 10)).to_dict()["completed"] == 0
    assert ledger.report("R1", as_of="2024-01-15T03:00:00Z").to_dict()["completed"] == 1


def test_report_before_a_finding_was_added_leaves_it_out(ledger):
    """A finding added after as_of is not in the report."""
    data = ledger.report("R1", as_of="2023-11-29").to_dict()
    assert data["total"] == 0
    assert sum(data["by_state"].values()) == 0


def test_as_of_returns_the_findings_then(ledger):
    """Ledger.as_of replays the findings to a past day."""
    bring(ledger, "F1", "rechecked")
    assert [f.state for f in ledger.as_of("2023-11-30")] == ["assigned"]
    assert [f.state for f in ledger.as_of("2024-01-10")] == ["pending_signoff"]
    assert [f.state for f in ledger.as_of("2024-04-15")] == ["completed"]
    assert [f.state for f in ledger.as_of("2024-04-16")] == ["rechecked"]


def test_report_keys_and_every_state(ledger):
    """to_dict() has the documented keys and by_state lists every state."""
    data = ledger.report("R1", as_of="2024-01-01").to_dict()
    assert set(data) >= REPORT_KEYS
    assert set(data["by_state"]) == set(STATES)
    assert data["as_of"] == "2024-01-01"
    assert data["declared"] == 28
    assert data["total"] == 1


def test_report_counts(ledger):
    """completed counts completed and rechecked; staged, overdue and the rate follow the states."""
    for fid in ("F2", "F3", "F4"):
        add(ledger, fid)
    bring(ledger, "F1", "completed")
    bring(ledger, "F2", "rechecked")
    bring(ledger, "F3", "staged_result")
    ledger.fire("F4", "cancel", actor=ADDER, at=at("2023-12-01"), reason="重复")
    data = ledger.report("R1", as_of="2024-05-01").to_dict()
    assert data["by_state"]["completed"] == 1
    assert data["by_state"]["rechecked"] == 1
    assert data["by_state"]["cancelled"] == 1
    assert data["completed"] == 2
    assert data["staged"] == 1
    assert data["total"] == 3  # a cancelled finding is not counted
    assert data["overdue"] == 1  # F3: still open after 2024-01-31
    assert data["completion_rate"] == round(2 / 3, 4)
    assert sum(data["by_state"].values()) == 4


def test_on_time_figures_use_the_original_deadline(ledger):
    """A sign-off after the original deadline is late even when an extension covered it."""
    ledger.fire("F1", "start", actor=PERSON, at=at("2023-12-01"))
    ledger.fire(
        "F1",
        "extend",
        actor=SIGNER,
        at=at("2024-01-20"),
        requested_by=PERSON,
        until="2024-02-29",
        reason="等待经费",
    )
    ledger.fire("F1", "submit", actor=PERSON, at=at("2024-02-10"), evidence=["完成.pdf"])
    ledger.fire("F1", "sign_off", actor=SIGNER, at=at("2024-02-15"))
    data = ledger.report("R1", as_of="2024-03-01").to_dict()
    assert data["completed"] == 1
    assert data["late_completions"] == ["F1"]
    assert data["on_time"] == 0
    assert data["overdue"] == 0


def test_overdue_starts_the_day_after_the_deadline(ledger):
    """An open finding is overdue only once as_of is past its deadline day."""
    assert ledger.report("R1", as_of="2024-01-31").to_dict()["overdue"] == 0
    assert ledger.report("R1", as_of="2024-02-01").to_dict()["overdue"] == 1


def test_report_counts_not_itemized_findings(ledger):
    """A declared but not itemized finding counts in total, not in itemized or by_aspect."""
    add(ledger, "F2", itemized=False, aspect="")
    data = ledger.report("R1", as_of="2024-01-01").to_dict()
    assert (data["total"], data["itemized"], data["not_itemized"]) == (2, 1, 1)
    assert [a["aspect"] for a in data["by_aspect"]] == ["第一方面"]
    assert data["by_aspect"][0]["total"] == 1


def test_report_defaults_to_the_clock(ledger):
    """Without as_of the report speaks as of the clock's day."""
    assert ledger.report("R1").to_dict()["as_of"] == "2026-01-01"


def test_report_refuses_a_naive_as_of(ledger):
    """A naive as_of is InvalidInput."""
    with pytest.raises(InvalidInput):
        ledger.report("R1", as_of="2024-01-15 10:00")


# ---------------------------------------------------------------- languages


def error_producers(ledger: Ledger) -> dict[str, Callable[[], object]]:
    """Calls that each raise a different error on make_ledger(owner with ASCII names)."""
    return {
        "finding_not_found": lambda: ledger.get("X9"),
        "inspection_not_found": lambda: ledger.inspection("R9"),
        "transition": lambda: ledger.fire("F1", "sign_off", actor="Chen", at=at("2023-12-01")),
        "rule": lambda: ledger.fire("F1", "cancel", actor="Chen", at=at("2023-12-01")),
        "naive_time": lambda: ledger.fire("F1", "start", actor="Wang", at="2023-12-01 09:00"),
        "unknown_event": lambda: ledger.fire("F1", "finish", actor="Wang", at=at("2023-12-01")),
        "unknown_state": lambda: ledger.findings(state="done"),
        "empty_actor": lambda: ledger.fire("F1", "start", actor=" ", at=at("2023-12-01")),
        "duplicate_finding": lambda: add(ledger, "F1", actor="office"),
        "conflict": lambda: ledger.fire(
            "F1", "start", actor="Wang", at=at("2023-12-01"), expected_version=7
        ),
    }


ASCII_OWNER = Owner(leader="Zhang", department="office", person="Wang")
PRODUCERS = sorted(error_producers(Ledger.open(":memory:")))


def raised(ledger: Ledger, name: str) -> RectflowError:
    """The error the producer *name* raises on *ledger*."""
    with pytest.raises(RectflowError) as info:
        error_producers(ledger)[name]()
    return info.value


@pytest.mark.parametrize("name", PRODUCERS)
def test_errors_follow_the_ledger_language(name):
    """Errors are in Chinese by default and in English with lang='en' (same type both ways)."""
    zh = raised(make_ledger(owner=ASCII_OWNER), name)
    en = raised(make_ledger(owner=ASCII_OWNER, lang="en"), name)
    assert type(zh) is type(en)
    assert CJK.search(str(zh)), str(zh)
    assert not CJK.search(str(en)), str(en)
    assert str(en).strip()


def test_duplicate_inspection_error_is_english_with_lang_en():
    """A duplicate inspection id on an English ledger is reported in English."""
    ledger = make_ledger(owner=ASCII_OWNER, lang="en")
    with pytest.raises(DuplicateId) as info:
        ledger.add_inspection("R1", title="again", feedback_at="2023-11-23")
    assert not CJK.search(str(info.value)), str(info.value)


def test_report_markdown_in_both_languages(ledger):
    """to_markdown() is Chinese by default and English with lang='en'."""
    bring(ledger, "F1", "completed")
    report = ledger.report("R1", as_of="2024-02-01")
    zh = report.to_markdown()
    en = report.to_markdown(lang="en")
    assert "整改进展情况报告" in zh
    assert "已完成整改1项" in zh
    assert "rectification progress report" in en
    assert not CJK.search(en.replace("县委巡察", "").replace("第一方面", "").replace("(一)", ""))


def test_report_language_follows_the_ledger():
    """An English ledger renders its report in English by default."""
    ledger = make_ledger(lang="en")
    assert "progress report" in ledger.report("R1", as_of="2024-01-01").to_markdown()


# ---------------------------------------------------------------- spot checks


def test_draw_only_completed_and_rechecked(ledger):
    """The population of a draw is the completed and rechecked findings as of the day."""
    for fid, state in [("F2", "rechecked"), ("F3", "pending_signoff"), ("F4", "staged_result")]:
        add(ledger, fid)
        bring(ledger, fid, state)
    bring(ledger, "F1", "completed")
    draw = ledger.draw_spot_checks("R1", k=10, seed=5, as_of="2024-05-01")
    assert draw.population == ("F1", "F2")
    assert sorted(draw.findings) == ["F1", "F2"]
    early = ledger.draw_spot_checks("R1", k=10, seed=5, as_of="2024-01-14")
    assert early.population == ()
    assert early.findings == ()


def test_draw_is_reproducible_with_its_seed(demo):
    """The same seed, k and day draw the same findings, in the same order."""
    ledger, seed = demo
    first = ledger.draw_spot_checks(seed.inspection, k=5, seed=1234, as_of=seed.report_as_of)
    again = ledger.draw_spot_checks(seed.inspection, k=5, seed=1234, as_of=seed.report_as_of)
    assert first == again
    assert len(first.findings) == 5
    assert len(set(first.findings)) == 5
    done = {f.id for f in ledger.as_of(seed.report_as_of) if f.state in DONE_STATES}
    assert set(first.population) == done
    assert len(done) == 18
    assert set(first.findings) <= done


def test_draw_without_seed_returns_a_seed_that_reproduces_it(demo):
    """A draw with a fresh seed can be redone from the seed it reports."""
    ledger, seed = demo
    draw = ledger.draw_spot_checks(seed.inspection, as_of=seed.report_as_of)
    assert isinstance(draw.seed, int)
    assert draw.k == ledger.policy.spot_check_sample
    redo = ledger.draw_spot_checks(draw.inspection, k=draw.k, seed=draw.seed, as_of=draw.as_of)
    assert redo.findings == draw.findings


def test_spot_check_event_records_the_draw_seed(ledger):
    """Firing spot_check with the draw's seed stores the seed in the event's payload."""
    bring(ledger, "F1", "completed")
    draw = ledger.draw_spot_checks("R1", k=1, seed=987654321, as_of="2024-05-01")
    assert draw.findings == ("F1",)
    ledger.fire("F1", "spot_check", actor=CHECKER, at=at("2024-05-06"), seed=draw.seed)
    last = ledger.history("F1")[-1]
    assert last.name == "spot_check"
    assert last.payload["seed"] == 987654321
    assert ledger.get("F1").spot_checks == 1


def test_spot_check_refuses_a_non_integer_seed(ledger):
    """A seed that is neither int nor text (e.g. a float, a bool) is InvalidInput."""
    bring(ledger, "F1", "completed")
    for bad in (1.5, True):
        with refused(ledger, InvalidInput):
            ledger.fire("F1", "spot_check", actor=CHECKER, at=at("2024-05-06"), seed=bad)


def test_draw_refuses_a_negative_sample(ledger):
    """k < 0 is InvalidInput."""
    with pytest.raises(InvalidInput):
        ledger.draw_spot_checks("R1", k=-1, seed=1)


# ---------------------------------------------------------------- the seed school


def test_seed_report_reproduces_the_schools_figures(demo):
    """The demo ledger reports 28 declared, 26 itemized + 2, 18 completed and 10 staged."""
    ledger, seed = demo
    data = ledger.report(seed.inspection, as_of=seed.report_as_of).to_dict()
    assert data["declared"] == 28
    assert data["total"] == 28
    assert data["itemized"] == 26
    assert data["not_itemized"] == 2
    assert data["completed"] == 18
    assert data["staged"] == 10
    assert data["completed"] == seed.summary["completed"]
    assert data["staged"] == seed.summary["staged"]
    assert sum(data["by_state"].values()) == 28


def test_seed_report_text(demo):
    """The Chinese report says what the school's report says."""
    ledger, seed = demo
    text = ledger.report(seed.inspection, as_of=seed.report_as_of).to_markdown()
    assert "28个问题" in text
    assert "已完成整改18项" in text
    assert "10项已取得阶段性成效" in text
    assert "2个问题已计入总数但未逐项列明" in text


def test_seed_ledger_verifies(demo):
    """The demo ledger's chain and every finding's replay check."""
    ledger, _ = demo
    result = ledger.verify(ledger.head())
    assert result.ok
    assert result.problems == ()
    assert result.count == ledger.head().count > 28


def test_seed_histories_replay_to_their_records(demo):
    """Every demo finding's history replays to exactly its stored record."""
    ledger, seed = demo
    findings = list(ledger.findings(seed.inspection))
    assert len(findings) == 28
    for finding in findings:
        assert ledger.workflow.replay(ledger.history(finding.id)) == finding


def test_seed_events_are_aware_and_ordered(demo):
    """Every demo event has an aware time, and each finding's events are in time order."""
    ledger, seed = demo
    for finding in ledger.findings(seed.inspection):
        times = [e.at for e in ledger.history(finding.id)]
        assert all(t.utcoffset() is not None for t in times)
        assert times == sorted(times)
        assert parse_time(times[0]) == finding.created_at


# ---------------------------------------------------------------- review fixes


@pytest.mark.parametrize("disguise", ["王老师 ", " 王老师", "王老师\u3000", "\t王老师\n"])
def test_separation_of_duty_sees_through_spacing(disguise: str) -> None:
    """A trailing or full-width space does not make the responsible person someone else."""
    ledger = make_ledger()
    bring(ledger, "F1", "pending_signoff")
    with refused(ledger, RuleViolation) as err:
        ledger.fire("F1", "sign_off", actor=disguise, at=at("2024-01-15"))
    assert err.value.rule in ("signer_not_submitter", "signer_not_responsible")


def test_actor_names_are_stored_normalised() -> None:
    """Actors are kept in NFKC with surrounding space removed."""
    ledger = make_ledger()
    ledger.fire("F1", "start", actor=" 王老师\u3000", at=at("2023-12-01"))
    assert ledger.history("F1")[-1].actor == PERSON


def test_new_measures_carry_no_progress() -> None:
    """A measure cannot be added already done: progress comes only from record_measure."""
    ledger = make_ledger()
    done = Measure("F2-1", "维修", kind="one_off", done_at=dt.date(2030, 1, 1))
    kept = Measure(
        "F2-2", "每月排查", kind="recurring", cadence="monthly", established=dt.date(2020, 1, 1)
    )
    for measure in (done, kept):
        with refused(ledger, InvalidInput) as err:
            add(ledger, "F2", measures=[measure])
        assert err.value.field == "measures"


def test_rest_day_deadline_is_not_overdue_before_the_next_working_day() -> None:
    """Report and agenda agree: a Saturday deadline runs to Monday (民法典 art. 203)."""
    ledger = make_ledger()
    add(ledger, "F2", deadline="2024-03-02")  # a Saturday
    report = ledger.report("R1", as_of="2024-03-04").to_dict()
    assert "F2" not in report["overdue_findings"]
    assert "F2" in ledger.report("R1", as_of="2024-03-05").to_dict()["overdue_findings"]
    ledger.fire("F2", "start", actor=PERSON, at=at("2024-03-04"))
    ledger.fire(
        "F2",
        "extend",
        actor=SIGNER,
        at=at("2024-03-04"),
        requested_by=PERSON,
        until="2024-04-01",
        reason="资金未到位",
    )
    assert ledger.get("F2").deadline == dt.date(2024, 4, 1)


@pytest.mark.parametrize("evidence", [123, [None], ["a.pdf", 7]])
def test_evidence_must_be_strings(evidence: Any) -> None:
    """Evidence that is not a list of strings is InvalidInput, never stored as 'None'."""
    ledger = make_ledger()
    bring(ledger, "F1", "in_progress")
    with refused(ledger, InvalidInput):
        ledger.fire("F1", "submit", actor=PERSON, at=at("2024-01-10"), evidence=evidence)


def test_expected_version_must_be_an_int() -> None:
    """expected_version='1' is a typing mistake, not a phantom conflict."""
    ledger = make_ledger()
    with refused(ledger, InvalidInput):
        ledger.fire("F1", "start", actor=PERSON, at=at("2023-12-01"), expected_version="1")


def test_head_is_a_count_hash_tuple() -> None:
    """head() equals the (count, hash) tuple a user keeps, and indexes like one."""
    ledger = make_ledger()
    head = ledger.head()
    assert head == (head.count, head.hash)
    assert head[0] == 2  # the inspection's event, then the finding's
    assert ledger.verify(anchor=(head[0], head[1])).ok


def test_report_sentence_counts_problems_not_on_the_ledger() -> None:
    """Declared 28 with 1 on the ledger: the sentence accounts for all 28."""
    ledger = make_ledger()
    text = ledger.report("R1", as_of="2023-12-01").to_markdown()
    assert "对巡察反馈的28个问题,已完成整改0项,其余28项中1项正在整改、27项尚未录入台账。" in text


def test_ledger_keeps_the_policy_it_was_created_under(tmp_path: Any) -> None:
    """A ledger file remembers its policy; another one is refused, none means the recorded one."""
    path = str(tmp_path / "p.db")
    capa = policy_pack("capa")
    with Ledger.open(path, policy=capa) as ledger:
        assert ledger.policy == capa
    with pytest.raises(PolicyError) as err, Ledger.open(path, policy=Policy()):
        pass
    assert "capa" in str(err.value)
    with Ledger.open(path) as ledger:
        assert ledger.policy == capa
        assert ledger.workflow.policy == capa


def test_spot_check_naming_its_draw_must_have_been_drawn() -> None:
    """spot_check with seed, k and drawn_on is redone from the record; a finding not drawn is refused."""
    ledger = make_ledger()
    for fid in ("F2", "F3", "F4"):
        add(ledger, fid)
    for fid in ("F1", "F2", "F3", "F4"):
        bring(ledger, fid, "completed")
    draw = ledger.draw_spot_checks("R1", k=2, seed=7, as_of="2024-02-01")
    picked, skipped = draw.findings[0], min(set(draw.population) - set(draw.findings))
    args = {"seed": draw.seed, "k": draw.k, "drawn_on": draw.as_of}
    ledger.fire(picked, "spot_check", actor=CHECKER, at=at("2024-02-02"), **args)
    assert dict(ledger.history(picked)[-1].payload) == {"seed": 7, "k": 2, "drawn_on": "2024-02-01"}
    with refused(ledger, RuleViolation) as err:
        ledger.fire(skipped, "spot_check", actor=CHECKER, at=at("2024-02-02"), **args)
    assert err.value.rule == "spot_check_draw"
    with refused(ledger, RuleViolation):
        ledger.fire(picked, "spot_check", actor=CHECKER, at=at("2024-02-02"), seed=7, k=2)
