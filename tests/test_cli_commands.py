"""The command line completed for scripts (issue 9): every command, its JSON, its errors."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import icalendar
import jsonschema
import pytest

from rectflow import Report
from rectflow.cli import build_parser, main

ENGLISH_ONLY = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def demo_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    db = str(tmp_path / "demo.db")
    assert main(["--ledger", db, "demo"]) == 0
    capsys.readouterr()
    return db


@pytest.fixture
def r1_db(empty_db: str) -> str:
    """An empty ledger with inspection R1."""
    argv = ["add-inspection", "R1", "--title", "t", "--feedback-at", "2024-03-01"]
    assert main(["--ledger", empty_db, *argv]) == 0
    return empty_db


@pytest.fixture
def empty_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    db = str(tmp_path / "new.db")
    assert main(["--ledger", db, "init"]) == 0
    capsys.readouterr()
    return db


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every command of the parser, those other branches add included."""
    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def junk_argv(name: str, parser: argparse.ArgumentParser) -> list[str]:
    """*name* with junk for every required argument and every date option it takes."""
    argv = [name]
    for action in parser._actions:
        if action.option_strings:
            flag = action.option_strings[-1]
            if action.required:
                argv += [flag, "nope"]
            elif flag in ("--as-of", "--at"):
                argv += [flag, "2024-13-45"]
        elif action.nargs != argparse.SUPPRESS and action.nargs not in ("?", "*"):
            argv.append("nope" if not action.choices else next(iter(action.choices)))
    return argv


def test_build_parser_lists_the_commands():
    """build_parser() is public and has every command of this issue."""
    names = set(subcommands())
    assert {
        "init",
        "demo",
        "report",
        "agenda",
        "fire",
        "show",
        "list",
        "history",
        "add-inspection",
        "add",
        "diagram",
        "head",
        "verify",
    } <= names
    for name, parser in subcommands().items():
        assert parser.description or build_parser().format_help().count(name), name


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_command_refuses_bad_input_without_a_traceback(
    name: str, demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Junk arguments, a missing ledger, a broken policy, an unknown option: exit 2, one line."""
    parser = subcommands()[name]
    missing = str(tmp_path / "no" / "such" / "dir" / "x.db")
    bad_policy = str(tmp_path / "absent-policy.toml")
    attempts = [
        ["--ledger", missing, *junk_argv(name, parser)],
        ["--ledger", demo_db, "--policy", bad_policy, *junk_argv(name, parser)],
        ["--ledger", demo_db, *junk_argv(name, parser), "--bogus-option"],
    ]
    if any(a.required for a in parser._actions):
        attempts.append(["--ledger", demo_db, *junk_argv(name, parser)])
    for argv in attempts:
        for extra in ([], ["--json"], ["--lang", "en"]):
            try:
                code = main([*extra, *argv])
            except SystemExit as exc:  # argparse: usage line and exit 2
                code = exc.code
            except Exception as exc:  # a traceback is the failure
                pytest.fail(f"{argv}: {type(exc).__name__}: {exc}")
            out, err = capsys.readouterr()
            assert code == 2, (argv, code, out, err)
            assert "Traceback" not in err + out, argv
            assert err.strip(), argv
            if "--json" in extra and "--bogus-option" not in argv:
                problem = json.loads(err)
                assert {"error", "message"} <= set(problem), problem
            elif "--bogus-option" not in argv:
                assert len(err.strip().splitlines()) == 1, err
                assert err.startswith("rectflow: "), err


def test_errors_follow_lang(demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """A policy error is Chinese by default and English with --lang en."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[policy]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    code, _, err = run(capsys, "--ledger", demo_db, "--policy", str(bad), "head")
    assert code == 2
    assert "未知的时区 'Mars/Olympus'" in err
    code, _, err = run(capsys, "--ledger", demo_db, "--lang", "en", "--policy", str(bad), "head")
    assert code == 2
    assert err.strip() == f"rectflow: {bad}: unknown time zone 'Mars/Olympus' (like Asia/Shanghai)"


# ---------------------------------------------------------------- add-inspection, add, history


def test_add_inspection_add_fire_history_as_a_script_would(
    empty_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A script builds a ledger from the CLI alone and reads it back as JSON with stable keys."""
    db = ["--ledger", empty_db, "--json"]
    code, out, _ = run(
        capsys,
        *db,
        "add-inspection",
        "R1",
        "--title",
        "县委巡察",
        "--feedback-at",
        "2024-03-01",
        "--declared",
        "3",
        "--at",
        "2024-03-01T09:00:00+08:00",
    )
    assert code == 0
    assert json.loads(out) == {
        "id": "R1",
        "title": "县委巡察",
        "feedback_at": "2024-03-01",
        "declared_findings": 3,
        "created_at": "2024-03-01T09:00:00+08:00",
        "report_submitted_at": None,
    }
    measures = tmp_path / "m.json"
    measures.write_text(
        json.dumps(
            [
                {
                    "id": "X-9",
                    "text": "制定《资产借用登记制度》",
                    "kind": "institutional",
                    "document": "《资产借用登记制度》",
                    "document_type": "rule",
                }
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    code, out, _ = run(
        capsys,
        *db,
        "add",
        "1.1.1",
        "--inspection",
        "R1",
        "--title",
        "资产管理混乱",
        "--aspect",
        "第二方面",
        "--category",
        "(三)固定资产管理",
        "--leader",
        "刘副校长",
        "--department",
        "总务处",
        "--person",
        "郭主任",
        "--deadline",
        "2 months",
        "--measure",
        "recurring/monthly:每月盘点一次",
        "--measure",
        "one_off:补登记入账",
        "--measures-json",
        str(measures),
        "--actor",
        "巡察办",
        "--at",
        "2024-03-04T09:00:00+08:00",
    )
    assert code == 0
    finding = json.loads(out)
    assert finding["state"] == "assigned"
    assert finding["deadline"] == "2024-05-06"  # 2 months after feedback, past May Day
    assert [(m["id"], m["kind"], m["cadence"]) for m in finding["measures"]] == [
        ("1.1.1-1", "recurring", "monthly"),
        ("1.1.1-2", "one_off", None),
        ("X-9", "institutional", None),
    ]
    code, out, _ = run(
        capsys, *db, "fire", "1.1.1", "start", "--actor", "郭主任", "--at", "2024-03-05T09:00+08:00"
    )
    assert code == 0
    code, out, _ = run(capsys, *db, "history", "1.1.1")
    assert code == 0
    history = json.loads(out)
    assert [e["name"] for e in history] == ["add", "start"]
    assert set(history[0]) == {
        "finding_id",
        "name",
        "at",
        "actor",
        "note",
        "evidence",
        "payload",
        "version",
    }
    code, out, _ = run(capsys, "--ledger", empty_db, "history", "1.1.1")
    assert code == 0
    assert "add" in out
    assert "measures=3" in out
    assert "start" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--measure", "bogus"], "--measure 应写作 KIND[/CADENCE]:TEXT"),
        (["--measure", "weird:文本"], "--measure 应写作"),
        (["--measure", "recurring/fortnightly:文本"], "cadence"),
        (["--measures-json", "/no/such/file.json"], "无法读取 /no/such/file.json"),
        (["--deadline", "someday"], "无法理解的期限"),
        (["--inspection", "R9"], "R9"),
    ],
)
def test_add_refuses_bad_measures_and_changes_nothing(
    r1_db: str, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
):
    """A bad measure, deadline or inspection is exit 2, names what to fix, adds nothing."""
    base = {
        "--inspection": "R1",
        "--title": "t",
        "--leader": "a",
        "--department": "b",
        "--person": "c",
        "--deadline": "2024-06-28",
        "--actor": "x",
    }
    flags = dict(zip(args[::2], args[1::2], strict=True))
    argv = [a for k, v in {**base, **flags}.items() for a in (k, v)]
    code, _, err = run(capsys, "--ledger", r1_db, "add", "F1", *argv)
    assert code == 2
    assert needle in err
    code, out, _ = run(capsys, "--ledger", r1_db, "--json", "list")
    assert json.loads(out) == []


def test_add_measures_json_is_checked(
    r1_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """--measures-json must be a list of objects with known keys (named in the error)."""
    for content in (
        "{}",
        "[1]",
        '[{"id": "a"}]',
        '[{"id": "a", "text": "t", "colour": "red"}]',
        "nope",
    ):
        path = tmp_path / "m.json"
        path.write_text(content, encoding="utf-8")
        code, _, err = run(
            capsys, "--ledger", r1_db, "--lang", "en", "add", "F1", "--inspection", "R1",
            "--title", "t", "--leader", "a", "--department", "b", "--person", "c",
            "--deadline", "2024-06-28", "--actor", "x", "--measures-json", str(path),
        )  # fmt: skip
        assert code == 2, content
        assert "--measures-json must be a JSON list of measure objects" in err


# ---------------------------------------------------------------- list filters


def test_list_filters(demo_db: str, capsys: pytest.CaptureFixture[str]):
    """--state (repeatable), --aspect, --overdue and --inspection narrow the list."""
    db = ["--ledger", demo_db, "--json"]

    def ids(*args: str) -> list[str]:
        code, out, err = run(capsys, *db, "list", *args)
        assert code == 0, err
        return [f["id"] for f in json.loads(out)]

    everything = ids()
    assert len(everything) == 28
    staged = ids("--state", "staged_result")
    completed = ids("--state", "completed")
    assert (len(staged), len(completed)) == (10, 18)
    assert sorted(ids("--state", "staged_result", "--state", "completed")) == sorted(
        staged + completed
    )
    third = ids("--aspect", "在聚焦基层党组织建设方面")
    assert len(third) == 7
    assert all(i.startswith("3.") for i in third)
    assert ids("--overdue", "--as-of", "2024-01-22") == ["1.4.1"]
    assert ids("--overdue", "--as-of", "2023-12-01") == []
    assert ids("--inspection", "R1") == everything
    assert ids("--as-of", "2023-11-26") == []  # nothing on the ledger before it was filled
    code, _, err = run(capsys, "--ledger", demo_db, "list", "--inspection", "R9")
    assert code == 2
    assert "R9" in err
    with pytest.raises(SystemExit) as exited:
        main(["--ledger", demo_db, "list", "--state", "done"])
    assert exited.value.code == 2
    assert "无效的选择 'done'" in capsys.readouterr().err  # argparse in the CLI's language
    with pytest.raises(SystemExit) as exited:
        main(["--ledger", demo_db, "--lang", "en", "list", "--state", "done"])
    assert exited.value.code == 2
    assert "invalid choice: 'done'" in capsys.readouterr().err


# ---------------------------------------------------------------- report


def test_report_formats(demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """--format md|html|json, -o FILE, --json = --format json, the only inspection by default."""
    db = ["--ledger", demo_db]
    code, md, _ = run(capsys, *db, "report", "--as-of", "2024-01-22")
    assert code == 0
    assert "整改完成率64.29%(18/28)" in md
    code, js, _ = run(capsys, *db, "report", "R1", "--as-of", "2024-01-22", "--format", "json")
    assert code == 0
    data = json.loads(js)
    jsonschema.validate(data, Report.json_schema())
    code, js2, _ = run(capsys, *db, "--json", "report", "R1", "--as-of", "2024-01-22")
    assert json.loads(js2) == data
    page = tmp_path / "out" / "report.html"
    page.parent.mkdir()
    to_page = ["report", "--as-of", "2024-01-22", "--format", "html", "-o", str(page)]
    code, out, _ = run(capsys, *db, "--lang", "en", *to_page)
    assert code == 0
    assert out.startswith(f"written to {page} (")
    text = page.read_text(encoding="utf-8")
    assert "Completion rate 64.29% (18/28)" in text
    assert text.count('<img class="chart"') == 2
    code, out, _ = run(capsys, *db, "--json", *to_page)
    assert json.loads(out) == {
        "output": str(page),
        "format": "html",
        "bytes": len(page.read_bytes()),
    }
    code, _, err = run(
        capsys, *db, "report", "--format", "html", "-o", str(tmp_path / "no" / "x.html")
    )
    assert code == 2
    assert "无法写入" in err


def test_report_needs_the_inspection_when_there_are_several(
    demo_db: str, capsys: pytest.CaptureFixture[str]
):
    """With two inspections `report` without an id names them; with none it says how to add one."""
    run(
        capsys,
        "--ledger",
        demo_db,
        "add-inspection",
        "R2",
        "--title",
        "t",
        "--feedback-at",
        "2024-03-01",
    )
    code, _, err = run(capsys, "--ledger", demo_db, "--lang", "en", "report")
    assert code == 2
    assert "name the inspection (the ledger has: R1, R2)" in err


def test_report_on_an_empty_ledger(empty_db: str, capsys: pytest.CaptureFixture[str]):
    """`report` on a ledger without inspections says how to add one."""
    code, _, err = run(capsys, "--ledger", empty_db, "report")
    assert code == 2
    assert "rectflow add-inspection" in err


# ---------------------------------------------------------------- agenda


def test_agenda_ics(demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """agenda --format ics -o FILE writes a calendar with every upcoming date; re-export keeps UIDs."""
    path = tmp_path / "agenda.ics"
    db = ["--ledger", demo_db]
    code, out, _ = run(
        capsys, *db, "agenda", "--as-of", "2024-01-22", "--format", "ics", "-o", str(path)
    )
    assert code == 0
    assert "已写入" in out
    cal = icalendar.Calendar.from_ical(path.read_text(encoding="utf-8"))
    uids = [str(e["uid"]) for e in cal.walk("VEVENT")]
    assert len(uids) == len(set(uids))
    code, js, _ = run(
        capsys, *db, "--json", "agenda", "--as-of", "2024-01-22", "--upcoming", "1000"
    )
    agenda = json.loads(js)
    listed = sum(len(i["items"]) for i in agenda["inspections"]) + len(agenda["upcoming"])
    assert len(uids) == listed + len(agenda["inspections"])
    code, _, err = run(capsys, *db, "agenda", "--format", "ics")
    assert code == 2
    assert "-o" in err
    code, out, _ = run(capsys, *db, "agenda", "--as-of", "2024-01-22", "--format", "ics", "-o", "-")
    assert out.startswith("BEGIN:VCALENDAR")


# ---------------------------------------------------------------- diagram


def test_diagram_mermaid_from_the_live_machine(empty_db: str, capsys: pytest.CaptureFixture[str]):
    """The mermaid diagram has every edge of the machine and each event's guards."""
    code, out, _ = run(capsys, "--ledger", empty_db, "--lang", "en", "diagram")
    assert code == 0
    assert out.startswith("stateDiagram-v2\n    [*] --> assigned\n")
    assert "    pending_signoff --> completed: sign_off [signer]\n" in out
    assert "    completed --> rechecked: recheck [evidence_required, look_back]\n" in out
    assert "    in_progress --> in_progress: extend [extension]\n" in out
    code, zh, _ = run(capsys, "--ledger", empty_db, "diagram")
    assert "    pending_signoff --> completed: sign_off 销号 [signer]\n" in zh
    assert "    completed: completed 已完成整改\n" in zh
    code, js, _ = run(capsys, "--ledger", empty_db, "--json", "diagram", "--format", "dot")
    data = json.loads(js)
    assert data["format"] == "dot"
    assert data["diagram"].startswith("digraph rectflow {")
    loops = [line for line in data["diagram"].splitlines() if "completed -> completed" in line]
    assert loops == [
        '    completed -> completed [label="spot_check 抽查 [seed]\\nrecord_measure 记录措施 [measure]"];'
    ]


def test_diagram_includes_an_apps_extra_rules():
    """A workflow with an extra rule draws it on its event's edges."""
    from rectflow import Workflow  # noqa: PLC0415
    from rectflow._render import diagram  # noqa: PLC0415

    def two_evidence_files(ctx):
        if len(ctx.event.evidence) < 2:
            raise ctx.fail("evidence_required")

    text = diagram.mermaid(Workflow(rules={"submit": [two_evidence_files]}), "en")
    assert (
        "in_progress --> pending_signoff: submit [evidence_required, measures_done, two_evidence_files]"
        in text
    )


def test_diagram_svg(empty_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """--format svg draws the machine with Graphviz (skips without dot, unless CI)."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set: Graphviz's dot must be installed (.ci/run installs it)")
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    path = tmp_path / "machine.svg"
    code, _, err = run(capsys, "--ledger", empty_db, "diagram", "--format", "svg", "-o", str(path))
    assert code == 0, err
    svg = path.read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    assert "pending_signoff" in svg
    assert "sign_off" in svg


def test_diagram_svg_without_graphviz_is_a_usage_error(
    empty_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    """Without the graphviz extra `diagram --format svg` says what to install."""
    import builtins  # noqa: PLC0415

    real = builtins.__import__

    def no_graphviz(name, *args, **kwargs):
        if name == "graphviz":
            raise ImportError("No module named 'graphviz'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_graphviz)
    code, _, err = run(capsys, "--ledger", empty_db, "--lang", "en", "diagram", "--format", "svg")
    assert code == 2
    assert "pip install 'rectflow[graphviz]'" in err


# ---------------------------------------------------------------- through the entry point


def test_new_commands_through_the_console_script(demo_db: str, tmp_path: Path):
    """The installed `rectflow` runs report --format html and list --overdue as a subprocess."""
    exe = Path(sys.executable).with_name("rectflow")
    page = tmp_path / "r.html"
    done = subprocess.run(
        [
            str(exe),
            "--ledger",
            demo_db,
            "report",
            "--as-of",
            "2024-01-22",
            "--format",
            "html",
            "-o",
            str(page),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "对巡察反馈的28个问题" in page.read_text(encoding="utf-8")
    done = subprocess.run(
        [str(exe), "--ledger", demo_db, "list", "--overdue", "--as-of", "2024-01-22"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("1.4.1")
    done = subprocess.run(
        [str(exe), "--ledger", demo_db, "history", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("rectflow: ")
    assert "Traceback" not in done.stderr


def test_a_closed_pipe_is_not_a_traceback(demo_db: str):
    """`rectflow report --format html | head -c 15` ends quietly when the reader leaves."""
    exe = Path(sys.executable).with_name("rectflow")
    done = subprocess.run(  # noqa: S602 - the test is about a shell pipe
        f"'{exe}' --ledger '{demo_db}' report --format html | head -c 15; echo",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout == "<!DOCTYPE html>\n"
    assert done.stderr == ""
