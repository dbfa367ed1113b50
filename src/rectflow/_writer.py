"""The write pipeline behind :class:`rectflow.Ledger`: admit, apply, buffer, append.

One :class:`Writer` per ledger owns the store, the ledger's lock, a running
batch's buffer (per thread), the ledger-level state replayed from the chain,
the gate every write passes (:meth:`Writer.admit`: separation of duties and
roles) and the subscribers called after each commit. The ledger's public
methods check and coerce their arguments and delegate here; the import and
export code (``rectflow._io``) uses the same typed methods
(:class:`rectflow._io.access.LedgerAccess`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
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
from rectflow._i18n import LANGS, msg
from rectflow._model import DONE_STATES, Event, Finding, Inspection, Measure, Owner
from rectflow._policy import Period, Policy, policy_digest, policy_from_mapping, policy_to_mapping
from rectflow._render.agenda import Agenda
from rectflow._render.report import Report
from rectflow._roles import LEDGER, Actor, Grant, LedgerState, inspection_payload
from rectflow._spec import WorkflowSpec
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
    with_problems,
)
from rectflow._views.report import build_report
from rectflow._views.verify import Verification, verify_chain
from rectflow._workflow import (
    Workflow,
    deadline_of,
    normalize_name,
    owner_of,
    spec_of,
    validate_definition,
)
from rectflow.exceptions import (
    ConcurrencyConflict,
    DuplicateId,
    FindingNotFound,
    InspectionNotFound,
    InvalidInput,
    PolicyError,
    RectflowError,
    RuleViolation,
    StorageError,
    TimeOrderConflict,
)

_FLUSH_EVERY = 10_000
_SCAN_ABOVE = 256
"""Above this many histories to read from a durable store, one pass over the chain does it."""
"""A batch hands its buffered writes to the store in bulks of this many."""


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


@attrs.frozen
class _Subscriber:
    """A callback of :meth:`Ledger.subscribe` and the event names it wants (None: all)."""

    callback: Callable[[Event], object]
    names: frozenset[str] | None


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


_Method = TypeVar("_Method", bound=Callable[..., Any])


def in_lang(method: _Method) -> _Method:
    """The ledger's boundary: an error leaving *method* speaks the ledger's language.

    Messages are made where they are raised (a store, the workflow, a policy);
    those that know both languages are shown here in the ledger's.
    """

    @functools.wraps(method)
    def in_lang(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except RectflowError as exc:
            exc._localize(self.lang)  # noqa: SLF001 - the boundary the method is for
            raise

    return cast("_Method", in_lang)


def recorded_policy(store: Store, asked: Policy | None, lang: str) -> Policy:
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


def open_store(target: str) -> Store:
    """The store at *target*: ``":memory:"``, a ``postgresql://`` URL or a SQLite file."""
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


class Writer:
    """A ledger's write pipeline: the store, the lock, the batch buffer, the gate, the hooks.

    Attributes:
        store: The storage backend.
        policy: The policy in force.
        workflow: The shared workflow (machine and rules).
        lang: Language of the errors it raises (the ledger's).
        lock: The ledger's lock: taken before the store's, by every use of the
            ledger-level state and around batches and imports (see durability.md).
        subscribers: The callbacks of ``Ledger.subscribe`` (replaced whole, never mutated).
    """

    def __init__(
        self,
        store: Store,
        *,
        policy: Policy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        workflow: Workflow | WorkflowSpec | str | os.PathLike[str] | None = None,
        lang: str = "zh",
    ) -> None:
        """The pipeline of ``Ledger(store, ...)``: its policy recorded, then enforced."""
        if lang not in LANGS:
            raise InvalidInput(msg("unknown_lang", "zh", value=lang), field="lang", value=lang)
        spec = None
        if workflow is not None and not isinstance(workflow, Workflow):
            try:
                spec = spec_of(workflow)  # a definition, its name or its file (issue 15)
            except RectflowError as exc:
                exc._localize(lang)  # noqa: SLF001 - the ledger's boundary
                raise
            workflow = None
        if workflow is not None and policy is not None and workflow.policy != policy:
            raise InvalidInput(
                msg("bad_value", lang, field="policy", value="≠ workflow.policy"), field="policy"
            )
        policy = recorded_policy(store, policy or (workflow.policy if workflow else None), lang)
        if workflow is not None and workflow.policy != policy:
            raise PolicyError(msg("policy_mismatch", lang, name=policy.name), field="policy")
        workflow = workflow or Workflow(policy, lang=lang, spec=spec)
        self.store = store
        self.policy = policy
        self.workflow = workflow
        self.lang = lang
        self._clock = clock or default_clock(policy.timezone)
        self._policy_digest = policy_digest(policy)  # recorded on ledger-level events
        self._state: LedgerState | None = None  # ledger-level events replayed (issue 8)
        self._state_last: Event | None = None
        self._state_tip: tuple[int, str] | None = None  # the store's ledger_tip() it is at
        self._local = threading.local()  # the running batch's buffer, per thread
        self.subscribers: tuple[_Subscriber, ...] = ()  # replaced whole, never mutated
        self.subscribers_lock = threading.Lock()
        # Threads share a ledger: this lock is taken before the store's, by every use of
        # the ledger-level state and around batch() and imports (see durability.md).
        self.lock = threading.RLock()
        self.before_write: Callable[[], None] | None = None  # test hook: widen the read-write gap

    # -- the work of the ledger's public methods

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
        """The work of ``Ledger.add_inspection``."""
        inspection = self.plan_inspection(
            inspection_id,
            title=title,
            feedback_at=feedback_at,
            declared_findings=declared_findings,
            at=at,
            unit=unit,
        )
        assert inspection.created_at is not None  # noqa: S101 - plan_inspection sets it
        payload = inspection_payload(inspection)
        self.record("add_inspection", payload, actor, inspection.created_at)
        return inspection

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
        """The work of ``Ledger.add_finding``."""
        event, finding = self.plan_finding(
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
        self.admit(event, None)
        self.append(event, finding, 0)
        return finding

    def findings(
        self, inspection: str | None = None, *, state: str | None = None
    ) -> Iterator[Finding]:
        """The work of ``Ledger.findings``."""
        if state is not None and state not in self.workflow.states:
            raise InvalidInput(
                msg("unknown_state", self.lang, value=state, known=", ".join(self.workflow.states)),
                field="state",
            )
        self.flush()
        if state is None:
            return self.store.findings(inspection)
        return self.store.select(AgendaQuery(inspection=inspection, states=frozenset({state})))

    def history_of(self, finding_id: str) -> Callable[[], tuple[Event, ...]]:
        """A finding's stored events, read only when a rule asks for them (``ctx.history``)."""

        def read() -> tuple[Event, ...]:
            self.flush()  # inside a batch: the buffered events first
            return tuple(self.store.history(finding_id))

        return read

    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The work of ``Ledger.history``."""
        self.flush()
        events = self.store.history(finding_id) if finding_id != LEDGER else ()
        if not events:
            raise FindingNotFound(finding_id, msg("finding_not_found", self.lang, id=finding_id))
        return events

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
        """The work of ``Ledger.fire``."""
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
        payload = self.workflow.arguments(str(event), arguments, self.lang) if arguments else {}
        now = self.now()
        when = now if at is None else parse_time(at, "at", self.lang)
        # Built with its final version (the finding's next), so it is not copied again.
        known, tip = (
            self.current_and_tip(finding_id) if isinstance(finding_id, str) else (None, None)
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
            after = self.workflow.apply(
                current, new_event, now=now, lang=self.lang, history=self.history_of(finding_id)
            )
        except RuleViolation as exc:
            if exc.rule != "time_order" or expected_version is not None:
                raise  # with the current version in hand, no race was lost: a bad time
            raise self.time_conflict(current, when) from exc
        if new_event.name == "spot_check":
            self.check_draw(current, new_event)
        stored = new_event
        self._local.read_tip = tip  # read with the finding: the gate need not probe again
        try:
            self.admit(stored, current)
        finally:
            self._local.read_tip = None
        if self.before_write is not None:
            self.before_write()
        self.append(stored, after, current.version)
        return after

    def report(
        self,
        inspection: str,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        lang: str | None = None,
    ) -> Report:
        """The work of ``Ledger.report``."""
        if lang is not None and lang not in LANGS:
            raise InvalidInput(msg("unknown_lang", self.lang, value=lang), field="lang", value=lang)
        self.inspection(inspection)
        cutoff = (
            self.now() if as_of is None else as_of_cutoff(as_of, self.policy.timezone, self.lang)
        )
        [insp] = self.inspections_as_of(cutoff, inspection)
        self.flush()
        rows = list(self.store.findings(inspection))
        histories = self.histories(rows)  # one pass over the chain serves both uses
        findings = list(self.as_of(cutoff, inspection, rows, histories))
        events = [
            e
            for f in findings
            for e in (histories[f.id] if histories is not None else self.store.history(f.id))
            if e.at <= cutoff
        ]
        data = build_report(
            insp,
            findings,
            cutoff,
            self.policy,
            self.workflow.calendar,
            events,
            states=self.workflow.spec.state_names,
        )
        return Report(data, lang or self.lang)

    def agenda(
        self,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        inspection: str | None = None,
        upcoming: int = 0,
    ) -> Agenda:
        """The work of ``Ledger.agenda``."""
        cutoff = (
            self.now() if as_of is None else as_of_cutoff(as_of, self.policy.timezone, self.lang)
        )
        if not isinstance(upcoming, int) or upcoming < 0:
            raise InvalidInput(
                msg("bad_value", self.lang, field="upcoming", value=upcoming), field="upcoming"
            )
        inspections = self.inspections_as_of(cutoff, inspection)
        self.flush()  # the indexes answer: a running batch's writes must be in the store
        return Agenda.of(
            build_agenda(
                policy=self.policy,
                calendar=self.workflow.calendar,
                inspections=inspections,
                cutoff=cutoff,
                indexed=self.store if self.indexed_at(cutoff) else None,
                replayed=lambda: self.as_of(cutoff, inspection),
                inspection=inspection,
                upcoming=upcoming,
            )
        )

    def draw_spot_checks(
        self,
        inspection: str,
        *,
        k: int | None = None,
        seed: int | None = None,
        as_of: dt.date | str | None = None,
    ) -> SpotCheckDraw:
        """The work of ``Ledger.draw_spot_checks``."""
        self.inspection(inspection)
        k = self.policy.spot_check_sample if k is None else k
        if not isinstance(k, int) or k < 0:
            raise InvalidInput(msg("bad_value", self.lang, field="k", value=k), field="k")
        if seed is None:
            seed = secrets.randbelow(2**63)
        day = (
            local_date(self.now(), self.policy.timezone)
            if as_of is None
            else parse_date(as_of, "as_of", self.lang)
        )
        cutoff = as_of_cutoff(day, self.policy.timezone, self.lang)
        population = tuple(
            sorted(f.id for f in self.as_of(cutoff, inspection) if f.state in DONE_STATES)
        )
        drawn = tuple(random.Random(seed).sample(population, min(k, len(population))))  # noqa: S311
        return SpotCheckDraw(inspection, seed, k, day, population, drawn)

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
        """The work of ``Ledger.add_actor``."""
        self.require_text(name, "name")
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
        with self.lock:
            state = self.ledger_state()
            payload: dict[str, Any] = {"name": name, "roles": wanted, "inspection": inspection}
            if not state.roles_mode:
                payload["roles_mode"] = True
                actor = name if actor is None else actor
            self.record("add_actor", payload, actor, self.at(at), note=note)
            found = self.ledger_state().actor(name)
        assert found is not None  # noqa: S101
        return found

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
        """The work of ``Ledger.revoke_role``."""
        self.require_text(name, "name")
        self.require_text(role, "role")
        payload = {"name": normalize_name(name), "role": role, "inspection": inspection}
        self.record("revoke_role", payload, actor, self.at(at), note=note)

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
        """The work of ``Ledger.change_inspection``."""
        self.require_text(reason, "reason")
        current = self.inspection(inspection_id)
        self.check_count(declared_findings)
        payload: dict[str, Any] = {"inspection": inspection_id, "reason": reason}
        if declared_findings is not None:
            payload["declared_findings"] = declared_findings
        if feedback_at is not None:
            payload["feedback_at"] = parse_date(feedback_at, "feedback_at", self.lang).isoformat()
        if unit is not None:
            self.require_text(unit, "unit")
            payload["unit"] = unit
        if len(payload) == 2:
            raise InvalidInput(
                msg("no_change", self.lang, inspection=inspection_id), field="declared_findings"
            )
        if "feedback_at" in payload:  # nothing already on the ledger may fall before it
            self.flush()
            feedback = dt.date.fromisoformat(payload["feedback_at"])
            for finding in self.store.findings(inspection_id):
                day = local_date(finding.created_at or self.now(), self.policy.timezone)
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
        self.record("change_inspection", payload, actor, self.at(at), note=reason)
        return self.inspection(current.id)

    def submit_report(
        self,
        inspection: str,
        *,
        actor: str,
        evidence: Iterable[str] | str,
        at: dt.datetime | str | None = None,
        note: str | None = None,
    ) -> Inspection:
        """The work of ``Ledger.submit_report``."""
        self.inspection(inspection)
        refs = (evidence,) if isinstance(evidence, str) else tuple(evidence)
        if not refs or not all(isinstance(e, str) and e.strip() for e in refs):
            raise RuleViolation(
                "evidence_required",
                msg("empty", self.lang, field="evidence"),
                event="submit_report",
            )
        self.record("submit_report", {"inspection": inspection}, actor, self.at(at), note, refs)
        return self.inspection(inspection)

    def events_since(self, cursor: int = 0, *, limit: int = 1000) -> EventPage:
        """The work of ``Ledger.events_since``."""
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
        self.flush()
        entries = tuple(self.store.chain_after(cursor, limit))
        return EventPage(entries, entries[-1].seq if entries else cursor)

    def verify(
        self,
        anchor: Head | tuple[int, str] | SignedHead | str | None = None,
        *,
        key: bytes | str | None = None,
        evidence_dir: str | None = None,
    ) -> Verification:
        """The work of ``Ledger.verify``."""
        signed = parse_anchor(anchor, self.lang) if anchor is not None else None
        self.flush()
        with self.store.transaction():  # one snapshot: writers wait, no false alarms
            entries = list(self.store.chain())
            rows = list(self.store.findings())
            inspections = self.store.inspections()
            records = {kind: self.store.records(kind) for kind in ("actor", "grant")}
        plain = None if signed is None else Head(signed.count, signed.hash)
        result = verify_chain(entries, rows, self.workflow, plain, self.lang)
        extra = ledger_problems(
            entries, inspections, records, self.policy, self.lang, self.workflow.spec
        )
        if signed is not None:
            extra += anchor_problems(signed, key, self.lang)
        if evidence_dir is not None:
            extra += evidence_problems(entries, evidence_dir, self.lang)
        return with_problems(result, extra)

    def check_draw(self, finding: Finding, event: Event) -> None:
        """The work of ``Ledger.fire`` for a ``spot_check``: a draw it names must be one it drew."""
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

    # -- reads that see a running batch

    def in_batch(self) -> bool:
        """Whether this thread runs a batch (its writes are buffered)."""
        return getattr(self._local, "pending", None) is not None

    def inspection(self, inspection_id: str) -> Inspection:
        """The inspection with this id (a running batch keeps what it read).

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

    def existing(self, ids: list[str]) -> set[str]:
        """Which of the finding *ids* are in the store (one read for many)."""
        return self.store.existing(ids)

    def resolve_deadline(self, spec: object, inspection: Inspection) -> dt.date:
        """A deadline given as a date or relative to *inspection*'s feedback day."""
        return deadline_of(spec, inspection.feedback_at, self.workflow.calendar, self.lang)

    # -- batches

    @contextmanager
    def batch(self) -> Iterator[None]:
        """``Ledger.batch``: buffer this thread's writes, hand them to the store at the end."""
        local = self._local
        if getattr(local, "pending", None) is not None:
            yield
            return
        try:
            with self.write_block():  # other threads wait for the block
                local.pending = _Pending()
                try:
                    yield
                    self.flush()
                finally:
                    local.pending = None
        except BaseException:
            # ledger-level events of the block were rolled back
            self._state, self._state_tip = None, None
            raise

    @contextmanager
    def held_state(self) -> Iterator[tuple[int, str] | None]:
        """The ledger-level state read once, for a plan that writes no ledger-level event.

        While a table is planned the gate reads the ledger's state once (it is
        checked again when the plan is written: :meth:`append_batch`). Yields the
        store's ledger tip that state is at (None: unknown).
        """
        self._local.held_state = self.ledger_state()
        try:
            yield self._state_tip
        finally:
            self._local.held_state = None

    def append_batch(
        self, items: list[tuple[Event, Finding, int]], admitted_tip: tuple[int, str] | None
    ) -> None:
        """Write events admitted earlier (an import's plan) now: see :meth:`bulk`."""
        self.bulk(items, admitted_tip)()

    # -- one event on a finding

    def get(self, finding_id: str) -> Finding:
        """The finding's current record (a running batch's buffer first).

        Raises:
            FindingNotFound: When there is none.
        """
        found = self.current(finding_id)
        if found is None:
            raise FindingNotFound(finding_id, msg("finding_not_found", self.lang, id=finding_id))
        return found

    # -- subscribers

    def subscribe(
        self, callback: Callable[[Event], object], events: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """The work of ``Ledger.subscribe``: returns the function that unsubscribes."""
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
        with self.subscribers_lock:
            self.subscribers = (*self.subscribers, subscriber)

        def unsubscribe() -> None:
            with self.subscribers_lock:
                self.subscribers = tuple(s for s in self.subscribers if s is not subscriber)

        return unsubscribe

    def now(self) -> pendulum.DateTime:
        """:meth:`now` inside the ledger (past its boundary)."""
        return parse_time(self._clock(), "clock", self.lang)

    def at(self, at: object) -> pendulum.DateTime:
        return self.now() if at is None else parse_time(at, "at", self.lang)

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
        self.require_text(inspection_id, "inspection_id")
        self.require_text(title, "title")
        if unit is not None:
            self.require_text(unit, "unit")
        feedback = parse_date(feedback_at, "feedback_at", self.lang)
        self.check_count(declared_findings)
        when = self.at(at)
        self.not_in_future(when, inspection_id, "add_inspection")
        if self.store.get_inspection(inspection_id) is not None:
            raise DuplicateId(inspection_id, msg("duplicate_id", self.lang, id=inspection_id))
        return Inspection(inspection_id, title, feedback, declared_findings, when, unit=unit)

    def check_count(self, declared_findings: object) -> None:
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
        """``add_finding``'s checks: the ``add`` event and the new finding, not stored yet.

        *provenance* adds keys to the event's payload (imports record where the
        finding came from); *note* and *evidence* go on the event; *known* is the
        inspection when the caller has already looked it up; *known_new* says the
        caller has already found the id absent (under the same lock; the store
        checks again when it writes).
        """
        self.require_text(finding_id, "finding_id")
        self.require_text(title, "title")
        self.require_text(actor, "actor")
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
        when = self.at(at)
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
        self.not_in_future(when, finding_id, "add")
        if not known_new and self.current(finding_id) is not None:
            raise DuplicateId(finding_id, msg("duplicate_id", self.lang, id=finding_id))
        return event, finding

    def as_of(
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
        self.flush()
        if rows is None:
            rows = list(self.store.findings(inspection))
            stale = [f for f in rows if f.updated_at is None or f.updated_at > cutoff]
            histories = self.histories(stale)
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

    def inspections_as_of(self, cutoff: dt.datetime, inspection: str | None) -> list[Inspection]:
        """The inspections (one, or all) as they stood at *cutoff*, from the chain.

        Changes of the declared count or the feedback day and report submissions
        after *cutoff* are not applied: a past day is shown as it was.
        """
        current = (
            [self.inspection(inspection)] if inspection is not None else self.store.inspections()
        )
        if cutoff >= self.now():
            return current
        past = LedgerState.replay(e for e in self.store.ledger_events() if e.at <= cutoff)
        return [past.inspections.get(i.id, i) for i in current]

    def histories(self, findings: list[Finding]) -> dict[str, list[Event]] | None:
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

    def indexed_at(self, cutoff: dt.datetime) -> bool:
        """Whether the store's indexes answer as of *cutoff*: no event is later than it.

        True as of now or later (no event may be in the clock's future), and as of
        any earlier instant that is not before the ledger's latest event, whatever
        the clock (a store that cannot say its latest event's time: only the former).
        """
        if cutoff >= self.now():
            return True
        latest_at = getattr(self.store, "latest_at", None)
        if latest_at is None:
            return False
        latest = latest_at()
        return latest is None or latest <= cutoff

    def ledger_state(
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

    def record(
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
        self.not_in_future(when, str(payload.get("inspection") or payload.get("name")), name)
        with self.write_block(transaction=False):  # the ledger-level state moves as one
            self.flush()  # a batch's buffered writes come first in the chain
            pending: _Pending | None = getattr(self._local, "pending", None)
            if pending is not None:
                pending.inspections.clear()  # an inspection may change with this event
            state = self.ledger_state()
            event = Event(LEDGER, name, when, who, note, evidence, payload, state.version + 1)
            self.admit(event, None)
            before_grants = {g.key: g for g in state.grants}
            try:
                with self.txn():
                    self._state_tip = None  # the next read checks the event is still there
                    self.store.append_record(event, state.version)
                    self.committed((event,))
                    state.apply(event)
                    self._state_last = event
                    self.project(event, state, before_grants)
            except BaseException:
                self._state, self._state_tip = None, None
                raise
        return event

    def project(self, event: Event, state: LedgerState, before: dict[str, Grant]) -> None:
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

    @contextmanager
    def txn(self) -> Iterator[None]:
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
                        self.deliver(outbox)

    @contextmanager
    def write_block(self, *, transaction: bool = True) -> Iterator[None]:
        """The ledger lock (and the store's transaction); subscribers called after both."""
        local = self._local
        blocks = getattr(local, "blocks", 0)
        local.blocks = blocks + 1
        try:
            with self.lock:
                if transaction:
                    with self.txn():
                        yield
                else:
                    yield
        finally:
            local.blocks = blocks
        ready = getattr(local, "ready", None) if blocks == 0 else None
        if ready:
            local.ready = None
            self.deliver(ready)

    def committed(self, events: Iterable[Event]) -> None:
        """Note events just written: delivered now, or when the outermost transaction commits."""
        if not self.subscribers:
            return
        local = self._local
        if getattr(local, "depth", 0) == 0:
            self.deliver(list(events))
            return
        outbox: list[Event] | None = getattr(local, "outbox", None)
        if outbox is None:
            local.outbox = outbox = []
        outbox.extend(events)

    def deliver(self, events: list[Event]) -> None:
        """Call every subscriber for each event; a failing one is logged, never raised."""
        subscribers = self.subscribers
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

    def admit(self, event: Event, before: Finding | None) -> None:
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
        with self.lock:
            self.ledger_state(tip=tip).check(
                event, before, self.policy, self.lang, self.workflow.spec
            )

    def time_conflict(self, current: Finding, when: dt.datetime) -> TimeOrderConflict:
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

    def not_in_future(self, when: dt.datetime, subject: str, event: str) -> None:
        now = self.now()
        if when > now:
            raise RuleViolation(
                "not_in_future",
                msg("rule.not_in_future", self.lang, finding=subject, at=when, now=now),
                finding_id=subject,
                event=event,
            )

    def current_and_tip(self, finding_id: str) -> tuple[Finding | None, tuple[int, str] | None]:
        """:meth:`_current`, and the store's ledger tip read with it (None inside a batch)."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is not None:
            return self.current(finding_id), None
        return self.store.get_with_tip(finding_id)

    def current(self, finding_id: str) -> Finding | None:
        """The finding's row as this thread sees it: a running batch's buffer first."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is not None and (row := pending.rows.get(finding_id)) is not None:
            return row
        return self.store.get(finding_id)

    def flush(self) -> None:
        """Hand a running batch's buffered writes to the store (in its transaction)."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is None or not pending.items:
            return
        items, rows, tip = pending.items, pending.rows, pending.tip
        pending.items, pending.rows, pending.tip = [], {}, None
        try:
            self._write(self.bulk(items, tip))
        except BaseException:  # still buffered: the batch fails as a whole at its end
            pending.items, pending.rows, pending.tip = items, rows, tip
            raise

    def bulk(
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
            with self.lock:  # held already by the batch or import that writes
                state = self.ledger_state(fresh=True)
                if admitted_tip is not None and self._state_tip == admitted_tip:
                    return
                last: dict[str, Finding] = {}
                for event, finding, expected_version in items:
                    fid = event.finding_id
                    if fid in last:
                        before: Finding | None = last[fid]
                    else:  # the stored row (this bulk is not written yet)
                        before = None if expected_version == 0 else self.store.get(fid)
                    state.check(event, before, self.policy, self.lang, self.workflow.spec)
                    last[fid] = finding

        def write() -> None:
            self.store.append_many(items, precondition=readmit)
            self.committed([event for event, _, _ in items])

        return write

    def append(self, event: Event, finding: Finding, expected_version: int) -> None:
        """Store the event (inside a batch: buffer it), errors in the ledger's language."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is not None:
            if not pending.items:
                pending.tip = self._state_tip  # what the gate has just checked against
            pending.items.append((event, finding, expected_version))
            pending.rows[finding.id] = finding
            if len(pending.items) >= _FLUSH_EVERY:
                self.flush()
            return
        self._write(lambda: self.store.append(event, finding, expected_version))
        self.committed((event,))

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

    def require_text(self, value: object, field: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(msg("empty", self.lang, field=field), field=field, value=value)

    # -- ledger files: import and export (issue 7)
