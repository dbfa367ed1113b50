"""The escalation app: its own state, events and rule, through rectflow as it is.

It uses rectflow's public API only: ``Ledger.open(..., workflow=...)``, the command
line (``--workflow``, ``--workflow-module``), the report, the diagram and
``rectflow.testing``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar

import attrs
import pendulum
import pytest
import rules  # registers two_evidence_files (this folder is on the path under pytest)

import rectflow
from rectflow import Ledger, Owner, RuleViolation, TransitionNotAllowed, WorkflowSpec
from rectflow.cli import main

HERE = Path(__file__).parent
DEFINITION = HERE / "escalation.toml"
RULES = HERE / "rules.py"
NOW = pendulum.datetime(2025, 2, 1, 9, tz="Asia/Shanghai")


def at(day: str, hour: int = 9) -> str:
    return f"{day}T{hour:02d}:00:00+08:00"


def _ledger(target: str = ":memory:") -> Ledger:
    ledger = Ledger.open(target, clock=lambda: NOW, workflow=DEFINITION)
    ledger.add_inspection(
        "R1", title="县委巡察", feedback_at="2025-01-02", at=at("2025-01-02"), actor="巡察办"
    )
    ledger.add_finding(
        "F1",
        inspection="R1",
        title="作业负担过重",
        kind="deadline",
        owner=Owner("张校长", "教务处", "王老师"),
        deadline="2025-03-31",
        actor="巡察办",
        at=at("2025-01-03"),
    )
    return ledger


def test_the_definition_extends_the_default() -> None:
    """``extends = "xuncha"`` adds the state, the two events and the sign-off rule."""
    spec = WorkflowSpec.load(DEFINITION)
    base = WorkflowSpec.load("xuncha")
    assert set(spec.state_names) - set(base.state_names) == {"escalated"}
    assert spec.state("escalated").zh == "挂牌督办"
    assert spec.event("escalate").destination == "escalated"
    assert set(spec.event("escalate").sources) == base.states_of_kind("open")
    assert spec.event("de_escalate").sources == ("escalated",)
    assert spec.event("sign_off").guards == ("signer", "two_evidence_files")
    assert ("two_evidence_files", 1) in spec.rule_versions
    assert spec.digest != base.digest
    assert rules.two_evidence_files.__rectflow_rule__ == "two_evidence_files"


def test_through_the_api() -> None:
    """Escalate, de-escalate, and a sign-off held to two evidence files."""
    ledger = _ledger()
    ledger.fire("F1", "start", actor="王老师", at=at("2025-01-06"))
    after = ledger.fire("F1", "escalate", actor="巡察办", at=at("2025-01-07"), reason="逾期未改")
    assert after.state == "escalated"
    assert [f.id for f in ledger.findings(state="escalated")] == ["F1"]
    report = ledger.report("R1", as_of="2025-01-07").to_dict()
    assert report["by_state"]["escalated"] == 1
    with pytest.raises(TransitionNotAllowed):
        ledger.fire("F1", "submit", actor="王老师", at=at("2025-01-08"), evidence=["a.pdf"])
    ledger.fire("F1", "de_escalate", actor="巡察办", at=at("2025-01-08"), note="已约谈")
    ledger.fire("F1", "submit", actor="王老师", at=at("2025-01-09"), evidence=["照片.pdf"])
    with pytest.raises(RuleViolation) as info:
        ledger.fire("F1", "sign_off", actor="陈主任", at=at("2025-01-10"))
    assert info.value.rule == "two_evidence_files"
    assert ledger.get("F1").state == "pending_signoff"
    ledger.fire("F1", "reject", actor="陈主任", at=at("2025-01-10"), note="材料不足")
    ledger.fire(
        "F1", "submit", actor="王老师", at=at("2025-01-13"), evidence=["照片.pdf", "制度.docx"]
    )
    assert ledger.fire("F1", "sign_off", actor="陈主任", at=at("2025-01-14")).state == "completed"
    assert ledger.verify().ok


def _cli(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    common = ["--ledger", str(db), "--workflow", str(DEFINITION), "--workflow-module", str(RULES)]
    code = main([*common, "--lang", "en", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_through_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--workflow`` and ``--workflow-module``: fire, list, report and diagram know the state."""
    db = tmp_path / "school.db"
    _ledger(str(db)).close()
    assert (
        _cli(capsys, db, "fire", "F1", "start", "--actor", "王老师", "--at", at("2025-01-06"))[0]
        == 0
    )
    code, out, err = _cli(
        capsys, db, "fire", "F1", "escalate", "--actor", "巡察办", "--at", at("2025-01-07")
    )
    assert code == 2
    assert "reason" in err
    code, out, err = _cli(
        capsys, db, "fire", "F1", "escalate", "--actor", "巡察办", "--arg", "color=red"
    )
    assert code == 2
    assert "reason, until" in err  # the definition's fields, not the default's
    code, out, _ = _cli(
        capsys,
        db,
        "fire",
        "F1",
        "挂牌督办",  # the event's Chinese label
        "--actor",
        "巡察办",
        "--at",
        at("2025-01-07"),
        "--arg",
        "reason=逾期未改",
        "--arg",
        "until=2025-02-15",
    )
    assert code == 0, out
    assert out.startswith("F1: escalated")
    code, out, _ = _cli(capsys, db, "list", "--state", "挂牌督办")
    assert code == 0
    assert out.split()[:2] == ["F1", "escalated"]
    code, out, _ = _cli(capsys, db, "report", "R1", "--as-of", "2025-01-08", "--format", "json")
    assert code == 0
    assert json.loads(out)["by_state"]["escalated"] == 1
    code, out, _ = _cli(capsys, db, "diagram")
    assert code == 0
    assert "in_progress --> escalated: escalate" in out
    assert "escalated --> in_progress: de_escalate" in out


def test_the_command_line_without_the_rules_module(tmp_path: Path) -> None:
    """Without ``--workflow-module`` the definition names a rule nobody registered: exit 2."""
    db = tmp_path / "school.db"
    _ledger(str(db)).close()
    # a fresh interpreter, where only rectflow's own rules are registered
    argv = ["--ledger", str(db), "--workflow", str(DEFINITION), "--lang", "en", "diagram"]
    run = subprocess.run(
        [sys.executable, "-m", "rectflow.cli", *argv], capture_output=True, text=True, check=False
    )
    assert run.returncode == 2
    assert "two_evidence_files" in run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "rectflow.cli", "--workflow-module", str(RULES), *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "escalated" in run.stdout


def test_rectflow_is_used_as_it_is() -> None:
    """The app lives in this folder: rectflow alone neither has its rule nor reads its files."""
    code = (
        "import sys, rectflow\n"
        "try:\n"
        f"    rectflow.WorkflowSpec.load({str(DEFINITION)!r})\n"
        "except rectflow.RectflowError as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "two_evidence_files" in run.stdout
    package = Path(rectflow.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "escalation.toml" not in text, path
        assert "de_escalate" not in text, path


# ---------------------------------------------------------------- rectflow.testing

pytest.importorskip("hypothesis", reason="needs the test extra")

from hypothesis import Phase, settings  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402

from rectflow import Event, Policy  # noqa: E402
from rectflow.testing import ORACLE_EDGES, FindingModel, LedgerStateMachine  # noqa: E402

OPEN = ("assigned", "in_progress", "staged_result", "pending_signoff")


class EscalationMachine(LedgerStateMachine):
    """The default machine on the app's workflow, its oracles told about the app."""

    # the app's edges, written out by hand (an oracle independent of the definition)
    edges: ClassVar[Mapping[tuple[str, str], str]] = {
        **ORACLE_EDGES,
        **{(state, "escalate"): "escalated" for state in OPEN},
        ("escalated", "de_escalate"): "in_progress",
    }

    def __init__(self) -> None:
        self.files: dict[str, int] = {}  # finding → evidence files of its pending submission
        super().__init__()

    def make_ledger(self, clock: Callable[[], dt.datetime]) -> Ledger:
        policy = Policy(calendar="weekdays", look_back_wait="10 days")
        return Ledger.open(":memory:", policy=policy, clock=clock, workflow=DEFINITION)

    def violations(self, finding: FindingModel, event: Event) -> list[str]:
        broken = super().violations(finding, event)
        if event.name == "escalate" and not (event.payload.get("reason") or "").strip():
            broken.append("reason_required")
        if event.name == "de_escalate" and not (event.note or "").strip():
            broken.append("note_required")
        if event.name == "sign_off" and self.files.get(finding.id, 0) < 2:
            broken.append("two_evidence_files")
        return broken

    def expect(self, finding: FindingModel, event: Event) -> None:
        if event.name == "submit":
            self.files[finding.id] = sum(1 for e in event.evidence if str(e).strip())
        super().expect(finding, event)


SETTINGS = settings(max_examples=25, stateful_step_count=30, deadline=None, derandomize=True)
"""Small, fixed-seed settings: a few seconds."""


def test_rectflow_testing_drives_the_app_workflow() -> None:
    """The stateful machine reaches the app's state and events; its rule is checked."""
    EscalationMachine.coverage.clear()
    run_state_machine_as_test(EscalationMachine, settings=SETTINGS)
    seen = EscalationMachine.coverage
    assert seen["event: escalate"] > 0
    assert seen["event: de_escalate"] > 0
    assert seen["state: escalated"] > 0
    assert seen["refused: two_evidence_files"] > 0


class DeletedRuleMachine(EscalationMachine):
    """The same oracle against the app's definition with its rule deleted (a mutant)."""

    def make_ledger(self, clock: Callable[[], dt.datetime]) -> Ledger:
        spec = WorkflowSpec.load(DEFINITION)
        mutant = spec.extend(events=[attrs.evolve(spec.event("sign_off"), guards=("signer",))])
        policy = Policy(calendar="weekdays", look_back_wait="10 days")
        return Ledger.open(":memory:", policy=policy, clock=clock, workflow=mutant)


def test_rectflow_testing_catches_the_deleted_rule() -> None:
    """Deleting ``two_evidence_files`` from the definition fails the machine at these settings."""
    found = settings(SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrink
    with pytest.raises(AssertionError, match=r"sign_off by \S+ accepted, expected rule:two_evid"):
        run_state_machine_as_test(DeletedRuleMachine, settings=found)
