"""The progress report as one self-contained HTML page (jinja2, autoescaped).

Inline CSS laid out for A4 print, the charts inlined as SVG data URIs; every
title, name and note is escaped (they are untrusted text).
"""

from __future__ import annotations

import base64
import datetime as dt
from functools import cache
from typing import Any, Final

import jinja2

from rectflow._render import charts as _charts
from rectflow._render.fmt import (
    aspect_head,
    category_head,
    rate_text,
    signed_day,
    timed_completions,
    titled,
    word,
)
from rectflow._version import __version__
from rectflow._workflow import state_label

_WORDS: Final = {
    "report": ("整改进展情况报告", "rectification progress report"),
    "as_of": ("截至", "As of"),
    "feedback": ("巡察反馈日期", "feedback on"),
    "due": ("整改报告报送时限", "report due"),
    "overdue_tag": ("已逾期", "overdue"),
    "submitted": ("整改报告已报送", "report submitted on"),
    "figures": ("主要指标", "Key figures"),
    "figure": ("指标", "figure"),
    "value": ("数值", "value"),
    "total": ("问题总数(台账)", "findings on the ledger"),
    "declared": ("反馈问题数", "declared in the feedback"),
    "itemized": ("逐项列明", "itemized"),
    "completed": ("已完成整改(含已回头看)", "completed (incl. rechecked)"),
    "staged": ("取得阶段性成效", "staged results"),
    "overdue": ("逾期未完成", "overdue"),
    "completion_rate": ("整改完成率", "completion rate"),
    "on_time_rate": ("按期完成率", "on-time rate"),
    "late": ("逾期完成", "late completions"),
    "rebounds": ("反弹(回潮)问题", "rebounds"),
    "recurring": ("常态化措施按期开展 / 漏开展", "recurring measures kept / missed"),
    "charts": ("图表", "Charts"),
    "no_charts": (
        "未安装图表组件, 本报告不含图表(pip install 'rectflow[charts]')。",
        "Charts are not included: install the charts extra (pip install 'rectflow[charts]').",
    ),
    "burndown_alt": ("未完成问题数变化(燃尽图)", "Open findings over time (burndown)"),
    "aspects_alt": ("分方面整改完成情况", "Completion per aspect"),
    "by_state": ("各状态问题数", "By state"),
    "state": ("状态", "state"),
    "count": ("数量", "count"),
    "by_aspect": ("分方面整改情况", "By aspect"),
    "aspect": ("方面 / 类别", "aspect / category"),
    "n_total": ("问题数", "findings"),
    "n_completed": ("已完成", "completed"),
    "n_staged": ("阶段性成效", "staged"),
    "n_overdue": ("逾期", "overdue"),
    "rate": ("完成率", "completion rate"),
    "ledger": ("整改台账", "The findings"),
    "col_id": ("编号", "id"),
    "col_title": ("问题", "finding"),
    "col_owner": ("责任部门 / 责任人", "department / person"),
    "col_deadline": ("整改时限", "deadline"),
    "col_state": ("状态", "state"),
    "col_note": ("最新进展", "latest note"),
    "late_tag": ("逾期完成", "late"),
    "overdue_list": ("逾期未完成的问题", "Overdue findings"),
    "late_list": ("逾期完成的问题", "Completed late"),
    "documents": ("建立的制度和规划", "Rules and plans adopted"),
    "data_as_of": ("数据截至", "Data as of"),
    "recurring_missed": ("常态化措施漏开展", "Recurring measures missed"),
}


def _word(key: str, lang: str) -> str:
    return word(_WORDS, key, lang)


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("rectflow._render", "templates"),
        autoescape=True,  # every title, name and note is untrusted text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def chart_images(data: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """The report's charts as ``{"id", "alt", "src"}`` (SVG data URIs); [] without the extra."""
    if not _charts.available():
        return []
    # Without a CJK font the charts are labelled in English rather than in empty boxes.
    draw = lang if _charts.font_family() is not None else "en"
    return [
        {
            "id": "burndown",
            "alt": _word("burndown_alt", lang),
            "src": _data_uri(_charts.burndown_svg(data, draw)),
        },
        {
            "id": "aspects",
            "alt": _word("aspects_alt", lang),
            "src": _data_uri(_charts.aspects_svg(data, draw)),
        },
    ]


def _instant(iso: str) -> str:
    """``2024-01-22T23:59:59.999999+08:00`` as ``2024-01-22 23:59 (UTC+08:00)``."""
    when = dt.datetime.fromisoformat(iso)
    offset = when.strftime("%z")
    return f"{when:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def render_report(
    data: dict[str, Any],
    lang: str,
    *,
    headline: str,
    notes: list[str],
    charts: bool = True,
) -> str:
    """Render report *data* as a self-contained HTML page.

    Args:
        data: The report's figures (``Report.to_dict()``).
        lang: ``"zh"`` or ``"en"``.
        headline: The headline sentence, rates included.
        notes: The sentences that follow it.
        charts: Draw the charts when matplotlib is installed.
    """
    rec = data["recurring_measures"]
    figures = [
        (_word("declared", lang), str(data["declared"])),
        (_word("total", lang), str(data["total"])),
        (_word("itemized", lang), str(data["itemized"])),
        (_word("completed", lang), str(data["completed"])),
        (_word("staged", lang), str(data["staged"])),
        (_word("overdue", lang), str(data["overdue"])),
        (_word("completion_rate", lang), rate_text(data["completed"], data["total"], lang)),
        (_word("on_time_rate", lang), rate_text(data["on_time"], timed_completions(data), lang)),
        (_word("late", lang), str(len(data["late_completions"]))),
        (_word("rebounds", lang), str(data["rebounds"])),
        (_word("recurring", lang), f"{rec['kept']} / {rec['missed']}"),
    ]
    aspects = [
        {
            "head": aspect_head(i, a["aspect"], lang),
            "row": a,
            "rate": rate_text(a["completed"], a["total"], lang),
            "categories": [
                {
                    "head": category_head(j, c["category"], lang),
                    "row": c,
                    "rate": rate_text(c["completed"], c["total"], lang),
                }
                for j, c in enumerate(a["categories"])
            ],
        }
        for i, a in enumerate(data["by_aspect"])
    ]
    images = chart_images(data, lang) if charts else []
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            d=data,
            lang=lang,
            html_lang="en" if lang == "en" else "zh-CN",
            w=lambda key: _word(key, lang),
            headline=headline,
            notes=notes,
            figures=figures,
            states=[(state_label(s, lang), n) for s, n in data["by_state"].items()],
            rows=[
                {**row, "state_label": state_label(row["state"], lang)} for row in data["findings"]
            ],
            aspects=aspects,
            charts=images,
            charts_note=_word("no_charts", lang) if charts and not images else "",
            generator=f"rectflow {__version__}",
            data_as_of=_instant(data["cutoff"]),
            overdue_list=titled(data, data["overdue_findings"]),
            late_list=titled(data, data["late_completions"]),
            unit=data.get("unit") or "",
            signed=signed_day(data["as_of"], lang),
        )
    )
