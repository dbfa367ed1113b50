"""The Ledger: the public face of a rectification ledger (整改台账)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pendulum

from rectflow._io.cells import FileLimits
from rectflow._io.export import export_file
from rectflow._io.files import ImportSummary
from rectflow._io.importing import import_file
from rectflow._model import Event, Finding, Inspection, Measure, Owner
from rectflow._policy import Period, Policy
from rectflow._render.agenda import Agenda
from rectflow._render.report import Report
from rectflow._roles import Actor, Grant
from rectflow._spec import WorkflowSpec
from rectflow._store.base import Head, Store
from rectflow._time import as_of_cutoff
from rectflow._views.integrity import SignedHead, sign_head
from rectflow._views.verify import Verification
from rectflow._workflow import Workflow
from rectflow._writer import EventPage, SpotCheckDraw, Writer, in_lang, open_store
from rectflow.exceptions import RectflowError


class Ledger:
    """A rectification ledger: inspections, their findings, and every event.

    Open one with :meth:`open`; every change goes through :meth:`add_inspection`,
    :meth:`add_finding` and :meth:`fire`, which check the workflow's rules and
    write the event and the finding's new state in one transaction, or through
    :meth:`add_actor`, :meth:`revoke_role`, :meth:`change_inspection` and
    :meth:`submit_report` (ledger-level events on the same chain). Every write
    passes one gate, the write pipeline's ``admit``: separation of duties, and
    roles once actors are registered.

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
        workflow: Workflow | WorkflowSpec | str | os.PathLike[str] | None = None,
        lang: str = "zh",
    ) -> None:
        """Wrap an open *store*; prefer :meth:`open`."""
        self._writer = Writer(store, policy=policy, clock=clock, workflow=workflow, lang=lang)
        self.policy, self.workflow, self.store = self._writer.policy, self._writer.workflow, store

    @property
    def lang(self) -> str:
        """Language of errors and reports (``"zh"`` or ``"en"``); may be changed."""
        return self._writer.lang

    @lang.setter
    def lang(self, value: str) -> None:
        self._writer.lang = value

    @classmethod
    def open(
        cls,
        target: str = ":memory:",
        *,
        policy: Policy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        workflow: Workflow | WorkflowSpec | str | os.PathLike[str] | None = None,
        lang: str = "zh",
    ) -> Ledger:
        """Open (or create) a ledger.

        Args:
            target: ``":memory:"``, a SQLite file path, or a ``postgresql://`` URL.
            policy: The policy (default :class:`Policy`).
            clock: Returns the current aware time; default: the wall clock in the
                policy's time zone. Events default to it and may not be later.
            workflow: A custom workflow, or the definition to build one from for
                *policy* (a :class:`~rectflow.WorkflowSpec`, a shipped definition's
                name or a TOML file's path); default: the built-in ``xuncha``.
            lang: ``"zh"`` (default) or ``"en"`` for errors and reports.
        """
        try:
            store = open_store(str(target))
        except RectflowError as exc:
            exc._localize(lang)  # noqa: SLF001 - the ledger's boundary
            raise
        return cls(store, policy=policy, clock=clock, workflow=workflow, lang=lang)

    @in_lang
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

    @in_lang
    def now(self) -> pendulum.DateTime:
        """The ledger clock's current time."""
        return self._writer.now()

    # -- inspections

    @in_lang
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
        return self._writer.add_inspection(
            inspection_id,
            title=title,
            feedback_at=feedback_at,
            declared_findings=declared_findings,
            at=at,
            actor=actor,
            unit=unit,
        )

    @in_lang
    def inspection(self, inspection_id: str) -> Inspection:
        """The inspection with this id.

        Raises:
            InspectionNotFound: When there is none.
        """
        return self._writer.inspection(inspection_id)

    @in_lang
    def inspections(self) -> list[Inspection]:
        """All inspections, in the order they were added."""
        return self.store.inspections()

    # -- findings

    @in_lang
    def resolve_deadline(self, spec: object, inspection: Inspection) -> dt.date:
        """A deadline given as a date or relative to the feedback day.

        ``"2024-01-31"``, a ``date``, ``"10 working days"``, ``"2 months"``,
        ``"10个工作日"`` or ``"2个月"`` (counted from the inspection's feedback
        day through the policy's calendar).

        Raises:
            InvalidInput: When it is neither.
        """
        return self._writer.resolve_deadline(spec, inspection)

    @in_lang
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
        return self._writer.add_finding(
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

    @in_lang
    def get(self, finding_id: str) -> Finding:
        """The finding's current record.

        Raises:
            FindingNotFound: When there is none.
        """
        return self._writer.get(finding_id)

    def __contains__(self, finding_id: object) -> bool:
        """Whether a finding with this id is on the ledger."""
        return isinstance(finding_id, str) and self._writer.current(finding_id) is not None

    @in_lang
    def findings(
        self, inspection: str | None = None, *, state: str | None = None
    ) -> Iterator[Finding]:
        """Current findings, optionally of one inspection and/or in one state."""
        return self._writer.findings(inspection, state=state)

    @in_lang
    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The finding's events, oldest first.

        Raises:
            FindingNotFound: When there is no such finding.
        """
        return self._writer.history(finding_id)

    @in_lang
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
        return self._writer.fire(
            finding_id,
            event,
            actor=actor,
            at=at,
            note=note,
            evidence=evidence,
            expected_version=expected_version,
            **arguments,
        )

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
        with self._writer.batch():
            yield self

    # -- replay, reports

    @in_lang
    def as_of(
        self, as_of: dt.date | dt.datetime | str, inspection: str | None = None
    ) -> list[Finding]:
        """The findings as they stood at *as_of* (a day means its end), replayed from history."""
        cutoff = as_of_cutoff(as_of, self.policy.timezone, self.lang)
        return list(self._writer.as_of(cutoff, inspection))

    @in_lang
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
        return self._writer.report(inspection, as_of=as_of, lang=lang)

    @in_lang
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
        return self._writer.agenda(as_of=as_of, inspection=inspection, upcoming=upcoming)

    @in_lang
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
        return self._writer.draw_spot_checks(inspection, k=k, seed=seed, as_of=as_of)

    # -- actors, roles, inspection changes, reports (issue 8)

    @in_lang
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
        return self._writer.add_actor(
            name, roles=roles, inspection=inspection, actor=actor, at=at, note=note
        )

    @in_lang
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
        self._writer.revoke_role(name, role, inspection=inspection, actor=actor, at=at, note=note)

    @in_lang
    def actors(self) -> list[Actor]:
        """The registered actors, in the order they were registered (from the chain)."""
        with self._writer.lock:
            return list(self._writer.ledger_state().actors.values())

    @in_lang
    def grants(self, name: str | None = None) -> list[Grant]:
        """Role grants (revoked ones included, with their revocation), of *name* or all."""
        with self._writer.lock:
            state = self._writer.ledger_state()
            return list(state.grants if name is None else state.grants_of(name))

    @property
    def roles_mode(self) -> bool:
        """Whether the ledger has registered actors (then every event needs a role)."""
        with self._writer.lock:
            return self._writer.ledger_state().roles_mode

    @in_lang
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
        return self._writer.change_inspection(
            inspection_id,
            reason=reason,
            declared_findings=declared_findings,
            feedback_at=feedback_at,
            actor=actor,
            at=at,
            unit=unit,
        )

    @in_lang
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
        return self._writer.submit_report(
            inspection, actor=actor, evidence=evidence, at=at, note=note
        )

    @in_lang
    def ledger_history(self) -> tuple[Event, ...]:
        """The ledger-level events (inspections, actors, roles, reports), oldest first."""
        return self.store.ledger_events()

    @in_lang
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
        return self._writer.subscribe(callback, events)

    @in_lang
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
        return self._writer.events_since(cursor, limit=limit)

    @in_lang
    def head(self) -> Head:
        """``(count, hash)`` of the event chain: keep it elsewhere as an anchor."""
        self._writer.flush()
        return self.store.head()

    @in_lang
    def signed_head(self, key: bytes | str) -> SignedHead:
        """The head with an HMAC-SHA256 over it, keyed by *key* (never stored in the ledger).

        Keep ``str(signed)`` (``COUNT:HASH:MAC``) elsewhere: someone who can write
        the database but lacks the key cannot forge a head that verifies.
        """
        return sign_head(self.head(), key, self.lang)

    @in_lang
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
        return self._writer.verify(anchor, key=key, evidence_dir=evidence_dir)

    # -- ledger files: import and export (issue 7)

    @in_lang
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
        return import_file(
            self._writer,
            path,
            actor=actor,
            format=format,
            inspection=inspection,
            dry_run=dry_run,
            allow_extra_columns=allow_extra_columns,
            limits=limits,
            progress=progress,
            update=update,
            allow_rebound=allow_rebound,
            at=at,
            strict_columns=strict_columns,
            state_from=state_from,
            feedback_at=feedback_at,
            title=title,
            declared_findings=declared_findings,
            unit=unit,
        )

    @in_lang
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
        return export_file(self._writer, path, format=format, as_of=as_of, inspection=inspection)
