"""The progress report (整改进展情况报告): data first, rendering separate."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs

from rectflow._model import (
    DONE_STATES,
    OPEN_STATES,
    STATES,
    Event,
    Finding,
    Inspection,
    id_key,
    missed_periods,
)
from rectflow._policy import Policy
from rectflow._render import html as _html
from rectflow._render.fmt import (
    aspect_head,
    category_head,
    rate_text,
    signed_day,
    timed_completions,
    titled,
)
from rectflow._render.schema import SCHEMA_VERSION, report_schema
from rectflow._time import local_date
from rectflow._workflow import state_label

#: Events that open (+1) or close (-1) a finding, for the burndown.
_OPENS: Final = {"add": 1, "rebound": 1, "sign_off": -1, "cancel": -1}


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


@attrs.frozen
class Report:
    """A progress report as of a day, computed by replaying history.

    Build it with :meth:`rectflow.Ledger.report`; read it with :meth:`to_dict`,
    :meth:`to_json` or :meth:`to_markdown`.

    Attributes:
        data: The figures (see :meth:`to_dict`).
        lang: The default language of :meth:`to_markdown`.
    """

    data: dict[str, Any]
    lang: str = "zh"

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-native data.

        Keys: ``inspection``, ``title``, ``as_of``, ``feedback_at``, ``report_due``,
        ``report_overdue``, ``report_submitted``, ``declared``, ``total``, ``itemized``,
        ``not_itemized``,
        ``undeclared_gap`` (declared minus on the ledger), ``by_state`` (every state),
        ``completed`` (completed + rechecked), ``staged``, ``open``, ``overdue``,
        ``cancelled``, ``completion_rate``, ``on_time``, ``late_completions``,
        ``on_time_rate``, ``rebounds``, ``by_aspect`` (per aspect, with its
        categories), ``rules_adopted``, ``plans_adopted``, ``documents``,
        ``recurring_measures`` (``kept`` and ``missed``), ``findings`` (one row per
        finding on the ledger, with its latest note), ``burndown`` (``open`` and
        ``planned``: ``[day, count]`` change points), and ``schema_version``. The JSON
        Schema is :meth:`json_schema`; ``docs/reference/report-schema.md`` describes it.
        """
        copy: dict[str, Any] = json.loads(json.dumps(self.data))  # a deep copy
        return copy

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) that :meth:`to_dict` and :meth:`to_json` follow.

        Shipped as ``rectflow/_render/schema/report.schema.json``; its ``version``
        equals the reports' ``schema_version``, raised on every incompatible change.
        """
        return report_schema()

    def headline(self, lang: str | None = None) -> str:
        """The headline sentence, e.g. 对巡察反馈的28个问题,已完成整改18项… with the rates."""
        return _headline(self.data, lang or self.lang)

    def to_html(self, lang: str | None = None, *, charts: bool = True) -> str:
        """The report as one self-contained HTML page (inline CSS and charts, A4 print).

        Args:
            lang: ``"zh"`` or ``"en"`` (default: the report's language).
            charts: Draw the burndown and per-aspect charts (needs the ``charts``
                extra; without it the page says so in one line).
        """
        lang = lang or self.lang
        return _html.render_report(
            self.data,
            lang,
            headline=_headline(self.data, lang),
            notes=_notes(self.data, lang),
            charts=charts,
        )

    def to_json(self, *, indent: int | None = 2) -> str:
        """The figures as JSON text (UTF-8 kept)."""
        return json.dumps(self.data, ensure_ascii=False, indent=indent)

    def to_markdown(self, lang: str | None = None) -> str:
        """The report as Markdown in the seed's own wording (``zh``) or English."""
        return _markdown(self.data, lang or self.lang)


def _counts(findings: list[Finding], overdue: set[str]) -> dict[str, Any]:
    live = [f for f in findings if f.state != "cancelled"]
    return {
        "total": len(live),
        "completed": sum(f.state in DONE_STATES for f in live),
        "staged": sum(f.state == "staged_result" for f in live),
        "open": sum(f.state in OPEN_STATES for f in live),
        "overdue": sum(f.id in overdue for f in live),
    }


def _steps(deltas: dict[dt.date, int], start: dt.date, end: dt.date) -> list[list[Any]]:
    """Running totals of *deltas* as ``[day, count]`` change points from *start* to *end*."""
    count = sum(n for d, n in deltas.items() if d < start)
    points: list[list[Any]] = [[start.isoformat(), count]]
    for day in sorted(d for d in deltas if start <= d <= end):
        count += deltas[day]
        if day == start:
            points[0][1] = count
        elif count != points[-1][1]:
            points.append([day.isoformat(), count])
    if points[-1][0] != end.isoformat() and end > start:
        points.append([end.isoformat(), count])
    return points


def _rows(
    live: list[Finding],
    events: list[Event],
    cutoff: dt.datetime,
    overdue: set[str],
    late: set[str],
) -> list[dict[str, Any]]:
    """One row per finding on the ledger (整改台账), with its latest note up to *cutoff*."""
    notes: dict[str, str] = {}
    for e in sorted(events, key=lambda e: (e.finding_id, e.version)):
        if e.note and e.at <= cutoff:
            notes[e.finding_id] = e.note
    return [
        {
            "id": f.id,
            "title": f.title,
            "aspect": f.aspect,
            "category": f.category,
            "itemized": f.itemized,
            "state": f.state,
            "deadline": f.deadline.isoformat(),
            "original_deadline": f.original_deadline.isoformat(),
            "department": f.owner.department,
            "person": f.owner.person,
            "overdue": f.id in overdue,
            "late": f.id in late,
            "note": notes.get(f.id),
        }
        for f in live
    ]


def _import_days(events: list[Event], tz: str) -> dict[str, dt.date]:
    """The day each imported finding was taken in, by finding id.

    An import's findings (their ``add`` names ``imported`` as its provenance)
    form one snapshot per file (their ``source``, ``file:row``): taken on the latest day its
    findings were added. A row stamped earlier (a completion's 销号时间) is
    history the sheet reports, already part of that snapshot.
    """
    source: dict[str, str] = {}
    taken: dict[str, dt.date] = {}
    for e in events:
        if e.name == "add" and e.payload.get("provenance") == "imported":
            file, colon, row = str(e.payload.get("source", "")).rpartition(":")
            if not (colon and row.isdigit()):  # "台账.xlsx:12": the file, row 12
                file = file + colon + row
            source[e.finding_id] = file
            d = local_date(e.at, tz)
            taken[file] = max(taken.get(file, d), d)
    return {fid: taken[file] for fid, file in source.items()}


def _burndown(
    events: Iterable[Event],
    live: list[Finding],
    start: dt.date,
    day: dt.date,
    due: dt.date,
    tz: str,
    calendar: Any,
) -> dict[str, list[Any]]:
    """Open findings per day, replayed from the event log, and the planned line.

    Both lines begin on the day of the first finding's first event (the feedback
    day when there is none): before it the ledger knew nothing, so the line does
    not climb from zero. Its first point is the count at that day's end.
    ``open``: findings added and not (yet) signed off or cancelled, per day, up
    to *day*. ``planned``: findings on the ledger whose original deadline (moved
    past rest days) has not passed, up to the later of *day* and the report's due
    day. ``imported``: the days imports took findings in (see :func:`_import_days`).
    An import is a snapshot: its findings' events up to that day count on that
    day, one point the chart marks 导入, not a climb from zero nor problems found
    and fixed on the days the sheet dates them.
    """
    events = list(events)
    taken = _import_days(events, tz)
    opened: dict[dt.date, int] = {}
    first: dt.date | None = None
    for e in events:
        d = local_date(e.at, tz)
        if (snapshot := taken.get(e.finding_id)) is not None:
            d = max(d, snapshot)
        first = d if first is None or d < first else first
        step = _OPENS.get(e.name)
        if step:
            opened[d] = opened.get(d, 0) + step
    start = max(start, first) if first is not None else start
    planned: dict[dt.date, int] = {}
    for f in live:
        added = local_date(f.created_at, tz) if f.created_at is not None else start
        added = max(added, taken.get(f.id, added))
        ends = calendar.next_workday(f.original_deadline) + dt.timedelta(days=1)
        if ends > added:
            planned[added] = planned.get(added, 0) + 1
            planned[ends] = planned.get(ends, 0) - 1
    return {
        "open": _steps(opened, start, max(day, start)),
        "planned": _steps(planned, start, max(day, due, start)),
        "imported": [d.isoformat() for d in sorted(set(taken.values()))],
    }


def build_report(
    inspection: Inspection,
    findings: Iterable[Finding],
    cutoff: dt.datetime,
    policy: Policy,
    calendar: Any,
    lang: str,
    events: Iterable[Event] = (),
) -> Report:
    """Compute a :class:`Report` from the findings as they stood at *cutoff*.

    *events* are the findings' events up to *cutoff* (their log), for the burndown
    and each finding's latest note.
    """
    events = list(events)
    findings = sorted(findings, key=lambda f: id_key(f.id))
    tz = policy.timezone
    day = local_date(cutoff, tz)
    live = [f for f in findings if f.state != "cancelled"]
    by_state = dict.fromkeys(STATES, 0)
    for f in findings:  # an app's own states (issue 15) are counted after the built-in ones
        by_state[f.state] = by_state.get(f.state, 0) + 1
    completed = [f for f in live if f.state in DONE_STATES]
    # A deadline on a rest day runs to the next working day (民法典 art. 203).
    overdue = [
        f.id for f in live if f.state in OPEN_STATES and day > calendar.next_workday(f.deadline)
    ]
    overdue_set = set(overdue)
    # A completion first attested by an import has no known day (the sheet's date
    # stands in for it): it is neither on time nor late, and the report says so.
    undated = _first_attested(events, cutoff)
    timed = [f for f in completed if f.id not in undated]
    late = [
        f
        for f in timed
        if f.first_completed_at is not None
        and local_date(f.first_completed_at, tz) > calendar.next_workday(f.original_deadline)
    ]
    aspects: dict[str, dict[str, Any]] = {}
    for f in live:
        if not f.itemized:
            continue
        a = aspects.setdefault(f.aspect, {"aspect": f.aspect, "categories": {}, "findings": []})
        a["findings"].append(f)
        a["categories"].setdefault(f.category, []).append(f)
    by_aspect = [
        {
            "aspect": name,
            **_counts(a["findings"], overdue_set),
            "categories": [
                {"category": c, **_counts(fs, overdue_set)} for c, fs in a["categories"].items()
            ],
        }
        for name, a in aspects.items()
    ]
    documents: list[dict[str, str]] = []
    kept = missed = 0
    missed_items: list[dict[str, Any]] = []
    for f in live:
        for m in f.measures:
            if m.kind == "institutional" and m.document_type and m.done_at and m.done_at <= day:
                documents.append(
                    {"finding": f.id, "document": m.document or m.text, "type": m.document_type}
                )
            if m.kind == "recurring" and m.established is not None:
                gaps = missed_periods(m, day)
                if gaps:
                    missed += 1
                    missed_items.append(
                        {"finding": f.id, "measure": m.id, "missed": [g.isoformat() for g in gaps]}
                    )
                else:
                    kept += 1
    due = policy.report_period.after(inspection.feedback_at, calendar)
    submitted = inspection.report_submitted_at
    if submitted is not None and submitted > cutoff:
        submitted = None  # submitted after the report's cutoff: not yet, as of then
    declared = inspection.declared_findings
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "inspection": inspection.id,
        "title": inspection.title,
        "unit": inspection.unit,
        "as_of": day.isoformat(),
        "cutoff": cutoff.isoformat(),
        "feedback_at": inspection.feedback_at.isoformat(),
        "report_due": due.isoformat(),
        "report_overdue": submitted is None and day > due,
        "report_submitted": None
        if submitted is None
        else dt.datetime.fromtimestamp(submitted.timestamp(), ZoneInfo(tz)).isoformat(),
        "declared": declared if declared is not None else len(live),
        "total": len(live),
        "itemized": sum(f.itemized for f in live),
        "not_itemized": sum(not f.itemized for f in live),
        "undeclared_gap": (declared - len(live)) if declared is not None else 0,
        "by_state": by_state,
        "completed": len(completed),
        "completed_by_import": _attested(completed, events, cutoff),
        "staged": by_state["staged_result"],
        "open": sum(f.state in OPEN_STATES for f in live),
        "overdue": len(overdue),
        "overdue_findings": overdue,
        "cancelled": by_state["cancelled"],
        "completion_rate": _rate(len(completed), len(live)),
        "on_time": len(timed) - len(late),
        "on_time_unknown": len(completed) - len(timed),
        "late_completions": [f.id for f in late],
        "on_time_rate": _rate(len(timed) - len(late), len(timed)),
        "rebounds": sum(f.rework > 0 for f in live),
        "rework_total": sum(f.rework for f in live),
        "rechecked": by_state["rechecked"],
        "by_aspect": by_aspect,
        "rules_adopted": sum(d["type"] == "rule" for d in documents),
        "plans_adopted": sum(d["type"] == "plan" for d in documents),
        "documents": documents,
        "recurring_measures": {"kept": kept, "missed": missed, "missed_detail": missed_items},
        "findings": _rows(live, events, cutoff, overdue_set, {f.id for f in late}),
        "burndown": _burndown(
            (e for e in events if e.at <= cutoff),
            live,
            inspection.feedback_at,
            day,
            due,
            tz,
            calendar,
        ),
    }
    return Report(data, lang)


def _attested(completed: list[Finding], events: list[Event], cutoff: dt.datetime) -> int:
    """How many completed findings were last completed by an import's ``attest`` (issue 14)."""
    last: dict[str, str] = {}
    for e in events:
        if e.at <= cutoff and e.name in ("attest", "sign_off"):
            last[e.finding_id] = e.name
    return sum(1 for f in completed if last.get(f.id) == "attest")


def _first_attested(events: list[Event], cutoff: dt.datetime) -> set[str]:
    """The findings whose first completion by the cutoff was an import's ``attest``."""
    first: dict[str, str] = {}
    for e in events:
        if e.at <= cutoff and e.name in ("attest", "sign_off"):
            first.setdefault(e.finding_id, e.name)
    return {fid for fid, name in first.items() if name == "attest"}


def _zh_summary(d: dict[str, Any]) -> str:
    """The seed's sentence: 对巡察反馈的28个问题,已完成整改18项,其余10项已取得阶段性成效….

    Returns:
        The sentence for these figures.
    """
    missing = max(d["declared"] - d["total"], 0)
    rest = d["total"] - d["completed"] + missing
    text = f"对巡察反馈的{d['declared']}个问题,已完成整改{d['completed']}项"
    if rest == 0:
        return text + "。"
    if rest == d["staged"]:
        return text + f",其余{rest}项已取得阶段性成效,正在常态化推进、长期坚持。"
    parts = []
    if d["staged"]:
        parts.append(f"{d['staged']}项已取得阶段性成效")
    others = d["total"] - d["completed"] - d["staged"]
    if others:
        parts.append(f"{others}项正在整改")
    if missing:
        parts.append(f"{missing}项尚未录入台账")
    return text + f",其余{rest}项中" + "、".join(parts) + "。"


def _rates(d: dict[str, Any], lang: str) -> str:
    """The rates sentence, two decimals with the counts behind them."""
    done, total, on_time = d["completed"], d["total"], d["on_time"]
    timed = timed_completions(d)
    if lang == "en":
        rate = f"Completion rate {rate_text(done, total, 'en')} of the findings on the ledger"
        if timed == 0 < done:  # every completion attested: no day to measure against
            return rate + "."
        return f"{rate}; on-time rate {rate_text(on_time, timed, 'en')} of those completed" + (
            " on a known day." if timed < done else "."
        )
    rate = f"台账所列问题整改完成率{rate_text(done, total)}"
    if timed == 0 < done:
        return rate + "。"
    return (
        f"{rate},"
        + ("完成日期可考的" if timed < done else "")
        + f"已完成问题按期完成率{rate_text(on_time, timed)}。"
    )


def _headline(d: dict[str, Any], lang: str) -> str:
    """The seed's sentence followed by the rates."""
    summary = _en_summary(d) if lang == "en" else _zh_summary(d)
    return f"{summary} {_rates(d, lang)}" if lang == "en" else summary + _rates(d, lang)


def _notes(d: dict[str, Any], lang: str) -> list[str]:
    """The sentences after the headline: unitemized, missing, extra, adopted."""
    en = lang == "en"
    lines = []
    if d.get("completed_by_import"):
        n = d["completed_by_import"]
        lines.append(
            f"{n} of the completed were completed as the imported sheet says "
            "(no submitter or signer recorded)."
            if en
            else f"其中{n}项为导入台账时已完成(台账未记录提交人、销号人)。"
        )
    if d.get("on_time_unknown"):
        n = d["on_time_unknown"]
        lines.append(
            f"{n} completed on a day the sheet does not give "
            f"{'is' if n == 1 else 'are'} left out of the on-time figures."
            if en
            else f"{n}项完成日期不详(导入台账时已完成),未计入按期完成率和逾期完成。"
        )
    if d["not_itemized"]:
        n = d["not_itemized"]
        lines.append(
            f"{n} {'problem is' if n == 1 else 'problems are'} counted but not itemized."
            if en
            else f"其中{n}个问题已计入总数但未逐项列明。"
        )
    gap = d["undeclared_gap"]
    if gap > 0:
        lines.append(
            f"{gap} declared problems are not on the ledger yet."
            if en
            else f"另有{gap}个反馈问题尚未录入台账。"
        )
    elif gap < 0:
        lines.append(
            f"The ledger holds {-gap} more problems than declared; check it."
            if en
            else f"台账问题数比反馈问题数多{-gap}个,请核对。"
        )
    rules, plans = d["rules_adopted"], d["plans_adopted"]
    if rules or plans:
        lines.append(
            f"Adopted: {rules} {'rule or scheme' if rules == 1 else 'rules or schemes'} and "
            f"{plans} {'plan' if plans == 1 else 'plans'}."
            if en
            else f"建立并完善{rules}项制度或方案和{plans}项发展规划。"
        )
    return lines


def _markdown(d: dict[str, Any], lang: str) -> str:
    if lang == "en":
        return _markdown_en(d)
    rec = d["recurring_measures"]
    lines = [
        f"# {d['title']}: 整改进展情况报告",
        "",
        f"截至 {d['as_of']}(巡察反馈日期 {d['feedback_at']},"
        + (
            f"整改报告已于 {d['report_submitted'][:10]} 报送"
            if d["report_submitted"]
            else f"整改报告应于 {d['report_due']} 前报送"
            + (",已逾期" if d["report_overdue"] else "")
        )
        + ")。",
        "",
        _headline(d, "zh"),
        *_notes(d, "zh"),
    ]
    lines += [
        "",
        "| 指标 | 数值 |",
        "|---|---|",
        f"| 问题总数(台账) | {d['total']} |",
        f"| 逐项列明 | {d['itemized']} |",
        f"| 已完成整改(含已回头看) | {d['completed']} |",
        f"| 取得阶段性成效 | {d['staged']} |",
        f"| 逾期未完成 | {d['overdue']} |",
        f"| 整改完成率 | {rate_text(d['completed'], d['total'])} |",
        f"| 按期完成率 | {rate_text(d['on_time'], timed_completions(d))} |",
        f"| 逾期完成 | {len(d['late_completions'])} |",
        f"| 反弹(回潮)问题 | {d['rebounds']} |",
        f"| 常态化措施按期开展 / 漏开展 | {rec['kept']} / {rec['missed']} |",
        "",
        "## 各状态问题数",
        "",
        "| 状态 | 数量 |",
        "|---|---|",
        *(f"| {state_label(s)} | {n} |" for s, n in d["by_state"].items()),
        "",
        "## 分方面整改情况",
        "",
    ]
    for i, a in enumerate(d["by_aspect"]):
        lines.append(
            f"- **{aspect_head(i, a['aspect'], 'zh')}** 共{a['total']}个,"
            f"已完成{a['completed']}个,阶段性成效{a['staged']}个"
            + (f",逾期{a['overdue']}个" if a["overdue"] else "")
        )
        for j, c in enumerate(a["categories"]):
            lines.append(
                f"  - {category_head(j, c['category'], 'zh')}:共{c['total']}个,"
                f"已完成{c['completed']}个,阶段性成效{c['staged']}个"
            )
    lines += _listed(d, "zh")
    return "\n".join([*lines, "", *signature(d, "zh")]) + "\n"


def _listed(d: dict[str, Any], lang: str) -> list[str]:
    """The overdue and late lists, one finding a line with its id and title."""
    heads = (
        ("Overdue", "Completed late") if lang == "en" else ("逾期未完成的问题", "逾期完成的问题")
    )
    out: list[str] = []
    for head, key in zip(heads, ("overdue_findings", "late_completions"), strict=True):
        if d[key]:
            out += ["", f"{head}:", ""]
            out += [f"- {i} {title}".rstrip() for i, title in titled(d, d[key])]
    return out


def signature(d: dict[str, Any], lang: str) -> list[str]:
    """The 落款: the unit (when the inspection records one), then the report's day in words."""
    return [*([d["unit"]] if d.get("unit") else []), signed_day(d["as_of"], lang)]


def _en_summary(d: dict[str, Any]) -> str:
    """The seed's sentence in English, counted against the declared number."""
    missing = max(d["declared"] - d["total"], 0)
    others = d["total"] - d["completed"] - d["staged"]
    parts = [f"{d['completed']} completed"]
    if d["staged"]:
        parts.append(f"{d['staged']} with staged results, kept up over the long term")
    if others:
        parts.append(f"{others} in rectification")
    if missing:
        parts.append(f"{missing} not on the ledger yet")
    noun = "problem" if d["declared"] == 1 else "problems"
    return f"Of the {d['declared']} {noun} in the feedback: " + "; ".join(parts) + "."


def _markdown_en(d: dict[str, Any]) -> str:
    rec = d["recurring_measures"]
    lines = [
        f"# {d['title']}: rectification progress report",
        "",
        (
            f"As of {d['as_of']} (feedback on {d['feedback_at']}; "
            + (
                f"the report was submitted on {d['report_submitted'][:10]}"
                if d["report_submitted"]
                else f"the report is due by {d['report_due']}"
                + (", overdue" if d["report_overdue"] else "")
            )
            + ")."
        ),
        "",
        _headline(d, "en"),
        *_notes(d, "en"),
    ]
    lines += [
        "",
        "| figure | value |",
        "|---|---|",
        f"| findings on the ledger | {d['total']} |",
        f"| itemized | {d['itemized']} |",
        f"| completed (incl. rechecked) | {d['completed']} |",
        f"| staged results | {d['staged']} |",
        f"| overdue | {d['overdue']} |",
        f"| completion rate | {rate_text(d['completed'], d['total'], 'en')} |",
        f"| on-time rate | {rate_text(d['on_time'], timed_completions(d), 'en')} |",
        f"| late completions | {len(d['late_completions'])} |",
        f"| rebounds | {d['rebounds']} |",
        f"| recurring measures kept / missed | {rec['kept']} / {rec['missed']} |",
        "",
        "## By state",
        "",
        "| state | count |",
        "|---|---|",
        *(f"| {state_label(s, 'en')} | {n} |" for s, n in d["by_state"].items()),
        "",
        "## By aspect",
        "",
    ]
    for i, a in enumerate(d["by_aspect"]):
        lines.append(
            f"- **{aspect_head(i, a['aspect'], 'en')}**: {a['total']} findings, "
            f"{a['completed']} completed, {a['staged']} staged"
            + (f", {a['overdue']} overdue" if a["overdue"] else "")
        )
        for j, c in enumerate(a["categories"]):
            lines.append(
                f"  - {category_head(j, c['category'], 'en')}: {c['total']}, "
                f"{c['completed']} completed, {c['staged']} staged"
            )
    lines += _listed(d, "en")
    return "\n".join([*lines, "", *signature(d, "en")]) + "\n"
