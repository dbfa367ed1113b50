"""Where an office's sheet keeps its table: the layout around the rows.

Offices print their 整改台账 with a merged title row, perhaps a subtitle and a
``填报单位:… 填报时间:…`` row above the header, sometimes a two-row header (a
merged group cell such as 责任主体 over 责任领导/责任部门/责任人), blank rows
between aspects, section rows of one merged text, the header repeated on every
printed page, and a footer (填表人, 审核人, 注: …). This module finds the header
among the rows above it and tells the rows that are not findings from those
that are; :mod:`rectflow._io.table` reads the findings.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, Final

import attrs

from rectflow._i18n import msg
from rectflow._io.cells import COLUMNS, BadDate, header_key, in_range, parse_day
from rectflow._policy import ImportWords

SCAN: Final = 50
"""Rows searched for the header (title rows above it are skipped)."""
MIN_HEADERS: Final = 3
"""Known headers a row needs to be the header."""

Row = tuple[int, list[Any]]

_UNIT = re.compile(
    r"(?:填报|报送|填表|责任)单位\s*(?:[(（][^)）]{1,6}[)）])?\s*[:：]\s*(?P<v>.+?)(?=\s{2,}|\s*(?:填报|报送|填表)(?:时间|日期)|$)"
)
_SEAL = re.compile(r"\s*[(（]\s*(?:盖章|公章|章)\s*[)）]\s*$")
_DATE_OF = re.compile(
    r"(?:填报|报送|填表|统计|截至)(?:时间|日期)\s*[:：]?\s*(?P<v>[0-9０-９年月日./\-\s]+日?)"
)
_DAY_TEXT = re.compile(r"(?P<y>\d{4})\s*[年./-]\s*(?P<m>\d{1,2})\s*[月./-]\s*(?P<d>\d{1,2})\s*日?")


def headers(words: ImportWords) -> dict[str, str]:
    """Reduced header text → column key: the built-in names, then the policy's synonyms."""
    found = {header_key(alias): key for key, aliases in COLUMNS.items() for alias in aliases}
    for key, aliases in words.columns:
        for alias in aliases:
            found.setdefault(header_key(alias), key)
    return found


def text(value: object) -> str:
    """A cell's text, stripped (numbers without ``.0``, dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def is_blank(cells: list[Any]) -> bool:
    """No cell holds anything but spaces."""
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


@attrs.frozen
class Head:
    """The header and what the rows above it say.

    Attributes:
        row: The header's row number (the first of a two-row header).
        cells: The header's texts, one per column (a two-row header merged).
        two_rows: The header took two rows.
        title: The first text above the header (the sheet's title), or "".
        unit: The 填报单位 above the header, or "".
        filled_at: The 填报时间 above the header, or None.
        filled_text: That date as the sheet wrote it.
    """

    row: int
    cells: list[str]
    two_rows: bool = False
    title: str = ""
    unit: str = ""
    filled_at: dt.date | None = None
    filled_text: str = ""


def _known(cells: list[Any], names: Mapping[str, str]) -> int:
    return sum(1 for c in cells if isinstance(c, str) and header_key(c) in names)


_ZH_DIGITS: Final = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}
_ZH_DATE = re.compile(
    r"(?P<y>[〇零一二三四五六七八九]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,3})\s*月"
    r"\s*(?P<d>[一二三四五六七八九十]{1,3})\s*日"
)


def _zh_number(text: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十 → 20, 三十一 → 31."""
    if "十" not in text:
        return _ZH_DIGITS[text] if len(text) == 1 else -1
    tens, _, units = text.partition("十")
    return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[units] if units else 0)


def _arabic(line: str) -> str:
    """A date written in Chinese numerals (二〇二四年一月二十二日, as 落款 date) in digits."""

    def digits(m: re.Match[str]) -> str:
        year = "".join(str(_ZH_DIGITS[c]) for c in m["y"])
        return f"{year}年{_zh_number(m['m'])}月{_zh_number(m['d'])}日"

    return _ZH_DATE.sub(digits, line)


def _sheet_day(value: str) -> dt.date | None:
    m = _DAY_TEXT.search(_arabic(unicodedata.normalize("NFKC", value)))
    if m is None:
        return None
    try:
        day = dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
    return day if in_range(day) else None


def _excel_day(cell: object) -> dt.date | None:
    """An Excel date cell's day (None for any other cell, or a year a ledger cannot hold)."""
    if not isinstance(cell, (dt.date, dt.datetime)):
        return None
    try:
        return parse_day(cell)
    except BadDate:
        return None


def _above(rows: list[list[Any]]) -> tuple[str, str, dt.date | None, str]:
    """Title, 填报单位 and 填报时间 from the rows above the header."""
    title = unit = when = ""
    day: dt.date | None = None
    for cells in rows:
        seen: list[str] = []
        for cell in cells:  # a merged cell repeats its text across its span: once is enough
            value = text(cell)
            if value and value not in seen:
                seen.append(value)
        line = "  ".join(seen)
        if not line:
            continue
        if not title and not _UNIT.search(line) and not _DATE_OF.search(line):
            title = seen[0]
        if not unit and (m := _UNIT.search(line)):
            unit = _SEAL.sub("", m["v"]).strip()  # "XX中学（盖章）": the seal's place is no name
        if day is None and ("时间" in line or "日期" in line):
            for cell in cells:  # an Excel date beside the words
                found = _excel_day(cell)
                if found is not None:
                    day, when = found, found.isoformat()
                    break
            if day is None and (m := _DATE_OF.search(_arabic(unicodedata.normalize("NFKC", line)))):
                day, when = _sheet_day(m["v"]), m["v"].strip()
    return title, unit, day, when


def find_header(rows: Iterator[Row], names: Mapping[str, str]) -> tuple[Head, Iterator[Row]] | None:
    """The header among the first rows, and the rows after it.

    A row with at least :data:`MIN_HEADERS` known headers is the header. The row
    under it is a second header row when every text in it either repeats the cell
    above (a merge spread down) or is a known header, and one is a known header
    the row above lacks (责任主体 over 责任领导/责任部门/责任人).

    Raises:
        EmptyFile: When the file holds nothing at all.
    """
    above: list[list[Any]] = []
    seen = False
    for _ in range(SCAN):
        try:
            number, cells = next(rows)
        except StopIteration:
            if not seen:
                raise EmptyFile from None
            return None
        seen = seen or not is_blank(cells)
        if _known(cells, names) < MIN_HEADERS:
            above.append(cells)
            continue
        top = [text(c) for c in cells]
        title, unit, day, when = _above(above)
        try:
            after = next(rows)
        except StopIteration:
            return Head(
                number, top, two_rows=False, title=title, unit=unit, filled_at=day, filled_text=when
            ), iter(())
        merged = sub_header(top, after[1], names)
        if merged is None:
            return Head(
                number, top, two_rows=False, title=title, unit=unit, filled_at=day, filled_text=when
            ), itertools.chain([after], rows)
        return Head(
            number, merged, two_rows=True, title=title, unit=unit, filled_at=day, filled_text=when
        ), rows
    return None


class EmptyFile(Exception):
    """The file holds nothing at all."""


def sub_header(top: list[str], cells: list[Any], names: Mapping[str, str]) -> list[str] | None:
    """The header merged with *cells* when they are its second row, else None."""
    below = [text(c) for c in cells]
    width = max(len(top), len(below))
    top = top + [""] * (width - len(top))
    below = below + [""] * (width - len(below))
    adds = False
    for up, down in zip(top, below, strict=True):
        if not down or down == up:
            continue
        if header_key(down) not in names:
            return None
        if header_key(up) not in names or not up:
            adds = True
    if not adds:
        return None
    return [down if down and down != up else up for up, down in zip(top, below, strict=True)]


def footer_of(cells: list[Any], words: ImportWords) -> str:
    """The footer word a row starts with (填表人, 注 …), or ""."""
    first = next((t for t in map(text, cells) if t), "")
    plain = unicodedata.normalize("NFKC", first)
    for word, folded in _footers(words):
        if plain.startswith(folded):
            return word
    return ""


@functools.lru_cache(maxsize=8)
def _footers(words: ImportWords) -> tuple[tuple[str, str], ...]:
    """The footer words, longest first, with their NFKC forms."""
    return tuple(
        (w, unicodedata.normalize("NFKC", w)) for w in sorted(words.footers, key=len, reverse=True)
    )


def merged_text(cells: list[Any]) -> str:
    """The one text a row holds across the table (a section row merged across), or ""."""
    values = {text(c) for c in cells} - {""}
    return values.pop() if len(values) == 1 else ""


def repeats_header(cells: list[Any], header: list[str], names: Mapping[str, str]) -> bool:
    """The row is the header again (printed on every page), or its second row."""
    own = [text(c) for c in cells]
    same = sum(1 for a, b in zip(own, header, strict=False) if a and header_key(a) == header_key(b))
    return same >= MIN_HEADERS or (
        _known(cells, names) >= MIN_HEADERS and all(not v or header_key(v) in names for v in own)
    )


def import_notes(summary: Any, lang: str = "zh") -> list[str]:
    """What an import of an office sheet did besides adding rows, one line each.

    *summary* is an :class:`~rectflow.ImportSummary`: the events' time and where it
    came from, the rows skipped, ids renumbered, completions attested by the import,
    rows without evidence and the columns kept as ``extra``.
    """
    lines: list[str] = []
    if summary.at_source:
        where = msg(f"import.at_source.{summary.at_source}", lang)
        lines.append(msg("import.note.at", lang, at=summary.at, where=where))
    if summary.skipped:
        parts = []
        for row, reason, words in summary.skipped:
            label = msg(f"import.skipped.{reason}", lang)
            if reason == "blank":  # a long run of blank rows: "7-1048576"
                parts.append(f"{row}{words} {label}")
            else:
                parts.append(f"{row} {label}" + (f"「{words[:20]}」" if words else ""))
        lines.append(msg("import.note.skipped", lang, n=len(parts), rows="; ".join(parts)))
    if summary.renumbered:
        by = msg(f"import.renumbered.{summary.renumbered}", lang)
        lines.append(msg("import.note.renumbered", lang, by=by))
    if summary.completed_by_import:
        lines.append(msg("import.note.attested", lang, n=summary.completed_by_import))
    if summary.no_evidence:
        ids = ", ".join(summary.no_evidence)
        lines.append(msg("import.note.no_evidence", lang, ids=ids))
    if summary.extra_columns:
        cols = "、".join(summary.extra_columns)
        lines.append(msg("import.note.extra_columns", lang, cols=cols))
    return lines


def finding_notes(finding: Any, history: Any, lang: str = "zh") -> list[str]:
    """What ``show`` adds for a finding read from an office sheet: 备注, extra columns, attest."""
    lines = []
    if finding.remarks:
        lines.append(f"  {msg('import.remarks', lang)}: {finding.remarks}")
    for name, value in finding.extra.items():
        lines.append(f"  {name}: {value}")
    attests = [e for e in history if e.name == "attest"]
    if attests:
        who = attests[-1].actor
        lines.append("  " + msg("import.note.attested_by", lang, who=who))
    return lines
