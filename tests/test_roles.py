"""Who may do what (issue 8): roles, separation of duties, roles mode, the one gate."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest

from rectflow import (
    Event,
    InvalidInput,
    Ledger,
    LedgerFileError,
    Measure,
    Owner,
    PermissionDenied,
    Policy,
    RuleViolation,
)
from rectflow._roles import LEDGER
from rectflow.cli import main
from roles_support import CLOCK, add_finding, t


def new_ledger(target: str = ":memory:") -> Ledger:
    """A ledger with a fixed clock at the end of 2024."""
    return Ledger.open(target, clock=lambda: CLOCK)


# ---------------------------------------------------------------- the role matrix

# The expected policy, written out independently of the code under test.
MAY: dict[str, set[str]] = {
    "start": {"owner"},
    "stage": {"owner"},
    "submit": {"owner"},
    "record_measure": {"owner"},
    "sign_off": {"leader"},
    "reject": {"leader"},
    "extend": {"leader"},
    "cancel": {"leader"},
    "recheck": {"inspector", "checker"},
    "spot_check": {"inspector", "checker"},
    "rebound": {"inspector", "checker"},
}
BARRED: dict[str, set[str]] = {
    "sign_off": {"submitter", "responsible"},
    "reject": {"submitter"},
    "recheck": {"submitter"},
    "extend": {"requester"},
    "cancel": {"responsible"},
}
STATE_FOR: dict[str, str] = {
    "start": "assigned",
    "stage": "in_progress",
    "submit": "in_progress",
    "record_measure": "in_progress",
    "extend": "in_progress",
    "cancel": "in_progress",
    "sign_off": "pending_signoff",
    "reject": "pending_signoff",
    "recheck": "completed",
    "spot_check": "completed",
    "rebound": "completed",
}
ROLES = ("inspector", "leader", "owner", "checker")
ACTOR = "甲"


def relations(event: str) -> tuple[str, ...]:
    """The relations that make sense for *event*."""
    out = ["unrelated", "responsible"]
    if STATE_FOR[event] in ("pending_signoff", "completed"):
        out.append("submitter")
    if event == "extend":
        out.append("requester")
    return tuple(out)


MATRIX = [(e, r, rel) for e in MAY for r in ROLES for rel in relations(e)]


def expected(event: str, role: str, relation: str) -> type[Exception] | None:
    """None when allowed; else the error: the workflow's rule first, then the missing role."""
    if relation in BARRED.get(event, set()):
        return RuleViolation
    if role not in MAY[event]:
        return PermissionDenied
    return None


def event_args(event: str, relation: str, at: str) -> dict[str, Any]:
    """The arguments of the event under test."""
    day = pendulum.parse(at).date()
    return {
        "start": {},
        "stage": {
            "note": "阶段性成效",
            "evidence": ["阶段.pdf"],
            "next_checkpoint": (day + dt.timedelta(days=30)).isoformat(),
        },
        "submit": {"evidence": ["完成.pdf"]},
        "record_measure": {"measure": "M1"},
        "sign_off": {},
        "reject": {"note": "材料不全"},
        "extend": {
            "requested_by": ACTOR if relation == "requester" else "乙",
            "until": "2024-06-28",
            "reason": "等待经费",
        },
        "cancel": {"reason": "重复"},
        "recheck": {"evidence": ["回头看.pdf"]},
        "spot_check": {"seed": 1},
        "rebound": {
            "evidence": ["反弹.pdf"],
            "deadline": (day + dt.timedelta(days=60)).isoformat(),
        },
    }[event]


@attrs.frozen
class Scenario:
    """A ledger where ACTOR holds *role* and stands in *relation* to F1, ready for *event*."""

    event: str
    role: str
    relation: str
    at: str


def build(ledger: Ledger, event: str, role: str, relation: str) -> Scenario:
    """Drive F1 to the state *event* needs, with roles as the scenario says."""
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    ledger.add_actor("办", roles=["inspector", "leader"], at=t(0))  # ledger-wide; roles mode on
    ledger.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(0))
    ledger.add_actor("丙", roles=["leader"], inspection="R1", actor="办", at=t(0))
    person = ACTOR if relation == "responsible" else "乙"
    add_finding(ledger, person=person, measures=(Measure("M1", "整改措施"),))
    submitter = relation == "submitter"
    if submitter:
        ledger.add_actor(ACTOR, roles=["owner"], inspection="R1", actor="办", at=t(1))
    else:
        ledger.add_actor(ACTOR, roles=[role], inspection="R1", actor="办", at=t(1))
    state = STATE_FOR[event]
    if state != "assigned":
        ledger.fire("F1", "start", actor="乙", at=t(2))
        if event != "record_measure":
            ledger.fire("F1", "record_measure", actor="乙", measure="M1", at=t(3))
    if state in ("pending_signoff", "completed"):
        who = ACTOR if submitter else "乙"
        ledger.fire("F1", "submit", actor=who, evidence=["完成.pdf"], at=t(4))
    if state == "completed":
        ledger.fire("F1", "sign_off", actor="丙", at=t(5))
    if submitter and role != "owner":
        ledger.revoke_role(ACTOR, "owner", inspection="R1", actor="办", at=t(6))
        ledger.add_actor(ACTOR, roles=[role], inspection="R1", actor="办", at=t(6))
    at = t(120) if event == "recheck" else t(7)
    return Scenario(event, role, relation, at)


def case_id(case: tuple[str, str, str]) -> str:
    """``event-role-relation``."""
    return "-".join(case)


def test_the_matrix_has_at_least_70_cases() -> None:
    """The issue asks for at least 70 (event, role, relation) cases."""
    assert len(MATRIX) >= 70
    assert {e for e, _, _ in MATRIX} == set(MAY)
    assert any(expected(*c) is None for c in MATRIX)
    assert any(expected(*c) is PermissionDenied for c in MATRIX)
    assert any(expected(*c) is RuleViolation for c in MATRIX)


@pytest.mark.parametrize("case", MATRIX, ids=case_id)
def test_role_matrix_through_the_api(case: tuple[str, str, str]) -> None:
    """Each (event, role, relation) is allowed or refused as the policy says; a refusal writes nothing."""
    event, role, relation = case
    ledger = new_ledger()
    sc = build(ledger, event, role, relation)
    head, before = ledger.head(), ledger.get("F1")
    error = expected(event, role, relation)
    args = event_args(event, relation, sc.at)
    if error is None:
        after = ledger.fire("F1", event, actor=ACTOR, at=sc.at, **args)
        assert after.version == before.version + 1
        assert ledger.verify().ok
    else:
        with pytest.raises(error) as info:
            ledger.fire("F1", event, actor=ACTOR, at=sc.at, **args)
        if error is PermissionDenied:
            denied = info.value
            assert isinstance(denied, PermissionDenied)
            assert (denied.actor, denied.event) == (ACTOR, event)
            assert set(denied.needed) == MAY[event]
        assert ledger.head() == head
        assert ledger.get("F1") == before


def cli_args(event: str, args: dict[str, Any]) -> list[str]:
    """*args* as ``fire`` options."""
    out: list[str] = []
    for key, value in args.items():
        if key == "note":
            out += ["--note", value]
        elif key == "evidence":
            for ref in value:
                out += ["--evidence", ref]
        else:
            out += ["--arg", f"{key}={value}"]
    return out


@pytest.mark.parametrize("case", MATRIX, ids=case_id)
def test_role_matrix_through_the_cli(
    case: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI allows and refuses exactly as the API does: exit 0, or exit 2 naming the error."""
    event, role, relation = case
    db = str(tmp_path / "t.db")
    with new_ledger(db) as ledger:
        sc = build(ledger, event, role, relation)
        head = ledger.head()
    argv = ["--ledger", db, "--json", "fire", "F1", event, "--actor", ACTOR, "--at", sc.at]
    code = main([*argv, *cli_args(event, event_args(event, relation, sc.at))])
    _, err = capsys.readouterr()
    error = expected(event, role, relation)
    with Ledger.open(db) as ledger:
        if error is None:
            assert code == 0, err
            assert ledger.history("F1")[-1].name == event
        else:
            assert code == 2
            assert json.loads(err)["error"] == error.__name__
            assert ledger.head() == head


# ---------------------------------------------------------------- separation of duties


@pytest.fixture
def office() -> Ledger:
    """Roles mode: 办 (inspector+leader, ledger-wide), 乙 and 戊 owners, 丙 and 丁 leaders, 查 checker."""
    ledger = new_ledger()
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    ledger.add_actor("办", roles=["inspector", "leader"], at=t(0))
    ledger.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(0))
    ledger.add_actor("戊", roles=["owner"], inspection="R1", actor="办", at=t(0))
    ledger.add_actor("丙", roles=["leader", "owner"], inspection="R1", actor="办", at=t(0))
    ledger.add_actor("丁", roles=["leader"], inspection="R1", actor="办", at=t(0))
    ledger.add_actor("查", roles=["checker", "owner"], inspection="R1", actor="办", at=t(0))
    add_finding(ledger)
    ledger.fire("F1", "start", actor="乙", at=t(2))
    return ledger


def refused(ledger: Ledger, error: type[Exception], call: Callable[[], Any]) -> Exception:
    """Run *call*, expect *error*, and check that nothing changed."""
    head = ledger.head()
    with pytest.raises(error) as info:
        call()
    assert ledger.head() == head
    return info.value


def refused_then_done(
    ledger: Ledger, error: type[Exception], event: str, first: str, second: str, at: str
) -> str:
    """*event* on F1 (with evidence) by *first* at *at* is refused; by *second* it passes.

    Returns:
        F1's state afterwards. When *first* is *second*, only the time differs: the
        refused try is made a day before *at*.
    """
    early = pendulum.parse(at).subtract(days=1).isoformat() if first == second else at
    refused(
        ledger, error, lambda: ledger.fire("F1", event, actor=first, evidence=["e.pdf"], at=early)
    )
    return ledger.fire("F1", event, actor=second, evidence=["e.pdf"], at=at).state


def test_sod_leader_cannot_sign_off_what_they_submitted(office: Ledger) -> None:
    """A leader who also submitted (as owner) cannot sign it off; another leader can."""
    office.fire("F1", "submit", actor="丙", evidence=["e.pdf"], at=t(3))
    refused(office, RuleViolation, lambda: office.fire("F1", "sign_off", actor="丙", at=t(4)))
    assert office.fire("F1", "sign_off", actor="丁", at=t(4)).state == "completed"


def test_sod_responsible_person_cannot_sign_off(office: Ledger) -> None:
    """The responsible person never signs off their own finding, even holding the leader role."""
    add_finding(office, "F2", person="丙")
    office.fire("F2", "start", actor="乙", at=t(2))
    office.fire("F2", "submit", actor="乙", evidence=["e.pdf"], at=t(3))
    error = refused(office, RuleViolation, lambda: office.fire("F2", "sign_off", actor="丙"))
    assert isinstance(error, RuleViolation)
    assert error.rule == "signer_not_responsible"
    assert office.fire("F2", "sign_off", actor="丁").state == "completed"


def test_sod_checker_cannot_recheck_work_they_did(office: Ledger) -> None:
    """A checker who submitted the work cannot recheck it; another checker (the office) can."""
    office.fire("F1", "submit", actor="查", evidence=["e.pdf"], at=t(3))
    office.fire("F1", "sign_off", actor="丁", at=t(4))
    assert refused_then_done(office, RuleViolation, "recheck", "查", "办", t(120)) == "rechecked"


def test_sod_requester_cannot_approve_their_extension(office: Ledger) -> None:
    """The leader who requested an extension cannot approve it; another leader can."""

    def extend(approver: str) -> Any:
        return office.fire(
            "F1",
            "extend",
            actor=approver,
            requested_by="丙",
            until="2024-05-31",
            reason="经费",
            at=t(5),
        )

    refused(office, RuleViolation, lambda: extend("丙"))
    assert extend("丁").extensions == 1


def test_sod_submitter_cannot_reject_their_own_submission(office: Ledger) -> None:
    """A leader who submitted cannot reject (as if reviewing) their own submission."""
    office.fire("F1", "submit", actor="丙", evidence=["e.pdf"], at=t(3))
    refused(office, RuleViolation, lambda: office.fire("F1", "reject", actor="丙", note="x"))


def test_sod_gate_refuses_a_submitter_signing_even_past_the_workflow(office: Ledger) -> None:
    """An import-style write that skipped the workflow's rules is still refused at the gate."""
    office.fire("F1", "submit", actor="丙", evidence=["e.pdf"], at=t(3))
    before = office.get("F1")
    row = Event("F1", "sign_off", pendulum.parse(t(4)), "丙", version=before.version + 1)
    error = refused(office, PermissionDenied, lambda: office._writer.admit(row, before))
    assert isinstance(error, PermissionDenied)
    assert error.needed == ()


def test_sod_gate_applies_without_actors() -> None:
    """Without registered actors the gate still enforces separation of duties (an import row)."""
    ledger = new_ledger()
    ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
    add_finding(ledger, person="乙")
    ledger.fire("F1", "start", actor="乙", at=t(2))
    ledger.fire("F1", "submit", actor="丙", evidence=["e.pdf"], at=t(3))
    before = ledger.get("F1")
    signed = Event("F1", "sign_off", pendulum.parse(t(4)), "丙", version=before.version + 1)
    refused(ledger, PermissionDenied, lambda: ledger._writer.admit(signed, before))
    cancel = Event("F1", "cancel", pendulum.parse(t(4)), "乙", payload={"reason": "x"})
    refused(ledger, PermissionDenied, lambda: ledger._writer.admit(cancel, before))


def test_sod_revoked_role_stops_working_from_its_revocation(office: Ledger) -> None:
    """A revoked role covers nothing recorded after the revocation, whatever time it claims."""
    office.fire("F1", "submit", actor="乙", evidence=["e.pdf"], at=t(3))
    office.revoke_role("丁", "leader", inspection="R1", actor="办", at=t(4))
    refused(office, PermissionDenied, lambda: office.fire("F1", "sign_off", actor="丁", at=t(5)))
    # backdating the event to before the revocation does not help either
    refused(office, PermissionDenied, lambda: office.fire("F1", "sign_off", actor="丁", at=t(3)))
    assert [g.revoked_in is not None for g in office.grants("丁")] == [True]


def test_sod_role_granted_later_does_not_cover_an_earlier_time(office: Ledger) -> None:
    """A role granted at T covers no event dated before T."""
    office.add_actor("新", roles=["owner"], inspection="R1", actor="办", at=t(10))
    refused(
        office,
        PermissionDenied,
        lambda: office.fire("F1", "submit", actor="新", evidence=["e.pdf"], at=t(5)),
    )
    assert refused_then_done(office, PermissionDenied, "submit", "新", "新", t(10)) == (
        "pending_signoff"
    )


def test_sod_roles_are_per_inspection(office: Ledger) -> None:
    """A leader of R1 has no say over R2's findings."""
    office.add_inspection("R2", title="审计", feedback_at="2024-01-05", actor="办", at=t(1))
    office.add_actor("乙", roles=["owner"], inspection="R2", actor="办", at=t(1))
    add_finding(office, "G1", inspection="R2")
    office.fire("G1", "start", actor="乙", at=t(2))
    office.fire("G1", "submit", actor="乙", evidence=["e.pdf"], at=t(3))
    error = refused(office, PermissionDenied, lambda: office.fire("G1", "sign_off", actor="丁"))
    assert isinstance(error, PermissionDenied)
    assert error.inspection == "R2"
    assert office.fire("G1", "sign_off", actor="办").state == "completed"  # ledger-wide leader


def test_sod_unregistered_actor_is_refused(office: Ledger) -> None:
    """In roles mode an unregistered name cannot fire anything."""
    error = refused(
        office, PermissionDenied, lambda: office.fire("F1", "submit", actor="路人", evidence=["e"])
    )
    assert isinstance(error, PermissionDenied)
    assert error.actor == "路人"
    assert error.needed == ("owner",)


def test_sod_names_are_compared_like_people(office: Ledger) -> None:
    """A full-width or padded variant of a name is the same person, roles and duties alike."""
    office.fire("F1", "submit", actor="丙", evidence=["e.pdf"], at=t(3))
    refused(office, RuleViolation, lambda: office.fire("F1", "sign_off", actor=" 丙 ", at=t(4)))


def test_sod_only_leaders_and_inspectors_grant_roles(office: Ledger) -> None:
    """An owner cannot register actors or revoke roles; a leader can."""
    for call in (
        lambda: office.add_actor("某", roles=["leader"], inspection="R1", actor="乙"),
        lambda: office.revoke_role("丁", "leader", inspection="R1", actor="乙"),
    ):
        refused(office, PermissionDenied, call)
    office.add_actor("某", roles=["checker"], inspection="R1", actor="丁", at=t(3))
    assert [g.role for g in office.grants("某")] == ["checker"]


def test_sod_inspection_writes_need_their_roles(office: Ledger) -> None:
    """add_inspection, change_inspection and submit_report are refused to the wrong roles."""
    refused(
        office,
        PermissionDenied,
        lambda: office.add_inspection("R3", title="x", feedback_at="2024-01-05", actor="丁"),
    )
    refused(
        office,
        PermissionDenied,
        lambda: office.change_inspection("R1", declared_findings=3, reason="更正", actor="乙"),
    )
    refused(
        office,
        PermissionDenied,
        lambda: office.submit_report("R1", actor="乙", evidence=["报告.pdf"]),
    )
    office.submit_report("R1", actor="丁", evidence=["报告.pdf"], at=t(20))
    office.change_inspection("R1", declared_findings=3, reason="更正", actor="办", at=t(21))
    assert office.inspection("R1").declared_findings == 3


# ---------------------------------------------------------------- roles mode


def test_without_actors_anyone_may_fire() -> None:
    """A ledger without registered actors enforces no roles (scripts, the quick start)."""
    ledger = new_ledger()
    ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
    assert not ledger.roles_mode
    add_finding(ledger, person="乙", actor="谁都行")
    assert ledger.fire("F1", "start", actor="随便", at=t(2)).state == "in_progress"


def test_roles_mode_is_for_good_and_on_the_chain(tmp_path: Path) -> None:
    """The first add_actor is a chained event; reopening keeps roles mode; it cannot be left."""
    db = str(tmp_path / "r.db")
    with new_ledger(db) as ledger:
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
        ledger.add_actor("办", roles=["leader"], at=t(1))
        ledger.revoke_role("办", "leader", actor="办", at=t(2))
        assert ledger.roles_mode
    with new_ledger(db) as ledger:
        assert ledger.roles_mode
        events = ledger.ledger_history()
        assert [e.name for e in events] == ["add_inspection", "add_actor", "revoke_role"]
        assert events[1].payload["roles_mode"] is True
        # nobody holds a role any more: every write is refused, for good
        refused(
            ledger,
            PermissionDenied,
            lambda: ledger.add_actor("新", roles=["leader"], actor="办"),
        )
        refused(
            ledger,
            PermissionDenied,
            lambda: ledger.add_inspection("R2", title="x", feedback_at="2024-01-05", actor="办"),
        )
        assert ledger.verify().ok


def test_bad_role_arguments_are_refused(office: Ledger) -> None:
    """Unknown roles, roles already held, revoking what is not held: InvalidInput, nothing written."""
    for call in (
        lambda: office.add_actor("某", roles=["boss"], actor="办"),
        lambda: office.add_actor("某", roles=[], actor="办"),
        lambda: office.add_actor("乙", roles=["owner"], inspection="R1", actor="办"),
        lambda: office.revoke_role("乙", "leader", inspection="R1", actor="办"),
    ):
        refused(office, InvalidInput, call)


def test_unknown_keyword_arguments_are_refused(office: Ledger) -> None:
    """No admin or force flag: an unknown keyword is refused by fire and by every writer."""
    refused(
        office,
        InvalidInput,
        lambda: office.fire("F1", "start", actor="乙", at=t(3), force=True),
    )
    refused(office, InvalidInput, lambda: office.fire("F1", "sign_off", actor="办", admin=True))
    for call in (
        lambda: office.add_actor("某", roles=["owner"], actor="办", force=True),  # type: ignore[call-arg]
        lambda: office.submit_report("R1", actor="办", evidence=["r"], admin=True),  # type: ignore[call-arg]
        lambda: office.add_inspection("R9", title="x", feedback_at="2024-01-05", force=True),  # type: ignore[call-arg]
    ):
        refused(office, TypeError, call)


def test_permission_denied_is_typed_and_translated(office: Ledger) -> None:
    """PermissionDenied is a RectflowError and a PermissionError, in Chinese or English."""
    stage = {"note": "x", "evidence": ["e"], "next_checkpoint": "2024-02-01", "at": t(3)}
    with pytest.raises(PermissionError) as zh:
        office.fire("F1", "stage", actor="丁", **stage)
    assert "角色" in str(zh.value)
    en = Ledger(office.store, clock=lambda: CLOCK, lang="en")
    with pytest.raises(PermissionDenied, match="does not hold a role owner"):
        en.fire("F1", "stage", actor="丁", **stage)


# ---------------------------------------------------------------- batches


def test_batch_sees_its_own_grants_and_rolls_them_back(office: Ledger) -> None:
    """Inside batch() a grant applies to the block's later events; a failed block undoes both."""
    head = office.head()

    def block() -> None:
        with office.batch():
            office.add_actor("新", roles=["owner"], inspection="R1", actor="办", at=t(3))
            staged = office.fire(
                "F1",
                "stage",
                actor="新",
                note="x",
                evidence=["e"],
                next_checkpoint="2024-02-20",
                at=t(4),
            )
            assert staged.state == "staged_result"
            raise RuntimeError

    with pytest.raises(RuntimeError):
        block()
    assert office.head() == head
    assert office.grants("新") == []
    refused(
        office,
        PermissionDenied,
        lambda: office.fire("F1", "submit", actor="新", evidence=["e"], at=t(5)),
    )
    with office.batch():
        office.add_actor("新", roles=["owner"], inspection="R1", actor="办", at=t(3))
        office.fire("F1", "submit", actor="新", evidence=["e"], at=t(5))
    assert office.verify().ok


def test_batch_refuses_a_revoked_role_after_the_revocation(office: Ledger) -> None:
    """A revocation earlier in the same batch already stops the role."""
    with office.batch():
        office.revoke_role("乙", "owner", inspection="R1", actor="办", at=t(3))
        with pytest.raises(PermissionDenied):
            office.fire("F1", "submit", actor="乙", evidence=["e"], at=t(4))
    assert office.get("F1").state == "in_progress"


def test_another_process_grant_is_seen(tmp_path: Path) -> None:
    """A grant written through another connection is known to the next check."""
    db = str(tmp_path / "r.db")
    with new_ledger(db) as a, new_ledger(db) as b:
        a.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
        a.add_actor("办", roles=["inspector", "leader"], at=t(0))
        assert b.roles_mode
        b.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(1))
        assert [g.role for g in a.grants("乙")] == ["owner"]


# ---------------------------------------------------------------- the one gate


def _import_one(led: Ledger, n: int) -> Any:
    """import_file of a one-row 台账 (a file of its own each time)."""
    path = Path(tempfile.mkdtemp()) / "f.csv"
    path.write_text(
        f"编号,巡察,问题,整改时限,责任部门\nI9{n},R1,问题,2024-03-29,德育处\n", encoding="utf-8"
    )
    return led.import_file(path, actor="办")


WRITERS: dict[str, Callable[[Ledger, int], Any]] = {
    "import_file": _import_one,
    "add_inspection": lambda led, n: led.add_inspection(
        f"R9{n}", title="x", feedback_at="2024-01-05", actor="办", at=t(3)
    ),
    "add_finding": lambda led, n: led.add_finding(
        f"F9{n}",
        inspection="R1",
        title="x",
        kind="deadline",
        owner=Owner("a", "b", "c"),
        deadline="2024-03-29",
        actor="办",
        at=t(3),
    ),
    "fire": lambda led, n: led.fire(
        "F1", "stage", actor="乙", note="x", evidence=["e"], next_checkpoint="2024-02-20", at=t(3)
    ),
    "add_actor": lambda led, n: led.add_actor(
        "某", roles=["owner"], inspection="R1", actor="办", at=t(3)
    ),
    "revoke_role": lambda led, n: led.revoke_role(
        "乙", "owner", inspection="R1", actor="办", at=t(3)
    ),
    "change_inspection": lambda led, n: led.change_inspection(
        "R1", declared_findings=4, reason="更正", actor="办", at=t(3)
    ),
    "submit_report": lambda led, n: led.submit_report(
        "R1", actor="丁", evidence=["r.pdf"], at=t(3)
    ),
}
READERS = {
    "open",
    "close",
    "now",
    "inspection",
    "inspections",
    "resolve_deadline",
    "get",
    "findings",
    "history",
    "batch",
    "as_of",
    "report",
    "agenda",
    "draw_spot_checks",
    "export_file",
    "head",
    "signed_head",
    "verify",
    "actors",
    "grants",
    "roles_mode",
    "ledger_history",
    "events_since",
    "subscribe",  # registers a callback; writes nothing
    "policy",
    "workflow",
    "store",
    "lang",
}


def test_every_public_method_is_classified() -> None:
    """Each public name of Ledger is a known writer or a known reader: a new one must be added here."""
    public = {n for n, _ in inspect.getmembers(Ledger) if not n.startswith("_")}
    assert public - set(WRITERS) - READERS == set()
    assert set(WRITERS) <= public


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_every_writer_goes_through_the_gate(name: str, office: Ledger) -> None:
    """Every public writing method calls the gate (Writer.admit) before it stores anything; a refusal there stores nothing."""
    seen: list[Event] = []
    admit = office._writer.admit

    def spy(event: Event, before: Any) -> None:
        seen.append(event)
        admit(event, before)

    office._writer.admit = spy  # type: ignore[method-assign]
    WRITERS[name](office, 1)
    assert seen, name
    assert seen[-1] in (office.ledger_history()[-1], *office.history(seen[-1].finding_id or "F1"))

    head = office.head()

    def deny(event: Event, before: Any) -> None:
        raise PermissionDenied("no", actor=event.actor, event=event.name, needed=())

    office._writer.admit = deny  # type: ignore[method-assign]
    with pytest.raises((PermissionDenied, LedgerFileError)) as refused:
        WRITERS[name](office, 2)
    if isinstance(refused.value, LedgerFileError):  # a file reports it at its row
        assert [e.code for e in refused.value.errors] == ["permission_denied"]
    assert office.head() == head


def test_add_inspection_and_reports_are_chained(office: Ledger) -> None:
    """add_inspection, change_inspection and submit_report are ledger-level events with their data."""
    office.change_inspection(
        "R1", feedback_at="2024-01-06", reason="以反馈会日期为准", actor="办", at=t(3)
    )
    office.submit_report("R1", actor="丁", evidence=["报告.pdf"], at=t(4))
    names = [e.name for e in office.ledger_history()]
    assert names[0] == "add_inspection"
    assert names[-2:] == ["change_inspection", "submit_report"]
    assert all(e.finding_id == LEDGER for e in office.ledger_history())
    insp = office.inspection("R1")
    assert insp.feedback_at == dt.date(2024, 1, 6)
    assert insp.report_submitted_at == pendulum.parse(t(4))
    assert office.ledger_history()[-2].note == "以反馈会日期为准"
    with pytest.raises(InvalidInput):
        office.change_inspection("R1", reason="无", actor="办")
    with pytest.raises(InvalidInput):
        office.change_inspection("R1", declared_findings=2, reason=" ", actor="办")
    with pytest.raises(RuleViolation):
        office.submit_report("R1", actor="丁", evidence=[])


def test_agenda_report_due_clears_once_submitted(office: Ledger) -> None:
    """The report-due item is overdue until submitted; as of a day before the submission it still is."""
    before = office.agenda(as_of="2024-06-01").inspections[0]
    assert before.report_overdue
    assert before.report_submitted is None
    office.submit_report("R1", actor="丁", evidence=["报告.pdf"], at="2024-06-10T09:00:00+08:00")
    after = office.agenda(as_of="2024-06-11").inspections[0]
    assert not after.report_overdue
    assert after.report_submitted == pendulum.parse("2024-06-10T09:00:00+08:00")
    assert after.to_dict()["report_submitted"] == "2024-06-10T09:00:00+08:00"
    assert "已报送" in office.agenda(as_of="2024-06-11").to_text()
    assert office.agenda(as_of="2024-06-05").inspections[0].report_overdue


def test_role_policy_is_data() -> None:
    """A policy may give an event to other roles; the ledger records it and enforces it."""
    policy = Policy(roles={"start": ["leader", "owner"]}, separation={"cancel": []})
    ledger = Ledger.open(policy=policy, clock=lambda: CLOCK)
    ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
    ledger.add_actor("丙", roles=["leader"], at=t(0))
    add_finding(ledger, person="丙", actor="丙")
    assert ledger.fire("F1", "start", actor="丙", at=t(2)).state == "in_progress"
    assert dict(ledger.policy.roles)["start"] == ("leader", "owner")


README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_roles_section_runs_and_matches_the_policy() -> None:
    """The README's "Who may do what" example runs, and its table is the default policy's."""
    section = README.read_text(encoding="utf-8").split("## Who may do what", 1)[1]
    section = section.split("\n## ", 1)[0]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["ledger"].inspection("R1").report_submitted_at is not None
    words = {"the extension's requester": "requester", "the responsible person": "responsible"}
    roles: dict[str, set[str]] = {}
    barred: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        for event in (e.strip("` ").split()[0].strip("`") for e in cells[0].split(",")):
            roles[event] = {r.split()[0] for r in cells[1].split(", ")}
            names = [n.strip() for n in cells[2].split(",") if n.strip()]
            barred[event] = {words.get(n, n.split()[-1]) for n in names}
    policy = Policy()
    assert roles == {e: set(r) for e, r in policy.roles}
    assert {e: b for e, b in barred.items() if b} == {e: set(r) for e, r in policy.separation}


def test_history_of_the_ledger_subject_is_not_a_finding(office: Ledger) -> None:
    """history("") is no back door to the ledger-level events: use ledger_history()."""
    with pytest.raises(KeyError):
        office.history("")
    assert office.ledger_history()[0].name == "add_inspection"


# ---------------------------------------------------------------- the cached ledger state


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_the_ledger_state_follows_rollbacks_and_other_writers(backend: str, tmp_path: Any) -> None:
    """The gate's cached state is dropped when its last event is rolled back (even after it
    was read inside the block) and picks up what another ledger on the same store wrote."""
    target = ":memory:" if backend == "memory" else str(tmp_path / "l.db")
    ledger = new_ledger(target)
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    ledger.add_actor("办", roles=["inspector", "leader"], at=t(0))
    add_finding(ledger)

    def grant_then_fail() -> None:
        with ledger.store.transaction():
            ledger.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(1))
            assert [g.role for g in ledger.grants("乙")] == ["owner"]  # read (and cached) inside
            raise RuntimeError

    def add_then_fail() -> None:
        with ledger.store.transaction():  # no read of the state before the rollback
            ledger.add_inspection(
                "R2", title="专项巡察", feedback_at="2024-01-05", at=t(1), actor="办"
            )
            raise RuntimeError

    with pytest.raises(RuntimeError):
        grant_then_fail()
    assert ledger.grants("乙") == []
    with pytest.raises(RuntimeError):
        add_then_fail()
    ledger.add_inspection("R2", title="专项巡察", feedback_at="2024-01-05", at=t(1), actor="办")
    refused(ledger, PermissionDenied, lambda: ledger.fire("F1", "start", actor="乙", at=t(2)))
    other = Ledger(ledger.store, clock=lambda: CLOCK) if backend == "memory" else new_ledger(target)
    other.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(1))
    assert ledger.fire("F1", "start", actor="乙", at=t(2)).state == "in_progress"
    other.revoke_role("乙", "owner", inspection="R1", actor="办", at=t(3))
    refused(
        ledger,
        PermissionDenied,
        lambda: ledger.fire(
            "F1",
            "stage",
            actor="乙",
            note="x",
            evidence=["e"],
            next_checkpoint="2024-02-20",
            at=t(4),
        ),
    )
    assert ledger.verify().ok


def test_ledger_tip_marks_the_last_ledger_level_event(tmp_path: Any) -> None:
    """Every store's ledger_tip is (version, hash) of its last ledger-level event and goes back
    with a rollback; stores holding the same chain give the same tip."""
    memory, sqlite = new_ledger(), new_ledger(str(tmp_path / "l.db"))
    for ledger in (memory, sqlite):
        assert ledger.store.ledger_tip() == (0, "")
        ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
        add_finding(ledger)  # a finding's event is not a ledger-level one
    entries = list(memory.store.chain())
    assert memory.store.ledger_tip() == (1, entries[0].hash)
    assert sqlite.store.ledger_tip() == memory.store.ledger_tip()

    def grant_then_fail(ledger: Ledger) -> None:
        with ledger.store.transaction():
            ledger.add_actor("办", roles=["inspector"], at=t(1))
            assert ledger.store.ledger_tip()[0] == 2
            raise RuntimeError

    for ledger in (memory, sqlite):
        tip = ledger.store.ledger_tip()
        with pytest.raises(RuntimeError):
            grant_then_fail(ledger)
        assert ledger.store.ledger_tip() == tip


def _owner_ledger(target: str) -> Ledger:
    """A roles-mode ledger: 办 registers, 乙 owns R1; F1 added."""
    ledger = new_ledger(target)
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    ledger.add_actor("办", roles=["inspector", "leader"], at=t(0))
    ledger.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(0))
    add_finding(ledger)
    return ledger


@pytest.mark.parametrize("backend", ["memory", "postgres"])
def test_a_batch_admitted_before_another_writers_revoke_is_refused_at_its_flush(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Fires buffered by a batch are admitted again under the store's write lock: a revoke
    that another writer committed in between (chained before them) refuses the whole batch."""
    target = ":memory:" if backend == "memory" else request.getfixturevalue("pg_target")
    ledger = _owner_ledger(target)
    other = Ledger(ledger.store, clock=lambda: CLOCK) if backend == "memory" else new_ledger(target)
    head = other.head()

    def batch_with_a_revoke_in_between() -> None:
        with ledger.batch():
            ledger.fire("F1", "start", actor="乙", at=t(2))  # admitted: 乙 owns R1 now
            if backend == "memory":  # one process: the revoke joins the batch's transaction
                other.revoke_role("乙", "owner", inspection="R1", actor="办", at=t(1))
            else:  # another connection: committed before the batch takes the write lock
                other.revoke_role("乙", "owner", inspection="R1", actor="办", at=t(1))
                head_after_revoke.append(other.head())

    head_after_revoke: list[Any] = []
    with pytest.raises(PermissionDenied):
        batch_with_a_revoke_in_between()
    assert ledger.get("F1").state == "assigned"
    if backend == "postgres":
        assert other.head() == head_after_revoke[0]  # the revoke stands, the batch does not
        assert [g.revoked_at is not None for g in other.grants("乙")] == [True]
    else:
        assert other.head() == head  # both went with the batch's transaction
    assert ledger.verify().ok


@pytest.mark.parametrize("backend", ["memory", "postgres"])
def test_an_import_planned_before_another_writers_revoke_is_refused(
    backend: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """A table's rows are admitted while it is read; a revoke of the importer's role that
    another writer commits before the write refuses the import, and nothing is written."""
    target = ":memory:" if backend == "memory" else request.getfixturevalue("pg_target")
    ledger = _owner_ledger(target)
    other = Ledger(ledger.store, clock=lambda: CLOCK) if backend == "memory" else new_ledger(target)
    path = tmp_path / "a.csv"
    lines = ["编号,巡察,问题,整改时限,责任部门"]
    lines += [f"G{i},R1,问题{i},2024-03-01,德育处" for i in range(1500)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ledger.add_actor("录", roles=["inspector"], actor="办", at=t(0))  # the importer
    head = ledger.head()

    def revoke(rows: int) -> None:
        if rows == 1000:  # the file is half read: its rows so far were admitted
            other.revoke_role("录", "inspector", actor="办", at=t(1))

    with pytest.raises(PermissionDenied):
        ledger.import_file(path, actor="录", progress=revoke)
    assert [f.id for f in ledger.findings()] == ["F1"]
    if backend == "memory":  # one process: the revoke went with the import's transaction
        assert ledger.head() == head
    else:
        assert ledger.head().count == head.count + 1  # the revoke alone
    assert ledger.verify().ok
