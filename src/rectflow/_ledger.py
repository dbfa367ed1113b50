"""The Ledger: the public face of a rectification ledger (整改台账)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import json
import logging
import os
import pathlib
import random
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar, cast

import attrs
import pendulum

from rectflow import _codec
from rectflow._i18n import LANGS, msg, translate
from rectflow._io.cells import FileLimits
from rectflow._io.files import (
    PRINTED,
    ImportSummary,
    file_format,
    read_tabular,
    read_yaml,
    write_table,
)
from rectflow._io.plan import (
    Hooks,
    Item,
    check_header,
    has_ledger_events,
    plan_events,
    plan_inspections,
    plan_rows,
)
from rectflow._io.table import Issues
from rectflow._io.update import Change, UpdateSummary, plan_update
from rectflow._io.xlsxledger import SheetHead
from rectflow._io.yamlfile import dump as dump_yaml
from rectflow._model import (
    DONE_STATES,
    STATES,
    Event,
    Finding,
    Inspection,
    Measure,
    Owner,
    id_key,
)
from rectflow._policy import Period, Policy, policy_digest, policy_from_mapping, policy_to_mapping
from rectflow._render.agenda import Agenda
from rectflow._render.report import Report
from rectflow._roles import (
    LEDGER,
    LEDGER_EVENTS,
    Actor,
    Grant,
    LedgerState,
    inspection_payload,
)
from rectflow._store.base import AgendaQuery, ChainEntry, Head, Store
from rectflow._store.memory import MemoryStore
from rectflow._time import as_of_cutoff, default_clock, local_date, parse_date, parse_time
from rectflow._views.agenda import build_agenda
from rectflow._views.integrity import (
    SignedHead,
    anchor_problems,
    evidence_problems,
    ledger_problems,
    parse_anchor,
    sign_head,
    with_problems,
)
from rectflow._views.report import build_report
from rectflow._views.verify import Verification, verify_chain
from rectflow._workflow import (
    Workflow,
    deadline_of,
    event_arguments,
    normalize_name,
    owner_of,
    validate_definition,
)
from rectflow.exceptions import (
    ConcurrencyConflict,
    DuplicateId,
    FindingNotFound,
    InspectionNotFound,
    InvalidInput,
    LedgerFileError,
    PolicyError,
    RectflowError,
    RuleViolation,
    StorageError,
    TimeOrderConflict,
)

_INSPECTION_EVENTS = frozenset({"add_inspection", "change_inspection", "submit_report"})
_FLUSH_EVERY = 10_000
_SCAN_ABOVE = 256
"""Above this many histories to read from a durable store, one pass over the chain does it."""
"""A batch hands its buffered writes to the store in bulks of this many."""


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _in_lang(method: _Method) -> _Method:
    """The ledger's boundary: an error leaving *method* speaks the ledger's language.

    Messages are made where they are raised (a store, the workflow, a policy);
    those that know both languages are shown here in the ledger's.
    """

    @functools.wraps(method)
    def in_lang(self: Ledger, /, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except RectflowError as exc:
            exc._localize(self.lang)  # noqa: SLF001 - the boundary the method is for
            raise

    return cast("_Method", in_lang)


@attrs.define
class _Pending:
    """The writes of a :meth:`Ledger.batch` not yet handed to the store.

    Attributes:
        items: ``(event, finding, expected_version)`` in the order they were made.
        rows: Each buffered finding's latest row (what reads inside the batch see).
        inspections: Inspections read during the batch (they cannot change while it
            holds the store's transaction, and go with it).
        tip: The store's ledger tip when the first buffered item was admitted (None:
            unknown); the flush checks the items again if it has moved.
    """

    items: list[tuple[Event, Finding, int]] = attrs.Factory(list)
    rows: dict[str, Finding] = attrs.Factory(dict)
    inspections: dict[str, Inspection] = attrs.Factory(dict)
    tip: tuple[int, str] | None = None


_log = logging.getLogger("rectflow")
_MAX_PAGE = 10_000
"""The most events one :meth:`Ledger.events_since` call returns."""


class EventPage(NamedTuple):
    """A page of the chain read by :meth:`Ledger.events_since`.

    Unpacks as ``entries, cursor``.

    Attributes:
        entries: The committed chain entries after the cursor asked for, by ``seq``
            (each has its ``event`` and its place ``seq``).
        cursor: The cursor to ask for next: the ``seq`` of the last entry returned
            (the one asked for when there is none). Keep it anywhere (a file, a
            table): it stays valid across processes and restarts.
    """

    entries: tuple[ChainEntry, ...]
    cursor: int

    @property
    def events(self) -> tuple[Event, ...]:
        """The entries' events."""
        return tuple(entry.event for entry in self.entries)


@attrs.frozen
class _Subscriber:
    """A callback of :meth:`Ledger.subscribe` and the event names it wants (None: all)."""

    callback: Callable[[Event], object]
    names: frozenset[str] | None


@attrs.frozen
class SpotCheckDraw:
    """A reproducible random draw of findings to spot-check (不定期抽查).

    Redo it with ``ledger.draw_spot_checks(inspection, k=draw.k, seed=draw.seed,
    as_of=draw.as_of)``.

    Attributes:
        inspection: The inspection drawn from.
        seed: The seed of the draw; record it on each ``spot_check`` event.
        k: How many were asked for.
        as_of: The day the population was taken.
        population: The completed and rechecked findings drawn from, sorted.
        findings: The drawn findings' ids, in draw order.
    """

    inspection: str
    seed: int
    k: int
    as_of: dt.date
    population: tuple[str, ...]
    findings: tuple[str, ...]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for a bulk import, then as it was.

    An import builds every row's records before it writes them, in one go: the
    collector would otherwise scan them again and again while they can only grow
    (about a tenth of a 10^5-row import's time here). Reference counting still
    frees what is dropped; nothing an import builds is cyclic.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _DryRun(Exception):
    """Raised inside a dry-run import's transaction to roll it back."""


def _recorded_policy(store: Store, asked: Policy | None, lang: str) -> Policy:
    """The policy a ledger runs under: recorded at its first opening, then enforced.

    A ledger's rules (look-back wait, extensions, checkpoints, time zone) are part
    of the record: opening it with another policy would let a caller choose laxer
    rules, and ``verify`` would judge history by them.
    """
    stored = store.get_meta("policy")
    if stored is None:
        chosen = asked or Policy()
        try:
            store.put_meta("policy", _codec.dumps(policy_to_mapping(chosen)))
        except DuplicateId:  # another process recorded it first
            stored = store.get_meta("policy")
        else:
            return chosen
    assert stored is not None  # noqa: S101
    recorded = policy_from_mapping(json.loads(stored), origin="ledger")
    if asked is not None and asked != recorded:
        raise PolicyError(msg("policy_mismatch", lang, name=recorded.name), field="policy")
    return recorded


def _open_store(target: str) -> Store:
    if target == ":memory:":
        return MemoryStore()
    if target.startswith(("postgresql://", "postgres://")):
        try:
            from rectflow._store.postgres import PostgresStore  # noqa: PLC0415
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise StorageError(
                "PostgreSQL 台账需要安装 postgres 扩展 (PostgreSQL needs the 'postgres' extra):"
                " pip install 'rectflow[postgres]'"
            ) from exc
        store: Store = PostgresStore(target)
        return store
    from rectflow._store.sqlite import SqliteStore  # noqa: PLC0415

    sqlite_store: Store = SqliteStore(target)
    return sqlite_store


def _inspections_first(events: list[Event]) -> list[Event]:
    """*events* in an order a re-import can follow.

    A ledger migrated from schema 3 chained its inspections after the findings that
    belong to them (the migration appended them). Such ``add_inspection`` events
    move to the front, in their order; the ledger's own versions stay in order, the
    re-imported ledger has the same events, and its head differs from this one's.
    """
    first_add: dict[str, int] = {}
    for i, e in enumerate(events):
        if e.finding_id != LEDGER and e.name == "add":
            first_add.setdefault(str(e.payload.get("inspection")), i)
    late = {
        i
        for i, e in enumerate(events)
        if e.finding_id == LEDGER
        and e.name == "add_inspection"
        and first_add.get(str(e.payload.get("inspection")), i) < i
    }
    if not late:
        return events
    return [events[i] for i in sorted(late)] + [e for i, e in enumerate(events) if i not in late]


class Ledger:
    """A rectification ledger: inspections, their findings, and every event.

    Open one with :meth:`open`; every change goes through :meth:`add_inspection`,
    :meth:`add_finding` and :meth:`fire`, which check the workflow's rules and
    write the event and the finding's new state in one transaction, or through
    :meth:`add_actor`, :meth:`revoke_role`, :meth:`change_inspection` and
    :meth:`submit_report` (ledger-level events on the same chain). Every write
    passes one gate, ``_admit``: separation of duties, and roles once actors
    are registered.

    Attributes:
        policy: The policy in force.
        workflow: The shared workflow (machine and rules).
        store: The storage backend.
        lang: Language of errors and reports (``"zh"`` or ``"en"``).
    """

    def __init__(
        self,
        store: Store,
        *,
        policy: Policy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        workflow: Workflow | None = None,
        lang: str = "zh",
    ) -> None:
        """Wrap an open *store*; prefer :meth:`open`."""
        if lang not in LANGS:
            raise InvalidInput(msg("unknown_lang", "zh", value=lang), field="lang", value=lang)
        if workflow is not None and policy is not None and workflow.policy != policy:
            raise InvalidInput(
                msg("bad_value", lang, field="policy", value="≠ workflow.policy"), field="policy"
            )
        policy = _recorded_policy(store, policy or (workflow.policy if workflow else None), lang)
        if workflow is not None and workflow.policy != policy:
            raise PolicyError(msg("policy_mismatch", lang, name=policy.name), field="policy")
        self.policy = policy
        self.workflow = workflow or Workflow(self.policy, lang=lang)
        self.store = store
        self.lang = lang
        tz = self.policy.timezone
        self._clock = clock or default_clock(tz)
        self._before_write: Callable[[], None] | None = None  # test hook: widen the read-write gap
        self._policy_digest = policy_digest(self.policy)  # recorded on ledger-level events
        self._state: LedgerState | None = None  # ledger-level events replayed (issue 8)
        self._state_last: Event | None = None
        self._state_tip: tuple[int, str] | None = None  # the store's ledger_tip() it is at
        self._local = threading.local()  # the running batch's buffer, per thread
        self._subscribers: tuple[_Subscriber, ...] = ()  # replaced whole, never mutated
        self._subscribers_lock = threading.Lock()
        # Threads share a ledger: this lock is taken before the store's, by every use of
        # the ledger-level state and around batch() and imports (see durability.md).
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls,
        target: str = ":memory:",
        *,
        policy: Policy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        workflow: Workflow | None = None,
        lang: str = "zh",
    ) -> Ledger:
        """Open (or create) a ledger.

        Args:
            target: ``":memory:"``, a SQLite file path, or a ``postgresql://`` URL.
            policy: The policy (default :class:`Policy`).
            clock: Returns the current aware time; default: the wall clock in the
                policy's time zone. Events default to it and may not be later.
            workflow: A custom workflow (default: the built-in one for *policy*).
            lang: ``"zh"`` (default) or ``"en"`` for errors and reports.
        """
        try:
            store = _open_store(str(target))
        except RectflowError as exc:
            exc._localize(lang)  # noqa: SLF001 - the ledger's boundary
            raise
        return cls(store, policy=policy, clock=clock, workflow=workflow, lang=lang)

    @_in_lang
    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Ledger:  # noqa: PYI034 - Self needs Python 3.11
        """Use as a context manager that closes the ledger."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the ledger."""
        self.close()

    # -- time

    @_in_lang
    def now(self) -> pendulum.DateTime:
        """The ledger clock's current time."""
        return self._now()

    def _now(self) -> pendulum.DateTime:
        """:meth:`now` inside the ledger (past its boundary)."""
        return parse_time(self._clock(), "clock", self.lang)

    def _at(self, at: object) -> pendulum.DateTime:
        return self._now() if at is None else parse_time(at, "at", self.lang)

    # -- inspections

    @_in_lang
    def add_inspection(
        self,
        inspection_id: str,
        *,
        title: str,
        feedback_at: dt.date | str,
        declared_findings: int | None = None,
        at: dt.datetime | str | None = None,
        actor: str | None = None,
        unit: str | None = None,
    ) -> Inspection:
        """Put an inspection (巡察) on the ledger, as an event on the chain.

        Args:
            inspection_id: Its id, e.g. ``"R1"``.
            title: Its title.
            feedback_at: The day feedback was given (``"2023-11-23"``).
            declared_findings: How many problems the feedback declared.
            at: When it is recorded (default: now).
            actor: Who records it; required once the ledger has registered actors
                (the policy's ``add_inspection`` roles, ledger-wide).
            unit: The unit that rectifies and reports (填报单位), signed under the
                report (落款).

        Raises:
            InvalidInput: For malformed arguments.
            DuplicateId: When the id exists.
            PermissionDenied: When *actor* may not add inspections.
        """
        inspection = self._new_inspection(
            inspection_id,
            title=title,
            feedback_at=feedback_at,
            declared_findings=declared_findings,
            at=at,
            unit=unit,
        )
        assert inspection.created_at is not None  # noqa: S101 - _new_inspection sets it
        self._record("add_inspection", inspection_payload(inspection), actor, inspection.created_at)
        return inspection

    def _new_inspection(
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
        self._require_text(inspection_id, "inspection_id")
        self._require_text(title, "title")
        if unit is not None:
            self._require_text(unit, "unit")
        feedback = parse_date(feedback_at, "feedback_at", self.lang)
        self._check_count(declared_findings)
        when = self._at(at)
        self._not_in_future(when, inspection_id, "add_inspection")
        if self.store.get_inspection(inspection_id) is not None:
            raise DuplicateId(inspection_id, msg("duplicate_id", self.lang, id=inspection_id))
        return Inspection(inspection_id, title, feedback, declared_findings, when, unit=unit)

    def _check_count(self, declared_findings: object) -> None:
        if declared_findings is not None and (
            not isinstance(declared_findings, int)
            or isinstance(declared_findings, bool)
            or declared_findings < 0
        ):
            raise InvalidInput(
                msg("bad_value", self.lang, field="declared_findings", value=declared_findings),
                field="declared_findings",
                value=declared_findings,
            )

    @_in_lang
    def inspection(self, inspection_id: str) -> Inspection:
        """The inspection with this id.

        Raises:
            InspectionNotFound: When there is none.
        """
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is not None and (known := pending.inspections.get(inspection_id)):
            return known
        found = self.store.get_inspection(inspection_id)
        if found is not None and pending is not None:
            pending.inspections[inspection_id] = found
        if found is None:
            raise InspectionNotFound(
                inspection_id, msg("inspection_not_found", self.lang, id=inspection_id)
            )
        return found

    @_in_lang
    def inspections(self) -> list[Inspection]:
        """All inspections, in the order they were added."""
        return self.store.inspections()

    # -- findings

    @_in_lang
    def resolve_deadline(self, spec: object, inspection: Inspection) -> dt.date:
        """A deadline given as a date or relative to the feedback day.

        ``"2024-01-31"``, a ``date``, ``"10 working days"``, ``"2 months"``,
        ``"10个工作日"`` or ``"2个月"`` (counted from the inspection's feedback
        day through the policy's calendar).

        Raises:
            InvalidInput: When it is neither.
        """
        return deadline_of(spec, inspection.feedback_at, self.workflow.calendar, self.lang)

    @_in_lang
    def add_finding(
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
    ) -> Finding:
        """Put a finding (问题) on the ledger in state ``assigned``.

        Args:
            finding_id: Its id, e.g. ``"1.1.1"``.
            inspection: The inspection's id.
            title: The problem.
            kind: ``"immediate"``, ``"deadline"`` or ``"long_term"``.
            owner: Who answers for it.
            deadline: A date, or a period after the feedback day (``"2 months"``).
            actor: Who puts it on the ledger.
            aspect: 方面.
            category: 类别.
            measures: Its measures.
            itemized: False for a problem counted in the feedback but not described.
            at: When (default: now).

        Raises:
            InvalidInput: For malformed arguments.
            InspectionNotFound: For an unknown inspection.
            DuplicateId: When the id exists.
            RuleViolation: When *at* is before the feedback day or in the future.
        """
        event, finding = self._new_finding(
            finding_id,
            inspection=inspection,
            title=title,
            kind=kind,
            owner=owner,
            deadline=deadline,
            actor=actor,
            aspect=aspect,
            category=category,
            measures=measures,
            itemized=itemized,
            at=at,
        )
        self._admit(event, None)
        self._append(event, finding, 0)
        return finding

    def _new_finding(
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
        """``add_finding``'s checks: the ``add`` event and the new finding, not stored yet.

        *provenance* adds keys to the event's payload (imports record where the
        finding came from); *note* and *evidence* go on the event; *known* is the
        inspection when the caller has already looked it up; *known_new* says the
        caller has already found the id absent (under the same lock; the store
        checks again when it writes).
        """
        self._require_text(finding_id, "finding_id")
        self._require_text(title, "title")
        self._require_text(actor, "actor")
        if not isinstance(owner, Owner):
            raise InvalidInput(
                msg("bad_value", self.lang, field="owner", value=owner), field="owner"
            )
        owner = owner_of(owner, self.lang)
        actor = normalize_name(actor)
        measures = tuple(measures)
        validate_definition(kind=kind, measures=measures, lang=self.lang)
        insp = (
            known if known is not None and known.id == inspection else self.inspection(inspection)
        )
        when = self._at(at)
        due = deadline_of(deadline, insp.feedback_at, self.workflow.calendar, self.lang)
        payload: dict[str, Any] = {
            "inspection": inspection,
            "aspect": aspect,
            "category": category,
            "title": title,
            "kind": kind,
            "owner": _codec.owner_dict(owner),
            "deadline": sys.intern(due.isoformat()),  # shared by findings due the same day
            "measures": [_codec.measure_dict(m) for m in measures],
            "itemized": bool(itemized),
            **(provenance or {}),
        }
        event = Event(
            finding_id, "add", when, actor, note, tuple(evidence), payload=payload, version=1
        )
        finding = self.workflow.create(event, lang=self.lang)
        day = local_date(when, self.policy.timezone)
        if day < insp.feedback_at:
            raise RuleViolation(
                "before_feedback",
                msg(
                    "rule.before_feedback",
                    self.lang,
                    finding=finding_id,
                    at=when,
                    feedback=insp.feedback_at,
                ),
                finding_id=finding_id,
                event="add",
            )
        self._not_in_future(when, finding_id, "add")
        if not known_new and self._current(finding_id) is not None:
            raise DuplicateId(finding_id, msg("duplicate_id", self.lang, id=finding_id))
        return event, finding

    @_in_lang
    def get(self, finding_id: str) -> Finding:
        """The finding's current record.

        Raises:
            FindingNotFound: When there is none.
        """
        found = self._current(finding_id)
        if found is None:
            raise FindingNotFound(finding_id, msg("finding_not_found", self.lang, id=finding_id))
        return found

    def __contains__(self, finding_id: object) -> bool:
        """Whether a finding with this id is on the ledger."""
        return isinstance(finding_id, str) and self._current(finding_id) is not None

    @_in_lang
    def findings(
        self, inspection: str | None = None, *, state: str | None = None
    ) -> Iterator[Finding]:
        """Current findings, optionally of one inspection and/or in one state."""
        if state is not None and state not in STATES:
            raise InvalidInput(
                msg("unknown_state", self.lang, value=state, known=", ".join(STATES)), field="state"
            )
        self._flush()
        if state is None:
            return self.store.findings(inspection)
        return self.store.select(AgendaQuery(inspection=inspection, states=frozenset({state})))

    @_in_lang
    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The finding's events, oldest first.

        Raises:
            FindingNotFound: When there is no such finding.
        """
        self._flush()
        events = self.store.history(finding_id) if finding_id != LEDGER else ()
        if not events:
            raise FindingNotFound(finding_id, msg("finding_not_found", self.lang, id=finding_id))
        return events

    @_in_lang
    def fire(
        self,
        finding_id: str,
        event: str,
        *,
        actor: str,
        at: dt.datetime | str | None = None,
        note: str | None = None,
        evidence: Iterable[str] | None = (),
        expected_version: int | None = None,
        **arguments: Any,
    ) -> Finding:
        """Apply an event to a finding and make it real.

        Args:
            finding_id: The finding.
            event: ``start``, ``stage``, ``submit``, ``sign_off``, ``reject``, ``recheck``,
                ``rebound``, ``extend``, ``spot_check``, ``cancel``, ``record_measure`` or
                ``amend``.
            actor: Who does it.
            at: When (aware time or ISO text with offset; default: now).
            note: A note (required by ``stage`` and ``reject``).
            evidence: References (required by ``stage``, ``submit``, ``recheck``, ``rebound``).
            expected_version: Fail with :class:`~rectflow.ConcurrencyConflict` unless the
                finding is at this version.
            **arguments: The event's own arguments: ``next_checkpoint`` (stage),
                ``deadline`` (rebound), ``requested_by``/``until``/``reason`` (extend),
                ``seed`` (spot_check), ``reason`` (cancel), ``measure`` (record_measure),
                ``changes`` (amend: ``{field: {"old": …, "new": …}}`` for aspect,
                category, title, kind, leader, department, person, deadline, measures).

        Returns:
            The finding after the event.

        Raises:
            InvalidInput: Malformed arguments.
            FindingNotFound: No such finding.
            TransitionNotAllowed: The event is not allowed in the current state.
            RuleViolation: A guard failed (``.rule`` names it).
            ConcurrencyConflict: The finding moved since it was read.
        """
        if event == "attest":  # written by an import only (its sheet attests the completion)
            raise InvalidInput(
                msg("rule.attest_import_only", self.lang, finding=finding_id), field="event"
            )
        if evidence is None:
            evidence = ()
        elif isinstance(evidence, str):
            evidence = (evidence,)
        try:
            evidence = tuple(evidence)
        except TypeError:
            raise InvalidInput(
                msg("bad_evidence", self.lang, value=evidence), field="evidence"
            ) from None
        if not all(isinstance(e, str) for e in evidence):  # blanks: evidence_required
            raise InvalidInput(msg("bad_evidence", self.lang, value=evidence), field="evidence")
        if expected_version is not None and (
            not isinstance(expected_version, int) or isinstance(expected_version, bool)
        ):
            raise InvalidInput(
                msg("bad_value", self.lang, field="expected_version", value=expected_version),
                field="expected_version",
            )
        if note is not None and not isinstance(note, str):
            raise InvalidInput(msg("bad_value", self.lang, field="note", value=note), field="note")
        payload = event_arguments(arguments, self.lang) if arguments else {}
        now = self._now()
        when = now if at is None else parse_time(at, "at", self.lang)
        # Built with its final version (the finding's next), so it is not copied again.
        known, tip = (
            self._current_and_tip(finding_id) if isinstance(finding_id, str) else (None, None)
        )
        new_event = Event(
            finding_id,
            str(event),
            when,
            normalize_name(actor) if isinstance(actor, str) else "",
            note,
            evidence,
            payload,
            0 if known is None else known.version + 1,
        )
        if known is None or expected_version is not None:  # else apply checks it first
            self.workflow.check_event(new_event, lang=self.lang)
        current = self.get(finding_id) if known is None else known
        if expected_version is not None and expected_version != current.version:
            raise ConcurrencyConflict(
                finding_id,
                expected_version,
                current.version,
                msg(
                    "conflict",
                    self.lang,
                    finding=finding_id,
                    expected=expected_version,
                    actual=current.version,
                ),
            )
        try:
            after = self.workflow.apply(current, new_event, now=now, lang=self.lang)
        except RuleViolation as exc:
            if exc.rule != "time_order" or expected_version is not None:
                raise  # with the current version in hand, no race was lost: a bad time
            raise self._time_conflict(current, when) from exc
        if new_event.name == "spot_check":
            self._check_draw(current, new_event)
        stored = new_event
        self._local.read_tip = tip  # read with the finding: the gate need not probe again
        try:
            self._admit(stored, current)
        finally:
            self._local.read_tip = None
        if self._before_write is not None:
            self._before_write()
        self._append(stored, after, current.version)
        return after

    @contextmanager
    def batch(self) -> Iterator[Ledger]:
        """Commit every change inside the block in one transaction, all or nothing.

        Writes inside the block are checked as they are made (every rule, the
        version, :meth:`_admit`) and buffered; reads inside the block see them.
        They reach the store in bulk (the store's ``append_many``) when the block
        ends, or earlier when a read needs the store or a ledger-level event
        (an actor, a role, an inspection) takes its place in the chain; a version
        conflict with another writer is still detected there, and then nothing of
        the block is stored. A batch inside another one joins it.
        """
        local = self._local
        if getattr(local, "pending", None) is not None:
            yield self
            return
        try:
            with self._write_block():  # other threads wait for the block
                local.pending = _Pending()
                try:
                    yield self
                    self._flush()
                finally:
                    local.pending = None
        except BaseException:
            # ledger-level events of the block were rolled back
            self._state, self._state_tip = None, None
            raise

    # -- replay, reports

    @_in_lang
    def as_of(
        self, as_of: dt.date | dt.datetime | str, inspection: str | None = None
    ) -> list[Finding]:
        """The findings as they stood at *as_of* (a day means its end), replayed from history."""
        cutoff = as_of_cutoff(as_of, self.policy.timezone, self.lang)
        return list(self._as_of(cutoff, inspection))

    def _as_of(
        self,
        cutoff: dt.datetime,
        inspection: str | None,
        rows: list[Finding] | None = None,
        histories: dict[str, list[Event]] | None = None,
    ) -> Iterator[Finding]:
        """The findings as they stood at *cutoff*: current rows, or replayed from history.

        *rows* and *histories* let a caller that read them already (the report) pass
        them in instead of reading them again.
        """
        self._flush()
        if rows is None:
            rows = list(self.store.findings(inspection))
            stale = [f for f in rows if f.updated_at is None or f.updated_at > cutoff]
            histories = self._histories(stale)
        for f in rows:
            if f.created_at is not None and f.created_at > cutoff:
                continue
            if f.updated_at is not None and f.updated_at <= cutoff:
                yield f
                continue
            history = histories[f.id] if histories is not None else self.store.history(f.id)
            events = [e for e in history if e.at <= cutoff]
            replayed = self.workflow.replay(events, check=False)
            if replayed is not None:
                yield replayed

    def _inspections_as_of(self, cutoff: dt.datetime, inspection: str | None) -> list[Inspection]:
        """The inspections (one, or all) as they stood at *cutoff*, from the chain.

        Changes of the declared count or the feedback day and report submissions
        after *cutoff* are not applied: a past day is shown as it was.
        """
        current = [self.inspection(inspection)] if inspection is not None else self.inspections()
        if cutoff >= self._now():
            return current
        past = LedgerState.replay(e for e in self.store.ledger_events() if e.at <= cutoff)
        return [past.inspections.get(i.id, i) for i in current]

    def _histories(self, findings: list[Finding]) -> dict[str, list[Event]] | None:
        """The histories of many *findings* read in one pass over the chain, or None.

        A durable store answers one query per history; past a few hundred
        findings one read of the chain is cheaper. None: ask per finding.
        """
        if len(findings) < _SCAN_ABOVE or isinstance(self.store, MemoryStore):
            return None
        out: dict[str, list[Event]] = {f.id: [] for f in findings}
        for entry in self.store.chain():
            events = out.get(entry.event.finding_id)
            if events is not None:
                events.append(entry.event)
        for events in out.values():
            events.sort(key=lambda e: e.version)
        return out

    @_in_lang
    def report(
        self,
        inspection: str,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        lang: str | None = None,
    ) -> Report:
        """The progress report (整改进展情况报告) of *inspection* as of a day.

        Args:
            inspection: The inspection's id.
            as_of: A day (its end counts) or an aware time; default: now.
            lang: Default language of the rendered text.

        Returns:
            A :class:`~rectflow.Report`.
        """
        if lang is not None and lang not in LANGS:
            raise InvalidInput(msg("unknown_lang", self.lang, value=lang), field="lang", value=lang)
        self.inspection(inspection)
        cutoff = (
            self._now() if as_of is None else as_of_cutoff(as_of, self.policy.timezone, self.lang)
        )
        [insp] = self._inspections_as_of(cutoff, inspection)
        self._flush()
        rows = list(self.store.findings(inspection))
        histories = self._histories(rows)  # one pass over the chain serves both uses
        findings = list(self._as_of(cutoff, inspection, rows, histories))
        events = [
            e
            for f in findings
            for e in (histories[f.id] if histories is not None else self.store.history(f.id))
            if e.at <= cutoff
        ]
        data = build_report(insp, findings, cutoff, self.policy, self.workflow.calendar, events)
        return Report(data, lang or self.lang)

    @_in_lang
    def agenda(
        self,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        inspection: str | None = None,
        upcoming: int = 0,
    ) -> Agenda:
        """What is overdue, due soon, to be looked back at, or missed, as of a day.

        Args:
            as_of: A day (its end counts) or an aware time; default: now. As of any
                instant not before the ledger's latest event (now, or a past day after
                it, whatever the clock) the store's indexes answer; an earlier one is
                replayed from history. (PostgreSQL: the indexes answer as of now or later.)
            inspection: Only this inspection.
            upcoming: Also list the next *upcoming* dates beyond the reminder window
                (scans the findings: meant for one inspection, not a million).

        Returns:
            An :class:`~rectflow.Agenda`.
        """
        cutoff = (
            self._now() if as_of is None else as_of_cutoff(as_of, self.policy.timezone, self.lang)
        )
        if not isinstance(upcoming, int) or upcoming < 0:
            raise InvalidInput(
                msg("bad_value", self.lang, field="upcoming", value=upcoming), field="upcoming"
            )
        inspections = self._inspections_as_of(cutoff, inspection)
        self._flush()  # the indexes answer: a running batch's writes must be in the store
        return Agenda.of(
            build_agenda(
                policy=self.policy,
                calendar=self.workflow.calendar,
                inspections=inspections,
                cutoff=cutoff,
                indexed=self.store if self._indexed_at(cutoff) else None,
                replayed=lambda: self._as_of(cutoff, inspection),
                inspection=inspection,
                upcoming=upcoming,
            )
        )

    def _indexed_at(self, cutoff: dt.datetime) -> bool:
        """Whether the store's indexes answer as of *cutoff*: no event is later than it.

        True as of now or later (no event may be in the clock's future), and as of
        any earlier instant that is not before the ledger's latest event, whatever
        the clock (a store that cannot say its latest event's time: only the former).
        """
        if cutoff >= self._now():
            return True
        latest_at = getattr(self.store, "latest_at", None)
        if latest_at is None:
            return False
        latest = latest_at()
        return latest is None or latest <= cutoff

    @_in_lang
    def draw_spot_checks(
        self,
        inspection: str,
        *,
        k: int | None = None,
        seed: int | None = None,
        as_of: dt.date | str | None = None,
    ) -> SpotCheckDraw:
        """Draw a reproducible random sample of completed/rechecked findings.

        Args:
            inspection: The inspection.
            k: Sample size (default: the policy's ``spot_check_sample``).
            seed: The draw's seed (default: a fresh random one, returned in the result).
            as_of: The day whose population is drawn from (default: today).

        Returns:
            The draw, with its seed; fire ``spot_check`` with ``seed=draw.seed``.
        """
        self.inspection(inspection)
        k = self.policy.spot_check_sample if k is None else k
        if not isinstance(k, int) or k < 0:
            raise InvalidInput(msg("bad_value", self.lang, field="k", value=k), field="k")
        if seed is None:
            seed = secrets.randbelow(2**63)
        day = (
            local_date(self._now(), self.policy.timezone)
            if as_of is None
            else parse_date(as_of, "as_of", self.lang)
        )
        cutoff = as_of_cutoff(day, self.policy.timezone, self.lang)
        population = tuple(
            sorted(f.id for f in self._as_of(cutoff, inspection) if f.state in DONE_STATES)
        )
        drawn = tuple(random.Random(seed).sample(population, min(k, len(population))))  # noqa: S311
        return SpotCheckDraw(inspection, seed, k, day, population, drawn)

    # -- actors, roles, inspection changes, reports (issue 8)

    @_in_lang
    def add_actor(
        self,
        name: str,
        *,
        roles: Iterable[str] | str,
        inspection: str | None = None,
        actor: str | None = None,
        at: dt.datetime | str | None = None,
        note: str | None = None,
    ) -> Actor:
        """Register *name* with *roles*, as an event on the chain.

        The first call puts the ledger in roles mode for good: from then on every
        event must come from a registered actor holding, at the event's time, a
        role the policy names for it (see the README's "Who may do what").
        Calling it again for a registered name grants more roles.

        Args:
            name: The actor's name, as events will carry it.
            roles: ``inspector``, ``leader``, ``owner``, ``checker`` (one or more).
            inspection: The inspection the roles apply to (default: every one).
            actor: Who registers them (in roles mode, a holder of an ``add_actor``
                role; the very first registration may be self-made).
            at: When (default: now); the roles cover events from then on.
            note: A note.

        Returns:
            The actor.

        Raises:
            InvalidInput: An unknown role, a role already held, an empty name.
            InspectionNotFound: An unknown inspection.
            PermissionDenied: *actor* may not register actors.
        """
        self._require_text(name, "name")
        if isinstance(roles, str):
            roles = (roles,)
        try:
            wanted = sorted({str(r) for r in roles})
        except TypeError:
            raise InvalidInput(msg("empty", self.lang, field="roles"), field="roles") from None
        if not wanted:
            raise InvalidInput(msg("empty", self.lang, field="roles"), field="roles")
        if inspection is not None:
            self.inspection(inspection)
        name = normalize_name(name)
        with self._lock:
            state = self._ledger_state()
            payload: dict[str, Any] = {"name": name, "roles": wanted, "inspection": inspection}
            if not state.roles_mode:
                payload["roles_mode"] = True
                actor = name if actor is None else actor
            self._record("add_actor", payload, actor, self._at(at), note=note)
            found = self._ledger_state().actor(name)
        assert found is not None  # noqa: S101
        return found

    @_in_lang
    def revoke_role(
        self,
        name: str,
        role: str,
        *,
        inspection: str | None = None,
        actor: str,
        at: dt.datetime | str | None = None,
        note: str | None = None,
    ) -> None:
        """Revoke *role* (for *inspection*, or ledger-wide) from *name*, as a chained event.

        The role stops working from the revocation on: no event after it in the
        chain is covered by it, whatever time it claims.

        Raises:
            InvalidInput: *name* does not hold that role there.
            PermissionDenied: *actor* may not revoke roles.
        """
        self._require_text(name, "name")
        self._require_text(role, "role")
        payload = {"name": normalize_name(name), "role": role, "inspection": inspection}
        self._record("revoke_role", payload, actor, self._at(at), note=note)

    @_in_lang
    def actors(self) -> list[Actor]:
        """The registered actors, in the order they were registered (from the chain)."""
        with self._lock:
            return list(self._ledger_state().actors.values())

    @_in_lang
    def grants(self, name: str | None = None) -> list[Grant]:
        """Role grants (revoked ones included, with their revocation), of *name* or all."""
        with self._lock:
            state = self._ledger_state()
            return list(state.grants if name is None else state.grants_of(name))

    @property
    def roles_mode(self) -> bool:
        """Whether the ledger has registered actors (then every event needs a role)."""
        with self._lock:
            return self._ledger_state().roles_mode

    @_in_lang
    def change_inspection(
        self,
        inspection_id: str,
        *,
        reason: str,
        declared_findings: int | None = None,
        feedback_at: dt.date | str | None = None,
        actor: str | None = None,
        at: dt.datetime | str | None = None,
        unit: str | None = None,
    ) -> Inspection:
        """Change an inspection's declared count, feedback day or unit, with a reason, on the chain.

        *unit* is the unit that rectifies and reports (填报单位), signed under the
        report (落款).

        Raises:
            InvalidInput: No change given, an empty reason, a malformed value.
            InspectionNotFound: An unknown inspection.
            PermissionDenied: *actor* may not change it.
        """
        self._require_text(reason, "reason")
        current = self.inspection(inspection_id)
        self._check_count(declared_findings)
        payload: dict[str, Any] = {"inspection": inspection_id, "reason": reason}
        if declared_findings is not None:
            payload["declared_findings"] = declared_findings
        if feedback_at is not None:
            payload["feedback_at"] = parse_date(feedback_at, "feedback_at", self.lang).isoformat()
        if unit is not None:
            self._require_text(unit, "unit")
            payload["unit"] = unit
        if len(payload) == 2:
            raise InvalidInput(
                msg("no_change", self.lang, inspection=inspection_id), field="declared_findings"
            )
        if "feedback_at" in payload:  # nothing already on the ledger may fall before it
            self._flush()
            feedback = dt.date.fromisoformat(payload["feedback_at"])
            for finding in self.store.findings(inspection_id):
                day = local_date(finding.created_at or self._now(), self.policy.timezone)
                if day < feedback:
                    raise RuleViolation(
                        "before_feedback",
                        msg(
                            "rule.findings_before_feedback",
                            self.lang,
                            inspection=inspection_id,
                            day=day,
                            feedback=feedback,
                        ),
                        event="change_inspection",
                    )
        self._record("change_inspection", payload, actor, self._at(at), note=reason)
        return self.inspection(current.id)

    @_in_lang
    def submit_report(
        self,
        inspection: str,
        *,
        actor: str,
        evidence: Iterable[str] | str,
        at: dt.datetime | str | None = None,
        note: str | None = None,
    ) -> Inspection:
        """Record that the progress report (整改进展情况报告) of *inspection* was submitted.

        The first submission clears the agenda's "report due" item.

        Args:
            inspection: The inspection.
            actor: Who submitted it (the policy's ``submit_report`` roles).
            evidence: References to the report (file names, URLs, hashed references).
            at: When (default: now).
            note: A note.

        Raises:
            RuleViolation: No evidence.
            InspectionNotFound: An unknown inspection.
            PermissionDenied: *actor* may not submit it.
        """
        self.inspection(inspection)
        refs = (evidence,) if isinstance(evidence, str) else tuple(evidence)
        if not refs or not all(isinstance(e, str) and e.strip() for e in refs):
            raise RuleViolation(
                "evidence_required",
                msg("empty", self.lang, field="evidence"),
                event="submit_report",
            )
        self._record("submit_report", {"inspection": inspection}, actor, self._at(at), note, refs)
        return self.inspection(inspection)

    @_in_lang
    def ledger_history(self) -> tuple[Event, ...]:
        """The ledger-level events (inspections, actors, roles, reports), oldest first."""
        return self.store.ledger_events()

    def _ledger_state(
        self, *, fresh: bool = False, tip: tuple[int, str] | None = None
    ) -> LedgerState:
        """The ledger-level events replayed, kept in step with the store cheaply.

        Re-reads from the last event it knows: when that one is gone (a rolled-back
        block, another process's rollback), it replays everything again. While a
        table is imported (which writes no ledger-level event) the state read at its
        start is used for every event (unless *fresh*: the store's state as it is).
        *tip*: the store's ledger tip as the caller has just read it (else probed).
        Callers hold the ledger's lock while they use the state.
        """
        held: LedgerState | None = getattr(self._local, "held_state", None)
        if held is not None and not fresh:  # an import that writes no ledger-level event
            return held
        state, last = self._state, self._state_last
        if state is not None and self._state_tip is not None:
            probe = self.store.ledger_tip() if tip is None else tip
            if probe == self._state_tip:  # nothing new, nothing undone
                return state
            self._state_tip = None
        if state is not None and state.version > 0:
            newer = self.store.ledger_events(state.version - 1)
            if newer and newer[0] == last:
                for event in newer[1:]:
                    state.apply(event)
                self._state_last = newer[-1]
            else:
                state = None
        if state is None or state.version == 0:
            events = self.store.ledger_events()
            state = LedgerState.replay(events)
            self._state, self._state_last = state, (events[-1] if events else None)
        # The probe of the next call (unless a writer came between): the caller's, when
        # it is this state's.
        if tip is None or tip[0] != state.version:
            tip = self.store.ledger_tip()
        self._state_tip = tip if tip[0] == state.version else None
        return state

    def _record(
        self,
        name: str,
        payload: dict[str, Any],
        actor: str | None,
        when: dt.datetime,
        note: str | None = None,
        evidence: tuple[str, ...] = (),
        *,
        replay: bool = False,
    ) -> Event:
        """Check, chain and project one ledger-level event: the write path of this block.

        A new event records the digest of the ledger's policy (so that editing the
        stored policy shows in ``verify``); a replayed one (*replay*, from a file)
        is written exactly as it was recorded, its digest checked if it has one.
        """
        if note is not None and not isinstance(note, str):
            raise InvalidInput(msg("bad_value", self.lang, field="note", value=note), field="note")
        if not replay:
            payload = {**payload, "policy": self._policy_digest}
        who = normalize_name(actor) if isinstance(actor, str) else ""
        self._not_in_future(when, str(payload.get("inspection") or payload.get("name")), name)
        with self._write_block(transaction=False):  # the ledger-level state moves as one
            self._flush()  # a batch's buffered writes come first in the chain
            pending: _Pending | None = getattr(self._local, "pending", None)
            if pending is not None:
                pending.inspections.clear()  # an inspection may change with this event
            state = self._ledger_state()
            event = Event(LEDGER, name, when, who, note, evidence, payload, state.version + 1)
            self._admit(event, None)
            before_grants = {g.key: g for g in state.grants}
            try:
                with self._txn():
                    self._state_tip = None  # the next read checks the event is still there
                    self.store.append_record(event, state.version)
                    self._committed((event,))
                    state.apply(event)
                    self._state_last = event
                    self._project(event, state, before_grants)
            except BaseException:
                self._state, self._state_tip = None, None
                raise
        return event

    def _project(self, event: Event, state: LedgerState, before: dict[str, Grant]) -> None:
        """Write the rows an event changes (inspection, actor, grants) in its transaction."""
        inspection_id = event.payload.get("inspection")
        if event.name == "add_inspection":
            self.store.add_inspection(state.inspections[str(inspection_id)])
        elif event.name in ("change_inspection", "submit_report"):
            self.store.replace_inspection(state.inspections[str(inspection_id)])
        elif event.name == "add_actor":
            found = state.actor(str(event.payload["name"]))
            assert found is not None  # noqa: S101
            self.store.put_record("actor", found.name, _codec.dumps(_codec.unstructure(found)))
        for grant in state.grants:
            if before.get(grant.key) != grant:
                self.store.put_record("grant", grant.key, _codec.dumps(_codec.unstructure(grant)))

    # -- after-commit hooks and the event cursor (issue 16)

    @_in_lang
    def subscribe(
        self, callback: Callable[[Event], object], events: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """Call *callback* with each event this ledger commits, after its commit.

        Never inside the transaction: a single write calls it once it is stored, a
        :meth:`batch` and an import once the whole block has committed (nothing
        for a block rolled back or a dry run). Once per event, in chain order, in
        the thread that wrote. A callback that raises is logged (logger
        ``"rectflow"``) and the others are still called; the commit stands.
        Events other processes write are not seen here: read them with
        :meth:`events_since`. Group writes with :meth:`batch` (a transaction
        opened on ``ledger.store`` directly is not known to the hooks).

        Args:
            callback: Called with each committed :class:`~rectflow.Event`.
            events: Only events of these names (``"sign_off"``, ``"add"``,
                ``"add_inspection"`` …); default: all.

        Returns:
            A function that unsubscribes it (calling it twice is harmless).

        Raises:
            InvalidInput: *callback* is not callable or *events* not names.
        """
        if not callable(callback):
            raise InvalidInput(
                msg("bad_value", self.lang, field="callback", value=callback), field="callback"
            )
        names: frozenset[str] | None = None
        if events is not None:
            wanted = (events,) if isinstance(events, str) else events
            try:
                names = frozenset(wanted)
            except TypeError:
                names = None
            if names is None or not all(isinstance(n, str) and n for n in names):
                raise InvalidInput(
                    msg("bad_value", self.lang, field="events", value=events), field="events"
                )
        subscriber = _Subscriber(callback, names)
        with self._subscribers_lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._subscribers_lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    @_in_lang
    def events_since(self, cursor: int = 0, *, limit: int = 1000) -> EventPage:
        """The committed events after *cursor*, and the cursor to ask for next.

        The cursor is the chain's sequence number (0: from the start), so it is
        stable across processes and restarts, on every backend: keep it, and ask
        again later for what was committed meanwhile, by any process. Every backend
        appends to the chain one writer at a time, so an entry is never committed
        behind a cursor already handed out: polling misses nothing.

        Args:
            cursor: The ``cursor`` of the previous page (0 for the first).
            limit: At most this many entries (1 to 10 000).

        Returns:
            An :class:`EventPage` (``entries, cursor``); fewer than *limit*
            entries means the page reached the chain's end.

        Raises:
            InvalidInput: A cursor that is not a non-negative int, or a bad limit.
        """
        for field, value, low in (("cursor", cursor, 0), ("limit", limit, 1)):
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or value < low
                or (field == "limit" and value > _MAX_PAGE)
            ):
                raise InvalidInput(
                    msg("bad_value", self.lang, field=field, value=value), field=field, value=value
                )
        self._flush()
        entries = tuple(self.store.chain_after(cursor, limit))
        return EventPage(entries, entries[-1].seq if entries else cursor)

    @contextmanager
    def _txn(self) -> Iterator[None]:
        """The store's transaction; the outermost one hands its events to the subscribers."""
        local = self._local
        depth = getattr(local, "depth", 0)
        local.depth = depth + 1
        committed = False
        try:
            with self.store.transaction():
                yield
            committed = True
        finally:
            local.depth = depth
            if depth == 0:
                outbox: list[Event] = getattr(local, "outbox", None) or []
                local.outbox = None
                if committed and outbox:
                    if getattr(local, "blocks", 0):  # delivered once the ledger lock is left
                        local.ready = [*(getattr(local, "ready", None) or ()), *outbox]
                    else:
                        self._deliver(outbox)

    @contextmanager
    def _write_block(self, *, transaction: bool = True) -> Iterator[None]:
        """The ledger lock (and the store's transaction); subscribers called after both."""
        local = self._local
        blocks = getattr(local, "blocks", 0)
        local.blocks = blocks + 1
        try:
            with self._lock:
                if transaction:
                    with self._txn():
                        yield
                else:
                    yield
        finally:
            local.blocks = blocks
        ready = getattr(local, "ready", None) if blocks == 0 else None
        if ready:
            local.ready = None
            self._deliver(ready)

    def _committed(self, events: Iterable[Event]) -> None:
        """Note events just written: delivered now, or when the outermost transaction commits."""
        if not self._subscribers:
            return
        local = self._local
        if getattr(local, "depth", 0) == 0:
            self._deliver(list(events))
            return
        outbox: list[Event] | None = getattr(local, "outbox", None)
        if outbox is None:
            local.outbox = outbox = []
        outbox.extend(events)

    def _deliver(self, events: list[Event]) -> None:
        """Call every subscriber for each event; a failing one is logged, never raised."""
        subscribers = self._subscribers
        for event in events:
            for subscriber in subscribers:
                if subscriber.names is not None and event.name not in subscriber.names:
                    continue
                try:
                    subscriber.callback(event)
                except Exception:  # noqa: BLE001 - a subscriber's failure never undoes a commit
                    _log.exception(
                        "rectflow: subscriber %r failed on %s of %r (the commit stands)",
                        subscriber.callback,
                        event.name,
                        event.finding_id,
                    )

    # -- integrity

    @_in_lang
    def head(self) -> Head:
        """``(count, hash)`` of the event chain: keep it elsewhere as an anchor."""
        self._flush()
        return self.store.head()

    @_in_lang
    def signed_head(self, key: bytes | str) -> SignedHead:
        """The head with an HMAC-SHA256 over it, keyed by *key* (never stored in the ledger).

        Keep ``str(signed)`` (``COUNT:HASH:MAC``) elsewhere: someone who can write
        the database but lacks the key cannot forge a head that verifies.
        """
        return sign_head(self.head(), key, self.lang)

    @_in_lang
    def verify(
        self,
        anchor: Head | tuple[int, str] | SignedHead | str | None = None,
        *,
        key: bytes | str | None = None,
        evidence_dir: str | None = None,
    ) -> Verification:
        """Recompute the hash chain and replay every finding, actor, role and inspection.

        Args:
            anchor: A head kept from earlier (``(count, hash)``, a :class:`SignedHead`,
                or the text ``COUNT:HASH`` / ``COUNT:HASH:MAC``); with it truncation
                is detected too.
            key: The HMAC key a signed anchor is checked with (a forged one is reported).
            evidence_dir: A folder of evidence files: every reference carrying a
                SHA-256 is re-hashed from there; changed and missing files are reported.

        Returns:
            A :class:`~rectflow.Verification`; truthy when everything checks.

        Raises:
            InvalidInput: A malformed anchor, or a signed anchor without *key*.
        """
        signed = parse_anchor(anchor, self.lang) if anchor is not None else None
        self._flush()
        with self.store.transaction():  # one snapshot: writers wait, no false alarms
            entries = list(self.store.chain())
            rows = list(self.store.findings())
            inspections = self.store.inspections()
            records = {kind: self.store.records(kind) for kind in ("actor", "grant")}
        plain = None if signed is None else Head(signed.count, signed.hash)
        result = verify_chain(entries, rows, self.workflow, plain, self.lang)
        extra = ledger_problems(entries, inspections, records, self.policy, self.lang)
        if signed is not None:
            extra += anchor_problems(signed, key, self.lang)
        if evidence_dir is not None:
            extra += evidence_problems(entries, evidence_dir, self.lang)
        return with_problems(result, extra)

    # -- helpers

    def _check_draw(self, finding: Finding, event: Event) -> None:
        """A spot check that names its draw (``k`` and ``drawn_on``) must be one it drew.

        With both given the draw is redone from the record, as an auditor would; a
        check naming only its seed is accepted as recorded.
        """
        seed, k, drawn_on = (event.payload.get(key) for key in ("seed", "k", "drawn_on"))
        if k is None and drawn_on is None:
            return
        picked = (
            isinstance(seed, int)
            and isinstance(k, int)
            and drawn_on is not None
            and finding.id
            in self.draw_spot_checks(
                finding.inspection, k=k, seed=seed, as_of=str(drawn_on)
            ).findings
        )
        if not picked:
            raise RuleViolation(
                "spot_check_draw",
                msg("rule.spot_check_draw", self.lang, finding=finding.id, seed=seed),
                finding_id=finding.id,
                event="spot_check",
            )

    def _admit(self, event: Event, before: Finding | None) -> None:
        """The one gate every write passes after the workflow's rules, before it is stored.

        *before* is the finding before *event* (None for ``add`` and for
        ledger-level events). The policy's separation of duties always; once
        the ledger has registered actors, the role the event needs, held by its
        actor at its time (:meth:`rectflow._roles.LedgerState.check`). The
        state is the ledger's as stored, which inside :meth:`batch` includes the
        ledger-level events the block wrote so far.

        When :meth:`fire` has just read the store's ledger tip with the finding
        (:meth:`Store.get_with_tip`), the state is checked against that read, not
        probed again.

        Raises:
            PermissionDenied: The actor may not fire the event.
        """
        tip: tuple[int, str] | None = getattr(self._local, "read_tip", None)
        with self._lock:
            self._ledger_state(tip=tip).check(event, before, self.policy, self.lang)

    def _time_conflict(self, current: Finding, when: dt.datetime) -> TimeOrderConflict:
        """The finding already has a later event than *when*: a race lost (one error: 409)."""
        previous = current.updated_at or current.created_at
        return TimeOrderConflict(
            current.id,
            current.version,
            at=when,
            previous=previous,
            message=msg(
                "time_conflict",
                self.lang,
                finding=current.id,
                at=when,
                previous=previous,
                version=current.version,
            ),
        )

    def _not_in_future(self, when: dt.datetime, subject: str, event: str) -> None:
        now = self._now()
        if when > now:
            raise RuleViolation(
                "not_in_future",
                msg("rule.not_in_future", self.lang, finding=subject, at=when, now=now),
                finding_id=subject,
                event=event,
            )

    def _current_and_tip(self, finding_id: str) -> tuple[Finding | None, tuple[int, str] | None]:
        """:meth:`_current`, and the store's ledger tip read with it (None inside a batch)."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is not None:
            return self._current(finding_id), None
        return self.store.get_with_tip(finding_id)

    def _current(self, finding_id: str) -> Finding | None:
        """The finding's row as this thread sees it: a running batch's buffer first."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is not None and (row := pending.rows.get(finding_id)) is not None:
            return row
        return self.store.get(finding_id)

    def _flush(self) -> None:
        """Hand a running batch's buffered writes to the store (in its transaction)."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is None or not pending.items:
            return
        items, rows, tip = pending.items, pending.rows, pending.tip
        pending.items, pending.rows, pending.tip = [], {}, None
        try:
            self._write(self._bulk(items, tip))
        except BaseException:  # still buffered: the batch fails as a whole at its end
            pending.items, pending.rows, pending.tip = items, rows, tip
            raise

    def _bulk(
        self, items: list[tuple[Event, Finding, int]], admitted_tip: tuple[int, str] | None
    ) -> Callable[[], None]:
        """The write of events admitted earlier (a batch's buffer, an import's plan).

        They are chained after whatever ledger-level events others committed
        since they were admitted: when the ledger's tip (*admitted_tip*; None:
        unknown) has moved, under the store's write lock and before anything is
        written, each is admitted again against the state as it now is (a role
        revoked before them refuses them all, and nothing is written).
        """

        def readmit() -> None:
            with self._lock:  # held already by the batch or import that writes
                state = self._ledger_state(fresh=True)
                if admitted_tip is not None and self._state_tip == admitted_tip:
                    return
                last: dict[str, Finding] = {}
                for event, finding, expected_version in items:
                    fid = event.finding_id
                    if fid in last:
                        before: Finding | None = last[fid]
                    else:  # the stored row (this bulk is not written yet)
                        before = None if expected_version == 0 else self.store.get(fid)
                    state.check(event, before, self.policy, self.lang)
                    last[fid] = finding

        def write() -> None:
            self.store.append_many(items, precondition=readmit)
            self._committed([event for event, _, _ in items])

        return write

    def _append(self, event: Event, finding: Finding, expected_version: int) -> None:
        """Store the event (inside a batch: buffer it), errors in the ledger's language."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is not None:
            if not pending.items:
                pending.tip = self._state_tip  # what the gate has just checked against
            pending.items.append((event, finding, expected_version))
            pending.rows[finding.id] = finding
            if len(pending.items) >= _FLUSH_EVERY:
                self._flush()
            return
        self._write(lambda: self.store.append(event, finding, expected_version))
        self._committed((event,))

    def _write(self, write: Callable[[], None]) -> None:
        """Run a store write, with a conflict reported in the ledger's language."""
        try:
            write()
        except ConcurrencyConflict as exc:
            raise ConcurrencyConflict(
                exc.finding_id,
                exc.expected,
                exc.actual,
                msg(
                    "conflict",
                    self.lang,
                    finding=exc.finding_id,
                    expected=exc.expected,
                    actual=exc.actual,
                ),
            ) from exc
        except DuplicateId as exc:
            raise DuplicateId(exc.id, msg("duplicate_id", self.lang, id=exc.id)) from exc
        except RectflowError as exc:  # a storage error, in the ledger's language
            exc._localize(self.lang)  # noqa: SLF001 - the ledger's boundary
            raise

    def _require_text(self, value: object, field: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(msg("empty", self.lang, field=field), field=field, value=value)

    # -- ledger files: import and export (issue 7)

    @_in_lang
    def import_file(
        self,
        path: str | os.PathLike[str],
        *,
        actor: str,
        format: str | None = None,  # noqa: A002 - the issue's name for it
        inspection: str | None = None,
        dry_run: bool = False,
        allow_extra_columns: bool = False,
        limits: FileLimits | None = None,
        progress: Callable[[int], None] | None = None,
        update: bool = False,
        allow_rebound: bool = False,
        at: dt.datetime | str | None = None,
        strict_columns: bool = False,
        state_from: str | None = None,
        feedback_at: dt.date | str | None = None,
        title: str | None = None,
        declared_findings: int | None = None,
        unit: str | None = None,
    ) -> ImportSummary:
        """Import a ledger file (整改台账): CSV, XLSX or YAML, all or nothing.

        The whole file is read and checked first (columns, cells, dates, ids, the
        workflow's rules for the history each row implies, the gate every write
        passes), then everything is written in one transaction, or nothing is.
        A row in a later state becomes explicit history: an ``add`` with
        ``imported`` provenance by *actor*, then the events its state implies.

        An office's sheet imports as it is: its header is found below title rows and
        matched by meaning (the policy's ``[policy.import]``), two-row headers are
        merged, blank, footer, section and repeated header rows are skipped and
        listed, unknown columns are kept as each finding's ``extra``, the state is
        read from the office's wording, and a row that says completed without naming
        a submitter or signer is completed by an ``attest`` event of *actor*
        (provenance ``attested_by_import``; in roles mode *actor* needs the sign-off
        role).

        Args:
            path: The file.
            actor: Who imports (the actor of the ``add`` and implied events).
            format: ``"csv"``, ``"xlsx"`` or ``"yaml"``; default: from the suffix.
            inspection: The inspection of every row (for files without that column);
                in a YAML file every finding must belong to it.
            dry_run: Check everything, write nothing.
            allow_extra_columns: Keep unknown columns (the default too, unless
                *strict_columns*).
            limits: Row, cell and error limits (default :class:`~rectflow.FileLimits`).
            progress: Called with the number of rows read so far (every 1000 rows).
            update: The monthly cycle (CSV, XLSX): match rows to findings by id and
                write only what changed since the ledger's state (a move forward
                fires the events it needs, changed text one ``amend`` per finding,
                new rows are added); moves back and findings missing from the
                sheet are listed, not applied.
            allow_rebound: With *update*, apply a move back from completed as a
                ``rebound`` even where the row does not record one.
            at: When the events the rows imply happen (a row's own 状态时间/销号时间
                still wins); default: the sheet's 填报时间 (the start of that day),
                else now.
            strict_columns: Refuse columns rectflow does not know.
            state_from: The header of the column the state is read from (default:
                状态, else 完成情况/整改进展).
            feedback_at: With *inspection*: create it when it is not on the ledger,
                with this feedback day.
            title: The created inspection's title (default: the sheet's title row).
            declared_findings: The created inspection's declared count.
            unit: The created inspection's 填报单位 (default: the sheet's).

        Returns:
            An :class:`~rectflow.ImportSummary`; with *update* an
            :class:`~rectflow.UpdateSummary` listing the changes per finding.

        Raises:
            LedgerFileError: The file does not import; ``.errors`` lists every problem.
            InvalidInput: An unknown format or a missing file.
            InspectionNotFound: *inspection* is not on the ledger.
            PermissionDenied: Another writer revoked a role the file's events need
                while it was read (they are admitted again before they are written).
        """
        if getattr(self._local, "pending", None) is not None:
            # An import is all or nothing on its own; inside a batch a dry run or a
            # refused file could not be undone apart from the batch's other writes.
            raise InvalidInput(msg("import_in_batch", self.lang), field="batch")
        file = pathlib.Path(path)
        empty_before = self.store.head().count == 0
        fmt = file_format(file, format)
        if fmt is None:
            raise InvalidInput(
                msg("file.unknown_format", self.lang, value=format or file.suffix),
                field="format",
                value=format,
            )
        if not file.is_file():
            raise InvalidInput(msg("file.not_found", self.lang, value=file), field="path")
        if update and fmt == "yaml":
            raise InvalidInput(msg("file.update_yaml", self.lang), field="update", value=True)
        self._require_text(actor, "actor")
        create = (
            inspection is not None
            and fmt != "yaml"
            and feedback_at is not None
            and self.store.get_inspection(inspection) is None
        )
        if inspection is not None and fmt != "yaml" and not create:  # YAML may bring it
            try:
                self.inspection(inspection)
            except InspectionNotFound as exc:
                key = "import_inspection_missing"
                missing = InspectionNotFound(inspection, msg(key, "zh", id=inspection))
                raise translate(missing, key, id=inspection) from exc
        when = None if at is None else parse_time(at, "at", self.lang)
        at_source = "at" if when is not None else ""
        limits = limits or FileLimits()
        issues = Issues(str(file), self.lang, limits.max_errors)
        try:  # a file that cannot be opened for lack of permission is not a damaged one
            file.open("rb").close()
        except PermissionError:
            issues.add(0, "", "no_permission", value=file)
            raise self._file_error(issues) from None
        inspections: dict[str, Inspection | None] = {}

        def known(inspection_id: str) -> Inspection | None:
            if inspection_id not in inspections:
                inspections[inspection_id] = self.store.get_inspection(inspection_id)
            return inspections[inspection_id]

        hooks = Hooks(
            workflow=self.workflow,
            inspection=known,
            existing=self.store.existing,
            new_finding=self._new_finding,
            new_inspection=self._new_inspection,
            resolve_deadline=self.resolve_deadline,
            admit=self._admit,
            now=self._now(),
            actor=normalize_name(actor),
            record=None,
            at=when,
        )
        created: list[Inspection] = []
        changes: list[Change] = []
        unchanged = 0
        on_ledger: dict[str, dict[str, Finding]] = {}

        def by_id(inspection_id: str) -> dict[str, Finding]:
            """An inspection's findings by id (an update reads each inspection once)."""
            if inspection_id not in on_ledger:
                found = self.store.findings(inspection_id)
                on_ledger[inspection_id] = {f.id: f for f in found}
            return on_ledger[inspection_id]

        planned_at: tuple[int, str] | None = None  # the ledger tip a table was planned at
        flushed = 0
        last_version: int | None = None  # the file's previous ledger version (renumbered here)

        def record(event: Event, planned: list[Item]) -> None:
            """A ledger-level event in its place: what was planned before it is written first."""
            nonlocal flushed, last_version
            previous, last_version = last_version, event.version
            if previous is not None and event.version != previous + 1:  # a gap or a swap
                raise InvalidInput(
                    msg("bad_value", self.lang, field="version", value=event.version),
                    field="version",
                    value=event.version,
                )
            if not issues and len(planned) > flushed:
                self._bulk(planned[flushed:], None)()
            flushed = len(planned)
            self._replay_ledger_event(event)
            if event.name == "add_inspection":
                inspection_id = str(event.payload.get("inspection"))
                inspections.pop(inspection_id, None)
                if (new := known(inspection_id)) is not None:
                    created.append(new)

        try:
            # ids checked and written under one lock; the collector paused meanwhile (see
            # _collector_paused)
            with self._write_block(), _collector_paused():
                if fmt == "yaml":
                    data = read_yaml(file, issues, limits)
                    if has_ledger_events(data):  # the chain itself recreates its inspections
                        check_header(data, issues)
                        hooks = attrs.evolve(hooks, record=record)
                    else:
                        created = plan_inspections(data, issues, hooks)
                        for new in created:  # on the chain; undone with the rest on error
                            assert new.created_at is not None  # noqa: S101
                            self._record(
                                "add_inspection", inspection_payload(new), actor, new.created_at
                            )
                            inspections[new.id] = new
                    items = plan_events(
                        data, issues, hooks, max_rows=limits.max_rows, inspection=inspection
                    )
                    events = data.get("events")
                    rows_read = len(events) if isinstance(events, list) else 0
                else:
                    table = read_tabular(
                        file,
                        fmt,
                        issues,
                        limits=limits,
                        tz=self.policy.timezone,
                        inspection=inspection,
                        allow_extra_columns=allow_extra_columns,
                        progress=progress,
                        words=self.policy.import_words,
                        strict_columns=strict_columns,
                        state_from=state_from,
                    )
                    head = table.head
                    if when is None and head is not None and head.filled_at is not None:
                        day = head.filled_at  # the sheet's own date: the start of that day
                        when = pendulum.datetime(
                            day.year, day.month, day.day, tz=self.policy.timezone
                        )
                        at_source = "sheet"
                    hooks = attrs.evolve(hooks, at=when)
                    if create and head is not None and inspection is not None:
                        new = self._import_inspection(
                            inspection,
                            title=title or head.title or inspection,
                            feedback_at=feedback_at,  # type: ignore[arg-type]
                            declared_findings=declared_findings,
                            unit=unit or head.unit or None,
                            at=when,
                            actor=actor,
                        )
                        created.append(new)
                        inspections[new.id] = new
                    # A table writes no other ledger-level event: while it is planned the
                    # gate reads the ledger's state once (checked again when it is written).
                    self._local.held_state = self._ledger_state()
                    planned_at = self._state_tip
                    if update:
                        items, changes, unchanged = plan_update(
                            table,
                            issues,
                            hooks,
                            file.name,
                            on_ledger=by_id,
                            allow_rebound=allow_rebound,
                        )
                    else:
                        items = plan_rows(table, issues, hooks, file.name)
                    rows_read = table.rows_read
                if issues:
                    raise self._file_error(issues)
                if dry_run:
                    raise _DryRun  # noqa: TRY301 - undo the staged inspections
                if len(items) > flushed:
                    self._bulk(items[flushed:], planned_at)()
                if fmt == "yaml" and empty_before:  # a whole ledger restored: the head it names
                    self._check_restored_head(data, issues)
        except _DryRun:
            pass
        finally:
            self._local.held_state = None
        last = {event.finding_id: finding for event, finding, _ in items}
        by_state: dict[str, int] = {}
        for finding in last.values():
            by_state[finding.state] = by_state.get(finding.state, 0) + 1
        figures: dict[str, Any] = {
            "file": str(file),
            "format": fmt,
            "rows_read": rows_read,
            "findings_added": sum(1 for event, _, _ in items if event.name == "add"),
            "events_added": len(items),
            "inspections_added": len(created),
            "by_state": {s: by_state[s] for s in STATES if s in by_state},
            "dry_run": dry_run,
            "completed_by_import": sum(1 for event, _, _ in items if event.name == "attest"),
        }
        if fmt != "yaml":
            figures |= {
                "skipped": tuple((s.row, s.reason, s.text) for s in table.skipped),
                "renumbered": table.renumbered,
                "at": (when or hooks.now).isoformat(),
                "at_source": at_source or "now",
                "no_evidence": tuple(hooks.warnings),
                "extra_columns": table.extra,
                "unit": table.head.unit if table.head is not None else "",
            }
        if update:
            return UpdateSummary(**figures, changes=tuple(changes), unchanged=unchanged)
        return ImportSummary(**figures)

    def _import_inspection(
        self,
        inspection_id: str,
        *,
        title: str,
        feedback_at: dt.date | str,
        declared_findings: int | None,
        unit: str | None,
        at: dt.datetime | None,
        actor: str,
    ) -> Inspection:
        """Create the inspection an import names (``--feedback-at``), on the chain."""
        new = self._new_inspection(
            inspection_id,
            title=title,
            feedback_at=feedback_at,
            declared_findings=declared_findings,
            at=at,
        )
        if unit and "unit" in attrs.fields_dict(Inspection):  # the 填报单位 (issue 14's unit)
            changes: dict[str, Any] = {"unit": unit}
            new = attrs.evolve(new, **changes)
        assert new.created_at is not None  # noqa: S101 - _new_inspection sets it
        self._record("add_inspection", inspection_payload(new), actor, new.created_at)
        return new

    @_in_lang
    def export_file(
        self,
        path: str | os.PathLike[str],
        *,
        format: str | None = None,  # noqa: A002 - the issue's name for it
        as_of: dt.date | dt.datetime | str | None = None,
        inspection: str | None = None,
    ) -> int:
        """Write the ledger to a file: CSV (UTF-8 with BOM), XLSX or YAML.

        CSV and XLSX hold the table (整改台账: one row per finding, Chinese
        headers, every text cell escaped against formula injection); YAML holds
        the inspections and every event in chain order, so importing it into an
        empty ledger gives the same events and the same head. The file is
        written beside *path* and moved into place when complete.

        Args:
            path: The file to write (replaced if it exists).
            format: ``"csv"``, ``"xlsx"`` or ``"yaml"``; default: from the suffix.
            as_of: The ledger as it stood then (a day means its end); default: now.
            inspection: Only this inspection.

        Returns:
            The number of rows (CSV, XLSX) or events (YAML) written.
        """
        if getattr(self._local, "pending", None) is not None:
            # An import is all or nothing on its own; inside a batch a dry run or a
            # refused file could not be undone apart from the batch's other writes.
            raise InvalidInput(msg("import_in_batch", self.lang), field="batch")
        file = pathlib.Path(path)
        fmt = file_format(file, format)
        if fmt is None:
            raise InvalidInput(
                msg("file.unknown_format", self.lang, value=format or file.suffix),
                field="format",
                value=format,
            )
        if inspection is not None:
            self.inspection(inspection)
        cutoff = None if as_of is None else as_of_cutoff(as_of, self.policy.timezone, self.lang)
        partial = file.with_name(f".{file.name}.partial")
        try:
            if fmt == "yaml":
                count = self._export_yaml(partial, cutoff, inspection)
            else:
                head = self._sheet_head(cutoff, inspection) if fmt == "xlsx" else None
                count = write_table(partial, fmt, self._export_rows(cutoff, inspection), head=head)
            partial.replace(file)
        finally:
            partial.unlink(missing_ok=True)
        return count

    def _sheet_head(self, cutoff: dt.datetime | None, inspection: str | None) -> SheetHead:
        """The title and 填报单位 / 填报时间 rows of an XLSX 台账."""
        chosen = self._inspections_as_of(cutoff or self.now(), inspection)
        title = "整改台账"
        if len(chosen) == 1:  # an imported sheet's own title already names its 台账
            own = chosen[0].title
            title = own if own.endswith("台账") else f"{own}反馈问题整改台账"
        units = {i.unit for i in chosen}
        return SheetHead(
            title=title,
            unit=units.pop() if len(units) == 1 else None,
            filled_at=local_date(cutoff or self.now(), self.policy.timezone),
            tz=self.policy.timezone,
            printed=PRINTED,
        )

    def _export_rows(
        self, cutoff: dt.datetime | None, inspection: str | None
    ) -> Iterator[tuple[Finding, tuple[Event, ...]]]:
        # in the order people read ids (1.2 before 1.10), not the store's text order
        if cutoff is None:
            for finding in sorted(self.store.findings(inspection), key=lambda f: id_key(f.id)):
                yield finding, self.store.history(finding.id)
            return
        for finding in sorted(self._as_of(cutoff, inspection), key=lambda f: id_key(f.id)):
            yield finding, tuple(e for e in self.store.history(finding.id) if e.at <= cutoff)

    def _export_yaml(
        self, file: pathlib.Path, cutoff: dt.datetime | None, inspection: str | None
    ) -> int:
        with self.store.transaction():  # one snapshot
            head = self.store.head()
            inspections = [
                i
                for i in self.inspections()
                if (inspection is None or i.id == inspection)
                and (cutoff is None or i.created_at is None or i.created_at <= cutoff)
            ]
            ids = None if inspection is None else {f.id for f in self.store.findings(inspection)}
            events = [
                entry.event
                for entry in self.store.chain()
                if (cutoff is None or entry.event.at <= cutoff)
                and (
                    ids is None
                    or entry.event.finding_id in ids
                    or (  # the inspection's own events travel with it; actors stay
                        entry.event.finding_id == LEDGER
                        and entry.event.name in _INSPECTION_EVENTS
                        and entry.event.payload.get("inspection") == inspection
                    )
                )
            ]
        ordered = _inspections_first(events)
        meta: dict[str, Any] = {"policy": self.policy.name}
        if cutoff is None and inspection is None and ordered is events:
            # the whole chain, as it is: a restore must reach this head
            meta["head"] = {"count": head.count, "hash": head.hash}
        events = ordered
        dump_yaml(file, inspections, events, meta)
        return len(events)

    def _check_restored_head(self, data: Any, issues: Issues) -> None:
        """A YAML file of a whole ledger names its head: restored into an empty one, it must match.

        Raises:
            LedgerFileError: The events imported hash to another head (the file was edited).
        """
        claimed = data.get("head") if isinstance(data, dict) else None
        if not isinstance(claimed, dict):
            return
        head = self.store.head()
        if (claimed.get("count"), claimed.get("hash")) != (head.count, head.hash):
            issues.add(
                0,
                "head",
                "head_mismatch",
                expected=f"{claimed.get('count')}:{claimed.get('hash')}",
                value=f"{head.count}:{head.hash}",
            )
            raise self._file_error(issues)

    def _replay_ledger_event(self, event: Event) -> None:
        """Write a ledger-level event read from a file exactly as recorded (same hash).

        It passes the gate like any other (``_record``) and takes the next
        ledger-level version here: into an empty ledger that is the version it
        had, so a whole ledger re-imported has the same head.

        Raises:
            InvalidInput: An unknown kind, or a payload its kind cannot read.
        """
        if event.name not in LEDGER_EVENTS:
            raise InvalidInput(
                msg("unknown_event", self.lang, value=event.name, known=", ".join(LEDGER_EVENTS)),
                field="event",
                value=event.name,
            )
        try:
            self._record(
                event.name,
                dict(event.payload),
                event.actor,
                event.at,
                event.note,
                event.evidence,
                replay=True,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, RectflowError):
                raise
            raise InvalidInput(
                msg("bad_value", self.lang, field="payload", value=exc), field="payload"
            ) from exc

    def _file_error(self, issues: Issues) -> LedgerFileError:
        lines = [msg("file.errors", self.lang, file=issues.file, n=issues.total)]
        errors = issues.sorted()
        lines.extend(str(issue) for issue in errors[:20])
        if issues.total > 20:
            lines.append("…")
        truncated = issues.stopped or issues.total > len(errors)
        if truncated:
            lines.append(msg("file.more_errors", self.lang, n=len(errors)))
        return LedgerFileError(issues.file, errors, "\n".join(lines), truncated=truncated)
