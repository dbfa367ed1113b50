"""The command line as a package: every command declared next to its handler, all listed."""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import inspect
import pathlib
import subprocess
import sys

import pytest

import rectflow.cli
from rectflow import _cli
from rectflow._cli import app

COMMANDS = _cli.commands()
SUPPORT = {"__init__", "app", "parser", "words"}
"""The package's modules that hold no command."""


def _top_level(module: object) -> list[str]:
    """The names of *module*'s top-level statements, in source order ('' for others)."""
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    return [
        node.name if isinstance(node, ast.FunctionDef | ast.ClassDef) else "" for node in tree.body
    ]


def test_every_command_module_is_listed_and_declares_commands():
    """Each module of rectflow._cli but the support ones is in MODULES and declares a command."""
    folder = pathlib.Path(_cli.__file__).parent
    found = {p.stem for p in folder.glob("*.py")} - SUPPORT
    assert found == {m.__name__.rpartition(".")[2] for m in _cli.MODULES}
    declaring = {c.handler.__module__ for c in COMMANDS}
    assert declaring == {m.__name__ for m in _cli.MODULES}


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.name)
def test_command_declares_its_arguments_right_above_its_handler(cmd: app.Command):
    """The function adding a command's arguments is the statement just before its handler."""
    module = sys.modules[cmd.handler.__module__]
    assert module in _cli.MODULES
    names = _top_level(module)
    at = names.index(cmd.handler.__name__)
    if cmd.arguments is None:  # a command with only the common options (init)
        assert names[at - 1] != f"{cmd.handler.__name__}_arguments"
        return
    assert cmd.arguments.__module__ == cmd.handler.__module__
    assert names[at - 1] == cmd.arguments.__name__, (cmd.name, names[at - 1])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_help_lists_every_registered_command(
    lang: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    """`rectflow --help` has one line per command, with its help, in both languages."""
    monkeypatch.setenv("COLUMNS", "200")  # one line per command
    with pytest.raises(SystemExit) as stop:
        rectflow.cli.main(["--help", "--lang", lang])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("用法: " if lang == "zh" else "usage: ")
    lines = [
        line.split(None, 1)
        for line in text.splitlines()
        if line.startswith("    ") and not line[4].isspace()
    ]
    listed = [(name, rest.strip()) for name, rest in lines]
    assert listed == [(c.name, c.help) for c in COMMANDS]
    assert "{" + ",".join(c.name for c in COMMANDS) + "}" in text


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.name)
def test_command_parser_has_the_arguments_it_declares(cmd: app.Command):
    """Each command's parser holds the common options and what its arguments function adds."""
    parser = _cli.build_parser("en")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[
        cmd.name
    ]
    own = argparse.ArgumentParser(add_help=False)
    if cmd.arguments is not None:
        cmd.arguments(own)
    declared = {a.dest for a in own._actions}
    dests = {a.dest for a in sub._actions}
    assert declared <= dests
    assert {"ledger", "lang", "policy", "json", "help"} <= dests


def test_a_command_declared_twice_is_refused():
    """Registering a second handler under a taken name fails and keeps the first."""
    first = app.COMMANDS["init"]
    with pytest.raises(ValueError, match="declared twice"):
        app.command("init", help="again")(lambda _args: 0)
    assert app.COMMANDS["init"] is first


def test_public_entry_points_are_the_package_s():
    """`rectflow.cli` (the console script's target) re-exports the package's main and parser."""
    assert rectflow.cli.main is _cli.main
    assert rectflow.cli.build_parser is _cli.build_parser
    scripts = importlib.metadata.entry_points(group="console_scripts", name="rectflow")
    assert [s.value for s in scripts] == ["rectflow.cli:main"]
    assert next(iter(scripts)).load() is _cli.main


def test_python_m_rectflow_cli_runs(tmp_path: pathlib.Path):
    """`python -m rectflow.cli` still runs the command line."""
    proc = subprocess.run(
        [sys.executable, "-m", "rectflow.cli", "--lang", "en", "init", "--ledger", ":memory:"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ledger initialised: :memory:"
