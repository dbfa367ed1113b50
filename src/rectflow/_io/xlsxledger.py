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
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415
    from openpyxl.worksheet.properties import PageSetupProperties  # noqa: PLC0415

    data = [list(r) for r in rows]
    width = len(header)
    last = get_column_letter(width)
    widths = _widths(header, data)

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    # what the sheet's XML writes before its rows: set before the first row
    for i, w in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = w
    sheet.freeze_panes = "A4"  # the title rows and the header stay in view
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    body = Font(name="宋体", size=_BODY_SIZE)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    wrap_mid = Alignment(wrap_text=True, vertical="center", horizontal="center")

    def cell(value: Any, font: Any = body, alignment: Any = wrap_top, *, edge: bool = True) -> Any:
        c = WriteOnlyCell(sheet, value=value)
        c.font = font
        c.alignment = alignment
        if edge:
            c.border = box
        if isinstance(value, dt.datetime):
            c.number_format = TIME_FORMAT
        elif isinstance(value, dt.date):
            c.number_format = DATE_FORMAT
        elif isinstance(value, str):
            c.data_type = "s"  # never a formula, whatever it starts with
        return c

    # 1: the title, merged across
    sheet.row_dimensions[1].height = 32
    title = Font(name="黑体", size=16, bold=True)
    centred = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.append([cell(head.title, title, centred, edge=False)] + [None] * (width - 1))
    sheet.merged_cells.add(f"A1:{last}1")
    # 2: 填报单位 on the left half, 填报时间 on the right
    half = max(width // 2, 1)
    unit = cell(f"填报单位:{head.unit or ''}", body, Alignment(vertical="center"), edge=False)
    day = cell(
        f"填报时间:{zh_date(head.filled_at)}",
        body,
        Alignment(horizontal="right", vertical="center"),
        edge=False,
    )
    sheet.row_dimensions[2].height = 20
    sheet.append([unit] + [None] * (half - 1) + [day] + [None] * (width - half - 1))
    if half > 1:
        sheet.merged_cells.add(f"A2:{get_column_letter(half)}2")
    if width - half > 1:
        sheet.merged_cells.add(f"{get_column_letter(half + 1)}2:{last}2")
    # 3: the header, bold, bordered, shaded
    bold = Font(name="黑体", size=_BODY_SIZE + 1, bold=True)
    shade = PatternFill("solid", fgColor="D9D9D9")
    heads = []
    for name in header:
        c = cell(name, bold, wrap_mid)
        c.fill = shade
        heads.append(c)
    sheet.row_dimensions[3].height = max(
        _LINE_HEIGHT * max(_lines(n, w) for n, w in zip(header, widths, strict=True)) + 6, 24
    )
    sheet.append(heads)

    # 方面 and 类别 merged down over their runs (类别 within its 方面's run)
    merged_at = _merges(header, data)
    spanned = {(c, k) for c, spans in merged_at.items() for a, b in spans for k in range(a, b + 1)}
    hidden = {
        (c, k) for c, spans in merged_at.items() for a, b in spans for k in range(a + 1, b + 1)
    }
    for col, spans in merged_at.items():
        letter = get_column_letter(col + 1)
        for a, b in spans:
            sheet.merged_cells.add(f"{letter}{a + 4}:{letter}{b + 4}")
    for k, values in enumerate(data):
        # a merged span shows its first cell's value (the reader gives it to every row)
        shown = [None if (i, k) in hidden else v for i, v in enumerate(values)]
        lines = max(
            _lines(v, w)
            for i, (v, w) in enumerate(zip(shown, widths, strict=True))
            if (i, k) not in spanned
        )
        sheet.row_dimensions[k + 4].height = _LINE_HEIGHT * lines + 4
        sheet.append(
            [
                cell(
                    _local(v, head.tz) if isinstance(v, dt.datetime) else v,
                    body,
                    wrap_mid if i in merged_at else wrap_top,
                )
                for i, v in enumerate(shown)
            ]
        )

    sheet.print_title_rows = "3:3"
    printed = max(min(head.printed, width), 1)
    sheet.print_area = f"A1:{get_column_letter(printed)}{len(data) + 3}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.print_options.horizontalCentered = True
    book.save(path)
    return len(data)
