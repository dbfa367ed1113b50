"""The ``rectflow`` command line.

Every command takes ``--ledger PATH_OR_URL`` (default ``./rectflow.db``, or the
``RECTFLOW_LEDGER`` environment variable), ``--lang zh|en`` and ``--json``.
Exit codes: 0 success, 1 a check failed (``verify``, ``demo``), 2 bad input or a
refused event; user mistakes never print a traceback: one line on stderr
(``rectflow: …``), or with ``--json`` an object with ``error`` (the exception's
class), ``message`` and its structured fields.

With ``--json`` each command prints one JSON document with stable keys:

* ``init``: ``ledger``, ``count``; ``head``: ``count``, ``hash``;
* ``verify``: ``ok``, ``count``, ``head``, ``problems``;
* ``report``: the report's data (``Report.json_schema()``, ``schema_version``);
* ``agenda``: ``as_of``, ``timezone``, ``inspections``, ``upcoming`` (``Agenda.to_dict``);
* ``add-inspection``, ``change-inspection``: the inspection (``id``, ``title``, ``feedback_at``,
  ``declared_findings``, ``created_at``, ``report_submitted_at``, ``unit``);
* ``add``, ``fire``: the finding after the event (the ``Finding`` record's fields);
* ``show``: ``finding``, ``history``; ``history``: a list of events (``finding_id``,
  ``name``, ``at``, ``actor``, ``note``, ``evidence``, ``payload``, ``version``);
* ``list``: a list of findings;
* ``diagram``: ``format``, ``diagram``;
* with ``-o FILE`` (``report``, ``agenda``, ``diagram``): ``output``, ``format``, ``bytes``.

:func:`build_parser` returns the parser (the docs generate the CLI reference from it).

argparse's own words (``usage:``, the ``--help`` headings, usage errors) follow the
language of the rest: ``--lang`` wherever it stands on the command line, else
``RECTFLOW_LANG``, else Chinese.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from rectflow._codec import unstructure
from rectflow._io.update import UpdateSummary
from rectflow._ledger import Ledger
from rectflow._model import (
    CADENCES,
    FINDING_KINDS,
    MEASURE_KINDS,
    STATE_LABELS,
    STATES,
    Inspection,
    Measure,
    Owner,
    id_key,
)
from rectflow._policy import PACKS, load_policy
from rectflow._render import diagram as _diagram
from rectflow._views.integrity import SignedHead, hash_evidence, parse_anchor
from rectflow._workflow import EVENT_LABELS, PAYLOAD_KEYS, state_label
from rectflow.exceptions import RectflowError

__all__ = ["build_parser", "main"]

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
    # review fixes: file-system errors of any command
    "os_error": ("无法访问 {path}: {reason}", "cannot access {path}: {reason}"),
    # issue 9: report, agenda, add-inspection, add, history, list, diagram
    "which_inspection": (
        "请指定巡察编号(台账中有: {known})",
        "name the inspection (the ledger has: {known})",
    ),
    "no_inspection": (
        "台账中还没有巡察; 先用 rectflow add-inspection 添加",
        "the ledger has no inspection yet; add one with `rectflow add-inspection`",
    ),
    "written": ("已写入 {path}({n} 字节)", "written to {path} ({n} bytes)"),
    "cannot_write": ("无法写入 {path}: {reason}", "cannot write {path}: {reason}"),
    "cannot_read": ("无法读取 {path}: {reason}", "cannot read {path}: {reason}"),
    "ics_needs_file": (
        "日历格式请用 -o 指定输出文件, 或用 -o - 输出到标准输出",
        "write the calendar to a file with -o FILE (or -o - for standard output)",
    ),
    "measure_bad": (
        "--measure 应写作 KIND[/CADENCE]:TEXT(KIND: {kinds}; CADENCE: {cadences}): {value!r}",
        "--measure must be KIND[/CADENCE]:TEXT (KIND: {kinds}; CADENCE: {cadences}): {value!r}",
    ),
    "measures_json_bad": (
        "--measures-json 应为措施对象的 JSON 列表(键: {keys}): {reason}",
        "--measures-json must be a JSON list of measure objects (keys: {keys}): {reason}",
    ),
    "declared_bad": (
        "--declared 应为不小于 0 的整数: {value!r}",
        "--declared must be a whole number ≥ 0: {value!r}",
    ),
    "no_findings": ("没有符合条件的问题", "no finding matches"),
    # issue 14: states and events named in the office's language
    "unknown_state": (
        "未知的状态 {value!r}; 可用: {known}",
        "unknown state {value!r}; known: {known}",
    ),
    "unknown_state_hint": (
        "未知的状态 {value!r}; 您是不是要找: {hint}?",
        "unknown state {value!r}; did you mean: {hint}?",
    ),
    "unknown_event": (
        "未知的事件 {value!r}; 可用: {known}",
        "unknown event {value!r}; known: {known}",
    ),
    "unknown_event_hint": (
        "未知的事件 {value!r}; 您是不是要找: {hint}?",
        "unknown event {value!r}; did you mean: {hint}?",
    ),
    "svg_needs_graphviz": (
        "SVG 图需要 graphviz 组件: pip install 'rectflow[graphviz]', 并安装 Graphviz 的 dot 程序",
        "SVG needs the graphviz extra (pip install 'rectflow[graphviz]') and Graphviz's dot",
    ),
}


def _t(key: str, lang: str, /, **fields: Any) -> str:
    zh, en = _T[key]
    return (en if lang == "en" else zh).format(**fields)


_ARGPARSE_ZH: Final = {
    "usage: ": "用法: ",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",  # Python 3.9 called them so
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s: 错误: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s: %(message)s",
    "the following arguments are required: %s": "缺少必需的参数: %s",
    "unrecognized arguments: %s": "无法识别的参数: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "无效的选择 %(value)r(可选: %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值 %(value)r",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多接受一个值",
    "expected at least one argument": "至少需要一个值",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "多余的值 %r",
    "ambiguous option: %(option)s could match %(matches)s": (
        "选项 %(option)s 不明确, 可能是: %(matches)s"
    ),
    "one of the arguments %s is required": "须给出参数 %s 之一",
    "unexpected option string: %s": "意外的选项 %s",
}
"""argparse's messages (its gettext message ids) in Chinese; English is argparse's own."""


def _argparse_gettext(lang: str) -> tuple[Callable[[str], str], Callable[[str, str, int], str]]:
    """The ``_`` and ``ngettext`` argparse translates with, for *lang*."""
    if lang != "zh":
        return (lambda text: text), (lambda one, many, n: one if n == 1 else many)

    def gettext(text: str) -> str:
        return _ARGPARSE_ZH.get(text, text)

    def ngettext(one: str, many: str, n: int) -> str:
        if one == "expected %s argument":
            return "需要 %s 个值"
        return one if n == 1 else many

    return gettext, ngettext


@contextlib.contextmanager
def _argparse_in(lang: str) -> Iterator[None]:
    """Argparse speaking *lang* while parsers are built, parse and print.

    argparse translates through gettext's ``_`` and ``ngettext`` looked up in its
    module when each message is made; they are swapped for the catalogue above and
    put back afterwards (the command line runs on one thread).
    """
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = _argparse_gettext(lang)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def _lang_of(argv: Sequence[str]) -> str:
    """The language a command line asks for, before it is parsed (the last ``--lang`` wins)."""
    lang = os.environ.get("RECTFLOW_LANG", "zh")
    for i, arg in enumerate(argv):
        if arg.startswith("--lang="):
            lang = arg.partition("=")[2]
        elif arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg == "--":
            break
    return lang if lang in ("zh", "en") else "zh"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (usage, headings, errors) are in one language."""

    def __init__(self, *args: Any, lang: str = "zh", **kwargs: Any) -> None:
        self.lang = lang
        with _argparse_in(lang):
            super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any) -> Any:
        """Subcommands' parsers speak the same language."""
        kwargs.setdefault("parser_class", _parser_class(self.lang))
        with _argparse_in(self.lang):
            return super().add_subparsers(**kwargs)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        """Parse, argparse's errors and ``--help`` in the parser's language."""
        with _argparse_in(self.lang):
            return super().parse_known_args(*args, **kwargs)

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:
        """Parse (unrecognized arguments are reported here, after the known ones)."""
        with _argparse_in(self.lang):
            return super().parse_args(*args, **kwargs)

    def error(self, message: str) -> Any:
        """The usage line and ``prog: 错误: message`` on stderr; exit 2."""
        with _argparse_in(self.lang):
            return super().error(message)

    def format_usage(self) -> str:
        """The usage line (``用法:`` in Chinese)."""
        with _argparse_in(self.lang):
            return super().format_usage()

    def format_help(self) -> str:
        """The help text, its headings in the parser's language."""
        with _argparse_in(self.lang):
            return super().format_help()


def _parser_class(lang: str) -> Callable[..., _Parser]:
    def make(*args: Any, **kwargs: Any) -> _Parser:
        return _Parser(*args, lang=lang, **kwargs)

    return make


def _common(*, defaults: bool, lang: str) -> argparse.ArgumentParser:
    """Options accepted before and after the command (after it, they override)."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    common = _Parser(add_help=False, lang=lang)  # its headings merge with the command's
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


def _parser(lang: str = "en") -> argparse.ArgumentParser:
    top, common = _common(defaults=True, lang=lang), _common(defaults=False, lang=lang)
    p = _Parser(
        prog="rectflow", description="Rectification (整改) ledgers.", parents=[top], lang=lang
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
    r.add_argument(
        "inspection", nargs="?", help="the inspection's id (default: the ledger's only one)"
    )
    r.add_argument("--as-of", help="a day YYYY-MM-DD (default: today)")
    r.add_argument(
        "--format",
        choices=("md", "html", "json"),
        help="Markdown (default), a self-contained HTML page, or JSON (= --json)",
    )
    r.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    r.add_argument(
        "--no-charts", action="store_true", help="HTML without charts (faster; no matplotlib)"
    )
    a = sub.add_parser(
        "agenda", parents=[common], help="what is overdue, due soon or to be looked back at"
    )
    a.add_argument("--as-of", help="a day YYYY-MM-DD (default: today)")
    a.add_argument("--inspection")
    a.add_argument(
        "--upcoming",
        type=int,
        default=None,
        metavar="N",
        help="also list the next N dates falling due (default: all of them for --format ics)",
    )
    a.add_argument(
        "--format",
        choices=("text", "json", "ics"),
        help="text (default), JSON (= --json) or an iCalendar file (with -o)",
    )
    a.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE ('-' for stdout) instead of stdout"
    )
    s = sub.add_parser("show", parents=[common], help="a finding and its history")
    s.add_argument("finding")
    ls = sub.add_parser("list", parents=[common], help="findings, optionally filtered")
    ls.add_argument("--inspection", help="only this inspection's findings")
    ls.add_argument(
        "--state",
        action="append",
        help="only findings in this state (repeatable), in English or Chinese (已完成整改)",
    )
    ls.add_argument("--aspect", help="only findings of this aspect (方面)")
    ls.add_argument("--overdue", action="store_true", help="only findings open past their deadline")
    ls.add_argument("--as-of", help="as the findings stood at the end of this day (YYYY-MM-DD)")
    hi = sub.add_parser("history", parents=[common], help="a finding's events, oldest first")
    hi.add_argument("finding")
    ai = sub.add_parser("add-inspection", parents=[common], help="put an inspection on the ledger")
    ai.add_argument("inspection", help="its id, e.g. R1")
    ai.add_argument("--title", required=True)
    ai.add_argument("--feedback-at", required=True, help="the feedback day, YYYY-MM-DD")
    ai.add_argument("--declared", help="how many problems the feedback declared")
    ai.add_argument("--at", help="when it is recorded, ISO-8601 with offset (default: now)")
    ai.add_argument("--actor", help="who records it (required once actors exist)")
    ai.add_argument("--unit", help="the unit that reports (填报单位), signed under the report")
    ci = sub.add_parser(
        "change-inspection",
        parents=[common],
        help="change an inspection's declared count or feedback day, with a reason",
    )
    ci.add_argument("inspection", help="its id, e.g. R1")
    ci.add_argument("--reason", required=True, help="why it changes")
    ci.add_argument("--declared", help="the new number of problems the feedback declared")
    ci.add_argument("--feedback-at", help="the new feedback day, YYYY-MM-DD")
    ci.add_argument("--actor", help="who changes it (required once actors exist)")
    ci.add_argument("--at", help="when, ISO-8601 with offset (default: now)")
    ci.add_argument("--unit", help="the new unit that reports (填报单位)")
    af = sub.add_parser("add", parents=[common], help="put a finding (and its measures) on it")
    af.add_argument("finding", help="its id, e.g. 1.1.1")
    af.add_argument("--inspection", required=True)
    af.add_argument("--title", required=True)
    af.add_argument("--kind", default="deadline", choices=FINDING_KINDS)
    af.add_argument("--aspect", default="", help="the aspect (方面) it belongs to")
    af.add_argument("--category", default="", help="the category (类别) within the aspect")
    af.add_argument("--leader", required=True, help="责任领导")
    af.add_argument("--department", required=True, help="责任部门")
    af.add_argument("--person", required=True, help="责任人")
    af.add_argument(
        "--deadline",
        required=True,
        help="a day (2024-01-31) or a period after feedback ('2 months', '10个工作日')",
    )
    af.add_argument(
        "--measure",
        action="append",
        default=[],
        metavar="KIND[/CADENCE]:TEXT",
        help="a measure, e.g. recurring/monthly:每月开展一次排查 (ids FINDING-1, -2 …)",
    )
    af.add_argument(
        "--measures-json",
        metavar="FILE",
        help="measures as a JSON list of objects (id, text, kind, owner, cadence, document, "
        "document_type); '-' reads stdin",
    )
    af.add_argument(
        "--not-itemized", action="store_true", help="counted in the feedback but not described"
    )
    af.add_argument("--actor", required=True)
    af.add_argument("--at", help="ISO-8601 time with offset (default: now)")
    dg = sub.add_parser(
        "diagram", parents=[common], help="the workflow's state machine, guards included"
    )
    dg.add_argument(
        "--format",
        choices=("mermaid", "dot", "svg"),
        default="mermaid",
        help="mermaid text (default), Graphviz DOT, or SVG (the graphviz extra)",
    )
    dg.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
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
    _file_commands(sub, common)
    return p


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The ``rectflow`` argument parser (every command and option, with its help).

    Args:
        lang: The language of argparse's own words: ``usage:``, the headings of
            ``--help`` and usage errors (``"zh"`` or ``"en"``).
    """
    return _parser(lang)


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
    args.event = _resolve("event", args.event, args.lang)
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
        # the draw's seed and sample size are numbers; a seed may also be text
        numeric = key in ("seed", "k") and value.strip().lstrip("-").isdigit()
        extra[key] = int(value) if numeric else value
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
    from rectflow._io.layout import finding_notes  # noqa: PLC0415

    with _open(args) as ledger:
        finding = ledger.get(args.finding)
        history = ledger.history(args.finding)
    data = {"finding": unstructure(finding), "history": [unstructure(e) for e in history]}
    label = state_label(finding.state, args.lang)
    owner = f"{finding.owner.department} / {finding.owner.person}"
    lines = [
        f"{finding.id} {finding.title} [{label}] v{finding.version}",
        f"  {owner}; 整改时限 {finding.deadline}"
        if args.lang == "zh"
        else f"  {owner}; deadline {finding.deadline}",
        *finding_notes(finding, history, args.lang),
    ]
    lines += [
        f"  {e.version:>3} {e.at.isoformat()} {_event_label(e.name, args.lang)} "
        f"{e.actor} {e.note or ''}".rstrip()
        for e in history
    ]
    _out(args, data, "\n".join(lines))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    for name in args.state or ():
        _resolve("state", name, args.lang)  # a typo is an error before the ledger is read
    with _open(args) as ledger:
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
    if args.state:
        wanted = {_resolve("state", name, args.lang) for name in args.state}
        findings = [f for f in findings if f.state in wanted]
    if args.aspect is not None:
        findings = [f for f in findings if f.aspect == args.aspect]
    findings.sort(key=lambda f: id_key(f.id))  # 1.2 before 1.10
    data = [unstructure(f) for f in findings]
    text = "\n".join(
        f"{_pad(f.id, 8)} {_pad(state_label(f.state, args.lang), 16)} {f.deadline} {f.title}"
        for f in findings
    )
    _out(args, data, text or _t("no_findings", args.lang))
    return 0


def _pad(text: str, width: int) -> str:
    """*text* padded to *width* terminal columns (a CJK character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 0)


def _emit(args: argparse.Namespace, text: str, fmt: str) -> None:
    """Print *text*, or write it to ``-o FILE`` and say so (a JSON object with --json)."""
    if args.output is None or args.output == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    path = Path(args.output)
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise _UsageError(
            _t("cannot_write", args.lang, path=path, reason=exc.strerror or exc)
        ) from exc
    size = len(text.encode("utf-8"))
    data = {"output": str(path), "format": fmt, "bytes": size}
    _out(args, data, _t("written", args.lang, path=path, n=size))


def _inspection_id(args: argparse.Namespace, ledger: Ledger) -> str:
    """The inspection named, or the ledger's only one."""
    if args.inspection is not None:
        return str(args.inspection)
    known = [i.id for i in ledger.inspections()]
    if len(known) == 1:
        return known[0]
    if not known:
        raise _UsageError(_t("no_inspection", args.lang))
    raise _UsageError(_t("which_inspection", args.lang, known=", ".join(known)))


def _cmd_report(args: argparse.Namespace) -> int:
    fmt = args.format or ("json" if args.json else "md")
    with _open(args) as ledger:
        report = ledger.report(_inspection_id(args, ledger), as_of=args.as_of, lang=args.lang)
    if fmt == "json":
        text = report.to_json()
    elif fmt == "html":
        text = report.to_html(args.lang, charts=not args.no_charts)
    else:
        text = report.to_markdown(args.lang)
    _emit(args, text, fmt)
    return 0


def _cmd_agenda(args: argparse.Namespace) -> int:
    fmt = args.format or ("json" if args.json else "text")
    if fmt == "ics" and args.output is None:
        raise _UsageError(_t("ics_needs_file", args.lang))
    upcoming = args.upcoming
    if upcoming is None:
        upcoming = sys.maxsize if fmt == "ics" else 0
    with _open(args) as ledger:
        agenda = ledger.agenda(as_of=args.as_of, inspection=args.inspection, upcoming=upcoming)
    if fmt == "ics":
        text = agenda.to_ics(args.lang)
    elif fmt == "json":
        text = json.dumps(agenda.to_dict(), ensure_ascii=False, indent=2)
    else:
        text = agenda.to_text(args.lang)
    _emit(args, text, fmt)
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        history = ledger.history(args.finding)
    data = [unstructure(e) for e in history]
    lines = [
        f"{e.version:>3} {e.at.isoformat()} {_event_label(e.name, args.lang)} {e.actor}"
        + (f" {e.note}" if e.note else "")
        + (f" [{', '.join(e.evidence)}]" if e.evidence else "")
        + "".join(f" {k}={v}" for k, v in _payload_shown(e.name, e.payload).items())
        for e in history
    ]
    _out(args, data, "\n".join(lines))
    return 0


def _event_label(name: str, lang: str) -> str:
    """An event as a history line shows it: ``销号(sign_off)`` in Chinese, else its name."""
    if lang == "en" or name not in EVENT_LABELS:
        return _pad(name, 15)
    return _pad(f"{EVENT_LABELS[name][0]}({name})", 28)


_EVENT_ALIASES: Final[Mapping[str, str]] = {
    "开始": "start",
    "阶段性成效": "stage",
    "取得阶段性成效": "stage",
    "提交": "submit",
    "申请销号": "submit",
    "反弹": "rebound",
    "回潮": "rebound",
    "延期": "extend",
    "不定期抽查": "spot_check",
    "修订": "amend",
}
"""Other words offices use for events (their labels and English names are known too)."""

_STATE_ALIASES: Final[Mapping[str, str]] = {
    "已完成": "completed",
    "已销号": "completed",
    "已完成整改(已销号)": "completed",
    "完成整改": "completed",
    "阶段性成效": "staged_result",
    "已取得阶段性成效": "staged_result",
    "正在整改": "in_progress",
    "未开始": "assigned",
    "回头看": "rechecked",
}
"""Other words offices use for states."""


def _names(kind: str) -> dict[str, str]:
    """Every accepted name of a state or event (English, Chinese, aliases) → its key."""
    keys: tuple[str, ...] = STATES if kind == "state" else tuple(PAYLOAD_KEYS)
    labels = STATE_LABELS if kind == "state" else EVENT_LABELS
    aliases = _STATE_ALIASES if kind == "state" else _EVENT_ALIASES
    names = {_fold(k): k for k in keys}
    for key in keys:
        zh, en = labels[key]
        names.setdefault(_fold(zh), key)
        names.setdefault(_fold(en), key)
    for alias, key in aliases.items():
        names.setdefault(_fold(alias), key)
    return names


def _fold(text: str) -> str:
    """A name reduced for matching: NFKC, case-folded, spaces and hyphens as ``_``."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    return "_".join(folded.replace("-", " ").split())


def _resolve(kind: str, text: str, lang: str) -> str:
    """The state or event *text* names, in English or Chinese; a typo gets suggestions."""
    names = _names(kind)
    found = names.get(_fold(text))
    if found is not None:
        return found
    close = difflib.get_close_matches(_fold(text), list(names), n=3, cutoff=0.5)
    labels = STATE_LABELS if kind == "state" else EVENT_LABELS
    keys: tuple[str, ...] = STATES if kind == "state" else tuple(PAYLOAD_KEYS)
    known = ", ".join(f"{labels[k][0]}/{k}" for k in keys)
    hint = ", ".join(dict.fromkeys(f"{_shown(c, names[c], labels)}" for c in close))
    raise _UsageError(
        _t(
            f"unknown_{kind}" + ("_hint" if close else ""),
            lang,
            value=text,
            hint=hint,
            known=known,
        )
    )


def _shown(name: str, key: str, labels: Mapping[str, tuple[str, str]]) -> str:
    zh = labels[key][0]
    return f"{name} ({key})" if name not in (key, zh) else f"{zh} ({key})"


def _payload_shown(name: str, payload: Any) -> dict[str, Any]:
    """The payload as one line shows it: an ``add`` event's measures are counted."""
    if name != "add":
        return dict(payload)
    keys = ("inspection", "aspect", "category", "kind", "deadline")
    shown = {k: payload[k] for k in keys if payload.get(k)}
    shown["measures"] = len(payload.get("measures") or ())
    return shown


def _declared(args: argparse.Namespace) -> int | None:
    """``--declared`` as a whole number, or None when not given."""
    if args.declared is None:
        return None
    if not args.declared.isdigit():
        raise _UsageError(_t("declared_bad", args.lang, value=args.declared))
    return int(args.declared)


def _cmd_add_inspection(args: argparse.Namespace) -> int:
    declared = _declared(args)
    with _open(args) as ledger:
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


def _print_inspection(args: argparse.Namespace, inspection: Inspection) -> int:
    """Print an inspection added or changed (its record with --json); exit code 0."""
    _out(
        args,
        unstructure(inspection),
        f"{inspection.id} {inspection.title} ({inspection.feedback_at})",
    )
    return 0


def _cmd_change_inspection(args: argparse.Namespace) -> int:
    declared = _declared(args)
    with _open(args) as ledger:
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


_MEASURE_KEYS = ("id", "text", "kind", "owner", "cadence", "document", "document_type")


def _measures(args: argparse.Namespace) -> list[Measure]:
    """The measures of ``add``: ``--measure`` flags, then ``--measures-json``."""
    out: list[Measure] = []
    for n, item in enumerate(args.measure, start=1):
        head, sep, text = item.partition(":")
        kind, _, cadence = head.partition("/")
        if not sep or not text.strip() or kind not in MEASURE_KINDS:
            raise _UsageError(
                _t(
                    "measure_bad",
                    args.lang,
                    kinds=", ".join(MEASURE_KINDS),
                    cadences=", ".join(CADENCES),
                    value=item,
                )
            )
        out.append(Measure(f"{args.finding}-{n}", text.strip(), kind=kind, cadence=cadence or None))
    if args.measures_json is not None:
        out.extend(_measures_json(args))
    return out


def _measures_json(args: argparse.Namespace) -> list[Measure]:
    source = args.measures_json
    keys = ", ".join(_MEASURE_KEYS)
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise _UsageError(_t("cannot_read", args.lang, path=source, reason=reason)) from exc
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _UsageError(_t("measures_json_bad", args.lang, keys=keys, reason=exc)) from exc
    if not isinstance(items, list):
        raise _UsageError(_t("measures_json_bad", args.lang, keys=keys, reason="not a list"))
    out = []
    for item in items:
        if not isinstance(item, dict) or not {"id", "text"} <= set(item):
            reason = f"{item!r} needs id and text"
            raise _UsageError(_t("measures_json_bad", args.lang, keys=keys, reason=reason))
        unknown = sorted(set(item) - set(_MEASURE_KEYS))
        if unknown or not all(isinstance(v, str) or v is None for v in item.values()):
            reason = f"unknown key(s) {unknown}" if unknown else f"{item!r}: values are text"
            raise _UsageError(_t("measures_json_bad", args.lang, keys=keys, reason=reason))
        out.append(Measure(**item))
    return out


def _cmd_add(args: argparse.Namespace) -> int:
    measures = _measures(args)
    with _open(args) as ledger:
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
    _out(
        args,
        unstructure(finding),
        f"{finding.id}: {state_label(finding.state, args.lang)}, "
        f"{len(finding.measures)} measure(s), deadline {finding.deadline}",
    )
    return 0


def _cmd_diagram(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        workflow = ledger.workflow
    if args.format == "svg":
        try:
            text = _diagram.svg(workflow, args.lang)
        except _diagram.GraphvizMissing as exc:
            raise _UsageError(_t("svg_needs_graphviz", args.lang)) from exc
    elif args.format == "dot":
        text = _diagram.dot(workflow, args.lang)
    else:
        text = _diagram.mermaid(workflow, args.lang)
    if args.json and args.output is None:
        _out(args, {"format": args.format, "diagram": text}, text)
        return 0
    _emit(args, text, args.format)
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
    try:
        return _main(argv)
    except BrokenPipeError:  # `rectflow list | head`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser(_lang_of(argv)).parse_args(argv)
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
            return _cmd_report(args)
        if args.command == "agenda":
            return _cmd_agenda(args)
        if args.command == "fire":
            return _cmd_fire(args)
        if args.command == "show":
            return _cmd_show(args)
        if args.command == "list":
            return _cmd_list(args)
        # issue 9: the commands scripts need
        if args.command == "history":
            return _cmd_history(args)
        if args.command == "add-inspection":
            return _cmd_add_inspection(args)
        if args.command == "change-inspection":
            return _cmd_change_inspection(args)
        if args.command == "add":
            return _cmd_add(args)
        if args.command == "diagram":
            return _cmd_diagram(args)
        if args.command in ("import", "export"):
            return _cmd_file(args)
    except (RectflowError, _UsageError) as exc:
        _error(args, exc)
        return 2
    except BrokenPipeError:
        raise
    except OSError as exc:  # a file the command reads or writes: one line, no traceback
        where = exc.filename if exc.filename is not None else args.ledger
        _error(args, _UsageError(_t("os_error", lang, path=where, reason=exc.strerror or exc)))
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


# -- ledger files: import and export (issue 7)

_FILE_T = {
    "imported": (
        (
            "已导入 {file}: 读取 {rows} 行, 新增问题 {findings} 个、事件 {events} 条、"
            "巡察 {inspections} 个"
        ),
        (
            "imported {file}: {rows} rows read, {findings} findings, {events} events, "
            "{inspections} inspections added"
        ),
    ),
    "dry_run": (
        (
            "试导入 {file}: 读取 {rows} 行, 无错误; 将新增问题 {findings} 个、"
            "事件 {events} 条(未写入)"
        ),
        (
            "dry run of {file}: {rows} rows read, no errors; would add {findings} findings, "
            "{events} events (nothing written)"
        ),
    ),
    "events": ("条事件", "events"),
    "interrupted": ("已中断, 未写入任何内容", "interrupted, nothing written"),
    "rows": ("行", "rows"),
    "exported": ("已导出 {file}: {count} {unit}", "exported {file}: {count} {unit}"),
}


def _file_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    i = sub.add_parser(
        "import", parents=[common], help="import a ledger file (CSV, XLSX, YAML), all or nothing"
    )
    i.add_argument("file")
    i.add_argument("--format", choices=("csv", "xlsx", "yaml"), help="default: from the suffix")
    i.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    i.add_argument("--inspection", help="the inspection of every row (files without 巡察)")
    i.add_argument(
        "--allow-extra-columns", action="store_true", help="keep unknown columns (the default)"
    )
    i.add_argument(
        "--strict-columns", action="store_true", help="refuse columns rectflow does not know"
    )
    i.add_argument("--state-from", metavar="COLUMN", help="the header the state is read from")
    i.add_argument(
        "--at", help="when the imported events happen (default: the sheet's 填报时间, else now)"
    )
    i.add_argument(
        "--feedback-at", help="with --inspection: create it if missing, with this feedback day"
    )
    i.add_argument("--title", help="the created inspection's title (default: the sheet's)")
    i.add_argument("--declared", type=int, help="the created inspection's declared count")
    i.add_argument("--unit", help="the created inspection's 填报单位 (default: the sheet's)")
    i.add_argument(
        "--update",
        action="store_true",
        help="the monthly cycle: match rows to findings by id and record only what changed",
    )
    i.add_argument(
        "--allow-rebound",
        action="store_true",
        help="with --update: apply a move back from completed as a rebound (回潮/反弹)",
    )
    i.add_argument(
        "--actor",
        default=os.environ.get("RECTFLOW_ACTOR"),
        help="who imports (default: $RECTFLOW_ACTOR, else your login name)",
    )
    e = sub.add_parser("export", parents=[common], help="write the ledger to CSV, XLSX or YAML")
    e.add_argument("file")
    e.add_argument("--format", choices=("csv", "xlsx", "yaml"), help="default: from the suffix")
    e.add_argument("--as-of", help="the ledger as it stood on a day YYYY-MM-DD")
    e.add_argument("--inspection", help="only this inspection")


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


def _cmd_file(args: argparse.Namespace) -> int:
    from rectflow._io.layout import import_notes  # noqa: PLC0415
    from rectflow._io.table import FileIssue  # noqa: PLC0415
    from rectflow.exceptions import LedgerFileError  # noqa: PLC0415

    lang = args.lang
    if args.command == "export":
        with _open(args) as ledger:
            try:
                count = ledger.export_file(
                    args.file, format=args.format, as_of=args.as_of, inspection=args.inspection
                )
            except OSError as exc:
                raise _UsageError(
                    _t("cannot_write", lang, path=args.file, reason=exc.strerror or exc)
                ) from exc
        yaml_out = (args.format or Path(args.file).suffix.lstrip(".")).startswith("y")
        unit = (
            ("条事件" if lang == "zh" else "events")
            if yaml_out
            else ("行" if lang == "zh" else "rows")
        )
        _out(
            args,
            {"file": args.file, "count": count},
            _FILE_T["exported"][lang == "en"].format(file=args.file, count=count, unit=unit),
        )
        return 0
    import getpass  # noqa: PLC0415

    actor = args.actor or getpass.getuser()
    update, close = _progress_bar(args)
    try:
        # never creates a ledger file silently: a missing one names `rectflow init`
        with _open(args) as ledger:
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
        print(f"rectflow: {_FILE_T['interrupted'][lang == 'en']}", file=sys.stderr)
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
        _out(
            args,
            summary.to_dict(),
            "\n".join([summary.to_text(lang), *import_notes(summary, lang)]),
        )
        return 0
    key = "dry_run" if summary.dry_run else "imported"
    text = _FILE_T[key][lang == "en"].format(
        file=args.file,
        rows=summary.rows_read,
        findings=summary.findings_added,
        events=summary.events_added,
        inspections=summary.inspections_added,
    )
    _out(args, summary.to_dict(), "\n".join([text, *import_notes(summary, lang)]))
    return 0


def _error(args: argparse.Namespace, exc: Exception) -> None:
    message = exc.in_lang(args.lang) if isinstance(exc, RectflowError) else str(exc)
    message = " ".join(message.split())  # one line, whatever the message held
    data = {"error": type(exc).__name__, "message": message}
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
        print(f"rectflow: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
