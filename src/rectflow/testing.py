"""Test helpers for rectflow and for apps that extend its workflow.

* Hypothesis strategies for actors, times, owners, measures and events.
* :data:`ORACLE_EDGES`: the default workflow's edges written out by hand, as an
  oracle independent of the ``transitions`` machine.
* :class:`LedgerStateMachine`: a :class:`hypothesis.stateful.RuleBasedStateMachine`
  that fires random events (valid and invalid, random actors and times) at a
  ledger and checks it against the oracle after every step: allowed edges
  only, refused events change nothing, state equals the replay of history,
  versions without gaps, times aware and ordered, signer ≠ submitter.
  It also registers actors and grants and revokes roles at random (the first
  grant puts the ledger in roles mode), keeps its own model of who holds what
  since when, and checks every outcome against it: an event the model says the
  actor may not fire must be refused, one it allows must not be refused with
  :class:`~rectflow.PermissionDenied`.

Use it in your own tests::

    from rectflow.testing import LedgerStateMachine

    class MyLedgerMachine(LedgerStateMachine):
        def make_ledger(self, clock):
            return Ledger.open(":memory:", policy=my_policy, clock=clock)

    TestMyLedger = MyLedgerMachine.TestCase

Requires ``hypothesis`` (the ``test`` extra).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable, Mapping
from typing import Any, Final

import pendulum
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
from rectflow._model import EVENT_NAMES, Measure, Owner
from rectflow._policy import ROLES, Policy
from rectflow._roles import ROLES_OF_UNLISTED
from rectflow.exceptions import PermissionDenied, RectflowError, TransitionNotAllowed

__all__ = [
    "ACTORS",
    "ORACLE_EDGES",
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


def measures(finding_id: str = "F") -> st.SearchStrategy[tuple[Measure, ...]]:
    """Zero to two measures: a one-off and/or a monthly recurring one."""
    one_off = Measure(f"{finding_id}-1", "一次性整改", "one_off", "德育处")
    monthly = Measure(f"{finding_id}-2", "每月排查", "recurring", "安全处", cadence="monthly")
    return st.sampled_from(((), (one_off,), (monthly,), (one_off, monthly)))


class LedgerStateMachine(RuleBasedStateMachine):
    """Random events against a ledger, checked against :data:`ORACLE_EDGES` after each step.

    Override :meth:`make_ledger` to run it on another backend, policy or workflow;
    override :attr:`edges` if your workflow adds edges.
    """

    edges: Mapping[tuple[str, str], str] = ORACLE_EDGES
    findings = Bundle("findings")

    def __init__(self) -> None:
        """Open the ledger under test."""
        super().__init__()
        self.ledger = self.make_ledger(lambda: CLOCK)
        self.ledger.add_inspection(
            "T", title="stateful", feedback_at=START.date() - dt.timedelta(days=1), at=START
        )
        self.last_at: dict[str, pendulum.DateTime] = {}
        self.steps = 0
        # the model of roles: [actor, role, inspection or None, granted at, active]
        self.model_grants: list[list[Any]] = []

    def make_ledger(self, clock: Callable[[], dt.datetime]) -> Ledger:
        """The ledger under test (default: in memory, Monday–Friday, a 10-day look-back wait).

        The short wait lets random runs reach ``rechecked`` often; the wait rule
        itself is the same whatever its length.
        """
        policy = Policy(calendar="weekdays", look_back_wait="10 days")
        return Ledger.open(":memory:", policy=policy, clock=clock)

    def teardown(self) -> None:
        """Close the ledger."""
        self.ledger.close()

    # -- rules

    @initialize(target=findings, owner=owners(), ms=measures("F0"))
    def first_finding(self, owner: Owner, ms: tuple[Measure, ...]) -> str:
        """Every run starts with one finding."""
        return self._add("F0", owner, ms)

    max_findings = 3

    @precondition(lambda self: self.ledger.store.count() < self.max_findings)
    @rule(target=findings, owner=owners(), n=st.integers(1, 10**6), data=st.data())
    def add_finding(self, owner: Owner, n: int, data: st.DataObject) -> str:
        """Add another finding."""
        fid = f"F{n}"
        if fid in self.ledger:
            return fid
        return self._add(fid, owner, data.draw(measures(fid)))

    def _add(self, fid: str, owner: Owner, ms: tuple[Measure, ...]) -> str:
        def add() -> None:
            self.ledger.add_finding(
                fid,
                inspection="T",
                title=f"finding {fid}",
                kind="deadline",
                owner=owner,
                deadline=(START + dt.timedelta(days=30)).date(),
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
        self.last_at[fid] = START
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
        needed = table.get(event, table.get(ROLES_OF_UNLISTED.get(event, ""), ()))
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

    @rule(
        fid=findings,
        pick=st.data(),
        actor=actors(),
        step_minutes=st.one_of(
            st.integers(0, 60 * 24 * 120), st.integers(-60 * 24 * 10, -1), st.just(0)
        ),
        note=st.sampled_from((None, "", "说明")),
        evidence=st.sampled_from(((), ("佐证.pdf",), ("a.pdf", "b.jpg"))),
        days=st.integers(-5, 120),
        requested_by=st.one_of(st.none(), actors()),
        seed=st.one_of(st.none(), st.integers(0, 2**32)),
        measure_no=st.sampled_from(("1", "2", "9")),
        use_default_time=st.booleans(),
    )
    def fire(
        self,
        fid: str,
        pick: st.DataObject,
        actor: str,
        step_minutes: int,
        note: str | None,
        evidence: tuple[str, ...],
        days: int,
        requested_by: str | None,
        seed: int | None,
        measure_no: str,
        use_default_time: bool,
    ) -> None:
        """Fire a random event; check the outcome against the oracle.

        Half the time the event is one the oracle allows in the current state
        (its guards may still refuse it), otherwise any name at all.
        """
        before = self.ledger.get(fid)
        allowed = sorted(e for (s, e) in self.edges if s == before.state)
        name = pick.draw(
            st.one_of(st.sampled_from(allowed), event_names()) if allowed else event_names(),
            label="event",
        )
        history = self.ledger.history(fid)
        head = self.ledger.head()
        at = self.last_at[fid].add(minutes=step_minutes)
        day = at.in_timezone("Asia/Shanghai").date()
        kwargs: dict[str, Any] = {}
        if name == "stage":
            kwargs["next_checkpoint"] = day + dt.timedelta(days=days)
        elif name == "rebound":
            kwargs["deadline"] = day + dt.timedelta(days=days)
        elif name == "extend":
            kwargs.update(
                requested_by=requested_by,
                until=before.deadline + dt.timedelta(days=days),
                reason=note,
            )
        elif name == "spot_check":
            kwargs["seed"] = seed
        elif name == "cancel":
            kwargs["reason"] = note
        elif name == "record_measure":
            kwargs["measure"] = f"{fid}-{measure_no}"
        when = None if use_default_time and self.steps % 7 == 6 else at
        allowed_by_roles = self.may(actor, name, CLOCK if when is None else when)
        try:
            after = self.ledger.fire(
                fid,
                name,
                actor=actor,
                at=when,
                note=note,
                evidence=evidence,
                **kwargs,
            )
        except RectflowError as exc:
            self._refused(fid, name, exc, before, history, head)
            if isinstance(exc, PermissionDenied) and exc.needed:
                assert not allowed_by_roles, str(exc)  # noqa: PT017
            return
        finally:
            self.steps += 1
        assert allowed_by_roles, f"{actor} fired {name} without the role"
        expected = self.edges.get((before.state, name))
        assert expected is not None, f"{name} was allowed from {before.state}"
        assert after.state == expected
        assert after.version == before.version + 1
        assert self.ledger.history(fid)[-1].version == after.version
        self.last_at[fid] = pendulum.instance(self.ledger.history(fid)[-1].at)

    def _refused(
        self, fid: str, name: str, exc: RectflowError, before: Any, history: Any, head: Any
    ) -> None:
        """A refused event changed nothing, and a forbidden edge is refused as such."""
        assert self.ledger.get(fid) == before
        assert self.ledger.history(fid) == history
        assert self.ledger.head() == head
        if (before.state, name) not in self.edges and name in EVENT_NAMES:
            assert isinstance(exc, TransitionNotAllowed), exc

    # -- invariants

    @invariant()
    def state_is_replay_of_history(self) -> None:
        """Every finding equals the replay of its own history."""
        for f in self.ledger.findings():
            assert self.ledger.workflow.replay(self.ledger.history(f.id)) == f

    @invariant()
    def versions_and_times(self) -> None:
        """Versions run 1..n without gaps; times are aware, ordered, never after the clock."""
        for f in self.ledger.findings():
            events = self.ledger.history(f.id)
            assert [e.version for e in events] == list(range(1, len(events) + 1))
            assert f.version == len(events)
            for a, b in itertools.pairwise(events):
                assert b.at >= a.at
            for e in events:
                assert e.at.utcoffset() is not None
                assert e.at <= CLOCK

    @invariant()
    def signer_is_not_submitter(self) -> None:
        """Every sign-off is by someone other than the submitter and the responsible person."""
        for f in self.ledger.findings():
            submitter = None
            for e in self.ledger.history(f.id):
                if e.name == "submit":
                    submitter = e.actor
                if e.name == "sign_off":
                    assert e.actor != submitter
                    assert e.actor != f.owner.person

    @invariant()
    def chain_verifies(self) -> None:
        """The hash chain verifies every ten steps (it is costly)."""
        if self.steps % 10 == 0:
            assert self.ledger.verify(anchor=self.ledger.head()).ok
