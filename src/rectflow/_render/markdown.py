"""The progress report as Markdown, from its record, in the seed's own wording or English."""

from __future__ import annotations

from rectflow._i18n import msg
from rectflow._render.fmt import aspect_head, category_head, rate_text, signed_day
from rectflow._render.prose import headline, notes
from rectflow._views.report import ReportData
from rectflow._workflow import state_label


def _as_of(d: ReportData, lang: str) -> str:
    """The line under the title: the day, the feedback day, the report's due or submitted day."""
    if d.report_submitted is not None:
        report = msg("report.md.submitted", lang, day=d.report_submitted.date().isoformat())
    else:
        key = "report.md.due_overdue" if d.report_overdue else "report.md.due"
        report = msg(key, lang, day=d.report_due.isoformat())
    return msg(
        "report.md.as_of",
        lang,
        as_of=d.as_of.isoformat(),
        feedback=d.feedback_at.isoformat(),
        report=report,
    )


def _listed(d: ReportData, lang: str) -> list[str]:
    """The overdue and late lists, one finding a line with its id and title."""
    out: list[str] = []
    for key, ids in (
        ("report.md.overdue_list", d.overdue_findings),
        ("report.late_list", d.late_completions),
    ):
        if ids:
            out += ["", f"{msg(key, lang)}:", ""]
            out += [f"- {i} {title}".rstrip() for i, title in d.titled(ids)]
    return out


def signature(d: ReportData, lang: str) -> list[str]:
    """The 落款: the unit (when the inspection records one), then the report's day in words."""
    return [*([d.unit] if d.unit else []), signed_day(d.as_of.isoformat(), lang)]


def render_report(d: ReportData, lang: str = "zh") -> str:
    """The report *d* as Markdown in *lang* (``zh`` or ``en``)."""

    def w(key: str) -> str:
        return msg(f"report.{key}", lang)

    rec = d.recurring_measures
    figures = [
        ("total", str(d.total)),
        ("itemized", str(d.itemized)),
        ("completed", str(d.completed)),
        ("staged", str(d.staged)),
        ("overdue", str(d.overdue)),
        ("completion_rate", rate_text(d.completed, d.total, lang)),
        ("on_time_rate", rate_text(d.on_time, d.timed_completions, lang)),
        ("late", str(len(d.late_completions))),
        ("rebounds", str(d.rebounds)),
        ("recurring", f"{rec.kept} / {rec.missed}"),
    ]
    lines = [
        f"# {d.title}: {w('report')}",
        "",
        _as_of(d, lang),
        "",
        headline(d, lang),
        *notes(d, lang),
        "",
        f"| {w('figure')} | {w('value')} |",
        "|---|---|",
        *(f"| {w(key)} | {value} |" for key, value in figures),
        "",
        f"## {w('by_state')}",
        "",
        f"| {w('state')} | {w('count')} |",
        "|---|---|",
        *(f"| {state_label(s, lang)} | {n} |" for s, n in d.by_state.items()),
        "",
        f"## {w('by_aspect')}",
        "",
    ]
    for i, a in enumerate(d.by_aspect):
        counts = {"total": a.total, "completed": a.completed, "staged": a.staged}
        head = aspect_head(i, a.aspect, lang)
        lines.append(
            msg("report.md.aspect", lang, head=head, **counts)
            + (msg("report.md.aspect_overdue", lang, overdue=a.overdue) if a.overdue else "")
        )
        for j, c in enumerate(a.categories):
            lines.append(
                msg(
                    "report.md.category",
                    lang,
                    head=category_head(j, c.category, lang),
                    total=c.total,
                    completed=c.completed,
                    staged=c.staged,
                )
            )
    lines += _listed(d, lang)
    return "\n".join([*lines, "", *signature(d, lang)]) + "\n"
