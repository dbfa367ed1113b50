"""Reading a ledger table (CSV or XLSX rows) into checked row records.

The format readers (:mod:`rectflow._io.csvfile`, :mod:`rectflow._io.xlsxfile`)
yield raw rows; :func:`read_table` finds the header below any title rows, maps
the columns, fills 方面/类别 down, skips blank rows and checks every cell,
collecting every problem (up to the limit) rather than stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

import attrs
import pendulum

from rectflow._i18n import has, msg
from rectflow._io.cells import (
    COLUMNS,
    FILLED_DOWN,
    OWNER_COLUMNS,
    PLAIN_START_EXCEPT,
    REQUIRED,
    BadDate,
    FileLimits,
    column_letter,
    header_key,
    in_range,
    is_formula,
    parse_day,
    parse_flag,
    parse_kind,
    split_lines,
    split_measures,
    unescape_formula,
)
from rectflow._io.layout import (
    EmptyFile,
    Head,
    find_header,
    footer_of,
    headers,
    is_blank,
    merged_text,
    repeats_header,
    sub_header,
)
from rectflow._io.layout import text as cell_text
from rectflow._io.phrases import PhraseError, read_deadline, read_state, why_in
from rectflow._policy import DEFAULT_IMPORT_WORDS, ImportWords
from rectflow._time import parse_time
from rectflow.exceptions import InvalidInput

_ID_SHAPE = re.compile(r"[0-9A-Za-z.\-_()]{1,20}")
"""What an id alone on a row looks like (a text of another shape is a section row)."""
_TIME_HINT = re.compile(r"\d{1,2}:\d{2}")


@attrs.frozen
class FileIssue:
    """One problem found in a ledger file, at a place a person can find.

    ``str(issue)`` is ``file:row:column: code: message``.

    Attributes:
        file: The file's name as given.
        row: The 1-based row of a table (the header row counts), or the 1-based
            entry of a YAML list; 0 for the file as a whole.
        column: The spreadsheet column letter (``"A"``, ``"B"`` …) or the YAML key;
            empty for a whole row or file.
        code: A stable identifier, e.g. ``"bad_date"`` or ``"rule.signer_not_submitter"``.
        message: What is wrong and what to do, in the ledger's language.
    """

    file: str
    row: int
    column: str
    code: str
    message: str

    def __str__(self) -> str:
        """``file:row:column: code: message``."""
        return f"{self.file}:{self.row}:{self.column}: {self.code}: {self.message}"


@attrs.frozen
class Formula:
    """A cell holding a formula rather than a value (XLSX).

    Attributes:
        text: The formula, e.g. ``"=SUM(A1:A3)"``.
    """

    text: str


class FileProblem(Exception):
    """A reader met something that ends reading the file (bad encoding, not a zip …).

    Attributes:
        code: The issue's code.
        row: The row (0: the whole file).
        column: The column or key.
        fields: Values for the message.
    """

    def __init__(self, code: str, row: int = 0, column: str = "", **fields: Any) -> None:
        super().__init__(code)
        self.code = code
        self.row = row
        self.column = column
        self.fields = fields


class Deadline:
    """When reading a file must be done (:attr:`FileLimits.max_seconds`), checked as it goes.

    Readers call :meth:`check` once per row or per chunk read; past the time
    it raises :class:`FileProblem` ``time_limit``.

    Attributes:
        seconds: The time allowed.
    """

    __slots__ = ("_end", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def check(self) -> None:
        """Raise ``time_limit`` once the time is up.

        Raises:
            FileProblem: ``time_limit``.
        """
        if time.monotonic() > self._end:
            raise FileProblem("time_limit", limit=f"{self.seconds:g}")


NO_DEADLINE: Final = Deadline(math.inf)
"""A deadline that never passes (a reader called on its own)."""


class Issues:
    """The problems found in one file, capped at ``limits.max_errors``.

    Attributes:
        file: The file's name as reported.
        lang: Language of the messages.
        items: The listed problems.
        total: How many were found, listed or not.
        stopped: Checking stopped at the limit, so there may be more.
    """

    def __init__(self, file: str, lang: str, limit: int) -> None:
        self.file = file
        self.lang = lang
        self.limit = limit
        self.items: list[FileIssue] = []
        self.total = 0
        self.stopped = False  # checking stopped at the limit: there may be more

    def add(self, row: int, column: str, code: str, **fields: Any) -> None:
        """Record a problem; its message comes from the catalogue (``file.<code>``)."""
        key = f"file.{code}" if has(f"file.{code}") else "file.rule"
        self.add_text(row, column, code, msg(key, self.lang, **fields))

    def add_text(self, row: int, column: str, code: str, message: str) -> None:
        """Record a problem with a ready message."""
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(FileIssue(self.file, row, column, code, message))

    def at(self, row: int, column: str) -> bool:
        """Whether a problem is already listed at this cell (no follow-on errors)."""
        return any(i.row == row and i.column == column for i in self.items[-8:])

    def sorted(self) -> tuple[FileIssue, ...]:
        """The listed problems by row, then column (A … Z, AA …)."""
        return tuple(sorted(self.items, key=lambda i: (i.row, len(i.column), i.column)))

    def problem(self, exc: FileProblem) -> None:
        """Record what a reader raised."""
        self.add(exc.row, exc.column, exc.code, **exc.fields)

    @property
    def full(self) -> bool:
        """The limit is reached: reading further only counts."""
        return self.total >= self.limit

    def __bool__(self) -> bool:
        """True when any problem was found."""
        return self.total > 0


@attrs.frozen
class RowSpec:
    """One checked data row: a finding as the file states it.

    Attributes:
        row: The row's number in the file (1-based; title and header rows count).
        id: 编号.
        inspection: 巡察 (the cell, else the one given for the file).
        aspect: 方面 (filled down).
        category: 类别 (filled down).
        title: 问题.
        kind: ``immediate``, ``deadline`` or ``long_term``.
        leader: 责任领导.
        department: 责任部门.
        person: 责任人.
        deadline: A day, or a period's text ("2个月"), or ``"long_term"`` (长期).
        measures: 整改措施, one text each.
        state: The state the row claims.
        progress: 整改进展 / 完成情况 (the note of the event that reached the state).
        evidence: 佐证材料.
        submitted_by: 提交人.
        signed_off_by: 销号人.
        signed_off_at: 销号时间.
        next_checkpoint: 下次检查时间, for staged results.
        state_at: 状态时间, when the row's state was reached (its last state change).
        itemized: 是否列明.
        remarks: 备注.
        extra: The row's cells under headers rectflow does not know, ``(header, text)``
            pairs in column order (empty cells left out).
        evidence_column: The sheet has a 佐证材料 column (else the sheet row itself is
            cited as the evidence of a staged or completed row, with a warning).
    """

    row: int
    id: str
    inspection: str
    aspect: str
    category: str
    title: str
    kind: str
    leader: str
    department: str
    person: str
    deadline: dt.date | str
    measures: tuple[str, ...]
    state: str
    progress: str
    evidence: tuple[str, ...]
    submitted_by: str
    signed_off_by: str
    signed_off_at: dt.datetime | None
    next_checkpoint: dt.date | None
    state_at: dt.datetime | None
    itemized: bool
    remarks: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    evidence_column: bool = True


@attrs.frozen
class Skipped:
    """A row that is not a finding, and why (listed in the import's summary).

    Attributes:
        row: Its row number.
        reason: ``blank``, ``footer``, ``section`` or ``header``.
        text: Its first text (a footer's or a section's words); for a long run of blank
            rows, "-N" with the run's last row.
    """

    row: int
    reason: str
    text: str = ""


class Table:
    """A file's columns, and its checked rows as they are read (streamed).

    Attributes:
        letters: Column key → its spreadsheet letter (for error positions).
        rows: The data rows that passed their checks, in file order; read once.
        rows_read: Data rows read so far (blank rows not counted).
        head: The header and what the rows above it say (None: no header found).
        skipped: The rows that are not findings, once the rows are read.
        renumbered: ``"aspect"`` or ``"category"`` when 序号 restarts within each and
            the ids were made ``aspect.category.n``; else "".
        extra: The headers kept as each finding's ``extra``.
    """

    def __init__(self, letters: Mapping[str, str]) -> None:
        self.letters = letters
        self.rows: Iterator[RowSpec] = iter(())
        self.rows_read = 0
        self.head: Head | None = None
        self.skipped: list[Skipped] = []
        self.renumbered = ""
        self.extra: tuple[str, ...] = ()

    def column(self, key: str) -> str:
        """The letter of column *key*, or the key itself when the file lacks it."""
        return self.letters.get(key, key)


def _text(value: object) -> str:
    """A cell as text (numbers without a spurious ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, "g")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_is_blank = is_blank


class _RowReader:
    """Checks the cells of one row against the header's columns."""

    def __init__(
        self,
        index: Mapping[str, int],
        issues: Issues,
        limits: FileLimits,
        tz: str,
        inspection: str | None,
        words: ImportWords = DEFAULT_IMPORT_WORDS,
        extra: Mapping[str, int] | None = None,
        *,
        fill_blanks: bool = True,
    ) -> None:
        self.fill_blanks = fill_blanks
        self.words = words
        self.extra = tuple((extra or {}).items())
        self.index = index
        self.issues = issues
        self.limits = limits
        self.tz = tz
        self.inspection = inspection
        self.names = {key: COLUMNS[key][0] for key in COLUMNS}
        self.present = tuple(index.items())

    def cells(self, number: int, cells: list[Any]) -> dict[str, object]:
        """The row's value of each column the header has (as :meth:`raw` gives each).

        One pass over the row: a text cell that cannot be a formula or an escaped
        one (the usual cell) is only stripped; the others take :meth:`raw`.
        """
        out: dict[str, object] = {}
        longest = self.limits.max_cell_chars
        width = len(cells)
        for key, i in self.present:
            value = cells[i] if i < width else None
            if type(value) is str and value[:1] not in PLAIN_START_EXCEPT and len(value) <= longest:
                out[key] = value.strip()
            elif value is None or type(value) in (int, float, bool):
                out[key] = value
            else:
                out[key] = self.raw(number, cells, key)
        return out

    def letter(self, key: str) -> str:
        return column_letter(self.index[key]) if key in self.index else key

    def raw(self, number: int, cells: list[Any], key: str) -> object:
        i = self.index.get(key)
        if i is None or i >= len(cells):
            return None
        value = cells[i]
        if isinstance(value, Formula):
            self.issues.add(number, self.letter(key), "formula", value=value.text)
            return None
        if isinstance(value, str):
            if len(value) > self.limits.max_cell_chars:
                self.issues.add(
                    number,
                    self.letter(key),
                    "cell_too_long",
                    n=len(value),
                    limit=self.limits.max_cell_chars,
                )
                return None
            if value.startswith("'"):  # escaped on export: exactly the text it was
                plain = unescape_formula(value)
                return plain if plain != value else value.strip()
            if is_formula(value):
                self.issues.add(number, self.letter(key), "formula", value=value)
                return None
            return value.strip()
        return value

    def owner(self, number: int, t: Callable[[str], str]) -> str:
        """The row's 责任部门, after checking that the row names someone who answers for it."""
        if not any(t(key) for key in OWNER_COLUMNS if key in self.index):
            key = next(k for k in OWNER_COLUMNS if k in self.index)
            self.required(number, key, "")
        return t("department")

    def required(self, number: int, key: str, value: str) -> str:
        if not value and not self.issues.at(number, self.letter(key)):
            self.issues.add(number, self.letter(key), "required", name=self.names[key])
        return value

    def day(self, number: int, value: object, key: str) -> dt.date | None:
        if value is None or value == "":
            return None
        try:
            day = parse_day(value)
        except BadDate:
            day = None
        if day is None:
            self.issues.add(number, self.letter(key), "bad_date", value=_text(value))
        return day

    def deadline(self, number: int, value: object) -> dt.date | str:
        text = _text(value).strip()
        if not text:
            self.required(number, "deadline", "")
            return ""
        if isinstance(value, (dt.date, dt.datetime)):  # an Excel date
            try:
                return parse_day(value) or ""
            except BadDate:  # a year Excel can hold and a ledger cannot (0001, 0723 …)
                self.issues.add(number, self.letter("deadline"), "bad_date", value=text)
                return ""
        said = read_deadline(text, self.words)  # 立行立改, 长期坚持, 3个月内, 2024年1月底 …
        if said.why:
            message = msg("file.bad_date", self.issues.lang, value=text)
            self.issues.add_text(
                number,
                self.letter("deadline"),
                "bad_date",
                f"{message}: {why_in(said.why, self.issues.lang)}",
            )
            return ""
        if said.value != "":
            return said.value
        try:
            day = parse_day(value)
        except BadDate:
            self.issues.add(number, self.letter("deadline"), "bad_date", value=text)
            return ""
        return text if day is None else day  # a period's text is resolved by the ledger

    def instant(self, number: int, value: object, key: str) -> dt.datetime | None:
        if value is None or value == "":
            return None
        if isinstance(value, dt.datetime):  # an Excel time has no zone: the policy's
            if not in_range(value.date()):
                self.issues.add(number, self.letter(key), "bad_time", value=_text(value))
                return None
            return pendulum.instance(value, tz=self.tz) if value.tzinfo is None else value
        try:
            day = parse_day(value)
        except BadDate:
            self.issues.add(number, self.letter(key), "bad_time", value=_text(value))
            return None
        if day is not None:  # a day alone: its start in the policy's zone
            return pendulum.datetime(day.year, day.month, day.day, tz=self.tz)
        text = _text(value)
        try:
            at = parse_time(text, key)
        except InvalidInput:
            code = "naive_time" if _TIME_HINT.search(text) else "bad_time"
            self.issues.add(number, self.letter(key), code, value=text)
            return None
        if not in_range(at.date()):
            self.issues.add(number, self.letter(key), "bad_time", value=text)
            return None
        return at

    def read(self, number: int, cells: list[Any], above: dict[str, str]) -> RowSpec:
        values = self.cells(number, cells)

        def t(key: str) -> str:
            value = values.get(key)
            return value if type(value) is str else _text(value)

        fid = self.required(number, "id", t("id"))
        inspection = t("inspection") or (self.inspection or "")
        if self.inspection is not None and inspection != self.inspection:
            self.issues.add(
                number,
                self.letter("inspection"),
                "inspection_mismatch",
                value=inspection,
                expected=self.inspection,
            )
        self.required(number, "inspection", inspection)
        filled = {}
        for key in FILLED_DOWN:  # a blank cell says "as above" unless merges say that
            own = t(key)
            if own or self.fill_blanks or key not in self.index:
                filled[key] = own or above.get(key, "")
            else:
                filled[key] = ""
            above[key] = filled[key]
        kind_text = t("kind")
        kind = parse_kind(kind_text) if kind_text else None
        if kind_text and kind is None:
            self.issues.add(number, self.letter("kind"), "unknown_kind", value=kind_text)
        deadline = self.deadline(number, values.get("deadline"))
        if deadline == "long_term":
            if kind not in (None, "long_term"):
                self.issues.add(number, self.letter("kind"), "long_term_kind", value=kind_text)
            kind = "long_term"
        elif deadline == "immediate":
            kind = kind or "immediate"
        state_key = "state" if "state" in self.index else "progress"
        state_text = t(state_key)
        state: str | None
        try:  # the office's own wording: 已完成, 已取得阶段性成效,正在持续推进 …
            state = read_state(state_text, self.words)
        except PhraseError as exc:
            state = None
            self.issues.add(
                number,
                self.letter(state_key),
                "unknown_state",
                value=state_text,
                known=exc.known,
            )
        flag_text = t("itemized")
        itemized = parse_flag(flag_text) if flag_text else True
        if itemized is None:
            self.issues.add(number, self.letter("itemized"), "bad_value", value=flag_text)
        return RowSpec(
            row=number,
            id=fid,
            inspection=inspection,
            aspect=filled["aspect"],
            category=filled["category"],
            title=self.required(number, "title", t("title")),
            kind=kind or "deadline",
            leader=t("leader"),
            department=self.owner(number, t),
            person=t("person"),
            deadline=deadline,
            measures=split_measures(t("measures")),
            state=state or "assigned",
            progress=t("progress"),
            evidence=split_lines(t("evidence")),
            submitted_by=t("submitted_by"),
            signed_off_by=t("signed_off_by"),
            signed_off_at=self.instant(number, values.get("signed_off_at"), "signed_off_at"),
            next_checkpoint=self.day(number, values.get("next_checkpoint"), "next_checkpoint"),
            state_at=self.instant(number, values.get("state_at"), "state_at"),
            itemized=bool(itemized),
            remarks=t("remarks"),
            extra=self.extras(cells),
            evidence_column="evidence" in self.index,
        )

    def extras(self, cells: list[Any]) -> tuple[tuple[str, str], ...]:
        """The row's cells under the headers kept as ``extra`` (empty ones left out)."""
        out = []
        width = len(cells)
        for name, i in self.extra:
            value = cells[i] if i < width else None
            if isinstance(value, Formula):
                value = value.text
            if isinstance(value, dt.datetime):
                text = value.date().isoformat() if value.time() == dt.time() else value.isoformat()
            else:
                text = _text(value).strip()
            if text:
                out.append((name, text))
        return tuple(out)


def _header_index(
    number: int,
    cells: list[Any],
    issues: Issues,
    names: Mapping[str, str],
    *,
    strict_columns: bool,
    state_from: str | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """The known columns (key → index) and the others kept as ``extra`` (header → index)."""
    index: dict[str, int] = {}
    extra: dict[str, int] = {}
    wanted = None if state_from is None else header_key(state_from)
    for i, cell in enumerate(cells):
        text = _text(cell).strip()
        if not text:
            continue
        if wanted is not None and header_key(text) == wanted:
            if "state" in index:
                issues.add(number, column_letter(i), "duplicate_column", value=text)
            index["state"] = i
            if names.get(wanted) not in (None, "state"):  # 完成情况 named: its note too
                index.setdefault(names[wanted], i)
            continue
        key = names.get(header_key(text))
        if key is None:
            if strict_columns:
                issues.add(number, column_letter(i), "unknown_column", value=text)
            elif text in extra:
                issues.add(number, column_letter(i), "duplicate_column", value=text)
            else:
                extra[text] = i
        elif key in index:
            issues.add(number, column_letter(i), "duplicate_column", value=text)
        else:
            index[key] = i
    if wanted is not None and "state" not in index:
        issues.add_text(
            number, "", "missing_column", msg("file.missing_column", issues.lang, name=state_from)
        )
    return index, extra


def read_table(
    rows: Iterable[tuple[int, list[Any]]],
    issues: Issues,
    *,
    limits: FileLimits,
    tz: str,
    inspection: str | None = None,
    allow_extra_columns: bool = False,
    progress: Callable[[int], None] | None = None,
    words: ImportWords = DEFAULT_IMPORT_WORDS,
    strict_columns: bool = False,
    state_from: str | None = None,
    deadline: Deadline = NO_DEADLINE,
    fill_blanks: bool = True,
) -> Table:
    """Find the header and map the columns; the rows are checked as ``Table.rows`` is read.

    Problems go to *issues* and their rows are left out; the file is streamed, so
    its rows are never all held at once.

    Args:
        rows: ``(row number, cells)`` from a format reader, title rows included.
        issues: Where problems are recorded.
        limits: Row, cell and error limits.
        tz: The policy's time zone (dates and Excel times are read in it).
        inspection: The inspection of every row (its cells may be blank or equal).
        allow_extra_columns: Unknown columns are kept as ``extra`` (the default too;
            kept for callers of the earlier API).
        progress: Called with the number of data rows read so far, every 1000 rows.
        words: How the office words its sheet (the policy's ``[policy.import]``).
        strict_columns: Refuse a column rectflow does not know (else: kept as ``extra``).
        state_from: The header of the column the state is read from (default 状态,
            else 完成情况/整改进展).
        deadline: When reading must be done (checked every row).
        fill_blanks: A blank 方面/类别 is the one above (a CSV cannot merge cells);
            False for a workbook, whose merged cells say that themselves, so a blank
            cell is an empty 方面/类别.
    """
    names = headers(words)
    try:
        found = find_header(iter(rows), names)
    except EmptyFile:
        issues.add(0, "", "empty_file")
        return Table({})
    except FileProblem as exc:
        issues.problem(exc)
        return Table({})
    if found is None:
        issues.add(1, "", "no_header")
        return Table({})
    head, stream = found
    header_row, header = head.row, head.cells
    index, extra = _header_index(
        header_row,
        header,
        issues,
        names,
        strict_columns=strict_columns and not allow_extra_columns,
        state_from=state_from,
    )
    missing = [
        key
        for key in REQUIRED
        if key not in index and not (key == "inspection" and inspection is not None)
    ]
    if not any(key in index for key in OWNER_COLUMNS):
        missing.append("owner")
    for key in missing:
        if key == "inspection":
            text = msg("file.missing_inspection", issues.lang)
        elif key == "owner":  # any one of them will do
            owners = "」/「".join(COLUMNS[k][0] for k in OWNER_COLUMNS)
            text = msg("file.missing_column", issues.lang, name=owners)
        else:
            text = msg("file.missing_column", issues.lang, name=COLUMNS[key][0])
        issues.add_text(header_row, "", "missing_column", text)
    if missing:
        return Table({})
    reader = _RowReader(
        index, issues, limits, tz, inspection, words, extra, fill_blanks=fill_blanks
    )
    width = max([*index.values(), *extra.values()]) + 1
    header_width = len(header)  # trailing blank header cells trimmed (each looked at once)
    while header_width > width and _is_blank(header[header_width - 1 : header_width]):
        header_width -= 1
    table = Table({key: column_letter(i) for key, i in index.items()})
    table.head = head
    table.extra = tuple(extra)
    rows_of = _office_rows(stream, table, header, names, words, index)
    table.rows = _renumbered(
        _checked_rows(rows_of, table, reader, header_width, limits, progress, deadline),
        table,
        reader,
    )
    return table


def _office_rows(
    stream: Iterator[tuple[int, list[Any]]],
    table: Table,
    header: list[str],
    names: Mapping[str, str],
    words: ImportWords,
    index: Mapping[str, int],
) -> Iterator[tuple[int, list[Any]]]:
    """The rows that may be findings; the others go to ``table.skipped`` (never errors).

    Blank rows, the header repeated on a new page (and its second row), footer rows
    (填表人, 审核人, 注 …) and rows of one merged text across the table. A section
    row's text is the aspect of the rows under it when the sheet has no 方面 column.
    """
    id_at = index.get("id", 0)
    header_texts = frozenset(h for h in header if h)
    used = max((i + 1 for i, h in enumerate(header) if h), default=0)  # the header's columns
    previous_header = False
    blank: list[Any] | None = None  # the last blank row (an XLSX sheet's gap rows share one)
    run: list[int] = []  # the first and last row of the current run of blank rows, and its size

    def blank_run() -> None:
        """List the run of blank rows just ended: each row, or a long run as one entry."""
        first, last, size = run
        if size <= _LISTED_BLANKS:
            table.skipped.extend(Skipped(n, "blank") for n in range(first, last + 1))
        else:  # a sheet's empty expanse (a far cell, a formatted area): one entry, not a million
            table.skipped.append(Skipped(first, "blank", f"-{last}"))
        run.clear()

    for number, cells in stream:
        if cells is blank or _is_blank(cells):  # each blank row looked at once, shared ones not
            blank = cells
            if run:
                run[1], run[2] = number, run[2] + 1
            else:
                run.extend((number, number, 1))
            continue
        if run:
            blank_run()
        # the usual row: an id-shaped 序号/编号 that is no header's text is a finding's row
        first = cells[id_at] if id_at < len(cells) else None
        if first is not None and first != "":
            own = first.strip() if type(first) is str else cell_text(first)
            if own not in header_texts and _ID_SHAPE.fullmatch(own):
                previous_header = False
                yield number, cells
                continue
        if previous_header and sub_header(header, cells, names) is not None:
            table.skipped.append(Skipped(number, "header"))
            continue
        previous_header = False
        if repeats_header(cells, header, names):
            table.skipped.append(Skipped(number, "header"))
            previous_header = True
            continue
        if footer := footer_of(cells, words):
            table.skipped.append(Skipped(number, "footer", cell_text(_first(cells)) or footer))
            yield number, [_RESET]
            continue
        # text beyond the header's columns is no section row: the checks call it ragged
        merged = merged_text(cells) if _is_blank(cells[used:]) else ""
        filled = sum(1 for c in cells if cell_text(c))
        own_id = cell_text(cells[id_at]) if id_at < len(cells) else ""
        if merged and (filled > 1 or not own_id or not _ID_SHAPE.fullmatch(own_id)):
            table.skipped.append(Skipped(number, "section", merged))
            if "aspect" not in index:
                yield number, [_Section(merged)]
            continue
        yield number, cells
    if run:
        blank_run()


_LISTED_BLANKS = 20
"""A run of blank rows longer than this is listed as one entry (its first and last row)."""


def _first(cells: list[Any]) -> object:
    return next((c for c in cells if cell_text(c)), "")


@attrs.frozen
class _Section:
    """A section row's text: the aspect of the rows under it (sheets without 方面)."""

    text: str


_RESET: Final = _Section("")
"""After a footer: nothing above is filled down into what follows."""


def _renumbered(rows: Iterator[RowSpec], table: Table, reader: _RowReader) -> Iterator[RowSpec]:
    """The rows, with ids ``aspect.category.n`` when 序号 restarts within each aspect or category.

    While every id is a bare number the rows are held, so that a restart can be told
    from a duplicate; duplicates that a restart does not explain are errors.
    """
    held: list[RowSpec] = []
    issues = reader.issues
    bare = True
    for spec in rows:
        if bare and spec.id.isdigit():
            held.append(spec)
            continue
        if bare:
            bare = False
            yield from _settle(held, table, reader)
            held = []
        yield spec
    if bare:
        yield from _settle(held, table, reader)
    elif held:  # pragma: no cover - held only while bare
        yield from held
    del issues


def _settle(held: list[RowSpec], table: Table, reader: _RowReader) -> Iterator[RowSpec]:
    """Held rows with bare-number ids: as they are, renumbered, or their duplicates refused."""
    seen: dict[str, int] = {}
    duplicates: list[tuple[RowSpec, int]] = []
    for spec in held:
        if spec.id in seen:
            duplicates.append((spec, seen[spec.id]))
        else:
            seen[spec.id] = spec.row
    if not duplicates:
        yield from held
        return
    keys: tuple[tuple[str, Callable[[RowSpec], tuple[str, ...]]], ...] = (
        ("aspect", lambda s: (s.aspect,)),
        ("category", lambda s: (s.aspect, s.category)),
    )
    for mode, key in keys:
        groups: dict[tuple[str, ...], set[str]] = {}
        explained = True
        for spec in held:
            ids = groups.setdefault(key(spec), set())
            if spec.id in ids:
                explained = False
                break
            ids.add(spec.id)
        if explained and len(groups) > 1:
            table.renumbered = mode
            yield from _seed_ids(held)
            return
    for spec, first in duplicates:
        reader.issues.add(spec.row, reader.letter("id"), "duplicate_id", value=spec.id, first=first)
    refused = {spec.row for spec, _ in duplicates}
    yield from (s for s in held if s.row not in refused)


def _seed_ids(held: list[RowSpec]) -> Iterator[RowSpec]:
    """``aspect.category.n`` as the seed numbers them: each counted in order of appearance."""
    aspects: dict[str, int] = {}
    categories: dict[tuple[str, str], int] = {}
    counts: dict[tuple[str, str], int] = {}
    for spec in held:
        a = aspects.setdefault(spec.aspect, len(aspects) + 1)
        within = sum(1 for (asp, _c) in categories if asp == spec.aspect)
        c = categories.setdefault((spec.aspect, spec.category), within + 1)
        n = counts[spec.aspect, spec.category] = counts.get((spec.aspect, spec.category), 0) + 1
        yield attrs.evolve(spec, id=f"{a}.{c}.{n}")


def _checked_rows(
    stream: Iterator[tuple[int, list[Any]]],
    table: Table,
    reader: _RowReader,
    header_width: int,
    limits: FileLimits,
    progress: Callable[[int], None] | None,
    deadline: Deadline,
) -> Iterator[RowSpec]:
    """The data rows below the header that pass their checks (the others go to issues).

    *stream* is :func:`_office_rows`'s: blank rows were skipped there.
    """
    issues = reader.issues
    first_row: dict[str, int] = {}
    above: dict[str, str] = {}
    check = deadline.check
    try:
        for number, cells in stream:
            check()
            if len(cells) == 1 and isinstance(cells[0], _Section):
                if cells[0].text:
                    above["aspect"] = cells[0].text
                else:  # a footer: nothing above it is filled down past it
                    above.clear()
                continue
            table.rows_read += 1
            count = table.rows_read
            if count > limits.max_rows:
                issues.add(number, "", "too_many_rows", limit=limits.max_rows)
                issues.stopped = True
                return
            if progress is not None and count % 1000 == 0:
                progress(count)
            if len(cells) < header_width or (
                len(cells) > header_width and not _is_blank(cells[header_width:])
            ):
                issues.add(
                    number,
                    column_letter(min(len(cells), header_width)),
                    "ragged_row",
                    found=len(cells),
                    expected=header_width,
                )
                continue
            before = issues.total
            spec = reader.read(number, cells, above)
            if spec.id and not spec.id.isdigit():  # bare numbers: see _renumbered
                if spec.id in first_row:
                    issues.add(
                        number,
                        reader.letter("id"),
                        "duplicate_id",
                        value=spec.id,
                        first=first_row[spec.id],
                    )
                else:
                    first_row[spec.id] = number
            if issues.total == before and not issues.full:
                yield spec
    except FileProblem as exc:
        issues.problem(exc)
