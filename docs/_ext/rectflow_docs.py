"""Reference pages generated from the code at build time.

Each directive renders MyST Markdown from the live package and parses it in
place, so what a branch adds to ``rectflow`` (a public name, a CLI command, a
rule, an error, a report key) appears in the documentation without editing it:

``rectflow-api``
    Every name of ``rectflow.__all__`` through autodoc, grouped by the layer
    that defines it, then the public modules ``rectflow.calendar`` and
    ``rectflow.testing``.
``rectflow-cli``
    Every command and option of the ``rectflow`` argparse parser.
``rectflow-states`` / ``rectflow-events`` / ``rectflow-diagram``
    The workflow's states, events, arguments and guards, and its diagram, read
    from the shared machine (``Workflow``, ``RULES``, ``PAYLOAD_KEYS``).
``rectflow-errors`` / ``rectflow-rules``
    The exception tree and every ``RuleViolation.rule`` name in the package,
    with its messages in both languages.
``rectflow-policies``
    The shipped policy packs, read from their TOML files.
``rectflow-report-json``
    The keys of ``Report.to_dict()`` on the seed school's ledger, the full
    example, and any ``*.schema.json`` file shipped in the package.

The functions that build the Markdown are plain functions, tested in
``tests/test_docs.py``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import inspect
import json
import logging
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.directives.other import TocTree
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective

import rectflow

PACKAGE = Path(rectflow.__file__).resolve().parent

# Sphinx's logging setup would echo every step of the machine at INFO.
logging.getLogger("transitions").setLevel(logging.WARNING)

# ---------------------------------------------------------------- helpers


def _cell(text: object) -> str:
    """*text* safe inside a Markdown table cell (one line, pipes escaped)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: object) -> str:
    """*text* as inline code, whatever backticks it holds."""
    value = " ".join(str(text).split()).replace("|", "\\|")
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n", 1)[0].replace("\n", " ")


def _defining_module(name: str, obj: object) -> str:
    """The private module that defines *name* (re-exported by ``rectflow``)."""
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and module.startswith("rectflow") and module != "rectflow":
        return module
    pattern = re.compile(rf"^{re.escape(name)}\s*(:|=)", re.MULTILINE)
    for path in sorted(PACKAGE.rglob("*.py")):
        if pattern.search(path.read_text(encoding="utf-8")):
            rel = path.relative_to(PACKAGE).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            return ".".join(["rectflow", *parts])
    return "rectflow"


# ---------------------------------------------------------------- API

API_GROUPS: tuple[tuple[str, str], ...] = (
    ("rectflow._ledger", "The ledger"),
    ("rectflow._writer", "The ledger"),
    ("rectflow._model", "Records"),
    ("rectflow._workflow", "The workflow"),
    ("rectflow._spec", "Workflow definitions"),
    ("rectflow._roles", "Actors and roles"),
    ("rectflow._policy", "Policies"),
    ("rectflow._views", "Reports, agenda and verification"),
    ("rectflow._render", "Rendering"),
    ("rectflow._io", "Ledger files"),
    ("rectflow._store", "Storage"),
    ("rectflow.exceptions", "Errors"),
)
"""Section of each defining module (prefix match); anything else goes under "Other"."""

PUBLIC_MODULES = ("rectflow.aio", "rectflow.calendar", "rectflow.testing")


def _group(name: str, obj: object) -> str:
    if isinstance(obj, type) and issubclass(obj, rectflow.RectflowError):
        return "Errors"
    module = _defining_module(name, obj)
    for prefix, title in API_GROUPS:
        if module == prefix or module.startswith(prefix + "."):
            return title
    return "Other"


def _data_value(module: str, name: str, obj: object) -> str:
    if isinstance(obj, (frozenset, set)):
        return "frozenset({" + ", ".join(repr(v) for v in sorted(obj)) + "})"
    if isinstance(obj, (tuple, str, int, float)):
        return repr(obj)
    tree = ast.parse(Path(importlib.import_module(module).__file__ or "").read_text("utf-8"))
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        value = getattr(node, "value", None)
        if value is not None and any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.unparse(value)
    return repr(obj)


def _data_entry(name: str, obj: object) -> list[str]:
    module = _defining_module(name, obj)
    docs: list[str] = []
    with contextlib.suppress(Exception):
        analyzer = ModuleAnalyzer.for_module(module)
        docs = list(analyzer.find_attr_docs().get(("", name), []))
    value = _data_value(module, name, obj)
    lines = [f".. py:data:: {name}", "   :module: rectflow", f"   :value: {value}", ""]
    lines += [f"   {line}" if line else "" for line in docs]
    return [*lines, ""]


def api_markdown() -> str:
    """The API reference: every name of ``rectflow.__all__``, then the public modules."""
    groups: dict[str, list[str]] = {}
    for name in rectflow.__all__:
        groups.setdefault(_group(name, getattr(rectflow, name)), []).append(name)
    order = list(dict.fromkeys([title for _, title in API_GROUPS] + ["Other"]))
    out: list[str] = []
    for title in order:
        names = groups.get(title)
        if not names:
            continue
        out += [f"## {title}", "", "```{eval-rst}"]
        for name in names:
            obj = getattr(rectflow, name)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                out += [f".. autoexception:: rectflow.{name}", "   :show-inheritance:", ""]
            elif inspect.isclass(obj):
                out += [f".. autoclass:: rectflow.{name}"]
                # A public class built on a private record (Agenda on the view's AgendaData)
                # documents the record's members too.
                if any(b.__module__.startswith("rectflow._") for b in obj.__mro__[1:]):
                    out += ["   :inherited-members:"]
                out += [""]
            elif inspect.isfunction(obj):
                out += [f".. autofunction:: rectflow.{name}", ""]
            else:
                out += _data_entry(name, obj)
        out += ["```", ""]
    for module in PUBLIC_MODULES:
        out += [f"## `{module}`", "", "```{eval-rst}", f".. automodule:: {module}", "```", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- CLI


class _Captured(BaseException):
    """Raised instead of parsing, carrying the parser ``main`` built."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__()
        self.parser = parser


def find_parser(cli: Any = None) -> argparse.ArgumentParser:
    """The ``rectflow`` command line's parser (*cli*: the module, default ``rectflow.cli``).

    ``build_parser()`` when the module has it (or the older private ``_parser()``);
    otherwise the parser ``main`` builds, caught as it starts parsing.
    """
    cli = cli or importlib.import_module("rectflow.cli")
    for attr in ("build_parser", "_parser"):
        factory = getattr(cli, attr, None)
        if callable(factory):
            with contextlib.suppress(TypeError):
                parser = factory()
                if isinstance(parser, argparse.ArgumentParser):
                    return parser

    def capture(self: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> Any:
        raise _Captured(self)

    try:
        with (
            mock.patch.object(argparse.ArgumentParser, "parse_args", capture),
            mock.patch.object(argparse.ArgumentParser, "parse_known_args", capture),
        ):
            cli.main(["--help"])
    except _Captured as caught:
        return caught.parser
    msg = "rectflow.cli builds no argparse parser that the docs can find"
    raise RuntimeError(msg)


def _subcommands(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    for action in parser._actions:  # noqa: SLF001 - argparse has no public walk
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            helps = {a.dest: a.help or "" for a in action._choices_actions}  # noqa: SLF001
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:  # an alias
                    continue
                seen.add(id(sub))
                yield name, helps.get(name, sub.description or ""), sub


def _option_rows(parser: argparse.ArgumentParser, skip: set[str]) -> tuple[list[str], list[str]]:
    formatter = parser._get_formatter()  # noqa: SLF001
    positionals, options = [], []
    for action in parser._actions:  # noqa: SLF001
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):  # noqa: SLF001
            continue
        if action.help == argparse.SUPPRESS:
            continue
        key = ", ".join(action.option_strings) or action.dest
        if action.option_strings and key in skip:
            continue
        help_text = formatter._expand_help(action) if action.help else ""  # noqa: SLF001
        extras = []
        if action.choices is not None:
            extras.append("one of " + ", ".join(_code(c) for c in action.choices))
        default = action.default
        if (
            action.option_strings
            and default not in (None, False, [], argparse.SUPPRESS)
            and "default" not in help_text
        ):
            extras.append(f"default {_code(default)}")
        if isinstance(action, argparse._AppendAction):  # noqa: SLF001
            extras.append("repeatable")
        if action.required and action.option_strings:
            extras.append("required")
        detail = "; ".join(x for x in [_cell(help_text), *extras] if x)
        if action.option_strings:
            metavar = ""
            if action.nargs != 0:
                metavar = " " + (action.metavar or action.dest.upper())
            names = ", ".join(_code(o + metavar) for o in action.option_strings)
            options.append(f"| {names} | {detail or '—'} |")
        else:
            positionals.append(f"| {_code(action.metavar or action.dest)} | {detail or '—'} |")
    return positionals, options


def _usage(parser: argparse.ArgumentParser) -> list[str]:
    usage = parser.format_usage().strip()
    usage = usage.removeprefix("usage: ")
    return ["```text", usage, "```", ""]


def cli_markdown(parser: argparse.ArgumentParser | None = None) -> str:
    """The command-line reference generated from *parser* (default: :func:`find_parser`)."""
    parser = parser or find_parser()
    out = [*_usage(parser)]
    if parser.description:
        out += [_cell(parser.description), ""]
    _, common = _option_rows(parser, set())
    common_keys = {
        ", ".join(a.option_strings)
        for a in parser._actions  # noqa: SLF001
        if a.option_strings and not isinstance(a, argparse._HelpAction)  # noqa: SLF001
    }
    if common:
        out += [
            "## Options of every command",
            "",
            "Accepted before the command or after it (after it, they win).",
            "",
            "| option | meaning |",
            "|---|---|",
            *common,
            "",
        ]
    out += _commands_markdown(parser, common_keys, parser.prog, level=2)
    return "\n".join(out)


def _commands_markdown(
    parser: argparse.ArgumentParser, common: set[str], prog: str, level: int
) -> list[str]:
    out: list[str] = []
    for name, help_text, sub in _subcommands(parser):
        out += [f"{'#' * level} `{prog} {name}`", ""]
        if help_text:
            out += [_cell(help_text[:1].upper() + help_text[1:]) + ".", ""]
        out += _usage(sub)
        positionals, options = _option_rows(sub, common)
        if positionals:
            out += ["| argument | meaning |", "|---|---|", *positionals, ""]
        if options:
            out += ["| option | meaning |", "|---|---|", *options, ""]
        out += _commands_markdown(sub, common, f"{prog} {name}", level + 1)
    return out


# ---------------------------------------------------------------- workflow


def _workflow() -> Any:
    return rectflow.Workflow(rectflow.Policy(calendar="weekdays"))


def _fail_calls(tree: ast.AST) -> list[str]:
    """Rule names raised in *tree*: ``ctx.fail("name")`` and ``RuleViolation("name", …)``."""
    names: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if called in ("fail", "RuleViolation") and first.value not in names:
            names.append(first.value)
    return names


def _rule_label(name: str) -> str:
    return "rule-" + name.replace("_", "-")


def rules_of(rule: Callable[..., Any]) -> list[str]:
    """The rule names a guard function can raise, in source order."""
    try:
        source = textwrap.dedent(inspect.getsource(rule))
    except (OSError, TypeError):
        return [getattr(rule, "__name__", repr(rule))]
    nodes_ = sorted(
        (n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    names: list[str] = []
    for node in nodes_:
        for name in _fail_calls(node):
            if name not in names:
                names.append(name)
    return names or [getattr(rule, "__name__", repr(rule))]


def _constant_events(tree: ast.AST) -> dict[str, set[str | None]]:
    """Rule name → the ``event=`` each ``RuleViolation(...)`` call names (None: not a constant)."""
    found: dict[str, set[str | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "RuleViolation":
            names = _fail_calls(node)
            event = next((k.value for k in node.keywords if k.arg == "event"), None)
            value = event.value if isinstance(event, ast.Constant) else None
            for name in names:
                found.setdefault(name, set()).add(value)
    return found


def all_rules() -> dict[str, list[str]]:
    """Every rule name raised anywhere in the package → where (``module.function``)."""
    return {name: sorted(sites) for name, (sites, _events) in _raise_sites().items()}


def _raise_sites() -> dict[str, tuple[set[str], set[str | None]]]:
    """Rule name → (``module.function`` raising it, events named there; None: any)."""
    found: dict[str, tuple[set[str], set[str | None]]] = {}
    in_rules = {
        f"{getattr(r, '__module__', '')}.{getattr(r, '__name__', '')}"
        for rules in _workflow().rules.values()
        for r in rules
    }
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        module = ".".join(["rectflow", *(p for p in rel.parts if p != "__init__")])
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            where = f"{module}.{node.name}"
            constant = _constant_events(node)
            for name in _fail_calls(node):
                sites, events = found.setdefault(name, (set(), set()))
                sites.add(where)
                if name in constant:
                    events.update(constant[name])
                elif where not in in_rules:  # ctx.fail outside a guard: every event
                    events.add(None)
    return found


def states_markdown() -> str:
    """The states table: labels in both languages and the events each allows."""
    from rectflow._model import STATE_LABELS  # noqa: PLC0415

    wf = _workflow()
    rows = ["| state | 中文 | English | open | events allowed |", "|---|---|---|---|---|"]
    for state in rectflow.STATES:
        zh, en = STATE_LABELS.get(state, (state, state))
        allowed = ", ".join(_code(e) for e in wf.allowed(state)) or "— (terminal)"
        is_open = "yes" if state in rectflow.OPEN_STATES else ""
        rows.append(f"| {_code(state)} | {zh} | {en} | {is_open} | {allowed} |")
    return "\n".join(rows) + "\n"


def events_markdown() -> str:
    """The events table: edges, arguments and guards, from the live machine and RULES."""
    from rectflow._workflow import EVENT_LABELS, PAYLOAD_KEYS  # noqa: PLC0415

    wf = _workflow()
    rows = [
        "| event | from → to | arguments | guards, in order |",
        "|---|---|---|---|",
    ]
    for event, rules in wf.rules.items():
        edges: dict[str, list[str]] = {}
        for state in rectflow.STATES:
            dest = wf.destination(state, event)
            if dest is not None:
                edges.setdefault("same state" if dest == state else dest, []).append(state)
        moves = "; ".join(f"{', '.join(sources)} → {dest}" for dest, sources in edges.items())
        args = ", ".join(_code(k) for k in sorted(PAYLOAD_KEYS.get(event, ()))) or "—"
        guards = [name for rule in rules for name in rules_of(rule)]
        guard_text = ", ".join(f"{{ref}}`{g} <{_rule_label(g)}>`" for g in guards)
        zh = EVENT_LABELS.get(event, (event, event))[0]
        rows.append(f"| {_code(event)} {zh} | {moves} | {args} | {guard_text or '—'} |")
    return "\n".join(rows) + "\n"


def diagram_markdown() -> str:
    """The state diagram drawn from the live machine, as a mermaid block."""
    return "```{mermaid}\n" + _workflow().mermaid() + "```\n"


# ---------------------------------------------------------------- policies


def policies_markdown() -> str:
    """The shipped policy packs, read from their files."""
    from rectflow._policy import PACKS  # noqa: PLC0415

    rows = [
        (
            "| pack | report due | look-back wait | checkpoint interval | reminder window "
            "| extensions | spot checks | calendar | follow-up checks | source |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in PACKS:
        p = rectflow.policy_pack(name)
        checks = ", ".join(str(c) for c in p.effectiveness_checks) or "—"
        rows.append(
            f"| {_code(name)} | {p.report_period} | {p.look_back_wait} "
            f"| {p.checkpoint_interval} | {p.reminder_window} | {p.max_extensions} "
            f"| {p.spot_check_sample} | {p.calendar} | {checks} | {_cell(p.source) or '—'} |"
        )
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------- errors


def _attributes(cls: type) -> list[str]:
    doc = inspect.getdoc(cls) or ""
    match = re.search(r"^Attributes:\n((?:[ \t]+.*\n?)+)", doc, re.MULTILINE)
    if not match:
        return []
    return re.findall(r"^\s{4}(\w+)(?:\s*\([^)]*\))?:", match.group(1), re.MULTILINE)


def error_classes() -> list[type[BaseException]]:
    """Every public error class: those of ``rectflow.__all__`` and ``rectflow.exceptions``."""
    names = set(rectflow.__all__) | set(getattr(rectflow.exceptions, "__all__", ()))
    classes = []
    for name in sorted(names):
        obj = getattr(rectflow, name, None) or getattr(rectflow.exceptions, name, None)
        if isinstance(obj, type) and issubclass(obj, rectflow.RectflowError):
            classes.append(obj)
    return classes


def errors_markdown() -> str:
    """The exception tree as a table: parent, builtin bases, attributes and meaning."""
    classes = error_classes()
    known = set(classes)

    def depth(cls: type) -> int:
        return sum(1 for base in cls.__mro__[1:] if base in known)

    def key(cls: type) -> tuple[str, ...]:
        chain = [b.__name__ for b in reversed(cls.__mro__) if b in known]
        return tuple(chain)

    rows = ["| error | also a | attributes | raised when |", "|---|---|---|---|"]
    for cls in sorted(classes, key=key):
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * depth(cls)
        builtins = [
            b.__name__
            for b in cls.__mro__[1:]
            if b.__module__ == "builtins" and b not in (Exception, BaseException, object)
        ]
        attrs_ = ", ".join(_code(a) for a in _attributes(cls)) or "—"
        also = ", ".join(_code(b) for b in builtins) or "—"
        name = f"{indent}{{py:exc}}`~rectflow.{cls.__name__}`"
        rows.append(f"| {name} | {also} | {attrs_} | {_cell(_first_line(cls))} |")
    return "\n".join(rows) + "\n"


def rules_markdown() -> str:
    """Every ``RuleViolation.rule`` name: the events it guards and its messages."""
    from rectflow import _i18n  # noqa: PLC0415

    catalogue: dict[str, tuple[str, str]] = getattr(_i18n, "_MESSAGES", {})
    wf = _workflow()
    by_event: dict[str, list[str]] = {}
    for event, rules in wf.rules.items():
        for rule in rules:
            for name in rules_of(rule):
                by_event.setdefault(name, []).append(event)
    raised = _raise_sites()
    names = sorted(set(raised) | set(by_event))
    out: list[str] = []
    for name in names:
        zh, en = catalogue.get(f"rule.{name}", ("", ""))
        sites, named = raised.get(name, (set(), set()))
        listed = [*by_event.get(name, ()), *sorted(e for e in named if e is not None)]
        events = ", ".join(_code(e) for e in dict.fromkeys(listed))
        if None in named:
            events = "every event" + (f" (and {events})" if events else "")
        out += [
            f"({_rule_label(name)})=",
            f"### `{name}`",
            "",
            f"- events: {events}",
            f"- raised in: {', '.join(_code(w) for w in sorted(sites)) or '—'}",
        ]
        if zh:
            out.append(f"- 中文: {_code(zh)}")
        if en:
            out.append(f"- English: {_code(en)}")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- report JSON


def seed_report() -> dict[str, Any]:
    """``Report.to_dict()`` of the seed school's ledger as of the seed report's day."""
    from rectflow._demo import load_seed  # noqa: PLC0415

    with rectflow.Ledger.open(":memory:") as ledger:
        seed = load_seed(ledger)
        data: dict[str, Any] = ledger.report(seed.inspection, as_of=seed.report_as_of).to_dict()
    return data


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _walk(value: object, path: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, dict):
        if path:
            yield path, "object", ""
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        yield path, "array", f"{len(value)} items"
        if value and isinstance(value[0], (dict, list)):
            yield from _walk(value[0], f"{path}[]")
        elif value:
            yield f"{path}[]", _json_type(value[0]), json.dumps(value[0], ensure_ascii=False)
    else:
        yield path, _json_type(value), json.dumps(value, ensure_ascii=False)


def schema_files() -> list[Path]:
    """JSON schema files: in the package (any ``*.json`` named ``*schema*``), then ``schemas/``."""
    found = sorted(p for p in PACKAGE.rglob("*.json") if "schema" in p.name)
    top = PACKAGE.parent.parent / "schemas"  # src/rectflow → the repository
    if top.is_dir():
        found += sorted(p for p in top.glob("*.json") if p not in found)
    return found


def _repo_path(path: Path) -> str:
    root = PACKAGE.parent.parent
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


def report_json_markdown() -> str:
    """The report's keys with types and the seed's values, the example, and the schemas."""
    data = seed_report()
    out = []
    if "schema_version" in data:
        out += [f"Current `schema_version`: {_code(data['schema_version'])}.", ""]
    out += ["| key | type | seed ledger, 2024-01-22 |", "|---|---|---|"]
    for path, kind, example in _walk(data, ""):
        shown = example if len(example) <= 60 else example[:57] + "…"
        out.append(f"| {_code(path)} | {kind} | {_code(shown) if shown else ''} |")
    out += [
        "",
        "## The whole example",
        "",
        "```json",
        json.dumps(data, ensure_ascii=False, indent=2),
        "```",
        "",
    ]
    for path in schema_files():
        out += [
            f"## Schema: `{path.name}`",
            "",
            f"In the repository as `{_repo_path(path)}`.",
            "",
            "```json",
            path.read_text(encoding="utf-8").rstrip(),
            "```",
            "",
        ]
    return "\n".join(out)


# ---------------------------------------------------------------- directives

GENERATORS: dict[str, Callable[[], str]] = {
    "rectflow-api": api_markdown,
    "rectflow-cli": cli_markdown,
    "rectflow-states": states_markdown,
    "rectflow-events": events_markdown,
    "rectflow-diagram": diagram_markdown,
    "rectflow-errors": errors_markdown,
    "rectflow-policies": policies_markdown,
    "rectflow-rules": rules_markdown,
    "rectflow-report-json": report_json_markdown,
}


def _directive(generate: Callable[[], str]) -> type[SphinxDirective]:
    class Generated(SphinxDirective):
        has_content = False

        def run(self) -> list[nodes.Node]:
            for path in sorted(PACKAGE.rglob("*.py")):
                self.env.note_dependency(str(path))
            text = generate()
            container = nodes.section() if "\n#" in "\n" + text else nodes.container()
            self.state.nested_parse(
                StringList(text.splitlines(), source=f"<{self.name}>"),
                0,
                container,
                match_titles=True,
            )
            return list(container.children)

    Generated.__name__ = generate.__name__
    return Generated


class OptionalTocTree(TocTree):
    """A ``toctree`` whose entries written ``?name`` are left out while that page is absent.

    For pages other branches write (``howto/import-excel``, ``performance``):
    the site links them once they exist, and builds with ``-W`` until then.
    """

    def run(self) -> list[nodes.Node]:
        """The toctree of the entries that exist."""
        kept = []
        for line in self.content:
            entry = line.strip()
            if entry.startswith("?"):
                entry = entry[1:].strip()
                if entry not in self.env.found_docs:
                    continue
            kept.append(entry)
        self.content = StringList(kept, source=self.content.source(0) if kept else "")
        return super().run()


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directives."""
    for name, generate in GENERATORS.items():
        app.add_directive(name, _directive(generate))
    app.add_directive("rectflow-toctree", OptionalTocTree)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
