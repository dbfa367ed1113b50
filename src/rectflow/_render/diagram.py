"""The workflow drawn from its live machine: mermaid, Graphviz DOT, and SVG.

Edges come from the shared ``transitions`` machine (``workflow.machine.events``),
labelled with each event's guards, the app's extra rules included, so what is
drawn is what runs. SVG needs the ``graphviz`` extra (and Graphviz's ``dot``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rectflow._workflow import Workflow


class GraphvizMissing(RuntimeError):
    """The ``graphviz`` package or its ``dot`` program is not installed."""


def _final(workflow: Workflow) -> tuple[str, ...]:
    """The definition's terminal states (``cancelled``): nothing leaves them."""
    return tuple(s.name for s in workflow.spec.states if s.kind == "terminal")


def guard_names(workflow: Workflow, event: str) -> tuple[str, ...]:
    """The names of *event*'s guards, built-in and extra, in the order they run."""
    return tuple(
        getattr(rule, "__rectflow_rule__", None)
        or getattr(rule, "__name__", type(rule).__name__).strip("_")
        for rule in workflow.rules.get(event, ())
    )


def edges(workflow: Workflow) -> Iterator[tuple[str, str, str]]:
    """``(source, dest, event)`` for every edge of the machine."""
    for name, event in workflow.machine.events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                yield source, (t.dest if t.dest is not None else source), name


def _label(workflow: Workflow, event: str, lang: str) -> str:
    guards = guard_names(workflow, event)
    name = event if lang == "en" else f"{event} {workflow.labels[event][0]}"
    return f"{name} [{', '.join(guards)}]" if guards else name


def mermaid(workflow: Workflow, lang: str = "zh") -> str:
    """A mermaid ``stateDiagram-v2``: states named in *lang*, edges with their guards."""
    lines = ["stateDiagram-v2"]
    if lang != "en":
        lines += [f"    {s}: {s} {workflow.state_label(s, lang)}" for s in workflow.states]
    lines.append(f"    [*] --> {workflow.machine.initial}")
    lines += [
        f"    {source} --> {dest}: {_label(workflow, name, lang)}"
        for source, dest, name in edges(workflow)
    ]
    lines += [f"    {s} --> [*]" for s in _final(workflow)]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _stack(labels: list[str]) -> str:
    """Labels one per line inside a DOT string (a backslash-n centres each line)."""
    return "\\n".join(_escape(label) for label in labels)


def _quote(text: str) -> str:
    return f'"{_escape(text)}"'


def dot(workflow: Workflow, lang: str = "zh") -> str:
    """The machine as Graphviz DOT text."""
    font = "Noto Sans CJK SC"
    lines = [
        "digraph rectflow {",
        "    rankdir=TB;",
        f"    graph [fontname={_quote(font)}];",
        f"    node [shape=box, style=rounded, fontname={_quote(font)}];",
        f"    edge [fontname={_quote(font)}, fontsize=10];",
        '    __start [shape=point, label=""];',
        f"    __start -> {workflow.machine.initial};",
    ]
    final = _final(workflow)
    for s in workflow.states:
        label = s if lang == "en" else f"{s}\\n{workflow.state_label(s, lang)}"
        shape = ", peripheries=2" if s in final else ""
        lines.append(f'    {s} [label="{label}"{shape}];')
    grouped: dict[tuple[str, str], list[str]] = {}
    for source, dest, name in edges(workflow):  # one edge per pair, its events stacked
        grouped.setdefault((source, dest), []).append(_label(workflow, name, lang))
    lines += [
        f'    {source} -> {dest} [label="{_stack(labels)}"];'
        for (source, dest), labels in grouped.items()
    ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def svg(workflow: Workflow, lang: str = "zh") -> str:
    """The machine as SVG, laid out by Graphviz's ``dot``.

    Raises:
        GraphvizMissing: Without the ``graphviz`` package or the ``dot`` program.
    """
    try:
        import graphviz  # noqa: PLC0415
    except ImportError as exc:
        raise GraphvizMissing(str(exc)) from exc
    try:
        out: bytes = graphviz.pipe("dot", "svg", dot(workflow, lang).encode("utf-8"))
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing(str(exc)) from exc
    text = out.decode("utf-8")
    return text[text.index("<svg") :]
