"""The documentation stays true to the code: generated pages, runnable examples, the README."""

from __future__ import annotations

import argparse
import re
import sys
import types
from pathlib import Path

import pytest

import rectflow
from rectflow import Policy, Workflow
from rectflow._policy import PACKS
from rectflow._workflow import RULES
from rectflow.testing import ORACLE_EDGES

DOCS = Path(__file__).resolve().parent.parent / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

rectflow_docs = pytest.importorskip("rectflow_docs", reason="needs the docs extra (sphinx)")
docs_examples = pytest.importorskip("docs_examples")

OTHER_BRANCHES_PAGES = {"howto/import-excel.md", "performance.md", "reference/report-schema.md"}
"""Pages other helpers write; they follow their own conventions."""


def test_diagram_edges_match_the_oracle() -> None:
    """Every edge the machine draws is an edge of the hand-written oracle, and vice versa."""
    lines = Workflow(Policy(calendar="weekdays")).mermaid().splitlines()
    edges = {}
    for line in lines:
        if ": " in line:
            left, event = line.strip().split(": ")
            source, dest = left.split(" --> ")
            edges[(source, event)] = dest
    # attest: the import's completion on an office sheet's word (issue 14), not fired by people
    imported = {(s, "attest"): "completed" for s in ("in_progress", "staged_result")}
    assert edges == dict(ORACLE_EDGES) | imported


def test_diagram_block_is_the_live_machine() -> None:
    """The generated diagram is exactly what ``Workflow.mermaid()`` draws."""
    diagram = Workflow(Policy(calendar="weekdays")).mermaid()
    assert rectflow_docs.diagram_markdown() == f"```{{mermaid}}\n{diagram}```\n"


def test_api_page_documents_every_public_name() -> None:
    """Each name of ``rectflow.__all__`` gets an autodoc entry, in a section of its layer."""
    text = rectflow_docs.api_markdown()
    for name in rectflow.__all__:
        assert re.search(
            rf"^\.\. (autoclass|autoexception|autofunction):: rectflow\.{name}$"
            rf"|^\.\. py:data:: {re.escape(name)}$",
            text,
            re.MULTILINE,
        ), name
    sections = re.split(r"^## ", text, flags=re.MULTILINE)
    errors = next(s for s in sections if s.startswith("Errors"))
    assert ".. autoexception:: rectflow.RuleViolation" in errors
    assert ".. autoclass:: rectflow.Ledger" in next(
        s for s in sections if s.startswith("The ledger")
    )
    assert ".. automodule:: rectflow.calendar" in text
    assert ".. automodule:: rectflow.testing" in text
    assert ".. automodule:: rectflow.aio" in text


def test_api_data_entries_carry_value_and_docstring() -> None:
    """Constants show a deterministic value and the docstring written under them."""
    text = rectflow_docs.api_markdown()
    entry = text.split(".. py:data:: OPEN_STATES", 1)[1].split(".. py:", 1)[0]
    assert (
        ":value: frozenset({'assigned', 'in_progress', 'pending_signoff', 'staged_result'})"
        in entry
    )
    assert "still being rectified" in entry


def test_cli_page_lists_every_command_and_option() -> None:
    """Every subcommand has a section and every option string of it appears."""
    parser = rectflow_docs.find_parser()
    text = rectflow_docs.cli_markdown(parser)
    for name, _help, sub in rectflow_docs._subcommands(parser):
        assert f"## `rectflow {name}`" in text
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in text, (name, option)
    assert "## Options of every command" in text


def test_cli_parser_found_through_main_when_there_is_no_factory() -> None:
    """A CLI module without ``build_parser``/``_parser`` gives up the parser ``main`` builds."""

    def main(argv: list[str]) -> int:
        parser = argparse.ArgumentParser(prog="tool")
        sub = parser.add_subparsers(dest="command")
        sub.add_parser("go", help="go somewhere").add_argument("--far", action="store_true")
        try:
            parser.parse_args(argv)
        except Exception:  # a CLI that swallows errors must not hide the parser
            return 2
        return 0

    parser = rectflow_docs.find_parser(types.SimpleNamespace(main=main))
    assert parser.prog == "tool"
    text = rectflow_docs.cli_markdown(parser)
    assert "## `tool go`" in text
    assert "`--far`" in text


def test_cli_parser_prefers_build_parser() -> None:
    """``build_parser()`` wins when the module has one."""
    built = argparse.ArgumentParser(prog="built")
    module = types.SimpleNamespace(build_parser=lambda: built, main=lambda argv: 0)
    assert rectflow_docs.find_parser(module) is built


def test_rules_of_reads_the_guards_in_order() -> None:
    """The rule names of a guard are read from its ``ctx.fail(...)`` calls, in source order."""
    names = [name for rule in RULES["extend"] for name in rectflow_docs.rules_of(rule)]
    assert names == [
        "requester_required",
        "reason_required",
        "deadline_required",
        "extension_filed_in_time",
        "approver_not_requester",
        "max_extensions",
        "new_deadline_later",
    ]


def test_events_table_matches_the_machine() -> None:
    """Each event row lists the sources the machine allows and the guards RULES runs."""
    rows = {
        line.split("|")[1].split("`")[1]: line
        for line in rectflow_docs.events_markdown().splitlines()[2:]
    }
    assert set(rows) == set(RULES)
    for (source, event), _dest in ORACLE_EDGES.items():
        assert source in rows[event].split("|")[2], (source, event)
    assert "signer_not_submitter" in rows["sign_off"]
    assert "signer_not_responsible" in rows["sign_off"]
    assert rows["start"].split("|")[4].strip() == "—"


def test_every_rule_raised_in_the_code_has_an_entry() -> None:
    """Rules raised outside RULES (by the ledger, by the time check) are documented too."""
    raised = rectflow_docs.all_rules()
    assert {"before_feedback", "spot_check_draw", "time_order", "not_in_future"} <= set(raised)
    text = rectflow_docs.rules_markdown()
    for name in raised:
        assert f"### `{name}`" in text
        assert f"(rule-{name.replace('_', '-')})=" in text
    events = dict(re.findall(r"### `(\w+)`\n\n- events: (.*)", text))
    assert events["before_feedback"] == "`add`, `change_inspection`"
    assert events["spot_check_draw"] == "`spot_check`"
    assert events["time_order"] == "every event"
    assert events["note_required"] == "`stage`, `reject`"
    entry = text.split("### `look_back_wait`", 1)[1].split("###", 1)[0]
    assert "`recheck`" in entry
    assert "English: " in entry
    assert "中文: " in entry


def test_errors_table_shows_the_tree_and_builtins() -> None:
    """Every public error is a row naming the builtin it also is and its attributes."""
    text = rectflow_docs.errors_markdown()
    rows = {
        re.search(r"rectflow\.(\w+)`", line).group(1): line  # type: ignore[union-attr]
        for line in text.splitlines()[2:]
    }
    errors = {
        n
        for n in rectflow.__all__
        if isinstance(getattr(rectflow, n), type) and issubclass(getattr(rectflow, n), Exception)
    }
    assert set(rows) == errors
    assert "`ValueError`" in rows["InvalidInput"]
    assert "`KeyError`" in rows["FindingNotFound"]
    assert "`rule`" in rows["RuleViolation"]
    assert "&nbsp;" in rows["PolicyError"]  # nested under InvalidInput
    assert "&nbsp;" not in rows["RectflowError"]


def test_policy_table_reads_every_pack() -> None:
    """Each shipped pack is a row with its own values."""
    text = rectflow_docs.policies_markdown()
    for name in PACKS:
        assert f"| `{name}` |" in text
    hazard = next(line for line in text.splitlines() if line.startswith("| `hazard`"))
    assert "| 1 month | 1 month | 1 month | 3 working days | 1 |" in hazard


def test_report_json_page_lists_every_key() -> None:
    """Every key of the seed report's ``to_dict()`` appears with its type."""
    data = rectflow_docs.seed_report()
    text = rectflow_docs.report_json_markdown()
    assert (data["declared"], data["completed"], data["staged"]) == (28, 18, 10)
    for key in data:
        assert re.search(rf"^\| `{re.escape(key)}` \| \w+ \|", text, re.MULTILINE), key
    assert "| `declared` | integer | `28` |" in text


def test_report_json_page_includes_shipped_schemas(tmp_path, monkeypatch) -> None:
    """A ``*.schema.json`` file shipped in the package is shown on the page."""
    (tmp_path / "_render").mkdir()
    (tmp_path / "_render" / "report.schema.json").write_text('{"title": "report"}\n')
    monkeypatch.setattr(rectflow_docs, "PACKAGE", tmp_path)
    text = rectflow_docs.report_json_markdown()
    assert "## Schema: `report.schema.json`" in text
    assert '{"title": "report"}' in text


def test_console_sessions_compare_output(tmp_path, monkeypatch) -> None:
    """A console block passes only when the output matches, and shows failures' exit codes."""
    monkeypatch.chdir(tmp_path)
    run = docs_examples.run_console
    assert run("$ rectflow --ledger x.db init --lang en\nledger initialised: x.db\n") is None
    mismatch = run("$ rectflow --ledger x.db head\n1:...\n")
    assert mismatch is not None
    assert "--- got ---\n0:" in mismatch
    assert (
        run("$ rectflow --ledger nowhere.db head --lang en\nrectflow: no ledger ...\n[exit 2]\n")
        is None
    )
    assert run("$ rectflow --ledger nowhere.db head\n...\n") is not None  # the exit code shows
    assert run("$ ls\n") is not None


def _fences(text: str) -> list[str]:
    return re.findall(r"^```(\S*)", text, re.MULTILINE)[::2]


def test_every_code_block_of_the_site_runs() -> None:
    """Our pages hold only blocks the doc tests execute (python, console, toml) or directives."""
    pages = [p for p in DOCS.rglob("*.md") if "_build" not in p.parts]
    assert len(pages) >= 15
    for page in pages:
        rel = page.relative_to(DOCS).as_posix()
        if rel in OTHER_BRANCHES_PAGES:
            continue
        for language in _fences(page.read_text(encoding="utf-8")):
            assert language in {"python", "console", "toml"} or language.startswith("{"), (
                rel,
                language,
            )


def test_every_page_is_in_a_toctree() -> None:
    """Each page of ours is listed in the index, so the build (with -W) and the nav include it."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in DOCS.rglob("*.md"):
        rel = page.relative_to(DOCS).with_suffix("").as_posix()
        if "_build" in page.parts or rel == "index":
            continue
        assert re.search(rf"^\??{re.escape(rel)}$", index, re.MULTILINE), rel


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


def test_optional_toctree_entries_follow_the_pages(tmp_path) -> None:
    """``?page`` entries are linked when the page exists and skipped, warning-free, when not;
    a missing entry without ``?`` still fails the build."""
    from sphinx.cmd.build import build_main  # noqa: PLC0415

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['myst_parser', 'rectflow_docs']\n",
        encoding="utf-8",
    )
    (src / "index.md").write_text(
        "# Home\n\n```{rectflow-toctree}\nthere\n?also-there\n?not-there\n```\n", encoding="utf-8"
    )
    (src / "there.md").write_text("# There\n", encoding="utf-8")
    (src / "also-there.md").write_text("# Also there\n", encoding="utf-8")
    out = tmp_path / "html"
    assert build_main(["-q", "-W", "-b", "html", str(src), str(out)]) == 0
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="there.html"' in html
    assert 'href="also-there.html"' in html
    assert "not-there" not in html
    (src / "index.md").write_text(
        "# Home\n\n```{rectflow-toctree}\nthere\nalso-there\nnot-there\n```\n", encoding="utf-8"
    )
    assert build_main(["-q", "-W", "-E", "-b", "html", str(src), str(tmp_path / "html2")]) != 0
