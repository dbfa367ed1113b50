"""The public surface: ``rectflow.__all__``, docstrings, the exception tree, ``py.typed``."""

from __future__ import annotations

import inspect
import types
from importlib import resources

import pytest

import rectflow
import rectflow.exceptions

EXPORTED_PRIVATE = {"__version__"}


def public_names(module: types.ModuleType) -> list[str]:
    """Names a module defines or imports that are public: no '_', no submodules, no future flag."""
    return [
        name
        for name, value in vars(module).items()
        if (not name.startswith("_") or name in EXPORTED_PRIVATE)
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    ]


def isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then everything else."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def exception_classes() -> list[type[BaseException]]:
    """Every exception class defined in rectflow.exceptions."""
    return [
        value
        for value in vars(rectflow.exceptions).values()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == "rectflow.exceptions"
    ]


def test_all_lists_exactly_the_public_names():
    """rectflow.__all__ holds every public name of the package and nothing else."""
    assert sorted(rectflow.__all__) == sorted(public_names(rectflow))


def test_all_has_no_duplicates():
    """No name is listed twice in __all__."""
    assert len(rectflow.__all__) == len(set(rectflow.__all__))


def test_all_is_sorted():
    """__all__ is kept in ruff's isort-style order (constants, classes, functions)."""
    assert rectflow.__all__ == sorted(rectflow.__all__, key=isort_key)


def test_every_exported_name_resolves():
    """`from rectflow import *` works: each name in __all__ is an attribute of the package."""
    namespace: dict[str, object] = {}
    exec("from rectflow import *", namespace)  # noqa: S102
    assert set(rectflow.__all__) <= set(namespace)


DOCUMENTED = [
    name
    for name in rectflow.__all__
    if inspect.isclass(getattr(rectflow, name)) or inspect.isfunction(getattr(rectflow, name))
]


def test_docstring_check_covers_the_api():
    """The docstring check below sees the classes and functions, not just constants."""
    assert {"Ledger", "Workflow", "Policy", "load_policy", "RectflowError"} <= set(DOCUMENTED)


@pytest.mark.parametrize("name", DOCUMENTED)
def test_exported_classes_and_functions_have_docstrings(name):
    """Every class and function in __all__ has its own docstring."""
    doc = getattr(rectflow, name).__doc__  # own docstring: a class does not inherit __doc__
    assert doc
    assert doc.strip()


def test_version_is_a_string():
    """__version__ is exported and is a non-empty string."""
    assert isinstance(rectflow.__version__, str)
    assert rectflow.__version__


def test_exceptions_module_all_matches_its_classes():
    """rectflow.exceptions.__all__ lists every exception class it defines, sorted."""
    names = sorted(cls.__name__ for cls in exception_classes())
    assert rectflow.exceptions.__all__ == names


def test_every_exception_is_reexported_from_the_package():
    """Each exception class is importable from rectflow itself, as the same object."""
    for cls in exception_classes():
        assert cls.__name__ in rectflow.__all__
        assert getattr(rectflow, cls.__name__) is cls


@pytest.mark.parametrize("cls", exception_classes(), ids=lambda c: c.__name__)
def test_every_exception_derives_from_rectflow_error(cls):
    """`except RectflowError` catches every error rectflow defines."""
    assert issubclass(cls, rectflow.RectflowError)
    assert cls.__doc__


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (rectflow.InvalidInput, ValueError),
        (rectflow.PolicyError, ValueError),
        (rectflow.DuplicateId, ValueError),
        (rectflow.FindingNotFound, KeyError),
        (rectflow.InspectionNotFound, KeyError),
    ],
)
def test_exceptions_subclass_the_fitting_builtin(cls, builtin):
    """Callers that only know the builtins (ValueError, KeyError) still catch rectflow errors."""
    assert issubclass(cls, builtin)


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (rectflow.PolicyError, rectflow.InvalidInput),
        (rectflow.SchemaVersionError, rectflow.StorageError),
        (rectflow.LedgerCorrupted, rectflow.StorageError),
    ],
)
def test_exception_tree(child, parent):
    """The documented hierarchy holds."""
    assert issubclass(child, parent)


def test_key_errors_are_not_quoted_like_key_error():
    """str() of a not-found error is its message, not KeyError's repr of it."""
    err = rectflow.FindingNotFound("1.1.1")
    assert str(err) == err.message
    assert not str(err).startswith(("'", '"'))
    assert "1.1.1" in str(err)
    assert err.finding_id == "1.1.1"


def test_rule_violation_carries_its_rule():
    """RuleViolation keeps .rule, .finding_id and .event as attributes."""
    err = rectflow.RuleViolation("signer_not_submitter", "msg", finding_id="F", event="sign_off")
    assert (err.rule, err.finding_id, err.event, str(err)) == (
        "signer_not_submitter",
        "F",
        "sign_off",
        "msg",
    )


def test_py_typed_is_shipped():
    """The package ships the PEP 561 marker py.typed."""
    assert resources.files("rectflow").joinpath("py.typed").is_file()
