"""Ledger files (整改台账): CSV, XLSX and YAML in and out.

Below the ledger: this package reads files into checked rows and events and
writes records to files; it never imports the ledger, which lends what it needs
through a typed API (:class:`rectflow._io.access.LedgerAccess`, whose
:class:`rectflow._io.plan.Planner` part an import plan calls). The YAML restore
(``restore``), the table import (``tableimport``, with the monthly ``update``)
and the export (``export``) are separate code paths.
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
