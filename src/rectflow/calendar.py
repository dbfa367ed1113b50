"""Working-day calendars and Civil Code (民法典) period arithmetic.

A calendar answers one question, *is this date a working day?*, and computes
deadlines from it the way the Civil Code counts periods:

* art. 201 — the start day is not counted: "N working days after D" is the
  N-th working day strictly after D (:meth:`WorkCalendar.add_workdays`);
* art. 202 — a period in months ends on the corresponding day of the final
  month, or on its last day if it has none (:meth:`WorkCalendar.add_months`);
* art. 203 — a period ending on a rest day ends on the next working day
  (:meth:`WorkCalendar.add_months`, :meth:`WorkCalendar.add_days`).

:func:`china` is the official PRC calendar: weekends and public holidays are
rest days, make-up working days (调休, e.g. Sunday 2024-02-04) are working
days. :func:`weekdays` is a plain Monday–Friday calendar for everywhere else.
Any object satisfying the :class:`Calendar` protocol can be plugged in instead.

Every date argument is a :class:`datetime.date` (``pendulum.Date`` works, it is
a subclass); a :class:`datetime.datetime` is rejected with
:class:`~rectflow.exceptions.InvalidInput` because a time is not a date. Every
date returned is a plain :class:`datetime.date`.

Model:
    A :class:`WorkCalendar` is "Monday–Friday, except for a finite set of
    flipped days" (weekday holidays, weekend make-up days, closures). The
    number of working days up to a date is week arithmetic (O(1)) corrected by
    the flipped days before it; the calendar keeps, built lazily on first use,
    the sorted flipped-day ordinals with prefix sums of the working days they
    add or remove, and the running working-day count at each of them. So
    :meth:`~WorkCalendar.workdays_between` is one binary search and
    :meth:`~WorkCalendar.add_workdays` two (O(log m), m = number of flipped
    days, 800-odd for :func:`china`), whatever the distance, on any date from
    ``date.min`` to ``date.max``; they give the same answers as counting day by
    day.

Provisional dates:
    Official holiday arrangements are published one year at a time (国务院办公厅
    关于 YYYY 年部分节假日安排的通知). Dates after :attr:`WorkCalendar.known_until`
    (or before :attr:`WorkCalendar.known_from`) are still answered — from the
    ``holidays`` package's rule-based estimates, then plain Monday–Friday — but
    are *provisional*: the real arrangement may differ. Computations return
    plain dates; ask :meth:`WorkCalendar.is_provisional` with the start and the
    result to learn whether a computed deadline rests on provisional days::

        cal = china()
        due = cal.add_workdays(start, 15)
        if cal.is_provisional(start, due):
            ...  # recompute once the next year's arrangement is published
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import operator
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

import attrs

from rectflow._i18n import msg, translate
from rectflow.exceptions import InvalidInput, RectflowError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "Calendar",
    "WorkCalendar",
    "china",
    "weekdays",
]

_ESTIMATE_FROM_YEAR = 1990
"""First year of the ``holidays`` package's estimates kept by :func:`china`."""

_ESTIMATE_YEARS_AHEAD = 10
"""Years after the last official arrangement covered by rule-based estimates."""

_MIN_ORDINAL = dt.date.min.toordinal()
_MAX_ORDINAL = dt.date.max.toordinal()


# --------------------------------------------------------------------------- protocol


@runtime_checkable
class Calendar(Protocol):
    """What rectflow needs from a working-day calendar.

    :class:`WorkCalendar` implements it; any other object with these members
    (a company calendar backed by a database, say) can be used wherever a
    calendar is expected. See :class:`WorkCalendar` for the exact semantics
    each member must have.
    """

    @property
    def known_from(self) -> dt.date:
        """First date covered by published official data."""
        ...

    @property
    def known_until(self) -> dt.date:
        """Last date covered by published official data."""
        ...

    def is_workday(self, d: dt.date) -> bool:
        """Return whether *d* is a working day."""
        ...

    def next_workday(self, d: dt.date) -> dt.date:
        """Return *d* if it is a working day, else the next working day."""
        ...

    def add_workdays(self, d: dt.date, n: int) -> dt.date:
        """Return the *n*-th working day after *d* (start day not counted)."""
        ...

    def add_days(self, d: dt.date, n: int) -> dt.date:
        """Return *d* plus *n* calendar days, rolled forward to a working day."""
        ...

    def add_months(self, d: dt.date, n: int) -> dt.date:
        """Return *d* plus *n* months (Civil Code arts. 202-203)."""
        ...

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        """Return the number of working days in ``(a, b]``, negative if ``b < a``."""
        ...

    def is_provisional(self, d: dt.date, until: dt.date | None = None) -> bool:
        """Return whether any day from *d* to *until* lies outside the known data."""
        ...


# --------------------------------------------------------------------------- helpers


def _invalid(key: str, field: str, value: object, **fields: Any) -> InvalidInput:
    """An :class:`InvalidInput` in Chinese, with its English translation (issue 9)."""
    return translate(
        InvalidInput(msg(key, "zh", field=field, value=value, **fields), field=field, value=value),
        key,
        field=field,
        value=value,
        **fields,
    )


def _check_date(value: object, field: str) -> dt.date:
    """Return *value* as a plain date, or raise InvalidInput."""
    if isinstance(value, dt.datetime):
        raise _invalid("cal.datetime_not_date", field, value)
    if not isinstance(value, dt.date):
        raise _invalid("cal.not_date", field, value, type=type(value).__name__)
    if type(value) is dt.date:
        return value
    return dt.date.fromordinal(value.toordinal())


def _check_int(value: object, field: str) -> int:
    """Return *value* as an int, or raise InvalidInput (booleans are rejected)."""
    if isinstance(value, bool):
        raise _invalid("cal.bool_not_int", field, value)
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise _invalid("cal.not_int", field, value, type=type(value).__name__) from None


def _from_ordinal(ordinal: int) -> dt.date:
    """Return the date of *ordinal*, or raise InvalidInput when out of range."""
    if not _MIN_ORDINAL <= ordinal <= _MAX_ORDINAL:
        raise _invalid("cal.out_of_range", "n", ordinal, min=dt.date.min, max=dt.date.max)
    return dt.date.fromordinal(ordinal)


def _is_weekday(ordinal: int) -> bool:
    """Return whether *ordinal* falls Monday to Friday (ordinal 1 is a Monday)."""
    return (ordinal - 1) % 7 < 5


def _weekdays_upto(ordinal: int) -> int:
    """Return the number of Monday–Friday days with ordinals in ``[1, ordinal]``."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _nth_weekday(count: int) -> int:
    """Return the ordinal of the *count*-th Monday–Friday day (inverse of the above)."""
    weeks, rest = divmod(count - 1, 5)
    return 7 * weeks + rest + 1


def _days_in_month(year: int, month: int) -> int:
    """Return the number of days in *month* of *year* (proleptic Gregorian)."""
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.date(year, month, 1)).days


class _Index(NamedTuple):
    """The flipped days, sorted, with the prefix sums needed for binary search."""

    flips: tuple[int, ...]
    """Ordinals of the flipped days, ascending."""
    shift: tuple[int, ...]
    """``shift[k]``: working days gained (lost, if negative) by ``flips[:k]``."""
    counts: tuple[int, ...]
    """``counts[k]``: working days with ordinals in ``[1, flips[k]]``."""


# --------------------------------------------------------------------------- calendar


@attrs.frozen(repr=False)
class WorkCalendar:
    """An immutable working-day calendar: Monday–Friday with flipped days.

    Build one with :func:`china`, :func:`weekdays`, :meth:`from_dates`,
    :meth:`with_closures` or :meth:`with_workdays` (the generated ``__init__``
    takes the flipped days as raw ordinals and does not validate them). All
    arithmetic follows the Civil Code (民法典 arts. 201-203); see the module
    docstring. Instances are frozen, hashable and compare by value.

    Attributes:
        name: A label, e.g. ``"CN"`` or ``"CN+期末考试"``.
        known_from: First date covered by published official data.
        known_until: Last date covered by published official data. Dates outside
            ``[known_from, known_until]`` are still answered but provisional
            (:meth:`is_provisional`).
    """

    name: str
    known_from: dt.date
    known_until: dt.date
    _flipped: frozenset[int] = attrs.field(alias="flipped")
    """Ordinals whose status differs from Monday–Friday (rest weekdays, working weekends)."""

    @classmethod
    def from_dates(
        cls,
        name: str = "",
        *,
        rest_days: Iterable[dt.date] = (),
        workdays: Iterable[dt.date] = (),
        known_from: dt.date = dt.date.min,
        known_until: dt.date = dt.date.max,
    ) -> WorkCalendar:
        """Build a calendar from Monday–Friday plus explicit exceptions.

        Args:
            name: A label for the calendar.
            rest_days: Dates that are rest days (a weekend date here is a no-op).
            workdays: Dates that are working days (a weekday date here is a no-op).
            known_from: First date covered by authoritative data.
            known_until: Last date covered by authoritative data.

        Returns:
            The calendar.

        Raises:
            InvalidInput: A date that is not a ``date``, a date listed both as rest
                day and working day, or ``known_from > known_until``.
        """
        rest = {_check_date(d, "rest_days").toordinal() for d in rest_days}
        work = {_check_date(d, "workdays").toordinal() for d in workdays}
        if both := rest & work:
            first = dt.date.fromordinal(min(both))
            raise _invalid("cal.rest_and_work", "workdays", first, day=first)
        flipped = {o for o in rest if _is_weekday(o)} | {o for o in work if not _is_weekday(o)}
        return cls._make(name, known_from, known_until, frozenset(flipped))

    @classmethod
    def _make(
        cls, name: str, known_from: object, known_until: object, flipped: frozenset[int]
    ) -> WorkCalendar:
        """Validate the bounds and build the calendar."""
        start = _check_date(known_from, "known_from")
        end = _check_date(known_until, "known_until")
        if start > end:
            raise _invalid("cal.bounds", "known_from", start, start=start, end=end)
        return cls(name=name, known_from=start, known_until=end, flipped=flipped)

    def __repr__(self) -> str:
        """Return a short description (the flipped days are not listed)."""
        return (
            f"WorkCalendar(name={self.name!r}, known_from={self.known_from}, "
            f"known_until={self.known_until}, flipped_days={len(self._flipped)})"
        )

    # ------------------------------------------------------------------ index

    @cached_property
    def _index(self) -> _Index:
        """The sorted flipped days and their prefix sums (built on first use)."""
        flips = tuple(sorted(self._flipped))
        shift = [0]
        for o in flips:
            shift.append(shift[-1] + (-1 if _is_weekday(o) else 1))
        counts = tuple(_weekdays_upto(o) + shift[k + 1] for k, o in enumerate(flips))
        return _Index(flips, tuple(shift), counts)

    def _count(self, ordinal: int) -> int:
        """Return the number of working days with ordinals in ``[1, ordinal]``."""
        idx = self._index
        return _weekdays_upto(ordinal) + idx.shift[bisect.bisect_right(idx.flips, ordinal)]

    def _nth(self, count: int) -> dt.date:
        """Return the *count*-th working day counting from ordinal 1 (inverse of ``_count``).

        ``flips[:k]`` are the flipped days whose running count is below *count*:
        the answer lies after them. Between ``flips[k-1]`` and ``flips[k]`` the
        working days are the weekdays, so week arithmetic with the shift so far
        finds it, unless that overshoots ``flips[k]``, which is then the answer
        (it must be a working day: the count reaches *count* on it).
        """
        idx = self._index
        k = bisect.bisect_left(idx.counts, count)
        ordinal = _nth_weekday(count - idx.shift[k])
        if k < len(idx.flips) and ordinal >= idx.flips[k]:
            ordinal = idx.flips[k]
        return _from_ordinal(ordinal)

    def _is_workday_ordinal(self, ordinal: int) -> bool:
        return _is_weekday(ordinal) != (ordinal in self._flipped)

    # ------------------------------------------------------------------ queries

    def is_workday(self, d: dt.date) -> bool:
        """Return whether *d* is a working day.

        Args:
            d: The date.

        Returns:
            ``True`` for a working day (including a make-up working day on a
            weekend), ``False`` for a weekend, holiday or closure.

        Raises:
            InvalidInput: *d* is not a date (a ``datetime`` is rejected).
        """
        return self._is_workday_ordinal(_check_date(d, "d").toordinal())

    def next_workday(self, d: dt.date) -> dt.date:
        """Return *d* if it is a working day, otherwise the first working day after it.

        Args:
            d: The date.

        Returns:
            The working day.

        Raises:
            InvalidInput: *d* is not a date, or the result is beyond ``date.max``.
        """
        o = _check_date(d, "d").toordinal()
        if self._is_workday_ordinal(o):
            return dt.date.fromordinal(o)
        return self._nth(self._count(o) + 1)

    def add_workdays(self, d: dt.date, n: int) -> dt.date:
        """Return the date *n* working days after *d*; the start day is not counted.

        Civil Code art. 201: the period starts the day after *d*.

        * ``n >= 1``: the *n*-th working day strictly after *d*;
        * ``n == 0``: *d* if it is a working day, otherwise the next working day;
        * ``n < 0``: the ``|n|``-th working day strictly before *d*.

        For ``n >= 1`` (and for ``n < 0`` when *d* is a working day),
        ``workdays_between(d, add_workdays(d, n)) == n``.

        Args:
            d: The start date (not counted).
            n: The number of working days.

        Returns:
            The working day reached.

        Raises:
            InvalidInput: *d* is not a date, *n* not an integer, or the result is
                outside the representable dates.
        """
        o = _check_date(d, "d").toordinal()
        n = _check_int(n, "n")
        if n > 0:
            return self._nth(self._count(o) + n)
        if n == 0:
            return self.next_workday(d)
        return self._nth(self._count(o - 1) + n + 1)

    def add_days(self, d: dt.date, n: int) -> dt.date:
        """Return *d* plus *n* calendar days, rolled forward to a working day.

        For periods counted in days: the end day is ``d + n`` (the start day is
        not counted, art. 201); if it is a rest day the period ends on the next
        working day (art. 203).

        Args:
            d: The start date (not counted).
            n: The number of calendar days (may be negative).

        Returns:
            The working day on which the period ends.

        Raises:
            InvalidInput: *d* is not a date, *n* not an integer, or the result is
                outside the representable dates.
        """
        o = _check_date(d, "d").toordinal()
        n = _check_int(n, "n")
        return self.next_workday(_from_ordinal(o + n))

    def add_months(self, d: dt.date, n: int) -> dt.date:
        """Return the end of a period of *n* months starting on *d*.

        Civil Code art. 202: the corresponding day of the final month, or the
        month's last day if it has none (2023-12-31 + 2 months -> 2024-02-29);
        art. 203: if that is a rest day, the next working day (2024-09-01 + 1
        month -> 2024-10-01 -> 2024-10-08).

        Args:
            d: The start date.
            n: The number of months (may be negative; the roll is still forward).

        Returns:
            The working day on which the period ends.

        Raises:
            InvalidInput: *d* is not a date, *n* not an integer, or the result is
                outside the representable dates.
        """
        d = _check_date(d, "d")
        n = _check_int(n, "n")
        year, month0 = divmod(d.year * 12 + d.month - 1 + n, 12)
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise _invalid("cal.out_of_range", "n", n, min=dt.date.min, max=dt.date.max)
        month = month0 + 1
        end = dt.date(year, month, min(d.day, _days_in_month(year, month)))
        return self.next_workday(end)

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        """Return the number of working days in the half-open interval ``(a, b]``.

        *a* is not counted, *b* is. If ``b < a`` the result is minus the number
        of working days in ``(b, a]``; ``workdays_between(a, a) == 0``. It is
        additive: ``between(a, b) + between(b, c) == between(a, c)``, and
        ``workdays_between(d, add_workdays(d, n)) == n`` for ``n >= 1``.

        Args:
            a: The start date (excluded).
            b: The end date (included).

        Returns:
            The signed number of working days.

        Raises:
            InvalidInput: *a* or *b* is not a date.
        """
        oa = _check_date(a, "a").toordinal()
        ob = _check_date(b, "b").toordinal()
        return self._count(ob) - self._count(oa)

    def is_provisional(self, d: dt.date, until: dt.date | None = None) -> bool:
        """Return whether a date, or a span of dates, rests on provisional data.

        A day is provisional when it lies before :attr:`known_from` or after
        :attr:`known_until`: the official arrangement for it is not published,
        so the calendar's answer is an estimate. To check a computed deadline,
        pass the start and the result: ``cal.is_provisional(start, due)`` is
        ``True`` if any day from ``start`` to ``due`` (either order) is
        provisional.

        Args:
            d: The date (or one end of the span).
            until: The other end of the span, if any.

        Returns:
            Whether any day of the span is provisional.

        Raises:
            InvalidInput: *d* or *until* is not a date.
        """
        lo = hi = _check_date(d, "d")
        if until is not None:
            other = _check_date(until, "until")
            lo, hi = min(lo, other), max(hi, other)
        return lo < self.known_from or hi > self.known_until

    # ------------------------------------------------------------------ derived calendars

    def with_closures(self, dates: Iterable[dt.date], *, name: str = "") -> WorkCalendar:
        """Return a new calendar that also treats *dates* as rest days.

        For a school's exam days, a local holiday, an office closure. Working
        weekend days among *dates* become rest days too.

        Args:
            dates: The extra rest days.
            name: A label for the closures, appended to the calendar's name
                (``"CN"`` -> ``"CN+期末考试"``).

        Returns:
            The new calendar; this one is unchanged.

        Raises:
            InvalidInput: An element of *dates* is not a date.
        """
        ordinals = {_check_date(d, "dates").toordinal() for d in dates}
        toggle = {o for o in ordinals if self._is_workday_ordinal(o)}
        return self._derived(self._flipped ^ toggle, name)

    def with_workdays(self, dates: Iterable[dt.date], *, name: str = "") -> WorkCalendar:
        """Return a new calendar that also treats *dates* as working days.

        Args:
            dates: The extra working days (weekend or holiday dates).
            name: A label, appended to the calendar's name.

        Returns:
            The new calendar; this one is unchanged.

        Raises:
            InvalidInput: An element of *dates* is not a date.
        """
        ordinals = {_check_date(d, "dates").toordinal() for d in dates}
        toggle = {o for o in ordinals if not self._is_workday_ordinal(o)}
        return self._derived(self._flipped ^ toggle, name)

    def _derived(self, flipped: frozenset[int], name: str) -> WorkCalendar:
        return WorkCalendar(
            name=f"{self.name}+{name}" if name else self.name,
            known_from=self.known_from,
            known_until=self.known_until,
            flipped=flipped,
        )


# --------------------------------------------------------------------------- factories


def weekdays(known_until: dt.date | None = None) -> WorkCalendar:
    """Return a plain Monday–Friday calendar (no holidays), for other countries.

    Args:
        known_until: If given, dates after it are flagged provisional; by default
            nothing is provisional.

    Returns:
        The calendar.

    Raises:
        InvalidInput: *known_until* is not a date.
    """
    until = dt.date.max if known_until is None else known_until
    return WorkCalendar._make("Mon-Fri", dt.date.min, until, frozenset())


@functools.cache
def china() -> WorkCalendar:
    """Return the official PRC working-day calendar (cached: one instance).

    Weekends and public holidays are rest days; make-up working days (调休,
    e.g. Sunday 2024-02-04, Saturday 2024-10-12) are working days. Data come
    from the ``holidays`` package (``holidays.country_holidays("CN")``), which
    encodes each year's State Council notice.

    ``known_from``/``known_until`` are the first day of the first and the last
    day of the last year for which the package has an official arrangement
    (the years of its ``special_public_holidays`` table, i.e. of the published
    notices — 2001 to 2026 with holidays 0.109). Outside them the calendar is
    provisional: 1990 up to ``known_from`` and up to ten years after
    ``known_until`` use the package's rule-based holidays (statutory days,
    weekend holidays observed on the next weekday, no make-up days); beyond
    that, plain Monday–Friday.

    Returns:
        The calendar.

    Raises:
        RectflowError: The installed ``holidays`` package has no official
            arrangement for China at all.
    """
    import holidays  # noqa: PLC0415  -- 0.1 s to import; only needed here, once

    probe = holidays.country_holidays("CN", years=(), language="zh_CN")
    specials = getattr(probe, "special_public_holidays", None)
    if isinstance(specials, dict) and specials:
        official = sorted(int(year) for year in specials)
    else:  # an API change: fall back to the years that have make-up days
        official = sorted({d.year for d in probe.weekend_workdays})
    if not official:
        raise translate(RectflowError(msg("cal.no_holidays")), "cal.no_holidays")
    first, last = official[0], official[-1]

    years = range(min(_ESTIMATE_FROM_YEAR, first), last + _ESTIMATE_YEARS_AHEAD + 1)
    cn = holidays.country_holidays("CN", years=years, language="zh_CN")
    # Mirror HolidayBase.is_working_day: a weekday works unless it is a holiday,
    # a weekend day rests unless it is a make-up working day.
    flipped = {d.toordinal() for d in cn if d.weekday() < 5}
    flipped |= {d.toordinal() for d in cn.weekend_workdays if d.weekday() >= 5}
    return WorkCalendar(
        name="CN",
        known_from=dt.date(first, 1, 1),
        known_until=dt.date(last, 12, 31),
        flipped=frozenset(flipped),
    )
