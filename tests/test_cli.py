"""The command line: demo, report, agenda, fire, verify, exit codes and languages."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rectflow import Ledger, Owner
from rectflow.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_prints_the_seed_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo states 28 findings, 18 completed, 10 staged and 2 counted but not itemized."""
    code, out, _ = run(capsys, "--ledger", ":memory:", "demo")
    assert code == 0
    assert "对巡察反馈的28个问题,已完成整改18项,其余10项已取得阶段性成效" in out
    assert "其中2个问题已计入总数但未逐项列明" in out
    assert "8项制度或方案和1项发展规划" in out
    assert "- completed: 18 = 18" in out
    assert "- staged: 10 = 10" in out
    assert "待办事项" in out  # the agenda follows the report
    assert "1.4.1" in out  # the overdue running-track finding
    assert "接下来到期" in out  # and what falls due next
    assert "2024-03-12 可开展回头看: 3.2.2" in out  # the first look-back, 3 months after sign-off


def test_demo_json_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives the report figures, the checks and the agenda as JSON."""
    code, out, _ = run(capsys, "--ledger", ":memory:", "--json", "--lang", "en", "demo")
    assert code == 0
    data = json.loads(out)
    report = data["report"]
    assert (report["declared"], report["total"], report["itemized"]) == (28, 28, 26)
    assert (report["completed"], report["staged"], report["not_itemized"]) == (18, 10, 2)
    assert all(got == want for got, want in data["checks"].values())
    overdue = [
        item["finding"]
        for insp in data["agenda"]["inspections"]
        for item in insp["items"]
        if item["kind"] == "overdue"
    ]
    assert overdue == ["1.4.1"]
    upcoming = data["agenda"]["upcoming"]
    assert [i["due"] for i in upcoming] == sorted(i["due"] for i in upcoming)
    assert all(i["due"] > "2024-01-22" for i in upcoming)


def test_bad_input_exits_2_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    """A user mistake prints one line on stderr and exits 2."""
    code, out, err = run(capsys, "--ledger", ":memory:", "report", "R9")
    assert code == 2
    assert out == ""
    assert "R9" in err
    assert "Traceback" not in err


def test_errors_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """With --json an error is a JSON object naming its type."""
    code, _, err = run(capsys, "--ledger", ":memory:", "--json", "--lang", "en", "show", "nope")
    assert code == 2
    data = json.loads(err)
    assert data["error"] == "FindingNotFound"
    assert "nope" in data["message"]


def test_fire_refused_event_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An event on an unknown finding is refused with exit code 2."""
    code, _, err = run(
        capsys, "--ledger", ":memory:", "fire", "1.1.1", "start", "--actor", "王老师"
    )
    assert code == 2
    assert "1.1.1" in err


def test_bad_anchor_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """verify --anchor needs COUNT:HASH."""
    code, _, err = run(capsys, "--ledger", ":memory:", "verify", "--anchor", "xyz")
    assert code == 2
    assert "COUNT:HASH" in err


def test_console_script_runs(tmp_path: Path) -> None:
    """The installed `rectflow` entry point answers --help."""
    exe = Path(sys.executable).with_name("rectflow")
    if not exe.exists():
        pytest.skip("the rectflow console script is not installed next to this Python")
    proc = subprocess.run(
        [str(exe), "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "RECTFLOW_LEDGER": str(tmp_path / "x.db")},
    )
    assert proc.returncode == 0
    assert "agenda" in proc.stdout


def test_demo_on_a_sqlite_file_then_verify(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The demo runs on a SQLite file, and `rectflow verify` on it says ok."""
    db = str(tmp_path / "demo.db")
    assert run(capsys, "--ledger", db, "demo")[0] == 0
    code, out, _ = run(capsys, "--ledger", db, "verify")
    assert code == 0
    assert "校验通过" in out
    code, out, _ = run(capsys, "--ledger", db, "--json", "head")
    head = json.loads(out)
    code, out, _ = run(
        capsys, "--ledger", db, "verify", "--anchor", f"{head['count']}:{head['hash']}"
    )
    assert code == 0
    # a second demo on the same file is refused rather than doubling the ledger
    code, _, err = run(capsys, "--ledger", db, "demo")
    assert code == 2
    assert "--fresh" in err


def test_verify_names_a_tampered_row(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An event edited with plain SQL makes `verify` exit 1 and name its position."""
    db = str(tmp_path / "t.db")
    assert run(capsys, "--ledger", db, "demo")[0] == 0
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER IF EXISTS events_no_update")
    conn.execute(
        "UPDATE events SET data = replace(data, '校长办公室', '某某') WHERE seq = 31"
    )  # after the inspection's event
    conn.commit()
    conn.close()
    code, out, _ = run(capsys, "--ledger", db, "--json", "verify")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert any(p["position"] == 31 and p["kind"] == "edited" for p in data["problems"])


def test_init_fire_show_list_report_on_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """init creates the ledger; fire/show/list/report work on it across invocations."""
    db = str(tmp_path / "l.db")
    assert run(capsys, "--ledger", db, "init")[0] == 0
    with Ledger.open(db) as ledger:
        ledger.add_inspection(
            "R1", title="t", feedback_at="2024-03-01", at="2024-03-01T09:00:00+08:00"
        )
        ledger.add_finding(
            "1",
            inspection="R1",
            title="问题一",
            kind="deadline",
            owner=Owner(leader="L", department="D", person="P"),
            deadline="2 months",
            actor="巡察办",
            at="2024-03-02T09:00:00+08:00",
        )
    code, out, _ = run(
        capsys,
        "--ledger",
        db,
        "fire",
        "1",
        "start",
        "--actor",
        "P",
        "--at",
        "2024-03-04T09:00:00+08:00",
    )
    assert code == 0
    assert "整改中" in out
    code, out, err = run(
        capsys,
        "--ledger",
        db,
        "fire",
        "1",
        "stage",
        "--actor",
        "P",
        "--at",
        "2024-03-05T09:00:00+08:00",
        "--note",
        "n",
        "--evidence",
        "e.pdf",
        "--arg",
        "next_checkpoint=2024-09-01",
    )
    assert code == 2
    assert "checkpoint_within_interval" in err or "最长间隔" in err
    code, out, _ = run(capsys, "--ledger", db, "--json", "show", "1")
    shown = json.loads(out)
    assert (
        shown["finding"]["deadline"] == "2024-05-06"
    )  # 2 months → 05-01 is a holiday → next working day
    assert [e["name"] for e in shown["history"]] == ["add", "start"]
    code, out, _ = run(capsys, "--ledger", db, "list", "--state", "in_progress")
    assert out.startswith("1 ")
    code, out, _ = run(
        capsys, "--ledger", db, "--lang", "en", "report", "R1", "--as-of", "2024-03-03"
    )
    assert code == 0
    assert "Of the 1 problem in the feedback: 0 completed; 1 in rectification." in out


def test_commands_do_not_create_a_missing_ledger(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A typo in --ledger is an error (exit 2), not a new empty ledger that verifies."""
    missing = tmp_path / "typo.db"
    code, _, err = run(capsys, "--ledger", str(missing), "verify")
    assert code == 2
    assert "rectflow init" in err
    assert not missing.exists()


def test_demo_refuses_a_ledger_with_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The demo never writes its fake school into a ledger that already holds data."""
    db = str(tmp_path / "real.db")
    with Ledger.open(db) as ledger:
        ledger.add_inspection(
            "2024-XC-1", title="真实巡察", feedback_at="2024-03-01", at="2024-03-01T09:00:00+08:00"
        )
    code, _, err = run(capsys, "--ledger", db, "demo")
    assert code == 2
    assert "--fresh" in err
    with Ledger.open(db) as ledger:
        assert [i.id for i in ledger.inspections()] == ["2024-XC-1"]
        assert ledger.head().count == 1  # the inspection's own event, nothing more


def test_fire_rejects_arguments_the_event_does_not_take(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--arg actor=… cannot smuggle a second actor in: exit 2, no traceback."""
    db = str(tmp_path / "d.db")
    assert run(capsys, "--ledger", db, "demo")[0] == 0
    code, _, err = run(
        capsys, "--ledger", db, "fire", "1.4.1", "stage", "--actor", "a", "--arg", "actor=x"
    )
    assert code == 2
    assert "Traceback" not in err
    assert "actor" in err


def test_unreadable_policy_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A policy file that is not UTF-8 TOML, or whose [policy] is not a table, exits 2."""
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe policy")
    assert run(capsys, "--ledger", ":memory:", "--policy", str(bad), "head")[0] == 2
    bad.write_text("policy = 5\n", encoding="utf-8")
    code, _, err = run(capsys, "--ledger", ":memory:", "--policy", str(bad), "head")
    assert code == 2
    assert "[policy] 必须是设置项的表" in err
    code, _, err = run(capsys, "--ledger", ":memory:", "--lang", "en", "--policy", str(bad), "head")
    assert code == 2
    assert "[policy] must be a table of settings" in err
    assert run(capsys, "--ledger", ":memory:", "--policy", str(tmp_path), "head")[0] == 2


def test_a_laxer_policy_cannot_be_chosen_per_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--policy capa on a xuncha ledger is refused (exit 2); verify judges by the recorded one."""
    db = str(tmp_path / "d.db")
    assert run(capsys, "--ledger", db, "demo")[0] == 0
    code, _, err = run(capsys, "--ledger", db, "--policy", "capa", "verify")
    assert code == 2
    assert "xuncha" in err
    assert run(capsys, "--ledger", db, "verify")[0] == 0
