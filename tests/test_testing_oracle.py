"""`rectflow.testing`'s machine notices a broken rule (issue 15): a deleted guard fails it.

The full kit is `make mutation` (scripts/workflow-mutants): every guard and effect of the
default workflow. Here two mutants, at small settings with a fixed seed; the failure must be
the one the mutant causes (the unmutated machine runs in test_stateful.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from rectflow import Ledger, Owner, Policy, Workflow
from rectflow._model import Event, Finding
from rectflow.testing import LedgerStateMachine

SMALL = settings(
    max_examples=40,
    stateful_step_count=50,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)


def _machine(workflow: Callable[[Policy], Workflow]) -> type[LedgerStateMachine]:
    class Machine(LedgerStateMachine):
        def make_ledger(self, clock: Callable[[], dt.datetime]) -> Ledger:
            policy = Policy(calendar="weekdays", look_back_wait="10 days")
            return Ledger.open(":memory:", workflow=workflow(policy), clock=clock)

    return Machine


def _without(event: str, guard: str) -> Callable[[Policy], Workflow]:
    def build(policy: Policy) -> Workflow:
        workflow = Workflow(policy)
        kept = tuple(r for r in workflow.rules[event] if r.__name__ != guard)
        assert len(kept) == len(workflow.rules[event]) - 1
        workflow.rules = {**workflow.rules, event: kept}
        return workflow

    return build


class _NoExtension(Workflow):
    """``extend`` counts the extension but leaves the deadline where it was."""

    def apply(self, finding: Finding, event: Event, **kwargs: object) -> Finding:
        after = super().apply(finding, event, **kwargs)  # type: ignore[arg-type]
        if event.name == "extend":
            after = attrs.evolve(after, deadline=finding.deadline)
        return after


def test_a_deleted_signer_rule_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"sign_off .*expected rule:signer_not_"):
        run_state_machine_as_test(_machine(_without("sign_off", "_signer")), settings=SMALL)


def test_an_extension_that_does_not_move_the_deadline_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"≠ model"):
        run_state_machine_as_test(_machine(_NoExtension), settings=SMALL)


def test_the_oracle_names_each_broken_rule() -> None:
    """The rules' oracle agrees with the guards on hand-made cases (name and order)."""
    machine = LedgerStateMachine()
    try:
        machine.first_finding(owner=Owner("张校长", "德育处", "王老师"), ms=())
        m = machine.model["F0"]
        at = m.updated_at + dt.timedelta(hours=1)

        def broken(name: str, actor: str = "李主任", **kw: object) -> list[str]:
            fields = {"note": "说明", "evidence": ("a.pdf",), "payload": {}} | kw
            return machine.violations(
                m,
                Event(
                    "F0", name, at, actor, fields["note"], fields["evidence"], fields["payload"], 0
                ),
            )

        assert broken("start") == []
        assert broken("stage", note=None, evidence=()) == [
            "note_required",
            "evidence_required",
            "checkpoint_required",
        ]
        assert broken("cancel", actor="王老师", payload={"reason": "重复"}) == [
            "canceller_not_responsible"
        ]
        assert broken(
            "extend",
            payload={
                "requested_by": "李主任",
                "reason": "r",
                "until": m.deadline + dt.timedelta(days=3),
            },
        ) == ["approver_not_requester"]
        m.submitter = "李主任"
        assert broken("sign_off") == ["signer_not_submitter"]
        assert broken("sign_off", actor="王老师") == ["signer_not_responsible"]
        assert broken("sign_off", actor="陈主任") == []
    finally:
        machine.teardown()
