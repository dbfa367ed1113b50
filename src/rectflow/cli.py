"""The ``rectflow`` command line.

Every command takes ``--ledger PATH_OR_URL`` (default ``./rectflow.db``, or the
``RECTFLOW_LEDGER`` environment variable), ``--lang zh|en`` and ``--json``.
Exit codes: 0 success, 1 a check failed (``verify``, ``demo``), 2 bad input or a
refused event; user mistakes never print a traceback: one line on stderr
(``rectflow: …``), or with ``--json`` an object with ``error`` (the exception's
class), ``message`` and its structured fields.

With ``--json`` each command prints one JSON document with stable keys:

* ``init``: ``ledger``, ``count``; ``head``: ``count``, ``hash``;
* ``verify``: ``ok``, ``count``, ``head``, ``problems``;
* ``report``: the report's data (``Report.json_schema()``, ``schema_version``);
* ``agenda``: ``as_of``, ``timezone``, ``inspections``, ``upcoming`` (``Agenda.to_dict``);
* ``add-inspection``, ``change-inspection``: the inspection (``id``, ``title``, ``feedback_at``,
  ``declared_findings``, ``created_at``, ``report_submitted_at``, ``unit``);
* ``add``, ``fire``: the finding after the event (the ``Finding`` record's fields);
* ``show``: ``finding``, ``history``; ``history``: a list of events (``finding_id``,
  ``name``, ``at``, ``actor``, ``note``, ``evidence``, ``payload``, ``version``);
* ``list``: a list of findings;
* ``diagram``: ``format``, ``diagram``;
* with ``-o FILE`` (``report``, ``agenda``, ``diagram``): ``output``, ``format``, ``bytes``.

:func:`build_parser` returns the parser (the docs generate the CLI reference from it).
The commands live in :mod:`rectflow._cli`, one module per group of commands.

argparse's own words (``usage:``, the ``--help`` headings, usage errors) follow the
language of the rest: ``--lang`` wherever it stands on the command line, else
``RECTFLOW_LANG``, else Chinese.
"""

from __future__ import annotations

import sys

from rectflow._cli import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
