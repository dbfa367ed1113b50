"""The office's own wording: deadlines (立行立改, 3个月内, 2024年1月底) and progress phrases.

What the words mean is data (the policy's ``[policy.import]``,
:class:`rectflow._policy.ImportWords`); this module only reads cells with it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Mapping
from typing import Final

import attrs

from rectflow._io.cells import EARLIEST, LATEST, BadDate, parse_day, parse_state
from rectflow._policy import ImportWords

_NUMERALS: Final[Mapping[str, int]] = {
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
}
_SPANS: Final[Mapping[str, str]] = {
    "半年": "6个月",
    "一年": "12个月",
    "1年": "12个月",
    "半个月": "15天",
}
_PERIOD = re.compile(
    r"^(?P<n>\d{1,3}|十[一二]?|[一二两三四五六七八九十])(?P<unit>个工作日|工作日|个月|天|日|周|个星期)"
    r"(?:内|以内|之内)?(?:完成)?$"
)
_MONTH = re.compile(
    r"^(?P<y>\d{4})(?:年|[-/.])(?P<m>\d{1,2})月?(?P<end>底|末|前|份)?(?:前|之前|以前)?$"
)
_FULL_DAY = re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日?")
_TRAILING = re.compile(r"(?:前|之前|以前|完成|前完成)$")


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "").replace("\u3000", "")


@attrs.frozen
class Deadline:
    """A deadline cell as the office wrote it.

    Attributes:
        kind: ``"immediate"``, ``"long_term"`` or None (a day or a period: 限期整改).
        value: A day; a period's text (``"3个月"``, resolved from the feedback day);
            ``"immediate"`` or ``"long_term"``; ``""`` when the cell says nothing we know.
        why: Why a date-shaped text is not a day (``2024年2月只有29天``; both languages,
            see :func:`why_in`), else ``""``.
    """

    kind: str | None
    value: dt.date | str
    why: str = ""


def impossible(year: int, month: int, day: int) -> str:
    """Why ``year-month-day`` is not a day (``""`` if it is one): Chinese, ``|``, English."""
    if not 1 <= month <= 12:
        return f"没有{month}月|there is no month {month}"
    if not EARLIEST.year <= year <= LATEST.year:  # also keeps calendar off year 0
        first, final = EARLIEST.year, LATEST.year
        return f"年份{year}不在{first}–{final}年之间|year {year} is not within {first}–{final}"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"{year}年{month}月只有{last}天|{year}-{month:02d} has {last} days"
    return ""


def why_in(why: str, lang: str) -> str:
    """The reason :func:`impossible` gives, in *lang*."""
    zh, _, en = why.partition("|")
    return en if lang == "en" and en else zh


@functools.lru_cache(maxsize=1024)
def read_deadline(text: str, words: ImportWords) -> Deadline:
    """Read a deadline cell's text: 立行立改, 长期坚持, 2个月, 3个月内, 半年, 2024年1月底, a day.

    An unknown text gives ``Deadline(None, "")``; a date-shaped text that is not a
    real day gives the reason in ``why``.
    """
    plain = _plain(text)
    folded = plain.casefold()
    if any(folded == w.casefold() or plain.startswith(w) for w in words.immediate):
        return Deadline("immediate", "immediate")
    if any(folded == w.casefold() or plain.startswith(w) for w in words.long_term):
        return Deadline("long_term", "long_term")
    if folded in ("long term", "long_term", "ongoing"):
        return Deadline("long_term", "long_term")
    if full := _FULL_DAY.match(plain):
        why = impossible(int(full["y"]), int(full["m"]), int(full["d"]))
        if why:
            return Deadline(None, "", why)
        rest = plain[full.end() :]
        if not rest or _TRAILING.fullmatch(rest):
            return Deadline(None, dt.date(int(full["y"]), int(full["m"]), int(full["d"])))
    try:
        day = parse_day(_TRAILING.sub("", plain) or plain)
    except BadDate:
        return Deadline(None, "", _why_numeric(plain))
    if day is not None:
        return Deadline(None, day)
    if month := _MONTH.match(plain):
        year, m = int(month["y"]), int(month["m"])
        if why := impossible(year, m, 1):
            return Deadline(None, "", why)
        return Deadline(None, dt.date(year, m, calendar.monthrange(year, m)[1]))
    span = _SPANS.get(_TRAILING.sub("", plain.removesuffix("内").removesuffix("以")))
    if span is not None:
        return Deadline(None, span)
    if period := _PERIOD.match(plain):
        n_text, unit = period["n"], period["unit"]
        n = int(n_text) if n_text.isdigit() else _NUMERALS[n_text]
        if unit in ("周", "个星期"):
            return Deadline(None, f"{n * 7}天")
        return Deadline(None, f"{n}{'个工作日' if unit == '工作日' else unit}")
    return Deadline(None, "")


def _why_numeric(text: str) -> str:
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if len(numbers) == 3:
        return impossible(*numbers)
    return ""


class PhraseError(ValueError):
    """A progress phrase that maps to no state, or to two (``.known`` lists the phrases)."""

    def __init__(self, text: str, known: str, states: tuple[str, ...] = ()) -> None:
        super().__init__(text)
        self.text = text
        self.known = known
        self.states = states


def known_phrases(words: ImportWords) -> str:
    """The phrases a sheet may use, per state, in Chinese (for error messages)."""
    from rectflow._model import STATE_LABELS  # noqa: PLC0415

    return ";".join(
        f"{STATE_LABELS[state][0]}: {'、'.join(phrases)}"
        for state, phrases in words.states
        if state in STATE_LABELS
    )


def read_state(text: str, words: ImportWords) -> str:
    """The state an office's 完成情况/状态 cell means.

    An empty cell is ``assigned``. A state's own name (已完成整改, completed …) is
    that state; otherwise the longest phrase of the policy's table at the start of
    the cell wins (``已取得阶段性成效,正在持续推进`` → ``staged_result``).

    Raises:
        PhraseError: No phrase starts the cell, or the longest ones mean two states.
    """
    plain = _plain(text)
    if not plain:
        return "assigned"
    exact = parse_state(text)
    if exact is not None:
        return exact
    best = 0
    found: set[str] = set()
    for state, phrases in words.states:
        for phrase in phrases:
            if plain.startswith(phrase):
                if len(phrase) > best:
                    best, found = len(phrase), {state}
                elif len(phrase) == best:
                    found.add(state)
    if len(found) == 1:
        return found.pop()
    raise PhraseError(text, known_phrases(words), tuple(sorted(found)))
