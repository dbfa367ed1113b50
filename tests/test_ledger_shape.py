"""The ledger's shape: a thin facade over its write pipeline, files behind a typed API.

``rectflow._ledger`` holds the public methods and delegates; the write pipeline
is ``rectflow._writer.Writer``; imports and exports live in ``rectflow._io``
and reach the ledger only through the typed :class:`~rectflow._io.access.LedgerAccess`
(and the :class:`~rectflow._io.plan.Planner` it extends), never through its
private methods.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import typing

import attrs

import rectflow
from rectflow._io.access import LedgerAccess
from rectflow._io.plan import Hooks, Planner
from rectflow._store.memory import MemoryStore
from rectflow._writer import Writer

PACKAGE = pathlib.Path(rectflow.__file__).parent
IO_MODULES = sorted((PACKAGE / "_io").glob("*.py"))


def _protocol_members(protocol: type) -> set[str]:
    members: set[str] = set()
    for cls in protocol.__mro__:
        if cls in (object, typing.Protocol, typing.Generic):
            continue
        members |= {n for n in vars(cls) if not n.startswith("_")}
        members |= set(getattr(cls, "__annotations__", {}))
    return members


def test_the_ledger_module_is_a_thin_facade():
    """``_ledger.py`` is the public methods and their docstrings, delegating (was 2,248 lines)."""
    lines = (PACKAGE / "_ledger.py").read_text(encoding="utf-8").count("\n")
    assert lines < 800, lines


def test_io_never_imports_the_ledger_or_its_writer():
    """Files sit below the ledger: no ``_io`` module imports ``_ledger`` or ``_writer``."""
    offenders = []
    for path in IO_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith(("rectflow._ledger", "rectflow._writer"))
            ]
    assert offenders == []


def test_io_calls_no_private_method_of_another_object():
    """No ``x._name(...)`` in ``_io`` but on ``self``/``cls``: the ledger lends typed methods."""
    offenders = []
    for path in IO_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            attr, owner = node.func.attr, node.func.value
            private = attr.startswith("_") and not attr.startswith("__")
            if private and not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                offenders.append(f"{path.name}:{node.lineno}: .{attr}(")
    assert offenders == []


def test_io_uses_only_what_the_typed_api_declares():
    """Every attribute ``_io`` reads from the ledger's access object or its planner is declared."""
    declared = _protocol_members(LedgerAccess)
    assert declared >= _protocol_members(Planner)
    used: set[str] = set()
    for path in IO_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == "access") or (
                isinstance(owner, ast.Attribute) and owner.attr == "planner"
            ):
                used.add(node.attr)
    assert used, "the import and export code reaches the ledger through `access`/`planner`"
    assert used <= declared, sorted(used - declared)
    assert not any(name.startswith("_") for name in used)


def test_the_writer_has_every_method_of_the_typed_api_with_its_parameters():
    """The writer the ledger lends offers each declared method, parameters alike."""
    writer = Writer(MemoryStore())
    for name in sorted(_protocol_members(LedgerAccess)):
        assert hasattr(writer, name), name
        declared = getattr(LedgerAccess, name, None)
        if not callable(declared):
            continue
        wanted = list(inspect.signature(declared).parameters)
        have = inspect.signature(getattr(Writer, name)).parameters
        assert list(have)[: len(wanted)] == wanted, name
        extra = list(have.values())[len(wanted) :]  # more, with defaults, is still the API
        assert all(p.default is not inspect.Parameter.empty for p in extra), name


def test_an_import_plan_gets_no_untyped_callables():
    """``Hooks`` lends a typed :class:`Planner`, not ``Callable[..., ...]`` fields."""
    fields = attrs.fields_dict(Hooks)
    assert "planner" in fields
    untyped = [n for n, f in fields.items() if "Callable[...," in str(f.type)]
    assert untyped == []
