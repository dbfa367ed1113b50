"""The ledger table's columns, and reading and writing its cells.

A ledger file (整改台账) has one row per finding. Its headers are Chinese, with
English aliases; they are matched case-insensitively with spaces, punctuation
(full-width forms included) and required-markers (``*``) ignored. Cells are read
the way offices type them: dates as Excel dates or text in several styles,
deadlines as periods ("2个月", "长期"), lists one item per line.

Every text cell written to a spreadsheet is escaped against formula injection
(CWE-1236): :func:`escape_formula` and :func:`unescape_formula` are inverses.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs

from rectflow._model import FINDING_KINDS, STATE_LABELS, STATES
from rectflow.exceptions import InvalidInput

COLUMNS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "id": ("编号", "序号", "问题编号", "id"),
        "inspection": ("巡察", "巡察轮次", "巡视", "inspection"),
        "aspect": ("方面", "aspect"),
        "category": ("类别", "category"),
        "title": ("问题", "问题描述", "问题表现", "title"),
        "kind": ("整改类型", "kind"),
        "leader": ("责任领导", "leader"),
        "department": ("责任部门", "责任单位", "department"),
        "person": ("责任人", "person"),
        "deadline": ("整改时限", "完成时限", "deadline"),
        "measures": ("整改措施", "measures"),
        "state": ("状态", "整改状态", "state"),
        "progress": ("整改进展", "完成情况", "整改情况", "progress"),
        "evidence": ("佐证材料", "evidence"),
        "submitted_by": ("提交人", "submitted_by"),
        "signed_off_by": ("销号人", "signed_off_by"),
        "signed_off_at": ("销号时间", "signed_off_at"),
        "next_checkpoint": ("下次检查时间", "下一检查点", "next_checkpoint"),
        "state_at": ("状态时间", "更新时间", "state_at", "updated_at"),
        "itemized": ("是否列明", "itemized"),
        "remarks": ("备注", "remarks"),
    }
)
"""Each column's key and the headers that name it (the first is the one exported)."""

REQUIRED: Final = ("id", "inspection", "title", "deadline")
"""Columns a file must have (``inspection`` may instead be given for the whole file)."""

OWNER_COLUMNS: Final = ("department", "person", "leader")
"""Who answers for a finding: a file needs at least one of these columns, and each row a
name in one of them (office sheets often have 责任领导 and 责任人 but no 责任部门)."""

FILLED_DOWN: Final = ("aspect", "category")
"""Columns whose blank cells take the value above (cells merged down in the sheet)."""

KIND_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {"immediate": "立行立改", "deadline": "限期整改", "long_term": "长期坚持"}
)
LONG_TERM_WORDS: Final = frozenset({"长期", "长期坚持", "long term", "long_term", "ongoing"})

_STATE_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        **{zh: key for key, (zh, _en) in STATE_LABELS.items()},
        **{en: key for key, (_zh, en) in STATE_LABELS.items()},
        **{key: key for key in STATES},
        "已完成": "completed",
        "已销号": "completed",
        "已完成整改(已销号)": "completed",
        "阶段性成效": "staged_result",
        "已取得阶段性成效": "staged_result",
        "正在整改": "in_progress",
        "未开始": "assigned",
        "已撤销": "cancelled",
    }
)
_KIND_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        **{zh: key for key, zh in KIND_LABELS.items()},
        **{key: key for key in FINDING_KINDS},
        "long term": "long_term",
        "立即整改": "immediate",
    }
)
_YES: Final = frozenset({"是", "yes", "y", "true", "1", "√"})
_NO: Final = frozenset({"否", "no", "n", "false", "0", "×"})

_PUNCT = re.compile(r"[\s\W_]+")


def header_key(text: str) -> str:
    """A header reduced for matching: NFKC, case-folded, spaces and punctuation removed."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).casefold()


HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {header_key(alias): key for key, aliases in COLUMNS.items() for alias in aliases}
)
"""Reduced header text → column key."""


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column *index* (0 → A, 26 → AA)."""
    letters = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def word(text: str) -> str:
    """A cell's text reduced for matching words (NFKC, case-folded, spaces collapsed)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().replace("_", " ").split())


def parse_kind(text: str) -> str | None:
    """立行立改/限期整改/长期坚持 or the English name → the kind, or None."""
    value = word(text)
    return _KIND_WORDS.get(value) or _KIND_WORDS.get(value.replace(" ", "_"))


def parse_state(text: str) -> str | None:
    """A state in Chinese or English → the state, or None."""
    value = word(text)
    found = _STATE_WORDS.get(value) or _STATE_WORDS.get(value.replace(" ", "_"))
    if found is None:
        found = _STATE_WORDS.get(unicodedata.normalize("NFKC", text).strip())
    return found


def parse_flag(text: str) -> bool | None:
    """是/否, yes/no, true/false, 1/0 → a bool, or None."""
    value = word(text)
    if value in _YES:
        return True
    if value in _NO:
        return False
    return None


_DATE_STYLES: Final = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


class BadDate(ValueError):
    """The text looks like a date but is not a possible one (2024-02-30), or is out of range."""


EARLIEST: Final = dt.date(1900, 1, 1)
"""The first day a ledger file may name (Excel's first day; year 1 is a typing error)."""
LATEST: Final = dt.date(2999, 12, 31)
"""The last day a ledger file may name (dates past it overflow the period arithmetic)."""


def in_range(day: dt.date) -> bool:
    """Whether *day* is between :data:`EARLIEST` and :data:`LATEST`."""
    return EARLIEST <= day <= LATEST


def parse_day(value: object) -> dt.date | None:
    """A date cell: an Excel date, or text in one of the office styles.

    Returns None when *value* is not written like a date at all.

    Raises:
        BadDate: For a date-shaped text that is not a real day.
    """
    if isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        if not in_range(day):
            raise BadDate(str(value))
        return day
    if not isinstance(value, str):
        return None
    return _day_text(value)


@functools.lru_cache(maxsize=4096)
def _day_text(value: str) -> dt.date | None:
    """:func:`parse_day` of a text (cached: a file repeats the same few deadlines)."""
    text = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
    for style in _DATE_STYLES:
        m = style.match(text)
        if m:
            try:
                day = dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError as exc:
                raise BadDate(value) from exc
            if not in_range(day):
                raise BadDate(value)
            return day
    return None


def split_lines(text: str) -> tuple[str, ...]:
    """A list cell: one item per line, blank lines dropped."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


_ENUMERATED = re.compile(r"(?=[一二三四五六七八九十]+是)")


def split_measures(text: str) -> tuple[str, ...]:
    """Measures: one per line, and "一是…二是…三是…" split into one each."""
    out: list[str] = []
    for line in split_lines(text):
        parts = [p.strip() for p in _ENUMERATED.split(line) if p.strip()]
        # the separator before the next "N是" belongs to neither measure
        out.extend(p.rstrip(";；,，、 ") or p for p in parts[:-1])
        out.extend(parts[-1:])
    return tuple(out)


# ---------------------------------------------------------------- formula injection

_TRIGGERS: Final = frozenset("=+-@\t\r\n")
_LEADING: Final = " \u3000\u00a0'"


def _needs_escape(text: str) -> bool:
    """Whether a spreadsheet could read *text* (past spaces and quotes) as a formula."""
    rest = text.lstrip(_LEADING)
    return bool(rest) and unicodedata.normalize("NFKC", rest[0])[:1] in _TRIGGERS


def escape_formula(text: str) -> str:
    """*text* made inert for spreadsheets: a leading ``'`` when it could start a formula.

    Cells starting with ``= + - @``, a tab, a carriage return or a line feed (also after
    spaces, quotes or as full-width forms like ``＝``) are prefixed with ``'``.
    """
    return "'" + text if _needs_escape(text) else text


def unescape_formula(text: str) -> str:
    """The inverse of :func:`escape_formula`."""
    return text[1:] if text.startswith("'") and _needs_escape(text) else text


PLAIN_START_EXCEPT: Final = frozenset(" '\u3000\u00a0=\uff1d\ufe66\u207c\u208c")
"""The first characters after which a text cell needs a closer look (an export's
escape ``'``, the spaces :func:`is_formula` skips, and every character whose NFKC
form is ``=``; ``tests/test_io.py`` checks the last against all of Unicode)."""


def is_formula(text: str) -> bool:
    """Whether an unescaped text cell is a formula (starts with ``=`` past spaces)."""
    first = text[:1]
    if first.isascii() and first != " ":  # the common case: no space, no full-width form
        return first == "="
    rest = text.lstrip(" \u3000\u00a0")
    return bool(rest) and unicodedata.normalize("NFKC", rest[0]) == "="


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInput(
            f"{attribute.name} must be a positive int, not {value!r}",
            field=attribute.name,
            value=value,
        )


def _positive_seconds(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not 0 < value < float("inf")
    ):
        raise InvalidInput(
            f"{attribute.name} must be a positive number of seconds, not {value!r}",
            field=attribute.name,
            value=value,
        )


@attrs.frozen
class FileLimits:
    """Limits applied to every imported file (files are untrusted).

    A file over a limit is refused with a code, and nothing is written: a file
    larger than ``max_bytes`` (``file_too_large``), YAML nested deeper than
    ``max_depth`` (``yaml_depth``), a file not read and checked within
    ``max_seconds`` (``time_limit``).

    Attributes:
        max_rows: Most data rows (or YAML events) a file may have.
        max_cell_chars: Most characters in one cell (Excel's own limit by default).
        max_errors: Most errors reported; the rest are counted, not listed.
        max_bytes: Largest file, in bytes (an XLSX also may not unpack to more
            than 512 MiB).
        max_depth: Deepest nesting of a YAML file's lists and mappings (a ledger
            file needs 8); checked as the document is read, before it is built.
        max_seconds: Longest time reading and checking a file may take (its
            import's writing is not counted).
    """

    max_rows: int = attrs.field(default=1_000_000, validator=_positive)
    max_cell_chars: int = attrs.field(default=32_767, validator=_positive)
    max_errors: int = attrs.field(default=1000, validator=_positive)
    max_bytes: int = attrs.field(default=512 * 1024 * 1024, validator=_positive)
    max_depth: int = attrs.field(default=64, validator=_positive)
    max_seconds: float = attrs.field(default=300.0, validator=_positive_seconds)
