"""What the ledger lends its imports and exports, typed, and what they share.

The import and export code sits below the ledger and never imports it: the
ledger hands it an object with the methods of :class:`LedgerAccess` (its write
pipeline, ``rectflow._writer.Writer``), and the code here calls only those.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import pathlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from rectflow._i18n import msg
from rectflow._io.cells import FileLimits
from rectflow._io.plan import Item, Planner
from rectflow._io.table import Issues
from rectflow._model import STATES, Event, Finding, Inspection
from rectflow._policy import Policy
from rectflow._store.base import Store
from rectflow._workflow import Workflow
from rectflow.exceptions import LedgerFileError


class LedgerAccess(Planner, Protocol):
    """The ledger's typed services an import or export uses.

    Attributes:
        store: The storage backend (read; written only through the methods below).
        policy: The policy in force.
        workflow: The shared workflow.
        lang: The language of errors.
    """

    store: Store
    policy: Policy
    workflow: Workflow
    lang: str

    def now(self) -> dt.datetime:
        """The ledger clock's current time."""

    def in_batch(self) -> bool:
        """Whether this thread runs a batch (an import is refused in one)."""

    def require_text(self, value: object, field: str) -> None:
        """Refuse *value* unless it is a non-blank text (``InvalidInput`` naming *field*)."""

    def inspection(self, inspection_id: str) -> Inspection:
        """The inspection with this id; ``InspectionNotFound`` when there is none."""

    def record(
        self,
        name: str,
        payload: dict[str, Any],
        actor: str | None,
        when: dt.datetime,
        note: str | None = None,
        evidence: tuple[str, ...] = (),
        *,
        replay: bool = False,
    ) -> Event:
        """Check, chain and store one ledger-level event (*replay*: exactly as recorded)."""

    def append_batch(self, items: list[Item], admitted_tip: tuple[int, str] | None) -> None:
        """Write finding events admitted earlier, admitted again if the ledger's tip moved."""

    def write_block(self, *, transaction: bool = True) -> AbstractContextManager[None]:
        """The ledger's lock and the store's transaction; subscribers called after both."""

    def held_state(self) -> AbstractContextManager[tuple[int, str] | None]:
        """The ledger-level state read once while a plan that writes none is made."""

    def as_of(self, cutoff: dt.datetime, inspection: str | None) -> Iterator[Finding]:
        """The findings as they stood at *cutoff*."""

    def inspections_as_of(self, cutoff: dt.datetime, inspection: str | None) -> list[Inspection]:
        """The inspections (one, or all) as they stood at *cutoff*."""


class DryRun(Exception):
    """Raised inside a dry-run import's transaction to roll it back."""


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for a bulk import, then as it was.

    An import builds every row's records before it writes them, in one go: the
    collector would otherwise scan them again and again while they can only grow
    (about a tenth of a 10^5-row import's time here). Reference counting still
    frees what is dropped; nothing an import builds is cyclic.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def open_issues(file: pathlib.Path, lang: str, limits: FileLimits) -> Issues:
    """The problems of importing *file*, none yet; a file that cannot be opened raises.

    Raises:
        LedgerFileError: The file may not be read (no permission): not a damaged one.
    """
    issues = Issues(str(file), lang, limits.max_errors)
    try:  # a file that cannot be opened for lack of permission is not a damaged one
        file.open("rb").close()
    except PermissionError:
        issues.add(0, "", "no_permission", value=file)
        raise file_error(issues, lang) from None
    return issues


def file_error(issues: Issues, lang: str) -> LedgerFileError:
    """The error a file that does not import raises: every problem, the first 20 shown."""
    lines = [msg("file.errors", lang, file=issues.file, n=issues.total)]
    errors = issues.sorted()
    lines.extend(str(issue) for issue in errors[:20])
    if issues.total > 20:
        lines.append("…")
    truncated = issues.stopped or issues.total > len(errors)
    if truncated:
        lines.append(msg("file.more_errors", lang, n=len(errors)))
    return LedgerFileError(issues.file, errors, "\n".join(lines), truncated=truncated)


def summary_figures(
    file: str, fmt: str, rows_read: int, items: list[Item], created: int, *, dry_run: bool
) -> dict[str, Any]:
    """The figures every :class:`~rectflow.ImportSummary` has, from what was planned."""
    last = {event.finding_id: finding for event, finding, _ in items}
    by_state: dict[str, int] = {}
    for finding in last.values():
        by_state[finding.state] = by_state.get(finding.state, 0) + 1
    return {
        "file": file,
        "format": fmt,
        "rows_read": rows_read,
        "findings_added": sum(1 for event, _, _ in items if event.name == "add"),
        "events_added": len(items),
        "inspections_added": created,
        "by_state": {s: by_state[s] for s in STATES if s in by_state},
        "dry_run": dry_run,
        "completed_by_import": sum(1 for event, _, _ in items if event.name == "attest"),
    }
