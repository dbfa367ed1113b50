"""A corpus of bad ledger files: each is refused with its exact codes, rows and columns.

The text files live in ``tests/data/ledger-files/bad/``; the XLSX ones are built
by a fixture (binary files are generated, not stored). Every case also checks
that the ledger file is byte-identical afterwards: all or nothing.
"""

from __future__ import annotations

import hashlib
import io
import pathlib
import re
import zipfile
from collections.abc import Callable

import pendulum
import pytest

from fuzz_support import sample_ledger
from rectflow import FileLimits, Ledger, LedgerFileError

openpyxl = pytest.importorskip("openpyxl")

BAD = pathlib.Path(__file__).parent / "data" / "ledger-files" / "bad"
NOW = pendulum.datetime(2024, 6, 1, 12, tz="Asia/Shanghai")

# file: [(row, column, code), ...] — every error, in file order.
EXPECTED: dict[str, list[tuple[int, str, str]]] = {
    "add_unknown_inspection.yaml": [(1, "events.payload", "unknown_inspection")],
    "alias_bomb.yaml": [(1, "4", "yaml_alias")],
    "bool_tag_not_a_flag.yaml": [(3, "9", "yaml_value")],
    "deadline_year_one.csv": [(2, "D", "bad_date")],
    "deep_block_nesting.yaml": [(65, "127", "yaml_depth")],
    "deep_nesting.yaml": [(1, "72", "yaml_depth")],
    "events_a_number.yaml": [(0, "events", "yaml_schema")],
    "impossible_yaml_date.yaml": [(3, "4", "yaml_value")],
    "int_tag_not_a_number.yaml": [(2, "10", "yaml_value")],
    "measure_bad_kind_type.yaml": [(1, "events.payload", "yaml_schema")],
    "measure_not_text.yaml": [(3, "events.payload", "yaml_schema")],
    "measure_occurrence_not_a_date.yaml": [(1, "events.payload", "yaml_schema")],
    "owner_a_list.yaml": [(1, "events.payload", "yaml_schema")],
    "signed_off_year_one.csv": [(2, "L", "bad_time")],
    "stage_checkpoint_not_a_date.yaml": [(3, "events.payload", "yaml_schema")],
    "state_at_year_one.csv": [(2, "J", "bad_time")],
    "timestamp_tag_not_a_time.yaml": [(3, "9", "yaml_value")],
    "title_not_text.yaml": [(1, "events.payload", "yaml_schema")],
    "bad_itemized.csv": [(2, "F", "bad_value")],
    "cancelled_without_reason.csv": [(2, "H", "rule.reason_required")],
    "cell_too_long.csv": [(2, "C", "cell_too_long")],
    "checkpoint_beyond_interval.csv": [(2, "I", "rule.checkpoint_within_interval")],
    "checkpoint_not_a_date.csv": [(2, "I", "bad_date")],
    "completed_without_evidence.csv": [(2, "I", "rule.evidence_required")],
    "completed_without_signer.csv": [(2, "K", "required")],
    "completed_without_submitter.csv": [(2, "J", "required")],
    "deadline_before_feedback.csv": [(2, "D", "deadline_before_feedback")],
    "deadline_gibberish.csv": [(2, "D", "bad_date")],
    "duplicate_column.csv": [(1, "F", "duplicate_column")],
    "duplicate_id_in_file.csv": [(3, "A", "duplicate_id")],
    "empty.csv": [(0, "", "empty_file")],
    "empty.yaml": [(0, "", "empty_file")],
    "empty_deadline.csv": [(2, "D", "required")],
    "empty_department.csv": [(2, "E", "required")],
    "empty_id.csv": [(2, "A", "required")],
    "empty_title.csv": [(2, "C", "required")],
    "empty_title_spaces.csv": [(2, "C", "required")],
    "event_before_add.yaml": [(1, "events.finding_id", "finding_not_found")],
    "event_naive_time.yaml": [(2, "events.at", "naive_time")],
    "event_not_allowed.yaml": [(2, "events.name", "not_allowed")],
    "event_out_of_order.yaml": [(2, "events.at", "rule.time_order")],
    "event_signer_is_submitter.yaml": [(4, "events.actor", "rule.signer_not_submitter")],
    "event_unknown_key.yaml": [(1, "events.signature", "yaml_schema")],
    "event_unknown_name.yaml": [(2, "events.name", "unknown_event")],
    "event_version_gap.yaml": [(2, "events.version", "version")],
    "events_not_a_list.yaml": [(0, "events", "yaml_schema")],
    "formula_after_spaces.csv": [(2, "E", "formula")],
    "formula_fullwidth.csv": [(2, "C", "formula")],
    "formula_in_title.csv": [(2, "C", "formula")],
    "gb18030_bad_date.csv": [(2, "D", "bad_date")],
    "id_on_ledger.csv": [(2, "A", "id_exists")],
    "impossible_date_chinese.csv": [(2, "D", "bad_date")],
    "impossible_date_dash.csv": [(2, "D", "bad_date")],
    "impossible_date_dots.csv": [(2, "D", "bad_date")],
    "impossible_date_slash.csv": [(2, "D", "bad_date")],
    "inspection_conflicts.yaml": [(1, "inspections.id", "id_exists")],
    "inspection_mismatch.csv": [(2, "B", "inspection_mismatch")],
    "latin_junk.csv": [(0, "", "encoding")],
    "list_root.yaml": [(1, "", "yaml_root")],
    "long_term_with_other_kind.csv": [(2, "F", "long_term_kind")],
    "many_errors.csv": [
        (3, "B", "unknown_inspection"),
        (4, "C", "required"),
        (5, "D", "bad_date"),
        (6, "F", "unknown_state"),
        (7, "A", "duplicate_id"),
    ],
    "missing_deadline.csv": [(1, "", "missing_column")],
    "missing_department.csv": [(1, "", "missing_column")],
    "missing_id.csv": [(1, "", "missing_column")],
    "missing_inspection.csv": [(1, "", "missing_column")],
    "missing_title.csv": [(1, "", "missing_column")],
    "missing_two_columns.csv": [(1, "", "missing_column"), (1, "", "missing_column")],
    "no_header.csv": [(1, "", "no_header")],
    "nul_bytes.csv": [(0, "", "encoding")],
    "only_blank_lines.csv": [(0, "", "empty_file")],
    "only_bom.csv": [(0, "", "empty_file")],
    "pending_without_evidence.csv": [(2, "I", "rule.evidence_required")],
    "python_name_tag.yaml": [(3, "14", "yaml_tag")],
    "python_tag.yaml": [(5, "3", "yaml_tag")],
    "ragged_long_row.csv": [(2, "F", "ragged_row")],
    "ragged_short_row.csv": [(2, "E", "ragged_row")],
    "recheck_too_early.csv": [(2, "M", "rule.look_back_wait")],
    "scalar_root.yaml": [(1, "", "yaml_root")],
    "signed_off_before_feedback.csv": [(2, "L", "rule.before_feedback")],
    "signed_off_in_future.csv": [(2, "L", "rule.not_in_future")],
    "signed_off_naive_time.csv": [(2, "L", "naive_time")],
    "signed_off_not_a_time.csv": [(2, "L", "bad_time")],
    "signed_off_on_open_row.csv": [(2, "L", "state_time")],
    "signer_is_responsible.csv": [(2, "K", "rule.signer_not_responsible")],
    "signer_is_submitter.csv": [(2, "K", "rule.signer_not_submitter")],
    "signer_is_submitter_spacing.csv": [(2, "K", "rule.signer_not_submitter")],
    "staged_without_evidence.csv": [(2, "I", "rule.evidence_required")],
    "staged_without_progress.csv": [(2, "H", "rule.note_required")],
    "syntax_error.yaml": [(4, "1", "yaml_syntax")],
    "title_rows_then_errors.csv": [(7, "C", "required"), (7, "D", "bad_date")],
    "too_many_rows.csv": [(5, "", "too_many_rows")],
    "unbalanced_quote.csv": [(2, "D", "ragged_row")],
    "unknown_column.csv": [(1, "F", "unknown_column")],
    "unknown_inspection.csv": [(2, "B", "unknown_inspection")],
    "unknown_kind.csv": [(2, "F", "unknown_kind")],
    "unknown_state.csv": [(2, "F", "unknown_state")],
    "unknown_top_key.yaml": [(0, "secrets", "yaml_schema")],
    "utf16.csv": [(0, "", "encoding")],
    "wrong_version.yaml": [(0, "version", "yaml_schema")],
}

OPTIONS: dict[str, dict[str, object]] = {
    "cell_too_long.csv": {"limits": FileLimits(max_cell_chars=20)},
    "too_many_rows.csv": {"limits": FileLimits(max_rows=3)},
    "inspection_mismatch.csv": {"inspection": "R1"},
    "unknown_column.csv": {"strict_columns": True},
}

H = ["编号", "巡察", "问题", "整改时限", "责任部门"]


def _book(rows: list[list[object]], *, merge: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _patched(data: bytes, member: str, edit: Callable[[bytes], bytes]) -> bytes:
    """*data* (an XLSX) with one part rewritten."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info, edit(body) if info.filename == member else body)
    return out.getvalue()


def _with_dtd(body: bytes, dtd: bytes, use: bytes) -> bytes:
    """*body* with a DTD declared before its root and an entity used in its first text."""
    if body.startswith(b"<?xml"):
        decl, sep, rest = body.partition(b"?>")
        head = decl + sep
    else:
        head, rest = b"", body
    return head + dtd + rest.replace(b"<t>", b"<t>" + use, 1)


def _xxe(body: bytes) -> bytes:
    dtd = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return _with_dtd(body, dtd, b"&xxe;")


def _laughs(body: bytes) -> bytes:
    dtd = (
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    return _with_dtd(body, dtd, b"&lol3;")


GOOD_ROW = ["1", "R1", "问题", "2024-01-31", "德育处"]
NO_TITLE = ["2", "R1", "", "2024-01-31", "德育处"]
FAR_VALUE = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
FAR_EMPTY = b'<row r="1048576"><c r="XFD1048576" s="0"/></row>'
WHOLE_SHEET = b'<mergeCells count="1"><mergeCell ref="A3:XFD1048576"/></mergeCells>'


def _far(row: bytes) -> Callable[[bytes], bytes]:
    """A sheet's XML with *row* added after its rows."""
    return lambda body: body.replace(b"</sheetData>", row + b"</sheetData>", 1)


def _corrupt_deflate() -> bytes:
    """A zip of one small deflated part whose stream is damaged (about 150 bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>" * 3)
    data = bytearray(out.getvalue())
    start = data.find(b"[Content_Types].xml") + len("[Content_Types].xml")
    data[start] ^= 0xFF
    data[start + 1] ^= 0x55
    return bytes(data)


XLSX_CASES: dict[str, tuple[Callable[[], bytes], list[tuple[int, str, str]]]] = {
    "not_a_zip.xlsx": (lambda: b"PK\x03\x04 this is not a workbook", [(0, "", "bad_xlsx")]),
    "plain_text.xlsx": (lambda: b"\xe7\xbc\x96\xe5\x8f\xb7,title\n", [(0, "", "bad_xlsx")]),
    "empty.xlsx": (lambda: b"", [(0, "", "empty_file")]),
    "truncated.xlsx": (
        lambda: _book([H, GOOD_ROW])[:1500],
        [(0, "", "bad_xlsx")],
    ),
    "xxe.xlsx": (
        lambda: _patched(_book([H, GOOD_ROW]), "xl/worksheets/sheet1.xml", _xxe),
        [(0, "", "xml_entities")],
    ),
    "billion_laughs.xlsx": (
        lambda: _patched(_book([H, GOOD_ROW]), "xl/worksheets/sheet1.xml", _laughs),
        [(0, "", "xml_entities")],
    ),
    "formula.xlsx": (
        lambda: _book([H, ["1", "R1", "=1+1", "2024-01-31", "德育处"]]),
        [(2, "C", "formula")],
    ),
    "formula_in_deadline.xlsx": (
        lambda: _book([H, ["1", "R1", "问题", "=TODAY()+30", "德育处"]]),
        [(2, "D", "formula")],
    ),
    "bad_text_date.xlsx": (
        lambda: _book([H, ["1", "R1", "问题", "2024/2/30", "德育处"]]),
        [(2, "D", "bad_date")],
    ),
    "missing_column.xlsx": (
        lambda: _book([["编号", "巡察", "问题", "整改时限"], ["1", "R1", "问题", "2024-01-31"]]),
        [(1, "", "missing_column")],
    ),
    "corrupt_deflate.xlsx": (_corrupt_deflate, [(0, "", "bad_xlsx")]),
    "merge_to_the_last_cell.xlsx": (  # the merge copies 2 into 巡察: clipped to 5 columns
        lambda: _patched(
            _book([H, GOOD_ROW, NO_TITLE]),
            "xl/worksheets/sheet1.xml",
            lambda body: body.replace(b"</sheetData>", b"</sheetData>" + WHOLE_SHEET, 1),
        ),
        [(3, "B", "unknown_inspection")],
    ),
    "far_cell_with_a_value.xlsx": (
        lambda: _patched(_book([H, NO_TITLE]), "xl/worksheets/sheet1.xml", _far(FAR_VALUE)),
        [(2, "C", "required"), (1_048_576, "F", "ragged_row")],
    ),
    "far_empty_cell.xlsx": (
        lambda: _patched(_book([H, NO_TITLE]), "xl/worksheets/sheet1.xml", _far(FAR_EMPTY)),
        [(2, "C", "required")],
    ),
    "whole_sheet_dimension.xlsx": (
        lambda: _patched(
            _book([H, NO_TITLE]),
            "xl/worksheets/sheet1.xml",
            lambda body: re.sub(
                rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', body
            ),
        ),
        [(2, "C", "required")],
    ),
    "title_merged_then_error.xlsx": (
        lambda: _book(
            [["XX学校巡察整改台账"], [], H, GOOD_ROW, ["2", "R1", "", "2024-01-31", "德育处"]],
            merge="A1:E1",
        ),
        [(5, "C", "required")],
    ),
}


def _fingerprint(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for part in sorted(path.parent.glob(path.name + "*")):
        digest.update(part.name.encode() + part.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def ledger_path(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "ledger.db"
    sample_ledger(str(path), now=NOW).close()
    return path


def _refused(
    ledger_path: pathlib.Path, file: pathlib.Path, **options: object
) -> list[tuple[int, str, str]]:
    before = _fingerprint(ledger_path)
    with Ledger.open(str(ledger_path), clock=lambda: NOW) as ledger:
        head = ledger.head()
        with pytest.raises(LedgerFileError) as caught:
            ledger.import_file(file, actor="整改办", **options)  # type: ignore[arg-type]
        assert ledger.head() == head
        assert [f.id for f in ledger.findings()] == ["X1"]
    assert _fingerprint(ledger_path) == before
    err = caught.value
    assert err.errors
    for issue in err.errors:
        assert str(issue) == f"{file}:{issue.row}:{issue.column}: {issue.code}: {issue.message}"
        assert issue.message
    return [(e.row, e.column, e.code) for e in err.errors]


def test_the_corpus_is_large_and_fully_described():
    """At least 60 bad files, and every file in the folder has its expectation."""
    on_disk = {p.name for p in BAD.iterdir()}
    assert on_disk == set(EXPECTED)
    assert len(on_disk) + len(XLSX_CASES) >= 60


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_text_file_is_refused_exactly(name, ledger_path):
    """Each stored bad file gives exactly its errors and leaves the ledger file untouched."""
    assert _refused(ledger_path, BAD / name, **OPTIONS.get(name, {})) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(XLSX_CASES))
def test_bad_xlsx_is_refused_exactly(name, ledger_path, tmp_path):
    """Each generated bad workbook gives exactly its errors and leaves the ledger file untouched."""
    build, expected = XLSX_CASES[name]
    file = tmp_path / name
    file.write_bytes(build())
    assert _refused(ledger_path, file) == expected


@pytest.mark.parametrize("name", ["xxe.xlsx", "billion_laughs.xlsx"])
def test_openpyxl_itself_refuses_entities_through_defusedxml(name, tmp_path):
    """Second line of defence: openpyxl parses with defusedxml, which refuses the same parts."""
    defusedxml = pytest.importorskip("defusedxml")
    file = tmp_path / name
    file.write_bytes(XLSX_CASES[name][0]())
    with pytest.raises((defusedxml.DefusedXmlException, ValueError)) as caught:
        openpyxl.load_workbook(file)
    chain, exc = [], caught.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert any(isinstance(e, defusedxml.DefusedXmlException) for e in chain)
