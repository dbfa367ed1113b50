"""Ledger-level events: the same checks on every path, the policy on the chain, past days as they were."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from rectflow import (
    InvalidInput,
    Ledger,
    LedgerFileError,
    Policy,
    RuleViolation,
)
from rectflow._policy import policy_digest
from roles_support import CLOCK, add_finding, t


def office(target: str = ":memory:") -> Ledger:
    """A ledger in roles mode: an inspector, a leader and an owner, one inspection, one finding."""
    ledger = Ledger.open(target, clock=lambda: CLOCK)
    ledger.add_actor("办", roles=["inspector", "leader"], at=t(0))
    ledger.add_inspection(
        "R1", title="巡察", feedback_at="2024-01-10", declared_findings=3, actor="办", at=t(0)
    )
    ledger.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(0))
    add_finding(ledger, person="乙")
    return ledger


def test_every_ledger_event_records_the_policy_digest():
    """A new ledger-level event carries the digest of the rules it was recorded under."""
    ledger = office()
    digest = policy_digest(ledger.policy)
    assert [e.payload["policy"] for e in ledger.ledger_history()] == [digest] * 3
    assert policy_digest(Policy()) == digest  # the default rules, wherever they were read from


def test_editing_the_stored_policy_is_named_by_verify(tmp_path: Path):
    """Loosening the stored role table with SQL shows as policy_mismatch at every ledger event."""
    path = tmp_path / "l.db"
    office(str(path)).close()
    conn = sqlite3.connect(path)
    [(text,)] = conn.execute("SELECT value FROM ledger_meta WHERE id = 'policy'").fetchall()
    data = json.loads(text)
    data["roles"]["sign_off"] = ["leader", "owner"]
    conn.execute("UPDATE ledger_meta SET value = ? WHERE id = 'policy'", (json.dumps(data),))
    conn.commit()
    conn.close()
    with Ledger.open(str(path), clock=lambda: CLOCK) as ledger:
        result = ledger.verify()
    assert not result
    kinds = {(p.kind, p.position) for p in result.problems}
    assert {("policy_mismatch", 1), ("policy_mismatch", 2), ("policy_mismatch", 3)} <= kinds


def _yaml_with(tmp_path: Path, name: str, change) -> Path:
    """The office ledger's YAML export with the ledger event *name* changed by *change*."""
    ledger = office()
    ledger.submit_report("R1", actor="办", evidence=["报告.pdf"], at=t(2))
    out = tmp_path / "l.yaml"
    ledger.export_file(out)
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    [entry] = [e for e in data["events"] if e["finding_id"] == "" and e["name"] == name][:1]
    change(entry)
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("name", "change", "first"),
    [
        ("submit_report", lambda e: e.update(evidence=[]), (5, "rule.evidence_required")),
        ("add_inspection", lambda e: e["payload"].update(title=""), (2, "bad_value")),
        ("add_inspection", lambda e: e["payload"].update(extra=1), (2, "bad_value")),
        ("add_inspection", lambda e: e["payload"].update(declared_findings=-5), (2, "bad_value")),
        ("add_actor", lambda e: e["payload"].update(roles=[]), (1, "bad_value")),
        ("add_actor", lambda e: e["payload"].update(name=""), (1, "bad_value")),
        ("add_actor", lambda e: e["payload"].update(roles_mode=False), (1, "bad_value")),
        ("add_inspection", lambda e: e["payload"].update(policy="0" * 64), (2, "bad_value")),
        (
            "submit_report",
            lambda e: e.update(at="2023-01-01T09:00:00+08:00"),
            (5, "rule.report_after_feedback"),
        ),
        ("submit_report", lambda e: e.update(version=9), (5, "bad_value")),
    ],
)
def test_a_file_cannot_bring_a_ledger_event_the_api_would_refuse(tmp_path, name, change, first):
    """Replayed ledger events pass the same checks as the API's methods; nothing is written."""
    path = _yaml_with(tmp_path, name, change)
    target = Ledger.open(":memory:", clock=lambda: CLOCK)
    with pytest.raises(LedgerFileError) as caught:
        target.import_file(path, actor="恢复")
    error = caught.value.errors[0]
    assert (error.row, error.code) == first
    assert target.head().count == 0
    assert target.inspections() == []


def test_a_whole_roles_mode_ledger_round_trips_through_yaml(tmp_path):
    """With actors, a grant, a report and a change on it, the re-imported ledger has the same head."""
    ledger = office()
    ledger.change_inspection("R1", declared_findings=4, reason="补报", actor="办", at=t(2))
    ledger.submit_report("R1", actor="办", evidence=["报告.pdf"], at=t(3))
    out = tmp_path / "l.yaml"
    ledger.export_file(out)
    copy = Ledger.open(":memory:", clock=lambda: CLOCK)
    copy.import_file(out, actor="恢复")
    assert copy.head() == ledger.head()
    assert copy.verify()


def test_a_report_cannot_be_submitted_before_feedback():
    """submit_report dated before the inspection's feedback day is refused."""
    ledger = office()
    with pytest.raises(RuleViolation) as caught:
        ledger.submit_report("R1", actor="办", evidence=["r.pdf"], at="2024-01-05T09:00:00+08:00")
    assert caught.value.rule == "report_after_feedback"


def test_the_feedback_day_cannot_move_into_the_future_or_past_its_findings():
    """change_inspection refuses a feedback day after the change, or after a finding was added."""
    ledger = office()
    with pytest.raises(RuleViolation) as future:
        ledger.change_inspection("R1", feedback_at="2030-01-01", reason="x", actor="办", at=t(3))
    assert future.value.rule == "before_feedback"  # its findings were added in 2024
    ledger.change_inspection(
        "R1", feedback_at="2024-01-09", reason="以反馈会为准", actor="办", at=t(3)
    )
    assert str(ledger.inspection("R1").feedback_at) == "2024-01-09"
    empty = Ledger.open(":memory:", clock=lambda: CLOCK)
    empty.add_inspection("R2", title="x", feedback_at="2024-01-10", at=t(0))
    with pytest.raises(RuleViolation) as caught:
        empty.change_inspection("R2", feedback_at="2024-06-01", reason="x", at=t(3))
    assert caught.value.rule == "feedback_not_in_future"


def test_a_past_day_shows_the_inspection_as_it_was():
    """Report and agenda as of a day before a change use the declared count and report status then."""
    ledger = office()
    ledger.change_inspection("R1", declared_findings=9, reason="补报", actor="办", at=t(20))
    ledger.submit_report("R1", actor="办", evidence=["报告.pdf"], at=t(21))
    before = ledger.report("R1", as_of="2024-01-15").to_dict()
    after = ledger.report("R1", as_of="2024-02-15").to_dict()
    assert (before["declared"], after["declared"]) == (3, 9)
    agenda_then = ledger.agenda(as_of="2024-01-15").inspections[0]
    agenda_later = ledger.agenda(as_of="2024-02-15").inspections[0]
    assert agenda_then.report_submitted is None
    assert agenda_later.report_submitted is not None


def test_import_inside_a_batch_is_refused(tmp_path):
    """import_file is all or nothing on its own: inside batch() it is refused and nothing changes."""
    ledger = office()
    path = tmp_path / "a.csv"
    path.write_text(
        "编号,巡察,问题,整改时限,责任部门\nF9,R1,问题,2024-03-29,德育处\n", encoding="utf-8"
    )
    head = ledger.head()
    with ledger.batch(), pytest.raises(InvalidInput, match="batch"):
        ledger.import_file(path, actor="办", dry_run=True)
    assert ledger.head() == head


def test_a_file_recorded_under_other_rules_is_refused(tmp_path):
    """A YAML export of a ledger with another policy does not import into this one."""
    source = Ledger.open(":memory:", clock=lambda: CLOCK, policy=Policy(max_extensions=5))
    source.add_inspection("R1", title="x", feedback_at="2024-01-10", at=t(0))
    out = tmp_path / "l.yaml"
    source.export_file(out)
    target = Ledger.open(":memory:", clock=lambda: CLOCK)
    with pytest.raises(LedgerFileError) as caught:
        target.import_file(out, actor="恢复")
    [error] = caught.value.errors
    assert error.code == "bad_value"
    assert "政策" in error.message
    assert target.head().count == 0


@pytest.mark.parametrize(
    ("key", "value"),
    [("note", {"a": 1}), ("evidence", [1, {"b": 2}])],
)
def test_a_yaml_event_with_a_note_or_evidence_that_is_not_text_is_refused(tmp_path, key, value):
    """A finding event's note and evidence must be text, as fire takes them; nothing is written."""
    ledger = office()
    out = tmp_path / "l.yaml"
    ledger.export_file(out)
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    [n] = [i for i, e in enumerate(data["events"], 1) if e["finding_id"] == "F1"][:1]
    data["events"][n - 1][key] = value
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    target = Ledger.open(":memory:", clock=lambda: CLOCK)
    with pytest.raises(LedgerFileError) as caught:
        target.import_file(out, actor="恢复")
    assert [(e.row, e.column, e.code) for e in caught.value.errors] == [
        (n, f"events.{key}", "bad_value")
    ]
    assert target.head().count == 0


def test_a_restored_ledger_must_hash_to_the_head_its_file_names(tmp_path):
    """An edited whole-ledger YAML (a title changed) restores into nothing: the head differs."""
    ledger = office()
    out = tmp_path / "l.yaml"
    ledger.export_file(out)
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    [add] = [e for e in data["events"] if e["finding_id"] == "F1" and e["name"] == "add"]
    add["payload"]["title"] = "改过的问题"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    target = Ledger.open(":memory:", clock=lambda: CLOCK)
    with pytest.raises(LedgerFileError) as caught:
        target.import_file(out, actor="恢复")
    assert [(e.row, e.column, e.code) for e in caught.value.errors] == [
        (0, "head", "head_mismatch")
    ]
    assert target.head().count == 0
    # the same file, unedited, restores
    ledger.export_file(out)
    assert Ledger.open(":memory:", clock=lambda: CLOCK).import_file(out, actor="恢复").events_added


def test_row_problems_speak_the_ledgers_language(tmp_path: Path):
    """An edited inspection row is named in Chinese by default and in English with lang="en"."""
    path = tmp_path / "l.db"
    office(str(path)).close()
    conn = sqlite3.connect(path)
    [(text,)] = conn.execute("SELECT data FROM inspections WHERE id = 'R1'").fetchall()
    data = json.loads(text)
    data["declared_findings"] = 30
    conn.execute("UPDATE inspections SET data = ? WHERE id = 'R1'", (json.dumps(data),))
    conn.commit()
    conn.close()
    for lang, words in (("zh", "巡察 R1: 被改动"), ("en", "inspection R1: edited")):
        with Ledger.open(str(path), clock=lambda: CLOCK, lang=lang) as ledger:
            [problem] = [p for p in ledger.verify().problems if p.kind == "inspection_mismatch"]
        assert problem.detail.startswith(words)
