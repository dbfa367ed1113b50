"""The package's layers: modules import only from layers below them, and nothing cycles."""

from __future__ import annotations

import ast
import pathlib

import pytest

import rectflow

PACKAGE = pathlib.Path(rectflow.__file__).parent

# Lower number = lower layer. A module may import from its own layer or below.
LAYERS: dict[str, int] = {
    "exceptions": 0,
    "_version": 0,
    "_i18n": 0,
    "_model": 1,
    "_time": 1,
    "calendar": 1,
    "_codec": 2,
    "_policy": 2,
    "_workflow": 3,
    "_roles": 3,
    "_store": 4,
    "_views": 5,
    # The write pipeline, below the facade that delegates to it:
    "_writer": 6,
    "_ledger": 7,
    # Files and renderers take records and report data, never the ledger:
    # the ledger (and the CLI) call them.
    "_io": 5,
    "_render": 5,
    "_demo": 8,
    "testing": 8,
    "aio": 8,
    "cli": 9,
    "_cli": 9,
}


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        found[".".join(["rectflow", *parts])] = path
    return found


def _imports(path: pathlib.Path, name: str) -> set[str]:
    """rectflow modules *path* imports at run time (TYPE_CHECKING blocks included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("rectflow"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            if mod.startswith("rectflow"):
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package root re-exports everything
    return LAYERS.get(parts[1])


MODULES = _modules()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_imports_only_lower_layers(name):
    """Each module imports only from its own layer or the layers below it."""
    own = _layer(name)
    if own is None:
        return
    assert own is not None
    upward = sorted(
        m
        for m in _imports(MODULES[name], name)
        if m in MODULES and (layer := _layer(m)) is not None and layer > own
    )
    assert upward == [], f"{name} (layer {own}) imports from higher layers: {upward}"


def test_every_module_has_a_layer():
    """A new top-level module is placed in a layer on purpose."""
    tops = {n.split(".")[1] for n in MODULES if n.count(".") >= 1}
    assert tops <= set(LAYERS), sorted(tops - set(LAYERS))


def test_no_import_cycles():
    """The import graph of the package has no cycle."""
    graph = {n: {m for m in _imports(p, n) if m in MODULES and m != n} for n, p in MODULES.items()}
    graph.pop("rectflow", None)
    for deps in graph.values():
        deps.discard("rectflow")
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
