"""The Ledger: the public face of a rectification ledger (整改台账)."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import pendulum

from rectflow import _codec
from rectflow._i18n import LANGS, msg
from rectflow._model import DONE_STATES, STATES, Event, Finding, Inspection, Measure, Owner
from rectflow._policy import Period, Policy, policy_from_mapping, policy_to_mapping
from rectflow._store.base import AgendaQuery, Head, Store
from rectflow._store.memory import MemoryStore
from rectflow._time import as_of_cutoff, local_date, parse_date, parse_time
from rectflow._views.agenda import Agenda, build_agenda
from rectflow._views.report import Report, build_report
from rectflow._views.verify import Verification, verify_chain
from rectflow._workflow import Workflow, normalize_name, validate_definition
from rectflow.exceptions import (
    ConcurrencyConflict,
    DuplicateId,
    FindingNotFound,
    InspectionNotFound,
    InvalidInput,
    PolicyError,
    RuleViolation,
    StorageError,
)

_DATE_ARGS = frozenset({"next_checkpoint", "deadline", "until", "drawn_on"})
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
    """

    items: list[tuple[Event, Finding, int]] = attrs.Factory(list)
    rows: dict[str, Finding] = attrs.Factory(dict)
    inspections: dict[str, Inspection] = attrs.Factory(dict)


_DATE_TEXT = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


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
                "PostgreSQL needs the 'postgres' extra: pip install 'rectflow[postgres]'"
            ) from exc
        store: Store = PostgresStore(target)
        return store
    from rectflow._store.sqlite import SqliteStore  # noqa: PLC0415

    sqlite_store: Store = SqliteStore(target)
    return sqlite_store


class Ledger:
    """A rectification ledger: inspections, their findings, and every event.

    Open one with :meth:`open`; every change goes through :meth:`add_inspection`,
    :meth:`add_finding` and :meth:`fire`, which check the workflow's rules and
    write the event and the finding's new state in one transaction.

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
        self._clock = clock or (lambda: pendulum.now(tz))
        self._before_write: Callable[[], None] | None = None  # test hook: widen the read-write gap
        self._local = threading.local()  # the running batch's buffer, per thread

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
        return cls(
            _open_store(str(target)), policy=policy, clock=clock, workflow=workflow, lang=lang
        )

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

    def now(self) -> pendulum.DateTime:
        """The ledger clock's current time."""
        value = self._clock()
        return parse_time(value, "clock", self.lang)

    def _at(self, at: object) -> pendulum.DateTime:
        return self.now() if at is None else parse_time(at, "at", self.lang)

    # -- inspections

    def add_inspection(
        self,
        inspection_id: str,
        *,
        title: str,
        feedback_at: dt.date | str,
        declared_findings: int | None = None,
        at: dt.datetime | str | None = None,
    ) -> Inspection:
        """Put an inspection (巡察) on the ledger.

        Args:
            inspection_id: Its id, e.g. ``"R1"``.
            title: Its title.
            feedback_at: The day feedback was given (``"2023-11-23"``).
            declared_findings: How many problems the feedback declared.
            at: When it is recorded (default: now).

        Raises:
            InvalidInput: For malformed arguments.
            DuplicateId: When the id exists.
        """
        self._require_text(inspection_id, "inspection_id")
        self._require_text(title, "title")
        feedback = parse_date(feedback_at, "feedback_at", self.lang)
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
        when = self._at(at)
        self._not_in_future(when, inspection_id, "add_inspection")
        self._flush()
        if self.store.get_inspection(inspection_id) is not None:
            raise DuplicateId(inspection_id, msg("duplicate_id", self.lang, id=inspection_id))
        inspection = Inspection(inspection_id, title, feedback, declared_findings, when)
        self.store.add_inspection(inspection)
        return inspection

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

    def inspections(self) -> list[Inspection]:
        """All inspections, in the order they were added."""
        return self.store.inspections()

    # -- findings

    def resolve_deadline(self, spec: object, inspection: Inspection) -> dt.date:
        """A deadline given as a date or relative to the feedback day.

        ``"2024-01-31"``, a ``date``, ``"10 working days"``, ``"2 months"``,
        ``"10个工作日"`` or ``"2个月"`` (counted from the inspection's feedback
        day through the policy's calendar).

        Raises:
            InvalidInput: When it is neither.
        """
        if isinstance(spec, Period):
            return spec.after(inspection.feedback_at, self.workflow.calendar)
        if isinstance(spec, str) and not _DATE_TEXT.match(spec.strip()):
            try:
                period = Period.parse(spec)
            except InvalidInput as exc:
                raise InvalidInput(
                    msg("bad_deadline_spec", self.lang, field="deadline", value=spec),
                    field="deadline",
                    value=spec,
                ) from exc
            return period.after(inspection.feedback_at, self.workflow.calendar)
        return parse_date(spec, "deadline", self.lang)

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
        self._require_text(finding_id, "finding_id")
        self._require_text(title, "title")
        self._require_text(actor, "actor")
        if not isinstance(owner, Owner) or not all(
            isinstance(v, str) for v in (owner.leader, owner.department, owner.person)
        ):
            raise InvalidInput(
                msg("bad_value", self.lang, field="owner", value=owner), field="owner"
            )
        owner = Owner(*(normalize_name(v) for v in (owner.leader, owner.department, owner.person)))
        actor = normalize_name(actor)
        measures = tuple(measures)
        validate_definition(kind=kind, measures=measures, lang=self.lang)
        insp = self.inspection(inspection)
        when = self._at(at)
        due = self.resolve_deadline(deadline, insp)
        payload: dict[str, Any] = {
            "inspection": inspection,
            "aspect": aspect,
            "category": category,
            "title": title,
            "kind": kind,
            "owner": _codec.owner_dict(owner),
            "deadline": sys.intern(due.isoformat()),  # shared by findings due the same day
            "measures": [_codec.unstructure(m) for m in measures],
            "itemized": bool(itemized),
        }
        event = Event(finding_id, "add", when, actor, payload=payload, version=1)
        finding = self.workflow.create(event)
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
        if self._current(finding_id) is not None:
            raise DuplicateId(finding_id, msg("duplicate_id", self.lang, id=finding_id))
        self._admit(event, None)
        self._append(event, finding, 0)
        return finding

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

    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The finding's events, oldest first.

        Raises:
            FindingNotFound: When there is no such finding.
        """
        self._flush()
        events = self.store.history(finding_id)
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
        """Apply an event to a finding and make it real.

        Args:
            finding_id: The finding.
            event: ``start``, ``stage``, ``submit``, ``sign_off``, ``reject``, ``recheck``,
                ``rebound``, ``extend``, ``spot_check``, ``cancel`` or ``record_measure``.
            actor: Who does it.
            at: When (aware time or ISO text with offset; default: now).
            note: A note (required by ``stage`` and ``reject``).
            evidence: References (required by ``stage``, ``submit``, ``recheck``, ``rebound``).
            expected_version: Fail with :class:`~rectflow.ConcurrencyConflict` unless the
                finding is at this version.
            **arguments: The event's own arguments: ``next_checkpoint`` (stage),
                ``deadline`` (rebound), ``requested_by``/``until``/``reason`` (extend),
                ``seed`` (spot_check), ``reason`` (cancel), ``measure`` (record_measure).

        Returns:
            The finding after the event.

        Raises:
            InvalidInput: Malformed arguments.
            FindingNotFound: No such finding.
            TransitionNotAllowed: The event is not allowed in the current state.
            RuleViolation: A guard failed (``.rule`` names it).
            ConcurrencyConflict: The finding moved since it was read.
        """
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
        payload: dict[str, Any] = {}
        for key, value in arguments.items():
            if value is None:
                continue
            if key in _DATE_ARGS:
                payload[key] = parse_date(value, key, self.lang).isoformat()
            elif key in ("seed", "k"):
                if (
                    not isinstance(value, (int, str))
                    or isinstance(value, bool)
                    or (key == "k" and not isinstance(value, int))
                ):
                    raise InvalidInput(
                        msg("bad_value", self.lang, field=key, value=value), field=key
                    )
                payload[key] = value
            elif key == "requested_by" and isinstance(value, str):
                payload[key] = normalize_name(value)
            else:
                payload[key] = str(value)
        now = self.now()
        when = now if at is None else parse_time(at, "at", self.lang)
        # Built with its final version (the finding's next), so it is not copied again.
        known = self._current(finding_id) if isinstance(finding_id, str) else None
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
        self.workflow.check_event(new_event)
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
        after = self.workflow.apply(current, new_event, now=now)
        if new_event.name == "spot_check":
            self._check_draw(current, new_event)
        stored = new_event
        self._admit(stored, current)
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
        ends, or earlier when a read needs the store; a version conflict with
        another writer is still detected there, and then nothing of the block is
        stored. A batch inside another one joins it.
        """
        local = self._local
        if getattr(local, "pending", None) is not None:
            yield self
            return
        with self.store.transaction():
            local.pending = _Pending()
            try:
                yield self
                self._flush()
            finally:
                local.pending = None

    # -- replay, reports

    def as_of(
        self, as_of: dt.date | dt.datetime | str, inspection: str | None = None
    ) -> list[Finding]:
        """The findings as they stood at *as_of* (a day means its end), replayed from history."""
        cutoff = as_of_cutoff(as_of, self.policy.timezone, self.lang)
        return list(self._as_of(cutoff, inspection))

    def _as_of(self, cutoff: dt.datetime, inspection: str | None) -> Iterator[Finding]:
        self._flush()
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
        insp = self.inspection(inspection)
        cutoff = (
            self.now() if as_of is None else as_of_cutoff(as_of, self.policy.timezone, self.lang)
        )
        findings = list(self._as_of(cutoff, inspection))
        return build_report(
            insp, findings, cutoff, self.policy, self.workflow.calendar, lang or self.lang
        )

    def agenda(
        self,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        inspection: str | None = None,
        upcoming: int = 0,
    ) -> Agenda:
        """What is overdue, due soon, to be looked back at, or missed, as of a day.

        Args:
            as_of: A day (its end counts) or an aware time; default: now. As of now
                the store's indexes answer; a past day is replayed from history.
            inspection: Only this inspection.
            upcoming: Also list the next *upcoming* dates beyond the reminder window
                (scans the findings: meant for one inspection, not a million).

        Returns:
            An :class:`~rectflow.Agenda`.
        """
        cutoff = (
            self.now() if as_of is None else as_of_cutoff(as_of, self.policy.timezone, self.lang)
        )
        if not isinstance(upcoming, int) or upcoming < 0:
            raise InvalidInput(
                msg("bad_value", self.lang, field="upcoming", value=upcoming), field="upcoming"
            )
        inspections = (
            [self.inspection(inspection)] if inspection is not None else self.inspections()
        )
        self._flush()  # the indexes answer: a running batch's writes must be in the store
        return build_agenda(
            policy=self.policy,
            calendar=self.workflow.calendar,
            inspections=inspections,
            cutoff=cutoff,
            indexed=self.store if cutoff >= self.now() else None,
            replayed=lambda: self._as_of(cutoff, inspection),
            inspection=inspection,
            upcoming=upcoming,
        )

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
            local_date(self.now(), self.policy.timezone)
            if as_of is None
            else parse_date(as_of, "as_of", self.lang)
        )
        cutoff = as_of_cutoff(day, self.policy.timezone, self.lang)
        population = tuple(
            sorted(f.id for f in self._as_of(cutoff, inspection) if f.state in DONE_STATES)
        )
        drawn = tuple(random.Random(seed).sample(population, min(k, len(population))))  # noqa: S311
        return SpotCheckDraw(inspection, seed, k, day, population, drawn)

    # -- integrity

    def head(self) -> Head:
        """``(count, hash)`` of the event chain: keep it elsewhere as an anchor."""
        self._flush()
        return self.store.head()

    def verify(self, anchor: Head | tuple[int, str] | None = None) -> Verification:
        """Recompute the hash chain and replay every finding.

        Args:
            anchor: A head kept from earlier; with it truncation is detected too.

        Returns:
            A :class:`~rectflow.Verification`; truthy when everything checks.
        """
        self._flush()
        with self.store.transaction():  # one snapshot: writers wait, no false alarms
            entries = list(self.store.chain())
            rows = list(self.store.findings())
        return verify_chain(entries, rows, self.workflow, anchor)

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

        *before* is the finding before *event* (None for ``add``). Today the
        workflow's separation-of-duty rules are the whole check; who may fire
        what (roles) is decided here, for every entry point alike.
        """

    def _not_in_future(self, when: dt.datetime, subject: str, event: str) -> None:
        now = self.now()
        if when > now:
            raise RuleViolation(
                "not_in_future",
                msg("rule.not_in_future", self.lang, finding=subject, at=when, now=now),
                finding_id=subject,
                event=event,
            )

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
        items, rows = pending.items, pending.rows
        pending.items, pending.rows = [], {}
        try:
            self._write(lambda: self.store.append_many(items))
        except BaseException:  # still buffered: the batch fails as a whole at its end
            pending.items, pending.rows = items, rows
            raise

    def _append(self, event: Event, finding: Finding, expected_version: int) -> None:
        """Store the event (inside a batch: buffer it), errors in the ledger's language."""
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is not None:
            pending.items.append((event, finding, expected_version))
            pending.rows[finding.id] = finding
            if len(pending.items) >= _FLUSH_EVERY:
                self._flush()
            return
        self._write(lambda: self.store.append(event, finding, expected_version))

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

    def _require_text(self, value: object, field: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(msg("empty", self.lang, field=field), field=field, value=value)
