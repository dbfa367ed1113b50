"""The argument parser's frame: argparse speaking Chinese or English, the common options.

argparse's own words (``usage:``, the ``--help`` headings, usage errors) follow the
language of the rest: ``--lang`` wherever it stands on the command line, else
``RECTFLOW_LANG``, else Chinese.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from rectflow._policy import PACKS

DEFAULT_LEDGER = "rectflow.db"

_ARGPARSE_ZH: Final = {
    "usage: ": "用法: ",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",  # Python 3.9 called them so
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s: 错误: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s: %(message)s",
    "the following arguments are required: %s": "缺少必需的参数: %s",
    "unrecognized arguments: %s": "无法识别的参数: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "无效的选择 %(value)r(可选: %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值 %(value)r",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多接受一个值",
    "expected at least one argument": "至少需要一个值",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "多余的值 %r",
    "ambiguous option: %(option)s could match %(matches)s": (
        "选项 %(option)s 不明确, 可能是: %(matches)s"
    ),
    "one of the arguments %s is required": "须给出参数 %s 之一",
    "unexpected option string: %s": "意外的选项 %s",
}
"""argparse's messages (its gettext message ids) in Chinese; English is argparse's own."""


def _argparse_gettext(lang: str) -> tuple[Callable[[str], str], Callable[[str, str, int], str]]:
    """The ``_`` and ``ngettext`` argparse translates with, for *lang*."""
    if lang != "zh":
        return (lambda text: text), (lambda one, many, n: one if n == 1 else many)

    def gettext(text: str) -> str:
        return _ARGPARSE_ZH.get(text, text)

    def ngettext(one: str, many: str, n: int) -> str:
        if one == "expected %s argument":
            return "需要 %s 个值"
        return one if n == 1 else many

    return gettext, ngettext


@contextlib.contextmanager
def _argparse_in(lang: str) -> Iterator[None]:
    """Argparse speaking *lang* while parsers are built, parse and print.

    argparse translates through gettext's ``_`` and ``ngettext`` looked up in its
    module when each message is made; they are swapped for the catalogue above and
    put back afterwards (the command line runs on one thread).
    """
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = _argparse_gettext(lang)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def lang_of(argv: Sequence[str]) -> str:
    """The language a command line asks for, before it is parsed (the last ``--lang`` wins)."""
    lang = os.environ.get("RECTFLOW_LANG", "zh")
    for i, arg in enumerate(argv):
        if arg.startswith("--lang="):
            lang = arg.partition("=")[2]
        elif arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg == "--":
            break
    return lang if lang in ("zh", "en") else "zh"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (usage, headings, errors) are in one language."""

    def __init__(self, *args: Any, lang: str = "zh", **kwargs: Any) -> None:
        self.lang = lang
        with _argparse_in(lang):
            super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any) -> Any:
        """Subcommands' parsers speak the same language."""
        kwargs.setdefault("parser_class", _parser_class(self.lang))
        with _argparse_in(self.lang):
            return super().add_subparsers(**kwargs)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        """Parse, argparse's errors and ``--help`` in the parser's language."""
        with _argparse_in(self.lang):
            return super().parse_known_args(*args, **kwargs)

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:
        """Parse (unrecognized arguments are reported here, after the known ones)."""
        with _argparse_in(self.lang):
            return super().parse_args(*args, **kwargs)

    def error(self, message: str) -> Any:
        """The usage line and ``prog: 错误: message`` on stderr; exit 2."""
        with _argparse_in(self.lang):
            return super().error(message)

    def format_usage(self) -> str:
        """The usage line (``用法:`` in Chinese)."""
        with _argparse_in(self.lang):
            return super().format_usage()

    def format_help(self) -> str:
        """The help text, its headings in the parser's language."""
        with _argparse_in(self.lang):
            return super().format_help()


def _parser_class(lang: str) -> Callable[..., Parser]:
    def make(*args: Any, **kwargs: Any) -> Parser:
        return Parser(*args, lang=lang, **kwargs)

    return make


def common_options(*, defaults: bool, lang: str) -> argparse.ArgumentParser:
    """Options accepted before and after the command (after it, they override)."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    common = Parser(add_help=False, lang=lang)  # its headings merge with the command's
    common.add_argument(
        "--ledger",
        default=default(os.environ.get("RECTFLOW_LEDGER", DEFAULT_LEDGER)),
        help="ledger file, ':memory:' or postgresql:// URL "
        "(default: $RECTFLOW_LEDGER or ./rectflow.db)",
    )
    common.add_argument(
        "--lang", choices=("zh", "en"), default=default(os.environ.get("RECTFLOW_LANG", "zh"))
    )
    common.add_argument(
        "--policy",
        default=default(None),
        help=f"a policy TOML file or a shipped pack ({', '.join(PACKS)}); default xuncha",
    )
    common.add_argument(
        "--workflow",
        default=default(None),
        metavar="FILE",
        help="a workflow definition TOML file or a shipped one (xuncha); "
        "default: the ledger's, else xuncha",
    )
    common.add_argument(
        "--workflow-module",
        action="append",
        default=default([]),
        metavar="MODULE",
        help="import MODULE (a dotted name or a .py file) before --workflow loads, "
        "so the rules it registers are known (repeatable)",
    )
    common.add_argument(
        "--json", action="store_true", default=default(value=False), help="machine-readable output"
    )
    return common


class UsageError(Exception):
    """A mistake on the command line: one line on stderr, exit code 2."""
