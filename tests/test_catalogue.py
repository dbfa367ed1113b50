"""One catalogue (issue 15): every (zh, en) pair of words lives in ``rectflow/_i18n.py``.

A "(zh, en) table" is a dict literal whose every value is a pair of string literals, one at
least Chinese then Latin: ``{"key": ("逾期", "overdue")}``.
Renderers, views and files ask the catalogue (``msg(key, lang)``) instead.
"""

from __future__ import annotations

import ast
import pathlib
import re

import rectflow
from rectflow._i18n import has, msg_n

PACKAGE = pathlib.Path(rectflow.__file__).parent
CJK = re.compile(r"[\u3400-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")

#: Where a (zh, en) table may still be, and why.
ALLOWED: dict[str, str] = {
    "_i18n.py": "the catalogue itself",
    "_cli/words.py": "the CLI's words, gathered there when the CLI became a package",
}
#: Tables that are the workflow's definition (its states' and events' labels), which becomes
#: data of its own (issue 15: a workflow definition holds its states and events with labels).
DEFINITION_LABELS: frozenset[tuple[str, str]] = frozenset(
    {("_model.py", "STATE_LABELS"), ("_workflow.py", "EVENT_LABELS")}
)


def _strings(node: ast.expr) -> list[str] | None:
    """The texts of a pair of string literals, or None when *node* is not one."""
    if not (isinstance(node, ast.Tuple) and len(node.elts) == 2):
        return None
    texts = [e.value for e in node.elts if isinstance(e, ast.Constant)]
    return texts if len(texts) == 2 and all(isinstance(t, str) for t in texts) else None


def _table(node: ast.Dict) -> bool:
    """Every value is a pair of string literals, and one at least is ``("中文", "English")``."""
    pairs = [_strings(v) for v in node.values]
    return (
        bool(pairs)
        and all(p is not None for p in pairs)
        and any(
            p is not None and CJK.search(p[0]) is not None and LATIN.search(p[1]) is not None
            for p in pairs
        )
    )


def tables(source: str) -> list[tuple[int, str]]:
    """``(line, name)`` of every (zh, en) table in *source* (name: what it is assigned to)."""
    tree = ast.parse(source)
    names: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            name = next((t.id for t in targets if isinstance(t, ast.Name)), "")
            for inner in ast.walk(node):
                if isinstance(inner, ast.Dict):
                    names.setdefault(id(inner), name)
    return sorted(
        (node.lineno, names.get(id(node), ""))
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict) and _table(node)
    )


def _allowed(rel: pathlib.Path, name: str) -> bool:
    return rel.as_posix() in ALLOWED or (rel.as_posix(), name) in DEFINITION_LABELS


def test_the_detector_finds_a_table_in_any_form():
    """A module-level table, one inside a call and an inline one are all found; other dicts not."""
    source = """
WORDS = {"a": ("逾期", "overdue"), "b": ("即将到期", "due soon")}
PROXY = MappingProxyType({"c": ("空行", "blank row")})
def f(kind, en):
    return {"aspect": ("方面", "aspect")}[kind][en]
SYNONYMS = {"id": ("编号", "序号", "id"), "aspect": ("方面", "aspect")}
PLAIN = {"a": "逾期", "b": ("x", "y")}
SAME = {"a": ("{value}", "{value}"), "b": ("销号", "sign off")}
"""
    assert [name for _, name in tables(source)] == ["WORDS", "PROXY", "", "SAME"]


def test_the_catalogue_is_found_as_a_table():
    """The detector sees the catalogue's own table: the check below can fail."""
    assert [name for _, name in tables((PACKAGE / "_i18n.py").read_text("utf-8"))] == ["_MESSAGES"]


def test_no_module_outside_the_catalogue_holds_a_zh_en_table():
    """Renderers, views, files and the policy take their words from the catalogue."""
    found = [
        f"{rel}:{line} {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for rel in [path.relative_to(PACKAGE)]
        for line, name in tables(path.read_text("utf-8"))
        if not _allowed(rel, name)
    ]
    assert found == []


def test_a_count_of_one_takes_the_singular_where_there_is_one():
    """msg_n picks the ``.one`` form for 1 and the plural otherwise."""
    assert msg_n("period.months", 1, "en") == "1 month"
    assert msg_n("period.months", 2, "en") == "2 months"
    assert msg_n("report.note.missing", 1, "en") == "1 declared problems are not on the ledger yet."
    assert has("period.months.one")
    assert not has("report.note.missing.one")
