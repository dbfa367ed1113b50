"""Turning checked rows and YAML entries into the events an import writes.

Nothing here writes. The ledger lends what needs it (:class:`Hooks`): a
:class:`Planner` (the checks of ``add_inspection`` and ``add_finding``, the
gate every write passes), the workflow and the clock. A row in a later state becomes its
history explicitly: an ``add`` with ``imported`` provenance by the importing
actor, then the events the row implies, each through ``Workflow.apply`` like
any ``fire``. A problem is recorded against the row and column it comes from.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Protocol, cast

import attrs
from cattrs.errors import BaseValidationError

from rectflow import _codec
from rectflow._io.cells import COLUMNS
from rectflow._io.table import Issues, RowSpec, Table
from rectflow._model import Event, Finding, Inspection, Measure, Owner
from rectflow._policy import Period
from rectflow._roles import LEDGER
from rectflow._time import local_date, parse_date, parse_time
from rectflow._workflow import Workflow
from rectflow.exceptions import (
    DuplicateId,
    InspectionNotFound,
    InvalidInput,
    RectflowError,
    RuleViolation,
    TransitionNotAllowed,
)

FORMAT: Final = "rectflow-ledger"

Item = tuple[Event, Finding, int]
"""What ``Store.append_many`` takes: the event, the row after it, the version before."""

_STEPS: Final[Mapping[str, tuple[str, ...]]] = {
    "assigned": (),
    "in_progress": ("start",),
    "staged_result": ("start", "stage"),
    "pending_signoff": ("start", "measures", "submit"),
    "completed": ("start", "measures", "submit", "sign_off"),
    "rechecked": ("start", "measures", "submit", "sign_off", "recheck"),
    "cancelled": ("cancel",),
}
"""The events a row's state implies after ``add``."""

STATE_EVENTS: Final[Mapping[str, frozenset[str]]] = {
    "assigned": frozenset({"add"}),
    "in_progress": frozenset({"start", "reject", "rebound"}),
    "staged_result": frozenset({"stage"}),
    "pending_signoff": frozenset({"submit"}),
    "completed": frozenset({"submit", "attest"}),
    "rechecked": frozenset({"recheck"}),
    "cancelled": frozenset({"cancel"}),
}
"""The event whose note and evidence a row's 整改进展 and 佐证材料 are, per state."""

_RULE_COLUMNS: Final[Mapping[str, str]] = {
    "evidence_required": "evidence",
    "note_required": "progress",
    "reason_required": "progress",
    "checkpoint_required": "next_checkpoint",
    "checkpoint_after_event": "next_checkpoint",
    "checkpoint_within_interval": "next_checkpoint",
    "measures_done": "measures",
    "signer_not_submitter": "signed_off_by",
    "signer_not_responsible": "signed_off_by",
    "look_back_wait": "state_at",
    "rechecker_not_submitter": "submitted_by",
    "canceller_not_responsible": "person",
}
_EVENT_COLUMNS: Final[Mapping[str, str]] = {
    "add": "id",
    "start": "state",
    "stage": "progress",
    "submit": "submitted_by",
    "sign_off": "signed_off_by",
    "recheck": "state_at",
    "cancel": "progress",
    "record_measure": "measures",
    "attest": "state",
}


class Planner(Protocol):
    """The ledger's checks an import plan calls (``rectflow._writer.Writer`` has them).

    Nothing they do writes: each returns what a write would store, or raises.
    """

    def plan_finding(
        self,
        finding_id: str,
        *,
        inspection: str,
        title: str,
        kind: str,
        owner: Owner,
        deadline: dt.date | str | Period,
        actor: str,
        aspect: str = "",
        category: str = "",
        measures: Iterable[Measure] = (),
        itemized: bool = True,
        at: dt.datetime | str | None = None,
        provenance: dict[str, Any] | None = None,
        note: str | None = None,
        evidence: Iterable[str] = (),
        known: Inspection | None = None,
        known_new: bool = False,
    ) -> tuple[Event, Finding]:
        """``add_finding``'s checks: the ``add`` event and the new finding, not stored yet."""

    def plan_inspection(
        self,
        inspection_id: str,
        *,
        title: str,
        feedback_at: dt.date | str,
        declared_findings: int | None = None,
        at: dt.datetime | str | None = None,
        unit: str | None = None,
    ) -> Inspection:
        """``add_inspection``'s checks: the inspection to store, not stored yet."""

    def resolve_deadline(self, spec: object, inspection: Inspection) -> dt.date:
        """A deadline (a day or a period's text) for *inspection*."""

    def admit(self, event: Event, before: Finding | None) -> None:
        """The gate every write passes (roles), after the workflow's rules."""

    def existing(self, ids: list[str]) -> set[str]:
        """Which of the finding *ids* are on the ledger (one read for many)."""


@attrs.frozen
class Hooks:
    """What the ledger lends an import plan.

    Attributes:
        workflow: The ledger's workflow.
        planner: The ledger's checks and gate (:class:`Planner`).
        inspection: The inspection with an id, on the ledger or created by the file.
        now: The ledger clock's time at the import.
        actor: Who imports.
        record: Writes a ledger-level event of a YAML file (an inspection, an actor,
            a role, a report) in its place in the chain, given the finding events
            planned before it (which it writes first); None: such events are refused.
        at: When the events a table's rows imply happen, unless a row says
            (``--at``, else the sheet's 填报时间); None: ``now``.
        warnings: The ids of rows without evidence whose sheet row is cited instead
            (the sheet has no 佐证材料 column): said in the summary, not refused.
    """

    workflow: Workflow
    planner: Planner
    inspection: Callable[[str], Inspection | None]
    now: dt.datetime
    actor: str
    record: Callable[[Event, list[Item]], None] | None = None
    at: dt.datetime | None = None
    warnings: list[str] = attrs.field(factory=list)


class _Refused(Exception):
    def __init__(self, column: str, code: str, **fields: Any) -> None:
        super().__init__(code)
        self.column = column
        self.code = code
        self.fields = fields


_YAML_KEYS: Final[Mapping[str, str]] = {
    "evidence": "evidence",
    "progress": "note",
    "next_checkpoint": "payload",
    "measures": "payload",
    "signed_off_by": "actor",
    "submitted_by": "actor",
    "person": "actor",
    "state_at": "at",
    "signed_off_at": "at",
    "state": "name",
    "id": "finding_id",
    "inspection": "payload",
}
"""A table column's counterpart in a YAML event."""


def _refusal(exc: RectflowError, event: str, prefix: str = "") -> _Refused:
    """An error raised while checking *event*, placed at its column (YAML: its key)."""
    column, code = _explain(exc, event)
    if prefix:
        column = prefix + _YAML_KEYS.get(column, "payload")
    if isinstance(exc, DuplicateId):
        return _Refused(column, code, value=exc.id)
    if isinstance(exc, InspectionNotFound):
        return _Refused(column, code, value=exc.inspection_id)
    return _Refused(column, code, value=str(exc))


def _explain(exc: RectflowError, event: str) -> tuple[str, str]:
    """The column key and code of an error raised while applying *event*."""
    if isinstance(exc, RuleViolation):
        column = _RULE_COLUMNS.get(exc.rule)
        if column is None and exc.rule in ("time_order", "not_in_future", "before_feedback"):
            column = "signed_off_at" if event in ("add", "start", "submit", "sign_off") else ""
            column = column or "state_at"
        return column or _EVENT_COLUMNS.get(event, ""), f"rule.{exc.rule}"
    if isinstance(exc, TransitionNotAllowed):
        return "state", "not_allowed"
    if isinstance(exc, DuplicateId):
        return "id", "id_exists"
    if isinstance(exc, InspectionNotFound):
        return "inspection", "unknown_inspection"
    column = _EVENT_COLUMNS.get(event, "")
    if isinstance(exc, InvalidInput):
        field = getattr(exc, "field", None) or ""
        return (field if field in _RULE_COLUMNS.values() else column), "bad_value"
    # another gate's refusal (e.g. roles: PermissionDenied → permission_denied)
    return column, re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


class _RowPlan:
    """The events of one row."""

    def __init__(
        self,
        spec: RowSpec,
        hooks: Hooks,
        source: str,
        due: dict[tuple[str, str], dt.date] | None = None,
        *,
        known_new: bool = False,
    ) -> None:
        self.spec = spec
        self.hooks = hooks
        self.source = source
        self.due = {} if due is None else due  # (period text, inspection) → day, per file
        self.known_new = known_new  # the id was looked up with its neighbours: not on the ledger
        self.items: list[Item] = []
        self.finding: Finding | None = None

    def times(self) -> tuple[dt.datetime, dt.datetime]:
        """When the history up to sign-off happens, and when the last event does.

        A completed row happens at its 销号时间; a rechecked one is signed off then
        and rechecked at its 状态时间; any other row reaches its state at its
        状态时间. Without them: the time of the import.
        """
        spec, now = self.spec, self.hooks.at or self.hooks.now
        if spec.signed_off_at is not None and spec.state not in ("completed", "rechecked"):
            raise _Refused("signed_off_at", "state_time", state=spec.state)
        if spec.state == "completed":
            at = spec.signed_off_at or spec.state_at or now
            return at, at
        last = spec.state_at or now
        return (spec.signed_off_at or last), last

    def deadline(self, inspection: Inspection) -> dt.date:
        spec, hooks = self.spec, self.hooks
        if isinstance(spec.deadline, dt.date):
            if spec.deadline < inspection.feedback_at:
                raise _Refused(
                    "deadline",
                    "deadline_before_feedback",
                    value=spec.deadline,
                    inspection=inspection.id,
                    feedback=inspection.feedback_at,
                )
            return spec.deadline
        key = (spec.deadline, inspection.id)
        if (day := self.due.get(key)) is not None:
            return day
        if spec.deadline == "long_term":
            day = hooks.workflow.policy.report_period.after(
                inspection.feedback_at, hooks.workflow.calendar
            )
        elif spec.deadline == "immediate":  # 立行立改: the policy's immediate period
            day = hooks.workflow.policy.immediate_period.after(
                inspection.feedback_at, hooks.workflow.calendar
            )
        else:
            try:
                day = hooks.planner.resolve_deadline(spec.deadline, inspection)
            except InvalidInput:
                raise _Refused("deadline", "bad_date", value=spec.deadline) from None
        self.due[key] = day
        return day

    def fire(self, name: str, at: dt.datetime, actor: str, **fields: Any) -> None:
        assert self.finding is not None  # noqa: S101 - add comes first
        before = self.finding
        event = Event(before.id, name, at, actor, **fields)
        try:
            after = self.hooks.workflow.apply(before, event, now=self.hooks.now)
            stored = attrs.evolve(event, version=after.version)
            self.hooks.planner.admit(stored, before)
        except RectflowError as exc:
            raise _refusal(exc, name) from exc
        self.items.append((stored, after, before.version))
        self.finding = after

    def attested(self, before: str = "assigned") -> bool:
        """Whether the row completes on the sheet's word: the import attests it.

        The sheet says completed and names neither 提交人 nor 销号人, and the
        finding (``assigned`` for a new one) has not been submitted yet.
        """
        spec = self.spec
        return (
            spec.state == "completed"
            and not spec.submitted_by
            and not spec.signed_off_by
            and before in ("assigned", "in_progress", "staged_result")
        )

    def steps(self, before: str = "assigned") -> list[str]:
        """The events after ``add`` that take a finding in *before* to the row's state."""
        target = (
            ("start", "measures", "attest") if self.attested(before) else _STEPS[self.spec.state]
        )
        done = _STEPS[before]
        return [s for s in target if s not in done]

    def carried(self, *, attested: bool) -> dict[str, Any]:
        """The note and evidence of the event that defines the row's state.

        A completion attested without evidence, and a staged result without it,
        are warnings (the summary says them); a sheet with no 佐证材料 column cites
        its own row as the record.
        """
        spec, hooks = self.spec, self.hooks
        evidence = spec.evidence
        if not evidence and (attested or spec.state == "staged_result"):
            if attested:
                hooks.warnings.append(spec.id)  # completed on the sheet's word, no evidence
            if not spec.evidence_column:  # the sheet keeps none: its row is the record
                evidence = (self.source,)
                if not attested:
                    hooks.warnings.append(spec.id)
        return {"note": spec.progress or None, "evidence": evidence}

    def build(self) -> list[Item]:
        spec, hooks = self.spec, self.hooks
        inspection = hooks.inspection(spec.inspection)
        if inspection is None:
            raise _Refused("inspection", "unknown_inspection", value=spec.inspection)
        due = self.deadline(inspection)
        first, last = self.times()
        attested = self.attested()
        carried = self.carried(attested=attested)
        own_fields: dict[str, Any] = {}
        if spec.remarks:
            own_fields["remarks"] = spec.remarks
        if spec.extra:
            own_fields["extra"] = dict(spec.extra)
        try:
            event, finding = hooks.planner.plan_finding(
                spec.id,
                inspection=inspection.id,
                title=spec.title,
                kind=spec.kind,
                owner=Owner(spec.leader, spec.department, spec.person),
                deadline=due,
                actor=hooks.actor,
                aspect=spec.aspect,
                category=spec.category,
                measures=[
                    Measure(f"{spec.id}-{i}", text, kind="one_off")
                    for i, text in enumerate(spec.measures, 1)
                ],
                itemized=spec.itemized,
                at=first,
                provenance={"provenance": "imported", "source": self.source, **own_fields},
                known=inspection,
                known_new=self.known_new,
                **(carried if "add" in STATE_EVENTS[spec.state] else {}),
            )
            hooks.planner.admit(event, None)
        except RectflowError as exc:
            raise _refusal(exc, "add") from exc
        self.items.append((event, finding, 0))
        self.finding = finding
        self.run(self.steps(), first, last, carried)
        return self.items

    def run(
        self, steps: list[str], first: dt.datetime, last: dt.datetime, carried: dict[str, Any]
    ) -> None:
        """Fire *steps* on the plan's finding (a new row's, or one an update moves on).

        Every step but ``recheck`` happens at *first*; the event that defines the
        row's state carries *carried* (its note and evidence).
        """
        spec, hooks = self.spec, self.hooks
        actor = hooks.actor
        defining = STATE_EVENTS[spec.state]
        for step in steps:
            here = last if step == "recheck" else first
            own = carried if step in defining and step != "cancel" else {}
            finding = self.finding
            assert finding is not None  # noqa: S101 - add comes first
            if step == "measures":
                for m in finding.measures:
                    if not m.is_done:
                        self.fire("record_measure", here, actor, payload={"measure": m.id})
            elif step == "stage":
                day = local_date(here, hooks.workflow.policy.timezone)
                checkpoint = (
                    spec.next_checkpoint
                    or hooks.workflow.policy.checkpoint_interval.after(day, hooks.workflow.calendar)
                )
                self.fire(
                    "stage", here, actor, payload={"next_checkpoint": checkpoint.isoformat()}, **own
                )
            elif step == "submit":
                if not spec.submitted_by:
                    raise _Refused("submitted_by", "required", name=COLUMNS["submitted_by"][0])
                self.fire(
                    "submit",
                    here,
                    spec.submitted_by,
                    note=spec.progress or None,
                    evidence=spec.evidence,
                )
            elif step == "attest":
                self.fire(
                    "attest",
                    here,
                    actor,
                    note=carried["note"],
                    evidence=carried["evidence"],
                    payload={"provenance": "attested_by_import", "source": self.source},
                )
            elif step == "sign_off":
                if not spec.signed_off_by:
                    raise _Refused("signed_off_by", "required", name=COLUMNS["signed_off_by"][0])
                self.fire("sign_off", here, spec.signed_off_by)
            elif step == "cancel":
                self.fire(
                    "cancel",
                    here,
                    actor,
                    payload={"reason": spec.progress},
                    evidence=spec.evidence,
                )
            else:
                self.fire(step, here, actor, **own)


def plan_rows(table: Table, issues: Issues, hooks: Hooks, source: str) -> list[Item]:
    """The events of every row of *table*; problems go to *issues* (then the list is moot)."""
    items: list[Item] = []
    due: dict[tuple[str, str], dt.date] = {}  # a period's day per inspection, worked out once
    rows = iter(table.rows)
    while chunk := list(itertools.islice(rows, _CHUNK)):
        on_ledger = hooks.planner.existing([spec.id for spec in chunk])  # one read, not one per row
        for spec in chunk:
            plan = _RowPlan(
                spec, hooks, f"{source}:{spec.row}", due, known_new=spec.id not in on_ledger
            )
            try:
                items.extend(plan.build())
            except _Refused as exc:
                issues.add(spec.row, table.column(exc.column), exc.code, **exc.fields)
                if issues.full:
                    issues.stopped = True
                    return items
    return items


_CHUNK: Final = 500
"""Rows whose ids are looked up on the ledger together."""


# ---------------------------------------------------------------- YAML


_EVENT_KEYS: Final = frozenset(
    {"finding_id", "name", "at", "actor", "note", "evidence", "payload", "version"}
)
_ADD_KEYS: Final = frozenset(
    {
        "inspection",
        "aspect",
        "category",
        "title",
        "kind",
        "owner",
        "deadline",
        "measures",
        "itemized",
    }
)


def _plain(value: Any) -> Any:
    """JSON-native data (dates YAML typed are turned back into ISO text)."""
    if isinstance(value, dt.datetime):
        return parse_time(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise InvalidInput(f"unsupported value {value!r}", value=value)


def _entry(
    raw: object, where: str, keys: frozenset[str], required: tuple[str, ...]
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _Refused(where, "yaml_schema", value=f"{where}: expected a mapping")
    extra = set(map(str, raw)) - keys
    if extra:
        raise _Refused(f"{where}.{min(extra)}", "yaml_schema", value=f"unknown key {min(extra)!r}")
    for key in required:
        if raw.get(key) in (None, ""):
            raise _Refused(f"{where}.{key}", "yaml_schema", value=f"{key} is required")
    return raw


_DAMAGED: Final = (
    TypeError,
    ValueError,
    KeyError,
    AttributeError,
    OverflowError,
    BaseValidationError,
)
"""What building records from an entry of the wrong shape raises (cattrs' too)."""

_Kind = tuple[tuple[type, ...], str]
_TEXT: Final[_Kind] = ((str,), "text")
_TEXT_OR_NONE: Final[_Kind] = ((str, type(None)), "text or null")
_DAY: Final[_Kind] = ((str, dt.date), "a date")
_DAY_OR_NONE: Final[_Kind] = ((str, dt.date, type(None)), "a date or null")
_WHEN: Final[_Kind] = ((str, dt.datetime), "a time")
_ID: Final[_Kind] = ((str, int, float), "text")
_INT: Final[_Kind] = ((int,), "an integer")
_FLAG: Final[_Kind] = ((bool,), "true or false")
_MAPPING: Final[_Kind] = ((dict,), "a mapping")
_MAPPING_OR_NONE: Final[_Kind] = ((dict, type(None)), "a mapping or null")
_LIST: Final[_Kind] = ((list,), "a list")

_EVENT_SHAPE: Final[Mapping[str, _Kind]] = {
    "finding_id": _ID,
    "name": _TEXT,
    "at": _WHEN,
    "actor": _TEXT_OR_NONE,
    "payload": _MAPPING_OR_NONE,
    "version": _INT,
}
_PAYLOAD_SHAPE: Final[Mapping[str, _Kind]] = {
    "inspection": ((str, int, float, type(None)), "text or null"),
    "aspect": _TEXT,
    "category": _TEXT,
    "title": _TEXT,
    "kind": _TEXT,
    "owner": _MAPPING,
    "deadline": _DAY,
    "measures": _LIST,
    "itemized": _FLAG,
    "measure": _TEXT,
    "next_checkpoint": _DAY,
    "until": _DAY,
    "reason": _TEXT_OR_NONE,
    "requested_by": _TEXT_OR_NONE,
    "drawn_on": _DAY,
}
_OWNER_SHAPE: Final[Mapping[str, _Kind]] = {"leader": _TEXT, "department": _TEXT, "person": _TEXT}
_MEASURE_SHAPE: Final[Mapping[str, _Kind]] = {
    "id": _TEXT,
    "text": _TEXT,
    "kind": _TEXT,
    "owner": _TEXT,
    "cadence": _TEXT_OR_NONE,
    "document": _TEXT_OR_NONE,
    "document_type": _TEXT_OR_NONE,
    "done_at": _DAY_OR_NONE,
    "established": _DAY_OR_NONE,
    "occurrences": _LIST,
}


def _is(value: object, kind: _Kind) -> bool:
    types = kind[0]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        return False
    if dt.date in types and isinstance(value, str):  # a date as the exporter writes it
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
    return True


def _shaped(raw: Mapping[Any, Any], shape: Mapping[str, _Kind], path: str, column: str) -> None:
    """Refuse the first value of *raw* whose type is not the one *shape* names for its key."""
    for key, kind in shape.items():
        if key in raw and not _is(raw[key], kind):
            raise _Refused(column, "yaml_schema", value=f"{path}.{key}: expected {kind[1]}")


def _check_event_shape(raw: Mapping[Any, Any], n: int) -> None:
    """An event's values have the types a ledger file gives them, or ``yaml_schema`` at its path.

    ``events[n].payload.measures[1].occurrences[2]: expected a date``; lists count
    from 1, like the rows. Note and evidence are checked with the event (``bad_value``).
    """
    where = f"events[{n}]"
    for key, kind in _EVENT_SHAPE.items():
        if key in raw and not _is(raw[key], kind):
            column = f"events.{key}"
            raise _Refused(column, "yaml_schema", value=f"{where}.{key}: expected {kind[1]}")
    payload = raw.get("payload") or {}
    path = f"{where}.payload"
    _shaped(payload, _PAYLOAD_SHAPE, path, "events.payload")
    if "owner" in payload:
        _shaped(payload["owner"], _OWNER_SHAPE, f"{path}.owner", "events.payload")
    for i, measure in enumerate(payload.get("measures") or (), 1):
        here = f"{path}.measures[{i}]"
        if not isinstance(measure, dict):
            raise _Refused("events.payload", "yaml_schema", value=f"{here}: expected a mapping")
        _shaped(measure, _MEASURE_SHAPE, here, "events.payload")
        for j, day in enumerate(measure.get("occurrences") or (), 1):
            if not _is(day, _DAY):
                value = f"{here}.occurrences[{j}]: expected a date"
                raise _Refused("events.payload", "yaml_schema", value=value)


def check_header(data: Mapping[str, Any], issues: Issues) -> None:
    """A YAML ledger file's top-level keys, format and version."""
    extra = set(map(str, data)) - {"format", "version", "policy", "head", "inspections", "events"}
    if extra:
        issues.add(0, min(extra), "yaml_schema", value=f"unknown key {min(extra)!r}")
    if data.get("format", FORMAT) != FORMAT or data.get("version", 1) != 1:
        issues.add(0, "version", "yaml_schema", value="not a rectflow-ledger file of version 1")


def plan_inspections(data: Mapping[str, Any], issues: Issues, hooks: Hooks) -> list[Inspection]:
    """The inspections a YAML ledger file creates (each through ``add_inspection``'s checks)."""
    check_header(data, issues)
    created: dict[str, Inspection] = {}
    # report_submitted_at is informative: a submission travels as its own event.
    keys = frozenset(
        {"id", "title", "feedback_at", "declared_findings", "created_at", "report_submitted_at"}
    )
    for n, raw in enumerate(_list(data, "inspections", issues), 1):
        try:
            entry = _entry(raw, "inspections", keys, ("id", "title", "feedback_at"))
            created_at = entry.get("created_at")
            found = hooks.planner.plan_inspection(
                str(entry["id"]),
                title=entry["title"],
                feedback_at=_plain(entry["feedback_at"]),
                declared_findings=entry.get("declared_findings"),
                at=None if created_at is None else _plain(created_at),
            )
            if found.id in created:
                raise _Refused(  # noqa: TRY301
                    "inspections.id", "duplicate_id", value=found.id, first="?"
                )
            created[found.id] = found
        except _Refused as exc:  # noqa: PERF203
            issues.add(n, exc.column, exc.code, **exc.fields)
        except RectflowError as exc:
            column = f"inspections.{getattr(exc, 'field', None) or 'id'}"
            if isinstance(exc, DuplicateId):
                issues.add(n, column, "id_exists", value=exc.id)
            else:
                issues.add(n, column, "bad_value", value=str(exc))
        except _DAMAGED as exc:  # a value of a type no inspection field takes
            issues.add(n, "inspections", "yaml_schema", value=f"inspections[{n}]: {_why(exc)}")
    return list(created.values())


def _why(exc: BaseException) -> str:
    """What an entry of the wrong shape raised, in one line (cattrs' paths included)."""
    if isinstance(exc, BaseValidationError):
        from cattrs import transform_error  # noqa: PLC0415

        return "; ".join(transform_error(exc, path="")) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"[:300]


def plan_events(
    data: Mapping[str, Any],
    issues: Issues,
    hooks: Hooks,
    *,
    max_rows: int,
    inspection: str | None = None,
) -> list[Item]:
    """The events to append from a YAML ledger file (its inspections already staged).

    Events are applied in file order (the exporter writes chain order), each
    checked by the workflow like a ``fire``; their times, actors and versions
    are kept, so a whole ledger re-imported into an empty one has the same head.
    The later events of a finding whose ``add`` was refused are not reported again.
    """
    current: dict[str, Finding] = {}
    refused: set[str] = set()
    items: list[Item] = []
    events = _list(data, "events", issues)
    if len(events) > max_rows:
        issues.add(max_rows + 1, "events", "too_many_rows", limit=max_rows)
        return []
    for n, raw in enumerate(events, 1):
        if isinstance(raw, dict) and raw.get("finding_id") == LEDGER and hooks.record is not None:
            try:
                _check_event_shape(raw, n)
                hooks.record(_ledger_event(raw), items)
            except _Refused as exc:
                issues.add(n, exc.column, exc.code, **exc.fields)
            except RectflowError as exc:
                column, code = _explain(exc, str(raw.get("name")))
                issues.add(n, f"events.{_YAML_KEYS.get(column, 'name')}", code, value=str(exc))
            except _DAMAGED as exc:
                issues.add(n, "events", "yaml_schema", value=f"events[{n}]: {_why(exc)}")
            continue
        try:
            entry = _entry(raw, "events", _EVENT_KEYS, ("finding_id", "name", "at", "actor"))
            if str(entry["finding_id"]) in refused:
                continue
            _check_event_shape(entry, n)
            items.append(_yaml_event(entry, current, hooks, inspection, n))
        except (_Refused, *_DAMAGED) as exc:
            refusal = (  # a shape the checks above do not know: its place and its cause
                exc
                if isinstance(exc, _Refused)
                else _Refused("events", "yaml_schema", value=f"events[{n}]: {_why(exc)}")
            )
            issues.add(n, refusal.column, refusal.code, **refusal.fields)
            if isinstance(raw, dict):
                refused.add(str(raw.get("finding_id")))
            if issues.full:
                issues.stopped = True
                break
    return items


def has_ledger_events(data: Mapping[str, Any]) -> bool:
    """Whether a YAML ledger file carries ledger-level events (then they create its inspections)."""
    events = data.get("events")
    return isinstance(events, list) and any(
        isinstance(e, dict) and e.get("finding_id") == LEDGER for e in events
    )


def _ledger_event(raw: dict[str, Any]) -> Event:
    """A ledger-level event of a YAML file, its shape checked (its rules are the ledger's)."""
    entry = _entry(raw, "events", _EVENT_KEYS, ("name", "at"))  # an actor only in roles mode
    try:
        at = parse_time(entry["at"], "at")
    except InvalidInput:
        raise _Refused("events.at", "naive_time", value=entry.get("at")) from None
    try:
        payload = _plain(entry.get("payload") or {})
        evidence = _plain(entry.get("evidence") or [])
    except InvalidInput as exc:
        raise _Refused("events.payload", "bad_value", value=str(exc)) from None
    note = entry.get("note")
    version = entry.get("version")
    if (
        not isinstance(payload, dict)
        or not isinstance(evidence, list)
        or not all(isinstance(e, str) for e in evidence)
        or (note is not None and not isinstance(note, str))
    ):
        raise _Refused("events.payload", "bad_value", value="payload, evidence or note")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _Refused("events.version", "version", finding=LEDGER, expected="≥ 1", value=version)
    return Event(
        LEDGER,
        str(entry["name"]),
        at,
        str(entry.get("actor") or ""),
        note,
        tuple(evidence),
        payload,
        version,
    )


def _list(data: Mapping[str, Any], key: str, issues: Issues) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        issues.add(0, key, "yaml_schema", value=f"{key}: expected a list")
        return []
    return value


def _yaml_event(
    entry: dict[str, Any],
    current: dict[str, Finding],
    hooks: Hooks,
    only: str | None,
    n: int = 0,
) -> Item:
    fid, name = str(entry["finding_id"]), str(entry["name"])
    try:
        at = parse_time(entry["at"], "at")
        payload = _plain(entry.get("payload") or {})
        evidence = entry.get("evidence") or []
        if not isinstance(payload, dict) or not isinstance(evidence, list):
            raise InvalidInput("payload must be a mapping and evidence a list")  # noqa: TRY301
        note = entry.get("note")
        version = entry.get("version")
    except InvalidInput as exc:
        column = "events.at" if getattr(exc, "field", None) == "at" else "events.payload"
        code = "naive_time" if "naive" in str(exc) or "缺少时区" in str(exc) else "bad_value"
        raise _Refused(
            column, code, value=entry.get("at") if column == "events.at" else str(exc)
        ) from None
    if note is not None and not isinstance(note, str):  # text, as a fire takes it
        raise _Refused("events.note", "bad_value", value=note)
    if not all(isinstance(e, str) for e in evidence):
        raise _Refused("events.evidence", "bad_value", value=evidence)
    before = current.get(fid)
    expected = 1 if before is None else before.version + 1
    if not isinstance(version, int) or isinstance(version, bool) or version != expected:
        raise _Refused("events.version", "version", finding=fid, expected=expected, value=version)
    if name == "add":
        if before is not None or hooks.planner.existing([fid]):
            raise _Refused("events.finding_id", "id_exists", value=fid)
        insp = hooks.inspection(str(payload.get("inspection")))
        if insp is None:
            raise _Refused("events.payload", "unknown_inspection", value=payload.get("inspection"))
        if only is not None and insp.id != only:
            raise _Refused("events.payload", "inspection_mismatch", value=insp.id, expected=only)
        try:
            event, finding = hooks.planner.plan_finding(
                fid,
                inspection=insp.id,
                title=cast("str", payload.get("title")),  # checked there: an empty one refused
                kind=cast("str", payload.get("kind")),
                owner=_codec.owner_from(payload.get("owner") or {}),
                deadline=parse_date(payload.get("deadline"), "deadline"),
                actor=entry["actor"],
                aspect=payload.get("aspect", ""),
                category=payload.get("category", ""),
                measures=[_codec.measure_from(m) for m in payload.get("measures") or []],
                itemized=payload.get("itemized", True),
                at=at,
                provenance={k: v for k, v in payload.items() if k not in _ADD_KEYS},
                known=insp,
                note=note,
                evidence=evidence,
            )
            hooks.planner.admit(event, None)
        except RectflowError as exc:
            raise _refusal(exc, "add", "events.") from exc
        except _DAMAGED as exc:
            raise _Refused("events.payload", "bad_value", value=_why(exc)) from exc
        if dict(event.payload) != payload:
            raise _Refused("events.payload", "yaml_schema", value="add payload is not canonical")
        current[fid] = finding
        return event, finding, 0
    if before is None:
        if hooks.planner.existing([fid]):
            raise _Refused("events.finding_id", "id_exists", value=fid)
        raise _Refused("events.finding_id", "finding_not_found", value=fid)
    if name not in hooks.workflow.rules:
        raise _Refused("events.name", "unknown_event", value=name)
    event = Event(fid, name, at, str(entry["actor"]), note, tuple(evidence), payload, version)
    try:
        after = hooks.workflow.apply(before, event, now=hooks.now)
        hooks.planner.admit(event, before)
    except RectflowError as exc:
        raise _refusal(exc, name, "events.") from exc
    except _DAMAGED as exc:  # a payload value the event's rules cannot read (a checkpoint "x")
        value = f"events[{n}].payload: {_why(exc)}"
        raise _Refused("events.payload", "yaml_schema", value=value) from exc
    current[fid] = after
    return event, after, before.version
