"""Tests for rectflow.calendar: the PRC working-day calendar and Civil Code periods."""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta

import attrs
import chinese_calendar
import holidays
import pendulum
import pytest
from chinese_calendar import constants as cc_constants
from hypothesis import given
from hypothesis import strategies as st

import rectflow.calendar as calmod
from rectflow.calendar import Calendar, WorkCalendar, china, weekdays
from rectflow.exceptions import InvalidInput, RectflowError

# --------------------------------------------------------------------------- official tables
# 国务院办公厅关于2024/2025/2026年部分节假日安排的通知, hard-coded and cross-checked
# against chinesecalendar and holidays below.


def _span(first: str, last: str) -> list[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def _dates(*isos: str) -> list[date]:
    return [date.fromisoformat(s) for s in isos]


OFFICIAL_REST = {
    2024: [
        *_span("2024-01-01", "2024-01-01"),  # 元旦
        *_span("2024-02-10", "2024-02-17"),  # 春节
        *_span("2024-04-04", "2024-04-06"),  # 清明节
        *_span("2024-05-01", "2024-05-05"),  # 劳动节
        *_span("2024-06-10", "2024-06-10"),  # 端午节
        *_span("2024-09-15", "2024-09-17"),  # 中秋节
        *_span("2024-10-01", "2024-10-07"),  # 国庆节
    ],
    2025: [
        *_span("2025-01-01", "2025-01-01"),
        *_span("2025-01-28", "2025-02-04"),
        *_span("2025-04-04", "2025-04-06"),
        *_span("2025-05-01", "2025-05-05"),
        *_span("2025-05-31", "2025-06-02"),
        *_span("2025-10-01", "2025-10-08"),  # 国庆节、中秋节
    ],
    2026: [
        *_span("2026-01-01", "2026-01-03"),
        *_span("2026-02-15", "2026-02-23"),
        *_span("2026-04-04", "2026-04-06"),
        *_span("2026-05-01", "2026-05-05"),
        *_span("2026-06-19", "2026-06-21"),
        *_span("2026-09-25", "2026-09-27"),
        *_span("2026-10-01", "2026-10-07"),
    ],
}

OFFICIAL_MAKEUP = {  # 调休上班 (all on Saturdays or Sundays)
    2024: _dates(
        "2024-02-04",
        "2024-02-18",
        "2024-04-07",
        "2024-04-28",
        "2024-05-11",
        "2024-09-14",
        "2024-09-29",
        "2024-10-12",
    ),
    2025: _dates("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"),
    2026: _dates(
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"
    ),
}

YEARS = sorted(OFFICIAL_REST)


def naive_next(cal: WorkCalendar, d: date) -> date:
    while not cal.is_workday(d):
        d += timedelta(days=1)
    return d


def naive_add_workdays(cal: WorkCalendar, d: date, n: int) -> date:
    if n == 0:
        return naive_next(cal, d)
    step = timedelta(days=1 if n > 0 else -1)
    left = abs(n)
    while left:
        d += step
        left -= cal.is_workday(d)
    return d


def naive_between(cal: WorkCalendar, a: date, b: date) -> int:
    lo, hi, sign = (a, b, 1) if a <= b else (b, a, -1)
    return sign * sum(cal.is_workday(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))


# --------------------------------------------------------------------------- official data


@pytest.mark.parametrize("year", YEARS)
def test_makeup_days_are_workdays(year: int) -> None:
    """Every make-up working day (调休) of 2024-2026 is a working day, and falls on a weekend."""
    cal = china()
    for d in OFFICIAL_MAKEUP[year]:
        assert d.weekday() >= 5, d
        assert cal.is_workday(d), d


@pytest.mark.parametrize("year", YEARS)
def test_holiday_blocks_are_rest_days(year: int) -> None:
    """Every day of the 2024-2026 holiday blocks (Spring Festival, National Day …) is a rest day."""
    cal = china()
    for d in OFFICIAL_REST[year]:
        assert not cal.is_workday(d), d


@pytest.mark.parametrize("year", YEARS)
def test_whole_year_matches_official_table(year: int) -> None:
    """Every day of 2024-2026 is a working day exactly as the State Council notice says."""
    cal = china()
    rest, makeup = set(OFFICIAL_REST[year]), set(OFFICIAL_MAKEUP[year])
    for d in _span(f"{year}-01-01", f"{year}-12-31"):
        expected = d in makeup or (d.weekday() < 5 and d not in rest)
        assert cal.is_workday(d) is expected, d


@pytest.mark.parametrize("year", YEARS)
def test_tables_agree_with_both_packages(year: int) -> None:
    """The hard-coded tables equal chinesecalendar's data and the holidays package's."""
    assert {d for d in cc_constants.holidays if d.year == year} == set(OFFICIAL_REST[year])
    assert {d for d in cc_constants.workdays if d.year == year} == set(OFFICIAL_MAKEUP[year])
    cn = holidays.country_holidays("CN", years=year)
    assert {d for d in cn.weekend_workdays if d.year == year} == set(OFFICIAL_MAKEUP[year])
    assert all(not cn.is_working_day(d) for d in OFFICIAL_REST[year])


def test_domain_examples() -> None:
    """The make-up days quoted in DOMAIN.md are working days."""
    cal = china()
    for d in _dates("2024-02-04", "2024-02-18", "2024-09-29", "2024-10-12", "2025-01-26"):
        assert cal.is_workday(d)


def test_cross_check_with_chinesecalendar() -> None:
    """china() agrees with chinesecalendar on every day both cover, except 2005-12-31."""
    cal = china()
    last_year = min(max(cc_constants.holidays).year, cal.known_until.year)
    assert last_year >= 2026
    disagreements = {
        d: (cal.is_workday(d), chinese_calendar.is_workday(d))
        for d in _span("2004-01-01", f"{last_year}-12-31")
        if cal.is_workday(d) != chinese_calendar.is_workday(d)
    }
    # 2006 notice: 元旦 1月1日至3日放假, 12月31日(星期六)上班. holidays encodes the make-up
    # Saturday (substituted for 2006-01-03); chinesecalendar lists it as a plain Saturday.
    assert disagreements == {date(2005, 12, 31): (True, False)}


def test_mirrors_holidays_package_over_whole_span() -> None:
    """china() equals holidays' own is_working_day for every day 1990..known_until+10y."""
    cal = china()
    last = cal.known_until.year + 10
    cn = holidays.country_holidays("CN", years=range(1990, last + 1))
    for d in _span("1990-01-01", f"{last}-12-31"):
        assert cal.is_workday(d) == cn.is_working_day(d), d


def test_known_range_from_holidays_package() -> None:
    """known_from/known_until span the years of the package's official notices (2001..>=2026)."""
    cal = china()
    years = holidays.country_holidays("CN", years=()).special_public_holidays
    assert cal.known_from == date(min(years), 1, 1) == date(2001, 1, 1)
    assert cal.known_until == date(max(years), 12, 31)
    assert cal.known_until >= date(2026, 12, 31)


def test_china_is_cached() -> None:
    """china() returns the same instance every time."""
    assert china() is china()


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2023-12-31", 2, "2024-02-29"),  # leap year, no 31st: last day (Thursday)
        ("2024-01-31", 1, "2024-02-29"),
        ("2023-01-31", 1, "2023-02-28"),  # Tuesday
        ("2024-02-29", 12, "2025-02-28"),  # Friday
        ("2024-09-01", 1, "2024-10-08"),  # 10-01 in National Day week: roll to 10-08
        ("2024-08-05", 2, "2024-10-08"),  # 10-05 Saturday in the week
        ("2025-08-08", 2, "2025-10-09"),  # 10-08 last day of the 2025 week
        ("2024-07-12", 3, "2024-10-12"),  # Saturday make-up working day: no roll
        ("2024-11-30", 2, "2025-02-05"),  # 01-30 in Spring Festival 2025: roll to 02-05
    ],
)
def test_add_months_table(start: str, months: int, expected: str) -> None:
    """add_months uses the corresponding day or the month's last day, then rolls forward."""
    assert china().add_months(date.fromisoformat(start), months) == date.fromisoformat(expected)


def test_add_months_rolls_over_spring_festival() -> None:
    """A two-month period from 2024-12-03 ends 2025-02-03 (holiday) and rolls to 2025-02-05."""
    assert china().add_months(date(2024, 12, 3), 2) == date(2025, 2, 5)


def test_add_months_negative() -> None:
    """Negative months count backwards, still rolling forward (2024-03-31 - 1 -> 02-29)."""
    assert china().add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert china().add_months(date(2024, 1, 31), -12) == date(2023, 1, 31)


def test_add_days_rolls_forward() -> None:
    """add_days counts calendar days and rolls a rest-day end to the next working day."""
    cal = china()
    assert cal.add_days(date(2024, 9, 24), 7) == date(2024, 10, 8)
    assert cal.add_days(date(2024, 9, 24), 5) == date(2024, 9, 29)  # make-up Sunday
    assert cal.add_days(date(2024, 9, 24), 0) == date(2024, 9, 24)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2024-02-08", 1, "2024-02-09"),  # 除夕 02-09 is officially a working day in 2024
        ("2024-02-09", 1, "2024-02-18"),  # over 02-10..02-17 to the make-up Sunday
        ("2024-02-09", 2, "2024-02-19"),
        ("2024-02-02", 1, "2024-02-04"),  # make-up Sunday before the holiday
        ("2024-02-02", 5, "2024-02-08"),
        ("2024-02-10", 0, "2024-02-18"),  # n == 0 on a rest day: next working day
        ("2024-02-08", 0, "2024-02-08"),  # n == 0 on a working day: itself
        ("2024-02-18", -1, "2024-02-09"),  # backwards across the holiday
        ("2024-02-15", -1, "2024-02-09"),  # backwards from inside the holiday
        ("2024-09-30", 1, "2024-10-08"),
        ("2024-09-27", 10, "2024-10-16"),  # 09-29, 09-30, 10-08 … 10-12 (Sat), 10-14 … 10-16
    ],
)
def test_add_workdays_table(start: str, n: int, expected: str) -> None:
    """add_workdays does not count the start day and skips the official holiday blocks."""
    assert china().add_workdays(date.fromisoformat(start), n) == date.fromisoformat(expected)


def test_workdays_between_is_half_open() -> None:
    """workdays_between counts (a, b]: a excluded, b included, sign follows the order."""
    cal = china()
    assert cal.workdays_between(date(2024, 2, 9), date(2024, 2, 18)) == 1
    assert cal.workdays_between(date(2024, 2, 18), date(2024, 2, 9)) == -1
    assert cal.workdays_between(date(2024, 2, 9), date(2024, 2, 9)) == 0
    assert cal.workdays_between(date(2024, 2, 8), date(2024, 2, 9)) == 1
    assert cal.workdays_between(date(2023, 12, 31), date(2024, 12, 31)) == 251


def test_next_workday() -> None:
    """next_workday returns the day itself when working, else the next working day."""
    cal = china()
    assert cal.next_workday(date(2024, 10, 1)) == date(2024, 10, 8)
    assert cal.next_workday(date(2024, 10, 12)) == date(2024, 10, 12)


def test_weekdays_calendar() -> None:
    """weekdays() is plain Monday-Friday with no holidays and nothing provisional."""
    cal = weekdays()
    assert cal.is_workday(date(2024, 10, 1))
    assert not cal.is_workday(date(2024, 10, 12))
    assert cal.add_workdays(date(2024, 10, 4), 1) == date(2024, 10, 7)
    assert cal.workdays_between(date(2024, 1, 1), date(2024, 12, 31)) == 261
    assert not cal.is_provisional(date(9999, 12, 31))
    assert not cal.is_provisional(date(1, 1, 1))


def test_calendar_protocol() -> None:
    """Both calendars satisfy the runtime-checkable Calendar protocol."""
    assert isinstance(china(), Calendar)
    assert isinstance(weekdays(), Calendar)
    assert not isinstance(object(), Calendar)


# --------------------------------------------------------------------------- provisional


def test_provisional_beyond_known_until() -> None:
    """Dates after known_until or before known_from are provisional; inside they are not."""
    cal = china()
    assert not cal.is_provisional(cal.known_until)
    assert cal.is_provisional(cal.known_until + timedelta(days=1))
    assert not cal.is_provisional(cal.known_from)
    assert cal.is_provisional(cal.known_from - timedelta(days=1))


def test_provisional_span_of_a_computation() -> None:
    """is_provisional(start, result) flags a deadline that reaches past known_until."""
    cal = china()
    start = cal.known_until - timedelta(days=5)
    due = cal.add_workdays(start, 15)
    assert not cal.is_provisional(start)
    assert cal.is_provisional(start, due)
    assert cal.is_provisional(due, start)
    assert not cal.is_provisional(date(2025, 1, 1), date(2025, 12, 31))


def test_provisional_dates_are_still_answered() -> None:
    """Beyond known_until the calendar answers from estimates, then plain Monday-Friday."""
    cal = china()
    after = cal.known_until.year + 1
    assert not cal.is_workday(date(after, 10, 1))  # estimated National Day
    assert not cal.is_workday(date(after, 1, 1))
    far = cal.known_until.year + 50
    monday = date(far, 10, 1) - timedelta(days=date(far, 10, 1).weekday())
    assert cal.is_workday(monday + timedelta(days=7))
    assert not cal.is_workday(monday + timedelta(days=5))
    assert cal.add_workdays(monday, 5) == monday + timedelta(days=7)
    assert cal.is_provisional(monday)


def test_weekdays_with_known_until() -> None:
    """weekdays(known_until=…) flags only the dates after it."""
    cal = weekdays(known_until=date(2030, 12, 31))
    assert not cal.is_provisional(date(2030, 12, 31))
    assert cal.is_provisional(date(2031, 1, 1))


# --------------------------------------------------------------------------- closures


def test_with_closures() -> None:
    """with_closures adds rest days (even make-up days) and leaves the original untouched."""
    cal = china()
    exams = cal.with_closures([date(2024, 6, 11), date(2024, 10, 12)], name="期末考试")
    assert exams.name == "CN+期末考试"
    assert not exams.is_workday(date(2024, 6, 11))
    assert not exams.is_workday(date(2024, 10, 12))
    assert cal.is_workday(date(2024, 6, 11))
    assert exams.add_workdays(date(2024, 6, 7), 1) == date(2024, 6, 12)
    assert exams.known_until == cal.known_until


def test_with_workdays() -> None:
    """with_workdays turns rest days into working days."""
    cal = weekdays().with_workdays([date(2024, 10, 5)])
    assert cal.is_workday(date(2024, 10, 5))
    assert cal.add_workdays(date(2024, 10, 4), 1) == date(2024, 10, 5)


def test_closure_listed_twice() -> None:
    """A date given twice to with_closures is simply a rest day."""
    cal = weekdays().with_closures([date(2024, 10, 7), date(2024, 10, 7)])
    assert not cal.is_workday(date(2024, 10, 7))


def test_from_dates() -> None:
    """from_dates builds Monday-Friday plus explicit rest and working days."""
    cal = WorkCalendar.from_dates(
        "x",
        rest_days=[date(2024, 1, 1)],
        workdays=[date(2024, 1, 6)],
        known_until=date(2024, 12, 31),
    )
    assert not cal.is_workday(date(2024, 1, 1))
    assert cal.is_workday(date(2024, 1, 6))
    assert cal.is_provisional(date(2025, 1, 1))
    with pytest.raises(InvalidInput):
        WorkCalendar.from_dates(rest_days=[date(2024, 1, 1)], workdays=[date(2024, 1, 1)])
    with pytest.raises(InvalidInput):
        WorkCalendar.from_dates(known_from=date(2025, 1, 1), known_until=date(2024, 1, 1))


def test_calendar_is_immutable() -> None:
    """WorkCalendar is frozen."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        china().name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- input validation


@pytest.mark.parametrize(
    "call",
    [
        lambda c, t: c.is_workday(t),
        lambda c, t: c.next_workday(t),
        lambda c, t: c.add_workdays(t, 1),
        lambda c, t: c.add_days(t, 1),
        lambda c, t: c.add_months(t, 1),
        lambda c, t: c.workdays_between(t, date(2024, 1, 1)),
        lambda c, t: c.workdays_between(date(2024, 1, 1), t),
        lambda c, t: c.is_provisional(t),
        lambda c, t: c.with_closures([t]),
    ],
)
@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2024, 1, 2, 9, 0, tzinfo=dt.timezone.utc),
        pendulum.datetime(2024, 1, 2, 9, tz="Asia/Shanghai"),
        "2024-01-02",
        None,
    ],
)
def test_non_dates_rejected(call, when) -> None:
    """A datetime (aware or pendulum), a string or None is InvalidInput, a RectflowError."""
    with pytest.raises(InvalidInput) as info:
        call(china(), when)
    assert isinstance(info.value, RectflowError)


@pytest.mark.parametrize("n", [True, 1.0, "1", None])
def test_non_integer_counts_rejected(n) -> None:
    """n must be an integer (bool is rejected)."""
    with pytest.raises(InvalidInput):
        china().add_workdays(date(2024, 1, 2), n)


def test_out_of_range_is_invalid_input() -> None:
    """Results beyond date.min/date.max raise InvalidInput, not OverflowError."""
    cal = china()
    with pytest.raises(InvalidInput):
        cal.add_workdays(date(9999, 12, 30), 5)
    with pytest.raises(InvalidInput):
        cal.add_workdays(date(1, 1, 2), -5)
    with pytest.raises(InvalidInput):
        cal.add_months(date(9999, 12, 1), 1)
    with pytest.raises(InvalidInput):
        cal.add_days(date(1, 1, 1), -1)
    assert cal.add_workdays(date(9999, 12, 30), 1) == date(9999, 12, 31)  # a Friday


def test_pendulum_dates_accepted() -> None:
    """pendulum.Date works as an argument and results are plain datetime.date."""
    cal = china()
    result = cal.add_workdays(pendulum.date(2024, 2, 9), 1)
    assert result == date(2024, 2, 18)
    assert type(result) is date
    assert type(cal.add_workdays(pendulum.date(2024, 2, 8), 0)) is date
    assert cal.is_workday(pendulum.date(2024, 2, 18))


def test_all_is_sorted() -> None:
    """__all__ is sorted and lists exactly the public names."""
    assert calmod.__all__ == sorted(calmod.__all__)
    assert set(calmod.__all__) == {"Calendar", "WorkCalendar", "china", "weekdays"}


# --------------------------------------------------------------------------- properties

# Spans the start and end of china()'s index (1990 … known_until + 10y) to exercise the
# arithmetic fallback on both sides.
DATES = st.dates(min_value=date(1985, 1, 1), max_value=date(2045, 12, 31))
ANY_DATES = st.dates(min_value=date(2, 1, 1), max_value=date(9998, 1, 1))
COUNTS = st.integers(min_value=1, max_value=80)


@given(DATES, COUNTS)
def test_add_workdays_is_nth_workday_after(d: date, n: int) -> None:
    """add_workdays(d, n) is a working day after d with exactly n-1 working days between."""
    cal = china()
    r = cal.add_workdays(d, n)
    assert r > d
    assert cal.is_workday(r)
    assert naive_between(cal, d, r - timedelta(days=1)) == n - 1
    assert r == naive_add_workdays(cal, d, n)


@given(DATES, st.integers(min_value=-80, max_value=80))
def test_add_workdays_matches_day_by_day(d: date, n: int) -> None:
    """The indexed add_workdays equals a day-by-day loop for any sign of n."""
    cal = china()
    assert cal.add_workdays(d, n) == naive_add_workdays(cal, d, n)


@given(DATES, DATES)
def test_workdays_between_matches_day_by_day(a: date, b: date) -> None:
    """workdays_between equals a day-by-day count of (a, b], signed."""
    cal = china()
    if abs((b - a).days) > 3000:
        b = a + timedelta(days=(b - a).days % 3000)
    assert cal.workdays_between(a, b) == naive_between(cal, a, b)


@given(DATES, st.integers(min_value=1, max_value=20000))
def test_workdays_between_inverts_add_workdays(d: date, n: int) -> None:
    """workdays_between(d, add_workdays(d, n)) == n, also across decades."""
    cal = china()
    assert cal.workdays_between(d, cal.add_workdays(d, n)) == n


@given(DATES, DATES, st.integers(min_value=-100, max_value=100))
def test_add_workdays_monotone_in_date(d1: date, d2: date, n: int) -> None:
    """d1 <= d2 implies add_workdays(d1, n) <= add_workdays(d2, n)."""
    cal = china()
    d1, d2 = min(d1, d2), max(d1, d2)
    assert cal.add_workdays(d1, n) <= cal.add_workdays(d2, n)


@given(
    DATES, st.integers(min_value=-100, max_value=100), st.integers(min_value=-100, max_value=100)
)
def test_add_workdays_monotone_in_n(d: date, n1: int, n2: int) -> None:
    """n1 < n2 implies add_workdays(d, n1) < add_workdays(d, n2), except 0 and 1 on a rest day."""
    cal = china()
    n1, n2 = min(n1, n2), max(n1, n2)
    r1, r2 = cal.add_workdays(d, n1), cal.add_workdays(d, n2)
    assert r1 <= r2
    if n1 != n2 and ((n1, n2) != (0, 1) or cal.is_workday(d)):
        assert r1 < r2


@given(DATES, st.integers(min_value=-240, max_value=240))
def test_add_months_lands_on_workday(d: date, n: int) -> None:
    """add_months lands on the first working day on or after the art. 202 end day."""
    cal = china()
    r = cal.add_months(d, n)
    assert cal.is_workday(r)
    year, month0 = divmod(d.year * 12 + d.month - 1 + n, 12)
    end = date(year, month0 + 1, min(d.day, 28))
    while end.day < d.day and (end + timedelta(days=1)).month == month0 + 1:
        end += timedelta(days=1)
    assert r == naive_next(cal, end)


@given(DATES, st.integers(min_value=-400, max_value=400))
def test_add_days_lands_on_first_workday_from_target(d: date, n: int) -> None:
    """add_days is the first working day on or after d + n."""
    cal = china()
    assert cal.add_days(d, n) == naive_next(cal, d + timedelta(days=n))


@given(DATES, st.lists(DATES, max_size=8), COUNTS)
def test_closures_are_rest_days_and_shift_deadlines(d: date, closed: list[date], n: int) -> None:
    """Closed dates become rest days and add_workdays skips them exactly like a day-by-day loop."""
    cal = china().with_closures(closed)
    for c in closed:
        assert not cal.is_workday(c)
    assert cal.add_workdays(d, n) == naive_add_workdays(cal, d, n)
    assert cal.workdays_between(d, cal.add_workdays(d, n)) == n


@given(DATES, COUNTS)
def test_one_closure_in_window_shifts_by_one_workday(d: date, n: int) -> None:
    """Closing a working day inside (d, result] moves the result one working day later."""
    cal = china()
    r = cal.add_workdays(d, n)
    x = cal.add_workdays(d, (n + 1) // 2)
    assert cal.with_closures([x]).add_workdays(d, n) == cal.add_workdays(d, n + 1)
    assert cal.with_closures([r + timedelta(days=1)]).add_workdays(d, n) == r


@given(ANY_DATES, st.lists(ANY_DATES, max_size=6), st.integers(min_value=-60, max_value=60))
def test_index_and_week_arithmetic_agree_anywhere(d: date, flips: list[date], n: int) -> None:
    """Across the whole date range, index and week arithmetic agree with a day-by-day loop."""
    cal = weekdays().with_closures(flips[::2]).with_workdays(flips[1::2])
    assert cal.add_workdays(d, n) == naive_add_workdays(cal, d, n)
    e = d + timedelta(days=abs(n) * 3)
    assert cal.workdays_between(d, e) == naive_between(cal, d, e)
