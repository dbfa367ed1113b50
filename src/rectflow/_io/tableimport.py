"""Importing an office's table (CSV, XLSX): rows into findings and their history.

The sheet is read and checked whole (:func:`rectflow._io.files.read_tabular`),
every row planned into the events its state implies (:func:`plan_rows`), or,
for the monthly cycle, into what changed since the ledger's state
(:func:`rectflow._io.update.plan_update`); then all of it is written in one
transaction, or nothing is. A table writes no ledger-level event but the
inspection it may create first.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Callable
from typing import Any

import attrs
import pendulum

from rectflow._io.access import (
    DryRun,
    LedgerAccess,
    collector_paused,
    file_error,
    open_issues,
    summary_figures,
)
from rectflow._io.cells import FileLimits
from rectflow._io.files import ImportSummary, read_tabular
from rectflow._io.plan import Hooks, Item, plan_rows
from rectflow._io.update import Change, UpdateSummary, plan_update
from rectflow._model import Finding, Inspection
from rectflow._roles import inspection_payload
from rectflow._workflow import normalize_name


def import_table(
    access: LedgerAccess,
    file: pathlib.Path,
    fmt: str,
    *,
    actor: str,
    inspection: str | None,
    create: bool,
    dry_run: bool,
    allow_extra_columns: bool,
    limits: FileLimits,
    progress: Callable[[int], None] | None,
    update: bool,
    allow_rebound: bool,
    at: dt.datetime | None,
    strict_columns: bool,
    state_from: str | None,
    feedback_at: dt.date | str | None,
    title: str | None,
    declared_findings: int | None,
    unit: str | None,
) -> ImportSummary:
    """Import a CSV or XLSX table through *access*, all or nothing (``Ledger.import_file``).

    *create*: the inspection *inspection* is not on the ledger and is created
    (with *feedback_at*, *title*, *declared_findings*, *unit*).

    Raises:
        LedgerFileError: The file does not import; ``.errors`` lists every problem.
    """
    when = at
    at_source = "at" if when is not None else ""
    issues = open_issues(file, access.lang, limits)
    inspections: dict[str, Inspection | None] = {}

    def known(inspection_id: str) -> Inspection | None:
        if inspection_id not in inspections:
            inspections[inspection_id] = access.store.get_inspection(inspection_id)
        return inspections[inspection_id]

    hooks = Hooks(
        workflow=access.workflow,
        planner=access,
        inspection=known,
        now=access.now(),
        actor=normalize_name(actor),
        record=None,
        at=when,
    )
    created: list[Inspection] = []
    changes: list[Change] = []
    unchanged = 0
    on_ledger: dict[str, dict[str, Finding]] = {}

    def by_id(inspection_id: str) -> dict[str, Finding]:
        """An inspection's findings by id (an update reads each inspection once)."""
        if inspection_id not in on_ledger:
            found = access.store.findings(inspection_id)
            on_ledger[inspection_id] = {f.id: f for f in found}
        return on_ledger[inspection_id]

    items: list[Item] = []
    try:
        # ids checked and written under one lock; the collector paused meanwhile (see
        # collector_paused)
        with access.write_block(), collector_paused():
            table = read_tabular(
                file,
                fmt,
                issues,
                limits=limits,
                tz=access.policy.timezone,
                inspection=inspection,
                allow_extra_columns=allow_extra_columns,
                progress=progress,
                words=access.policy.import_words,
                strict_columns=strict_columns,
                state_from=state_from,
            )
            head = table.head
            if when is None and head is not None and head.filled_at is not None:
                day = head.filled_at  # the sheet's own date: the start of that day
                when = pendulum.datetime(day.year, day.month, day.day, tz=access.policy.timezone)
                at_source = "sheet"
            hooks = attrs.evolve(hooks, at=when)
            if create and head is not None and inspection is not None:
                new = import_inspection(
                    access,
                    inspection,
                    title=title or head.title or inspection,
                    feedback_at=feedback_at,  # type: ignore[arg-type]
                    declared_findings=declared_findings,
                    unit=unit or head.unit or None,
                    at=when,
                    actor=actor,
                )
                created.append(new)
                inspections[new.id] = new
            # A table writes no other ledger-level event: while it is planned the
            # gate reads the ledger's state once (checked again when it is written).
            with access.held_state() as planned_at:
                if update:
                    items, changes, unchanged = plan_update(
                        table,
                        issues,
                        hooks,
                        file.name,
                        on_ledger=by_id,
                        allow_rebound=allow_rebound,
                    )
                else:
                    items = plan_rows(table, issues, hooks, file.name)
                if issues:
                    raise file_error(issues, access.lang)
                if dry_run:
                    raise DryRun  # noqa: TRY301 - undo the staged inspections
                if items:
                    access.append_batch(items, planned_at)
    except DryRun:
        pass
    figures: dict[str, Any] = summary_figures(
        str(file), fmt, table.rows_read, items, len(created), dry_run=dry_run
    )
    figures |= {
        "skipped": tuple((s.row, s.reason, s.text) for s in table.skipped),
        "renumbered": table.renumbered,
        "at": (when or hooks.now).isoformat(),
        "at_source": at_source or "now",
        "no_evidence": tuple(hooks.warnings),
        "extra_columns": table.extra,
        "unit": table.head.unit if table.head is not None else "",
    }
    if update:
        return UpdateSummary(**figures, changes=tuple(changes), unchanged=unchanged)
    return ImportSummary(**figures)


def import_inspection(
    access: LedgerAccess,
    inspection_id: str,
    *,
    title: str,
    feedback_at: dt.date | str,
    declared_findings: int | None,
    unit: str | None,
    at: dt.datetime | None,
    actor: str,
) -> Inspection:
    """Create the inspection an import names (``--feedback-at``), on the chain."""
    new = access.plan_inspection(
        inspection_id,
        title=title,
        feedback_at=feedback_at,
        declared_findings=declared_findings,
        at=at,
    )
    if unit and "unit" in attrs.fields_dict(Inspection):  # the 填报单位 (issue 14's unit)
        changes: dict[str, Any] = {"unit": unit}
        new = attrs.evolve(new, **changes)
    assert new.created_at is not None  # noqa: S101 - plan_inspection sets it
    access.record("add_inspection", inspection_payload(new), actor, new.created_at)
    return new
