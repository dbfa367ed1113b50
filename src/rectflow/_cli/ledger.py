"""The ledger as a whole: ``init``, ``demo``, ``verify``, ``head``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rectflow._cli.app import command, is_file, key, open_ledger, out
from rectflow._cli.parser import UsageError
from rectflow._cli.words import t
from rectflow._codec import unstructure
from rectflow._views.integrity import SignedHead, parse_anchor
from rectflow.exceptions import RectflowError


@command("init", help="create the ledger (schema) if it does not exist")
def _init(args: argparse.Namespace) -> int:
    with open_ledger(args, create=True) as ledger:
        head = ledger.head()
    out(
        args, {"ledger": args.ledger, "count": head.count}, t("init", args.lang, target=args.ledger)
    )
    return 0


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fresh", action="store_true", help="delete the ledger file first")


@command("demo", help="build the seed school's ledger and report on it", arguments=_demo_arguments)
def _demo(args: argparse.Namespace) -> int:
    from rectflow._demo import load_seed, seed_data  # noqa: PLC0415

    lang = args.lang
    target = args.ledger
    if args.fresh:
        if not is_file(target):
            raise UsageError(t("fresh_url", lang, target=target))
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
    inspection_id = seed_data()["inspection"]["id"]
    with open_ledger(args, create=True) as ledger:
        if any(i.id == inspection_id for i in ledger.inspections()):
            raise UsageError(t("demo_exists", lang, target=target, id=inspection_id))
        if ledger.head().count or ledger.inspections():
            raise UsageError(t("demo_not_empty", lang, target=target))
        seed = load_seed(ledger)
        report = ledger.report(seed.inspection, as_of=seed.report_as_of, lang=lang)
        figures = report.to_dict()
        checks = {
            name: (figures[name], seed.summary[name])
            for name in ("completed", "staged", "rules_adopted", "plans_adopted")
            if name in seed.summary
        }
        agenda = ledger.agenda(as_of=seed.report_as_of, upcoming=8)
        head = ledger.head()
        if args.json:
            out(
                args,
                {
                    "report": figures,
                    "checks": checks,
                    "agenda": agenda.to_dict(),
                    "head": list(head),
                },
                "",
            )
        else:
            print(report.to_markdown(lang))
            print(f"## {t('check', lang)}\n")
            for name, (got, want) in checks.items():
                print(f"- {name}: {got} {'=' if got == want else '≠'} {want}")
            print()
            print(agenda.to_text(lang))
            print(f"head: {head.count}:{head.hash}")
        return 0 if all(got == want for got, want in checks.values()) else 1


def _verify_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--anchor", help="a head kept earlier, COUNT:HASH or COUNT:HASH:MAC")
    p.add_argument("--key-file", help="the HMAC key a signed anchor is checked with")
    p.add_argument("--evidence-dir", help="re-hash the evidence files kept in this folder")


@command(
    "verify",
    help="check the hash chain and replay every finding",
    arguments=_verify_arguments,
)
def _verify(args: argparse.Namespace) -> int:
    anchor = _parse_anchor(args.anchor, args.lang)
    hmac_key = key(args)
    if args.evidence_dir is not None and not Path(args.evidence_dir).is_dir():
        raise UsageError(t("no_dir", args.lang, path=args.evidence_dir))
    with open_ledger(args) as ledger:
        result = ledger.verify(anchor=anchor, key=hmac_key, evidence_dir=args.evidence_dir)
    data = {
        "ok": result.ok,
        "count": result.count,
        "head": f"{result.head.count}:{result.head.hash}",
        "problems": [unstructure(p) for p in result.problems],
    }
    if result.ok:
        text = t("verify_ok", args.lang, count=result.count, hash=result.head.hash)
    else:
        lines = [t("verify_bad", args.lang, n=len(result.problems))]
        lines += [
            f"  #{p.position} {p.kind} {p.finding_id or ''}: {p.detail}" for p in result.problems
        ]
        text = "\n".join(lines)
    out(args, data, text)
    return 0 if result.ok else 1


def _parse_anchor(text: str | None, lang: str) -> SignedHead | None:
    if text is None:
        return None
    try:
        return parse_anchor(text, lang)
    except RectflowError:
        raise UsageError(t("anchor_bad", lang)) from None


def _head_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--key-file", help="sign the head with the HMAC key in this file (COUNT:HASH:MAC)"
    )


@command(
    "head",
    help="print the chain head (COUNT:HASH) to keep elsewhere",
    arguments=_head_arguments,
)
def _head(args: argparse.Namespace) -> int:
    hmac_key = key(args)
    with open_ledger(args) as ledger:
        head = ledger.signed_head(hmac_key) if hmac_key is not None else SignedHead(*ledger.head())
    data: dict[str, Any] = {"count": head.count, "hash": head.hash}
    if head.mac is not None:
        data["mac"] = head.mac
    out(args, data, str(head))
    return 0
