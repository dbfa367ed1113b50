"""The default workflow (DOMAIN.md "Finding lifecycle"): edges, guards, effects, the shared machine."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import attrs
import pendulum
import pytest
import transitions

from rectflow import (
    EVENT_NAMES,
    STATES,
    Event,
    Finding,
    InvalidInput,
    Ledger,
    Measure,
    Owner,
    Policy,
    RuleViolation,
    TransitionNotAllowed,
    Workflow,
    _i18n,
    _workflow,
)
from rectflow._time import parse_time
from rectflow._writer import Writer
from rectflow.testing import ORACLE_EDGES

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2026, 1, 1, tz=TZ)
PERSON = "王老师"  # the responsible person (责任人)
ADDER = "巡察办"
SIGNER = "陈主任"
CHECKER = "李主任"
OWNER = Owner(leader="张校长", department="德育处", person=PERSON)
DROP = object()  # marks an argument left out

ONE_OFF = Measure("F1-1", "补登记入账", "one_off", "总务处")
MONTHLY = Measure("F1-1", "每月开展一次安全排查", "recurring", "安全处", cadence="monthly")
LONG_TERM = Measure("F1-1", "提高学业水平考试合格率", "long_term", "教务处")


def at(day: str, hour: int = 9, minute: int = 0) -> str:
    """An aware ISO time on *day* in Beijing time."""
    return f"{day}T{hour:02d}:{minute:02d}:00+08:00"


def make_ledger(
    policy: Policy | None = None,
    *,
    measures: tuple[Measure, ...] = (),
    deadline: str = "2024-01-31",
) -> Ledger:
    """A memory ledger (Mon–Fri calendar, clock 2026-01-01) with inspection R1 and finding F1."""
    ledger = Ledger.open(
        ":memory:", policy=policy or Policy(calendar="weekdays"), clock=lambda: NOW
    )
    ledger.add_inspection(
        "R1", title="县委巡察", feedback_at="2023-11-23", declared_findings=28, at=at("2023-11-23")
    )
    ledger.add_finding(
        "F1",
        inspection="R1",
        aspect="第一方面",
        category="(一)",
        title="资产借用未登记",
        kind="deadline",
        owner=OWNER,
        deadline=deadline,
        measures=measures,
        actor=ADDER,
        at=at("2023-11-30"),
    )
    return ledger


def args(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """*base* with *changes*; a value of DROP removes the key."""
    merged = {**base, **changes}
    return {k: v for k, v in merged.items() if v is not DROP}


# Valid arguments of each event, from any state it is allowed in (reached by PATHS).
START = {"actor": PERSON, "at": at("2023-12-01")}
STAGE = {
    "actor": PERSON,
    "at": at("2023-12-15"),
    "note": "已取得阶段性成效",
    "evidence": ["进展.pdf"],
    "next_checkpoint": "2024-03-01",
}
SUBMIT = {"actor": PERSON, "at": at("2024-01-10"), "evidence": ["完成.pdf"]}
SIGN_OFF = {"actor": SIGNER, "at": at("2024-01-15")}
REJECT = {"actor": SIGNER, "at": at("2024-01-15"), "note": "佐证材料不全"}
RECHECK = {"actor": CHECKER, "at": at("2024-04-16"), "evidence": ["回头看.pdf"]}
REBOUND = {
    "actor": CHECKER,
    "at": at("2024-05-06"),
    "evidence": ["复查.pdf"],
    "deadline": "2024-06-28",
}
EXTEND = {
    "actor": SIGNER,
    "at": at("2024-01-20"),
    "requested_by": PERSON,
    "until": "2024-02-29",
    "reason": "等待经费",
}
SPOT_CHECK = {"actor": CHECKER, "at": at("2024-05-06"), "seed": 20240506}
CANCEL = {"actor": ADDER, "at": at("2024-01-20"), "reason": "与1.1.2重复"}
RECORD = {"actor": PERSON, "at": at("2023-12-05"), "measure": "F1-1"}
AMEND_TITLE = {"old": "资产借用未登记", "new": "资产借用未按规定登记"}
AMEND = {
    "actor": ADDER,
    "at": at("2024-06-03"),
    "changes": {"title": {"old": "资产借用未登记", "new": "资产借用未按规定登记"}},
}

EVENT_ARGS: dict[str, dict[str, Any]] = {
    "start": START,
    "stage": args(STAGE, at=at("2023-12-20")),
    "submit": SUBMIT,
    "sign_off": SIGN_OFF,
    "reject": REJECT,
    "recheck": RECHECK,
    "rebound": REBOUND,
    "extend": EXTEND,
    "spot_check": SPOT_CHECK,
    "cancel": CANCEL,
    "record_measure": args(RECORD, at=at("2024-05-06")),
    "amend": AMEND,
}

Step = tuple[str, dict[str, Any]]
PATHS: dict[str, tuple[Step, ...]] = {
    "assigned": (),
    "in_progress": (("start", START),),
    "staged_result": (("start", START), ("stage", STAGE)),
    "pending_signoff": (("start", START), ("submit", SUBMIT)),
    "completed": (("start", START), ("submit", SUBMIT), ("sign_off", SIGN_OFF)),
    "rechecked": (
        ("start", START),
        ("submit", SUBMIT),
        ("sign_off", SIGN_OFF),
        ("recheck", RECHECK),
    ),
    "cancelled": (("cancel", args(CANCEL, at=at("2023-12-01"))),),
}

# DOMAIN.md's table, written out by hand once in rectflow.testing (the oracle the
# stateful machine uses too), without the record_measure self-loops.
EDGES: dict[tuple[str, str], str] = {
    edge: dest for edge, dest in ORACLE_EDGES.items() if edge[1] != "record_measure"
}
# record_measure keeps the state; it is allowed once work has started and until cancellation.
MEASURE_STATES = ("in_progress", "staged_result", "pending_signoff", "completed", "rechecked")
ALL_EDGES = {**EDGES, **{(s, "record_measure"): s for s in MEASURE_STATES}}
FORBIDDEN = [(s, e) for s in STATES for e in EVENT_NAMES if (s, e) not in ALL_EDGES]


def run(ledger: Ledger, steps: tuple[Step, ...] | list[Step], finding_id: str = "F1") -> None:
    """Fire *steps* at the finding."""
    for name, kwargs in steps:
        ledger.fire(finding_id, name, **kwargs)


def with_measure_recorded(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """*steps* with a record_measure right after start."""
    if not steps or steps[0][0] != "start":
        return steps
    return (steps[0], ("record_measure", RECORD), *steps[1:])


def reach(state: str, policy: Policy | None = None, measures: tuple[Measure, ...] = ()) -> Ledger:
    """A ledger whose finding F1 is in *state*."""
    ledger = make_ledger(policy, measures=measures)
    steps = PATHS[state]
    run(ledger, with_measure_recorded(steps) if measures else steps)
    assert ledger.get("F1").state == state
    return ledger


def snapshot(ledger: Ledger) -> tuple[Any, ...]:
    """Everything an error must leave untouched."""
    return (
        ledger.get("F1"),
        ledger.history("F1"),
        ledger.head(),
        list(ledger.findings()),
    )


@contextmanager
def refused(ledger: Ledger, error: type[Exception]) -> Iterator[pytest.ExceptionInfo[Any]]:
    """Expect *error* from the block and assert that the ledger did not change."""
    before = snapshot(ledger)
    with pytest.raises(error) as info:
        yield info
    assert snapshot(ledger) == before


def fire_refused(
    ledger: Ledger, event: str, kwargs: dict[str, Any], error: type[Exception] = RuleViolation
) -> Any:
    """Fire at F1, expect *error*, check nothing changed, return the error."""
    with refused(ledger, error) as info:
        ledger.fire("F1", event, **kwargs)
    return info.value


# ---------------------------------------------------------------- the edges


def test_edge_table_is_the_domain_table():
    """The workflow's edges are exactly DOMAIN.md's table (plus record_measure)."""
    wf = Workflow(Policy(calendar="weekdays"))
    actual = {
        (s, e): wf.destination(s, e)
        for s in STATES
        for e in EVENT_NAMES
        if wf.destination(s, e) is not None
    }
    assert actual == ALL_EDGES


@pytest.mark.parametrize(("state", "event"), sorted(EDGES), ids="{0[0]}-{0[1]}".format)
def test_allowed_edge(state, event):
    """Every edge of the table moves the finding to its destination and appends one event."""
    ledger = reach(state)
    before = ledger.get("F1")
    after = ledger.fire("F1", event, **EVENT_ARGS[event])
    assert after.state == EDGES[state, event]
    assert ledger.get("F1") == after
    assert after.version == before.version + 1
    last = ledger.history("F1")[-1]
    assert last.name == event
    assert last.version == after.version
    assert ledger.head().count == len(ledger.history("F1")) + len(ledger.ledger_history())


@pytest.mark.parametrize("state", MEASURE_STATES)
def test_record_measure_keeps_the_state(state):
    """record_measure is allowed in every started, uncancelled state and keeps the state."""
    ledger = reach(state, measures=(MONTHLY,))
    after = ledger.fire("F1", "record_measure", **EVENT_ARGS["record_measure"])
    assert after.state == state
    assert after.measures[0].occurrences[-1] == pendulum.Date(2024, 5, 6)


@pytest.mark.parametrize(("state", "event"), FORBIDDEN, ids="{0[0]}-{0[1]}".format)
def test_forbidden_edge(state, event):
    """An event not in the table raises TransitionNotAllowed with state, event and allowed."""
    ledger = reach(state)
    err = fire_refused(ledger, event, EVENT_ARGS[event], TransitionNotAllowed)
    assert err.state == state
    assert err.event == event
    assert err.finding_id == "F1"
    assert set(err.allowed) == {e for (s, e) in ALL_EDGES if s == state}
    assert "F1" in str(err)


def test_cancelled_is_terminal():
    """Nothing is allowed after cancel; the error says so."""
    ledger = reach("cancelled")
    assert ledger.workflow.allowed("cancelled") == ()
    err = fire_refused(ledger, "start", START, TransitionNotAllowed)
    assert err.allowed == ()


# ---------------------------------------------------------------- guards


class Case(NamedTuple):
    """One failing guard: where the finding is, what is fired, which rule refuses it."""

    rule: str
    steps: tuple[Step, ...]
    event: str
    kwargs: dict[str, Any]
    policy: Policy | None = None
    measures: tuple[Measure, ...] = ()
    label: str = ""


IN_PROGRESS = PATHS["in_progress"]
PENDING = PATHS["pending_signoff"]
COMPLETED = PATHS["completed"]
START_AND_RECORD = (("start", START), ("record_measure", RECORD))
SUBMITTED_BY_CHECKER = (("start", START), ("submit", args(SUBMIT, actor=CHECKER)))
TWO_EXTENSIONS = (
    ("start", START),
    ("extend", EXTEND),
    ("extend", args(EXTEND, at=at("2024-02-20"), until="2024-03-29")),
)

CASES = [
    Case("note_required", IN_PROGRESS, "stage", args(STAGE, note=DROP), label="missing"),
    Case("note_required", IN_PROGRESS, "stage", args(STAGE, note="  "), label="blank"),
    Case("note_required", PENDING, "reject", args(REJECT, note=DROP)),
    Case("evidence_required", IN_PROGRESS, "stage", args(STAGE, evidence=[])),
    Case("evidence_required", IN_PROGRESS, "submit", args(SUBMIT, evidence=DROP)),
    Case(
        "evidence_required", IN_PROGRESS, "submit", args(SUBMIT, evidence=["", " "]), label="blank"
    ),
    Case("evidence_required", COMPLETED, "recheck", args(RECHECK, evidence=[])),
    Case("evidence_required", COMPLETED, "rebound", args(REBOUND, evidence=[])),
    Case("reason_required", IN_PROGRESS, "cancel", args(CANCEL, reason=DROP)),
    Case("reason_required", IN_PROGRESS, "cancel", args(CANCEL, reason=" "), label="blank"),
    Case("reason_required", IN_PROGRESS, "extend", args(EXTEND, reason=DROP)),
    Case("checkpoint_required", IN_PROGRESS, "stage", args(STAGE, next_checkpoint=DROP)),
    Case(
        "checkpoint_after_event",
        IN_PROGRESS,
        "stage",
        args(STAGE, next_checkpoint="2023-12-15"),
        label="same-day",
    ),
    Case(
        "checkpoint_after_event",
        IN_PROGRESS,
        "stage",
        args(STAGE, next_checkpoint="2023-12-01"),
        label="before",
    ),
    Case(
        "checkpoint_within_interval",
        IN_PROGRESS,
        "stage",
        args(STAGE, next_checkpoint="2024-03-16"),
    ),
    Case(
        "checkpoint_within_interval",
        IN_PROGRESS,
        "stage",
        args(STAGE, next_checkpoint="2024-01-16"),
        policy=Policy(calendar="weekdays", checkpoint_interval="1 month"),
        label="policy",
    ),
    Case("measures_done", IN_PROGRESS, "submit", SUBMIT, measures=(ONE_OFF,), label="one_off"),
    Case(
        "measures_done",
        IN_PROGRESS,
        "submit",
        SUBMIT,
        measures=(MONTHLY,),
        label="recurring-not-established",
    ),
    Case(
        "measures_done",
        START_AND_RECORD,
        "submit",
        args(SUBMIT, at=at("2024-02-05")),
        measures=(MONTHLY,),
        label="recurring-missed-january",
    ),
    Case("measures_done", IN_PROGRESS, "submit", SUBMIT, measures=(LONG_TERM,), label="long_term"),
    Case("signer_not_submitter", SUBMITTED_BY_CHECKER, "sign_off", args(SIGN_OFF, actor=CHECKER)),
    Case(
        "signer_not_submitter",
        PENDING,
        "sign_off",
        args(SIGN_OFF, actor=PERSON),
        label="responsible-submitter",
    ),
    Case("signer_not_responsible", SUBMITTED_BY_CHECKER, "sign_off", args(SIGN_OFF, actor=PERSON)),
    Case("rejecter_not_submitter", PENDING, "reject", args(REJECT, actor=PERSON)),
    Case("look_back_wait", COMPLETED, "recheck", args(RECHECK, at=at("2024-04-12"))),
    Case("rechecker_not_submitter", COMPLETED, "recheck", args(RECHECK, actor=PERSON)),
    Case("deadline_required", COMPLETED, "rebound", args(REBOUND, deadline=DROP)),
    Case(
        "deadline_after_event",
        COMPLETED,
        "rebound",
        args(REBOUND, deadline="2024-05-06"),
    ),
    Case("deadline_required", IN_PROGRESS, "extend", args(EXTEND, until=DROP)),
    Case("requester_required", IN_PROGRESS, "extend", args(EXTEND, requested_by=DROP)),
    Case(
        "requester_required", IN_PROGRESS, "extend", args(EXTEND, requested_by=" "), label="blank"
    ),
    Case(
        "extension_filed_in_time",
        IN_PROGRESS,
        "extend",
        args(EXTEND, at=at("2024-02-01")),
    ),
    Case(
        "extension_filed_in_time",
        IN_PROGRESS,
        "extend",
        args(EXTEND, at="2024-01-31T20:00:00-05:00"),
        label="already-next-day-in-beijing",
    ),
    Case("approver_not_requester", IN_PROGRESS, "extend", args(EXTEND, actor=PERSON)),
    Case(
        "max_extensions",
        IN_PROGRESS,
        "extend",
        EXTEND,
        policy=Policy(calendar="weekdays", max_extensions=0),
        label="policy-zero",
    ),
    Case(
        "max_extensions",
        TWO_EXTENSIONS,
        "extend",
        args(EXTEND, at=at("2024-03-01"), until="2024-04-30"),
        label="default-two",
    ),
    Case("new_deadline_later", IN_PROGRESS, "extend", args(EXTEND, until="2024-01-31")),
    Case(
        "new_deadline_later",
        IN_PROGRESS,
        "extend",
        args(EXTEND, until="2024-01-25"),
        label="earlier",
    ),
    Case("seed_required", COMPLETED, "spot_check", args(SPOT_CHECK, seed=DROP)),
    Case("seed_required", COMPLETED, "spot_check", args(SPOT_CHECK, seed=""), label="blank"),
    Case("canceller_not_responsible", IN_PROGRESS, "cancel", args(CANCEL, actor=PERSON)),
    Case("measure_unknown", IN_PROGRESS, "record_measure", args(RECORD, measure="F1-9")),
    Case(
        "measure_already_done",
        START_AND_RECORD,
        "record_measure",
        args(RECORD, at=at("2023-12-06")),
        measures=(ONE_OFF,),
    ),
    Case(
        "measure_closed",
        (*START_AND_RECORD, ("submit", SUBMIT), ("sign_off", SIGN_OFF)),
        "record_measure",
        args(RECORD, at=at("2024-02-01")),
        measures=(ONE_OFF,),
        label="one_off-after-sign-off",
    ),
    Case(
        "measure_closed",
        (*START_AND_RECORD, ("submit", SUBMIT)),
        "record_measure",
        args(RECORD, at=at("2024-01-11")),
        measures=(LONG_TERM,),
        label="long_term-pending",
    ),
    # with the current version in hand (no race lost): a rule; without it, TimeOrderConflict
    Case(
        "time_order",
        IN_PROGRESS,
        "stage",
        args(STAGE, at=at("2023-12-01", 8, 59), expected_version=2),
    ),
    Case(
        "time_order",
        IN_PROGRESS,
        "stage",
        args(STAGE, at="2023-11-30T19:59:00-05:00", expected_version=2),
        label="other-offset",
    ),
    Case("not_in_future", IN_PROGRESS, "stage", args(STAGE, at="2026-01-01T00:00:01+08:00")),
    Case("amend_empty", IN_PROGRESS, "amend", args(AMEND, changes=DROP)),
    Case("amend_empty", IN_PROGRESS, "amend", args(AMEND, changes={}), label="no-field"),
    Case("amend_field", IN_PROGRESS, "amend", args(AMEND, changes={"state": AMEND_TITLE})),
    Case("amend_shape", IN_PROGRESS, "amend", args(AMEND, changes={"title": "新标题"})),
    Case(
        "amend_stale",
        IN_PROGRESS,
        "amend",
        args(AMEND, changes={"title": {"old": "别的问题", "new": "新标题"}}),
    ),
    Case(
        "amend_unchanged",
        IN_PROGRESS,
        "amend",
        args(AMEND, changes={"title": {"old": "资产借用未登记", "new": "资产借用未登记"}}),
    ),
    Case(
        "amend_value",
        IN_PROGRESS,
        "amend",
        args(AMEND, changes={"deadline": {"old": "2024-01-31", "new": "2024-02-30"}}),
    ),
    Case(
        "amend_value",
        IN_PROGRESS,
        "amend",
        args(AMEND, changes={"title": {"old": "资产借用未登记", "new": " "}}),
        label="blank-title",
    ),
    Case(
        "amend_value",
        IN_PROGRESS,
        "amend",
        args(AMEND, changes={"extra": {"old": {}, "new": {"督办意见": 3}}}),
        label="extra-not-text",
    ),
    Case(
        "amend_value",
        IN_PROGRESS,
        "amend",
        args(AMEND, changes={"extra": {"old": {}, "new": "督办意见"}}),
        label="extra-not-mapping",
    ),
    Case(
        "amend_stale",
        IN_PROGRESS,
        "amend",
        args(AMEND, changes={"remarks": {"old": "旧备注", "new": "新备注"}}),
        label="remarks",
    ),
]


def case_id(case: Case) -> str:
    """The test id of a case."""
    return "-".join(p for p in (case.rule, case.event, case.label) if p)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_guard_refuses(case):
    """Each guard refuses its event with RuleViolation naming the rule; nothing changes."""
    ledger = make_ledger(case.policy, measures=case.measures)
    run(ledger, case.steps)
    err = fire_refused(ledger, case.event, case.kwargs)
    assert err.rule == case.rule
    assert err.finding_id == "F1"
    assert err.event == case.event
    assert "F1" in str(err)


def test_every_rule_of_the_workflow_has_a_case():
    """Every rule id the workflow can raise (ctx.fail("…")) is exercised by a guard case."""
    source = inspect.getsource(_workflow)
    raised = set(re.findall(r"fail\(\s*\"([a-z_]+)\"", source))
    assert raised  # the pattern still finds the rules
    # attest is written by imports only: tests/test_offices.py pins its rule
    assert raised - {"attest_import_only"} <= {c.rule for c in CASES}


def test_every_rule_has_zh_and_en_messages():
    """Each rule id the library raises has a Chinese and an English message."""
    source = inspect.getsource(_workflow) + inspect.getsource(Writer)  # the ledger's pipeline
    rules = set(re.findall(r"fail\(\s*\"([a-z_]+)\"", source))
    rules |= set(re.findall(r"\"rule\.([a-z_]+)\"", source))
    assert {"before_feedback", "not_in_future", "time_order", "signer_not_submitter"} <= rules
    for rule in rules:
        zh, en = _i18n._MESSAGES[f"rule.{rule}"]
        assert re.search(r"[\u4e00-\u9fff]", zh), rule
        assert not re.search(r"[\u4e00-\u9fff]", en), rule


def test_rules_table_covers_every_event():
    """RULES and PAYLOAD_KEYS name every event, and nothing else."""
    assert set(_workflow.RULES) == set(EVENT_NAMES) | _workflow.IMPORT_ONLY
    assert set(_workflow.PAYLOAD_KEYS) == set(EVENT_NAMES) | _workflow.IMPORT_ONLY


def add_f2(ledger: Ledger, when: str) -> Any:
    """Add finding F2 to R1 at *when*."""
    return ledger.add_finding(
        "F2",
        inspection="R1",
        title="t",
        kind="deadline",
        owner=OWNER,
        deadline="2024-01-31",
        actor=ADDER,
        at=when,
    )


@pytest.mark.parametrize(
    ("when", "rule"),
    [(at("2023-11-22", 23), "before_feedback"), ("2026-01-01T00:00:01+08:00", "not_in_future")],
)
def test_add_out_of_time_is_refused(when: str, rule: str):
    """A finding cannot be added before the feedback day, nor later than the ledger clock."""
    ledger = make_ledger()
    head = ledger.head()
    with pytest.raises(RuleViolation) as info:
        add_f2(ledger, when)
    assert info.value.rule == rule
    assert info.value.event == "add"
    assert "F2" not in ledger
    assert ledger.head() == head


def test_add_on_feedback_day_in_beijing_is_allowed():
    """The feedback-day check uses the policy's zone: 20:00 in New York is next day in Beijing."""
    assert add_f2(make_ledger(), "2023-11-22T20:00:00-05:00").state == "assigned"


def test_event_at_the_same_instant_as_the_last_is_allowed():
    """Time order allows equal times, also written with another offset."""
    ledger = reach("in_progress")
    after = ledger.fire("F1", "stage", **args(STAGE, at="2023-11-30T20:00:00-05:00"))
    assert after.state == "staged_result"


def test_event_exactly_at_the_clock_is_allowed():
    """An event at the clock's own time is not in the future."""
    ledger = reach("assigned")
    assert ledger.fire("F1", "start", **args(START, at=NOW)).state == "in_progress"


# ---------------------------------------------------------------- passing counterparts


def test_stage_records_the_next_checkpoint():
    """A staged result on the interval's last day is accepted and keeps its checkpoint."""
    ledger = reach("in_progress")
    after = ledger.fire("F1", "stage", **args(STAGE, next_checkpoint="2024-03-15"))
    assert after.next_checkpoint == pendulum.Date(2024, 3, 15)
    assert ledger.history("F1")[-1].payload["next_checkpoint"] == "2024-03-15"


def test_one_off_measure_done_on_the_beijing_day():
    """record_measure marks a one-off measure done on the event's day in the policy zone."""
    ledger = make_ledger(measures=(ONE_OFF,))
    run(ledger, IN_PROGRESS)
    after = ledger.fire("F1", "record_measure", **args(RECORD, at="2023-12-05T20:00:00-05:00"))
    assert after.measures[0].done_at == pendulum.Date(2023, 12, 6)
    assert after.measures[0].is_done
    assert ledger.fire("F1", "submit", **SUBMIT).state == "pending_signoff"


def test_recurring_measure_kept_each_month_allows_submit():
    """A monthly measure established in December and kept in January allows a February submit."""
    ledger = make_ledger(measures=(MONTHLY,))
    run(ledger, START_AND_RECORD)
    ledger.fire("F1", "record_measure", **args(RECORD, at=at("2024-01-08")))
    measure = ledger.get("F1").measures[0]
    assert measure.established == pendulum.Date(2023, 12, 5)
    assert measure.occurrences == (pendulum.Date(2024, 1, 8),)
    after = ledger.fire("F1", "submit", **args(SUBMIT, at=at("2024-02-05")))
    assert after.state == "pending_signoff"


def test_recurring_measure_in_its_first_full_month_is_not_missed():
    """A monthly measure established in December may be submitted in January without a gap."""
    ledger = make_ledger(measures=(MONTHLY,))
    run(ledger, START_AND_RECORD)
    assert ledger.fire("F1", "submit", **SUBMIT).state == "pending_signoff"


def test_long_term_measure_counts_as_done_once_established():
    """A long-term measure is done for submission once it has been established."""
    ledger = make_ledger(measures=(LONG_TERM,))
    run(ledger, START_AND_RECORD)
    assert ledger.get("F1").measures[0].established == pendulum.Date(2023, 12, 5)
    assert ledger.fire("F1", "submit", **SUBMIT).state == "pending_signoff"


def test_sign_off_by_a_third_person_completes():
    """Someone neither submitter nor responsible signs off: completed, with who and when."""
    ledger = reach("pending_signoff")
    after = ledger.fire("F1", "sign_off", **SIGN_OFF)
    assert after.state == "completed"
    assert after.signed_off_by == SIGNER
    assert after.submitter == PERSON
    assert after.completed_at == parse_time(SIGN_OFF["at"])
    assert after.first_completed_at == after.completed_at


def test_reject_returns_the_finding_and_forgets_the_submitter():
    """A reject by another person sends it back; after resubmission a third person signs off."""
    ledger = reach("pending_signoff")
    after = ledger.fire("F1", "reject", **REJECT)
    assert after.state == "in_progress"
    assert after.submitter is None
    assert after.submitted_at is None
    ledger.fire("F1", "submit", **args(SUBMIT, actor=CHECKER, at=at("2024-01-16")))
    assert ledger.fire("F1", "sign_off", **args(SIGN_OFF, at=at("2024-01-17"))).state == "completed"


def test_recheck_by_someone_else_after_the_wait():
    """A recheck after the default three months by someone other than the submitter passes."""
    ledger = reach("completed")
    after = ledger.fire("F1", "recheck", **args(RECHECK, at=at("2024-04-15")))
    assert after.state == "rechecked"
    assert after.rechecked_at == parse_time(at("2024-04-15"))


def test_look_back_wait_comes_from_the_policy():
    """With look_back_wait='1 month' a recheck one month after sign-off passes, not a day before."""
    default = reach("completed")
    early = args(RECHECK, at=at("2024-02-15"))
    assert fire_refused(default, "recheck", early).rule == "look_back_wait"

    short = reach("completed", policy=Policy(calendar="weekdays", look_back_wait="1 month"))
    day_before = fire_refused(short, "recheck", args(RECHECK, at=at("2024-02-14", 23)))
    assert day_before.rule == "look_back_wait"
    assert short.fire("F1", "recheck", **early).state == "rechecked"


def test_extension_keeps_the_original_deadline():
    """An extension moves the deadline, counts itself and keeps the original deadline."""
    ledger = reach("staged_result")
    after = ledger.fire("F1", "extend", **EXTEND)
    assert after.state == "staged_result"
    assert after.deadline == pendulum.Date(2024, 2, 29)
    assert after.original_deadline == pendulum.Date(2024, 1, 31)
    assert after.extensions == 1
    again = ledger.fire("F1", "extend", **args(EXTEND, at=at("2024-02-29", 18), until="2024-03-29"))
    assert again.deadline == pendulum.Date(2024, 3, 29)
    assert again.original_deadline == pendulum.Date(2024, 1, 31)
    assert again.extensions == 2


def test_extension_filed_on_the_deadline_day_is_in_time():
    """An extension filed late on the deadline day (Beijing time) is accepted."""
    ledger = reach("in_progress")
    assert ledger.fire("F1", "extend", **args(EXTEND, at=at("2024-01-31", 23, 30))).extensions == 1


def test_max_extensions_comes_from_the_policy():
    """A policy allowing three extensions accepts the third one the default refuses."""
    ledger = make_ledger(Policy(calendar="weekdays", max_extensions=3))
    run(ledger, TWO_EXTENSIONS)
    third = ledger.fire("F1", "extend", **args(EXTEND, at=at("2024-03-01"), until="2024-04-30"))
    assert third.extensions == 3
    fourth = args(EXTEND, at=at("2024-04-01"), until="2024-05-31")
    assert fire_refused(ledger, "extend", fourth).rule == "max_extensions"


def test_rebound_reopens_with_a_new_deadline_and_counts_rework():
    """Rebound: back to in_progress, rework + 1, the new deadline, sign-off cleared."""
    ledger = reach("completed")
    after = ledger.fire("F1", "rebound", **REBOUND)
    assert after.state == "in_progress"
    assert after.rework == 1
    assert after.deadline == pendulum.Date(2024, 6, 28)
    assert after.original_deadline == pendulum.Date(2024, 1, 31)
    assert after.completed_at is None
    assert after.signed_off_by is None
    assert after.submitter is None
    assert after.first_completed_at == parse_time(SIGN_OFF["at"])


def test_rebound_from_rechecked_counts_again():
    """A second relapse, after re-completion and recheck, makes rework 2."""
    ledger = reach("completed")
    run(
        ledger,
        [
            ("rebound", REBOUND),
            ("submit", args(SUBMIT, at=at("2024-05-10"))),
            ("sign_off", args(SIGN_OFF, at=at("2024-05-13"))),
            ("recheck", args(RECHECK, at=at("2024-08-13"))),
        ],
    )
    assert ledger.get("F1").state == "rechecked"
    after = ledger.fire(
        "F1", "rebound", **args(REBOUND, at=at("2024-09-02"), deadline="2024-10-31")
    )
    assert after.rework == 2
    assert after.rechecked_at is None
    assert after.deadline == pendulum.Date(2024, 10, 31)


def test_recheck_wait_counts_from_the_latest_sign_off():
    """After a rebound the look-back wait restarts from the new sign-off."""
    ledger = reach("completed")
    run(
        ledger,
        [
            ("rebound", REBOUND),
            ("submit", args(SUBMIT, at=at("2024-05-10"))),
            ("sign_off", args(SIGN_OFF, at=at("2024-05-13"))),
        ],
    )
    err = fire_refused(ledger, "recheck", args(RECHECK, at=at("2024-07-15")))
    assert err.rule == "look_back_wait"


def test_spot_check_records_the_seed():
    """A passed spot check keeps the state, counts itself and stores the seed in history."""
    ledger = reach("rechecked")
    after = ledger.fire("F1", "spot_check", **SPOT_CHECK)
    assert after.state == "rechecked"
    assert after.spot_checks == 1
    assert ledger.history("F1")[-1].payload["seed"] == 20240506


def test_spot_check_seed_zero_is_a_seed():
    """Seed 0 is a recorded seed, not a missing one."""
    ledger = reach("completed")
    assert ledger.fire("F1", "spot_check", **args(SPOT_CHECK, seed=0)).spot_checks == 1


def test_cancel_by_someone_other_than_the_responsible_person():
    """The inspection office may cancel with a reason; the finding becomes cancelled."""
    ledger = reach("pending_signoff")
    after = ledger.fire("F1", "cancel", **CANCEL)
    assert after.state == "cancelled"
    assert ledger.history("F1")[-1].payload["reason"] == CANCEL["reason"]


@pytest.mark.parametrize(("lang", "unit"), [("zh", "个月"), ("en", "months")])
def test_look_back_wait_message_names_the_wait_once(lang, unit):
    """The look-back message states the policy's wait once, in the ledger's language."""
    wf = Workflow(Policy(calendar="weekdays"), lang=lang)
    f = wf.create(add_event())
    for name, kw in PATHS["completed"]:
        f = wf.apply(f, ev(name, kw))
    with pytest.raises(RuleViolation) as info:
        wf.apply(f, ev("recheck", args(RECHECK, at=at("2024-02-01"))))
    text = str(info.value)
    assert text.count(unit) == 1, text
    assert "3 months 个月" not in text
    assert "months months" not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_checkpoint_interval_message_keeps_the_unit(lang):
    """The checkpoint-interval message states the interval in its own unit (90 days, not months)."""
    policy = Policy(calendar="weekdays", checkpoint_interval="90 days")
    wf = Workflow(policy, lang=lang)
    f = wf.apply(wf.create(add_event()), ev("start", START))
    with pytest.raises(RuleViolation) as info:
        wf.apply(f, ev("stage", args(STAGE, next_checkpoint="2024-06-01")))
    assert info.value.rule == "checkpoint_within_interval"
    text = str(info.value)
    assert "90 个月" not in text
    assert "90 months" not in text


def test_unknown_event_argument_is_invalid_input():
    """An argument the event does not take is InvalidInput, not silently stored."""
    ledger = reach("in_progress")
    err = fire_refused(ledger, "stage", args(STAGE, seed=3), InvalidInput)
    assert err.field == "seed"


# ---------------------------------------------------------------- no auto transitions


def test_machine_has_only_the_workflow_events():
    """The shared machine has no to_<state> auto transitions, only the workflow's triggers."""
    machine = Workflow().machine
    assert "to_rechecked" not in machine.events
    assert not [name for name in machine.events if name.startswith("to_")]
    assert set(machine.events) == set(EVENT_NAMES) | _workflow.IMPORT_ONLY


@pytest.mark.parametrize("event", ["to_rechecked", "to_completed", "to_cancelled", "finish"])
def test_auto_transition_names_are_unknown_events(event):
    """Firing an auto-transition name is InvalidInput (an unknown event), and changes nothing."""
    ledger = reach("completed")
    err = fire_refused(ledger, event, {"actor": SIGNER, "at": at("2024-05-06")}, InvalidInput)
    assert err.field == "event"
    assert isinstance(err, ValueError)


# ---------------------------------------------------------------- one shared machine


def test_one_machine_for_every_finding(monkeypatch):
    """Many fires on many findings and two ledgers build no Machine and attach no model."""
    wf = Workflow(Policy(calendar="weekdays"))
    ledgers = [Ledger.open(":memory:", workflow=wf, clock=lambda: NOW) for _ in range(2)]
    built: list[object] = []
    original = transitions.Machine.__init__

    def counting_init(self, *a, **kw):
        built.append(self)
        original(self, *a, **kw)

    monkeypatch.setattr(transitions.Machine, "__init__", counting_init)
    for ledger in ledgers:
        assert ledger.workflow is wf
        ledger.add_inspection("R1", title="t", feedback_at="2023-11-23", at=at("2023-11-23"))
        for n in range(5):
            fid = f"F{n}"
            ledger.add_finding(
                fid,
                inspection="R1",
                title="t",
                kind="deadline",
                owner=OWNER,
                deadline="2024-01-31",
                actor=ADDER,
                at=at("2023-11-30"),
            )
            run(ledger, PATHS["rechecked"], fid)
    assert built == []
    assert len(wf.machine.models) == 0
    assert all(ledger.get("F4").state == "rechecked" for ledger in ledgers)


def test_ledger_keeps_one_workflow():
    """A ledger's workflow and machine are the same objects before and after firing."""
    ledger = make_ledger()
    wf, machine = ledger.workflow, ledger.workflow.machine
    run(ledger, PATHS["completed"])
    assert ledger.workflow is wf
    assert wf.machine is machine
    assert len(machine.models) == 0


# ---------------------------------------------------------------- Workflow without a Ledger


def add_event(finding_id: str = "X1", when: str = "2023-11-30T09:00:00+08:00") -> Event:
    """The add event an app would store for its own record."""
    return Event(
        finding_id,
        "add",
        parse_time(when),
        ADDER,
        payload={
            "inspection": "R1",
            "title": "资产借用未登记",
            "kind": "deadline",
            "owner": {"leader": "张校长", "department": "德育处", "person": PERSON},
            "deadline": "2024-01-31",
        },
    )


def ev(name: str, kwargs: dict[str, Any], finding_id: str = "X1") -> Event:
    """An Event from the same keyword arguments the ledger's fire takes."""
    kw = dict(kwargs)
    actor, when = kw.pop("actor"), parse_time(kw.pop("at"))
    note, evidence = kw.pop("note", None), tuple(kw.pop("evidence", ()))
    payload = {k: str(v) if k != "seed" else v for k, v in kw.items()}
    return Event(finding_id, name, when, actor, note, evidence, payload)


def test_workflow_create_builds_an_assigned_finding():
    """Workflow.create turns an add event into a version-1 assigned Finding."""
    finding = Workflow().create(add_event())
    assert isinstance(finding, Finding)
    assert finding.state == "assigned"
    assert finding.version == 1
    assert finding.owner == OWNER
    assert finding.deadline == finding.original_deadline == pendulum.Date(2024, 1, 31)
    assert finding.created_at == parse_time("2023-11-30T09:00:00+08:00")


def test_workflow_apply_returns_a_new_finding_and_leaves_the_input():
    """apply returns the next Finding; the one passed in is unchanged."""
    wf = Workflow(Policy(calendar="weekdays"))
    assigned = wf.create(add_event())
    copy = attrs.evolve(assigned)
    started = wf.apply(assigned, ev("start", START))
    assert started is not assigned
    assert started.state == "in_progress"
    assert started.version == 2
    assert assigned == copy
    assert assigned.state == "assigned"


def test_workflow_apply_refusals_leave_the_input():
    """A refused apply raises and the record the app holds stays as it was."""
    wf = Workflow(Policy(calendar="weekdays"))
    f = wf.create(add_event())
    for event in [ev("start", START), ev("submit", SUBMIT)]:
        f = wf.apply(f, event)
    copy = attrs.evolve(f)
    with pytest.raises(RuleViolation) as info:
        wf.apply(f, ev("sign_off", args(SIGN_OFF, actor=PERSON)))
    assert info.value.rule == "signer_not_submitter"
    with pytest.raises(TransitionNotAllowed):
        wf.apply(f, ev("start", args(START, at=at("2024-01-11"))))
    assert f == copy


def test_workflow_apply_checks_the_clock_only_when_given():
    """Without now (replay) a late event is fine; with now it is not_in_future."""
    wf = Workflow()
    f = wf.create(add_event())
    late = ev("start", args(START, at="2030-01-01T09:00:00+08:00"))
    assert wf.apply(f, late).state == "in_progress"
    with pytest.raises(RuleViolation) as info:
        wf.apply(f, late, now=NOW)
    assert info.value.rule == "not_in_future"


def test_workflow_check_event_refuses_naive_times():
    """An Event built with a naive datetime is InvalidInput at apply."""
    wf = Workflow()
    f = wf.create(add_event())
    naive = Event("X1", "start", pendulum.naive(2023, 12, 1, 9), PERSON)
    with pytest.raises(InvalidInput) as info:
        wf.apply(f, naive)
    assert info.value.field == "at"


def test_workflow_replay_rebuilds_the_record():
    """replay of the events gives the same Finding as applying them one by one."""
    wf = Workflow(Policy(calendar="weekdays"))
    events = [add_event()] + [ev(name, kw) for name, kw in PATHS["rechecked"]]
    f = wf.create(events[0])
    for event in events[1:]:
        f = wf.apply(f, event)
    assert wf.replay(events) == f
    assert f.state == "rechecked"
    assert f.version == len(events)
    assert wf.replay([]) is None


def test_workflow_replay_checks_the_rules_again():
    """A history that breaks a rule does not replay."""
    wf = Workflow(Policy(calendar="weekdays"))
    events = [
        add_event(),
        ev("start", START),
        ev("submit", SUBMIT),
        ev("sign_off", args(SIGN_OFF, actor=PERSON)),
    ]
    with pytest.raises(RuleViolation):
        wf.replay(events)


def test_workflow_extra_rules_run_after_the_builtin_ones():
    """Extra guards passed to Workflow(rules=…) are checked, after the built-in ones."""
    seen: list[str] = []

    def needs_photo(ctx):
        seen.append(ctx.event.name)
        if not any(e.endswith(".jpg") for e in ctx.event.evidence):
            raise RuleViolation("photo_required", "需要照片", finding_id=ctx.finding.id)

    wf = Workflow(Policy(calendar="weekdays"), rules={"submit": [needs_photo]})
    f = wf.apply(wf.create(add_event()), ev("start", START))
    with pytest.raises(RuleViolation) as info:
        wf.apply(f, ev("submit", args(SUBMIT, evidence=[])))
    assert info.value.rule == "evidence_required"
    assert seen == []
    with pytest.raises(RuleViolation) as info:
        wf.apply(f, ev("submit", SUBMIT))
    assert info.value.rule == "photo_required"
    assert wf.apply(f, ev("submit", args(SUBMIT, evidence=["现场.jpg"]))).state == (
        "pending_signoff"
    )


def test_workflow_extra_rules_for_unknown_events_are_refused():
    """Extra rules for an event the workflow does not have are InvalidInput."""
    with pytest.raises(InvalidInput):
        Workflow(rules={"approve": [lambda ctx: None]})


def test_workflow_extra_rule_can_use_ctx_fail():
    """An app's own guard can refuse with ctx.fail('its_rule'), as the Rule docstring says."""

    def needs_photo(ctx):
        raise ctx.fail("photo_required")

    wf = Workflow(rules={"start": [needs_photo]})
    with pytest.raises(RuleViolation) as info:
        wf.apply(wf.create(add_event()), ev("start", START))
    assert info.value.rule == "photo_required"


def test_workflow_create_refuses_a_naive_time():
    """create refuses an add event with a naive time, as apply does for other events."""
    naive = attrs.evolve(add_event(), at=pendulum.naive(2023, 11, 30, 9))
    with pytest.raises(InvalidInput):
        Workflow().create(naive)


def test_workflow_create_refuses_an_unknown_kind():
    """create refuses a definition the ledger would refuse (unknown kind)."""
    event = add_event()
    bad = attrs.evolve(event, payload={**event.payload, "kind": "urgent"})
    with pytest.raises(InvalidInput):
        Workflow().create(bad)


def test_workflow_documented_methods_exist():
    """Every method the Workflow docstring names (:meth:`x`) exists."""
    named = re.findall(r":meth:`(\w+)`", Workflow.__doc__ or "")
    assert named
    assert [name for name in named if not hasattr(Workflow, name)] == []


def test_only_start_is_unguarded():
    """Every event but start has at least one guard in RULES, and the guards are callables."""
    empty = {name for name, rules in _workflow.RULES.items() if not rules}
    assert empty == {"start"}
    assert all(callable(r) for rules in _workflow.RULES.values() for r in rules)


def test_replay_without_checks_follows_edges_only() -> None:
    """replay(check=False) rebuilds history that a stricter policy would now refuse."""
    lenient = Workflow(Policy(calendar="weekdays", look_back_wait="1 day"))
    strict = Workflow(Policy(calendar="weekdays", look_back_wait="6 months"))
    at = pendulum.datetime(2024, 1, 2, 9, tz="Asia/Shanghai")
    add = Event(
        "F",
        "add",
        at,
        "巡察办",
        payload={
            "inspection": "R1",
            "title": "t",
            "kind": "deadline",
            "owner": {"leader": "L", "department": "D", "person": "P"},
            "deadline": "2024-03-01",
        },
        version=1,
    )
    steps = [
        ("start", {}, ()),
        ("submit", {}, ("e.pdf",)),
        ("sign_off", {}, ()),
        ("recheck", {}, ("r.pdf",)),
    ]
    finding = lenient.create(add)
    events = [add]
    for n, (name, payload, evidence) in enumerate(steps, start=1):
        actor = "Q" if name in ("sign_off", "recheck") else "P"
        event = Event("F", name, at.add(days=n * 3), actor, evidence=evidence, payload=payload)
        finding = lenient.apply(finding, event)
        events.append(attrs.evolve(event, version=finding.version))
    with pytest.raises(RuleViolation) as err:
        strict.replay(events)
    assert err.value.rule == "look_back_wait"
    assert strict.replay(events, check=False) == finding


# ---------------------------------------------------------------- values in (issue 16)


def add_with(**changes: Any) -> Event:
    """``add_event()`` with payload entries or ``at`` replaced."""
    base = add_event()
    at = changes.pop("at", base.at)
    return attrs.evolve(base, at=at, payload={**base.payload, **changes})


def test_create_takes_what_add_finding_takes():
    """An Owner, Measure records, a date deadline and ISO text for at make the same finding."""
    wf = Workflow()
    plain = wf.create(add_event())
    rich = wf.create(
        add_with(
            owner=Owner(" 张校长", "德育处", f"{PERSON} "),  # normalised, as the ledger does
            deadline=pendulum.date(2024, 1, 31),
            at="2023-11-30T09:00:00+08:00",
        )
    )
    assert rich == plain
    assert type(rich.created_at) is pendulum.DateTime
    measured = wf.create(add_with(measures=[Measure("M1", "建立台账", kind="one_off")]))
    assert measured.measures == (Measure("M1", "建立台账", kind="one_off"),)


def test_create_counts_a_period_from_the_events_day():
    """A period deadline counts from the add event's day (a workflow knows no inspection)."""
    wf = Workflow()
    assert wf.create(add_with(deadline="2 months")).deadline == pendulum.date(2024, 1, 30)
    assert wf.create(add_with(deadline="10个工作日")).deadline == wf.calendar.add_workdays(
        pendulum.date(2023, 11, 30), 10
    )


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"at": "2023-11-30T09:00:00"}, "has no UTC offset"),
        ({"at": "tomorrow"}, "is not a valid time"),
        ({"deadline": "2 fortnights"}, "cannot read deadline"),
        ({"owner": "张校长"}, "invalid value"),
    ],
)
def test_create_says_what_is_wrong(changes, says):
    """Each bad value gets its own message (not "has no UTC offset" for any text)."""
    with pytest.raises(InvalidInput) as info:
        Workflow(lang="en").create(add_with(**changes))
    assert says in str(info.value)


def test_apply_takes_iso_text_and_dates():
    """apply reads ISO text for at and date objects for days, as Ledger.fire does."""
    wf = Workflow()
    f = wf.apply(wf.create(add_event()), ev("start", START))
    stage = Event(
        "X1",
        "stage",
        "2023-12-05T10:00:00+08:00",  # type: ignore[arg-type]  # text, as a service sends it
        PERSON,
        "阶段性成效",
        ("s.pdf",),
        {"next_checkpoint": pendulum.date(2024, 1, 5)},
    )
    staged = wf.apply(f, stage, now=NOW)
    assert staged.next_checkpoint == pendulum.date(2024, 1, 5)
    assert staged.updated_at == pendulum.parse("2023-12-05T10:00:00+08:00")
    with pytest.raises(InvalidInput, match="has no UTC offset"):
        wf.apply(f, attrs.evolve(stage, at="2023-12-05T10:00:00"), now=NOW, lang="en")
    with pytest.raises(InvalidInput, match="is not a valid time"):
        wf.apply(f, attrs.evolve(stage, at="next week"), now=NOW, lang="en")


def test_apply_speaks_the_language_it_is_asked_for():
    """lang= on apply overrides the workflow's (what a ledger in another language passes)."""
    wf = Workflow()  # Chinese
    f = wf.apply(wf.create(add_event()), ev("start", START))
    bad = attrs.evolve(ev("stage", START), note=None)
    with pytest.raises(RuleViolation) as info:
        wf.apply(f, bad, now=NOW, lang="en")
    assert "needs a note" in str(info.value)


@pytest.mark.parametrize("finding_id", [None, 7, b"F1"])
def test_event_refuses_a_finding_id_that_is_not_text(finding_id):
    """An Event without a finding id (or with a non-text one) is refused with InvalidInput."""
    with pytest.raises(InvalidInput) as info:
        Event(finding_id, "start", NOW, PERSON)  # type: ignore[arg-type]
    assert info.value.field == "finding_id"
    assert info.value.in_lang("en") == f"finding_id: invalid value {finding_id!r}"


def test_amend_corrects_remarks_and_extra():
    """备注 and the office's own columns are amended like any text, and replay gives them."""
    ledger = make_ledger()
    changes = {
        "remarks": {"old": "", "new": "需长期坚持"},
        "extra": {"old": {}, "new": {"督办意见": "已督办"}},
    }
    f = ledger.fire("F1", "amend", actor=ADDER, at=at("2024-06-03"), changes=changes)
    assert (f.remarks, dict(f.extra)) == ("需长期坚持", {"督办意见": "已督办"})
    changes = {"extra": {"old": {"督办意见": "已督办"}, "new": {"督办意见": "二次督办"}}}
    f = ledger.fire("F1", "amend", actor=ADDER, at=at("2024-06-04"), changes=changes)
    assert dict(f.extra) == {"督办意见": "二次督办"}
    assert ledger.workflow.replay(ledger.history("F1")) == f
    assert ledger.verify().ok
