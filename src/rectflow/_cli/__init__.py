"""The ``rectflow`` command line: one module per group of commands.

Each command module declares its commands with :func:`rectflow._cli.app.command`, the
function adding a command's arguments right above its handler. :func:`build_parser`
builds the parser from them, in the order of :data:`MODULES`; :func:`main` parses the
command line and runs the handler. The public entry point is :mod:`rectflow.cli`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Final

from rectflow._cli import files, findings, inspections, ledger, reports, roles
from rectflow._cli.app import COMMANDS, Command, run
from rectflow._cli.parser import Parser, common_options, lang_of

__all__ = ["MODULES", "build_parser", "commands", "main"]

MODULES: Final[tuple[ModuleType, ...]] = (ledger, roles, inspections, findings, reports, files)
"""The command modules, in the order ``rectflow --help`` lists their commands."""


def commands() -> list[Command]:
    """Every command, module by module in the order of :data:`MODULES`, each in declared order."""
    order = {module.__name__: n for n, module in enumerate(MODULES)}
    return sorted(COMMANDS.values(), key=lambda c: order.get(c.handler.__module__, len(order)))


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The ``rectflow`` argument parser (every command and option, with its help).

    Args:
        lang: The language of argparse's own words: ``usage:``, the headings of
            ``--help`` and usage errors (``"zh"`` or ``"en"``).
    """
    top = common_options(defaults=True, lang=lang)
    common = common_options(defaults=False, lang=lang)
    parser = Parser(
        prog="rectflow", description="Rectification (整改) ledgers.", parents=[top], lang=lang
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in commands():
        command_parser = sub.add_parser(cmd.name, parents=[common], help=cmd.help)
        if cmd.arguments is not None:
            cmd.arguments(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        return run(build_parser(lang_of(argv)).parse_args(argv))
    except BrokenPipeError:  # `rectflow list | head`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
