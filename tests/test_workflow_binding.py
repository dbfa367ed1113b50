"""A ledger is held to its workflow definition (issue 15).

It records the definition it is written with (a ``change_workflow`` event, except
for the built-in one on a ledger that records none); opened with another one, its
first write raises :class:`WorkflowMismatch` and writes nothing, while reading and
``verify`` still work; ``verify`` names the rules a process has not registered.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
import pytest

import rectflow
from rectflow import (
    EventSpec,
    Ledger,
    Owner,
    PermissionDenied,
    StateSpec,
    WorkflowMismatch,
    WorkflowSpec,
)
from rectflow._spec import Context
from rectflow._store.memory import MemoryStore
from rectflow._workflow import DEFAULT_SPEC

NOW = pendulum.datetime(2025, 3, 1, 12, tz="Asia/Shanghai")
RULE = "hbind_two_files"


def at(day: str, hour: int = 9) -> str:
    return f"{day}T{hour:02d}:00:00+08:00"


def clock() -> pendulum.DateTime:
    return NOW


@rectflow.rule(RULE)
def two_files(ctx: Context) -> bool:
    """Sign-off only on a submission with two evidence files."""
    submission = ctx.submission
    return submission is not None and len(submission.evidence) >= 2


def app_spec() -> WorkflowSpec:
    """The default definition with an ``escalated`` state and a rule of the app's."""
    base = DEFAULT_SPEC
    return base.extend(
        name="school",
        states=[StateSpec("escalated", kind="open", zh="挂牌督办", en="escalated")],
        events=[
            EventSpec(
                "escalate",
                sources=("in_progress",),
                destination="escalated",
                zh="挂牌督办",
                en="escalate",
            ),
            attrs.evolve(base.event("submit"), sources=("in_progress", "escalated")),
            attrs.evolve(base.event("sign_off"), guards=("signer", RULE)),
        ],
    )


Opener = Callable[..., Ledger]


@pytest.fixture(params=["sqlite", "memory", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Opener:
    """Opens the same ledger again and again, with the definition asked for."""
    if request.param == "memory":
        store = MemoryStore()
        return lambda workflow=None, **kw: Ledger(store, clock=clock, workflow=workflow, **kw)
    target = (
        str(tmp_path / "l.db")
        if request.param == "sqlite"
        else request.getfixturevalue("pg_target")
    )
    return lambda workflow=None, **kw: Ledger.open(target, clock=clock, workflow=workflow, **kw)


def populate(ledger: Ledger) -> None:
    ledger.add_inspection("R1", title="巡察", feedback_at="2025-01-02", at=at("2025-01-02"))
    ledger.add_finding(
        "F1",
        inspection="R1",
        title="问题",
        kind="deadline",
        owner=Owner("张校长", "德育处", "王老师"),
        deadline="2025-03-31",
        actor="巡察办",
        at=at("2025-01-03"),
    )
    ledger.fire("F1", "start", actor="王老师", at=at("2025-01-06"))
    ledger.fire("F1", "escalate", actor="巡察办", at=at("2025-01-07"))


def workflow_events(ledger: Ledger) -> list[Any]:
    return [e for e in ledger.events_since(0).events if e.name == "change_workflow"]


def test_the_first_write_records_the_apps_definition(opener: Opener) -> None:
    spec = app_spec()
    ledger = opener(spec)
    populate(ledger)
    (recorded,) = workflow_events(ledger)
    assert recorded.version == 1  # before the inspection, the first ledger-level event
    assert recorded.payload["digest"] == spec.digest
    assert recorded.payload["workflow"] == "school"
    assert f"{RULE}@1" in recorded.payload["rules"]
    assert recorded.payload["first"] is True
    # (a) reopened with the same definition: writes work, nothing more is recorded
    again = opener(spec)
    assert again.fire("F1", "submit", actor="王老师", at=at("2025-01-08"), evidence=["a"])
    assert len(workflow_events(again)) == 1
    assert again.verify().ok


def test_a_ledger_reopened_with_another_definition_refuses_to_write(opener: Opener) -> None:
    spec = app_spec()
    populate(opener(spec))
    ledger = opener(None, lang="en")  # the built-in definition
    count = ledger.head().count
    with pytest.raises(WorkflowMismatch) as caught:
        ledger.add_inspection("R2", title="又一轮", feedback_at="2025-02-01", at=at("2025-02-01"))
    error = caught.value
    assert error.recorded == spec.digest
    assert error.given == DEFAULT_SPEC.digest
    assert "state escalated: -" in error.differences
    assert "event escalate: -" in error.differences
    assert f"rule {RULE}@1: -" in error.differences
    assert spec.digest in str(error)
    assert DEFAULT_SPEC.digest in str(error)
    assert "escalated" in str(error)
    assert str(error).startswith("this ledger records")  # the ledger's language
    assert "本台账记录" in error.in_lang("zh")
    with pytest.raises(WorkflowMismatch):
        ledger.fire("F1", "submit", actor="王老师", at=at("2025-01-08"), evidence=["a"])
    assert ledger.head().count == count  # nothing written
    # reading still works
    assert ledger.get("F1").state == "escalated"
    assert [f.id for f in ledger.findings()] == ["F1"]
    assert [e.name for e in ledger.history("F1")][-1] == "escalate"
    assert ledger.report("R1") is not None
    # and so does verify (the built-in workflow cannot replay the app's event)
    result = ledger.verify()
    assert [p.kind for p in result.problems] == ["replay_failed"]


def test_change_workflow_records_the_new_definition(opener: Opener) -> None:
    spec = app_spec()
    populate(opener(spec))
    ledger = opener(None)
    with pytest.raises(rectflow.InvalidInput):  # not the definition it was opened with
        ledger.change_workflow(actor="巡察办", spec=spec, at=at("2025-02-01"))
    event = ledger.change_workflow(actor="巡察办", spec="xuncha", at=at("2025-02-01"))
    assert event.payload["digest"] == DEFAULT_SPEC.digest
    assert "first" not in event.payload
    ledger.add_inspection("R2", title="又一轮", feedback_at="2025-02-01", at=at("2025-02-01"))
    with pytest.raises(WorkflowMismatch):  # the app's definition is no longer the record
        opener(spec).add_inspection(
            "R3", title="三轮", feedback_at="2025-02-02", at=at("2025-02-02")
        )


def test_change_workflow_needs_the_role_in_roles_mode(tmp_path: pathlib.Path) -> None:
    target = str(tmp_path / "r.db")
    ledger = Ledger.open(target, clock=clock)
    ledger.add_actor("办", roles=["inspector"], at=at("2025-01-02"))
    ledger.add_actor("乙", roles=["owner"], actor="办", at=at("2025-01-02"))
    reopened = Ledger.open(target, clock=clock, workflow=app_spec())
    with pytest.raises(PermissionDenied) as denied:
        reopened.change_workflow(actor="乙", at=at("2025-01-03"))
    assert denied.value.needed == ("inspector",)  # add_inspection's roles
    event = reopened.change_workflow(actor="办", at=at("2025-01-03"))
    assert event.payload["digest"] == app_spec().digest
    assert reopened.verify().ok
    # a policy listing change_workflow wins over add_inspection's roles
    roles = dict(rectflow.Policy().roles)
    listed = attrs.evolve(rectflow.Policy(), roles={**roles, "change_workflow": ("leader",)})
    other = Ledger.open(str(tmp_path / "p.db"), clock=clock, policy=listed)
    other.add_actor("办", roles=["inspector"], at=at("2025-01-02"))
    with pytest.raises(PermissionDenied):
        other.change_workflow(actor="办", at=at("2025-01-03"))


def test_the_default_definition_records_nothing(tmp_path: pathlib.Path) -> None:
    ledger = Ledger.open(str(tmp_path / "d.db"), clock=clock)
    ledger.add_inspection("R1", title="巡察", feedback_at="2025-01-02", at=at("2025-01-02"))
    assert workflow_events(ledger) == []
    assert ledger.head().count == 1


SCRIPT = textwrap.dedent(
    """
    import json, sys
    import pendulum
    import rectflow
    now = pendulum.datetime(2025, 3, 1, 12, tz="Asia/Shanghai")
    ledger = rectflow.Ledger.open(sys.argv[1], clock=lambda: now, lang="en")
    out = {"problems": [[p.kind, p.finding_id, p.detail] for p in ledger.verify().problems]}
    try:
        ledger.fire("F1", "submit", actor="x", at="2025-01-08T09:00:00+08:00", evidence=["a"])
    except rectflow.WorkflowMismatch as exc:
        out["missing"] = list(exc.missing_rules)
    print(json.dumps(out))
    """
)


def test_verify_names_a_rule_this_process_has_not_registered(tmp_path: pathlib.Path) -> None:
    target = str(tmp_path / "app.db")
    populate(Ledger.open(target, clock=clock, workflow=app_spec()))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, target],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    out = json.loads(done.stdout)
    assert [(kind, fid) for kind, fid, _ in out["problems"]] == [("rule_unavailable", "F1")]
    assert f"{RULE}@1" in out["problems"][0][2]
    assert out["missing"] == [f"{RULE}@1"]
