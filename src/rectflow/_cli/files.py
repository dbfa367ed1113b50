"""Ledger files: ``import`` and ``export`` (CSV, XLSX, YAML)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rectflow._cli.app import command, open_ledger, out
from rectflow._cli.parser import UsageError
from rectflow._cli.words import FILE_MESSAGES, t
from rectflow._io.update import UpdateSummary


def _import_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file")
    p.add_argument("--format", choices=("csv", "xlsx", "yaml"), help="default: from the suffix")
    p.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    p.add_argument("--inspection", help="the inspection of every row (files without 巡察)")
    p.add_argument(
        "--allow-extra-columns", action="store_true", help="keep unknown columns (the default)"
    )
    p.add_argument(
        "--strict-columns", action="store_true", help="refuse columns rectflow does not know"
    )
    p.add_argument("--state-from", metavar="COLUMN", help="the header the state is read from")
    p.add_argument(
        "--at", help="when the imported events happen (default: the sheet's 填报时间, else now)"
    )
    p.add_argument(
        "--feedback-at", help="with --inspection: create it if missing, with this feedback day"
    )
    p.add_argument("--title", help="the created inspection's title (default: the sheet's)")
    p.add_argument("--declared", type=int, help="the created inspection's declared count")
    p.add_argument("--unit", help="the created inspection's 填报单位 (default: the sheet's)")
    p.add_argument(
        "--update",
        action="store_true",
        help="the monthly cycle: match rows to findings by id and record only what changed",
    )
    p.add_argument(
        "--allow-rebound",
        action="store_true",
        help="with --update: apply a move back from completed as a rebound (回潮/反弹)",
    )
    p.add_argument(
        "--actor",
        default=os.environ.get("RECTFLOW_ACTOR"),
        help="who imports (default: $RECTFLOW_ACTOR, else your login name)",
    )


@command(
    "import",
    help="import a ledger file (CSV, XLSX, YAML), all or nothing",
    arguments=_import_arguments,
)
def _import(args: argparse.Namespace) -> int:
    import getpass  # noqa: PLC0415

    from rectflow._io.layout import import_notes  # noqa: PLC0415
    from rectflow._io.table import FileIssue  # noqa: PLC0415
    from rectflow.exceptions import LedgerFileError  # noqa: PLC0415

    lang = args.lang
    actor = args.actor or getpass.getuser()
    update, close = _progress_bar(args)
    try:
        # never creates a ledger file silently: a missing one names `rectflow init`
        with open_ledger(args) as ledger:
            summary = ledger.import_file(
                args.file,
                actor=actor,
                format=args.format,
                inspection=args.inspection,
                dry_run=args.dry_run,
                allow_extra_columns=args.allow_extra_columns,
                progress=update,
                update=args.update,
                allow_rebound=args.allow_rebound,
                at=args.at,
                strict_columns=args.strict_columns,
                state_from=args.state_from,
                feedback_at=args.feedback_at,
                title=args.title,
                declared_findings=args.declared,
                unit=args.unit,
            )
    except KeyboardInterrupt:  # Ctrl-C: the transaction is rolled back; one line, no traceback
        if close is not None:
            close()
            close = None
        print(f"rectflow: {FILE_MESSAGES['interrupted'][lang == 'en']}", file=sys.stderr)
        return 130
    except LedgerFileError as exc:
        errors: list[FileIssue] = list(exc.errors)
        if args.json:
            data = {
                "error": "LedgerFileError",
                "message": exc.message.splitlines()[0],
                "truncated": exc.truncated,
                "errors": [
                    {"row": e.row, "column": e.column, "code": e.code, "message": e.message}
                    for e in errors
                ],
            }
            print(json.dumps(data, ensure_ascii=False, indent=2), file=sys.stderr)
        else:
            for issue in errors:
                print(issue, file=sys.stderr)
            print(f"rectflow: {exc.message.splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        if close is not None:
            close()
    if isinstance(summary, UpdateSummary):
        out(
            args,
            summary.to_dict(),
            "\n".join([summary.to_text(lang), *import_notes(summary, lang)]),
        )
        return 0
    key = "dry_run" if summary.dry_run else "imported"
    text = FILE_MESSAGES[key][lang == "en"].format(
        file=args.file,
        rows=summary.rows_read,
        findings=summary.findings_added,
        events=summary.events_added,
        inspections=summary.inspections_added,
    )
    out(args, summary.to_dict(), "\n".join([text, *import_notes(summary, lang)]))
    return 0


def _progress_bar(args: argparse.Namespace) -> tuple[Any, Any]:
    """A progress callback showing a bar on a terminal once a file passes 2000 rows."""
    if args.json or not sys.stderr.isatty():
        return None, None
    try:
        from tqdm import tqdm  # noqa: PLC0415 - optional (the cli extra)
    except ImportError:  # pragma: no cover - depends on the install
        return None, None
    state: dict[str, Any] = {}

    def update(rows: int) -> None:
        if rows < 2000:
            return
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(unit=" rows", file=sys.stderr, leave=False)
        bar.update(rows - bar.n)

    def close() -> None:
        if "bar" in state:
            state["bar"].close()

    return update, close


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file")
    p.add_argument("--format", choices=("csv", "xlsx", "yaml"), help="default: from the suffix")
    p.add_argument("--as-of", help="the ledger as it stood on a day YYYY-MM-DD")
    p.add_argument("--inspection", help="only this inspection")


@command("export", help="write the ledger to CSV, XLSX or YAML", arguments=_export_arguments)
def _export(args: argparse.Namespace) -> int:
    lang = args.lang
    with open_ledger(args) as ledger:
        try:
            count = ledger.export_file(
                args.file, format=args.format, as_of=args.as_of, inspection=args.inspection
            )
        except OSError as exc:
            raise UsageError(
                t("cannot_write", lang, path=args.file, reason=exc.strerror or exc)
            ) from exc
    yaml_out = (args.format or Path(args.file).suffix.lstrip(".")).startswith("y")
    unit = FILE_MESSAGES["events" if yaml_out else "rows"][lang == "en"]
    out(
        args,
        {"file": args.file, "count": count},
        FILE_MESSAGES["exported"][lang == "en"].format(file=args.file, count=count, unit=unit),
    )
    return 0
