"""The progress report as one self-contained HTML page (jinja2, autoescaped).

Inline CSS laid out for A4 print, the charts inlined as SVG data URIs; every
title, name and note is escaped (they are untrusted text).
"""

from __future__ import annotations

import base64
import datetime as dt
from functools import cache

import attrs
import jinja2

from rectflow._i18n import msg
from rectflow._render import charts as _charts
from rectflow._render.fmt import aspect_head, category_head, rate_text, signed_day
from rectflow._render.prose import headline, notes
from rectflow._version import __version__
from rectflow._views.report import ReportData
from rectflow._workflow import state_label


def _word(key: str, lang: str) -> str:
    return msg(f"report.{key}", lang)


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


def chart_images(data: ReportData, lang: str) -> list[dict[str, str]]:
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


def _instant(when: dt.datetime) -> str:
    """``2024-01-22T23:59:59.999999+08:00`` as ``2024-01-22 23:59 (UTC+08:00)``."""
    offset = when.strftime("%z")
    return f"{when:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def render_report(data: ReportData, lang: str = "zh", *, charts: bool = True) -> str:
    """Render report *data* as a self-contained HTML page.

    Args:
        data: The report's record.
        lang: ``"zh"`` or ``"en"``.
        charts: Draw the charts when matplotlib is installed.
    """
    rec = data.recurring_measures
    figures = [
        (_word("declared", lang), str(data.declared)),
        (_word("total", lang), str(data.total)),
        (_word("itemized", lang), str(data.itemized)),
        (_word("completed", lang), str(data.completed)),
        (_word("staged", lang), str(data.staged)),
        (_word("overdue", lang), str(data.overdue)),
        (_word("completion_rate", lang), rate_text(data.completed, data.total, lang)),
        (_word("on_time_rate", lang), rate_text(data.on_time, data.timed_completions, lang)),
        (_word("late", lang), str(len(data.late_completions))),
        (_word("rebounds", lang), str(data.rebounds)),
        (_word("recurring", lang), f"{rec.kept} / {rec.missed}"),
    ]
    aspects = [
        {
            "head": aspect_head(i, a.aspect, lang),
            "row": a,
            "rate": rate_text(a.completed, a.total, lang),
            "categories": [
                {
                    "head": category_head(j, c.category, lang),
                    "row": c,
                    "rate": rate_text(c.completed, c.total, lang),
                }
                for j, c in enumerate(a.categories)
            ],
        }
        for i, a in enumerate(data.by_aspect)
    ]
    images = chart_images(data, lang) if charts else []
    submitted = data.report_submitted
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            d=data,
            lang=lang,
            html_lang="en" if lang == "en" else "zh-CN",
            w=lambda key: _word(key, lang),
            headline=headline(data, lang),
            notes=notes(data, lang),
            figures=figures,
            states=[(state_label(s, lang), n) for s, n in data.by_state.items()],
            rows=[
                {**attrs.asdict(row), "state_label": state_label(row.state, lang)}
                for row in data.findings
            ],
            aspects=aspects,
            charts=images,
            charts_note=_word("no_charts", lang) if charts and not images else "",
            generator=f"rectflow {__version__}",
            cutoff=data.cutoff.isoformat(),
            submitted_day=None if submitted is None else submitted.date().isoformat(),
            data_as_of=_instant(data.cutoff),
            overdue_list=data.titled(data.overdue_findings),
            late_list=data.titled(data.late_completions),
            unit=data.unit or "",
            signed=signed_day(data.as_of.isoformat(), lang),
        )
    )
