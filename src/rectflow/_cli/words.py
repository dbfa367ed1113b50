"""The command line's words: its messages and the names it accepts for states and events.

Every (zh, en) table of the command line is here, so that the words it accepts (the
aliases offices use for states and events, the keys ``fire --arg`` takes) and the ones
it prints change in one place.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping
from typing import Any, Final

from rectflow._cli.parser import UsageError
from rectflow._spec import WorkflowSpec
from rectflow._workflow import DEFAULT_SPEC, EVENT_LABELS

MESSAGES: Final[Mapping[str, tuple[str, str]]] = {
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
    "no_module": (
        "无法导入 --workflow-module {module}: {reason}",
        "cannot import --workflow-module {module}: {reason}",
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
"""The command line's messages, (Chinese, English), formatted with :func:`t`."""


def t(key: str, lang: str, /, **fields: Any) -> str:
    """The message *key* in *lang*, its ``{fields}`` filled in."""
    zh, en = MESSAGES[key]
    return (en if lang == "en" else zh).format(**fields)


FILE_MESSAGES: Final[Mapping[str, tuple[str, str]]] = {
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
"""What ``import`` and ``export`` say, (Chinese, English)."""


EVENT_ALIASES: Final[Mapping[str, str]] = {
    alias: e.name for e in DEFAULT_SPEC.events for alias in e.aliases
}
"""Other words offices use for events (their labels and English names are known too),
from the workflow definition (``workflows/xuncha.toml``)."""

STATE_ALIASES: Final[Mapping[str, str]] = {
    alias: s.name for s in DEFAULT_SPEC.states for alias in s.aliases
}
"""Other words offices use for states, from the workflow definition."""


def event_arguments(event: str, spec: WorkflowSpec = DEFAULT_SPEC) -> frozenset[str] | None:
    """The ``--arg KEY=VALUE`` keys *event* of *spec* takes (None: an event it lacks)."""
    found = next((e for e in spec.events if e.name == event), None)
    return None if found is None else frozenset(f.name for f in found.fields)


def _keys(kind: str, spec: WorkflowSpec) -> tuple[str, ...]:
    if kind == "state":
        return spec.state_names
    return tuple(e.name for e in spec.events)


def _labels(kind: str, spec: WorkflowSpec) -> dict[str, tuple[str, str]]:
    items = spec.states if kind == "state" else spec.events
    return {i.name: (i.zh or i.name, i.en or i.name) for i in items}


def _names(kind: str, spec: WorkflowSpec) -> dict[str, str]:
    """Every accepted name of a state or event (English, Chinese, aliases) → its key."""
    keys = _keys(kind, spec)
    labels = _labels(kind, spec)
    items = spec.states if kind == "state" else spec.events
    aliases = {alias: i.name for i in items for alias in i.aliases}
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


def resolve(kind: str, text: str, lang: str, spec: WorkflowSpec = DEFAULT_SPEC) -> str:
    """The state or event of *spec* that *text* names, in English or Chinese.

    A typo gets suggestions.
    """
    names = _names(kind, spec)
    found = names.get(_fold(text))
    if found is not None:
        return found
    close = difflib.get_close_matches(_fold(text), list(names), n=3, cutoff=0.5)
    labels = _labels(kind, spec)
    keys = _keys(kind, spec)
    known = ", ".join(f"{labels[k][0]}/{k}" for k in keys)
    hint = ", ".join(dict.fromkeys(f"{_shown(c, names[c], labels)}" for c in close))
    raise UsageError(
        t(
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


def event_label(name: str, lang: str) -> str:
    """An event as a history line shows it: ``销号(sign_off)`` in Chinese, else its name."""
    if lang == "en" or name not in EVENT_LABELS:
        return pad(name, 15)
    return pad(f"{EVENT_LABELS[name][0]}({name})", 28)


def pad(text: str, width: int) -> str:
    """*text* padded to *width* terminal columns (a CJK character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 0)
