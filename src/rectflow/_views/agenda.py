"""The agenda: what a rectification office must act on, as of a day.

Per inspection: the progress report's due date; findings overdue (with working
days overdue and an escalation level), due soon (within the reminder window,
counted in working days), staged findings whose checkpoint was missed,
completed findings whose look-back is due, recurring measures with missed
occurrences, effectiveness checks due after completion (the policy's
``effectiveness_checks``, e.g. CAPA's 30/60/90 days), and which of these dates
are provisional (beyond the published holiday calendar). :meth:`rectflow.Agenda.to_ics`
puts them in people's calendars.

As of now (or later) the agenda reads the store's indexes; as of a past day it
replays history to that day. Both paths build items with the same functions,
so the agenda as of D equals the agenda of a ledger replayed to D.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final, Protocol

import attrs

from rectflow._model import (
    DONE_STATES,
    OPEN_STATES,
    Finding,
    Inspection,
    id_key,
    missed_periods,
)
from rectflow._store.base import AgendaQuery
from rectflow._time import end_of_day, local_date

if TYPE_CHECKING:
    from rectflow._policy import Policy


class Selector(Protocol):
    """What the agenda reads as of now: the store's index-backed selections."""

    def select(self, query: AgendaQuery) -> Iterator[Finding]:
        """Current rows matching *query*, in id order."""


KINDS: Final = (
    "overdue",
    "due_soon",
    "checkpoint_missed",
    "look_back_due",
    "recurring_missed",
    "effectiveness_due",
)
"""Agenda item kinds, in the order they are listed."""


@attrs.frozen
class AgendaItem:
    """One thing to act on.

    Attributes:
        kind: ``overdue``, ``due_soon``, ``checkpoint_missed``, ``look_back_due``,
            ``recurring_missed`` or ``effectiveness_due``; in ``Agenda.upcoming``:
            ``next_deadline``, ``next_checkpoint``, ``next_look_back`` or
            ``next_effectiveness``.
        inspection: The inspection's id.
        finding_id: The finding's id.
        title: The finding's title.
        due: The day concerned: the deadline, checkpoint, earliest look-back day, or
            the first day of the first missed period.
        workdays: Working days overdue (positive) or left (zero or more for due soon).
        level: ``reminder``, ``warning``, ``referral`` … from the policy's ladder.
        provisional: The date rests on days beyond the published holiday calendar.
        measure_id: For ``recurring_missed``: the measure.
        missed: For ``recurring_missed``: first days of the missed periods.
        owner: The responsible department and person.
        check: For effectiveness checks: the check's period after completion
            (``"30 days"``).
    """

    kind: str
    inspection: str
    finding_id: str
    title: str
    due: dt.date
    workdays: int | None = None
    level: str | None = None
    provisional: bool = False
    measure_id: str | None = None
    missed: tuple[dt.date, ...] = ()
    owner: str = ""
    check: str | None = None

    @property
    def id(self) -> str:
        """A stable id: the same item has the same id in every run and process.

        Made of the kind, the finding, the day concerned and (for ``recurring_missed``
        and effectiveness checks) the measure or check, e.g.
        ``"overdue:1.1.1:2024-01-31"``: keep it to act once per item (a reminder
        sent). An item that changes its day (a deadline extended) is a new item.
        """
        parts = [self.kind, self.finding_id, self.due.isoformat()]
        if self.measure_id is not None:
            parts.append(self.measure_id)
        if self.check is not None:
            parts.append(self.check)
        return ":".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-native data."""
        return {
            "id": self.id,
            "kind": self.kind,
            "inspection": self.inspection,
            "finding": self.finding_id,
            "title": self.title,
            "due": self.due.isoformat(),
            "workdays": self.workdays,
            "level": self.level,
            "provisional": self.provisional,
            "measure": self.measure_id,
            "missed": [d.isoformat() for d in self.missed],
            "owner": self.owner,
            "check": self.check,
        }


@attrs.frozen
class InspectionAgenda:
    """The agenda of one inspection.

    Attributes:
        inspection: The inspection's id.
        title: Its title.
        report_due: The day the progress report is due (feedback + the policy's report period).
        report_overdue: Whether that day has passed with no report submitted.
        report_provisional: Whether the due day rests on provisional calendar days.
        items: Its items, by kind then due day.
        report_submitted: When the report was submitted (by the agenda's day), or
            None while it is still due.
    """

    inspection: str
    title: str
    report_due: dt.date
    report_overdue: bool
    report_provisional: bool
    items: tuple[AgendaItem, ...]
    report_submitted: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-native data."""
        return {
            "inspection": self.inspection,
            "title": self.title,
            "report_due": self.report_due.isoformat(),
            "report_overdue": self.report_overdue,
            "report_provisional": self.report_provisional,
            "items": [i.to_dict() for i in self.items],
            "report_submitted": None
            if self.report_submitted is None
            else self.report_submitted.isoformat(),
        }


@attrs.frozen
class AgendaData:
    """What falls due, as of a day, per inspection: the agenda's record.

    The API gives it as :class:`rectflow.Agenda`, with its renderers.

    Attributes:
        as_of: The day.
        inspections: One :class:`InspectionAgenda` per inspection.
        upcoming: When asked for (``ledger.agenda(upcoming=n)``), the next *n* dates
            after the reminder window: deadlines (``next_deadline``), checkpoints
            (``next_checkpoint``), look-backs (``next_look_back``) and effectiveness
            checks (``next_effectiveness``), soonest first.
        timezone: The policy's time zone, in which every day here is read.
    """

    as_of: dt.date
    inspections: tuple[InspectionAgenda, ...]
    upcoming: tuple[AgendaItem, ...] = ()
    timezone: str = "Asia/Shanghai"

    @property
    def items(self) -> tuple[AgendaItem, ...]:
        """Every item of every inspection."""
        return tuple(i for a in self.inspections for i in a.items)

    def of_kind(self, kind: str) -> tuple[AgendaItem, ...]:
        """The items of one kind."""
        return tuple(i for i in self.items if i.kind == kind)

    @property
    def provisional(self) -> tuple[AgendaItem, ...]:
        """Items whose dates are provisional."""
        return tuple(i for i in self.items if i.provisional)

    def to_dict(self) -> dict[str, Any]:
        """JSON-native data."""
        return {
            "as_of": self.as_of.isoformat(),
            "timezone": self.timezone,
            "inspections": [a.to_dict() for a in self.inspections],
            "upcoming": [i.to_dict() for i in self.upcoming],
        }


class _Builder:
    """Builds items; shared by the indexed path and the replay path.

    Calendar answers are memoized per date: a large ledger has many findings
    but few distinct deadlines, so each date is worked out once per agenda.
    """

    def __init__(self, policy: Policy, calendar: Any, day: dt.date) -> None:
        self.policy = policy
        self.calendar = calendar
        self.day = day
        self.horizon = policy.reminder_window.after(day, calendar)
        self._due: dict[dt.date, dt.date] = {}
        self._between: dict[dt.date, int] = {}
        self._prov: dict[dt.date, bool] = {}
        self._earliest: dict[dt.date, dt.date] = {}

    def due(self, day: dt.date) -> dt.date:
        """*day*, or the next working day if it is a rest day (民法典 art. 203)."""
        found = self._due.get(day)
        if found is None:
            found = self._due[day] = self.calendar.next_workday(day)
        return found

    def workdays(self, other: dt.date) -> int:
        """Working days between *other* and the agenda's day, either way round."""
        found = self._between.get(other)
        if found is None:
            a, b = (other, self.day) if other <= self.day else (self.day, other)
            found = self._between[other] = int(self.calendar.workdays_between(a, b))
        return found

    def prov(self, day: dt.date) -> bool:
        """Whether the span between the agenda's day and *day* is provisional."""
        found = self._prov.get(day)
        if found is None:
            a, b = (day, self.day) if day <= self.day else (self.day, day)
            found = self._prov[day] = bool(self.calendar.is_provisional(a, b))
        return found

    def earliest_look_back(self, completed: dt.date) -> dt.date:
        """The first day a finding completed on *completed* may be looked back at."""
        found = self._earliest.get(completed)
        if found is None:
            found = self._earliest[completed] = self.policy.look_back_wait.after(
                completed, self.calendar
            )
        return found

    def deadline_item(self, f: Finding) -> AgendaItem | None:
        if f.state not in OPEN_STATES:
            return None
        due = self.due(f.deadline)
        owner = f"{f.owner.department} {f.owner.person}"
        if self.day > due:
            late = self.workdays(due)
            return AgendaItem(
                "overdue",
                f.inspection,
                f.id,
                f.title,
                f.deadline,
                late,
                self.policy.escalation_level(late),
                self.prov(due),
                owner=owner,
            )
        if due <= self.horizon:
            return AgendaItem(
                "due_soon",
                f.inspection,
                f.id,
                f.title,
                f.deadline,
                self.workdays(due),
                "reminder",
                self.prov(due),
                owner=owner,
            )
        return None

    def checkpoint_item(self, f: Finding) -> AgendaItem | None:
        if f.state != "staged_result" or f.next_checkpoint is None:
            return None
        due = self.due(f.next_checkpoint)
        if not self.day > due:
            return None
        return AgendaItem(
            "checkpoint_missed",
            f.inspection,
            f.id,
            f.title,
            f.next_checkpoint,
            self.workdays(due),
            "warning",
            self.prov(due),
            owner=f"{f.owner.department} {f.owner.person}",
        )

    def look_back_item(self, f: Finding) -> AgendaItem | None:
        if f.state != "completed" or f.completed_at is None:
            return None
        earliest = self.earliest_look_back(local_date(f.completed_at, self.policy.timezone))
        if self.day < earliest:
            return None
        return AgendaItem(
            "look_back_due",
            f.inspection,
            f.id,
            f.title,
            earliest,
            None,
            None,
            self.prov(earliest),
            owner=f"{f.owner.department} {f.owner.person}",
        )

    def recurring_items(self, f: Finding) -> list[AgendaItem]:
        if f.state == "cancelled":
            return []
        out = []
        for m in f.measures:
            gaps = missed_periods(m, self.day)
            if gaps:
                out.append(
                    AgendaItem(
                        "recurring_missed",
                        f.inspection,
                        f.id,
                        f.title,
                        gaps[0],
                        None,
                        "warning",
                        provisional=False,
                        measure_id=m.id,
                        missed=gaps,
                        owner=m.owner,
                    )
                )
        return out

    def effectiveness_checks(self, f: Finding) -> list[tuple[str, dt.date]]:
        """The effectiveness checks of a completed finding not yet recorded: (period, day).

        Each check falls due its period after the (last) sign-off day; every
        recorded recheck or spot check counts for one check, in order.
        """
        checks = self.policy.effectiveness_checks
        if not checks or f.state not in DONE_STATES or f.completed_at is None:
            return []
        done = local_date(f.completed_at, self.policy.timezone)
        recorded = (f.rechecked_at is not None) + f.spot_checks
        return [(str(p), p.after(done, self.calendar)) for p in checks[recorded:]]

    def effectiveness_items(self, f: Finding) -> list[AgendaItem]:
        out = []
        for check, due in self.effectiveness_checks(f):
            if due > self.horizon:
                break  # later checks fall due later still
            late = self.day > due
            out.append(
                AgendaItem(
                    "effectiveness_due",
                    f.inspection,
                    f.id,
                    f.title,
                    due,
                    self.workdays(due),
                    "warning" if late else "reminder",
                    self.prov(due),
                    owner=f"{f.owner.department} {f.owner.person}",
                    check=check,
                )
            )
        return out

    def all_items(self, f: Finding) -> list[AgendaItem]:
        items = [
            i
            for i in (self.deadline_item(f), self.checkpoint_item(f), self.look_back_item(f))
            if i is not None
        ]
        return items + self.recurring_items(f) + self.effectiveness_items(f)


def _sorted(items: Iterable[AgendaItem]) -> tuple[AgendaItem, ...]:
    order = {k: n for n, k in enumerate(KINDS)}
    return tuple(
        sorted(
            items,
            key=lambda i: (order[i.kind], i.due, id_key(i.finding_id), id_key(i.measure_id or "")),
        )
    )


def _inspection_agenda(
    insp: Inspection, items: Iterable[AgendaItem], b: _Builder, cutoff: dt.datetime
) -> InspectionAgenda:
    due = b.policy.report_period.after(insp.feedback_at, b.calendar)
    submitted = insp.report_submitted_at
    if submitted is not None and submitted > cutoff:
        submitted = None  # submitted after the agenda's day: still due then
    return InspectionAgenda(
        insp.id,
        insp.title,
        due,
        submitted is None and b.day > due,
        bool(b.calendar.is_provisional(insp.feedback_at, due)),
        _sorted(items),
        submitted,
    )


def build_agenda(
    *,
    policy: Policy,
    calendar: Any,
    inspections: Iterable[Inspection],
    cutoff: dt.datetime,
    indexed: Selector | None,
    replayed: Callable[[], Iterable[Finding]],
    inspection: str | None = None,
    upcoming: int = 0,
) -> AgendaData:
    """The agenda as of *cutoff*.

    Args:
        policy: The policy in force.
        calendar: Its working-day calendar.
        inspections: The inspections to list (those created after *cutoff* are left out).
        cutoff: The instant the agenda is taken at.
        indexed: The store, when nothing can be later than *cutoff* (its indexes
            answer); None to replay.
        replayed: The findings as they stood at *cutoff* (of *inspection*, or all).
        inspection: Only this inspection.
        upcoming: Also list the next *upcoming* dates beyond the reminder window.
    """
    day = local_date(cutoff, policy.timezone)
    b = _Builder(policy, calendar, day)
    listed = [i for i in inspections if i.created_at is None or i.created_at <= cutoff]
    by_insp: dict[str, list[AgendaItem]] = {i.id: [] for i in listed}
    if indexed is not None:
        items = _indexed(indexed, b, inspection)
    else:
        items = [item for f in replayed() for item in b.all_items(f)]
    for item in items:
        if item.inspection in by_insp:
            by_insp[item.inspection].append(item)
    nexts = _upcoming(replayed(), b, upcoming) if upcoming > 0 else ()
    return AgendaData(
        day,
        tuple(_inspection_agenda(i, by_insp[i.id], b, cutoff) for i in listed),
        nexts,
        policy.timezone,
    )


def _upcoming(findings: Iterable[Finding], b: _Builder, limit: int) -> tuple[AgendaItem, ...]:
    """The next *limit* dates beyond the reminder window (a scan: meant for one inspection)."""
    out: list[AgendaItem] = []
    for f in findings:
        owner = f"{f.owner.department} {f.owner.person}"
        if f.state in OPEN_STATES and b.due(f.deadline) > b.horizon:
            out.append(
                AgendaItem("next_deadline", f.inspection, f.id, f.title, f.deadline, owner=owner)
            )
        if f.state == "staged_result" and f.next_checkpoint and f.next_checkpoint >= b.day:
            out.append(
                AgendaItem(
                    "next_checkpoint", f.inspection, f.id, f.title, f.next_checkpoint, owner=owner
                )
            )
        if f.state == "completed" and f.completed_at is not None:
            done = local_date(f.completed_at, b.policy.timezone)
            earliest = b.policy.look_back_wait.after(done, b.calendar)
            if earliest > b.day:
                out.append(
                    AgendaItem("next_look_back", f.inspection, f.id, f.title, earliest, owner=owner)
                )
        out.extend(
            AgendaItem(
                "next_effectiveness", f.inspection, f.id, f.title, due, owner=owner, check=check
            )
            for check, due in b.effectiveness_checks(f)
            if due > b.horizon
        )
    out.sort(key=lambda i: (i.due, id_key(i.finding_id), i.kind))
    return tuple(out[:limit])


def _indexed(store: Selector, b: _Builder, inspection: str | None) -> list[AgendaItem]:
    """Items from the store's indexes: only candidate rows are read."""
    tz = b.policy.timezone
    items: list[AgendaItem] = []
    # Overdue and due soon: open findings whose deadline is before the reminder horizon.
    # (A rest-day deadline moves later, never earlier, so the horizon bounds it.)
    for f in store.select(
        AgendaQuery(inspection=inspection, states=OPEN_STATES, deadline_until=b.horizon)
    ):
        item = b.deadline_item(f)
        if item is not None:
            items.append(item)
    for f in store.select(AgendaQuery(inspection=inspection, checkpoint_before=b.day)):
        item = b.checkpoint_item(f)
        if item is not None:
            items.append(item)
    # Look-back: the wait ends no earlier than its plain-calendar length after completion.
    bound = _completion_bound(b)
    for f in store.select(
        AgendaQuery(inspection=inspection, completed_until=end_of_day(bound, tz))
    ):
        item = b.look_back_item(f)
        if item is not None:
            items.append(item)
    for f in store.select(AgendaQuery(inspection=inspection, recurring_due_until=b.day)):
        items.extend(b.recurring_items(f))
    if b.policy.effectiveness_checks:  # every completed finding: only policies that ask
        for f in store.select(AgendaQuery(inspection=inspection, states=DONE_STATES)):
            items.extend(b.effectiveness_items(f))
    return items


def _completion_bound(b: _Builder) -> dt.date:
    """The latest completion day whose look-back can be due on ``b.day`` (with slack)."""
    wait = b.policy.look_back_wait
    if wait.unit == "months":
        base = _sub_months(b.day, wait.amount)
    else:
        base = b.day - dt.timedelta(days=wait.amount)
    return base + dt.timedelta(days=3)


def _sub_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    import calendar as _cal  # noqa: PLC0415

    return dt.date(y, m + 1, min(day.day, _cal.monthrange(y, m + 1)[1]))
