"""Damaged and oversized files (issue 17): every refusal typed, bounded in size and time.

The corpus (``test_io_corpus.py``) pins each damaged file's exact errors; these
tests pin the limits themselves, the work a file's declared extent may cause,
and the command line's output for a damaged file in both languages.
"""

from __future__ import annotations

import io
import itertools
import json
import pathlib
import zipfile

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_support import sample_ledger
from rectflow import FileLimits, InvalidInput, Ledger, LedgerFileError
from rectflow._io import table as table_module
from rectflow._io import xlsxfile
from rectflow._io.table import FileProblem
from rectflow.cli import build_parser, main

openpyxl = pytest.importorskip("openpyxl")

NOW = pendulum.datetime(2024, 6, 1, 12, tz="Asia/Shanghai")
HEADER = "编号,巡察,问题,整改时限,责任部门"
ROW = "1,R1,问题,2024-01-31,德育处"


def _ledger(path: str = ":memory:", lang: str = "zh") -> Ledger:
    return sample_ledger(path, lang=lang, now=NOW)


def _refused(path: pathlib.Path, **options: object) -> list[tuple[int, str, str]]:
    ledger = _ledger()
    head = ledger.head()
    with pytest.raises(LedgerFileError) as caught:
        ledger.import_file(path, actor="整改办", **options)  # type: ignore[arg-type]
    assert ledger.head() == head
    return [(e.row, e.column, e.code) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_bytes", 0),
        ("max_depth", -1),
        ("max_depth", True),
        ("max_seconds", 0),
        ("max_seconds", float("inf")),
        ("max_seconds", "10"),
    ],
)
def test_the_new_limits_must_be_positive(field, value):
    """max_bytes, max_depth and max_seconds refuse zero, negatives, infinity and non-numbers."""
    with pytest.raises(InvalidInput) as caught:
        FileLimits(**{field: value})
    assert caught.value.field == field


def test_a_file_over_max_bytes_is_refused_before_it_is_read(tmp_path):
    """A file larger than max_bytes: file_too_large, whatever its format."""
    for name, text in (("a.csv", f"{HEADER}\n{ROW}\n"), ("a.yaml", "events: []\n")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert _refused(path, limits=FileLimits(max_bytes=10)) == [(0, "", "file_too_large")]


def test_yaml_deeper_than_max_depth_is_refused_at_its_place(tmp_path):
    """max_depth 4: the key under the fourth level (payload's) is refused at its line and column."""
    path = tmp_path / "a.yaml"
    path.write_text("events:\n- payload:\n    measures: [{id: a}]\n", encoding="utf-8")
    assert _refused(path, limits=FileLimits(max_depth=4)) == [(3, "5", "yaml_depth")]


def test_a_max_depth_past_the_stack_is_still_a_typed_refusal(tmp_path):
    """With max_depth set beyond what Python's stack holds, deep YAML is yaml_depth, not a crash."""
    path = tmp_path / "a.yaml"
    path.write_text("events: " + "[" * 20_000 + "]" * 20_000 + "\n", encoding="utf-8")
    assert _refused(path, limits=FileLimits(max_depth=1_000_000)) == [(0, "", "yaml_depth")]


class _Clock:
    """time.monotonic for the readers: every reading one minute later than the last."""

    def __init__(self) -> None:
        self.ticks = itertools.count()

    def __call__(self) -> float:
        return 60.0 * next(self.ticks)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "a.csv",
            f"{HEADER}\n{ROW}\n" + "".join(f"{i},R1,问题,2024-01-31,德育处\n" for i in range(2, 9)),
        ),
        ("a.yaml", "format: rectflow-ledger\nversion: 1\nevents: []\n"),
    ],
)
def test_a_file_not_read_within_max_seconds_is_refused(name, text, tmp_path, monkeypatch):
    """Reading that outlasts max_seconds stops with time_limit and writes nothing."""
    monkeypatch.setattr(table_module.time, "monotonic", _Clock())
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert _refused(path, limits=FileLimits(max_seconds=90)) == [(0, "", "time_limit")]


def _book(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewrite(data: bytes, edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info, edit(body) if info.filename == "xl/worksheets/sheet1.xml" else body)
    return out.getvalue()


def test_an_xlsx_reads_as_wide_and_long_as_its_content(tmp_path):
    """Merges, a dimension and an empty cell at XFD1048576: two rows of five cells come out."""
    far = b'<row r="1048576"><c r="XFD1048576" s="0"/></row>'
    merge = b'<mergeCells count="1"><mergeCell ref="A3:XFD1048576"/></mergeCells>'

    def edit(body: bytes) -> bytes:
        body = body.replace(b"</sheetData>", far + b"</sheetData>" + merge, 1)
        return body.replace(b'<dimension ref="A1:E2"/>', b'<dimension ref="A1:XFD1048576"/>')

    path = tmp_path / "a.xlsx"
    path.write_bytes(_rewrite(_book([HEADER.split(","), ROW.split(",")]), edit))
    assert list(xlsxfile.read_rows(path)) == [(1, HEADER.split(",")), (2, ROW.split(","))]


def test_an_xlsx_gap_of_a_million_rows_is_one_shared_blank_row(tmp_path):
    """A value at XFD1048576: the empty rows between are one list, never rebuilt per row."""
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    path = tmp_path / "a.xlsx"
    data = _book([HEADER.split(","), ROW.split(",")])
    path.write_bytes(_rewrite(data, lambda b: b.replace(b"</sheetData>", far + b"</sheetData>")))
    rows = xlsxfile.read_rows(path)
    (n1, header), (n2, row), (n3, blank) = itertools.islice(rows, 3)
    assert (n1, n2, n3) == (1, 2, 3)
    assert len(header) == len(row) == len(blank) == 16_384  # the far value is content
    distinct = {id(cells) for number, cells in itertools.islice(rows, 1000) if number < 1_048_576}
    assert distinct == {id(blank)}
    rows.close()


def test_a_sheet_read_whole_is_refused_when_it_spans_too_many_cells(tmp_path, monkeypatch):
    """Rows out of order need openpyxl's full reading: refused when merges make it huge."""
    monkeypatch.setattr(xlsxfile, "_WHOLE_CELLS", 1000)
    merge = b'<mergeCells count="1"><mergeCell ref="A3:Z100"/></mergeCells>'

    def swap(body: bytes) -> bytes:
        row1 = body[body.index(b'<row r="1"') : body.index(b'<row r="2"')]
        return body.replace(row1, b"", 1).replace(b"</sheetData>", row1 + b"</sheetData>" + merge)

    path = tmp_path / "a.xlsx"
    path.write_bytes(_rewrite(_book([HEADER.split(","), ROW.split(",")]), swap))
    with pytest.raises(FileProblem) as caught:
        list(xlsxfile.read_rows(path))
    assert caught.value.code == "sheet_too_large"
    assert caught.value.fields == {"cells": 2 * 5 + 26 * 98}  # cell elements, merged cells


@pytest.mark.parametrize("width", [16_000, 32_000])
def test_trimming_a_wide_header_looks_at_each_cell_once(width, tmp_path, monkeypatch):
    """16,000 or 32,000 trailing commas: the blank checks see about as many cells as there are."""
    seen = []
    real = table_module._is_blank

    def counting(cells):
        seen.append(len(cells))
        return real(cells)

    monkeypatch.setattr(table_module, "_is_blank", counting)
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "," * width + f"\n{ROW}\n", encoding="utf-8")
    summary = _ledger().import_file(path, actor="整改办")
    assert summary.findings_added == 1
    assert sum(seen) < 3 * width


def test_zip_damage_is_bad_xlsx_with_its_cause(tmp_path):
    """A corrupt deflate stream is refused as bad_xlsx naming zlib's error, not raised as it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>" * 20)
    data = bytearray(out.getvalue())
    start = data.index(b"xl/workbook.xml") + len("xl/workbook.xml")
    data[start : start + 4] = b"\xff\xff\xff\xff"
    path = tmp_path / "a.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(FileProblem) as caught:
        list(xlsxfile.read_rows(path))
    assert caught.value.code == "bad_xlsx"
    assert caught.value.fields["value"].startswith("zlib.error: ")
    assert isinstance(caught.value.__cause__, __import__("zlib").error)


def test_a_yaml_entry_of_the_wrong_type_is_reported_at_its_path(tmp_path):
    """A measure's occurrence that is not a date: its whole path in the message, one error."""
    path = tmp_path / "a.yaml"
    path.write_text(
        "events:\n"
        "- {finding_id: F1, name: add, at: '2024-01-02T09:00:00+08:00', actor: a, version: 1,\n"
        "   payload: {inspection: R1, title: t, kind: deadline, deadline: '2024-01-31',\n"
        "             owner: {leader: l, department: d, person: p},\n"
        "             measures: [{id: m, text: t, occurrences: [2024-01-05, N]}]}}\n",
        encoding="utf-8",
    )
    ledger = _ledger()
    with pytest.raises(LedgerFileError) as caught:
        ledger.import_file(path, actor="整改办")
    [issue] = caught.value.errors
    assert (issue.row, issue.column, issue.code) == (1, "events.payload", "yaml_schema")
    assert issue.message == "events[1].payload.measures[1].occurrences[2]: expected a date"


# -- the command line


def _damaged(tmp_path: pathlib.Path) -> list[pathlib.Path]:
    files = {
        "deep.yaml": b"events: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "int.yaml": b"version: !!int abc\n",
        "bad.xlsx": b"PK\x03\x04" + b"\x00" * 121,
        "year.csv": f"{HEADER},状态时间\n{ROW},0001-01-01\n".encode(),
    }
    out = []
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        out.append(path)
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cli_import_of_a_damaged_file_is_a_typed_error_without_traceback(lang, tmp_path, capsys):
    """Each damaged file: exit 2, its issue and a summary line on stderr, no traceback."""
    ledger = tmp_path / "l.db"
    _ledger(str(ledger)).close()
    for path in _damaged(tmp_path):
        code = main(["--ledger", str(ledger), "--lang", lang, "import", str(path), "--actor", "x"])
        out, err = capsys.readouterr()
        assert code == 2, (path, out, err)
        assert "Traceback" not in out + err
        lines = err.strip().splitlines()
        assert lines[0].startswith(f"{path}:")
        assert lines[-1].startswith("rectflow: ")
        assert ("nothing was written" in lines[-1]) == (lang == "en")
        assert ("未写入任何内容" in lines[-1]) == (lang == "zh")
        code = main(["--ledger", str(ledger), "--json", "import", str(path), "--actor", "x"])
        problem = json.loads(capsys.readouterr().err)
        assert (code, problem["error"]) == (2, "LedgerFileError")
        assert problem["errors"]


@pytest.mark.parametrize(
    ("argv", "zh", "en"),
    [
        (["import"], "缺少必需的参数: file", "the following arguments are required: file"),
        (
            ["bogus"],
            "参数 command: 无效的选择 'bogus'",
            "argument command: invalid choice: 'bogus'",
        ),
        (["list", "--bogus"], "无法识别的参数: --bogus", "unrecognized arguments: --bogus"),
        (["import", "f.csv", "--format"], "参数 --format: 需要一个值", "expected one argument"),
    ],
)
def test_usage_errors_follow_the_language(argv, zh, en, capsys, monkeypatch):
    """argparse's usage line and error are Chinese by default, English with --lang en."""
    monkeypatch.delenv("RECTFLOW_LANG", raising=False)
    for lang_args, usage, error, expected in (
        ([], "用法: rectflow", "错误: ", zh),
        (["--lang", "en"], "usage: rectflow", "error: ", en),
    ):
        with pytest.raises(SystemExit) as caught:
            main([*lang_args, *argv])
        err = capsys.readouterr().err
        assert caught.value.code == 2
        assert err.startswith(usage), err
        assert error in err, err
        assert expected in err, err
        assert ("usage:" in err) == (lang_args != [])


def test_help_headings_follow_the_language(capsys, monkeypatch):
    """--help: 用法/位置参数/选项 in Chinese (also via RECTFLOW_LANG), usage/options in English."""
    monkeypatch.setenv("RECTFLOW_LANG", "en")
    for argv, words, absent in (
        (["--help"], ["usage: ", "positional arguments:", "options:", "show this help"], "用法"),
        (
            ["--lang=zh", "import", "--help"],
            ["用法: ", "位置参数:", "选项:", "显示本帮助"],
            "usage",
        ),
        (["import", "--lang", "zh", "--help"], ["用法: ", "选项:"], "options:"),
    ):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        out = capsys.readouterr().out
        assert caught.value.code == 0
        assert all(w in out for w in words), out
        assert absent not in out


def test_the_parser_leaves_argparse_as_it_found_it():
    """After a Chinese parser is built and used, argparse elsewhere still speaks English."""
    import argparse  # noqa: PLC0415

    parser = build_parser("zh")
    assert parser.format_usage().startswith("用法: ")
    other = argparse.ArgumentParser(prog="x")
    assert other.format_usage().startswith("usage: ")
    assert build_parser().format_usage().startswith("usage: rectflow")


@given(st.lists(st.integers(min_value=-5, max_value=(1 << 20) + 50)))
def test_the_survey_row_set_is_a_set(rows: list[int]) -> None:
    """The survey's compact row set answers as a set of the rows added, in row order."""
    from rectflow._io.xlsxfile import _Rows  # noqa: PLC0415

    kept = _Rows()
    for row in rows:
        kept.add(row)
    assert sorted(set(rows), key=lambda r: (not 0 <= r < 1 << 20, r)) == list(kept)
    for probe in {*rows, 0, 7, 8, (1 << 20) - 1, 1 << 20, -1, 3 * 10**6}:
        assert (probe in kept) == (probe in set(rows))
