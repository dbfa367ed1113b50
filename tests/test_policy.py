"""Policies as data: Period parsing, Policy defaults, the shipped packs, TOML loading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rectflow import Period, Policy, PolicyError, load_policy, policy_pack
from rectflow._policy import PACKS, policy_from_mapping
from rectflow.calendar import china, weekdays
from rectflow.exceptions import InvalidInput, RectflowError

# ---------------------------------------------------------------- Period parsing


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("3 months", 3, "months"),
        ("1 month", 1, "months"),
        ("2个月", 2, "months"),
        ("2 个月", 2, "months"),
        ("6月", 6, "months"),
        ("10 working days", 10, "workdays"),
        ("1 working day", 1, "workdays"),
        ("10 Working  Days", 10, "workdays"),
        ("10 workdays", 10, "workdays"),
        ("5 workday", 5, "workdays"),
        ("5 business days", 5, "workdays"),
        ("10个工作日", 10, "workdays"),
        ("10工作日", 10, "workdays"),
        ("30 days", 30, "days"),
        ("1 day", 1, "days"),
        ("30天", 30, "days"),
        ("15日", 15, "days"),
        ("  3 months  ", 3, "months"),
        ("0 days", 0, "days"),
    ],
)
def test_period_parse_en_and_zh_units(text, amount, unit):
    """Period.parse reads English and Chinese units (any case, spacing) into amount + unit."""
    assert Period.parse(text) == Period(amount, unit)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "10",
        "months",
        "3.5 months",
        "two months",
        "3 weeks",
        "3 fortnights",
        "两个月",
        "3 months later",
    ],
)
def test_period_parse_rejects_non_periods(text):
    """Text that is not '<integer> <unit>' raises InvalidInput naming the period field."""
    with pytest.raises(InvalidInput) as err:
        Period.parse(text)
    assert err.value.field == "period"
    assert isinstance(err.value, ValueError)
    assert isinstance(err.value, RectflowError)


def test_period_parse_rejects_non_text():
    """A bare number is not a period (no unit)."""
    with pytest.raises(InvalidInput):
        Period.parse(3)  # type: ignore[arg-type]


def test_period_parse_passes_period_through():
    """Parsing a Period returns it unchanged."""
    p = Period(2, "months")
    assert Period.parse(p) is p


def test_period_unknown_unit_rejected():
    """Constructing a Period with an unknown unit raises InvalidInput on field 'unit'."""
    with pytest.raises(InvalidInput) as err:
        Period(3, "weeks")
    assert err.value.field == "unit"


@given(st.integers(min_value=0, max_value=10_000), st.sampled_from(["days", "workdays", "months"]))
def test_period_text_round_trips(amount, unit):
    """str(p) and p.zh() both parse back to p."""
    p = Period(amount, unit)
    assert Period.parse(str(p)) == p
    assert Period.parse(p.zh()) == p


def test_period_text_forms():
    """The English and Chinese renderings of each unit."""
    assert str(Period(10, "workdays")) == "10 working days"
    assert str(Period(3, "months")) == "3 months"
    assert str(Period(1, "months")) == "1 month"
    assert str(Period(1, "workdays")) == "1 working day"
    assert Period.parse(str(Period(1, "days"))) == Period(1, "days")
    assert Period(10, "workdays").zh() == "10个工作日"
    assert Period(2, "months").zh() == "2个月"
    assert Period(30, "days").zh() == "30天"


def test_period_after_follows_civil_code():
    """after(): start day not counted, month-end clamp, rest-day end rolled to the next working day."""
    cal = china()
    # 10 working days after 2024-09-20 skip the National Day week; Sunday 09-29 is a make-up day.
    assert Period(10, "workdays").after(dt.date(2024, 9, 20), cal) == dt.date(2024, 10, 10)
    # 2023-12-31 + 2 months has no 31st: Feb 29 (a Thursday, a working day).
    assert Period(2, "months").after(dt.date(2023, 12, 31), cal) == dt.date(2024, 2, 29)
    # 2024-09-01 + 1 month = 2024-10-01, a holiday: the period ends on 2024-10-08.
    assert Period(1, "months").after(dt.date(2024, 9, 1), cal) == dt.date(2024, 10, 8)
    # 30 calendar days after 2024-09-05 is 2024-10-05 (holiday) -> 2024-10-08.
    assert Period(30, "days").after(dt.date(2024, 9, 5), cal) == dt.date(2024, 10, 8)
    # The same on a Monday–Friday calendar: Saturday 10-05 rolls to Monday 10-07.
    assert Period(30, "days").after(dt.date(2024, 9, 5), weekdays()) == dt.date(2024, 10, 7)


def test_period_plain_after_does_not_roll():
    """plain_after(): plain calendar arithmetic; working days are Monday–Friday."""
    assert Period(1, "months").plain_after(dt.date(2024, 9, 1)) == dt.date(2024, 10, 1)
    assert Period(2, "months").plain_after(dt.date(2023, 12, 31)) == dt.date(2024, 2, 29)
    assert Period(30, "days").plain_after(dt.date(2024, 9, 5)) == dt.date(2024, 10, 5)
    assert Period(5, "workdays").plain_after(dt.date(2024, 9, 27)) == dt.date(2024, 10, 4)


# ---------------------------------------------------------------- Policy defaults


def test_policy_defaults():
    """Policy() is the xuncha default: Shanghai, PRC calendar, 2/3/3 months, 10 working days, 2 extensions."""
    p = Policy()
    assert p.name == "xuncha"
    assert p.timezone == "Asia/Shanghai"
    assert p.calendar == "china"
    assert p.report_period == Period(2, "months")
    assert p.look_back_wait == Period(3, "months")
    assert p.checkpoint_interval == Period(3, "months")
    assert p.reminder_window == Period(10, "workdays")
    assert p.max_extensions == 2
    assert p.spot_check_sample == 3
    assert p.escalation == ((0, "warning"), (10, "referral"))
    assert p.effectiveness_checks == ()


def test_policy_default_calendar_is_china():
    """The default policy's working calendar is the cached official PRC calendar."""
    assert Policy().work_calendar() is china()
    cal = Policy(calendar="weekdays").work_calendar()
    assert cal.is_workday(dt.date(2024, 10, 1))  # National Day is a weekday on Mon–Fri
    assert not cal.is_workday(dt.date(2024, 9, 29))


def test_policy_converts_period_text():
    """Period-valued fields accept text in either language and store Periods."""
    p = Policy(report_period="3个月", look_back_wait="90 days", reminder_window="5个工作日")
    assert p.report_period == Period(3, "months")
    assert p.look_back_wait == Period(90, "days")
    assert p.reminder_window == Period(5, "workdays")


def test_policy_is_frozen_and_hashable():
    """A policy is an immutable value: no assignment, equal policies hash equal."""
    p = Policy()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        p.max_extensions = 5  # type: ignore[misc]
    assert hash(p) == hash(Policy())
    assert attrs.evolve(p, max_extensions=5).max_extensions == 5


# ---------------------------------------------------------------- shipped packs


def test_packs_list():
    """Exactly the four packs of the issue are shipped."""
    assert set(PACKS) == {"xuncha", "xunshi-2015", "hazard", "capa"}


@pytest.mark.parametrize("name", PACKS)
def test_every_pack_loads(name):
    """Every shipped pack loads, names itself, documents its source and builds a calendar."""
    p = policy_pack(name)
    assert p.name == name
    assert p.source.strip()
    assert load_policy(name) == p
    cal = p.work_calendar()
    assert cal.is_workday(dt.date(2024, 9, 30))


def test_pack_xuncha_equals_defaults():
    """The xuncha pack is Policy() plus its documented source."""
    p = policy_pack("xuncha")
    assert attrs.evolve(p, source="") == Policy()
    assert "第二十七条" in p.source


def test_pack_xunshi_2015():
    """xunshi-2015: the 2015 regulations' two-month report period, same conventions otherwise."""
    p = policy_pack("xunshi-2015")
    assert p.report_period == Period(2, "months")
    assert p.look_back_wait == Period(3, "months")
    assert p.calendar == "china"
    assert p.timezone == "Asia/Shanghai"
    assert p.escalation == ((0, "warning"), (10, "referral"))
    assert "2015" in p.source


def test_pack_hazard():
    """hazard: monthly report and look-back, 3 working days' reminder, one extension, 5 spot checks."""
    p = policy_pack("hazard")
    assert p.calendar == "china"
    assert p.report_period == Period(1, "months")
    assert p.look_back_wait == Period(1, "months")
    assert p.checkpoint_interval == Period(1, "months")
    assert p.reminder_window == Period(3, "workdays")
    assert p.max_extensions == 1
    assert p.spot_check_sample == 5
    assert p.escalation == ((0, "warning"), (5, "referral"))


def test_pack_capa():
    """capa: UTC, Monday–Friday, effectiveness checks at 30/60/90 days."""
    p = policy_pack("capa")
    assert p.timezone == "UTC"
    assert p.calendar == "weekdays"
    assert p.effectiveness_checks == (Period(30, "days"), Period(60, "days"), Period(90, "days"))
    assert p.look_back_wait == Period(30, "days")
    assert p.report_period == Period(30, "days")
    assert p.reminder_window == Period(5, "workdays")
    assert not p.work_calendar().is_provisional(dt.date(2030, 1, 1))


def test_unknown_pack():
    """An unknown pack name raises PolicyError listing the shipped ones."""
    with pytest.raises(PolicyError, match="xuncha"):
        policy_pack("nope")


# ---------------------------------------------------------------- load_policy


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_policy_from_file(tmp_path):
    """A [policy] table in a TOML file becomes a Policy; the ladder is sorted."""
    path = _write(
        tmp_path,
        """
[policy]
name = "county"
report_period = "3个月"
look_back_wait = "6 months"
reminder_window = "5 working days"
max_extensions = 1
escalation = [
  { after_workdays = 20, level = "referral" },
  { after_workdays = 1, level = "warning" },
  { after_workdays = 5, level = "interview" },
]
""",
    )
    for source in (path, str(path)):
        p = load_policy(source)
        assert p.name == "county"
        assert p.report_period == Period(3, "months")
        assert p.look_back_wait == Period(6, "months")
        assert p.reminder_window == Period(5, "workdays")
        assert p.max_extensions == 1
        assert p.escalation == ((1, "warning"), (5, "interview"), (20, "referral"))
        # Unset fields keep the defaults.
        assert p.timezone == "Asia/Shanghai"
        assert p.checkpoint_interval == Period(3, "months")


def test_load_policy_top_level_keys_and_pair_ladder(tmp_path):
    """Keys may also sit at the top level, and ladder steps may be [days, level] pairs."""
    path = _write(
        tmp_path,
        'name = "flat"\ncalendar = "weekdays"\ntimezone = "UTC"\n'
        'escalation = [[3, "warning"], [1, "reminder"]]\n',
    )
    p = load_policy(path)
    assert p.name == "flat"
    assert p.calendar == "weekdays"
    assert p.escalation == ((1, "reminder"), (3, "warning"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('look_back_wiat = "3 months"', "look_back_wiat"),
        ('colour = "red"\nzeta = 1', "colour"),
    ],
)
def test_load_policy_unknown_keys(tmp_path, body, field):
    """Unknown keys (typos) raise PolicyError naming the first one, never silently ignored."""
    path = _write(tmp_path, f"[policy]\n{body}\n")
    with pytest.raises(PolicyError, match=field) as err:
        load_policy(path)
    assert err.value.field == field


@pytest.mark.parametrize(
    "body",
    [
        'timezone = "Mars/Olympus_Mons"',
        'timezone = ""',
        'calendar = "gregorian"',
        'calendar = "CN"',
        'look_back_wait = "soon"',
        'reminder_window = "3 weeks"',
        'effectiveness_checks = ["30 days", "a while"]',
        "max_extensions = -1",
        "spot_check_sample = -3",
        'max_extensions = "two"',
        "escalation = [{ days = 1 }]",
    ],
)
def test_load_policy_invalid_values(tmp_path, body):
    """Invalid values in a file raise PolicyError (an InvalidInput, ValueError and RectflowError)."""
    path = _write(tmp_path, f"[policy]\n{body}\n")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert isinstance(err.value, InvalidInput)
    assert isinstance(err.value, ValueError)
    assert isinstance(err.value, RectflowError)


def test_load_policy_bad_timezone_names_field(tmp_path):
    """A bad time zone is reported on the 'timezone' field with the value."""
    path = _write(tmp_path, '[policy]\ntimezone = "Asia/Shanghia"\n')
    with pytest.raises(PolicyError, match="Asia/Shanghia") as err:
        load_policy(path)
    assert err.value.field == "timezone"


def test_load_policy_missing_file(tmp_path):
    """A missing file raises PolicyError (Chinese by default, English via in_lang)."""
    with pytest.raises(PolicyError, match="找不到政策文件") as err:
        load_policy(tmp_path / "absent.toml")
    assert err.value.in_lang("en").startswith("policy file not found: ")


def test_load_policy_not_toml(tmp_path):
    """A file that is not TOML raises PolicyError."""
    path = _write(tmp_path, "[policy\nname = ")
    with pytest.raises(PolicyError, match="TOML"):
        load_policy(path)


def test_policy_direct_construction_errors():
    """Bad time zone or calendar passed to Policy() directly raise PolicyError too."""
    with pytest.raises(PolicyError):
        Policy(timezone="Nowhere/Special")
    with pytest.raises(PolicyError):
        Policy(calendar="lunar")
    with pytest.raises(PolicyError):
        Policy(max_extensions=-1)
    with pytest.raises(InvalidInput):
        Policy(look_back_wait="whenever")


def test_policy_from_mapping_names_origin():
    """policy_from_mapping prefixes errors with the origin it was given."""
    with pytest.raises(PolicyError, match=r"^custom origin: 未知的政策设置项: bogus") as err:
        policy_from_mapping({"bogus": 1}, origin="custom origin")
    assert err.value.in_lang("en") == "custom origin: unknown policy key(s): bogus"


def test_load_policy_rejects_numeric_timezone(tmp_path):
    """A numeric time zone is not an IANA zone name: PolicyError."""
    path = _write(tmp_path, "[policy]\ntimezone = 8\n")
    with pytest.raises(PolicyError):
        load_policy(path)


@pytest.mark.parametrize(
    "body",
    [
        'look_back_wait = "-3 months"',
        'report_period = "-2 months"',
        'reminder_window = "-5 working days"',
        'checkpoint_interval = "-1 month"',
    ],
)
def test_load_policy_rejects_negative_periods(tmp_path, body):
    """A policy's waits and windows cannot be negative."""
    path = _write(tmp_path, f"[policy]\n{body}\n")
    with pytest.raises(PolicyError):
        load_policy(path)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"escalation": [{"days": 1}]},
        {"max_extensions": "two"},
        {"look_back_wait": "whenever"},
    ],
)
def test_policy_direct_construction_raises_policy_error(kwargs):
    """Every invalid Policy(...) argument raises PolicyError (a RectflowError)."""
    with pytest.raises(PolicyError):
        Policy(**kwargs)


# ---------------------------------------------------------------- escalation ladder


@pytest.mark.parametrize(
    ("workdays", "level"),
    [
        (-3, None),
        (0, "warning"),
        (1, "warning"),
        (9, "warning"),
        (10, "referral"),
        (500, "referral"),
    ],
)
def test_escalation_level_default_ladder(workdays, level):
    """Default ladder: warning once overdue (even 0 working days: a rest day after), referral from 10."""
    assert Policy().escalation_level(workdays) == level


def test_escalation_level_custom_ladder():
    """A custom ladder applies its highest reached step, whatever the input order."""
    p = Policy(escalation=[(20, "discipline"), (3, "warning"), (8, "referral")])
    assert p.escalation == ((3, "warning"), (8, "referral"), (20, "discipline"))
    assert [p.escalation_level(n) for n in (2, 3, 7, 8, 19, 20, 99)] == [
        None,
        "warning",
        "warning",
        "referral",
        "referral",
        "discipline",
        "discipline",
    ]


def test_escalation_level_empty_ladder():
    """Without a ladder no level is ever reached."""
    assert Policy(escalation=()).escalation_level(100) is None


def test_hazard_ladder_escalates_sooner():
    """The hazard pack refers a finding after 5 working days, xuncha after 10."""
    assert policy_pack("hazard").escalation_level(5) == "referral"
    assert policy_pack("xuncha").escalation_level(5) == "warning"


@pytest.mark.parametrize(
    ("settings", "zh", "en"),
    [
        ({"timezone": "Asia/Shanghia"}, "未知的时区", "unknown time zone"),
        ({"calendar": "lunar"}, "未知的日历", "unknown calendar"),
        ({"max_extensions": -1}, "应为不小于 0 的整数", "must be a whole number"),
        ({"look_back_wait": "whenever"}, "无法识别的期限", "cannot read period"),
        ({"escalation": [{"after_workdays": -1, "level": "x"}]}, "工作日数", "working days"),
        ({"checkpoint_interval": "0 days"}, "必须为正", "must be positive"),
    ],
)
def test_policy_errors_speak_both_languages(settings, zh, en):
    """Every policy error is Chinese by default and English through in_lang('en') (issue 9)."""
    with pytest.raises(PolicyError) as err:
        policy_from_mapping(settings, origin="p.toml")
    assert zh in str(err.value)
    assert err.value.in_lang("zh") == str(err.value)
    assert err.value.in_lang("en").startswith("p.toml: ")
    assert en in err.value.in_lang("en")
    assert zh not in err.value.in_lang("en")
