"""XLSX ledger files through ``openpyxl``, XML parsed by ``defusedxml`` (the ``xlsx`` extra).

Before openpyxl sees a workbook its parts are checked: a zip that is damaged,
truncated or far larger unpacked than a ledger can be is refused, and so is
any XML part declaring a DTD or entities (XXE, billion laughs). openpyxl then
parses with defusedxml as a second line of defence.

The first sheet is streamed: openpyxl reads it in read-only mode, a row at a
time, so a large workbook is never held in memory whole. Read-only mode knows
nothing of merged cells, so the sheet's XML is first read once more on its own
(streamed through defusedxml, a row at a time) for its ``<mergeCell>`` spans,
its hyperlinks and its extent. The rows then come out as openpyxl's full
reading gives them: every row from 1 to the last, blank ones included, all as
wide as the sheet; a merged cell has the value of its span's top-left cell, and
an empty cell under a hyperlink the link's target. A sheet whose rows are out of
order, which read-only mode cannot place, is read whole instead.

Work follows the sheet's content, never its declared extent: the sheet is as
wide and as long as its cells holding a value (or a one-cell link's target)
reach; empty cells, comments, ``<dimension>``, merged ranges and ranges of
links are cut to that, and an empty row costs nothing per cell (one shared
blank list). Every step checks the file's time limit.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, Final, cast

from rectflow._io.table import NO_DEADLINE, Deadline, FileProblem, Formula

MAX_UNPACKED: Final = 512 * 1024 * 1024
"""Largest total size of a workbook's parts once unpacked (zip bombs)."""
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
DATE_FORMAT: Final = "yyyy-mm-dd"
_MAIN: Final = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIPS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL_ID: Final = "{" + _RELATIONSHIPS + "}id"
_ROW: Final = _MAIN + "row"
_MERGES: Final = _MAIN + "mergeCells"
_LINKS: Final = _MAIN + "hyperlinks"
_WHOLE_CELLS: Final = 250_000
"""Most cells openpyxl may make reading a sheet whole (rows out of order): one per cell
element, and one per cell of each merged range and linked range. openpyxl spends several
microseconds on each (a merge of a million cells took 14 s on a busy 2-core machine), so
this keeps such a read within seconds; a sheet whose rows are in order is streamed instead
and has no such bound."""
_DAMAGED: Final = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,  # an encrypted member
    KeyError,  # a member named in the directory but absent
)
"""What reading a damaged zip raises (zlib for a corrupt deflate stream)."""
_WORKBOOK_TYPES: Final = tuple(  # in the order openpyxl looks for them
    f"application/vnd.{kind}.main+xml"
    for kind in (
        "ms-excel.template.macroEnabled",
        "openxmlformats-officedocument.spreadsheetml.template",
        "ms-excel.sheet.macroEnabled",
        "openxmlformats-officedocument.spreadsheetml.sheet",
    )
)


def _openpyxl() -> Any:
    try:
        import defusedxml  # noqa: F401, PLC0415 - openpyxl uses it when importable
        import openpyxl  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise FileProblem("needs_xlsx") from exc
    return openpyxl


def _scan(archive: zipfile.ZipFile, deadline: Deadline) -> None:
    members = archive.infolist()
    if sum(m.file_size for m in members) > MAX_UNPACKED:
        raise FileProblem("bad_xlsx", value="unpacks too large")
    for member in members:
        if not member.filename.endswith((".xml", ".rels", ".vml")):
            continue
        tail = b""
        with archive.open(member) as part:
            while chunk := part.read(1 << 16):
                deadline.check()
                if _DTD.search(tail + chunk):
                    raise FileProblem("xml_entities", value=member.filename)
                tail = chunk[-16:]


def _cause(exc: BaseException) -> str:
    """What a damaged zip raised, for the message (``zlib.error: …``)."""
    kind = type(exc)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    return f"{name}: {exc}"[:200] if str(exc) else name


def _check_parts(path: pathlib.Path, deadline: Deadline = NO_DEADLINE) -> None:
    """Refuse a workbook that is not a sound zip, unpacks too large, or declares entities.

    Every XML part is read through once (its deflate stream and CRC checked), so a
    damaged zip is refused here with its cause, before openpyxl sees it.
    """
    if path.stat().st_size == 0:
        raise FileProblem("empty_file")
    try:
        with zipfile.ZipFile(path) as archive:
            _scan(archive, deadline)
    except _DAMAGED as exc:
        raise FileProblem("bad_xlsx", value=_cause(exc)) from exc


def _refusal(exc: BaseException) -> FileProblem:
    """The problem to report for what openpyxl or the XML parser raised."""
    cause: BaseException | None = exc
    while cause is not None:  # openpyxl wraps defusedxml's refusal in a ValueError
        if type(cause).__module__.startswith("defusedxml"):
            return FileProblem("xml_entities", value=type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError, OSError)):
        return FileProblem("bad_xlsx", value=_cause(exc))  # the zip itself: say how
    return FileProblem("bad_xlsx", value=type(exc).__name__)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _relationships(archive: zipfile.ZipFile, rels_path: str) -> dict[str | None, tuple[str, str]]:
    """Id → ``(target, type)`` of a ``.rels`` part, targets as zip members (as openpyxl)."""
    from defusedxml.ElementTree import fromstring  # noqa: PLC0415

    parent = posixpath.dirname(posixpath.dirname(rels_path))
    found: dict[str | None, tuple[str, str]] = {}
    for rel in fromstring(archive.read(rels_path)):
        target = rel.get("Target", "")
        if rel.get("TargetMode") != "External":
            joined = posixpath.normpath(posixpath.join(parent, target))
            target = target[1:] if target.startswith("/") else joined
        found[rel.get("Id")] = (target, rel.get("Type", ""))
    return found


def _first_sheet_part(archive: zipfile.ZipFile) -> str:
    """The zip member of the first worksheet, found as openpyxl finds it.

    The workbook part named in ``[Content_Types].xml`` (else ``xl/workbook.xml``);
    its first ``<sheet>`` with a relationship whose target is in the zip and is not
    a chartsheet.
    """
    from defusedxml.ElementTree import fromstring  # noqa: PLC0415

    types = fromstring(archive.read("[Content_Types].xml"))
    overrides = [t for t in types if _local(t.tag) == "Override"]
    parts = {t.get("ContentType"): t.get("PartName", "") for t in reversed(overrides)}
    book = next((parts[t] for t in _WORKBOOK_TYPES if t in parts), "/xl/workbook.xml")
    book = book.lstrip("/")
    rels = _relationships(archive, _rels_path(book))
    members = set(archive.namelist())
    for sheet in fromstring(archive.read(book)).iter(_MAIN + "sheet"):
        rel_id = sheet.get(_REL_ID)
        if rel_id:
            target, kind = rels[rel_id]
            if target in members and "chartsheet" not in kind:
                return target
    raise FileProblem("bad_xlsx", value="no worksheet")


def _row_number(text: str | None, previous: int) -> int:
    """A ``<row r="…">`` as openpyxl reads it (none: the row after the previous one)."""
    if text is None:
        return previous + 1
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise ValueError(f"{text} is not a valid row number") from None
        return int(number)


def _bounds(ref: str | None) -> tuple[int, int, int, int] | None:
    """``(min_row, min_col, max_row, max_col)`` of a range (None: whole rows or columns)."""
    from openpyxl.utils.cell import range_boundaries  # noqa: PLC0415

    min_col, min_row, max_col, max_row = range_boundaries(str(ref))
    if min_col is None or min_row is None or max_col is None or max_row is None:
        return None
    return min_row, min_col, max_row, max_col


class _Box:
    """A rectangle of cells: a merged span, or the cells under one hyperlink.

    Attributes:
        order: Its place in the file (later spans win where spans overlap).
        single: A hyperlink to one cell (on a merged cell it goes to the span's top-left).
        value: What its cells get: a span's top-left value, once its first row is read;
            a hyperlink's target.
        cell: A hyperlink's target as the cell gives it (a :class:`Formula` for ``=…``).
    """

    __slots__ = ("cell", "max_col", "max_row", "min_col", "min_row", "order", "single", "value")

    def __init__(self, order: int, bounds: tuple[int, int, int, int], single: bool = False) -> None:
        self.order = order
        self.min_row, self.min_col, self.max_row, self.max_col = bounds
        self.single = single
        self.value: Any = None
        self.cell: Any = None

    def hides(self, row: int, column: int) -> bool:
        """Whether the cell is one of this span's merged cells other than its top-left."""
        return (
            self.min_row <= row <= self.max_row
            and self.min_col <= column <= self.max_col
            and (row, column) != (self.min_row, self.min_col)
        )


class _Sweep:
    """The boxes over each row, for rows taken in rising order (in the file's order)."""

    def __init__(self, boxes: Iterable[_Box]) -> None:
        self.waiting = sorted(boxes, key=lambda b: -b.min_row)  # next to start at the end
        self.over: list[_Box] = []
        self.ends = 0  # the first row past a box in self.over

    def at(self, row: int) -> tuple[list[_Box], list[_Box]]:
        """The boxes over *row*, and those of them that start on it."""
        new = []
        while self.waiting and self.waiting[-1].min_row <= row:
            new.append(self.waiting.pop())
        if new or (self.over and self.ends <= row):
            kept = [b for b in self.over if b.max_row >= row]
            self.over = sorted(kept + new, key=lambda b: b.order)
            self.ends = min((b.max_row for b in self.over), default=0) + 1
        return self.over, new


def _redirected(links: Sequence[_Box], spans: Sequence[_Box]) -> list[_Box]:
    """*links*, a one-cell link on a merged cell moved to its span's top-left (as openpyxl)."""
    sweep = _Sweep(spans)
    moved = []
    for link in sorted(links, key=lambda b: b.min_row):
        if link.single:
            over, _ = sweep.at(link.min_row)
            home = next((s for s in over if s.hides(link.min_row, link.min_col)), None)
            if home is not None:
                corner = (home.min_row, home.min_col, home.min_row, home.min_col)
                target = _Box(link.order, corner, single=True)
                target.value, target.cell = link.value, link.cell
                link = target  # noqa: PLW2901
        moved.append(link)
    return moved


def _parse(source: IO[bytes], target: object, deadline: Deadline) -> None:
    """Stream an XML part through defusedxml into a parser *target* (no tree is built)."""
    from defusedxml.ElementTree import DefusedXMLParser  # noqa: PLC0415

    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    while chunk := source.read(1 << 14):
        deadline.check()
        parser.feed(chunk)
    parser.close()


_EXCEL_ROWS = 1 << 20
"""Excel's last row (1,048,576): rows up to it are kept as bits, any beyond in a set."""


class _Rows:
    """A set of row numbers in about a bit per row (a dense sheet's rows, not an int each).

    Rows past Excel's last (only a damaged file names them) go to a plain set.
    """

    __slots__ = ("_bits", "_far")

    def __init__(self) -> None:
        self._bits = bytearray()
        self._far: set[int] = set()

    def add(self, row: int) -> None:
        if not 0 <= row < _EXCEL_ROWS:
            self._far.add(row)
            return
        byte = row >> 3
        if byte >= len(self._bits):  # grown by doubling: amortised O(1) per row
            self._bits.extend(bytes(max(byte + 1, 2 * len(self._bits)) - len(self._bits)))
        self._bits[byte] |= 1 << (row & 7)

    def __contains__(self, row: object) -> bool:
        if not isinstance(row, int):
            return False
        if 0 <= row < _EXCEL_ROWS:
            byte = row >> 3
            return byte < len(self._bits) and bool(self._bits[byte] >> (row & 7) & 1)
        return row in self._far

    def __iter__(self) -> Iterator[int]:
        for byte, bits in enumerate(self._bits):
            if bits:
                yield from (byte * 8 + i for i in range(8) if bits >> i & 1)
        yield from sorted(self._far)


class _SheetXML:
    """Parser target taking a sheet's extent, merged ranges and hyperlinks as its XML goes by.

    Rows, cells and ranges are read as openpyxl reads them: every child of a
    ``<row>`` is a cell; a row without ``r`` follows the previous one, a cell without
    ``r`` the previous cell; the last ``<mergeCells>`` and ``<hyperlinks>`` count.

    Attributes:
        rows: The last row holding a cell with content (a value, formula or text).
        columns: The last column holding one.
        cells: The cell elements (empty ones too: openpyxl makes one for each).
        filled: The rows holding a cell with content.
    """

    def __init__(self) -> None:
        from openpyxl.utils.cell import coordinate_to_tuple  # noqa: PLC0415

        self.coordinate = coordinate_to_tuple
        self.rows = self.columns = 0
        self.cells = 0
        self.filled = _Rows()
        self._cell_row = 0
        self.in_order = True
        self.merges: list[str | None] = []
        self.links: list[tuple[str | None, str | None, str | None]] = []
        self._row = self._column = 0  # openpyxl's counters
        self._depth = 0
        self._in = {_ROW: -1, _MERGES: -1, _LINKS: -1}  # depth of the open one (-1: none)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._depth += 1
        depth, inside = self._depth, self._in
        if depth == inside[_ROW] + 1:
            row = self._row
            ref = attrib.get("r")
            if ref:
                row, self._column = self.coordinate(ref)
                self.in_order = self.in_order and row == self._row
            else:
                self._column += 1
            self._cell_row = row
            self.cells += 1
        elif depth == inside[_ROW] + 2 > 1:  # a cell's value, formula or text: content
            row = self._cell_row
            self.filled.add(row)
            self.rows, self.columns = max(self.rows, row), max(self.columns, self._column)
        elif tag == _ROW:
            previous, self._row = self._row, _row_number(attrib.get("r"), self._row)
            self.in_order = self.in_order and self._row > previous
            self._column = 0
            inside[_ROW] = depth
        elif depth == inside[_MERGES] + 1:
            if _local(tag) == "mergeCell":
                self.merges.append(attrib.get("ref"))
        elif depth == inside[_LINKS] + 1:
            if _local(tag) == "hyperlink":
                self.links.append((attrib.get("ref"), attrib.get(_REL_ID), attrib.get("location")))
        elif tag == _MERGES:
            self.merges = []
            inside[_MERGES] = depth
        elif tag == _LINKS:
            self.links = []
            inside[_LINKS] = depth

    def end(self, tag: str) -> None:
        if self._depth == self._in.get(tag):
            self._in[tag] = -1
        self._depth -= 1


def _clipped(boxes: Iterable[_Box], rows: int, columns: int) -> list[_Box]:
    """*boxes* cut to the first *rows* and *columns* (those wholly outside dropped)."""
    kept = []
    for box in boxes:
        if box.min_row <= rows and box.min_col <= columns:
            box.max_row, box.max_col = min(box.max_row, rows), min(box.max_col, columns)
            kept.append(box)
    return kept


class _Survey:
    """What one streamed pass over a sheet's XML says before its rows are read.

    Attributes:
        rows: The last row holding content: a cell's value, formula or text, or a
            one-cell hyperlink's target (0: none at all).
        columns: The last column holding content: the width of every row.
        filled: The rows holding a cell with content.
        spans: The merged ranges, in the file's order, clipped to the content.
        links: The hyperlinks over whole cell ranges, in the file's order, clipped.
        in_order: Whether rows come in rising order, each holding only its own
            cells: read-only mode needs that to place every cell.
        whole_cells: The cells openpyxl's full reading would make: one per cell
            element, and every cell of the merged and linked ranges (unclipped).
    """

    def __init__(self, archive: zipfile.ZipFile, part: str, deadline: Deadline) -> None:
        from openpyxl.cell.cell import Cell  # noqa: PLC0415

        sheet = _SheetXML()
        with archive.open(part) as source:
            _parse(source, sheet, deadline)
        self.in_order = sheet.in_order
        self.filled = sheet.filled
        rels_path = _rels_path(part)
        rels = _relationships(archive, rels_path) if rels_path in archive.namelist() else {}
        spans = []
        for order, ref in enumerate(sheet.merges):
            bounds = _bounds(ref)
            if bounds is None:
                raise TypeError(f"{ref} is not a range of cells")  # as openpyxl refuses it
            if bounds[0] > bounds[2] or bounds[1] > bounds[3]:
                raise ValueError(f"{ref} is not a range of cells")
            spans.append(_Box(order, bounds))
        links = []
        for order, (ref, rel_id, location) in enumerate(sheet.links):
            target = rels[rel_id][0] if rel_id else None
            bounds = _bounds(ref)
            if bounds is not None:
                link = _Box(order, bounds, single=":" not in str(ref))
                if target or location:  # openpyxl sets it as a cell's value: checked as one
                    probe = Cell(cast("Any", None), 1, 1, value=target or location)
                    link.value = probe.value
                    link.cell = Formula(str(probe.value)) if probe.data_type == "f" else probe.value
                links.append(link)
        self.whole_cells = sheet.cells + sum(
            (b.max_row - b.min_row + 1) * (b.max_col - b.min_col + 1) for b in [*spans, *links]
        )
        rows, columns = sheet.rows, sheet.columns
        for link in links:
            if link.single and link.value is not None:
                rows, columns = max(rows, link.max_row), max(columns, link.max_col)
        self.rows, self.columns = rows, columns
        self.spans = _clipped(spans, rows, columns)
        self.links = _clipped(links, rows, columns)


def _stream(sheet: Any, survey: _Survey, deadline: Deadline) -> Iterator[tuple[int, list[Any]]]:
    """The rows of a read-only *sheet*, numbered from 1, merged cells and links filled in.

    A row without content, merged cell or link is the same blank list each time
    (its consumer skips it without looking at its cells again).
    """
    width = survey.columns
    rows = sheet.iter_rows(min_row=1, max_row=survey.rows, min_col=1, max_col=width)
    spans, links = _Sweep(survey.spans), _Sweep(_redirected(survey.links, survey.spans))
    filled = survey.filled
    blank: list[Any] = [None] * width
    ended = False
    try:
        for number in range(1, survey.rows + 1):
            deadline.check()
            row: Sequence[Any] = ()
            if not ended:  # openpyxl stops at the last <row>; spans may reach further
                try:
                    row = next(rows)
                except StopIteration:
                    ended = True
                except Exception as exc:  # read-only mode parses the sheet as it goes
                    raise _refusal(exc) from exc
            merged, starting = spans.at(number)
            linked, _ = links.at(number)
            if not (merged or linked or number in filled):
                yield number, blank
                continue
            cells = [Formula(str(c.value)) if c.data_type == "f" else c.value for c in row]
            cells.extend([None] * (width - len(cells)))
            shown: dict[int, Any] = {}
            for link in linked:  # as openpyxl: an empty cell shows the first link's target
                for col in range(link.min_col, link.max_col + 1):
                    if cells[col - 1] is None and (
                        link.single or not any(s.hides(number, col) for s in merged)
                    ):
                        shown[col] = link.value
                        cells[col - 1] = link.cell
            for span in starting:  # its top-left is read before the rest of it
                col = span.min_col
                if any(s.hides(number, col) for s in merged):
                    span.value = None  # covered by another span (invalid): openpyxl's empty cell
                elif col in shown:
                    span.value = shown[col]
                else:
                    span.value = row[col - 1].value if col <= len(row) else None
            for span in merged:  # where spans overlap (invalid in Excel) the later one wins
                cells[span.min_col - 1 : span.max_col] = [span.value] * (
                    span.max_col - span.min_col + 1
                )
            yield number, cells
    finally:
        rows.close()


def _read_whole(
    path: pathlib.Path, survey: _Survey, deadline: Deadline
) -> Iterator[tuple[int, list[Any]]]:
    """The rows of the first sheet read whole (for a sheet read-only mode cannot place).

    openpyxl loads the workbook; the rows are then taken as :func:`_stream` gives
    them: as far as the survey found content, an empty row the one shared blank list.
    """
    openpyxl = _openpyxl()
    try:
        book = openpyxl.load_workbook(path, read_only=False, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise _refusal(exc) from exc
    try:
        sheet = book.worksheets[0]
        rows, width = survey.rows, survey.columns
        merged: dict[tuple[int, int], Any] = {}
        for span in sheet.merged_cells.ranges:  # cut to the content, as the survey's spans
            value = sheet.cell(span.min_row, span.min_col).value
            for r in range(span.min_row, min(span.max_row, rows) + 1):
                for c in range(span.min_col, min(span.max_col, width) + 1):
                    merged[r, c] = value
        busy = set(survey.filled)
        for box in (*survey.spans, *survey.links):
            busy.update(range(box.min_row, box.max_row + 1))
        blank: list[Any] = [None] * width
        for number in range(1, rows + 1):
            deadline.check()
            if number not in busy:
                yield number, blank
                continue
            cells: list[Any] = []
            for column in range(1, width + 1):
                if (number, column) in merged:
                    cells.append(merged[number, column])
                    continue
                cell = sheet.cell(number, column)
                cells.append(Formula(str(cell.value)) if cell.data_type == "f" else cell.value)
            yield number, cells
    finally:
        book.close()


def read_rows(
    path: pathlib.Path, deadline: Deadline = NO_DEADLINE
) -> Iterator[tuple[int, list[Any]]]:
    """``(row number, cells)`` of the first sheet, streamed; merged cells all have their value.

    Every row from 1 to the sheet's last holding content comes out, blank ones
    too, all as wide as the sheet's content. Formula cells come back as
    :class:`Formula`; dates as ``datetime``. A yielded row is never changed later.

    Raises:
        FileProblem: For a workbook that cannot be read safely (also while iterating):
            ``bad_xlsx`` with its cause, ``xml_entities``, ``sheet_too_large``,
            ``time_limit``.
    """
    openpyxl = _openpyxl()
    _check_parts(path, deadline)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise _refusal(exc) from exc
    try:
        try:
            sheet = book.worksheets[0]
            with zipfile.ZipFile(path) as archive:
                # the part openpyxl reads the rows from, where it says (3.1 does); else ours
                part = getattr(sheet, "_worksheet_path", None)
                if not isinstance(part, str):
                    part = _first_sheet_part(archive)
                survey = _Survey(archive, part, deadline)
        except FileProblem:
            raise
        except Exception as exc:
            raise _refusal(exc) from exc
        if survey.in_order:
            yield from _stream(sheet, survey, deadline)
            return
    finally:
        book.close()
    if survey.whole_cells > _WHOLE_CELLS:  # openpyxl would make every one of them
        raise FileProblem("sheet_too_large", cells=survey.whole_cells)
    yield from _read_whole(path, survey, deadline)


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
