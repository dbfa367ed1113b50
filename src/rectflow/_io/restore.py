"""Restoring a ledger from its YAML file: the chain replayed, event by event.

A YAML file holds the inspections and every event in chain order (see
:mod:`rectflow._io.export`). Imported into an empty ledger it gives the same
events and the same head, which the file names and this checks. A file without
ledger-level events (an older export) brings its inspections as a list.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import Any

import attrs

from rectflow._i18n import msg
from rectflow._io.access import (
    DryRun,
    LedgerAccess,
    collector_paused,
    file_error,
    open_issues,
    summary_figures,
)
from rectflow._io.cells import FileLimits
from rectflow._io.files import ImportSummary, read_yaml
from rectflow._io.plan import (
    Hooks,
    Item,
    check_header,
    has_ledger_events,
    plan_events,
    plan_inspections,
)
from rectflow._io.table import Issues
from rectflow._model import Event, Inspection
from rectflow._roles import LEDGER_EVENTS, inspection_payload
from rectflow._workflow import normalize_name
from rectflow.exceptions import InvalidInput, RectflowError


def restore_yaml(
    access: LedgerAccess,
    file: pathlib.Path,
    *,
    actor: str,
    inspection: str | None,
    dry_run: bool,
    limits: FileLimits,
    at: dt.datetime | None,
) -> ImportSummary:
    """Import a YAML ledger file through *access*, all or nothing (``Ledger.import_file``).

    Raises:
        LedgerFileError: The file does not import; ``.errors`` lists every problem.
    """
    empty_before = access.store.head().count == 0
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
        at=at,
    )
    created: list[Inspection] = []
    flushed = 0
    last_version: int | None = None  # the file's previous ledger version (renumbered here)

    def record(event: Event, planned: list[Item]) -> None:
        """A ledger-level event in its place: what was planned before it is written first."""
        nonlocal flushed, last_version
        previous, last_version = last_version, event.version
        if previous is not None and event.version != previous + 1:  # a gap or a swap
            raise InvalidInput(
                msg("bad_value", access.lang, field="version", value=event.version),
                field="version",
                value=event.version,
            )
        if not issues and len(planned) > flushed:
            access.append_batch(planned[flushed:], None)
        flushed = len(planned)
        replay_ledger_event(access, event)
        if event.name == "add_inspection":
            inspection_id = str(event.payload.get("inspection"))
            inspections.pop(inspection_id, None)
            if (new := known(inspection_id)) is not None:
                created.append(new)

    items: list[Item] = []
    rows_read = 0
    try:
        # ids checked and written under one lock; the collector paused meanwhile (see
        # collector_paused)
        with access.write_block(), collector_paused():
            data = read_yaml(file, issues, limits)
            if has_ledger_events(data):  # the chain itself recreates its inspections
                check_header(data, issues)
                hooks = attrs.evolve(hooks, record=record)
            else:
                created = plan_inspections(data, issues, hooks)
                for new in created:  # on the chain; undone with the rest on error
                    assert new.created_at is not None  # noqa: S101
                    access.record("add_inspection", inspection_payload(new), actor, new.created_at)
                    inspections[new.id] = new
            items = plan_events(
                data, issues, hooks, max_rows=limits.max_rows, inspection=inspection
            )
            events = data.get("events")
            rows_read = len(events) if isinstance(events, list) else 0
            if issues:
                raise file_error(issues, access.lang)
            if dry_run:
                raise DryRun  # noqa: TRY301 - undo the staged inspections
            if len(items) > flushed:
                access.append_batch(items[flushed:], None)
            if empty_before:  # a whole ledger restored: the head it names
                check_restored_head(access, data, issues)
    except DryRun:
        pass
    figures = summary_figures(str(file), "yaml", rows_read, items, len(created), dry_run=dry_run)
    return ImportSummary(**figures)


def check_restored_head(access: LedgerAccess, data: Any, issues: Issues) -> None:
    """A YAML file of a whole ledger names its head: restored into an empty one, it must match.

    Raises:
        LedgerFileError: The events imported hash to another head (the file was edited).
    """
    claimed = data.get("head") if isinstance(data, dict) else None
    if not isinstance(claimed, dict):
        return
    head = access.store.head()
    if (claimed.get("count"), claimed.get("hash")) != (head.count, head.hash):
        issues.add(
            0,
            "head",
            "head_mismatch",
            expected=f"{claimed.get('count')}:{claimed.get('hash')}",
            value=f"{head.count}:{head.hash}",
        )
        raise file_error(issues, access.lang)


def replay_ledger_event(access: LedgerAccess, event: Event) -> None:
    """Write a ledger-level event read from a file exactly as recorded (same hash).

    It passes the gate like any other (``record``) and takes the next
    ledger-level version here: into an empty ledger that is the version it
    had, so a whole ledger re-imported has the same head.

    Raises:
        InvalidInput: An unknown kind, or a payload its kind cannot read.
    """
    if event.name not in LEDGER_EVENTS:
        raise InvalidInput(
            msg("unknown_event", access.lang, value=event.name, known=", ".join(LEDGER_EVENTS)),
            field="event",
            value=event.name,
        )
    try:
        access.record(
            event.name,
            dict(event.payload),
            event.actor,
            event.at,
            event.note,
            event.evidence,
            replay=True,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, RectflowError):
            raise
        raise InvalidInput(
            msg("bad_value", access.lang, field="payload", value=exc), field="payload"
        ) from exc
