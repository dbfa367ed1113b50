"""The reviewer's defects in the merged code, one test (or two) per fix."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import attrs
import jsonschema
import pytest

from rectflow import InvalidInput, Ledger, Report
from rectflow._store.memory import MemoryStore
from rectflow._views.verify import verify_chain
from rectflow.cli import main
from roles_support import CLOCK, add_finding, t


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> None:
    """A user mistake: one line on stderr, no traceback."""
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("rectflow: "), err


# ---------------------------------------------------------------- 1. report and submit_report


def test_report_says_the_report_was_submitted() -> None:
    """After submit_report the report is not overdue and names the day, in JSON, Markdown, HTML."""
    ledger = Ledger(MemoryStore(), clock=lambda: CLOCK)
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    add_finding(ledger, person="乙")
    before = ledger.report("R1", as_of="2024-04-01").to_dict()
    assert before["report_overdue"] is True
    assert before["report_submitted"] is None
    ledger.submit_report("R1", actor="办", evidence=["报告.pdf"], at=t(60))  # 2024-03-10
    not_yet = ledger.report("R1", as_of="2024-03-09").to_dict()  # the cutoff is before it
    assert not_yet["report_submitted"] is None
    report = ledger.report("R1", as_of="2024-04-01")
    data = report.to_dict()
    assert data["report_overdue"] is False
    assert data["report_submitted"] == "2024-03-10T10:00:00+08:00"
    jsonschema.validate(data, Report.json_schema())
    assert data["schema_version"] == 2
    zh = report.to_markdown()
    assert "整改报告已于 2024-03-10 报送" in zh
    assert "已逾期" not in zh.splitlines()[2]
    en = report.to_markdown(lang="en")
    assert "the report was submitted on 2024-03-10" in en
    assert "overdue" not in en.splitlines()[2]
    html = report.to_html(lang="en")
    assert "report submitted on 2024-03-10" in html
    assert "整改报告已报送 2024-03-10" in report.to_html()


# ---------------------------------------------------------------- 2. roles mode on the CLI


def test_cli_add_and_change_inspection_in_roles_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """add-inspection --actor and change-inspection work in roles mode; a bad value exits 2."""
    db = str(tmp_path / "r.db")
    assert run(capsys, "--ledger", db, "init")[0] == 0
    assert run(capsys, "--ledger", db, "add-actor", "办", "--role", "inspector")[0] == 0
    add = ["add-inspection", "R1", "--title", "巡察", "--feedback-at", "2024-01-05"]
    code, _, err = run(capsys, "--ledger", db, "--json", *add)
    assert code == 2
    assert json.loads(err)["error"] == "PermissionDenied"
    code, out, err = run(capsys, "--ledger", db, "--json", *add, "--actor", "办")
    assert code == 0, err
    assert json.loads(out)["id"] == "R1"
    change = ["change-inspection", "R1", "--reason", "反馈意见更正", "--actor", "办"]
    code, out, err = run(capsys, "--ledger", db, "--json", *change, "--declared", "28")
    assert code == 0, err
    assert json.loads(out)["declared_findings"] == 28
    code, out, err = run(capsys, "--ledger", db, *change, "--feedback-at", "2024-01-08")
    assert code == 0, err
    with Ledger.open(db) as ledger:
        inspection = ledger.inspection("R1")
    assert (inspection.declared_findings, str(inspection.feedback_at)) == (28, "2024-01-08")
    code, _, err = run(capsys, "--ledger", db, *change, "--declared", "many")
    assert code == 2
    one_line_error(err)
    code, _, err = run(capsys, "--ledger", db, "change-inspection", "R1", "--reason", "x")
    assert code == 2  # no change given (and no actor)
    one_line_error(err)


# ---------------------------------------------------------------- 3. export file-system errors


def test_export_to_an_unwritable_path_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """export into a missing folder or onto a directory: "cannot write …", exit 2, no traceback."""
    db = str(tmp_path / "e.db")
    with Ledger.open(db) as ledger:
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
    (tmp_path / "adir.csv").mkdir()
    for target in (tmp_path / "no" / "such" / "x.csv", tmp_path / "adir.csv"):
        code, _, err = run(capsys, "--ledger", db, "--lang", "en", "export", str(target))
        assert code == 2, err
        one_line_error(err)
        assert "cannot write" in err
        code, _, err = run(capsys, "--ledger", db, "--json", "export", str(target))
        assert code == 2
        assert json.loads(err)["message"].startswith("无法写入")


# ---------------------------------------------------------------- 4. fire spot_check --arg k=


def test_cli_spot_check_naming_its_draw(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`fire … spot_check --arg seed=7 --arg k=1 --arg drawn_on=D` is redone and recorded."""
    db = str(tmp_path / "s.db")
    with Ledger.open(db) as ledger:
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
        add_finding(ledger, person="乙")
        ledger.fire("F1", "start", actor="乙", at=t(2))
        ledger.fire("F1", "submit", actor="乙", evidence=["完成.pdf"], at=t(3))
        ledger.fire("F1", "sign_off", actor="丙", at=t(4))
        assert ledger.draw_spot_checks("R1", k=1, seed=7, as_of="2024-02-01").findings == ("F1",)
    draw = ["--arg", "seed=7", "--arg", "k=1", "--arg", "drawn_on=2024-02-01"]
    fire = ["fire", "F1", "spot_check", "--actor", "丁", "--at", t(25)]
    code, _, err = run(capsys, "--ledger", db, *fire, *draw)
    assert code == 0, err
    with Ledger.open(db) as ledger:
        payload = dict(ledger.history("F1")[-1].payload)
    assert payload == {"seed": 7, "k": 1, "drawn_on": "2024-02-01"}
    code, _, err = run(capsys, "--ledger", db, *fire, "--arg", "seed=抽查-2024-1")
    assert code == 0, err  # a seed may still be text when the check names no draw
    code, _, err = run(capsys, "--ledger", db, *fire, "--arg", "seed=7", "--arg", "k=two")
    assert code == 2
    one_line_error(err)


# ---------------------------------------------------------------- 5. import creates no file


def test_import_dry_run_or_failure_leaves_no_ledger_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--ledger new.db import …` never creates new.db: it says to run `rectflow init` (issue 14)."""
    new = tmp_path / "new.db"
    bad = tmp_path / "bad.csv"
    bad.write_text("编号,标题\n1,问题\n", encoding="utf-8")
    code, _, err = run(capsys, "--ledger", str(new), "import", str(bad), "--actor", "办")
    assert code == 2
    assert "rectflow init" in err
    assert not new.exists()
    good = tmp_path / "good.yaml"
    with Ledger.open(str(tmp_path / "src.db")) as ledger:
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
        add_finding(ledger, person="乙")
        ledger.export_file(good)
    for extra in (["--dry-run"], []):
        code, _, err = run(
            capsys, "--ledger", str(new), "import", str(good), "--actor", "办", *extra
        )
        assert code == 2
        assert "rectflow init" in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("new")) == []
    assert run(capsys, "--ledger", str(new), "init")[0] == 0
    code, _, err = run(capsys, "--ledger", str(new), "import", str(good), "--actor", "办")
    assert code == 0, err
    assert new.exists()


# ---------------------------------------------------------------- 6. import/export format


def test_file_format_accepts_yml_and_refuses_a_non_string(tmp_path: Path) -> None:
    """format="yml" means YAML like the .yml suffix; format=3 is InvalidInput, not AttributeError."""
    ledger = Ledger(MemoryStore(), clock=lambda: CLOCK)
    ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
    add_finding(ledger, person="乙")
    out = tmp_path / "ledger.txt"
    assert ledger.export_file(out, format="yml") > 0
    assert out.read_text(encoding="utf-8").startswith("format: rectflow-ledger")
    other = Ledger(MemoryStore(), clock=lambda: CLOCK)
    assert other.import_file(out, actor="办", format="YML").findings_added == 1
    with pytest.raises(InvalidInput) as err:
        other.import_file(out, actor="办", format=3)  # type: ignore[arg-type]
    assert err.value.in_lang("en").startswith("unknown file format")
    with pytest.raises(InvalidInput):
        ledger.export_file(out, format=["csv"])  # type: ignore[arg-type]


# ---------------------------------------------------------------- 7, 8. evidence outside, lang


def test_evidence_outside_the_folder_is_not_read(tmp_path: Path) -> None:
    """`../x#sha256=…` and absolute names are reported as evidence_outside, never read."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    digest = hashlib.sha256(b"secret").hexdigest()
    ledger = Ledger(MemoryStore(), clock=lambda: CLOCK)
    ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
    refs = [f"../secret.txt#sha256={digest}", f"{secret}#sha256={digest}"]
    ledger.submit_report("R1", actor="办", evidence=refs, at=t(4))
    result = ledger.verify(evidence_dir=str(folder))
    assert not result.ok
    assert [p.kind for p in result.problems] == ["evidence_outside", "evidence_outside"]
    assert "证据目录之外" in result.problems[0].detail


def test_verify_evidence_details_follow_lang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify's evidence details are Chinese by default and English with --lang en."""
    monkeypatch.chdir(tmp_path)
    with Ledger.open("v.db") as ledger:
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
        ledger.submit_report("R1", actor="办", evidence=[f"gone.pdf#sha256={'0' * 64}"], at=t(4))
    code, out, _ = run(capsys, "--ledger", "v.db", "verify", "--evidence-dir", ".")
    assert code == 1
    assert "证据 gone.pdf 缺失" in out
    assert "is missing" not in out
    code, out, _ = run(capsys, "--ledger", "v.db", "--lang", "en", "verify", "--evidence-dir", ".")
    assert code == 1
    assert "evidence gone.pdf is missing" in out


# ---------------------------------------------------------------- 9. --as-of garbage


def test_list_as_of_garbage_says_it_is_not_a_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`list --as-of garbage` names what --as-of takes, not a missing UTC offset."""
    db = str(tmp_path / "l.db")
    assert run(capsys, "--ledger", db, "init")[0] == 0
    code, _, err = run(capsys, "--ledger", db, "--lang", "en", "list", "--as-of", "garbage")
    assert code == 2
    one_line_error(err)
    assert "neither a date (YYYY-MM-DD) nor a time" in err
    assert "UTC offset (write" not in err
    code, _, err = run(capsys, "--ledger", db, "list", "--as-of", "garbage")
    assert "既不是日期" in err
    code, _, err = run(
        capsys, "--ledger", db, "--lang", "en", "list", "--as-of", "2024-03-01T10:00"
    )
    assert code == 2
    assert "no UTC offset" in err  # a time without offset still says just that


def test_verify_chain_details_follow_lang() -> None:
    """Chain problems (a copied entry) read in Chinese by default and in English with lang="en"."""
    ledger = Ledger(MemoryStore(), clock=lambda: CLOCK)
    ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
    add_finding(ledger, person="乙")
    entries = list(ledger.store.chain())
    copy = attrs.evolve(entries[1], seq=3)
    zh = verify_chain([*entries, copy], ledger.store.findings(), ledger.workflow)
    en = verify_chain([*entries, copy], ledger.store.findings(), ledger.workflow, lang="en")
    assert [(p.kind, p.detail) for p in zh.problems if p.position == 3] == [
        ("inserted", "第 3 条是第 2 条的副本")
    ]
    assert [(p.kind, p.detail) for p in en.problems if p.position == 3] == [
        ("inserted", "entry 3 is a copy of entry 2")
    ]
    with Ledger(MemoryStore(), clock=lambda: CLOCK, lang="en") as english:
        english.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
        assert english.verify(anchor=(5, "0" * 64)).problems[0].detail.startswith("entry 2 is")
