"""Parsing times and dates: every time rectflow keeps is aware; nothing is guessed."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rectflow._codec import time_text
from rectflow._time import as_of_cutoff, default_clock, local_date, parse_date, parse_time
from rectflow.exceptions import InvalidInput

SHANGHAI = dt.timedelta(hours=8)


def refuse_time(value: object, field: str = "at") -> InvalidInput:
    """Assert that parse_time refuses *value* with InvalidInput naming *field*."""
    with pytest.raises(InvalidInput) as info:
        parse_time(value, field)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.field == field
    assert err.value == value
    return err


# ---------------------------------------------------------------- parse_time


def test_parse_time_keeps_an_explicit_offset():
    """An ISO string with +08:00 parses to that instant and keeps the +08:00 offset."""
    got = parse_time("2024-03-01T10:00:00+08:00")
    assert isinstance(got, pendulum.DateTime)
    assert got.utcoffset() == SHANGHAI
    assert (got.year, got.month, got.day, got.hour) == (2024, 3, 1, 10)
    assert got == dt.datetime(2024, 3, 1, 2, tzinfo=dt.timezone.utc)


def test_parse_time_keeps_a_negative_offset():
    """An offset west of UTC is kept, not converted to the policy zone."""
    got = parse_time("2024-03-01T20:00:00-05:00")
    assert got.utcoffset() == dt.timedelta(hours=-5)
    assert got.hour == 20
    assert got == pendulum.datetime(2024, 3, 2, 9, tz="Asia/Shanghai")


def test_parse_time_accepts_z_as_utc():
    """'Z' is an explicit UTC offset and is accepted."""
    got = parse_time("2024-03-01T02:00:00Z")
    assert got.utcoffset() == dt.timedelta(0)
    assert got == pendulum.datetime(2024, 3, 1, 10, tz="Asia/Shanghai")


def test_parse_time_keeps_fractional_seconds():
    """Microseconds in the text are kept."""
    assert parse_time("2024-03-01T10:00:00.250000+08:00").microsecond == 250000


def test_parse_time_accepts_aware_datetime_objects():
    """An aware stdlib datetime comes back as the same instant with the same offset."""
    value = dt.datetime(2024, 3, 1, 10, tzinfo=dt.timezone(SHANGHAI))
    got = parse_time(value)
    assert isinstance(got, pendulum.DateTime)
    assert got == value
    assert got.utcoffset() == SHANGHAI


def test_pendulum_parse_silently_assumes_utc():
    """pendulum.parse turns an offset-less string into UTC: the trap rectflow avoids."""
    trap = pendulum.parse("2024-03-01 10:00")
    assert trap.tzinfo is not None
    assert trap.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01 10:00",
        "2024-03-01T10:00:00",
        "2024-03-01T10:00",
        "2024-03-01",
        "10:00:00+08:00",
    ],
)
def test_parse_time_rejects_strings_without_offset(text):
    """A time string with no offset (pendulum's silent-UTC trap) is InvalidInput."""
    err = refuse_time(text)
    assert "时区" in str(err)


def test_parse_time_rejects_naive_datetime():
    """A naive datetime object is InvalidInput, never assumed to be local or UTC."""
    refuse_time(dt.datetime(2024, 3, 1, 10))


def test_parse_time_rejects_naive_pendulum_datetime():
    """A naive pendulum DateTime is refused like a stdlib one."""
    refuse_time(pendulum.naive(2024, 3, 1, 10))


@pytest.mark.parametrize(
    "text", ["2024-02-30T10:00:00+08:00", "2023-02-29T10:00:00+08:00", "2024-13-01T00:00:00Z"]
)
def test_parse_time_rejects_impossible_dates(text):
    """A time on a day that does not exist is InvalidInput."""
    refuse_time(text)


@pytest.mark.parametrize("value", [None, 1709258400, dt.date(2024, 3, 1), "soon+08:00", ""])
def test_parse_time_rejects_non_times(value):
    """Anything that is not an aware time (numbers, dates, junk) is InvalidInput."""
    refuse_time(value, field="when")


def test_parse_time_messages_follow_language():
    """The error message is Chinese by default and English with lang='en'."""
    with pytest.raises(InvalidInput) as zh:
        parse_time("2024-03-01 10:00")
    with pytest.raises(InvalidInput) as en:
        parse_time("2024-03-01 10:00", "at", "en")
    assert "缺少时区" in str(zh.value)
    assert "has no UTC offset" in str(en.value)


# ---------------------------------------------------------------- parse_date


def test_parse_date_reads_iso_days():
    """'YYYY-MM-DD' becomes a plain date."""
    got = parse_date("2024-01-31")
    assert got == dt.date(2024, 1, 31)
    assert type(got) is dt.date


def test_parse_date_normalises_date_subclasses():
    """A pendulum Date comes back as a plain datetime.date."""
    got = parse_date(pendulum.Date(2024, 2, 29))
    assert got == dt.date(2024, 2, 29)
    assert type(got) is dt.date


@pytest.mark.parametrize(
    "value",
    [
        "2024-02-30",
        "2023-02-29",
        "2024-1-31",
        "31/01/2024",
        "2024-01-31T00:00:00+08:00",
        20240131,
        None,
        dt.datetime(2024, 1, 31, tzinfo=dt.timezone.utc),
        pendulum.datetime(2024, 1, 31),
    ],
)
def test_parse_date_rejects_non_days(value):
    """Impossible days, other formats and datetimes (an instant is not a day) are InvalidInput."""
    with pytest.raises(InvalidInput) as info:
        parse_date(value, "deadline")
    assert info.value.field == "deadline"
    assert isinstance(info.value, ValueError)


# ---------------------------------------------------------------- as_of_cutoff


def test_as_of_day_means_the_end_of_that_day_in_the_policy_zone():
    """A day as_of is its last instant in the given time zone."""
    got = as_of_cutoff("2024-03-01", "Asia/Shanghai")
    assert got == pendulum.datetime(2024, 3, 1, 23, 59, 59, 999999, tz="Asia/Shanghai")
    assert got.utcoffset() == SHANGHAI


def test_as_of_day_depends_on_the_zone():
    """The same day ends at different instants in different zones."""
    shanghai = as_of_cutoff(dt.date(2024, 3, 1), "Asia/Shanghai")
    new_york = as_of_cutoff(dt.date(2024, 3, 1), "America/New_York")
    assert new_york - shanghai == dt.timedelta(hours=13)


def test_as_of_aware_time_is_kept_as_given():
    """An aware time as_of is that instant, offset kept."""
    got = as_of_cutoff("2024-03-01T10:00:00-05:00", "Asia/Shanghai")
    assert got == pendulum.datetime(2024, 3, 1, 15, tz="UTC")
    assert got.utcoffset() == dt.timedelta(hours=-5)


def test_as_of_accepts_z():
    """'Z' is accepted in an as_of time."""
    assert as_of_cutoff("2024-03-01T00:00:00Z", "Asia/Shanghai") == pendulum.datetime(
        2024, 3, 1, 8, tz="Asia/Shanghai"
    )


@pytest.mark.parametrize(
    "value",
    ["2024-03-01 10:00", "2024-03-01T10:00:00", dt.datetime(2024, 3, 1, 10), "2024-02-30"],
)
def test_as_of_rejects_naive_and_impossible(value):
    """A naive time or an impossible day as_of is InvalidInput naming 'as_of'."""
    with pytest.raises(InvalidInput) as info:
        as_of_cutoff(value, "Asia/Shanghai")
    assert info.value.field == "as_of"


# ---------------------------------------------------------------- local_date


def test_local_date_is_the_day_in_the_policy_zone():
    """An evening in New York is already the next day in Shanghai."""
    at = parse_time("2024-03-01T20:00:00-05:00")
    assert local_date(at, "Asia/Shanghai") == dt.date(2024, 3, 2)
    assert local_date(at, "America/New_York") == dt.date(2024, 3, 1)


# ---------------------------------------------------------------- the fast path (issue 16)

ISO_TEXTS = (
    "2023-11-28T09:00:00+08:00",
    "2023-11-28T09:00:00Z",
    "2023-11-28T09:00:00+00:00",
    "2023-11-28T09:00:00-00:00",
    "2023-11-28T09:00:00.250+08:00",
    "2023-11-28T09:00:00.123456-05:30",
    "2023-11-28 09:00+08:00",
    "2023-11-28T09:00+0800",
    "2024-02-29T23:59:59.999999+14:00",
    "20231128T090000+08:00",  # the basic format: pendulum's parser reads it
    "2023-W48-2T09:00:00+08:00",  # a week date: pendulum's parser reads it too
)


@pytest.mark.parametrize("text", ISO_TEXTS)
def test_parse_time_is_pendulums_exact_parse(text):
    """An ISO time with an offset reads as pendulum.parse(exact=True) reads it: value, zone, text."""
    ours = parse_time(text)
    theirs = pendulum.parse(text, exact=True)
    assert isinstance(theirs, pendulum.DateTime)
    assert type(ours) is pendulum.DateTime
    assert ours == theirs
    assert ours.utcoffset() == theirs.utcoffset()
    assert type(ours.tzinfo) is type(theirs.tzinfo)
    assert time_text(ours) == time_text(theirs)


@given(
    moment=st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
    ),
    minutes=st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
    shape=st.sampled_from(["seconds", "milliseconds", "microseconds", "minutes"]),
    sep=st.sampled_from(["T", " "]),
    zulu=st.booleans(),
)
def test_parse_time_fast_path_agrees_with_pendulum(moment, minutes, shape, sep, zulu):
    """Any ISO time the fast path reads, it reads as pendulum does (same instant, zone, text)."""
    sign = "-" if minutes < 0 else "+"
    offset = "Z" if zulu else f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    text = moment.isoformat(sep=sep, timespec=shape) + offset
    ours = parse_time(text)
    theirs = pendulum.parse(text, exact=True)
    assert ours == theirs
    assert type(ours.tzinfo) is type(theirs.tzinfo)
    assert time_text(ours) == time_text(theirs)


@pytest.mark.parametrize(
    "text",
    ["2023-02-30T09:00:00+08:00", "2023-11-28T24:30:00+08:00", "2023-11-28T09:61:00+08:00"],
)
def test_parse_time_fast_path_refuses_what_pendulum_refuses(text):
    """An impossible day, hour or offset is still a clear bad_time (pendulum says so)."""
    err = refuse_time(text)
    assert "不是有效的时间" in str(err)


def test_default_clock_holds_its_zone():
    """The default clock keeps one zone object (pendulum's cache is weak) and reads the wall time."""
    clock = default_clock("Asia/Shanghai")
    first, second = clock(), clock()
    assert first.tzinfo is second.tzinfo  # the same zone, not one read anew per call
    assert first.tzinfo.name == "Asia/Shanghai"
    assert abs(first - pendulum.now("UTC")) < dt.timedelta(minutes=1)
    berlin = default_clock("Europe/Berlin")()  # a zone with summer time: pendulum's offset
    assert type(berlin) is pendulum.DateTime
    assert berlin.utcoffset() == pendulum.now("Europe/Berlin").utcoffset()
