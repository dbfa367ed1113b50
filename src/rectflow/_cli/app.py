"""What every command shares: the command registry, opening the ledger, output, errors.

A command is declared next to its handler::

    def _verify_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("--anchor", help="…")


    @command("verify", help="check the hash chain …", arguments=_verify_arguments)
    def _verify(args: argparse.Namespace) -> int: ...

:data:`COMMANDS` holds them in the order they were declared; ``rectflow --help``
lists them module by module in the order of :data:`rectflow._cli.MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from rectflow._cli.parser import UsageError
from rectflow._cli.words import t
from rectflow._ledger import Ledger
from rectflow._policy import load_policy
from rectflow._spec import WorkflowSpec
from rectflow._views.integrity import hash_evidence
from rectflow.exceptions import RectflowError

Handler = Callable[[argparse.Namespace], int]
"""A command's handler: the parsed arguments in, the exit code out."""

Arguments = Callable[[argparse.ArgumentParser], None]
"""A command's arguments: adds them to the command's parser."""


@attrs.frozen
class Command:
    """One ``rectflow`` command: its name, its ``--help`` line, its arguments and handler."""

    name: str
    help: str
    handler: Handler
    arguments: Arguments | None = None


COMMANDS: Final[dict[str, Command]] = {}
"""Every command, by name, in the order declared."""


def command(
    name: str,
    *,
    help: str,  # noqa: A002 - argparse's word for it
    arguments: Arguments | None = None,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of command *name*.

    Args:
        name: The command as typed (``add-inspection``).
        help: Its one line in ``rectflow --help``.
        arguments: The function adding its arguments (besides the common options),
            defined right above the handler.
    """

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            msg = f"the command {name!r} is declared twice"
            raise ValueError(msg)
        COMMANDS[name] = Command(name, help, handler, arguments)
        return handler

    return register


def out(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print *data* as JSON with ``--json``, else *text*."""
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def emit(args: argparse.Namespace, text: str, fmt: str) -> None:
    """Print *text*, or write it to ``-o FILE`` and say so (a JSON object with --json)."""
    if args.output is None or args.output == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    path = Path(args.output)
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(
            t("cannot_write", args.lang, path=path, reason=exc.strerror or exc)
        ) from exc
    size = len(text.encode("utf-8"))
    data = {"output": str(path), "format": fmt, "bytes": size}
    out(args, data, t("written", args.lang, path=path, n=size))


def is_file(target: str) -> bool:
    """Whether the ``--ledger`` target is a file (not ``:memory:`` nor a URL)."""
    return target != ":memory:" and "://" not in target


def open_ledger(args: argparse.Namespace, *, create: bool = False) -> Ledger:
    """Open the ledger; only ``init`` and ``demo`` may create a file that is not there."""
    if not create and is_file(args.ledger) and not Path(args.ledger).exists():
        raise UsageError(t("no_ledger", args.lang, target=args.ledger))
    policy = load_policy(args.policy) if args.policy else None
    return Ledger.open(args.ledger, policy=policy, lang=args.lang, workflow=workflow_spec(args))


def workflow_spec(args: argparse.Namespace) -> WorkflowSpec | None:
    """The definition ``--workflow`` names (None: the default), its rules' modules imported first.

    ``--workflow-module MODULE`` (a dotted name on the path, or a ``.py`` file) is
    imported before the definition loads, so the ``@rectflow.rule`` functions it
    registers are known when the definition names them.
    """
    cached = getattr(args, "_workflow_spec", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    for module in getattr(args, "workflow_module", None) or ():
        import_module(module, args.lang)
    source = getattr(args, "workflow", None)
    if source is None:
        return None
    spec = WorkflowSpec.load(source)
    args._workflow_spec = spec  # noqa: SLF001 - the parsed namespace carries it on
    return spec


def import_module(module: str, lang: str) -> None:
    """Import *module*: a dotted name, or a ``.py`` file (imported under its stem)."""
    try:
        if module.endswith(".py"):
            _import_file(Path(module))
        else:
            importlib.import_module(module)
    except ImportError as exc:
        raise UsageError(t("no_module", lang, module=module, reason=exc)) from exc


def _import_file(path: Path) -> None:
    """Run the ``.py`` file *path* as the module named by its stem (once)."""
    name, where = path.stem, path.resolve()
    if getattr(sys.modules.get(name), "__file__", None) == str(where):
        return
    found = importlib.util.spec_from_file_location(name, where)
    if found is None or found.loader is None or not path.is_file():
        msg = f"no Python file {path}"
        raise ImportError(msg)
    loaded = importlib.util.module_from_spec(found)
    sys.modules[name] = loaded
    try:
        found.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[name]
        raise


def inspection_id(args: argparse.Namespace, ledger: Ledger) -> str:
    """The inspection named, or the ledger's only one."""
    if args.inspection is not None:
        return str(args.inspection)
    known = [i.id for i in ledger.inspections()]
    if len(known) == 1:
        return known[0]
    if not known:
        raise UsageError(t("no_inspection", args.lang))
    raise UsageError(t("which_inspection", args.lang, known=", ".join(known)))


KEY_ENV = "RECTFLOW_HEAD_KEY"
"""The environment variable an HMAC key for heads is read from when no --key-file is given."""


def key(args: argparse.Namespace) -> bytes | None:
    """The HMAC key from --key-file, else from $RECTFLOW_HEAD_KEY, else None."""
    if args.key_file is not None:
        try:
            return Path(args.key_file).read_bytes().strip()
        except OSError as exc:
            raise UsageError(
                t("no_key_file", args.lang, path=args.key_file, error=exc.strerror)
            ) from exc
    value = os.environ.get(KEY_ENV)
    return value.encode("utf-8") if value else None


def evidence(refs: Sequence[str]) -> list[str]:
    """Evidence references, a local file replaced by its hashed reference."""
    return [hash_evidence(r) if Path(r).is_file() else r for r in refs]


def run(args: argparse.Namespace) -> int:
    """Run the command *args* names; a user's mistake is one line on stderr and exit code 2."""
    try:
        return COMMANDS[args.command].handler(args)
    except (RectflowError, UsageError) as exc:
        _error(args, exc)
        return 2
    except BrokenPipeError:
        raise
    except OSError as exc:  # a file the command reads or writes: one line, no traceback
        where = exc.filename if exc.filename is not None else args.ledger
        _error(args, UsageError(t("os_error", args.lang, path=where, reason=exc.strerror or exc)))
        return 2


_ERROR_FIELDS: Final = (
    "rule",
    "finding_id",
    "field",
    "expected",
    "actual",
    "state",
    "event",
    "actor",
    "needed",
)
"""The fields of an error ``--json`` shows, when the error has them."""


def _error(args: argparse.Namespace, exc: Exception) -> None:
    message = exc.in_lang(args.lang) if isinstance(exc, RectflowError) else str(exc)
    message = " ".join(message.split())  # one line, whatever the message held
    data = {"error": type(exc).__name__, "message": message}
    for attr in _ERROR_FIELDS:
        if hasattr(exc, attr):
            data[attr] = getattr(exc, attr)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str), file=sys.stderr)
    else:
        print(f"rectflow: {message}", file=sys.stderr)
