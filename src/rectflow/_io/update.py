"""The monthly cycle: an office's updated 台账 compared with the ledger (issue 14).

An office keeps its own sheet and sends it again every month. Imported with
``update=True`` each row is matched to its finding by id, and only what changed
since the ledger's state is written:

* a state further along the lifecycle fires the events the move needs, each
  through ``Workflow.apply`` and the gate, as a first import of the row would;
* changed text (title, measures, owners, deadline, 方面/类别, kind, 备注 and the
  office's own columns) becomes one
  ``amend`` event recording the old and the new values;
* a row whose id is not on the ledger is added like any imported row.

Rows that went missing from the sheet, and moves back (completed → in progress)
are listed, never applied: a move back is applied only for a row that records
the rebound (its 整改进展 starts with 反弹 or 回潮), or with ``allow_rebound``;
it then fires ``rebound`` with its rules (evidence, a new deadline after it).

Nothing here writes: :func:`plan_update` returns the events and the change list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

import attrs

from rectflow._i18n import msg
from rectflow._io.cells import COLUMNS, word
from rectflow._io.files import ImportSummary
from rectflow._io.plan import Hooks, Item, _Refused, _RowPlan
from rectflow._io.table import Issues, RowSpec, Table
from rectflow._model import DONE_STATES, OPEN_STATES, STATE_LABELS, STATES, Finding
from rectflow._workflow import AMEND_FIELDS, EVENT_LABELS, amend_value, normalize_name

ACTIONS: Final = ("add", "update", "backward", "missing")
"""What a change does: a new row, a row that moved or was edited, a move back that
was not applied, a finding the sheet no longer has (not applied)."""

REBOUND_WORDS: Final = ("反弹", "回潮", "rebound")
"""How a row's 整改进展 records that a completed finding came back (its first word)."""


@attrs.frozen
class FieldChange:
    """One text field a sheet changed.

    Attributes:
        field: ``title``, ``measures``, ``leader``, ``department``, ``person``,
            ``deadline``, ``aspect``, ``category``, ``kind``, ``remarks`` (备注) or
            ``extra`` (the office's own columns, header → text).
        old: The ledger's value (a deadline as ISO text, measures as their texts).
        new: The sheet's value.
    """

    field: str
    old: Any
    new: Any


@attrs.frozen
class Change:
    """What an updated sheet changes for one finding.

    Attributes:
        finding_id: The finding.
        action: ``add`` (a new row), ``update`` (moved and/or edited), ``backward``
            (a move back without a rebound: not applied) or ``missing`` (on the
            ledger, not in the sheet: not applied).
        row: The sheet's row (0 for a missing finding).
        before: The ledger's state (None for a new row).
        after: The state the sheet gives (None for a missing finding).
        fields: The text fields that changed.
        events: The events written for it, in order (empty when not applied).
        applied: Whether it is (or, in a dry run, would be) written.
    """

    finding_id: str
    action: str
    row: int
    before: str | None
    after: str | None
    fields: tuple[FieldChange, ...] = ()
    events: tuple[str, ...] = ()
    applied: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-native data."""
        return {
            "finding_id": self.finding_id,
            "action": self.action,
            "row": self.row,
            "before": self.before,
            "after": self.after,
            "fields": [attrs.asdict(f) for f in self.fields],
            "events": list(self.events),
            "applied": self.applied,
        }

    def to_text(self, lang: str = "zh") -> str:
        """One line, e.g. ``1.2.1  状态 整改中 → 已完成整改(提交销号、销号)``."""
        en = lang == "en"
        parts: list[str] = []
        if self.action == "add":
            parts.append(f"{msg('update.add', lang)} ({_state(self.after, lang)})")
        elif self.action == "missing":
            parts.append(msg("update.missing", lang, state=_state(self.before, lang)))
        elif self.before != self.after:
            key = "backward" if self.action == "backward" else "moved"
            parts.append(
                msg(
                    f"update.{key}",
                    lang,
                    before=_state(self.before, lang),
                    after=_state(self.after, lang),
                )
            )
        if self.fields:
            shown = "; ".join(_shown(f, lang) for f in self.fields)
            parts.append(f"{msg('update.amended', lang)}: {shown}")
        if self.events and self.action != "add":
            sep = msg("update.event_sep", lang)
            names = sep.join(EVENT_LABELS[e][1 if en else 0] for e in self.events)
            parts.append(f"[{names}]")
        if not self.applied:
            parts.append(msg("update.not_applied", lang))
        return f"{self.finding_id}  " + "  ".join(parts)


def _state(state: str | None, lang: str) -> str:
    if state is None:
        return "-"
    zh, en = STATE_LABELS.get(state, (state, state))
    return en if lang == "en" else zh


def _field(field: str, lang: str) -> str:
    """A field the way the sheet heads it (「责任人」), or its English key."""
    if lang == "en":
        return field
    return "「其他列」" if field == "extra" else f"「{COLUMNS[field][0]}」"


def _shown(change: FieldChange, lang: str) -> str:
    """``「责任人」 '黄主任' → '郭主任'``; the office's own columns one by one, by header."""
    if change.field != "extra" or lang == "en":
        return f"{_field(change.field, lang)} {_value(change.old)} → {_value(change.new)}"
    old, new = dict(change.old), dict(change.new)
    return "; ".join(
        f"「{name}」 {_value(old.get(name, ''))} → {_value(new.get(name, ''))}"
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    )


def _value(value: object) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + " / ".join(map(str, value)) + "]"
    text = str(value)
    return repr(text if len(text) <= 40 else text[:39] + "…")


@attrs.frozen
class UpdateSummary(ImportSummary):
    """What an update import (``update=True``) changed, finding by finding.

    Attributes:
        changes: One entry per finding the sheet changes, adds, moves back or
            no longer has, in sheet order (missing findings last).
        unchanged: Rows that match the ledger as it is.
    """

    changes: tuple[Change, ...] = ()
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything is (or in a dry run would be) written."""
        return self.events_added > 0

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-native data (``changes`` one object per finding)."""
        return {
            **super().to_dict(),
            "changes": [c.to_dict() for c in self.changes],
            "unchanged": self.unchanged,
            "changed": self.changed,
        }

    def to_text(self, lang: str = "zh") -> str:
        """The change list, one line per finding, for a person."""
        if not self.changes:
            return msg("update.nothing", lang, file=self.file)
        head = "head_dry" if self.dry_run else "head"
        lines = [msg(f"update.{head}", lang, file=self.file, n=len(self.changes))]
        lines += ["  " + c.to_text(lang) for c in self.changes]
        lines.append(msg("update.unchanged", lang, n=self.unchanged))
        if any(c.action == "backward" for c in self.changes):
            lines.append(msg("update.hint_backward", lang))
        if any(c.action == "missing" for c in self.changes):
            lines.append(msg("update.hint_missing", lang))
        return "\n".join(lines)


def desired_state(spec: RowSpec) -> tuple[str, bool]:
    """The state a row asks for, and whether it records a rebound.

    The seam for reading the office's own wording: today the row's 状态 column
    (already a state); its 整改进展 starting with :data:`REBOUND_WORDS` records
    a rebound.
    """
    text = word(spec.progress)
    return spec.state, text.startswith(REBOUND_WORDS)


def plan_update(
    table: Table,
    issues: Issues,
    hooks: Hooks,
    source: str,
    *,
    on_ledger: Callable[[str], Mapping[str, Finding]],
    allow_rebound: bool = False,
) -> tuple[list[Item], list[Change], int]:
    """The events an updated sheet implies, its change list, and its unchanged rows.

    Args:
        table: The sheet's checked rows.
        issues: Where problems go (then the events are moot).
        hooks: What the ledger lends.
        source: The file's name (the provenance of added rows).
        on_ledger: An inspection's findings on the ledger, by id.
        allow_rebound: Apply moves back from completed without a rebound row.
    """
    items: list[Item] = []
    changes: list[Change] = []
    unchanged = 0
    seen: dict[str, set[str]] = {}
    due: dict[tuple[str, str], dt.date] = {}
    present = frozenset(table.letters)
    extra_headers = frozenset(table.extra)
    for spec in table.rows:
        seen.setdefault(spec.inspection, set()).add(spec.id)
        current = on_ledger(spec.inspection).get(spec.id)
        plan = _RowPlan(spec, hooks, f"{source}:{spec.row}", due)
        try:
            if current is None:
                planned = plan.build()
                change: Change | None = Change(
                    spec.id, "add", spec.row, None, spec.state, (), _names(planned)
                )
            else:
                planned, change = _update(
                    plan, current, present, extra_headers, allow_rebound=allow_rebound
                )
        except _Refused as exc:
            issues.add(spec.row, table.column(exc.column), exc.code, **exc.fields)
            if issues.full:
                issues.stopped = True
                return items, changes, unchanged
            continue
        items.extend(planned)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    for inspection, ids in seen.items():
        changes.extend(
            Change(f.id, "missing", 0, f.state, None, applied=False)
            for f in on_ledger(inspection).values()
            if f.id not in ids and f.state != "cancelled"
        )
    return items, changes, unchanged


def _names(items: list[Item]) -> tuple[str, ...]:
    return tuple(event.name for event, _, _ in items)


def _rank(state: str) -> int:
    return STATES.index(state)


def _update(
    plan: _RowPlan,
    current: Finding,
    present: Collection[str],
    extra_headers: Collection[str],
    *,
    allow_rebound: bool,
) -> tuple[list[Item], Change | None]:
    """The events of a row whose finding is on the ledger, and its change (None: none)."""
    spec, hooks = plan.spec, plan.hooks
    inspection = hooks.inspection(current.inspection)
    assert inspection is not None  # noqa: S101 - the finding's own inspection exists
    deadline = plan.deadline(inspection)
    target, rebound_row = desired_state(spec)
    before = current.state
    moved = target != before
    backward = moved and target != "cancelled" and _rank(target) < _rank(before)
    rebound = (
        backward
        and before in DONE_STATES
        and target in OPEN_STATES
        and (rebound_row or allow_rebound)
    )
    fields = _diff(
        spec, current, deadline, present, extra_headers, skip=("deadline",) if rebound else ()
    )
    if not moved and not fields:
        return [], None
    if backward and not rebound:
        return [], Change(spec.id, "backward", spec.row, before, target, fields, applied=False)
    plan.finding = current
    first, last = plan.times() if moved else (hooks.at or hooks.now,) * 2
    if fields:
        payload = {"changes": {f.field: {"old": f.old, "new": f.new} for f in fields}}
        plan.fire("amend", first, hooks.actor, payload=payload)
    if rebound:
        plan.fire(
            "rebound",
            first,
            hooks.actor,
            note=spec.progress or None,
            evidence=spec.evidence,
            payload={"deadline": deadline.isoformat()},
        )
        before_steps = "in_progress"
    else:
        before_steps = before
    if moved:  # the same steps, attestation included, as a first import of the row
        plan.run(
            plan.steps(before_steps),
            first,
            last,
            plan.carried(attested=plan.attested(before_steps)),
        )
    return plan.items, Change(
        spec.id, "update", spec.row, before, target, fields, _names(plan.items)
    )


def _diff(
    spec: RowSpec,
    finding: Finding,
    deadline: dt.date,
    present: Collection[str],
    extra_headers: Collection[str] = (),
    skip: tuple[str, ...] = (),
) -> tuple[FieldChange, ...]:
    """The text fields the row holds differently from the finding (columns it has only).

    ``extra`` compares the office's own columns the sheet has (*extra_headers*);
    the finding's other extra columns are kept as they are.
    """
    sheet: dict[str, Any] = {
        "aspect": spec.aspect,
        "category": spec.category,
        "title": spec.title,
        "kind": spec.kind,
        "leader": normalize_name(spec.leader),
        "department": normalize_name(spec.department),
        "person": normalize_name(spec.person),
        "deadline": deadline.isoformat(),
        "measures": list(spec.measures),
        "remarks": spec.remarks,
        "extra": {
            **{k: v for k, v in finding.extra.items() if k not in extra_headers},
            **dict(spec.extra),
        },
    }
    out: list[FieldChange] = []
    for field in AMEND_FIELDS:
        if field in skip:
            continue
        if field == "extra":
            if not extra_headers:
                continue
        elif field not in present and not (field == "kind" and spec.kind == "long_term"):
            continue  # a sheet without the column says nothing about it
        old, new = amend_value(finding, field), sheet[field]
        if old != new:
            out.append(FieldChange(field, old, new))
    return tuple(out)
