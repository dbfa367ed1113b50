"""Running the documentation's console sessions (used by ``docs/conftest.py``)."""

from __future__ import annotations

import contextlib
import doctest
import io
import shlex

CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def run_console(session: str) -> str | None:
    """Run a console session; a description of the first mismatch, or None."""
    from rectflow.cli import main  # noqa: PLC0415

    commands: list[tuple[str, list[str]]] = []
    for line in session.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        elif line.strip():
            return f"output before the first command: {line!r}"
    for command, expected in commands:
        argv = shlex.split(command)
        if not argv or argv[0] != "rectflow":
            return f"only rectflow commands run here: {command!r}"
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                code = main(argv[1:])
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else 1
        got = out.getvalue()
        if code:
            got += f"[exit {code}]\n"
        want = "\n".join(expected).strip() + "\n"
        if code and f"[exit {code}]" not in want:
            return f"$ {command}\nexited {code}, which the block does not show:\n{got}"
        if not CHECKER.check_output(want, got, FLAGS):
            return f"$ {command}\n--- expected ---\n{want}--- got ---\n{got}"
    return None
