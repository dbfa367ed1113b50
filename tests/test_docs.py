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
