"""Ledger files (整改台账): CSV, XLSX and YAML in and out.

Below the ledger: this package reads files into checked rows and events and
writes records to files; it never imports the ledger, which lends what it needs
(:class:`rectflow._io.plan.Hooks`) and writes what a plan returns.
"""

from rectflow._io.cells import COLUMNS, FileLimits, escape_formula, unescape_formula
from rectflow._io.files import FORMATS, ImportSummary
from rectflow._io.table import FileIssue

__all__ = [
    "COLUMNS",
    "FORMATS",
    "FileIssue",
    "FileLimits",
    "ImportSummary",
    "escape_formula",
    "unescape_formula",
]
