"""Test helpers for rectflow and for apps that extend its workflow.

* Hypothesis strategies for actors, times, owners, measures and events.
* :data:`ORACLE_EDGES`: the default workflow's edges written out by hand, as an
  oracle independent of the ``transitions`` machine.
* :class:`FindingModel`: the state machine's own record of what a finding should be.
* :class:`LedgerStateMachine`: a :class:`hypothesis.stateful.RuleBasedStateMachine`
  that drives findings through the workflow and checks every outcome against
  oracles written independently of rectflow's code:

  - In each step it takes a finding and one of the events *enabled* in its
    state, mostly with a valid payload (evidence, a note where one is needed,
    an extension asked in time by someone else, measures done before
    ``submit``, a signer who is not the submitter, a time after the finding's
    last event and not in the future, a look-back after its wait), sometimes
    with one deliberate flaw (a missing argument, the wrong actor, a time out of
    order), sometimes an event the state does not allow. A default-settings
    run (100 examples of 50 steps) reaches every state and every event.
  - :meth:`LedgerStateMachine.violations` is the rules' oracle: the rules a
    given event breaks, by name, in the order the workflow checks them. An
    event it finds valid must be accepted; one it finds invalid must be refused
    with a :class:`~rectflow.RuleViolation` naming the first of them. So a
    deleted or weakened guard fails the test.
  - :meth:`LedgerStateMachine.expect` is the effects' oracle: it applies an
    accepted event to the :class:`FindingModel`, and every finding must equal
    its model after every step (state, deadline, extensions, submitter,
    measures' progress …).
  - Refused events change nothing, state equals the replay of history,
    versions have no gaps, times are aware and ordered, signer ≠ submitter.
  - It registers actors and grants and revokes roles at random (the first
    grant puts the ledger in roles mode), keeps its own model of who holds what
    since when, and checks every outcome against it.
  - It reports coverage with :func:`hypothesis.event` (``state: …``,
    ``event: …``, ``refused: <rule>``; see ``--hypothesis-show-statistics``),
    and counts the same in :attr:`LedgerStateMachine.coverage`.

Use it in your own tests, with your rule in the oracle::

    from rectflow.testing import LedgerStateMachine

    class MyLedgerMachine(LedgerStateMachine):
        def make_ledger(self, clock):
            return Ledger.open(":memory:", workflow=my_workflow, clock=clock)

        def violations(self, finding, event):
            broken = super().violations(finding, event)
            if event.name == "sign_off" and event.actor not in LEADING_GROUP:
                broken.append("signer_in_leading_group")
            return broken

    TestMyLedger = MyLedgerMachine.TestCase

``make mutation`` (``scripts/workflow-mutants``) deletes each guard and perturbs
each effect of the workflow in turn and runs this machine against every mutant.

Requires ``hypothesis`` (the ``test`` extra).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

import attrs
import pendulum
from hypothesis import event as hyp_event
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from rectflow._ledger import Ledger
from rectflow._model import EVENT_NAMES, Event, Finding, Measure, Owner
from rectflow._policy import ROLES, Policy
from rectflow._roles import ROLES_OF_UNLISTED
from rectflow._workflow import Workflow
from rectflow.exceptions import (
    InvalidInput,
    PermissionDenied,
    RectflowError,
    RuleViolation,
    TimeOrderConflict,
    TransitionNotAllowed,
)

__all__ = [
    "ACTORS",
    "ORACLE_EDGES",
    "FindingModel",
    "LedgerStateMachine",
    "actors",
    "aware_times",
    "event_names",
    "measures",
    "owners",
    "roles",
]

ACTORS: Final = ("王老师", "李主任", "陈主任", "张校长", "巡察办")
"""A small pool, so that separation-of-duty rules are hit often."""

ORACLE_EDGES: Final[Mapping[tuple[str, str], str]] = {
    ("assigned", "start"): "in_progress",
    ("in_progress", "stage"): "staged_result",
    ("staged_result", "stage"): "staged_result",
    ("in_progress", "submit"): "pending_signoff",
    ("staged_result", "submit"): "pending_signoff",
    ("pending_signoff", "sign_off"): "completed",
    ("pending_signoff", "reject"): "in_progress",
    ("completed", "recheck"): "rechecked",
    ("completed", "rebound"): "in_progress",
    ("rechecked", "rebound"): "in_progress",
    ("assigned", "extend"): "assigned",
    ("in_progress", "extend"): "in_progress",
    ("staged_result", "extend"): "staged_result",
    ("completed", "spot_check"): "completed",
    ("rechecked", "spot_check"): "rechecked",
    ("assigned", "cancel"): "cancelled",
    ("in_progress", "cancel"): "cancelled",
    ("staged_result", "cancel"): "cancelled",
    ("pending_signoff", "cancel"): "cancelled",
    ("in_progress", "record_measure"): "in_progress",
    ("staged_result", "record_measure"): "staged_result",
    ("pending_signoff", "record_measure"): "pending_signoff",
    ("completed", "record_measure"): "completed",
    ("rechecked", "record_measure"): "rechecked",
    **{(state, "amend"): state for state in ("assigned", "in_progress", "staged_result")},
    **{(state, "amend"): state for state in ("pending_signoff", "completed", "rechecked")},
}
"""(state, event) → destination, written out from DOMAIN.md's table."""

START: Final = pendulum.datetime(2024, 1, 8, 9, tz="Asia/Shanghai")
"""Where generated histories begin (feedback is the day before)."""

CLOCK: Final = pendulum.datetime(2026, 12, 31, 18, tz="Asia/Shanghai")
"""The fixed ledger clock of the state machine: later than any generated time but one."""


def actors() -> st.SearchStrategy[str]:
    """Actors from :data:`ACTORS`."""
    return st.sampled_from(ACTORS)


def event_names() -> st.SearchStrategy[str]:
    """Every event name, plus a few unknown ones."""
    return st.sampled_from((*EVENT_NAMES, "teleport", "to_rechecked"))


def aware_times(
    start: dt.datetime = START, days: int = 1000
) -> st.SearchStrategy[pendulum.DateTime]:
    """Aware times within *days* after *start*, in assorted UTC offsets."""
    return st.builds(
        lambda minutes, tz: pendulum.instance(start).add(minutes=minutes).in_timezone(tz),
        st.integers(0, days * 24 * 60),
        st.sampled_from(("Asia/Shanghai", "UTC", "America/New_York")),
    )


def owners() -> st.SearchStrategy[Owner]:
    """Owners whose person comes from :data:`ACTORS`."""
    return st.builds(Owner, leader=st.just("张校长"), department=st.just("德育处"), person=actors())


def roles() -> st.SearchStrategy[str]:
    """One of the four roles."""
    return st.sampled_from(ROLES)


REGISTRAR: Final = "巡察办"
"""The actor the state machine's first grant registers as inspector and leader, ledger-wide."""


FIRST_ROLES: Final = (
    ("王老师", "owner"),
    ("李主任", "owner"),
    ("陈主任", "leader"),
    ("张校长", "leader"),
    ("张校长", "checker"),
)
"""The roles the state machine's first grant also gives (for inspection ``T``)."""


def measures(finding_id: str = "F") -> st.SearchStrategy[tuple[Measure, ...]]:
    """Zero to two measures: a one-off and/or a monthly recurring one."""
    one_off = Measure(f"{finding_id}-1", "一次性整改", "one_off", "德育处")
    monthly = Measure(f"{finding_id}-2", "每月排查", "recurring", "安全处", cadence="monthly")
    return st.sampled_from(((), (one_off,), (monthly,), (one_off, monthly)))


@attrs.define
class FindingModel:
    """What the state machine expects a finding to be, kept by its own effects oracle.

    Only the fields the default events change; :meth:`LedgerStateMachine.expect`
    updates it after every accepted event and :meth:`LedgerStateMachine.matches`
    compares it with the ledger's :class:`~rectflow.Finding`.

    Attributes:
        id: The finding's id.
        owner: Who answers for it.
        state: The state it should be in.
        version: Its number of events.
        deadline: The current deadline.
        extensions: How many extensions were granted.
        rework: How many rebounds.
        title: Its title (``amend`` changes it).
        remarks: Its 备注 (``amend`` changes it).
        updated_at: Time of its last event.
        submitter: Who submitted it, while that matters.
        submitted_at: When it was submitted.
        completed_at: When it was last signed off.
        signed_off_by: Who signed it off.
        first_completed_at: When it was first signed off.
        rechecked_at: When it was rechecked.
        next_checkpoint: The staged result's next checkpoint.
        spot_checks: How many spot checks.
        measures: measure id → [kind, done_at, established, occurrences].
    """

    id: str
    owner: Owner
    state: str
    version: int
    deadline: dt.date
    updated_at: dt.datetime
    extensions: int = 0
    rework: int = 0
    title: str = ""
    remarks: str = ""
    submitter: str | None = None
    submitted_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    signed_off_by: str | None = None
    first_completed_at: dt.datetime | None = None
    rechecked_at: dt.datetime | None = None
    next_checkpoint: dt.date | None = None
    spot_checks: int = 0
    measures: dict[str, list[Any]] = attrs.field(factory=dict)


@attrs.frozen
class _Shape:
    """The workflow's shape as the machine sees it: the one place that reads the workflow.

    Read from the workflow's definition (:attr:`Workflow.spec`), so an app's own
    states and events are driven too.

    Attributes:
        states: Its states.
        enabled: state → the events a person may fire there.
        payload: event → the arguments it takes.
        fields: event → its fields (name → type, required), for an app's own events.
        edges: (state, event) → destination, as the definition says.
        roles: event → the roles the definition lets fire it (the policy's win).
        import_only: Events only an import writes (checked on the workflow, not fired).
    """

    states: tuple[str, ...]
    enabled: Mapping[str, tuple[str, ...]]
    payload: Mapping[str, frozenset[str]]
    fields: Mapping[str, Mapping[str, tuple[str, bool]]]
    edges: Mapping[tuple[str, str], str]
    roles: Mapping[str, tuple[str, ...]]
    import_only: frozenset[str]

    @classmethod
    def of(cls, workflow: Workflow) -> _Shape:
        """The shape of *workflow*, from its definition."""
        spec = workflow.spec
        states = spec.state_names
        return cls(
            states=states,
            enabled={s: tuple(workflow.allowed(s)) for s in states},
            payload={e.name: frozenset(f.name for f in e.fields) for e in spec.events},
            fields={e.name: {f.name: (f.type, f.required) for f in e.fields} for e in spec.events},
            edges={
                (source, e.name): e.destination or source
                for e in spec.events
                for source in e.sources
            },
            roles={e.name: tuple(e.roles) for e in spec.events},
            import_only=frozenset(e.name for e in spec.events if e.import_only),
        )


_MINUTE: Final = 60
_DAY: Final = 24 * 60
_WEIGHTS: Final[Mapping[str, int]] = {
    "stage": 2,
    "submit": 6,
    "cancel": 1,
    "amend": 1,
    "spot_check": 2,
    "extend": 2,
    "reject": 3,
    "rebound": 2,
}
"""How often a valid step picks each enabled event (others: 4), so findings get far."""

_FLAWS: Final[Mapping[str, tuple[str, ...]]] = {
    "start": (),
    "stage": (
        "no_note",
        "no_evidence",
        "blank_evidence",
        "no_checkpoint",
        "early_checkpoint",
        "late_checkpoint",
    ),
    "submit": ("no_evidence", "pending_measure"),
    "sign_off": ("actor_submitter", "actor_responsible"),
    "reject": ("no_note", "actor_submitter"),
    "recheck": ("no_evidence", "early", "actor_submitter"),
    "rebound": ("no_evidence", "no_deadline", "early_deadline"),
    "extend": (
        "no_requester",
        "no_reason",
        "no_until",
        "late_request",
        "actor_requester",
        "early_until",
    ),
    "spot_check": ("no_seed",),
    "cancel": ("no_reason", "actor_responsible"),
    "record_measure": ("unknown_measure", "done_measure"),
    "amend": (
        "amend_empty",
        "amend_field",
        "amend_shape",
        "amend_stale",
        "amend_unchanged",
        "amend_value",
    ),
    "attest": ("not_imported", "pending_measure", "actor_submitter", "actor_responsible"),
}
"""The deliberate flaws tried on each event (besides a time out of order or in the future)."""


class LedgerStateMachine(RuleBasedStateMachine):
    """Events driven through the workflow, checked against independent oracles after each step.

    Override :meth:`make_ledger` to run it on another backend, policy or workflow;
    :attr:`edges` if your workflow adds edges; :meth:`violations` (and
    :meth:`expect`) if it adds rules (or effects).

    Attributes:
        coverage: Counts, over every run of the class, of the states seen
            (``state: …``), the events accepted (``event: …``) and the rules
            that refused one (``refused: …``).
    """

    edges: Mapping[tuple[str, str], str] = ORACLE_EDGES
    import_edges: Mapping[tuple[str, str], str] = {
        ("in_progress", "attest"): "completed",
        ("staged_result", "attest"): "completed",
    }
    findings = Bundle("findings")
    coverage: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        """Open the ledger under test."""
        super().__init__()
        self.ledger = self.make_ledger(lambda: CLOCK)
        self.shape = _Shape.of(self.ledger.workflow)
        self._oracle_events = {e for _, e in (*self.edges, *self.import_edges)}
        self.ledger.add_inspection(
            "T", title="stateful", feedback_at=START.date() - dt.timedelta(days=1), at=START
        )
        self.model: dict[str, FindingModel] = {}
        self.steps = 0
        self.checks = 0
        self.checked: dict[str, int] = {}  # finding → version last checked against its history
        # the model of roles: [actor, role, inspection or None, granted at, active]
        self.model_grants: list[list[Any]] = []

    def make_ledger(self, clock: Callable[[], dt.datetime]) -> Ledger:
        """The ledger under test (default: in memory, Monday–Friday, a 10-day look-back wait).

        The short wait lets runs reach ``rechecked`` often; the wait rule itself is the
        same whatever its length.
        """
        policy = Policy(calendar="weekdays", look_back_wait="10 days")
        return Ledger.open(":memory:", policy=policy, clock=clock)

    def teardown(self) -> None:
        """Close the ledger."""
        self.ledger.close()

    def _note(self, label: str) -> None:
        self.coverage[label] += 1
        hyp_event(label)

    # -- findings

    @initialize(target=findings, owner=owners(), ms=measures("F0"))
    def first_finding(self, owner: Owner, ms: tuple[Measure, ...]) -> str:
        """Every run starts with one finding."""
        return self._add("F0", owner, ms)

    max_findings = 3

    @precondition(
        lambda self: (
            self.ledger.store.count() < self.max_findings
            or (
                self.ledger.store.count() < 2 * self.max_findings
                and not any(self.shape.enabled.get(m.state) for m in self.model.values())
            )
        )
    )
    @rule(target=findings, owner=owners(), n=st.integers(1, 10**6), data=st.data())
    def add_finding(self, owner: Owner, n: int, data: st.DataObject) -> str:
        """Add another finding."""
        fid = f"F{n}"
        if fid in self.ledger:
            return fid
        return self._add(fid, owner, data.draw(measures(fid)))

    def _add(self, fid: str, owner: Owner, ms: tuple[Measure, ...]) -> str:
        deadline = (START + dt.timedelta(days=30)).date()

        def add() -> None:
            self.ledger.add_finding(
                fid,
                inspection="T",
                title=f"finding {fid}",
                kind="deadline",
                owner=owner,
                deadline=deadline,
                measures=ms,
                actor=REGISTRAR,
                at=START,
            )

        if not self.may(REGISTRAR, "add", START):
            with contextlib.suppress(PermissionDenied):
                add()
                raise AssertionError(f"{REGISTRAR} added {fid} without a role")
            return "F0"
        add()
        self.model[fid] = FindingModel(
            id=fid,
            owner=owner,
            state="assigned",
            version=1,
            deadline=deadline,
            updated_at=START,
            title=f"finding {fid}",
            measures={m.id: [m.kind, None, None, ()] for m in ms},
        )
        return fid

    # -- roles (issue 8)

    def may(self, actor: str, event: str, at: dt.datetime, scope: str | None = "T") -> bool:
        """What the model says: no actors yet, or *actor* holds a needed role at *at*.

        A grant for inspection ``T`` covers events of ``T``; a ledger-wide one covers
        everything, and only it covers a ledger-wide event (*scope* None).
        """
        if not self.model_grants:
            return True
        table = dict(self.ledger.policy.roles)
        event = {"attest": "sign_off"}.get(event, event)
        needed = table.get(
            event, table.get(ROLES_OF_UNLISTED.get(event, ""), self.shape.roles.get(event, ()))
        )
        return any(
            g[0] == actor and g[1] in needed and g[2] in (None, scope) and g[3] <= at and g[4]
            for g in self.model_grants
        )

    @rule(
        actor=actors(),
        role=roles(),
        ledger_wide=st.booleans(),
        minutes=st.one_of(st.just(0), st.integers(0, 60 * 24 * 200)),
    )
    def grant(self, actor: str, role: str, ledger_wide: bool, minutes: int) -> None:
        """Register *actor* with *role* (the first grant also registers the registrar)."""
        at = START.add(minutes=minutes)
        if not self.model_grants:
            self.ledger.add_actor(REGISTRAR, roles=["inspector", "leader"], at=START)
            self.model_grants += [
                [REGISTRAR, "inspector", None, START, True],
                [REGISTRAR, "leader", None, START, True],
            ]
            for name, first in FIRST_ROLES:  # so that findings can still move on
                self.ledger.add_actor(
                    name, roles=[first], inspection="T", actor=REGISTRAR, at=START
                )
                self.model_grants.append([name, first, "T", START, True])
        scope = None if ledger_wide else "T"
        held = any(
            g[0] == actor and g[1] == role and g[2] == scope and g[4] for g in self.model_grants
        )
        head = self.ledger.head()
        try:
            self.ledger.add_actor(actor, roles=[role], inspection=scope, actor=REGISTRAR, at=at)
        except RectflowError as exc:
            assert self.ledger.head() == head
            assert held or not self.may(REGISTRAR, "add_actor", at, scope), str(exc)  # noqa: PT017
            return
        assert not held
        assert self.may(REGISTRAR, "add_actor", at, scope)
        self.model_grants.append([actor, role, scope, at, True])

    @precondition(lambda self: bool(self.model_grants))
    @rule(pick=st.data(), minutes=st.integers(0, 60 * 24 * 200))
    def revoke(self, pick: st.DataObject, minutes: int) -> None:
        """Revoke a role the model says is held (the registrar's own too, now and then)."""
        active = [g for g in self.model_grants if g[4]]
        if not active:
            return
        g = pick.draw(st.sampled_from(active), label="grant")
        at = START.add(minutes=minutes)
        head = self.ledger.head()
        try:
            self.ledger.revoke_role(g[0], g[1], inspection=g[2], actor=REGISTRAR, at=at)
        except PermissionDenied:
            assert self.ledger.head() == head
            assert not self.may(REGISTRAR, "revoke_role", at, g[2])
            return
        assert self.may(REGISTRAR, "revoke_role", at, g[2])
        g[4] = False

    # -- events

    @rule(fid=findings, data=st.data())
    def advance(self, fid: str, data: st.DataObject) -> None:
        """Fire an enabled event with a valid payload (the roles model may still refuse it).

        First the same event with one of its own flaws, as a probe: it must be refused
        (by the rule the oracle names) and change nothing.
        """
        fid = self._pick(fid, data)
        name = self._choose(self.model[fid], data, "valid")
        if name is None:
            return
        if _FLAWS.get(name):
            self._attempt(fid, data, "probe", name)
        self._attempt(fid, data, "valid", name)

    @rule(
        fid=findings,
        data=st.data(),
        mode=st.sampled_from(
            ("valid", "flawed", "flawed", "flawed", "other", "import", "import_flawed")
        ),
    )
    def fire(self, fid: str, data: st.DataObject, mode: str) -> None:
        """Fire an enabled event, valid or with one flaw, or an event the state does not allow.

        Now and then, an import-only event instead, applied by the workflow alone.
        """
        if mode.startswith("import"):
            self._import_only(fid, data, mode == "import_flawed")
        else:
            self._attempt(fid, data, mode)

    def _import_only(self, fid: str, data: st.DataObject, flawed: bool) -> None:
        """An import-only event (``attest``) applied by the workflow alone, nothing stored.

        ``Ledger.fire`` refuses it; an import applies it with the workflow's rules,
        which are what is checked here.
        """
        fid = self._pick(fid, data)
        m = self.model[fid]
        for name in sorted(self.shape.import_only & set(_FLAWS)):
            attempt = self._build(name, m, data, "flawed" if flawed else "valid")
            if attempt is None:
                continue
            ev, _ = attempt
            expected = self._expected(m, ev, fired=False)
            try:
                after = self.ledger.workflow.apply(self.ledger.get(fid), ev, now=CLOCK)
            except RectflowError as exc:
                self._check_refusal(m, ev, exc, expected)
                continue
            assert expected is None, f"{name} accepted, expected {expected}"
            model = attrs.evolve(m, measures={k: list(v) for k, v in m.measures.items()})
            self.expect(model, ev)
            self._note(f"event: {name} (workflow only)")
            self.matches(after, model)

    def _pick(self, fid: str, data: st.DataObject) -> str:
        """*fid*, or mostly a finding that is still open when *fid* is not."""
        if self.shape.enabled.get(self.model[fid].state):
            return fid
        live = [k for k, m in self.model.items() if self.shape.enabled.get(m.state)]
        if not live or data.draw(st.integers(0, 9), label="stay") == 0:
            return fid
        return data.draw(st.sampled_from(live), label="finding")

    def _attempt(self, fid: str, data: st.DataObject, mode: str, name: str | None = None) -> None:
        if name is None:
            fid = self._pick(fid, data)
        m = self.model[fid]
        self._note(f"state: {m.state}")
        attempt = self._build(name, m, data, mode)
        if attempt is None:
            return
        ev, use_default_time = attempt
        expected = self._expected(m, ev)
        before = self.ledger.get(fid)
        history = self.ledger.history(fid)
        head = self.ledger.head()
        try:
            after = self.ledger.fire(
                fid,
                ev.name,
                actor=ev.actor,
                at=None if use_default_time else ev.at,
                note=ev.note,
                evidence=ev.evidence,
                **ev.payload,
            )
        except RectflowError as exc:
            assert self.ledger.get(fid) == before
            assert self.ledger.history(fid) == history
            assert self.ledger.head() == head
            self._check_refusal(m, ev, exc, expected)
            return
        finally:
            self.steps += 1
        assert expected is None, f"{ev.name} by {ev.actor} accepted, expected {expected}"
        assert after.state == self.edges[m.state, ev.name]
        self.expect(m, ev)
        self._note(f"event: {ev.name}")
        self.matches(after, m)

    def _check_refusal(
        self, m: FindingModel, ev: Event, exc: RectflowError, expected: str | None
    ) -> None:
        """*exc* is the refusal the oracles expect (*expected*: ``kind`` or ``rule:<name>``)."""
        assert expected is not None, f"{ev.name} by {ev.actor} refused, expected it to pass: {exc}"
        got = _refusal(exc)
        assert got == expected, f"{ev.name} by {ev.actor} in {m.state}: {got}, expected {expected}"
        self._note(f"refused: {expected.removeprefix('rule:')}")

    def _expected(self, m: FindingModel, ev: Event, *, fired: bool = True) -> str | None:
        """How the oracles say *ev* ends: None (accepted) or the refusal expected.

        *fired*: through ``Ledger.fire`` (else by the workflow alone: no roles, and
        import-only events are allowed).
        """
        if ev.name not in self.shape.payload or (fired and ev.name in self.shape.import_only):
            return "invalid_input"
        if self._dest(m.state, ev.name) is None:
            return "not_allowed"
        if ev.at < m.updated_at:
            return "time_order"
        if ev.at > CLOCK:
            return "rule:not_in_future"
        broken = self.violations(m, ev)
        if broken:
            return f"rule:{broken[0]}"
        if fired and not self.may(ev.actor, ev.name, ev.at):
            return "permission"
        return None

    def _dest(self, state: str, name: str) -> str | None:
        """Where *name* takes a finding in *state* (None: not allowed there).

        From :attr:`edges` (the oracle); an event :attr:`edges` never names (an
        app's own) goes where the definition says: override :attr:`edges` to give
        its edges an oracle of their own.
        """
        if name not in self._oracle_events:
            return self.shape.edges.get((state, name))
        return self.edges.get((state, name), self.import_edges.get((state, name)))

    # -- the rules' oracle

    def day(self, at: dt.datetime) -> dt.date:
        """*at*'s day in the policy's time zone."""
        return pendulum.instance(at).in_timezone(self.ledger.policy.timezone).date()

    def pending(self, m: FindingModel, day: dt.date) -> list[str]:
        """Measures not done on *day*: not done once, not established, or a month missed."""
        out = []
        for mid, (kind, done_at, established, occurrences) in m.measures.items():
            if kind in ("recurring", "long_term"):
                if established is None:
                    out.append(mid)
                elif kind == "recurring":
                    months = {d.year * 12 + d.month for d in (established, *occurrences)}
                    now = day.year * 12 + day.month
                    if any(i not in months for i in range(min(months) + 1, now)):
                        out.append(mid)
            elif done_at is None:
                out.append(mid)
        return out

    def violations(self, finding: FindingModel, event: Event) -> list[str]:
        """The rules *event* breaks on *finding*, by name, in the order they are checked.

        Written from the domain's rules (DOMAIN.md, docs/reference/workflow.md), not
        by calling rectflow's guards. Extend it for your own rules: the machine then
        expects your rule's :class:`~rectflow.RuleViolation` whenever it says so, and
        its valid steps pick actors and payloads your rule accepts.
        """
        m, name, p = finding, event.name, event.payload
        policy, calendar = self.ledger.policy, self.ledger.workflow.calendar
        day = self.day(event.at)
        actor = event.actor
        note = bool((event.note or "").strip())
        evidence = any(str(e).strip() for e in event.evidence)
        out: list[str] = []
        if name == "stage":
            out += [] if note else ["note_required"]
            out += [] if evidence else ["evidence_required"]
            cp = p.get("next_checkpoint")
            if cp is None:
                out.append("checkpoint_required")
            elif cp <= day:
                out.append("checkpoint_after_event")
            elif cp > policy.checkpoint_interval.after(day, calendar):
                out.append("checkpoint_within_interval")
        elif name in ("submit", "attest"):
            if name == "attest" and (
                p.get("provenance") != "attested_by_import" or not p.get("source")
            ):
                out.append("attest_import_only")
            if name == "submit" and not evidence:
                out.append("evidence_required")
            if self.pending(m, day):
                out.append("measures_done")
        if name in ("sign_off", "attest"):
            if actor == m.submitter:
                out.append("signer_not_submitter")
            elif actor == m.owner.person:
                out.append("signer_not_responsible")
        elif name == "reject":
            out += [] if note else ["note_required"]
            out += ["rejecter_not_submitter"] if actor == m.submitter else []
        elif name == "recheck":
            out += [] if evidence else ["evidence_required"]
            if m.completed_at is not None and day < policy.look_back_wait.after(
                self.day(m.completed_at), calendar
            ):
                out.append("look_back_wait")
            elif actor == m.submitter:
                out.append("rechecker_not_submitter")
        elif name == "rebound":
            out += [] if evidence else ["evidence_required"]
            if p.get("deadline") is None:
                out.append("deadline_required")
            elif p["deadline"] <= day:
                out.append("deadline_after_event")
        elif name == "extend":
            until = p.get("until")
            for broken, rule_name in (
                (not (p.get("requested_by") or "").strip(), "requester_required"),
                (not (p.get("reason") or "").strip(), "reason_required"),
                (until is None, "deadline_required"),
                (day > calendar.next_workday(m.deadline), "extension_filed_in_time"),
                (actor == p.get("requested_by"), "approver_not_requester"),
                (m.extensions >= policy.max_extensions, "max_extensions"),
                (until is not None and until <= m.deadline, "new_deadline_later"),
            ):
                if broken:
                    out.append(rule_name)
                    break
        elif name == "spot_check":
            out += ["seed_required"] if p.get("seed") is None else []
        elif name == "cancel":
            if not (p.get("reason") or "").strip():
                out.append("reason_required")
            elif actor == m.owner.person:
                out.append("canceller_not_responsible")
        elif name == "record_measure":
            measure = m.measures.get(p.get("measure", ""))
            working = m.state in ("in_progress", "staged_result")
            if measure is None:
                out.append("measure_unknown")
            elif measure[0] in ("one_off", "institutional") and not working:
                out.append("measure_closed")
            elif measure[0] in ("one_off", "institutional") and measure[1] is not None:
                out.append("measure_already_done")
            elif measure[0] == "long_term" and not working:
                out.append("measure_closed")
        elif name == "amend":
            out += self._amend_violations(m, p.get("changes"))
        return out

    def _amend_violations(self, m: FindingModel, changes: Any) -> list[str]:
        if not changes:
            return ["amend_empty"]
        for field, change in changes.items():
            if field not in ("title", "remarks", "deadline"):
                return ["amend_field"]
            if not isinstance(change, dict) or set(change) != {"old", "new"}:
                return ["amend_shape"]
            current = m.deadline.isoformat() if field == "deadline" else getattr(m, field)
            if change["old"] != current:
                return ["amend_stale"]
            if change["new"] == change["old"]:
                return ["amend_unchanged"]
            if field == "title" and not change["new"].strip():
                return ["amend_value"]
        return []

    # -- the effects' oracle

    def expect(self, finding: FindingModel, event: Event) -> None:
        """Apply an accepted *event* to *finding*, as the domain says it changes a finding."""
        m, name, p, at = finding, event.name, event.payload, event.at
        dest = self._dest(m.state, name)
        assert dest is not None
        m.state = dest
        m.version += 1
        m.updated_at = at
        if name == "stage":
            m.next_checkpoint = p["next_checkpoint"]
        elif name == "submit":
            m.submitter, m.submitted_at = event.actor, at
        elif name in ("sign_off", "attest"):
            m.completed_at, m.signed_off_by, m.next_checkpoint = at, event.actor, None
            m.first_completed_at = m.first_completed_at or at
        elif name == "reject":
            m.submitter = m.submitted_at = None
        elif name == "recheck":
            m.rechecked_at = at
        elif name == "rebound":
            m.rework += 1
            m.deadline = p["deadline"]
            m.submitter = m.submitted_at = m.completed_at = m.signed_off_by = None
            m.rechecked_at = None
        elif name == "extend":
            m.deadline, m.extensions = p["until"], m.extensions + 1
        elif name == "spot_check":
            m.spot_checks += 1
        elif name == "record_measure":
            measure = m.measures[p["measure"]]
            if measure[0] in ("one_off", "institutional"):
                measure[1] = self.day(at)
            elif measure[2] is None:
                measure[2] = self.day(at)
            else:
                measure[3] = (*measure[3], self.day(at))
        elif name == "amend":
            for field, change in p["changes"].items():
                if field == "deadline":
                    m.deadline = dt.date.fromisoformat(change["new"])
                else:
                    setattr(m, field, change["new"])

    def matches(self, finding: Finding, model: FindingModel) -> None:
        """*finding* (the ledger's) is what *model* says it should be."""
        got = {k: getattr(finding, k) for k in _COMPARED}
        got["measures"] = {
            x.id: [x.kind, x.done_at, x.established, tuple(x.occurrences)] for x in finding.measures
        }
        want = {k: getattr(model, k) for k in _COMPARED}
        want["measures"] = model.measures
        assert got == want, f"{finding.id}: {got} ≠ model {want}"

    # -- building an event

    def _build(
        self, name: str | None, m: FindingModel, data: st.DataObject, mode: str
    ) -> tuple[Event, bool] | None:
        """An event for *m*: valid, with one flaw, or one its state does not allow."""
        if name is None:
            name = self._choose(m, data, mode)
            if name is None:
                return None
        flaw = None
        if mode in ("flawed", "probe"):
            own = (*_FLAWS.get(name, ()), "wrong_actor") if name in _FLAWS else ()
            timing = ("time_order", "future")
            flaw = data.draw(
                st.sampled_from(timing)
                if not own or (mode == "flawed" and data.draw(st.integers(0, 3)) == 0)
                else st.sampled_from(own),
                label="flaw",
            )
        at = self._time(m, name, data, flaw)
        day = self.day(at)
        p: dict[str, Any] = {}
        files = data.draw(st.sampled_from((1, 1, 2, 3)), label="files")
        ask: dict[str, Any] = {
            "actor": None,
            "note": "说明",
            "evidence": tuple(f"佐证{i}.pdf" for i in range(1, files + 1)),
            "payload": p,
        }
        if name == "stage":
            p["next_checkpoint"] = day + dt.timedelta(days=data.draw(st.integers(1, 60)))
        elif name == "rebound":
            p["deadline"] = day + dt.timedelta(days=data.draw(st.integers(1, 90)))
        elif name == "extend":
            p.update(
                requested_by=m.owner.person,
                until=m.deadline + dt.timedelta(days=data.draw(st.integers(1, 60))),
                reason="说明",
            )
        elif name == "spot_check":
            p["seed"] = data.draw(st.integers(0, 2**32))
        elif name == "cancel":
            p["reason"] = "说明"
        elif name == "record_measure":
            ids = sorted(m.measures)
            open_ = [i for i in ids if not self.violations(m, _event(m, name, at, "", measure=i))]
            due = [i for i in open_ if i in self.pending(m, day)]
            if open_ or ids:
                p["measure"] = data.draw(st.sampled_from(due or open_ or ids), label="measure")
            else:
                p["measure"] = f"{m.id}-1"
        elif name == "amend":
            field = data.draw(st.sampled_from(("title", "remarks", "deadline")))
            old = m.deadline.isoformat() if field == "deadline" else getattr(m, field)
            new = (
                (m.deadline + dt.timedelta(days=7)).isoformat()
                if field == "deadline"
                else old + "′"
            )
            p["changes"] = {field: {"old": old, "new": new}}
        elif name == "attest":
            p.update(provenance="attested_by_import", source="台账.xlsx")
        elif name not in _FLAWS:  # an app's own event: its fields, from their types
            p.update(self._fields(name, day, data))
        if flaw is not None:
            self._flaw(flaw, m, ask, day, data)
        if flaw == "wrong_actor":  # anyone a rule bars, an app's own rules included
            barred = [a for a in ACTORS if self.violations(m, _event(m, name, at, a, ask))]
            if barred:
                ask["actor"] = data.draw(st.sampled_from(barred), label="barred")
        actor = ask["actor"]
        if actor is None:
            fits = [
                a
                for a in ACTORS
                if not self.violations(m, _event(m, name, at, a, ask))
                and (mode != "valid" or self.may(a, name, at))
            ]
            actor = data.draw(st.sampled_from(fits or ACTORS), label="actor")
        ev = _event(m, name, at, actor, ask)
        use_default = mode == "valid" and at == CLOCK
        return ev, use_default

    def _fields(self, name: str, day: dt.date, data: st.DataObject) -> dict[str, Any]:
        """Values for an app's event's fields: each required one, an optional one or not."""
        out: dict[str, Any] = {}
        for field, (kind, required) in self.shape.fields.get(name, {}).items():
            if not required and data.draw(st.booleans(), label=f"has {field}"):
                continue
            if kind == "date":
                out[field] = day + dt.timedelta(days=data.draw(st.integers(1, 60)))
            elif kind in ("int", "seed"):
                out[field] = data.draw(st.integers(0, 1000))
            elif kind == "texts":
                out[field] = ["说明"]
            elif kind in ("text", "name") or required:  # other types: text, if it must
                out[field] = "说明"
        return out

    def _choose(self, m: FindingModel, data: st.DataObject, mode: str) -> str | None:
        """An event its state does not allow (*mode* ``other``), else an enabled one."""
        state = m.state
        if mode == "other":
            others = [e for e in EVENT_NAMES if (state, e) not in self.edges]
            return data.draw(
                st.sampled_from((*others, "teleport")) if others else event_names(),
                label="event",
            )
        enabled = list(self.shape.enabled.get(state, ()))
        if not enabled:
            return None
        if mode == "valid" and self.pending(m, self.day(m.updated_at)):
            enabled = [e for e in enabled if e != "submit"] or enabled
        weighted = [e for e in enabled for _ in range(_WEIGHTS.get(e, 4))]
        return data.draw(st.sampled_from(weighted), label="event")

    def _time(self, m: FindingModel, name: str, data: st.DataObject, flaw: str | None) -> Any:
        last = pendulum.instance(m.updated_at)
        if flaw == "time_order":
            return last.subtract(minutes=data.draw(st.integers(1, 10 * _DAY)))
        if flaw == "future":
            return CLOCK.add(minutes=data.draw(st.integers(1, 1000)))
        tz = data.draw(st.sampled_from(("Asia/Shanghai", "UTC", "America/New_York")))
        if flaw is None and any(v[0] == "recurring" for v in m.measures.values()):
            step_cap = _DAY  # a month without an occurrence would block submit for good
        else:
            step_cap = 20 * _DAY
        step = data.draw(
            st.one_of(
                st.integers(0, 2 * _DAY), st.integers(0, 3 * _MINUTE), st.integers(0, 12 * _DAY)
            ),
            label="minutes",
        )
        at = last.add(minutes=min(step, step_cap))
        if name == "recheck" and flaw != "early" and m.completed_at is not None:
            policy = self.ledger.policy
            earliest = policy.look_back_wait.after(
                self.day(m.completed_at), self.ledger.workflow.calendar
            )
            start = pendulum.datetime(
                earliest.year, earliest.month, earliest.day, 9, tz=policy.timezone
            )
            at = max(at, start.add(minutes=step % (2 * _DAY)))
        if name == "extend" and flaw == "late_request":
            at = at.add(days=60)
        if at > CLOCK or (flaw is None and data.draw(st.integers(0, 199)) == 0):
            at = CLOCK
        return at.in_timezone(tz)

    def _flaw(
        self, flaw: str, m: FindingModel, ask: dict[str, Any], day: dt.date, data: st.DataObject
    ) -> None:
        p = ask["payload"]
        if flaw == "no_note":
            ask["note"] = data.draw(st.sampled_from((None, "", "  ")))
        elif flaw == "no_evidence":
            ask["evidence"] = ()
        elif flaw == "blank_evidence":
            ask["evidence"] = (" ",)
        elif flaw == "no_checkpoint":
            p.pop("next_checkpoint")
        elif flaw == "early_checkpoint":
            p["next_checkpoint"] = day - dt.timedelta(days=data.draw(st.integers(0, 5)))
        elif flaw == "late_checkpoint":
            p["next_checkpoint"] = day + dt.timedelta(days=data.draw(st.integers(95, 400)))
        elif flaw in ("actor_submitter", "actor_responsible"):
            who = m.submitter if flaw == "actor_submitter" else m.owner.person
            ask["actor"] = who
        elif flaw == "no_deadline":
            p.pop("deadline")
        elif flaw == "early_deadline":
            p["deadline"] = day - dt.timedelta(days=data.draw(st.integers(0, 5)))
        elif flaw == "no_requester":
            p["requested_by"] = data.draw(st.sampled_from((None, "", " ")))
        elif flaw == "no_reason":
            p["reason"] = data.draw(st.sampled_from((None, "", " ")))
        elif flaw == "no_until":
            p.pop("until")
        elif flaw == "actor_requester":
            ask["actor"] = p["requested_by"]
        elif flaw == "early_until":
            p["until"] = m.deadline - dt.timedelta(days=data.draw(st.integers(0, 10)))
        elif flaw == "no_seed":
            p.pop("seed")
        elif flaw == "unknown_measure":
            p["measure"] = f"{m.id}-9"
        elif flaw == "done_measure":
            done = [i for i, v in m.measures.items() if v[1] is not None]
            if done:
                p["measure"] = data.draw(st.sampled_from(sorted(done)))
        elif flaw == "not_imported":
            p.update(data.draw(st.sampled_from(({"provenance": "sheet"}, {"source": ""}))))
        elif flaw.startswith("amend_"):
            p["changes"] = self._bad_changes(flaw, m, p["changes"])

    def _bad_changes(self, flaw: str, m: FindingModel, changes: dict[str, Any]) -> Any:
        ((field, change),) = changes.items()
        if flaw == "amend_empty":
            return {}
        if flaw == "amend_field":
            return {"state": {"old": m.state, "new": "completed"}}
        if flaw == "amend_shape":
            return {field: {"new": change["new"]}}
        if flaw == "amend_stale":
            return {field: {"old": change["old"] + "x", "new": change["new"]}}
        if flaw == "amend_unchanged":
            return {field: {"old": change["old"], "new": change["old"]}}
        return {"title": {"old": m.title, "new": " "}}

    # -- invariants

    @invariant()
    def findings_are_consistent(self) -> None:
        """Every finding matches its model; a changed one also its history.

        Every finding, every step: it is what the effects' oracle says. A finding
        that changed since the last check also: it equals the replay of its own
        history; versions run 1..n without gaps; times are aware, ordered and never
        after the clock; every sign-off is by someone other than the submitter and
        the responsible person.
        """
        for fid, m in self.model.items():
            f = self.ledger.get(fid)
            self.matches(f, m)
            if self.checked.get(fid) == f.version:
                continue
            self.checked[fid] = f.version
            events = self.ledger.history(fid)
            assert self.ledger.workflow.replay(events) == f
            assert [e.version for e in events] == list(range(1, len(events) + 1))
            assert f.version == len(events)
            for a, b in itertools.pairwise(events):
                assert b.at >= a.at
            submitter = None
            for e in events:
                assert e.at.utcoffset() is not None
                assert e.at <= CLOCK
                if e.name == "submit":
                    submitter = e.actor
                if e.name == "sign_off":
                    assert e.actor != submitter
                    assert e.actor != f.owner.person

    @invariant()
    def chain_verifies(self) -> None:
        """The hash chain verifies every twenty steps (it is costly)."""
        self.checks += 1
        if self.checks % 20 == 0:
            assert self.ledger.verify(anchor=self.ledger.head()).ok


_COMPARED: Final = tuple(
    a.name for a in attrs.fields(FindingModel) if a.name not in ("id", "owner", "measures")
)


def _event(
    m: FindingModel,
    name: str,
    at: dt.datetime,
    actor: str,
    ask: Mapping[str, Any] | None = None,
    **payload: Any,
) -> Event:
    ask = ask or {"note": "说明", "evidence": ("佐证.pdf",), "payload": payload}
    return Event(
        m.id, name, at, actor, ask["note"], tuple(ask["evidence"]), dict(ask["payload"]), 0
    )


def _refusal(exc: RectflowError) -> str:
    """A refusal as the oracles name it."""
    if isinstance(exc, RuleViolation):
        return "time_order" if exc.rule == "time_order" else f"rule:{exc.rule}"
    if isinstance(exc, TimeOrderConflict):
        return "time_order"
    if isinstance(exc, TransitionNotAllowed):
        return "not_allowed"
    if isinstance(exc, PermissionDenied):
        return "permission"
    if isinstance(exc, InvalidInput):
        return "invalid_input"
    return type(exc).__name__
