"""Findings: ``add``, ``fire``, ``show``, ``list``, ``history``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rectflow._cli.app import command, evidence, open_ledger, out, workflow_spec
from rectflow._cli.parser import UsageError
from rectflow._cli.words import event_arguments, event_label, pad, resolve, t
from rectflow._codec import unstructure
from rectflow._model import CADENCES, FINDING_KINDS, MEASURE_KINDS, Measure, Owner, id_key
from rectflow._workflow import DEFAULT_SPEC, state_label


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("finding", help="its id, e.g. 1.1.1")
    p.add_argument("--inspection", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--kind", default="deadline", choices=FINDING_KINDS)
    p.add_argument("--aspect", default="", help="the aspect (方面) it belongs to")
    p.add_argument("--category", default="", help="the category (类别) within the aspect")
    p.add_argument("--leader", required=True, help="责任领导")
    p.add_argument("--department", required=True, help="责任部门")
    p.add_argument("--person", required=True, help="责任人")
    p.add_argument(
        "--deadline",
        required=True,
        help="a day (2024-01-31) or a period after feedback ('2 months', '10个工作日')",
    )
    p.add_argument(
        "--measure",
        action="append",
        default=[],
        metavar="KIND[/CADENCE]:TEXT",
        help="a measure, e.g. recurring/monthly:每月开展一次排查 (ids FINDING-1, -2 …)",
    )
    p.add_argument(
        "--measures-json",
        metavar="FILE",
        help="measures as a JSON list of objects (id, text, kind, owner, cadence, document, "
        "document_type); '-' reads stdin",
    )
    p.add_argument(
        "--not-itemized", action="store_true", help="counted in the feedback but not described"
    )
    p.add_argument("--actor", required=True)
    p.add_argument("--at", help="ISO-8601 time with offset (default: now)")


@command("add", help="put a finding (and its measures) on it", arguments=_add_arguments)
def _add(args: argparse.Namespace) -> int:
    measures = _measures(args)
    with open_ledger(args) as ledger:
        finding = ledger.add_finding(
            args.finding,
            inspection=args.inspection,
            title=args.title,
            kind=args.kind,
            owner=Owner(args.leader, args.department, args.person),
            deadline=args.deadline,
            actor=args.actor,
            aspect=args.aspect,
            category=args.category,
            measures=measures,
            itemized=not args.not_itemized,
            at=args.at,
        )
    out(
        args,
        unstructure(finding),
        f"{finding.id}: {state_label(finding.state, args.lang)}, "
        f"{len(finding.measures)} measure(s), deadline {finding.deadline}",
    )
    return 0


_MEASURE_KEYS = ("id", "text", "kind", "owner", "cadence", "document", "document_type")


def _measures(args: argparse.Namespace) -> list[Measure]:
    """The measures of ``add``: ``--measure`` flags, then ``--measures-json``."""
    found: list[Measure] = []
    for n, item in enumerate(args.measure, start=1):
        head, sep, text = item.partition(":")
        kind, _, cadence = head.partition("/")
        if not sep or not text.strip() or kind not in MEASURE_KINDS:
            raise UsageError(
                t(
                    "measure_bad",
                    args.lang,
                    kinds=", ".join(MEASURE_KINDS),
                    cadences=", ".join(CADENCES),
                    value=item,
                )
            )
        found.append(
            Measure(f"{args.finding}-{n}", text.strip(), kind=kind, cadence=cadence or None)
        )
    if args.measures_json is not None:
        found.extend(_measures_json(args))
    return found


def _measures_json(args: argparse.Namespace) -> list[Measure]:
    source = args.measures_json
    keys = ", ".join(_MEASURE_KEYS)
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise UsageError(t("cannot_read", args.lang, path=source, reason=reason)) from exc
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(t("measures_json_bad", args.lang, keys=keys, reason=exc)) from exc
    if not isinstance(items, list):
        raise UsageError(t("measures_json_bad", args.lang, keys=keys, reason="not a list"))
    found = []
    for item in items:
        if not isinstance(item, dict) or not {"id", "text"} <= set(item):
            reason = f"{item!r} needs id and text"
            raise UsageError(t("measures_json_bad", args.lang, keys=keys, reason=reason))
        unknown = sorted(set(item) - set(_MEASURE_KEYS))
        if unknown or not all(isinstance(v, str) or v is None for v in item.values()):
            reason = f"unknown key(s) {unknown}" if unknown else f"{item!r}: values are text"
            raise UsageError(t("measures_json_bad", args.lang, keys=keys, reason=reason))
        found.append(Measure(**item))
    return found


def _fire_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("finding")
    p.add_argument("event")
    p.add_argument("--actor", required=True)
    p.add_argument("--at", help="ISO-8601 time with offset (default: now)")
    p.add_argument("--note")
    p.add_argument(
        "--evidence", action="append", default=[], help="a reference; a local file is hashed"
    )
    p.add_argument("--expected-version", type=int)
    p.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="event argument, e.g. next_checkpoint=2024-03-01, deadline=…, seed=…",
    )


@command("fire", help="apply an event to a finding", arguments=_fire_arguments)
def _fire(args: argparse.Namespace) -> int:
    spec = workflow_spec(args) or DEFAULT_SPEC
    args.event = resolve("event", args.event, args.lang, spec)
    extra: dict[str, Any] = {}
    for item in args.arg:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(t("arg_bad", args.lang, value=item))
        known = event_arguments(args.event, spec)
        if known is not None and name not in known:
            raise UsageError(
                t(
                    "arg_unknown",
                    args.lang,
                    event=args.event,
                    name=name,
                    known=", ".join(sorted(known)) or "-",
                )
            )
        # the draw's seed and sample size are numbers; a seed may also be text
        numeric = name in ("seed", "k") and value.strip().lstrip("-").isdigit()
        extra[name] = int(value) if numeric else value
    with open_ledger(args) as ledger:
        finding = ledger.fire(
            args.finding,
            args.event,
            actor=args.actor,
            at=args.at,
            note=args.note,
            evidence=evidence(args.evidence),
            expected_version=args.expected_version,
            **extra,
        )
        label = ledger.workflow.state_label(finding.state, args.lang)
    out(
        args,
        unstructure(finding),
        f"{finding.id}: {label} (v{finding.version})",
    )
    return 0


def _show_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("finding")


@command("show", help="a finding and its history", arguments=_show_arguments)
def _show(args: argparse.Namespace) -> int:
    from rectflow._io.layout import finding_notes  # noqa: PLC0415

    with open_ledger(args) as ledger:
        finding = ledger.get(args.finding)
        history = ledger.history(args.finding)
        label = ledger.workflow.state_label(finding.state, args.lang)
    data = {"finding": unstructure(finding), "history": [unstructure(e) for e in history]}
    owner = f"{finding.owner.department} / {finding.owner.person}"
    lines = [
        f"{finding.id} {finding.title} [{label}] v{finding.version}",
        f"  {owner}; 整改时限 {finding.deadline}"
        if args.lang == "zh"
        else f"  {owner}; deadline {finding.deadline}",
        *finding_notes(finding, history, args.lang),
    ]
    lines += [
        f"  {e.version:>3} {e.at.isoformat()} {event_label(e.name, args.lang)} "
        f"{e.actor} {e.note or ''}".rstrip()
        for e in history
    ]
    out(args, data, "\n".join(lines))
    return 0


def _list_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--inspection", help="only this inspection's findings")
    p.add_argument(
        "--state",
        action="append",
        help="only findings in this state (repeatable), in English or Chinese (已完成整改)",
    )
    p.add_argument("--aspect", help="only findings of this aspect (方面)")
    p.add_argument("--overdue", action="store_true", help="only findings open past their deadline")
    p.add_argument("--as-of", help="as the findings stood at the end of this day (YYYY-MM-DD)")


@command("list", help="findings, optionally filtered", arguments=_list_arguments)
def _list(args: argparse.Namespace) -> int:
    spec = workflow_spec(args) or DEFAULT_SPEC
    for name in args.state or ():
        resolve("state", name, args.lang, spec)  # a typo is an error before the ledger is read
    with open_ledger(args) as ledger:
        if args.inspection is not None:
            ledger.inspection(args.inspection)  # an unknown id is an error, not an empty list
        if args.as_of is not None:
            findings = ledger.as_of(args.as_of, args.inspection)
        else:
            findings = list(ledger.findings(args.inspection))
        if args.overdue:
            agenda = ledger.agenda(as_of=args.as_of, inspection=args.inspection)
            late = {i.finding_id for i in agenda.of_kind("overdue")}
            findings = [f for f in findings if f.id in late]
        label = ledger.workflow.state_label
    if args.state:
        wanted = {resolve("state", name, args.lang, spec) for name in args.state}
        findings = [f for f in findings if f.state in wanted]
    if args.aspect is not None:
        findings = [f for f in findings if f.aspect == args.aspect]
    findings.sort(key=lambda f: id_key(f.id))  # 1.2 before 1.10
    data = [unstructure(f) for f in findings]
    text = "\n".join(
        f"{pad(f.id, 8)} {pad(label(f.state, args.lang), 16)} {f.deadline} {f.title}"
        for f in findings
    )
    out(args, data, text or t("no_findings", args.lang))
    return 0


def _history_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("finding")


@command("history", help="a finding's events, oldest first", arguments=_history_arguments)
def _history(args: argparse.Namespace) -> int:
    with open_ledger(args) as ledger:
        history = ledger.history(args.finding)
    data = [unstructure(e) for e in history]
    lines = [
        f"{e.version:>3} {e.at.isoformat()} {event_label(e.name, args.lang)} {e.actor}"
        + (f" {e.note}" if e.note else "")
        + (f" [{', '.join(e.evidence)}]" if e.evidence else "")
        + "".join(f" {k}={v}" for k, v in _payload_shown(e.name, e.payload).items())
        for e in history
    ]
    out(args, data, "\n".join(lines))
    return 0


def _payload_shown(name: str, payload: Any) -> dict[str, Any]:
    """The payload as one line shows it: an ``add`` event's measures are counted."""
    if name != "add":
        return dict(payload)
    keys = ("inspection", "aspect", "category", "kind", "deadline")
    shown = {k: payload[k] for k in keys if payload.get(k)}
    shown["measures"] = len(payload.get("measures") or ())
    return shown
