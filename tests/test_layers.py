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
    "_spec": 3,
    "_roles": 3,
    "_store": 4,
    # The edges, each its own layer (issue 15). Views compute records (a report, an agenda,
    # a verification) from the store's rows and events; they import no renderer and no file.
    "_views": 5,
    # Renderers take the views' records and write text (Markdown, HTML, charts, calendars,
    # diagrams), in words from the one catalogue (_i18n); never the ledger.
    "_render": 6,
    # Files (import, export): the exported 台账's head dates itself as documents do (render's
    # fmt.zh_date); they import no view and never the ledger.
    "_io": 7,
    # The write pipeline, below the facade that delegates to it; both call views, renderers
    # and files.
    "_writer": 8,
    "_ledger": 9,
    "_demo": 10,
    "testing": 10,
    "aio": 10,
    "cli": 11,
    "_cli": 11,
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


#: Layers that may not import one another although one sits above the other: files (import,
#: export) take rows and plans, not the views' records.
APART: frozenset[tuple[str, str]] = frozenset({("_io", "_views")})


def test_apart_layers_do_not_import_each_other():
    """No module of a layer imports a module of a layer it is kept apart from."""
    found = sorted(
        (name, m)
        for name, path in MODULES.items()
        for m in _imports(path, name)
        if m in MODULES
        and name.count(".") >= 1
        and m.count(".") >= 1
        and (name.split(".")[1], m.split(".")[1]) in APART
    )
    assert found == []


def test_a_view_imports_no_renderer_and_no_file():
    """A view computes records; turning them into text or files is the renderers' and files'."""
    found = sorted(
        (name, m)
        for name, path in MODULES.items()
        if name.startswith("rectflow._views")
        for m in _imports(path, name)
        if m.startswith(("rectflow._render", "rectflow._io"))
    )
    assert found == []
