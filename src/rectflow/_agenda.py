"""The agenda: what is overdue, due soon, to be looked back at, or missed."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from rectflow._ledger import Ledger


@attrs.frozen
class AgendaItem:
    """One line of the agenda.

    Attributes:
        kind: What it is about.
        finding_id: The finding, if any.
        inspection: The inspection.
        due: The relevant day.
        detail: Extra data.
    """

    kind: str
    finding_id: str | None
    inspection: str
    due: dt.date | None
    detail: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Agenda:
    """The agenda as of a day.

    Attributes:
        as_of: The day.
        items: The items.
    """

    as_of: dt.date
    items: tuple[AgendaItem, ...]


def build_agenda(ledger: Ledger, cutoff: dt.datetime, inspection: str | None) -> Agenda:
    """Placeholder replaced by the full agenda."""
    raise NotImplementedError
