"""Ids sort the way people read them (issue 14): 1.2 before 1.10, 2 before 10, everywhere."""

from __future__ import annotations

import csv
import itertools
import json
import pathlib

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rectflow import Ledger, Owner
from rectflow._model import id_key
from rectflow.cli import main

TZ = "Asia/Shanghai"
# as the store's text order gives them: "1.10" < "1.2" < "10" < "2"
IDS = ["1.10", "1.2", "1.1", "10", "2", "2.10.1", "2.9.3", "R1-12", "R1-3"]
READ = ["1.1", "1.2", "1.10", "2", "2.9.3", "2.10.1", "10", "R1-3", "R1-12"]


def at(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz=TZ)  # type: ignore[return-value]


def test_id_key_orders_numbers_as_numbers():
    """Digit runs compare as numbers, separators only part them, ties fall back to the text."""
    assert sorted(IDS, key=id_key) == READ
    assert sorted(["1-2", "1.2", "01.2"], key=id_key) == ["01.2", "1-2", "1.2"]
    assert sorted(["a", "1", "甲"], key=id_key) == ["1", "a", "甲"]
    assert sorted(["１２", "3"], key=id_key) == ["3", "１２"]  # full-width digits are digits


@given(st.lists(st.text(max_size=8), max_size=12))
def test_id_key_is_a_total_order(ids):
    """Any ids sort without error; distinct ids never tie, so the order never depends on input."""
    assert len({id_key(i) for i in ids}) == len(set(ids))
    once = sorted(ids, key=id_key)
    assert all(id_key(a) <= id_key(b) for a, b in itertools.pairwise(once))


@pytest.fixture
def ledger(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "l.db"
    with Ledger.open(path, clock=lambda: at("2024-03-01 12:00")) as led:
        led.add_inspection("R1", title="巡察", feedback_at="2023-11-23", at=at("2023-11-23 09:00"))
        for fid in IDS:
            led.add_finding(
                fid,
                inspection="R1",
                title=f"问题{fid}",
                kind="deadline",
                owner=Owner("", "德育处", "黄主任"),
                deadline="2024-01-31",  # every one overdue by March
                actor="巡察办",
                aspect="第一方面:领导",
                category="(一)学习",
                at=at("2023-11-27 09:00"),
            )
    return path


def test_list_export_report_and_agenda_follow_the_reading_order(ledger, tmp_path, capsys):
    """`list`, the CSV and XLSX exports, the report's rows and overdue list, the agenda."""
    assert main(["--ledger", str(ledger), "list", "--json"]) == 0
    assert [f["id"] for f in json.loads(capsys.readouterr().out)] == READ
    with Ledger.open(ledger, clock=lambda: at("2024-03-01 12:00")) as led:
        led.export_file(tmp_path / "a.csv")
        rows = list(csv.DictReader((tmp_path / "a.csv").open(encoding="utf-8-sig")))
        assert [r["编号"] for r in rows] == READ
        data = led.report("R1", as_of="2024-03-01").to_dict()
        assert [r["id"] for r in data["findings"]] == READ
        assert data["overdue_findings"] == READ
        agenda = led.agenda(as_of="2024-03-01")
        assert [i.finding_id for i in agenda.of_kind("overdue")] == READ
        led.export_file(tmp_path / "a.xlsx")
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(tmp_path / "a.xlsx").active
    assert [sheet.cell(r, 1).value for r in range(4, 4 + len(READ))] == READ
