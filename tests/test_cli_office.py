"""The command line in the office's language (issue 14): names, labels, Ctrl-C, permissions."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pendulum
import pytest

from rectflow import Ledger, LedgerFileError, Owner
from rectflow._io import csvfile
from rectflow.cli import main

AT = pendulum.datetime(2024, 1, 10, 9, tz="Asia/Shanghai")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: pathlib.Path) -> str:
    """A ledger with R1 and findings 1.1 (pending sign-off) and 1.2 (assigned)."""
    path = str(tmp_path / "office.db")
    with Ledger.open(path) as ledger:
        ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=AT)
        for fid in ("1.1", "1.2"):
            ledger.add_finding(
                fid,
                inspection="R1",
                title=f"问题{fid}",
                kind="deadline",
                owner=Owner("刘副校长", "德育处", "黄主任"),
                deadline="2024-03-01",
                actor="巡察办",
                at=AT,
            )
        ledger.fire("1.1", "start", actor="黄主任", at=AT)
        ledger.fire("1.1", "submit", actor="黄主任", at=AT, evidence=["纪要.pdf"])
    return path


def test_fire_takes_chinese_event_names(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``fire 1.1 销号`` is sign_off; ``开始整改`` and the alias ``开始`` are start."""
    code, out, err = run(capsys, "--ledger", db, "fire", "1.1", "销号", "--actor", "陈书记")
    assert (code, err) == (0, "")
    assert "已完成整改" in out
    assert run(capsys, "--ledger", db, "fire", "1.2", "开始", "--actor", "黄主任")[0] == 0
    with Ledger.open(db) as ledger:
        assert [ledger.get(f).state for f in ("1.1", "1.2")] == ["completed", "in_progress"]


def test_fire_recheck_in_chinese_reaches_its_rules(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``回头看`` is recheck: a too-early look-back is refused by its rule, not as unknown."""
    run(capsys, "--ledger", db, "fire", "1.1", "销号", "--actor", "陈书记")
    code, _, err = run(
        capsys, "--ledger", db, "fire", "1.1", "回头看", "--actor", "纪检", "--evidence", "e.pdf"
    )
    assert code == 2
    assert "回头看" in err
    assert "look_back" in err or "等待" in err or "3个月" in err


def test_a_typo_gets_did_you_mean(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt event or state is refused with the closest names, in the CLI's language."""
    code, _, err = run(capsys, "--ledger", db, "fire", "1.1", "销好", "--actor", "陈书记")
    assert code == 2
    assert "您是不是要找" in err
    assert "销号 (sign_off)" in err
    code, _, err = run(
        capsys, "--ledger", db, "--lang", "en", "fire", "1.1", "sign_of", "--actor", "陈书记"
    )
    assert code == 2
    assert "did you mean" in err
    assert "sign_off" in err
    code, _, err = run(capsys, "--ledger", db, "list", "--state", "已完成整")
    assert code == 2
    assert "您是不是要找: 已完成整改 (completed)" in err


def test_list_state_in_chinese(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``list --state 已完成整改`` (or an alias like 已销号) filters like ``--state completed``."""
    run(capsys, "--ledger", db, "fire", "1.1", "销号", "--actor", "陈书记")
    outs = {
        name: run(capsys, "--ledger", db, "--json", "list", "--state", name)[1]
        for name in ("completed", "已完成整改", "已销号", "Completed")
    }
    assert len(set(outs.values())) == 1
    assert '"id": "1.1"' in outs["completed"]
    assert '"id": "1.2"' not in outs["completed"]


def test_show_and_history_print_chinese_labels(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Under --lang zh history lines name the event in Chinese (with its key); English as is."""
    code, zh, _ = run(capsys, "--ledger", db, "history", "1.1")
    assert code == 0
    assert "列入台账(add)" in zh
    assert "提交销号(submit)" in zh
    code, shown, _ = run(capsys, "--ledger", db, "show", "1.1")
    assert "开始整改(start)" in shown
    assert "[待销号]" in shown
    assert "整改时限 2024-03-01" in shown
    code, en, _ = run(capsys, "--ledger", db, "--lang", "en", "show", "1.1")
    assert "开始整改" not in en
    assert " start " in en
    assert "deadline 2024-03-01" in en


def _big_sheet(path: pathlib.Path, rows: int) -> pathlib.Path:
    lines = "".join(f"{i},问题{i},德育处,2024-03-31\n" for i in range(rows))
    path.write_text("编号,问题,责任部门,整改时限\n" + lines, encoding="utf-8")
    return path


def test_ctrl_c_from_a_patched_reader(
    db: str,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A KeyboardInterrupt while reading prints one line, exits 130 and writes nothing."""
    sheet = _big_sheet(tmp_path / "a.csv", 10)
    real = csvfile.read_rows

    def interrupted(path: pathlib.Path, *_args: object):
        for n, row in enumerate(real(path)):
            if n == 5:
                raise KeyboardInterrupt
            yield row

    monkeypatch.setattr(csvfile, "read_rows", interrupted)
    monkeypatch.setattr("rectflow._io.files.read_csv", interrupted)
    with Ledger.open(db) as ledger:
        head = ledger.head()
    code, out, err = run(capsys, "--ledger", db, "import", str(sheet), "--inspection", "R1")
    assert (code, out, err) == (130, "", "rectflow: 已中断, 未写入任何内容\n")
    code, _, err = run(
        capsys, "--ledger", db, "--lang", "en", "import", str(sheet), "--inspection", "R1"
    )
    assert (code, err) == (130, "rectflow: interrupted, nothing written\n")
    with Ledger.open(db) as ledger:
        assert ledger.head() == head


def test_ctrl_c_sent_to_a_running_import(db: str, tmp_path: pathlib.Path) -> None:
    """SIGINT to ``rectflow import`` of a large file: one line, exit 130, nothing written."""
    sheet = _big_sheet(tmp_path / "big.csv", 150_000)
    with Ledger.open(db) as ledger:
        head = ledger.head()
    exe = pathlib.Path(sys.executable).with_name("rectflow")
    proc = subprocess.Popen(
        [str(exe), "--ledger", db, "import", str(sheet), "--inspection", "R1", "--actor", "x"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    wal = pathlib.Path(db + "-wal")
    deadline = time.monotonic() + 60
    while not wal.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the ledger is open: the import has begun
    time.sleep(0.5)
    assert proc.poll() is None, "the import finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err == "rectflow: 已中断, 未写入任何内容\n"
    assert out == ""
    with Ledger.open(db) as ledger:
        assert ledger.head() == head


def test_a_file_without_read_permission_says_so(
    db: str,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unreadable file is reported as a permission problem, not as a damaged file."""
    sheet = _big_sheet(tmp_path / "locked.xlsx", 0)  # never read: its name is enough
    real_open = pathlib.Path.open

    def locked(self: pathlib.Path, *args: object, **kwargs: object):
        if self.name == sheet.name:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pathlib.Path, "open", locked)
    with Ledger.open(db) as ledger, pytest.raises(LedgerFileError) as caught:
        ledger.import_file(sheet, actor="x", inspection="R1")
    (issue,) = caught.value.errors
    assert issue.code == "no_permission"
    assert "权限" in issue.message
    code, _, err = run(capsys, "--ledger", db, "import", str(sheet), "--inspection", "R1")
    assert code == 2
    assert "没有读取" in err
    assert "损坏" not in err
    code, _, err = run(
        capsys, "--ledger", db, "--lang", "en", "import", str(sheet), "--inspection", "R1"
    )
    assert "no permission to read" in err
    assert "damaged" not in err


def test_no_progress_bar_for_a_small_file(
    db: str,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a terminal, a file of up to 2,000 rows imports without a progress bar."""
    pytest.importorskip("tqdm")
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    sheet = _big_sheet(tmp_path / "small.csv", 1999)
    code, _, err = run(
        capsys, "--ledger", db, "import", str(sheet), "--inspection", "R1", "--dry-run"
    )
    assert (code, err) == (0, "")
