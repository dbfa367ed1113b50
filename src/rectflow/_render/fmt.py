"""Figures as published reports print them: rates with two decimals and their counts."""

from __future__ import annotations

from collections.abc import Mapping


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


def word(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    """The ``(zh, en)`` entry *key* of *table* in *lang*."""
    zh, en = table[key]
    return en if lang == "en" else zh
