"""The seed school's ledger, built through the public API from ``data/seed.toml``."""

from __future__ import annotations

import datetime as dt
import sys
from importlib import resources
from typing import Any

import attrs
import pendulum

from rectflow._ledger import Ledger
from rectflow._model import CADENCES, Measure, Owner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

ADDED_BY = "巡察整改领导小组办公室"
ADDED_AT = "2023-11-27T09:00:00+08:00"
_PRIORITY = {"start": 0, "record_measure": 1}


@attrs.frozen
class Seed:
    """What the seed file declares, for comparing with what the ledger computes.

    Attributes:
        inspection: The inspection's id.
        report_as_of: The day the seed report speaks as of.
        summary: The figures the report text states.
    """

    inspection: str
    report_as_of: dt.date
    summary: dict[str, Any]


def seed_data() -> dict[str, Any]:
    """The parsed ``rectflow/data/seed.toml``."""
    text = resources.files("rectflow").joinpath("data/seed.toml").read_text("utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    return data


def _local(day: dt.date, hour: int, tz: str) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, tz=tz)


def _next_period(day: dt.date, cadence: str) -> dt.date:
    months = CADENCES[cadence]
    d = pendulum.Date(day.year, day.month, day.day)
    return d.add(days=7) if months == 0 else d.add(months=months)


def _measure_events(
    measure: Measure, start_at: dt.datetime, until: dt.date, tz: str
) -> list[dict[str, Any]]:
    """``record_measure`` events that make the measure's state in the file true."""
    days: list[dt.date] = []
    if measure.kind in ("one_off", "institutional") and measure.done_at:
        days = [measure.done_at]
    elif measure.established:
        days = [measure.established]
        if measure.kind == "recurring" and measure.cadence:
            day = _next_period(measure.established, measure.cadence)
            while day <= until:
                days.append(day)
                day = _next_period(day, measure.cadence)
    return [
        {
            "name": "record_measure",
            "at": max(_local(d, 8, tz), pendulum.instance(start_at)),
            "actor": measure.owner or "整改办",
            "measure": measure.id,
        }
        for d in days
    ]


def load_seed(ledger: Ledger) -> Seed:
    """Put the seed school's inspection, 28 findings and their history on *ledger*.

    Everything goes through :meth:`Ledger.add_inspection`, :meth:`Ledger.add_finding`
    and :meth:`Ledger.fire` in one batch, so every rule is checked.
    """
    data = seed_data()
    tz = ledger.policy.timezone
    insp = data["inspection"]
    until = dt.date.fromisoformat(insp["report_as_of"])
    with ledger.batch():
        ledger.add_inspection(
            insp["id"],
            title=insp["title"],
            feedback_at=insp["feedback_at"],
            declared_findings=insp["declared_findings"],
            at=ADDED_AT,
        )
        for item in data["findings"]:
            measures = tuple(_measure(m) for m in item.get("measures", ()))
            ledger.add_finding(
                item["id"],
                inspection=insp["id"],
                aspect=item.get("aspect", ""),
                category=item.get("category", ""),
                title=item["title"],
                kind=item["kind"],
                owner=Owner(**item["owner"]),
                deadline=item["deadline"],
                measures=measures,
                itemized=item.get("itemized", True),
                actor=ADDED_BY,
                at=ADDED_AT,
            )
            events = [dict(e, at=pendulum.parse(e["at"])) for e in item.get("events", ())]
            start_at = next((e["at"] for e in events if e["name"] == "start"), None)
            if start_at is not None:
                for m, measure in zip(item.get("measures", ()), measures, strict=True):
                    planned = attrs.evolve(
                        measure,
                        done_at=_date(m.get("done_at")),
                        established=_date(m.get("established")),
                    )
                    events.extend(_measure_events(planned, start_at, until, tz))
            events.sort(key=lambda e: (e["at"], _PRIORITY.get(e["name"], 2)))
            for e in events:
                args = {k: v for k, v in e.items() if k not in ("name", "at", "actor")}
                ledger.fire(item["id"], e["name"], actor=e["actor"], at=e["at"], **args)
    return Seed(insp["id"], until, dict(data.get("summary", {})))


def _measure(data: dict[str, Any]) -> Measure:
    """A measure as the file defines it, without its progress (that comes as events)."""
    return Measure(
        id=data["id"],
        text=data["text"],
        kind=data["kind"],
        owner=data.get("owner", ""),
        cadence=data.get("cadence"),
        document=data.get("document"),
        document_type=data.get("document_type"),
    )


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)
