"""The agenda as an iCalendar file (RFC 5545), written with ``icalendar``.

Takes agenda data (``Agenda.to_dict()``), never the ledger. One all-day event
per date; the UID names what the date is about, not its state, so a deadline
that moves from "due later" to "due soon" to "overdue", or is extended, stays
one event in the calendar that imports each export.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final
from urllib.parse import quote

import icalendar
import pendulum

from rectflow._i18n import has, msg
from rectflow._version import __version__

#: Agenda kinds grouped by what their date is about (the UID's first part).
FAMILIES: Final = {
    "overdue": "deadline",
    "due_soon": "deadline",
    "next_deadline": "deadline",
    "checkpoint_missed": "checkpoint",
    "next_checkpoint": "checkpoint",
    "look_back_due": "look-back",
    "next_look_back": "look-back",
    "recurring_missed": "recurring",
    "effectiveness_due": "effectiveness",
    "next_effectiveness": "effectiveness",
}


def _w(key: str, lang: str) -> str:
    return msg(f"ics.{key}", lang)


def uid(family: str, inspection: str, finding: str = "", extra: str = "", *, domain: str) -> str:
    """The stable UID of one date: ``family/inspection/finding[/extra]@domain``."""
    parts = [family, inspection, *(p for p in (finding, extra) if p)]
    return "/".join(quote(p, safe="") for p in parts) + f"@{domain}"


def _event(
    uid_: str, day: dt.date, summary: str, description: list[str], category: str, stamp: dt.datetime
) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid_)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("summary", summary)
    event.add("description", "\n".join(description))
    event.add("categories", [category])
    event.add("transp", "TRANSPARENT")
    return event


def _item_event(item: dict[str, Any], lang: str, domain: str, stamp: dt.datetime) -> Any:
    family = FAMILIES[item["kind"]]
    extra = item["measure"] or (item["check"] or "").replace(" ", "") or ""
    title = f"{_w(family, lang)}: {item['finding']} {item['title']}"
    if has(f"ics.{item['kind']}"):
        title += f" ({_w(item['kind'], lang)})"
    lines = [
        f"{_w('owner', lang)}: {item['owner'] or '-'}",
        f"{_w('inspection', lang)}: {item['inspection']}",
        f"{_w('finding', lang)}: {item['finding']} {item['title']}",
    ]
    if item["measure"]:
        lines.append(f"{_w('measure', lang)}: {item['measure']}")
    if item["missed"]:
        lines.append(f"{_w('missed', lang)}: {', '.join(item['missed'])}")
    if item["check"]:
        lines.append(f"{_w('effectiveness', lang)}: {item['check']}")
    if item["workdays"] is not None:
        lines.append(f"{_w('workdays', lang)}: {item['workdays']}")
    if item["level"]:
        lines.append(f"{_w('level', lang)}: {item['level']}")
    if item["provisional"]:
        lines.append(_w("provisional", lang))
    return _event(
        uid(family, item["inspection"], item["finding"], extra, domain=domain),
        dt.date.fromisoformat(item["due"]),
        title,
        lines,
        family,
        stamp,
    )


def agenda_ics(data: dict[str, Any], lang: str = "zh", *, domain: str = "rectflow") -> str:
    """Agenda *data* (``Agenda.to_dict()``) as iCalendar text.

    Args:
        data: The agenda's data.
        lang: ``"zh"`` or ``"en"``.
        domain: The right-hand side of every UID.
    """
    tz = data["timezone"]
    as_of = dt.date.fromisoformat(data["as_of"])
    # DTSTAMP: the start of the agenda's day in the policy's zone, as UTC (RFC 5545 3.8.7.2).
    stamp = pendulum.datetime(as_of.year, as_of.month, as_of.day, tz=tz).in_timezone("UTC")
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//rectflow//rectflow {__version__}//{'EN' if lang == 'en' else 'ZH'}")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{_w('calendar', lang)} ({_w('as_of', lang)} {data['as_of']})")
    cal.add("x-wr-timezone", tz)
    seen: set[str] = set()
    for insp in data["inspections"]:
        # Once submitted the same event (same UID) says so: a re-export updates it.
        submitted = insp.get("report_submitted")
        label = _w("report_submitted" if submitted else "report", lang)
        lines = [f"{_w('inspection', lang)}: {insp['inspection']} {insp['title']}"]
        if submitted:
            lines.append(f"{label}: {submitted}")
        report = _event(
            uid("report", insp["inspection"], domain=domain),
            dt.date.fromisoformat(insp["report_due"]),
            f"{label}: {insp['inspection']} {insp['title']}",
            lines,
            "report",
            stamp,
        )
        seen.add(str(report["uid"]))
        cal.add_component(report)
    for item in [i for a in data["inspections"] for i in a["items"]] + data["upcoming"]:
        event = _item_event(item, lang, domain, stamp)
        if str(event["uid"]) not in seen:  # one event per date, even if listed twice
            seen.add(str(event["uid"]))
            cal.add_component(event)
    text: bytes = cal.to_ical()
    return text.decode("utf-8")
