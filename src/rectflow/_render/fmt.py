"""Figures as published reports print them: rates with two decimals and their counts."""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from rectflow._i18n import msg


def pct(rate: float | None) -> str:
    """``0.9643`` as ``96.43%``; ``None`` (nothing to divide by) as ``—``."""
    return "—" if rate is None else f"{rate * 100:.2f}%"


def rate_text(part: int, whole: int, lang: str = "zh") -> str:
    """A rate with the count behind it: ``96.43%(27/28)`` or ``96.43% (27/28)``."""
    value = None if whole == 0 else part / whole
    if lang == "en":
        return f"{pct(value)} ({part}/{whole})"
    return f"{pct(value)}({part}/{whole})"


_ZH_NUM = "一二三四五六七八九十"


def zh_num(i: int) -> str:
    """The Chinese numeral of position *i* (0-based): 一, 二 … 十, then digits."""
    return _ZH_NUM[i] if i < len(_ZH_NUM) else str(i + 1)


_N: Final = r"[一二三四五六七八九十百零〇两\d]+"
NUMBERED: Final = re.compile(
    rf"^\s*(?:第{_N}个?(?:方面|部分|类|项|条|章|节)|[(（]{_N}[)）]|\d+(?:\.\d+)+|{_N}\s*[、.．]|[①-⑳])"
)
"""A heading that already carries its number: 第一方面 / (一) / （一） / 一、 / 1. / 1.2 / ①."""


def numbering(text: str) -> str | None:
    """The number *text* already begins with (``第一方面``, ``(一)``, ``一``, ``1``), or None."""
    found = NUMBERED.match(text)
    if found is None:
        return None
    return found.group(0).strip().rstrip("、.．").strip()


def aspect_head(i: int, name: str, lang: str) -> str:
    """The heading of the *i*-th aspect (0-based): its text as written when already numbered.

    ``第一方面问题:…`` (``Aspect 1: …``) otherwise, never ``第一方面问题:第一方面:…``.
    """
    if numbering(name) is not None:
        return name
    return msg("report.aspect_head", lang, n=i + 1, zh_n=zh_num(i), name=name)


def category_head(j: int, name: str, lang: str) -> str:
    """The heading of the *j*-th category of an aspect: ``(一)…`` unless already numbered."""
    if numbering(name) is not None:
        return name
    return msg("report.category_head", lang, n=j + 1, zh_n=zh_num(j), name=name)


_ZH_DIGITS: Final = "〇一二三四五六七八九"


def _zh_count(n: int) -> str:
    """1 … 31 as written in dates: 一, 十, 十二, 二十, 三十一."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _ZH_DIGITS[tens] + "十")
    return head + (_ZH_DIGITS[ones] if ones else "") if n else _ZH_DIGITS[0]


def zh_date(day: dt.date) -> str:
    """A day as official documents (公文) date their 落款: ``二〇二四年一月二十二日``."""
    year = "".join(_ZH_DIGITS[int(c)] for c in f"{day.year:04d}")
    return f"{year}年{_zh_count(day.month)}月{_zh_count(day.day)}日"


def en_date(day: dt.date) -> str:
    """A day written out in English: ``22 January 2024``."""
    return f"{day.day} {day:%B} {day.year}"


def signed_day(as_of: str, lang: str) -> str:
    """The day signed under a report as of *as_of*, in words (二〇二四年一月二十二日)."""
    day = dt.date.fromisoformat(as_of)
    return en_date(day) if lang == "en" else zh_date(day)
