"""Reports people read (issue 9): rates, HTML, charts and their CJK font, the JSON schema."""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from importlib import resources

import jsonschema
import pendulum
import pytest
from matplotlib import font_manager

from rectflow import Ledger, Measure, Owner, Report
from rectflow._demo import load_seed
from rectflow._i18n import keys, msg
from rectflow._render import charts, html
from rectflow._render.fmt import pct, rate_text

TZ = "Asia/Shanghai"
OWNER = Owner(leader="刘副校长", department="德育处", person="黄主任")


def at(day: str, hour: int = 9) -> pendulum.DateTime:
    d = dt.date.fromisoformat(day)
    return pendulum.datetime(d.year, d.month, d.day, hour, tz=TZ)


@pytest.fixture(scope="module")
def seed_report() -> Report:
    ledger = Ledger.open(clock=lambda: at("2026-06-01"))
    seed = load_seed(ledger)
    return ledger.report(seed.inspection, as_of=seed.report_as_of)


def small_ledger(
    title: str = "县委巡察", aspect: str = "第一方面", category: str = "(一)类"
) -> Ledger:
    """Three findings: one signed off, one rebounded and open again, one cancelled."""
    ledger = Ledger.open(clock=lambda: at("2026-06-01"))
    ledger.add_inspection("R1", title=title, feedback_at="2024-03-01", at=at("2024-03-01"))
    for fid, deadline in (("F1", "2024-03-29"), ("F2", "2024-04-30"), ("F3", "2024-05-31")):
        ledger.add_finding(
            fid,
            inspection="R1",
            title=f"问题{fid}",
            kind="deadline",
            owner=OWNER,
            deadline=deadline,
            actor="巡察办",
            aspect=aspect,
            category=category,
            at=at("2024-03-04"),
        )
    for fid, sign in (("F1", "2024-03-20"), ("F2", "2024-03-25")):
        ledger.fire(fid, "start", actor="黄主任", at=at("2024-03-05"))
        ledger.fire(fid, "submit", actor="黄主任", at=at("2024-03-18"), evidence=["a.pdf"])
        ledger.fire(fid, "sign_off", actor="陈主任", at=at(sign, 15))
    ledger.fire(
        "F2",
        "rebound",
        actor="陈主任",
        at=at("2024-04-08"),
        evidence=["b.pdf"],
        deadline="2024-06-28",
    )
    ledger.fire("F3", "cancel", actor="陈主任", at=at("2024-04-10"), reason="重复")
    return ledger


# ---------------------------------------------------------------- rates


@pytest.mark.parametrize(
    ("part", "whole", "zh", "en"),
    [
        (27, 28, "96.43%(27/28)", "96.43% (27/28)"),
        (18, 28, "64.29%(18/28)", "64.29% (18/28)"),
        (1, 3, "33.33%(1/3)", "33.33% (1/3)"),
        (2, 2, "100.00%(2/2)", "100.00% (2/2)"),
        (0, 0, "—(0/0)", "— (0/0)"),
    ],
)
def test_rates_print_two_decimals_and_the_count(part, whole, zh, en):
    """A rate prints as published reports print it: two decimals, then the count behind it."""
    assert rate_text(part, whole) == zh
    assert rate_text(part, whole, "en") == en


def test_pct_of_none_is_a_dash():
    """A rate with nothing to divide by prints as a dash, not 0%."""
    assert pct(None) == "—"
    assert pct(0.9643) == "96.43%"


def test_seed_headline_and_table_carry_the_rates(seed_report):
    """The headline sentence and the table both print 64.29%(18/28) and 88.89%(16/18)."""
    md = seed_report.to_markdown()
    headline = seed_report.headline()
    assert headline.startswith("对巡察反馈的28个问题,已完成整改18项,其余10项已取得阶段性成效")
    assert "整改完成率64.29%(18/28)" in headline
    assert "按期完成率88.89%(16/18)" in headline
    assert headline in md
    assert "| 整改完成率 | 64.29%(18/28) |" in md
    assert "| 按期完成率 | 88.89%(16/18) |" in md
    en = seed_report.to_markdown("en")
    assert "Completion rate 64.29% (18/28)" in en
    assert "| completion rate | 64.29% (18/28) |" in en


# ---------------------------------------------------------------- burndown data


def test_burndown_replays_the_event_log():
    """Open findings per day from the first event: added (3), signed off, rebound, cancelled."""
    ledger = small_ledger()
    data = ledger.report("R1", as_of="2024-04-15").to_dict()
    # from the day of the first event (not the feedback day: nothing was known before it)
    assert data["burndown"]["open"] == [
        ["2024-03-04", 3],
        ["2024-03-20", 2],
        ["2024-03-25", 1],
        ["2024-04-08", 2],
        ["2024-04-10", 1],
        ["2024-04-15", 1],
    ]
    # Planned: live findings until their original deadline (F3 cancelled is not live),
    # drawn up to the report's due day (2 months after feedback, past May Day: 2024-05-06).
    assert data["report_due"] == "2024-05-06"
    assert data["burndown"]["planned"] == [
        ["2024-03-04", 2],
        ["2024-03-30", 1],
        ["2024-05-01", 0],
        ["2024-05-06", 0],
    ]


def test_burndown_as_of_a_past_day_ignores_later_events():
    """As of 2024-03-22 the rebound and the cancellation have not happened yet."""
    data = small_ledger().report("R1", as_of="2024-03-22").to_dict()
    assert data["burndown"]["open"][-2:] == [["2024-03-20", 2], ["2024-03-22", 2]]


# ---------------------------------------------------------------- JSON schema


def _validator() -> jsonschema.Draft202012Validator:
    schema = Report.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_schema_is_a_file_in_the_package():
    """The schema ships as rectflow/_render/schema/report.schema.json, versioned."""
    text = (
        resources.files("rectflow").joinpath("_render/schema/report.schema.json").read_text("utf-8")
    )
    schema = json.loads(text)
    assert schema == Report.json_schema()
    assert schema["version"] == schema["properties"]["schema_version"]["const"] == 2


@pytest.mark.parametrize("as_of", ["2023-11-23", "2024-01-22", "2024-06-30"])
def test_seed_reports_validate_against_the_schema(as_of):
    """Reports of the seed ledger on several days validate, and carry schema_version."""
    ledger = Ledger.open(clock=lambda: at("2026-06-01"))
    load_seed(ledger)
    data = json.loads(ledger.report("R1", as_of=as_of).to_json())
    _validator().validate(data)
    assert data["schema_version"] == 2


def test_small_report_validates_and_a_broken_one_does_not(seed_report):
    """A report validates; one with an unknown key, a missing key or a bad day does not."""
    validator = _validator()
    data = small_ledger().report("R1", as_of="2024-04-15").to_dict()
    validator.validate(data)
    for broken in (
        {**data, "surprise": 1},
        {k: v for k, v in data.items() if k != "completed"},
        {**data, "as_of": "22/01/2024"},
        {**data, "completion_rate": 1.5},
    ):
        assert not validator.is_valid(broken)


# ---------------------------------------------------------------- HTML


def test_html_is_self_contained_and_prints_on_a4(seed_report):
    """One page: inline CSS with an A4 @page, charts inlined as data URIs, nothing fetched."""
    page = seed_report.to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert re.search(r"@page\s*\{\s*size:\s*A4", page)
    assert "<script" not in page
    assert "<link" not in page
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)
    images = re.findall(r'<img class="chart" src="([^"]+)"', page)
    assert len(images) == 2
    assert all(src.startswith("data:image/svg+xml;base64,") for src in images)
    assert seed_report.headline() in page
    assert "64.29%(18/28)" in page


def test_html_in_english(seed_report):
    """to_html('en') speaks English with the same figures."""
    page = seed_report.to_html("en")
    assert '<html lang="en">' in page
    assert "Completion rate 64.29% (18/28)" in page
    assert "Key figures" in page


def test_html_escapes_untrusted_text():
    """Titles, aspects, categories and documents are escaped: a <script> title stays text."""
    ledger = small_ledger(
        title="<script>alert('x')</script>", aspect="<b>方面</b>", category='"&类'
    )
    ledger.add_finding(
        "F4",
        inspection="R1",
        title="<script>alert(2)</script>",
        kind="deadline",
        owner=Owner(leader="l", department="<u>总务处</u>", person="<i>王</i>"),
        deadline="2024-05-31",
        actor="巡察办",
        measures=[
            Measure(
                "F4-1",
                "制度",
                kind="institutional",
                document="<img src=x onerror=alert(1)>",
                document_type="rule",
            )
        ],
        at=at("2024-03-04"),
    )
    ledger.fire("F4", "start", actor="黄主任", at=at("2024-03-05"), note="<svg onload=alert(4)>")
    ledger.fire("F4", "record_measure", measure="F4-1", actor="黄主任", at=at("2024-03-06"))
    page = ledger.report("R1", as_of="2024-04-15").to_html(charts=False)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<b>方面</b>" not in page
    assert "&lt;b&gt;方面&lt;/b&gt;" in page
    assert "&#34;&amp;类" in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page  # a finding's title
    assert "&lt;u&gt;总务处&lt;/u&gt; / &lt;i&gt;王&lt;/i&gt;" in page  # its owner
    assert "<svg" not in page
    assert "&lt;svg onload=alert(4)&gt;" in page  # its latest note


def test_html_without_the_charts_extra_says_so_in_one_line(seed_report, monkeypatch):
    """Without matplotlib the page renders, with a one-line note instead of the charts."""
    monkeypatch.setattr(charts, "available", lambda: False)
    page = seed_report.to_html()
    assert 'id="charts-note"' in page
    assert "pip install &#39;rectflow[charts]&#39;" in page
    assert "<img" not in page
    assert seed_report.headline() in page
    en = seed_report.to_html("en")
    assert "Charts are not included" in en


def test_html_charts_false_leaves_them_out_without_a_note(seed_report):
    """charts=False is a choice: no charts and no note."""
    page = seed_report.to_html(charts=False)
    assert "<img" not in page
    assert 'id="charts-note"' not in page


# ---------------------------------------------------------------- charts and the CJK font


CHART_TEXT = (
    "".join(msg(key, "zh", n=1, zh_n="一") for key in keys("chart."))
    + "第一二三四五六七八九十方面0123456789/%年月日"
)


def test_charts_resolve_a_cjk_font_with_every_glyph():
    """The font matplotlib resolves for the charts (no fallback) has every glyph they draw."""
    assert charts.cjk_font() is not None, "no CJK font: install the charts extra (mplfonts)"
    family = charts.font_family()
    assert family is not None
    resolved = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    font = font_manager.get_font(resolved)
    assert "CJK" in font.family_name or "Hei" in font.family_name, font.family_name
    cmap = font.get_charmap()
    missing = sorted({ch for ch in CHART_TEXT if ord(ch) not in cmap})
    assert missing == []
    # The default Latin font would have lacked them: the check above can fail.
    latin = font_manager.get_font(font_manager.findfont("DejaVu Sans"))
    assert any(ord(ch) not in latin.get_charmap() for ch in CHART_TEXT)


def test_charts_render_chinese_without_missing_glyphs(seed_report):
    """Drawing both charts in Chinese warns about no missing glyph, and yields SVG."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        burndown = charts.burndown_svg(seed_report.data, "zh")
        aspects = charts.aspects_svg(seed_report.data, "zh")
    glyph_warnings = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert glyph_warnings == []
    for svg in (burndown, aspects):
        assert svg.startswith("<svg")
        assert svg.rstrip().endswith("</svg>")
        assert "<text" not in svg  # text drawn as paths: the same glyphs in every browser


def test_charts_are_reproducible(seed_report):
    """The same data gives the same SVG (no dates or random ids in it)."""
    data = seed_report.data
    assert charts.burndown_svg(data) == charts.burndown_svg(data)
    assert html.chart_images(data, "en") == html.chart_images(data, "en")


def test_charts_without_a_cjk_font_fall_back_to_english_labels(seed_report, monkeypatch):
    """With matplotlib but no CJK font the charts are drawn in English, not in empty boxes."""
    data = seed_report.data
    zh = [c["src"] for c in html.chart_images(data, "zh")]
    assert zh != [c["src"] for c in html.chart_images(data, "en")]
    monkeypatch.setattr(charts, "font_family", lambda: None)
    fallback = html.chart_images(data, "zh")
    assert [c["src"] for c in fallback] == [c["src"] for c in html.chart_images(data, "en")]
    assert [c["alt"] for c in fallback] == ["未完成问题数变化(燃尽图)", "分方面整改完成情况"]


def test_report_rows_carry_each_finding_and_its_latest_note():
    """findings: one row per live finding, in id order, with its latest note up to as_of."""
    ledger = small_ledger()
    ledger.fire(
        "F2",
        "stage",
        actor="黄主任",
        at=at("2024-04-09"),
        note="返工已有阶段性成效",
        evidence=["c.pdf"],
        next_checkpoint="2024-05-31",
    )
    rows = ledger.report("R1", as_of="2024-04-15").to_dict()["findings"]
    assert [r["id"] for r in rows] == ["F1", "F2"]  # F3 was cancelled
    f2 = rows[1]
    assert (f2["state"], f2["deadline"], f2["original_deadline"]) == (
        "staged_result",
        "2024-06-28",
        "2024-04-30",
    )
    assert (f2["department"], f2["person"], f2["note"]) == (
        "德育处",
        "黄主任",
        "返工已有阶段性成效",
    )
    assert rows[0]["note"] is None
    earlier = ledger.report("R1", as_of="2024-04-08").to_dict()["findings"]
    assert earlier[1]["note"] is None  # the note came later
    assert earlier[1]["state"] == "in_progress"
