"""Importing a ledger file: the checks every import makes, then the YAML or the table path.

``Ledger.import_file`` hands its arguments here with its :class:`LedgerAccess`;
a YAML file is restored (:func:`rectflow._io.restore.restore_yaml`), a CSV or
XLSX table imported (:func:`rectflow._io.tableimport.import_table`).
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
from collections.abc import Callable

from rectflow._i18n import msg, translate
from rectflow._io.access import LedgerAccess
from rectflow._io.cells import FileLimits
from rectflow._io.files import ImportSummary, file_format
from rectflow._io.restore import restore_yaml
from rectflow._io.tableimport import import_table
from rectflow._time import parse_time
from rectflow.exceptions import InspectionNotFound, InvalidInput


def import_file(
    access: LedgerAccess,
    path: str | os.PathLike[str],
    *,
    actor: str,
    format: str | None = None,  # noqa: A002 - the issue's name for it
    inspection: str | None = None,
    dry_run: bool = False,
    allow_extra_columns: bool = False,
    limits: FileLimits | None = None,
    progress: Callable[[int], None] | None = None,
    update: bool = False,
    allow_rebound: bool = False,
    at: dt.datetime | str | None = None,
    strict_columns: bool = False,
    state_from: str | None = None,
    feedback_at: dt.date | str | None = None,
    title: str | None = None,
    declared_findings: int | None = None,
    unit: str | None = None,
) -> ImportSummary:
    """``Ledger.import_file`` (see there): check the call, then restore or import the file.

    Raises:
        LedgerFileError: The file does not import; ``.errors`` lists every problem.
        InvalidInput: An unknown format, a missing file, an import inside a batch.
        InspectionNotFound: *inspection* is not on the ledger.
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
    if not file.is_file():
        raise InvalidInput(msg("file.not_found", access.lang, value=file), field="path")
    if update and fmt == "yaml":
        raise InvalidInput(msg("file.update_yaml", access.lang), field="update", value=True)
    access.require_text(actor, "actor")
    create = (
        inspection is not None
        and fmt != "yaml"
        and feedback_at is not None
        and access.store.get_inspection(inspection) is None
    )
    if inspection is not None and fmt != "yaml" and not create:  # YAML may bring it
        try:
            access.inspection(inspection)
        except InspectionNotFound as exc:
            key = "import_inspection_missing"
            missing = InspectionNotFound(inspection, msg(key, "zh", id=inspection))
            raise translate(missing, key, id=inspection) from exc
    when = None if at is None else parse_time(at, "at", access.lang)
    limits = limits or FileLimits()
    if fmt == "yaml":
        return restore_yaml(
            access,
            file,
            actor=actor,
            inspection=inspection,
            dry_run=dry_run,
            limits=limits,
            at=when,
        )
    return import_table(
        access,
        file,
        fmt,
        actor=actor,
        inspection=inspection,
        create=create,
        dry_run=dry_run,
        allow_extra_columns=allow_extra_columns,
        limits=limits,
        progress=progress,
        update=update,
        allow_rebound=allow_rebound,
        at=when,
        strict_columns=strict_columns,
        state_from=state_from,
        feedback_at=feedback_at,
        title=title,
        declared_findings=declared_findings,
        unit=unit,
    )
