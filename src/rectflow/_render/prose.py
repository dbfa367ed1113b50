"""The report's sentences: the headline (the seed's sentence and the rates) and the notes after it.

Shared by the Markdown and HTML renderers; every word comes from the catalogue (``_i18n``).
"""

from __future__ import annotations

from rectflow._i18n import msg, msg_n
from rectflow._render.fmt import rate_text
from rectflow._views.report import ReportData


def summary(d: ReportData, lang: str) -> str:
    """The seed's sentence: 对巡察反馈的28个问题,已完成整改18项,其余10项已取得阶段性成效….

    Counted against the declared number: the problems not on the ledger yet are part of the rest.
    """
    missing = max(d.declared - d.total, 0)
    rest = d.total - d.completed + missing
    fields = {
        "declared": d.declared,
        "completed": d.completed,
        "rest": rest,
        "problems": msg_n("report.problems", d.declared, lang),
    }
    if rest == 0:
        return msg("report.summary.all_done", lang, **fields)
    if rest == d.staged:
        return msg("report.summary.rest_staged", lang, **fields)
    others = d.total - d.completed - d.staged
    parts = [
        msg(f"report.summary.{key}", lang, n=n)
        for key, n in (("staged", d.staged), ("others", others), ("missing", missing))
        if n
    ]
    return msg(
        "report.summary.rest", lang, parts=msg("report.summary.sep", lang).join(parts), **fields
    )


def rates(d: ReportData, lang: str) -> str:
    """The rates sentence, two decimals with the counts behind them."""
    timed = d.timed_completions
    completion = rate_text(d.completed, d.total, lang)
    if timed == 0 < d.completed:  # every completion attested: no day to measure against
        return msg("report.rates.completion_only", lang, completion=completion)
    key = "report.rates.known_day" if timed < d.completed else "report.rates"
    return msg(key, lang, completion=completion, on_time=rate_text(d.on_time, timed, lang))


def headline(d: ReportData, lang: str) -> str:
    """The seed's sentence followed by the rates."""
    return msg("report.headline", lang, summary=summary(d, lang), rates=rates(d, lang))


def notes(d: ReportData, lang: str) -> list[str]:
    """The sentences after the headline: attested, undated, unitemized, missing, extra, adopted."""
    lines = []
    if d.completed_by_import:
        lines.append(msg("report.note.by_import", lang, n=d.completed_by_import))
    if d.on_time_unknown:
        lines.append(msg_n("report.note.on_time_unknown", d.on_time_unknown, lang))
    if d.not_itemized:
        lines.append(msg_n("report.note.not_itemized", d.not_itemized, lang))
    gap = d.undeclared_gap
    if gap > 0:
        lines.append(msg("report.note.missing", lang, n=gap))
    elif gap < 0:
        lines.append(msg("report.note.extra", lang, n=-gap))
    rules, plans = d.rules_adopted, d.plans_adopted
    if rules or plans:
        lines.append(
            msg(
                "report.note.adopted",
                lang,
                rules=rules,
                plans=plans,
                rule_words=msg_n("report.rules", rules, lang),
                plan_words=msg_n("report.plans", plans, lang),
            )
        )
    return lines
