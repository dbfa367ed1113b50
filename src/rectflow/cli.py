"""The ``rectflow`` command line.

Every command takes ``--ledger PATH_OR_URL`` (default ``./rectflow.db``, or the
``RECTFLOW_LEDGER`` environment variable), ``--lang zh|en`` and ``--json``.
Exit codes: 0 success, 1 a check failed (``verify``), 2 bad input or a
refused event; user mistakes never print a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rectflow._codec import unstructure
from rectflow._ledger import Ledger
from rectflow._policy import PACKS, load_policy
from rectflow._views.integrity import SignedHead, hash_evidence, parse_anchor
from rectflow._workflow import PAYLOAD_KEYS, state_label
from rectflow.exceptions import RectflowError

__all__ = ["main"]

DEFAULT_LEDGER = "rectflow.db"

_T = {
    "init": ("已初始化台账: {target}", "ledger initialised: {target}"),
    "verify_ok": (
        "校验通过: {count} 条事件, 链首哈希 {hash}",
        "ledger verified: {count} events, head {hash}",
    ),
    "verify_bad": ("校验失败: 发现 {n} 处问题", "verification FAILED: {n} problem(s)"),
    "demo_exists": (
        "台账 {target} 中已有巡察 {id}; 加 --fresh 重新生成, 或用 --ledger 指定另一个文件",
        (
            "the ledger {target} already has inspection {id}; pass --fresh to rebuild it, "
            "or choose another --ledger"
        ),
    ),
    "fresh_url": (
        "--fresh 只能用于台账文件, 不能用于 {target}",
        "--fresh only works on a ledger file, not on {target}",
    ),
    "check": ("与报告原文核对", "checked against the report's own figures"),
    "agenda_title": ("待办事项(截至 {as_of})", "Agenda as of {as_of}"),
    "agenda_empty": ("无待办事项", "nothing on the agenda"),
    "no_ledger": (
        "台账 {target} 不存在; 用 rectflow init 创建, 或用 --ledger 指定已有的台账",
        "no ledger at {target}; create one with `rectflow init` or use an existing --ledger",
    ),
    "demo_not_empty": (
        "台账 {target} 中已有数据, 演示数据不写入正式台账; 加 --fresh 重建, 或换一个 --ledger",
        (
            "the ledger {target} already holds data and the demo will not write into it; "
            "pass --fresh to rebuild the file, or choose another --ledger"
        ),
    ),
    "arg_unknown": (
        "事件 {event} 没有参数 {name!r}(可用: {known})",
        "event {event} takes no argument {name!r} (known: {known})",
    ),
    "anchor_bad": (
        "--anchor 应写作 COUNT:HASH 或 COUNT:HASH:MAC",
        "--anchor must be COUNT:HASH or COUNT:HASH:MAC",
    ),
    "no_key_file": ("无法读取密钥文件 {path}: {error}", "cannot read the key file {path}: {error}"),
    "no_dir": ("证据目录 {path} 不存在", "no evidence folder {path}"),
    "actor_added": ("已登记 {name}: {roles}", "registered {name}: {roles}"),
    "role_revoked": ("已撤销 {name} 的角色 {role}", "revoked role {role} of {name}"),
    "report_submitted": (
        "巡察 {inspection} 的整改报告已报送 ({at})",
        "the report of inspection {inspection} was submitted ({at})",
    ),
    "arg_bad": ("--arg 应写作 KEY=VALUE: {value!r}", "--arg must be KEY=VALUE: {value!r}"),
}


def _t(key: str, lang: str, /, **fields: Any) -> str:
    zh, en = _T[key]
    return (en if lang == "en" else zh).format(**fields)


def _common(*, defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command (after it, they override)."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--ledger",
        default=default(os.environ.get("RECTFLOW_LEDGER", DEFAULT_LEDGER)),
        help="ledger file, ':memory:' or postgresql:// URL "
        "(default: $RECTFLOW_LEDGER or ./rectflow.db)",
    )
    common.add_argument(
        "--lang", choices=("zh", "en"), default=default(os.environ.get("RECTFLOW_LANG", "zh"))
    )
    common.add_argument(
        "--policy",
        default=default(None),
        help=f"a policy TOML file or a shipped pack ({', '.join(PACKS)}); default xuncha",
    )
    common.add_argument(
        "--json", action="store_true", default=default(value=False), help="machine-readable output"
    )
    return common


def _parser() -> argparse.ArgumentParser:
    top, common = _common(defaults=True), _common(defaults=False)
    p = argparse.ArgumentParser(
        prog="rectflow", description="Rectification (整改) ledgers.", parents=[top]
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init", parents=[common], help="create the ledger (schema) if it does not exist")
    d = sub.add_parser(
        "demo", parents=[common], help="build the seed school's ledger and report on it"
    )
    d.add_argument("--fresh", action="store_true", help="delete the ledger file first")
    v = sub.add_parser(
        "verify", parents=[common], help="check the hash chain and replay every finding"
    )
    v.add_argument("--anchor", help="a head kept earlier, COUNT:HASH or COUNT:HASH:MAC")
    v.add_argument("--key-file", help="the HMAC key a signed anchor is checked with")
    v.add_argument("--evidence-dir", help="re-hash the evidence files kept in this folder")
    h = sub.add_parser(
        "head", parents=[common], help="print the chain head (COUNT:HASH) to keep elsewhere"
    )
    h.add_argument(
        "--key-file", help="sign the head with the HMAC key in this file (COUNT:HASH:MAC)"
    )
    _add_role_commands(sub, common)
    r = sub.add_parser("report", parents=[common], help="the progress report of an inspection")
    r.add_argument("inspection")
    r.add_argument("--as-of", help="a day YYYY-MM-DD (default: today)")
    a = sub.add_parser(
        "agenda", parents=[common], help="what is overdue, due soon or to be looked back at"
    )
    a.add_argument("--as-of", help="a day YYYY-MM-DD (default: today)")
    a.add_argument("--inspection")
    a.add_argument(
        "--upcoming",
        type=int,
        default=0,
        metavar="N",
        help="also list the next N dates falling due",
    )
    s = sub.add_parser("show", parents=[common], help="a finding and its history")
    s.add_argument("finding")
    ls = sub.add_parser("list", parents=[common], help="findings, optionally filtered")
    ls.add_argument("--inspection")
    ls.add_argument("--state")
    f = sub.add_parser("fire", parents=[common], help="apply an event to a finding")
    f.add_argument("finding")
    f.add_argument("event")
    f.add_argument("--actor", required=True)
    f.add_argument("--at", help="ISO-8601 time with offset (default: now)")
    f.add_argument("--note")
    f.add_argument(
        "--evidence", action="append", default=[], help="a reference; a local file is hashed"
    )
    f.add_argument("--expected-version", type=int)
    f.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="event argument, e.g. next_checkpoint=2024-03-01, deadline=…, seed=…",
    )
    return p


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _is_file(target: str) -> bool:
    return target != ":memory:" and "://" not in target


def _open(args: argparse.Namespace, *, create: bool = False) -> Ledger:
    """Open the ledger; only ``init`` and ``demo`` may create a file that is not there."""
    if not create and _is_file(args.ledger) and not Path(args.ledger).exists():
        raise _UsageError(_t("no_ledger", args.lang, target=args.ledger))
    policy = load_policy(args.policy) if args.policy else None
    return Ledger.open(args.ledger, policy=policy, lang=args.lang)


def _cmd_demo(args: argparse.Namespace) -> int:
    from rectflow._demo import load_seed, seed_data  # noqa: PLC0415

    lang = args.lang
    target = args.ledger
    if args.fresh:
        if not _is_file(target):
            raise _UsageError(_t("fresh_url", lang, target=target))
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
    inspection_id = seed_data()["inspection"]["id"]
    with _open(args, create=True) as ledger:
        if any(i.id == inspection_id for i in ledger.inspections()):
            raise _UsageError(_t("demo_exists", lang, target=target, id=inspection_id))
        if ledger.head().count or ledger.inspections():
            raise _UsageError(_t("demo_not_empty", lang, target=target))
        seed = load_seed(ledger)
        report = ledger.report(seed.inspection, as_of=seed.report_as_of, lang=lang)
        figures = report.to_dict()
        checks = {
            key: (figures[key], seed.summary[key])
            for key in ("completed", "staged", "rules_adopted", "plans_adopted")
            if key in seed.summary
        }
        agenda = ledger.agenda(as_of=seed.report_as_of, upcoming=8)
        head = ledger.head()
        if args.json:
            _out(
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
            print(f"## {_t('check', lang)}\n")
            for key, (got, want) in checks.items():
                print(f"- {key}: {got} {'=' if got == want else '≠'} {want}")
            print()
            print(agenda.to_text(lang))
            print(f"head: {head.count}:{head.hash}")
        return 0 if all(got == want for got, want in checks.values()) else 1


def _parse_anchor(text: str | None, lang: str) -> SignedHead | None:
    if text is None:
        return None
    try:
        return parse_anchor(text, lang)
    except RectflowError:
        raise _UsageError(_t("anchor_bad", lang)) from None


def _cmd_verify(args: argparse.Namespace) -> int:
    anchor = _parse_anchor(args.anchor, args.lang)
    key = _key(args)
    if args.evidence_dir is not None and not Path(args.evidence_dir).is_dir():
        raise _UsageError(_t("no_dir", args.lang, path=args.evidence_dir))
    with _open(args) as ledger:
        result = ledger.verify(anchor=anchor, key=key, evidence_dir=args.evidence_dir)
    data = {
        "ok": result.ok,
        "count": result.count,
        "head": f"{result.head.count}:{result.head.hash}",
        "problems": [unstructure(p) for p in result.problems],
    }
    if result.ok:
        text = _t("verify_ok", args.lang, count=result.count, hash=result.head.hash)
    else:
        lines = [_t("verify_bad", args.lang, n=len(result.problems))]
        lines += [
            f"  #{p.position} {p.kind} {p.finding_id or ''}: {p.detail}" for p in result.problems
        ]
        text = "\n".join(lines)
    _out(args, data, text)
    return 0 if result.ok else 1


def _cmd_fire(args: argparse.Namespace) -> int:
    extra: dict[str, Any] = {}
    for item in args.arg:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _UsageError(_t("arg_bad", args.lang, value=item))
        known = PAYLOAD_KEYS.get(args.event)
        if known is not None and key not in known:
            raise _UsageError(
                _t(
                    "arg_unknown",
                    args.lang,
                    event=args.event,
                    name=key,
                    known=", ".join(sorted(known)) or "-",
                )
            )
        extra[key] = int(value) if key == "seed" and value.lstrip("-").isdigit() else value
    with _open(args) as ledger:
        finding = ledger.fire(
            args.finding,
            args.event,
            actor=args.actor,
            at=args.at,
            note=args.note,
            evidence=_evidence(args.evidence),
            expected_version=args.expected_version,
            **extra,
        )
    _out(
        args,
        unstructure(finding),
        f"{finding.id}: {state_label(finding.state, args.lang)} (v{finding.version})",
    )
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        finding = ledger.get(args.finding)
        history = ledger.history(args.finding)
    data = {"finding": unstructure(finding), "history": [unstructure(e) for e in history]}
    label = state_label(finding.state, args.lang)
    lines = [
        f"{finding.id} {finding.title} [{label}] v{finding.version}",
        f"  {finding.owner.department} / {finding.owner.person}; deadline {finding.deadline}",
    ]
    lines += [
        f"  {e.version:>3} {e.at.isoformat()} {e.name:<15} {e.actor} {e.note or ''}"
        for e in history
    ]
    _out(args, data, "\n".join(lines))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        findings = list(ledger.findings(args.inspection, state=args.state))
    data = [unstructure(f) for f in findings]
    text = "\n".join(
        f"{f.id:<8} {state_label(f.state, args.lang):<10} {f.deadline} {f.title}" for f in findings
    )
    _out(args, data, text)
    return 0


class _UsageError(Exception):
    pass


# -- who may do what, signed heads, hashed evidence (issue 8)

KEY_ENV = "RECTFLOW_HEAD_KEY"
"""The environment variable an HMAC key for heads is read from when no --key-file is given."""


def _add_role_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    aa = sub.add_parser("add-actor", parents=[common], help="register an actor with roles")
    aa.add_argument("name")
    aa.add_argument(
        "--role", action="append", required=True, help="inspector, leader, owner or checker"
    )
    aa.add_argument("--inspection", help="the inspection the roles apply to (default: all)")
    aa.add_argument("--actor", help="who registers them (required once actors exist)")
    aa.add_argument("--at", help="ISO-8601 time with offset (default: now)")
    aa.add_argument("--note")
    rr = sub.add_parser("revoke-role", parents=[common], help="revoke an actor's role")
    rr.add_argument("name")
    rr.add_argument("role")
    rr.add_argument("--inspection")
    rr.add_argument("--actor", required=True)
    rr.add_argument("--at")
    rr.add_argument("--note")
    sr = sub.add_parser(
        "submit-report", parents=[common], help="record that an inspection's report was submitted"
    )
    sr.add_argument("inspection")
    sr.add_argument("--actor", required=True)
    sr.add_argument(
        "--evidence", action="append", required=True, help="the report; a local file is hashed"
    )
    sr.add_argument("--at")
    sr.add_argument("--note")


def _key(args: argparse.Namespace) -> bytes | None:
    """The HMAC key from --key-file, else from $RECTFLOW_HEAD_KEY, else None."""
    if args.key_file is not None:
        try:
            return Path(args.key_file).read_bytes().strip()
        except OSError as exc:
            raise _UsageError(
                _t("no_key_file", args.lang, path=args.key_file, error=exc.strerror)
            ) from exc
    value = os.environ.get(KEY_ENV)
    return value.encode("utf-8") if value else None


def _evidence(refs: Sequence[str]) -> list[str]:
    """Evidence references, a local file replaced by its hashed reference."""
    return [hash_evidence(r) if Path(r).is_file() else r for r in refs]


def _cmd_head(args: argparse.Namespace) -> int:
    key = _key(args)
    with _open(args) as ledger:
        head = ledger.signed_head(key) if key is not None else SignedHead(*ledger.head())
    data: dict[str, Any] = {"count": head.count, "hash": head.hash}
    if head.mac is not None:
        data["mac"] = head.mac
    _out(args, data, str(head))
    return 0


def _cmd_add_actor(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        actor = ledger.add_actor(
            args.name,
            roles=args.role,
            inspection=args.inspection,
            actor=args.actor,
            at=args.at,
            note=args.note,
        )
        grants = [unstructure(g) for g in ledger.grants(actor.name)]
    roles = ", ".join(sorted(args.role))
    _out(
        args,
        {"actor": unstructure(actor), "grants": grants},
        _t("actor_added", args.lang, name=actor.name, roles=roles),
    )
    return 0


def _cmd_revoke_role(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        ledger.revoke_role(
            args.name,
            args.role,
            inspection=args.inspection,
            actor=args.actor,
            at=args.at,
            note=args.note,
        )
        grants = [unstructure(g) for g in ledger.grants(args.name)]
    _out(
        args,
        {"name": args.name, "grants": grants},
        _t("role_revoked", args.lang, name=args.name, role=args.role),
    )
    return 0


def _cmd_submit_report(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        inspection = ledger.submit_report(
            args.inspection,
            actor=args.actor,
            evidence=_evidence(args.evidence),
            at=args.at,
            note=args.note,
        )
    _out(
        args,
        unstructure(inspection),
        _t(
            "report_submitted",
            args.lang,
            inspection=inspection.id,
            at=inspection.report_submitted_at,
        ),
    )
    return 0


_ROLE_COMMANDS = {
    "add-actor": _cmd_add_actor,
    "revoke-role": _cmd_revoke_role,
    "submit-report": _cmd_submit_report,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    lang = args.lang
    try:
        if args.command == "init":
            with _open(args, create=True) as ledger:
                head = ledger.head()
            _out(
                args,
                {"ledger": args.ledger, "count": head.count},
                _t("init", lang, target=args.ledger),
            )
            return 0
        if args.command == "demo":
            return _cmd_demo(args)
        if args.command == "verify":
            return _cmd_verify(args)
        if args.command == "head":
            return _cmd_head(args)
        if args.command in _ROLE_COMMANDS:
            return _ROLE_COMMANDS[args.command](args)
        if args.command == "report":
            with _open(args) as ledger:
                report = ledger.report(args.inspection, as_of=args.as_of, lang=lang)
            if args.json:
                print(report.to_json())
            else:
                print(report.to_markdown(lang))
            return 0
        if args.command == "agenda":
            with _open(args) as ledger:
                agenda = ledger.agenda(
                    as_of=args.as_of, inspection=args.inspection, upcoming=args.upcoming
                )
            if args.json:
                print(json.dumps(agenda.to_dict(), ensure_ascii=False, indent=2))
            else:
                print(agenda.to_text(lang))
            return 0
        if args.command == "fire":
            return _cmd_fire(args)
        if args.command == "show":
            return _cmd_show(args)
        if args.command == "list":
            return _cmd_list(args)
    except (RectflowError, _UsageError) as exc:
        _error(args, exc)
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


def _error(args: argparse.Namespace, exc: Exception) -> None:
    data = {"error": type(exc).__name__, "message": str(exc)}
    for attr in (
        "rule",
        "finding_id",
        "field",
        "expected",
        "actual",
        "state",
        "event",
        "actor",
        "needed",
    ):
        if hasattr(exc, attr):
            data[attr] = getattr(exc, attr)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str), file=sys.stderr)
    else:
        print(f"rectflow: {exc}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
