"""The agenda as the API gives it: its record with the plain-text and iCalendar renderers."""

from __future__ import annotations

import attrs

from rectflow._i18n import has, msg
from rectflow._render import ics as _ics
from rectflow._views.agenda import KINDS, AgendaData, AgendaItem


@attrs.frozen
class Agenda(AgendaData):
    """What falls due, as of a day, per inspection.

    Attributes:
        as_of: The day.
        inspections: One :class:`InspectionAgenda` per inspection.
        upcoming: When asked for (``ledger.agenda(upcoming=n)``), the next *n* dates
            after the reminder window: deadlines (``next_deadline``), checkpoints
            (``next_checkpoint``), look-backs (``next_look_back``) and effectiveness
            checks (``next_effectiveness``), soonest first.
        timezone: The policy's time zone, in which every day here is read.
    """

    @classmethod
    def of(cls, data: AgendaData) -> Agenda:
        """The agenda of record *data*."""
        return cls(data.as_of, data.inspections, data.upcoming, data.timezone)

    def to_ics(self, lang: str = "zh", *, domain: str = "rectflow") -> str:
        """The agenda as an iCalendar file: one all-day event per date.

        Every deadline, checkpoint, look-back, missed recurring occurrence,
        effectiveness check and report due date on the agenda (and in
        :attr:`upcoming`: build the agenda with ``upcoming=n`` to include later
        dates) becomes an all-day event on its day in the policy's time zone,
        with the owner in its description. UIDs are stable
        (``deadline/R1/1.4.1@rectflow``): importing a later export updates the
        same events instead of duplicating them.

        Args:
            lang: ``"zh"`` or ``"en"`` for summaries and descriptions.
            domain: The right-hand side of every UID; give each ledger its own
                when several go into one calendar.
        """
        return _ics.agenda_ics(self.to_dict(), lang, domain=domain)

    def to_text(self, lang: str = "zh") -> str:
        """A plain-text listing in ``zh`` or ``en``."""
        return agenda_text(self, lang)


def _label(key: str | None, lang: str) -> str:
    """A kind's or escalation level's name; a level the catalogue does not know, as named."""
    if key is None:
        return ""
    return msg(f"agenda.{key}", lang) if has(f"agenda.{key}") else key


def _extra(item: AgendaItem, lang: str) -> list[str]:
    """What an item's line says after its due day."""
    extra = []
    if item.workdays is not None:
        key = "agenda.days_left" if item.kind == "due_soon" else "agenda.days_late"
        extra.append(msg(key, lang, n=item.workdays))
    if item.level:
        extra.append(_label(item.level, lang))
    if item.measure_id:
        missed = ", ".join(d.isoformat() for d in item.missed)
        extra.append(f"{item.measure_id}: {missed}")
    if item.check:
        extra.append(item.check)
    if item.provisional:
        extra.append(msg("agenda.provisional", lang))
    return extra


def agenda_text(agenda: AgendaData, lang: str = "zh") -> str:
    """*agenda* as a plain-text listing in *lang*."""
    lines = [msg("agenda.title", lang, day=agenda.as_of.isoformat()), ""]
    for a in agenda.inspections:
        state = msg("agenda.report_overdue", lang) if a.report_overdue else ""
        if a.report_submitted is not None:
            state = msg("agenda.report_submitted", lang, at=a.report_submitted.isoformat())
        lines.append(f"### {a.inspection} {a.title}")
        due = msg("agenda.report_due", lang)
        lines.append(f"- {due}: {a.report_due.isoformat()} {state}".rstrip())
        if not a.items:
            lines.append(f"- {msg('agenda.nothing_due', lang)}")
        for kind in KINDS:
            items = [i for i in a.items if i.kind == kind]
            if not items:
                continue
            lines.append(f"- {_label(kind, lang)} ({len(items)})")
            for i in items:
                extra = _extra(i, lang)
                lines.append(
                    f"  - {i.finding_id} {i.title} ({i.due.isoformat()}; {'; '.join(extra)})"
                    if extra
                    else f"  - {i.finding_id} {i.title} ({i.due.isoformat()})"
                )
    if agenda.upcoming:
        lines += ["", f"### {msg('agenda.upcoming', lang)}"]
        for i in agenda.upcoming:
            name = _label(i.kind, lang)
            lines.append(f"- {i.due.isoformat()} {name}: {i.finding_id} {i.title}")
    return "\n".join(lines) + "\n"
