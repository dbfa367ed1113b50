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
from rectflow._io.yamlfile import load as load_yaml
from rectflow._model import STATE_LABELS, Event, Finding
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
)
"""The columns a table export writes, in order (headers: each column's Chinese name)."""

_SIDE_EVENTS: Final = frozenset({"record_measure", "extend", "spot_check"})


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
    """

    file: str
    format: str
    rows_read: int
    findings_added: int
    events_added: int
    inspections_added: int
    by_state: Mapping[str, int]
    dry_run: bool

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
            deadline=deadline,
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
        "submitted_by": (f.submitter or "") if f.state == "pending_signoff" or done else "",
        "signed_off_by": (f.signed_off_by or "") if done else "",
        "signed_off_at": _time(f.completed_at) if done else "",
        "state_at": _time(changed.at) if changed else "",
        "next_checkpoint": f.next_checkpoint if f.state == "staged_result" else None,
        "itemized": "是" if f.itemized else "否",
    }


def _time(at: dt.datetime | None) -> str:
    return "" if at is None else at.isoformat()


def header() -> list[str]:
    """The exported header row (Chinese)."""
    return [COLUMNS[key][0] for key in EXPORTED]


def _cells(row: Mapping[str, Any], *, dates_as_text: bool) -> list[Any]:
    out: list[Any] = []
    for key in EXPORTED:
        value = row[key]
        if value is None:
            out.append("" if dates_as_text else None)
        elif isinstance(value, dt.date):
            out.append(value.isoformat() if dates_as_text else value)
        else:
            out.append(escape_formula(str(value)))
    return out


def write_table(
    path: pathlib.Path, fmt: str, findings: Iterable[tuple[Finding, tuple[Event, ...]]]
) -> int:
    """Write findings as a CSV or XLSX ledger table; returns the number of rows."""
    count = 0

    def rows(text: bool) -> Iterator[list[Any]]:
        nonlocal count
        for finding, history in findings:
            count += 1
            yield _cells(table_row(finding, history), dates_as_text=text)

    if fmt == "csv":
        write_csv(path, itertools.chain([header()], rows(text=True)))
    else:
        write_xlsx(path, header(), rows(text=False))
    return count
