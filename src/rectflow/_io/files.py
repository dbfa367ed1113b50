"""Ledger files in and out: format detection, reading, and the table written on export."""

from __future__ import annotations

import datetime as dt
import itertools
import pathlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

import attrs

from rectflow._i18n import msg, translate
from rectflow._io.cells import COLUMNS, KIND_LABELS, FileLimits, escape_formula
from rectflow._io.csvfile import read_rows as read_csv
from rectflow._io.csvfile import write_rows as write_csv
from rectflow._io.plan import STATE_EVENTS
from rectflow._io.table import NO_DEADLINE, Deadline, FileProblem, Issues, Table, read_table
from rectflow._io.xlsxfile import read_rows as read_xlsx
from rectflow._io.xlsxfile import write_rows as write_xlsx
from rectflow._io.xlsxledger import SheetHead, write_ledger
from rectflow._io.yamlfile import load as load_yaml
from rectflow._model import STATE_LABELS, Event, Finding
from rectflow._policy import DEFAULT_IMPORT_WORDS, ImportWords
from rectflow.exceptions import InvalidInput

FORMATS: Final = ("csv", "xlsx", "yaml")
"""The ledger file formats."""

_SUFFIXES: Final[Mapping[str, str]] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".yaml": "yaml",
    ".yml": "yaml",
}
EXPORTED: Final = (
    "id",
    "inspection",
    "aspect",
    "category",
    "title",
    "kind",
    "leader",
    "department",
    "person",
    "deadline",
    "measures",
    "state",
    "progress",
    "evidence",
    "submitted_by",
    "signed_off_by",
    "signed_off_at",
    "state_at",
    "next_checkpoint",
    "itemized",
    "remarks",
)
"""The columns a table export writes, in order (headers: each column's Chinese name);
a finding's ``extra`` columns follow, under their own headers."""

_SIDE_EVENTS: Final = frozenset({"record_measure", "extend", "spot_check", "amend"})


def file_format(path: pathlib.Path, given: object) -> str | None:
    """The format named by *given*, else by the file's suffix; None when neither knows."""
    if given is not None:
        if not isinstance(given, str):
            error = InvalidInput(
                msg("file.unknown_format", value=given), field="format", value=given
            )
            raise translate(error, "file.unknown_format", value=given)
        name = given.lower().lstrip(".")
        name = _SUFFIXES.get("." + name, name)  # "yml" (and "xlsm") name a format too
        return name if name in FORMATS else None
    return _SUFFIXES.get(path.suffix.lower())


@attrs.frozen
class ImportSummary:
    """What an import read and wrote (or, in a dry run, would write).

    Attributes:
        file: The file.
        format: ``csv``, ``xlsx`` or ``yaml``.
        rows_read: Data rows (or YAML events) read.
        findings_added: Findings added.
        events_added: Events appended (``add`` included).
        inspections_added: Inspections added (YAML files carry them).
        by_state: Findings added per state.
        dry_run: Nothing was written.
        skipped: The rows that are not findings, ``(row, reason, text)``: reason
            ``blank``, ``footer``, ``section`` (one text across the table) or ``header``
            (the header repeated on a new page).
        renumbered: ``"aspect"`` or ``"category"`` when 序号 restarted within each and
            the ids were made ``aspect.category.n``; else "".
        at: The time given to the events the rows imply (ISO), "" for YAML.
        at_source: Where it came from: ``"at"`` (given), ``"sheet"`` (its 填报时间)
            or ``"now"``.
        completed_by_import: Findings completed on the sheet's word, with no submitter
            or signer named (``attest`` events by the importing actor).
        no_evidence: Ids of rows completed on the sheet's word without evidence, and
            of staged or completed rows of a sheet without a 佐证材料 column (the
            sheet row is cited as their evidence): warnings, not errors.
        extra_columns: Headers rectflow does not know, kept with each finding (``extra``).
        unit: The 填报单位 the rows above the header name, or "".
    """

    file: str
    format: str
    rows_read: int
    findings_added: int
    events_added: int
    inspections_added: int
    by_state: Mapping[str, int]
    dry_run: bool
    skipped: tuple[tuple[int, str, str], ...] = ()
    renumbered: str = ""
    at: str = ""
    at_source: str = ""
    completed_by_import: int = 0
    no_evidence: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-native data."""
        return {**attrs.asdict(self), "by_state": dict(self.by_state)}


def read_rows(
    path: pathlib.Path, fmt: str, deadline: Deadline = NO_DEADLINE
) -> Iterator[tuple[int, list[Any]]]:
    """The raw rows of a CSV or XLSX file."""
    return read_csv(path, deadline) if fmt == "csv" else read_xlsx(path, deadline)


def check_size(path: pathlib.Path, limits: FileLimits) -> None:
    """Refuse a file larger than ``limits.max_bytes``.

    Raises:
        FileProblem: ``file_too_large``.
    """
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise FileProblem("file_too_large", size=size, limit=limits.max_bytes)


def read_tabular(
    path: pathlib.Path,
    fmt: str,
    issues: Issues,
    *,
    limits: FileLimits,
    tz: str,
    inspection: str | None,
    allow_extra_columns: bool,
    progress: Callable[[int], None] | None,
    words: ImportWords = DEFAULT_IMPORT_WORDS,
    strict_columns: bool = False,
    state_from: str | None = None,
) -> Table:
    """Read and check a CSV or XLSX ledger file (problems go to *issues*).

    The time limit starts here: it bounds the reading and checking of every row
    (the rows are checked as the import plans them).
    """
    try:
        check_size(path, limits)
        deadline = Deadline(limits.max_seconds)
        rows = read_rows(path, fmt, deadline)
        return read_table(
            rows,
            issues,
            limits=limits,
            tz=tz,
            inspection=inspection,
            allow_extra_columns=allow_extra_columns,
            progress=progress,
            words=words,
            strict_columns=strict_columns,
            state_from=state_from,
            deadline=deadline,
            fill_blanks=fmt != "xlsx",  # a workbook merges what is "as above"
        )
    except FileProblem as exc:
        issues.problem(exc)
        return Table({})


def read_yaml(
    path: pathlib.Path, issues: Issues, limits: FileLimits | None = None
) -> dict[str, Any]:
    """The root mapping of a YAML ledger file ({} after a problem, recorded in *issues*)."""
    limits = limits or FileLimits()
    try:
        check_size(path, limits)
        return load_yaml(path, max_depth=limits.max_depth, deadline=Deadline(limits.max_seconds))
    except FileProblem as exc:
        issues.problem(exc)
        return {}


def _defining(finding: Finding, history: tuple[Event, ...]) -> tuple[Event | None, Event | None]:
    """The event whose note/evidence the row shows, and the last change of state."""
    names = STATE_EVENTS[finding.state]
    shown = next((e for e in reversed(history) if e.name in names), None)
    changed = next((e for e in reversed(history) if e.name not in _SIDE_EVENTS), None)
    return shown, changed


def table_row(finding: Finding, history: tuple[Event, ...]) -> dict[str, Any]:
    """The exported cells of one finding (dates as dates, text unescaped)."""
    f = finding
    shown, changed = _defining(f, history)
    if f.state == "cancelled":
        progress = str(shown.payload.get("reason", "")) if shown else ""
    else:
        progress = (shown.note or "") if shown else ""
    done = f.state in ("completed", "rechecked")
    # completed on an office sheet's word: no names, so a re-import attests it again
    attested = shown is not None and shown.name == "attest"
    return {
        "id": f.id,
        "inspection": f.inspection,
        "aspect": f.aspect,
        "category": f.category,
        "title": f.title,
        "kind": KIND_LABELS[f.kind],
        "leader": f.owner.leader,
        "department": f.owner.department,
        "person": f.owner.person,
        "deadline": f.deadline,
        "measures": "\n".join(m.text for m in f.measures),
        "state": STATE_LABELS[f.state][0],
        "progress": progress,
        "evidence": "\n".join(shown.evidence) if shown else "",
        "submitted_by": (f.submitter or "")
        if (f.state == "pending_signoff" or done) and not attested
        else "",
        "signed_off_by": (f.signed_off_by or "") if done and not attested else "",
        "signed_off_at": f.completed_at if done else None,
        "state_at": changed.at if changed else None,
        "next_checkpoint": f.next_checkpoint if f.state == "staged_result" else None,
        "itemized": "是" if f.itemized else "否",
        "remarks": f.remarks,
        **{f"extra:{name}": text for name, text in f.extra.items()},
    }


PRINTED_COLUMNS: Final = (
    "id",
    "aspect",
    "category",
    "title",
    "measures",
    "leader",
    "department",
    "person",
    "deadline",
    "kind",
    "state",
    "progress",
    "evidence",
    "remarks",
)
"""The columns the 台账 prints, in the order offices print them."""
LEDGER_ORDER: Final = (*PRINTED_COLUMNS, *(k for k in EXPORTED if k not in PRINTED_COLUMNS))
"""The columns of the XLSX 台账, in order: :data:`EXPORTED` with the printed ones first."""
PRINTED: Final = len(PRINTED_COLUMNS)
"""How many leading :data:`LEDGER_ORDER` columns the 台账 prints."""


def header(keys: Iterable[str] = EXPORTED, extra: Iterable[str] = ()) -> list[str]:
    """The exported header row (Chinese), then the extra columns' own headers."""
    return [*(COLUMNS[key][0] for key in keys), *extra]


def _cells(
    row: Mapping[str, Any],
    *,
    dates_as_text: bool,
    keys: Iterable[str] = EXPORTED,
    extra: Iterable[str] = (),
) -> list[Any]:
    out: list[Any] = []
    for key in (*keys, *(f"extra:{name}" for name in extra)):
        value = row.get(key, "")
        if value is None:
            out.append("" if dates_as_text else None)
        elif isinstance(value, dt.date):
            out.append(value.isoformat() if dates_as_text else value)
        else:
            out.append(escape_formula(str(value)))
    return out


def write_table(
    path: pathlib.Path,
    fmt: str,
    findings: Iterable[tuple[Finding, tuple[Event, ...]]],
    *,
    head: SheetHead | None = None,
) -> int:
    """Write findings as a CSV or XLSX ledger table; returns the number of rows.

    With *head*, an XLSX file is the office's 台账 (:mod:`rectflow._io.xlsxledger`):
    title and 填报单位 rows, the printed columns first.
    """
    count = 0
    held = list(findings)  # the extra columns' headers are known once every row is seen
    extra = list(dict.fromkeys(name for finding, _ in held for name in finding.extra))

    def rows(text: bool, keys: Iterable[str] = EXPORTED) -> Iterator[list[Any]]:
        nonlocal count
        for finding, history in held:
            count += 1
            yield _cells(table_row(finding, history), dates_as_text=text, keys=keys, extra=extra)

    if fmt == "csv":
        write_csv(path, itertools.chain([header(extra=extra)], rows(text=True)))
    elif head is not None:
        write_ledger(path, header(LEDGER_ORDER, extra), rows(text=False, keys=LEDGER_ORDER), head)
    else:
        write_xlsx(path, header(extra=extra), rows(text=False))
    return count
