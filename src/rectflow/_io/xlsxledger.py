"""The XLSX export laid out as an office's 整改台账 (the ``xlsx`` extra).

One sheet, as offices print it: a merged title row, a 填报单位 / 填报时间 row, a
bold bordered header, 方面 and 类别 merged down over their runs, wrapped text in
columns as wide as their content (within bounds), real date and time cells, the
header frozen, and A4 landscape print set-up, fitted to the page width, with
the header repeated on every page. The columns an office prints come first; the
ledger's bookkeeping columns (巡察, 提交人, 销号人 …) follow, outside the print
area, so importing the file gives the same findings and states.

The workbook is written in openpyxl's write-only mode; the rows are held once
(as values, not cells) to size the columns and rows before they are streamed.
"""

from __future__ import annotations

import datetime as dt
import math
import pathlib
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Final

import attrs

from rectflow._io.xlsxfile import _openpyxl
from rectflow._render.fmt import zh_date

DATE_FORMAT: Final = 'yyyy"年"m"月"d"日"'
"""How date cells show (the value is a real date)."""
TIME_FORMAT: Final = "yyyy-mm-dd hh:mm:ss"
"""How time cells show (the value is a real date and time, in the policy's zone)."""
SHEET: Final = "整改台账"
MERGED_DOWN: Final = ("方面", "类别")
"""Headers whose runs of equal cells are merged down (within the run of the column before)."""

_WIDE: Final = frozenset({"问题", "整改措施", "整改进展", "佐证材料"})
_MIN_WIDTH: Final = 6.0
_MAX_WIDTH: Final = 48.0
_MAX_NARROW: Final = 22.0
_LINE_HEIGHT: Final = 14.5  # points, a line of 10 pt CJK text
_BODY_SIZE: Final = 10


@attrs.frozen
class SheetHead:
    """What the rows above a 台账's header say.

    Attributes:
        title: The title row, e.g. ``县委巡察反馈问题整改台账``.
        unit: The unit that fills it in (填报单位); None leaves it blank.
        filled_at: The day it speaks for (填报时间).
        tz: The policy's time zone: times are written as its wall-clock time.
        printed: How many leading columns are printed (the rest are the ledger's own).
    """

    title: str
    unit: str | None
    filled_at: dt.date
    tz: str
    printed: int


def display_width(text: str) -> int:
    """Columns *text*'s longest line takes (a CJK character counts two)."""
    lines = text.split("\n") or [""]
    return max(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in ln) for ln in lines)


def _shown(value: Any) -> str:
    """The text a cell shows, for sizing it (a date or time as its widest form)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return "2024-01-22 15:30:00"
    if isinstance(value, dt.date):
        return "2024年12月31日"
    return str(value)


def _widths(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Each column as wide as its content, between a floor and a cap (wider for long text)."""
    out = []
    for i, name in enumerate(header):
        cap = _MAX_WIDTH if name in _WIDE else _MAX_NARROW
        widest = max([display_width(_shown(r[i])) for r in rows] or [0])
        out.append(min(max(widest, display_width(name), _MIN_WIDTH) + 2, cap))
    return out


def _lines(value: Any, width: float) -> int:
    """Lines a wrapped cell takes in a column *width* wide."""
    text = _shown(value)
    usable = max(width - 1.5, 1.0)
    return sum(max(1, math.ceil(display_width(line) / usable)) for line in text.split("\n"))


def _runs(values: Sequence[Any], parents: Sequence[int]) -> list[tuple[int, int]]:
    """``(first, last)`` index spans of equal adjacent values within each parent run."""
    spans = []
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start] or parents[i] != parents[start]:
            if i - 1 > start:
                spans.append((start, i - 1))
            start = i
    return spans


def _merges(
    header: Sequence[str], data: Sequence[Sequence[Any]]
) -> dict[int, list[tuple[int, int]]]:
    """The row spans to merge in each :data:`MERGED_DOWN` column (0-based, by column index)."""
    out: dict[int, list[tuple[int, int]]] = {}
    group = [0] * len(data)  # the run each row is in, of the column merged before
    for name in MERGED_DOWN:
        if name not in header:
            continue
        col = header.index(name)
        values = [r[col] for r in data]
        out[col] = _runs(values, group)
        run, runs = 0, []
        for i in range(len(values)):
            if i and (values[i] != values[i - 1] or group[i] != group[i - 1]):
                run += 1
            runs.append(run)
        group = runs
    return out


def _local(value: dt.datetime, tz: str) -> dt.datetime:
    """An aware time as the policy zone's wall-clock time (no zone: Excel has none), to the ms."""
    import pendulum  # noqa: PLC0415

    local = pendulum.instance(value).in_timezone(tz)
    return dt.datetime(  # noqa: DTZ001 - an Excel cell holds wall-clock time only
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        local.microsecond // 1000 * 1000,
    )


def write_ledger(
    path: pathlib.Path, header: list[str], rows: Iterable[list[Any]], head: SheetHead
) -> int:
    """Write the 台账 workbook; returns the number of finding rows.

    *rows* hold text (already escaped against formulas), ``date``, aware
    ``datetime`` or None cells, in *header*'s order.
    """
    openpyxl = _openpyxl()
    data = [list(r) for r in rows]
    book = openpyxl.Workbook(write_only=True)
    sheet = _Sheet(book.create_sheet(SHEET), header, data, head)
    sheet.set_up()  # what the sheet's XML holds before its rows: set before the first
    sheet.title_rows()
    sheet.header_row()
    sheet.body()
    sheet.print_set_up()
    book.save(path)
    return len(data)


class _Sheet:
    """One 台账 sheet being written (write-only: rows in order, each once)."""

    def __init__(self, ws: Any, header: list[str], data: list[list[Any]], head: SheetHead) -> None:
        from openpyxl.styles import Alignment, Border, Font, Side  # noqa: PLC0415

        self.ws, self.header, self.data, self.head = ws, header, data, head
        self.width = len(header)
        self.widths = _widths(header, data)
        thin = Side(style="thin", color="000000")
        self.box = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.body_font = Font(name="宋体", size=_BODY_SIZE)
        self.wrap_top = Alignment(wrap_text=True, vertical="top")
        self.wrap_mid = Alignment(wrap_text=True, vertical="center", horizontal="center")

    @staticmethod
    def letter(column: int) -> str:
        from openpyxl.utils import get_column_letter  # noqa: PLC0415

        return str(get_column_letter(column))

    def cell(self, value: Any, font: Any, alignment: Any, *, edge: bool = True) -> Any:
        from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415

        c = WriteOnlyCell(self.ws, value=value)
        c.font = font
        c.alignment = alignment
        if edge:
            c.border = self.box
        if isinstance(value, dt.datetime):
            c.number_format = TIME_FORMAT
        elif isinstance(value, dt.date):
            c.number_format = DATE_FORMAT
        elif isinstance(value, str):
            c.data_type = "s"  # never a formula, whatever it starts with
        return c

    def set_up(self) -> None:
        """Column widths, the frozen header, fit to the page (written before the rows)."""
        from openpyxl.worksheet.properties import PageSetupProperties  # noqa: PLC0415

        for i, w in enumerate(self.widths, 1):
            self.ws.column_dimensions[self.letter(i)].width = w
        self.ws.freeze_panes = "A4"  # the title rows and the header stay in view
        self.ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

    def title_rows(self) -> None:
        """Row 1: the title merged across; row 2: 填报单位 on the left, 填报时间 on the right."""
        from openpyxl.styles import Alignment, Font  # noqa: PLC0415

        ws, width, last = self.ws, self.width, self.letter(self.width)
        ws.row_dimensions[1].height = 32
        title = self.cell(
            self.head.title,
            Font(name="黑体", size=16, bold=True),
            Alignment(horizontal="center", vertical="center", wrap_text=True),
            edge=False,
        )
        ws.append([title] + [None] * (width - 1))
        ws.merged_cells.add(f"A1:{last}1")
        half = max(width // 2, 1)
        unit = self.cell(
            f"填报单位:{self.head.unit or ''}",
            self.body_font,
            Alignment(vertical="center"),
            edge=False,
        )
        day = self.cell(
            f"填报时间:{zh_date(self.head.filled_at)}",
            self.body_font,
            Alignment(horizontal="right", vertical="center"),
            edge=False,
        )
        ws.row_dimensions[2].height = 20
        ws.append([unit] + [None] * (half - 1) + [day] + [None] * (width - half - 1))
        if half > 1:
            ws.merged_cells.add(f"A2:{self.letter(half)}2")
        if width - half > 1:
            ws.merged_cells.add(f"{self.letter(half + 1)}2:{last}2")

    def header_row(self) -> None:
        """Row 3: the header, bold, bordered, shaded."""
        from openpyxl.styles import Font, PatternFill  # noqa: PLC0415

        bold = Font(name="黑体", size=_BODY_SIZE + 1, bold=True)
        shade = PatternFill("solid", fgColor="D9D9D9")
        heads = []
        for name in self.header:
            c = self.cell(name, bold, self.wrap_mid)
            c.fill = shade
            heads.append(c)
        lines = max(_lines(n, w) for n, w in zip(self.header, self.widths, strict=True))
        self.ws.row_dimensions[3].height = max(_LINE_HEIGHT * lines + 6, 24)
        self.ws.append(heads)

    def body(self) -> None:
        """The findings, 方面 and 类别 merged down over their runs (类别 within its 方面's)."""
        merged_at = _merges(self.header, self.data)
        spans = [(c, a, b) for c, runs in merged_at.items() for a, b in runs]
        spanned = {(c, k) for c, a, b in spans for k in range(a, b + 1)}
        hidden = {(c, k) for c, a, b in spans for k in range(a + 1, b + 1)}
        for c, a, b in spans:
            self.ws.merged_cells.add(f"{self.letter(c + 1)}{a + 4}:{self.letter(c + 1)}{b + 4}")
        for k, values in enumerate(self.data):
            # a merged span shows its first cell's value (the reader gives it to every row)
            shown = [None if (i, k) in hidden else v for i, v in enumerate(values)]
            lines = max(
                _lines(v, w)
                for i, (v, w) in enumerate(zip(shown, self.widths, strict=True))
                if (i, k) not in spanned
            )
            self.ws.row_dimensions[k + 4].height = _LINE_HEIGHT * lines + 4
            self.ws.append(
                [
                    self.cell(
                        _local(v, self.head.tz) if isinstance(v, dt.datetime) else v,
                        self.body_font,
                        self.wrap_mid if i in merged_at else self.wrap_top,
                    )
                    for i, v in enumerate(shown)
                ]
            )

    def print_set_up(self) -> None:
        """A4 landscape, fitted to the width, the header on every page, the office's columns."""
        ws = self.ws
        ws.print_title_rows = "3:3"
        printed = max(min(self.head.printed, self.width), 1)
        ws.print_area = f"A1:{self.letter(printed)}{len(self.data) + 3}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = "9"  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.print_options.horizontalCentered = True
