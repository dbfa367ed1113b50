"""The command line: demo, report, agenda, fire, verify, exit codes and languages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
