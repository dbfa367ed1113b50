"""Every code block of the documentation runs as a test (sybil).

* ```` ```python ```` blocks run in order, one namespace per page.
* ```` ```console ```` blocks are shell sessions: each ``$ rectflow …`` line runs the
  command line in-process and the lines after it are its expected output
  (doctest rules: ``...`` matches anything, whitespace is normalised). A command
  that exits non-zero must show ``[exit N]`` as its last output line.
* ```` ```toml ```` blocks must parse; one with a ``[policy]`` table must load as a
  policy, and is saved as ``NAME.toml`` (its ``name``) for the blocks after it.

Each page runs in a fresh temporary directory. ``howto/postgresql.md`` gets
``$RECTFLOW_LEDGER`` pointing at a fresh schema of the test server (skipped when
there is none, except under ``CI``, where it fails).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sybil import Example, Sybil
from sybil.parsers.myst import CodeBlockParser, PythonCodeBlockParser, SkipParser

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))
from docs_examples import run_console

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PG_URL = os.environ.get("RECTFLOW_PG_URL") or "postgresql://postgres@127.0.0.1:5432/test"


class ConsoleParser(CodeBlockParser):
    """```` ```console ```` blocks: ``$ rectflow …`` and its expected output."""

    language = "console"

    def evaluate(self, example: Example) -> str | None:
        """Run the session in the page's directory."""
        return run_console(str(example.parsed))


class TomlParser(CodeBlockParser):
    """```` ```toml ```` blocks parse; a ``[policy]`` table loads and is saved as NAME.toml."""

    language = "toml"

    def evaluate(self, example: Example) -> str | None:
        """Parse the block; load a policy and save it in the page's directory."""
        text = str(example.parsed)
        data = tomllib.loads(text)
        if "policy" in data:
            from rectflow import load_policy  # noqa: PLC0415

            path = Path(f"{data['policy']['name']}.toml")
            path.write_text(text, encoding="utf-8")
            load_policy(str(path))
        return None


def _enter_tmp(namespace: dict[str, Any]) -> None:
    namespace["_docs_cwd"] = Path.cwd()
    namespace["_docs_tmp"] = Path(tempfile.mkdtemp(prefix="rectflow-docs-"))
    os.chdir(namespace["_docs_tmp"])


def _leave_tmp(namespace: dict[str, Any]) -> None:
    os.chdir(namespace["_docs_cwd"])
    shutil.rmtree(namespace["_docs_tmp"], ignore_errors=True)


def _pg_setup(namespace: dict[str, Any]) -> None:
    _enter_tmp(namespace)
    namespace["pg_missing"] = False
    try:
        import psycopg  # noqa: PLC0415

        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:
        if os.environ.get("CI"):
            msg = f"CI is set, so the PostgreSQL how-to must run: {exc}"
            raise RuntimeError(msg) from exc
        namespace["pg_missing"] = True
        return
    schema = f"rf_docs_{uuid.uuid4().hex[:12]}"
    namespace["_docs_schema"] = schema
    namespace["_docs_env"] = os.environ.get("RECTFLOW_LEDGER")
    os.environ["RECTFLOW_LEDGER"] = f"{PG_URL}?schema={schema}"


def _pg_teardown(namespace: dict[str, Any]) -> None:
    schema = namespace.get("_docs_schema")
    if schema:
        previous = namespace.get("_docs_env")
        if previous is None:
            os.environ.pop("RECTFLOW_LEDGER", None)
        else:
            os.environ["RECTFLOW_LEDGER"] = previous
        import psycopg  # noqa: PLC0415
        from psycopg import sql  # noqa: PLC0415

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    _leave_tmp(namespace)


def _parsers() -> list[Any]:
    return [PythonCodeBlockParser(), ConsoleParser(), TomlParser(), SkipParser()]


PG_PAGES = ["howto/postgresql.md"]

pytest_collect_file = (
    Sybil(
        parsers=_parsers(),
        patterns=["*.md"],
        excludes=[*PG_PAGES, "_build/*"],
        setup=_enter_tmp,
        teardown=_leave_tmp,
        name="docs",
    )
    + Sybil(
        parsers=_parsers(),
        patterns=PG_PAGES,
        setup=_pg_setup,
        teardown=_pg_teardown,
        name="docs-postgresql",
    )
).pytest()
