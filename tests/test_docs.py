"""The docs stay true to the code."""

from __future__ import annotations

from pathlib import Path

from rectflow import Policy, Workflow
from rectflow.testing import ORACLE_EDGES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_workflow_page_shows_the_live_machine() -> None:
    """docs/workflow.md embeds exactly the diagram the live machine draws."""
    diagram = Workflow(Policy(calendar="weekdays")).mermaid()
    assert f"```mermaid\n{diagram}```" in (DOCS / "workflow.md").read_text(encoding="utf-8")


def test_diagram_edges_match_the_oracle() -> None:
    """Every edge the machine draws is an edge of the hand-written oracle, and vice versa."""
    lines = Workflow(Policy(calendar="weekdays")).mermaid().splitlines()
    edges = {}
    for line in lines:
        if ": " in line:
            left, event = line.strip().split(": ")
            source, dest = left.split(" --> ")
            edges[(source, event)] = dest
    assert edges == dict(ORACLE_EDGES)


README = DOCS.parent / "README.md"


def test_readme_library_example_runs(tmp_path, monkeypatch) -> None:
    """The README's library example runs as written and ends where it says."""
    text = README.read_text(encoding="utf-8")
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    ledger = namespace["ledger"]
    assert ledger.get("1.1.1").state == "completed"  # type: ignore[attr-defined]
    assert (tmp_path / "rectflow.db").exists()
    ledger.close()  # type: ignore[attr-defined]
