"""Writing a ledger to a file: the table (CSV, XLSX) or the whole chain (YAML).

The file is written beside its path and moved into place when complete.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
from collections.abc import Iterator
from typing import Any, Final

from rectflow._i18n import msg
from rectflow._io.access import LedgerAccess
from rectflow._io.files import PRINTED, file_format, write_table
from rectflow._io.xlsxledger import SheetHead
from rectflow._io.yamlfile import dump as dump_yaml
from rectflow._model import Event, Finding, id_key
from rectflow._roles import LEDGER
from rectflow._time import as_of_cutoff, local_date
from rectflow.exceptions import InvalidInput

_INSPECTION_EVENTS: Final = frozenset({"add_inspection", "change_inspection", "submit_report"})


def export_file(
    access: LedgerAccess,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,  # noqa: A002 - the issue's name for it
    as_of: dt.date | dt.datetime | str | None = None,
    inspection: str | None = None,
) -> int:
    """``Ledger.export_file`` (see there): check the call, then write the file.

    Returns:
        The number of rows (CSV, XLSX) or events (YAML) written.
    """
    if access.in_batch():
        # An import is all or nothing on its own; inside a batch a dry run or a
        # refused file could not be undone apart from the batch's other writes.
        raise InvalidInput(msg("import_in_batch", access.lang), field="batch")
    file = pathlib.Path(path)
    fmt = file_format(file, format)
    if fmt is None:
        raise InvalidInput(
            msg("file.unknown_format", access.lang, value=format or file.suffix),
            field="format",
            value=format,
        )
    if inspection is not None:
        access.inspection(inspection)
    cutoff = None if as_of is None else as_of_cutoff(as_of, access.policy.timezone, access.lang)
    return export_ledger(access, file, fmt, cutoff, inspection)


def export_ledger(
    access: LedgerAccess,
    file: pathlib.Path,
    fmt: str,
    cutoff: dt.datetime | None,
    inspection: str | None,
) -> int:
    """Write the ledger (as of *cutoff*, of *inspection*) to *file* (``Ledger.export_file``).

    Returns:
        The number of rows (CSV, XLSX) or events (YAML) written.
    """
    partial = file.with_name(f".{file.name}.partial")
    try:
        if fmt == "yaml":
            count = export_yaml(access, partial, cutoff, inspection)
        else:
            head = sheet_head(access, cutoff, inspection) if fmt == "xlsx" else None
            rows = export_rows(access, cutoff, inspection)
            count = write_table(partial, fmt, rows, head=head)
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)
    return count


def sheet_head(
    access: LedgerAccess, cutoff: dt.datetime | None, inspection: str | None
) -> SheetHead:
    """The title and 填报单位 / 填报时间 rows of an XLSX 台账."""
    chosen = access.inspections_as_of(cutoff or access.now(), inspection)
    title = "整改台账"
    if len(chosen) == 1:  # an imported sheet's own title already names its 台账
        own = chosen[0].title
        title = own if own.endswith("台账") else f"{own}反馈问题整改台账"
    units = {i.unit for i in chosen}
    return SheetHead(
        title=title,
        unit=units.pop() if len(units) == 1 else None,
        filled_at=local_date(cutoff or access.now(), access.policy.timezone),
        tz=access.policy.timezone,
        printed=PRINTED,
    )


def export_rows(
    access: LedgerAccess, cutoff: dt.datetime | None, inspection: str | None
) -> Iterator[tuple[Finding, tuple[Event, ...]]]:
    """Each finding to write and its history, in the order people read ids."""
    store = access.store
    # in the order people read ids (1.2 before 1.10), not the store's text order
    if cutoff is None:
        for finding in sorted(store.findings(inspection), key=lambda f: id_key(f.id)):
            yield finding, store.history(finding.id)
        return
    for finding in sorted(access.as_of(cutoff, inspection), key=lambda f: id_key(f.id)):
        yield finding, tuple(e for e in store.history(finding.id) if e.at <= cutoff)


def export_yaml(
    access: LedgerAccess, file: pathlib.Path, cutoff: dt.datetime | None, inspection: str | None
) -> int:
    """Write the inspections and the chain's events (as of *cutoff*, of *inspection*) as YAML."""
    store = access.store
    with store.transaction():  # one snapshot
        head = store.head()
        inspections = [
            i
            for i in store.inspections()
            if (inspection is None or i.id == inspection)
            and (cutoff is None or i.created_at is None or i.created_at <= cutoff)
        ]
        ids = None if inspection is None else {f.id for f in store.findings(inspection)}
        events = [
            entry.event
            for entry in store.chain()
            if (cutoff is None or entry.event.at <= cutoff)
            and (
                ids is None
                or entry.event.finding_id in ids
                or (  # the inspection's own events travel with it; actors stay
                    entry.event.finding_id == LEDGER
                    and entry.event.name in _INSPECTION_EVENTS
                    and entry.event.payload.get("inspection") == inspection
                )
            )
        ]
    ordered = inspections_first(events)
    meta: dict[str, Any] = {"policy": access.policy.name}
    if cutoff is None and inspection is None and ordered is events:
        # the whole chain, as it is: a restore must reach this head
        meta["head"] = {"count": head.count, "hash": head.hash}
    events = ordered
    dump_yaml(file, inspections, events, meta)
    return len(events)


def inspections_first(events: list[Event]) -> list[Event]:
    """*events* in an order a re-import can follow.

    A ledger migrated from schema 3 chained its inspections after the findings that
    belong to them (the migration appended them). Such ``add_inspection`` events
    move to the front, in their order; the ledger's own versions stay in order, the
    re-imported ledger has the same events, and its head differs from this one's.
    """
    first_add: dict[str, int] = {}
    for i, e in enumerate(events):
        if e.finding_id != LEDGER and e.name == "add":
            first_add.setdefault(str(e.payload.get("inspection")), i)
    late = {
        i
        for i, e in enumerate(events)
        if e.finding_id == LEDGER
        and e.name == "add_inspection"
        and first_add.get(str(e.payload.get("inspection")), i) < i
    }
    if not late:
        return events
    return [events[i] for i in sorted(late)] + [e for i, e in enumerate(events) if i not in late]
