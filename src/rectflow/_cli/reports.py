"""What the ledger shows: ``report``, ``agenda``, ``diagram``."""

from __future__ import annotations

import argparse
import json
import sys

from rectflow._cli.app import command, emit, inspection_id, open_ledger, out
from rectflow._cli.parser import UsageError
from rectflow._cli.words import t
from rectflow._render import diagram as _diagram


def _report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "inspection", nargs="?", help="the inspection's id (default: the ledger's only one)"
    )
    p.add_argument("--as-of", help="a day YYYY-MM-DD (default: today)")
    p.add_argument(
        "--format",
        choices=("md", "html", "json"),
        help="Markdown (default), a self-contained HTML page, or JSON (= --json)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--no-charts", action="store_true", help="HTML without charts (faster; no matplotlib)"
    )


@command("report", help="the progress report of an inspection", arguments=_report_arguments)
def _report(args: argparse.Namespace) -> int:
    fmt = args.format or ("json" if args.json else "md")
    with open_ledger(args) as ledger:
        report = ledger.report(inspection_id(args, ledger), as_of=args.as_of, lang=args.lang)
    if fmt == "json":
        text = report.to_json()
    elif fmt == "html":
        text = report.to_html(args.lang, charts=not args.no_charts)
    else:
        text = report.to_markdown(args.lang)
    emit(args, text, fmt)
    return 0


def _agenda_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", help="a day YYYY-MM-DD (default: today)")
    p.add_argument("--inspection")
    p.add_argument(
        "--upcoming",
        type=int,
        default=None,
        metavar="N",
        help="also list the next N dates falling due (default: all of them for --format ics)",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "ics"),
        help="text (default), JSON (= --json) or an iCalendar file (with -o)",
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE ('-' for stdout) instead of stdout"
    )


@command(
    "agenda",
    help="what is overdue, due soon or to be looked back at",
    arguments=_agenda_arguments,
)
def _agenda(args: argparse.Namespace) -> int:
    fmt = args.format or ("json" if args.json else "text")
    if fmt == "ics" and args.output is None:
        raise UsageError(t("ics_needs_file", args.lang))
    upcoming = args.upcoming
    if upcoming is None:
        upcoming = sys.maxsize if fmt == "ics" else 0
    with open_ledger(args) as ledger:
        agenda = ledger.agenda(as_of=args.as_of, inspection=args.inspection, upcoming=upcoming)
    if fmt == "ics":
        text = agenda.to_ics(args.lang)
    elif fmt == "json":
        text = json.dumps(agenda.to_dict(), ensure_ascii=False, indent=2)
    else:
        text = agenda.to_text(args.lang)
    emit(args, text, fmt)
    return 0


def _diagram_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=("mermaid", "dot", "svg"),
        default="mermaid",
        help="mermaid text (default), Graphviz DOT, or SVG (the graphviz extra)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


@command(
    "diagram",
    help="the workflow's state machine, guards included",
    arguments=_diagram_arguments,
)
def _diagram_command(args: argparse.Namespace) -> int:
    with open_ledger(args) as ledger:
        workflow = ledger.workflow
    if args.format == "svg":
        try:
            text = _diagram.svg(workflow, args.lang)
        except _diagram.GraphvizMissing as exc:
            raise UsageError(t("svg_needs_graphviz", args.lang)) from exc
    elif args.format == "dot":
        text = _diagram.dot(workflow, args.lang)
    else:
        text = _diagram.mermaid(workflow, args.lang)
    if args.json and args.output is None:
        out(args, {"format": args.format, "diagram": text}, text)
        return 0
    emit(args, text, args.format)
    return 0
