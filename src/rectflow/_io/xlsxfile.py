"""XLSX ledger files through ``openpyxl``, XML parsed by ``defusedxml`` (the ``xlsx`` extra).

Before openpyxl sees a workbook its parts are checked: a zip that is damaged,
truncated or far larger unpacked than a ledger can be is refused, and so is
any XML part declaring a DTD or entities (XXE, billion laughs). openpyxl then
parses with defusedxml as a second line of defence.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any, Final

from rectflow._io.table import FileProblem, Formula

MAX_UNPACKED: Final = 512 * 1024 * 1024
"""Largest total size of a workbook's parts once unpacked (zip bombs)."""
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
DATE_FORMAT: Final = "yyyy-mm-dd"


def _openpyxl() -> Any:
    try:
        import defusedxml  # noqa: F401, PLC0415 - openpyxl uses it when importable
        import openpyxl  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise FileProblem("needs_xlsx") from exc
    return openpyxl


def _scan(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if sum(m.file_size for m in members) > MAX_UNPACKED:
        raise FileProblem("bad_xlsx", value="unpacks too large")
    for member in members:
        if not member.filename.endswith((".xml", ".rels", ".vml")):
            continue
        tail = b""
        with archive.open(member) as part:
            while chunk := part.read(1 << 16):
                if _DTD.search(tail + chunk):
                    raise FileProblem("xml_entities", value=member.filename)
                tail = chunk[-16:]


def _check_parts(path: pathlib.Path) -> None:
    """Refuse a workbook that is not a sound zip, unpacks too large, or declares entities."""
    if path.stat().st_size == 0:
        raise FileProblem("empty_file")
    try:
        with zipfile.ZipFile(path) as archive:
            _scan(archive)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise FileProblem("bad_xlsx", value=type(exc).__name__) from exc


def read_rows(path: pathlib.Path) -> Iterator[tuple[int, list[Any]]]:
    """``(row number, cells)`` of the first sheet; merged cells give every cell their value.

    Formula cells come back as :class:`Formula`; dates as ``datetime``.

    Raises:
        FileProblem: For a workbook that cannot be read safely.
    """
    openpyxl = _openpyxl()
    _check_parts(path)
    try:
        book = openpyxl.load_workbook(path, read_only=False, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        cause: BaseException | None = exc
        while cause is not None:  # openpyxl wraps defusedxml's refusal in a ValueError
            if type(cause).__module__.startswith("defusedxml"):
                raise FileProblem("xml_entities", value=type(cause).__name__) from exc
            cause = cause.__cause__ or cause.__context__
        raise FileProblem("bad_xlsx", value=type(exc).__name__) from exc
    try:
        sheet = book.worksheets[0]
        merged: dict[tuple[int, int], Any] = {}
        for span in sheet.merged_cells.ranges:
            value = sheet.cell(span.min_row, span.min_col).value
            for r in range(span.min_row, span.max_row + 1):
                for c in range(span.min_col, span.max_col + 1):
                    merged[r, c] = value
        for row in sheet.iter_rows():
            cells: list[Any] = []
            number = 0
            for cell in row:
                number = cell.row
                if (cell.row, cell.column) in merged:
                    cells.append(merged[cell.row, cell.column])
                elif cell.data_type == "f":
                    cells.append(Formula(str(cell.value)))
                else:
                    cells.append(cell.value)
            if number:
                yield number, cells
    finally:
        book.close()


def write_rows(path: pathlib.Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    """Write a one-sheet workbook (streamed); dates get a date format, text stays text."""
    openpyxl = _openpyxl()
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("整改台账")
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, 1):
        wide = name in ("问题", "整改措施", "整改进展", "佐证材料")
        sheet.column_dimensions[get_column_letter(index)].width = 40 if wide else 14
    sheet.append(header)
    for values in rows:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    book.save(path)
