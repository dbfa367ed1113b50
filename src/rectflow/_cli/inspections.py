"""Inspections: ``add-inspection``, ``change-inspection``, ``submit-report``."""

from __future__ import annotations

import argparse

from rectflow._cli.app import command, evidence, open_ledger, out
from rectflow._cli.parser import UsageError
from rectflow._cli.words import t
from rectflow._codec import unstructure
from rectflow._model import Inspection


def _add_inspection_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inspection", help="its id, e.g. R1")
    p.add_argument("--title", required=True)
    p.add_argument("--feedback-at", required=True, help="the feedback day, YYYY-MM-DD")
    p.add_argument("--declared", help="how many problems the feedback declared")
    p.add_argument("--at", help="when it is recorded, ISO-8601 with offset (default: now)")
    p.add_argument("--actor", help="who records it (required once actors exist)")
    p.add_argument("--unit", help="the unit that reports (填报单位), signed under the report")


@command(
    "add-inspection",
    help="put an inspection on the ledger",
    arguments=_add_inspection_arguments,
)
def _add_inspection(args: argparse.Namespace) -> int:
    declared = _declared(args)
    with open_ledger(args) as ledger:
        inspection = ledger.add_inspection(
            args.inspection,
            title=args.title,
            feedback_at=args.feedback_at,
            declared_findings=declared,
            at=args.at,
            actor=args.actor,
            unit=args.unit,
        )
    return _print_inspection(args, inspection)


def _change_inspection_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inspection", help="its id, e.g. R1")
    p.add_argument("--reason", required=True, help="why it changes")
    p.add_argument("--declared", help="the new number of problems the feedback declared")
    p.add_argument("--feedback-at", help="the new feedback day, YYYY-MM-DD")
    p.add_argument("--actor", help="who changes it (required once actors exist)")
    p.add_argument("--at", help="when, ISO-8601 with offset (default: now)")
    p.add_argument("--unit", help="the new unit that reports (填报单位)")


@command(
    "change-inspection",
    help="change an inspection's declared count or feedback day, with a reason",
    arguments=_change_inspection_arguments,
)
def _change_inspection(args: argparse.Namespace) -> int:
    declared = _declared(args)
    with open_ledger(args) as ledger:
        inspection = ledger.change_inspection(
            args.inspection,
            reason=args.reason,
            declared_findings=declared,
            feedback_at=args.feedback_at,
            actor=args.actor,
            at=args.at,
            unit=args.unit,
        )
    return _print_inspection(args, inspection)


def _declared(args: argparse.Namespace) -> int | None:
    """``--declared`` as a whole number, or None when not given."""
    if args.declared is None:
        return None
    if not args.declared.isdigit():
        raise UsageError(t("declared_bad", args.lang, value=args.declared))
    return int(args.declared)


def _print_inspection(args: argparse.Namespace, inspection: Inspection) -> int:
    """Print an inspection added or changed (its record with --json); exit code 0."""
    out(
        args,
        unstructure(inspection),
        f"{inspection.id} {inspection.title} ({inspection.feedback_at})",
    )
    return 0


def _submit_report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inspection")
    p.add_argument("--actor", required=True)
    p.add_argument(
        "--evidence", action="append", required=True, help="the report; a local file is hashed"
    )
    p.add_argument("--at")
    p.add_argument("--note")


@command(
    "submit-report",
    help="record that an inspection's report was submitted",
    arguments=_submit_report_arguments,
)
def _submit_report(args: argparse.Namespace) -> int:
    with open_ledger(args) as ledger:
        inspection = ledger.submit_report(
            args.inspection,
            actor=args.actor,
            evidence=evidence(args.evidence),
            at=args.at,
            note=args.note,
        )
    out(
        args,
        unstructure(inspection),
        t(
            "report_submitted",
            args.lang,
            inspection=inspection.id,
            at=inspection.report_submitted_at,
        ),
    )
    return 0
