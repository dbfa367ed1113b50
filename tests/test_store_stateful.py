"""The same random operations on a durable backend and on the memory backend, compared after every step.

``BackendsAgree`` drives two ledgers through the public Ledger API: it adds
inspections and findings, fires random events (valid and invalid, random
actors, times and arguments), runs batches that fail midway or not, reopens
the durable ledger, and runs agenda selections. Every operation must have the
same outcome on both (same result, or same error with the same message), and
after every step both must hold the same inspections, findings, histories and
chain head: hashing is deterministic, so the heads are identical.

Settings: SQLite 100 examples x 30 steps; PostgreSQL 20 x 25 (together about 20 s on 2 cores).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import pendulum
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from rectflow import Ledger, Policy
from rectflow._model import STATES
from rectflow._store.base import AgendaQuery, Store
from rectflow._store.memory import MemoryStore
from rectflow._store.sqlite import SqliteStore
from rectflow.exceptions import RectflowError
from rectflow.testing import ACTORS, CLOCK, START, actors, event_names, measures, owners

try:
    from rectflow._store.postgres import PostgresStore
except ImportError:  # no 'postgres' extra: the PostgreSQL tests skip (or fail under CI) via pg_url
    PostgresStore = None  # type: ignore[assignment,misc]

POLICY = Policy(calendar="weekdays", look_back_wait="10 days")
INSPECTIONS = ("T", "U")


class Abort(Exception):
    """Raised inside a batch to make it fail midway."""


def pull_the_plug() -> None:
    """Fail a batch midway."""
    raise Abort


def outcome(op: Callable[[Ledger], Any], ledger: Ledger) -> tuple[Any, ...]:
    """What *op* did on *ledger*: its result, or its error's type and message."""
    try:
        return ("ok", op(ledger))
    except RectflowError as exc:
        return ("error", type(exc).__name__, str(exc))


@st.composite
def fire_args(
    draw: st.DrawFn, fid: str, state: str, deadline: dt.date, last: pendulum.DateTime
) -> dict[str, Any]:
    """Arguments of one random ``fire``: an allowed or arbitrary event, with random arguments."""
    from rectflow.testing import ORACLE_EDGES  # noqa: PLC0415

    allowed = sorted(e for (s, e) in ORACLE_EDGES if s == state)
    name = draw(st.one_of(st.sampled_from(allowed), event_names()) if allowed else event_names())
    minutes = draw(
        st.one_of(st.integers(0, 60 * 24 * 60), st.integers(-60 * 24 * 5, -1), st.just(0))
    )
    at = None if draw(st.integers(0, 9)) == 0 else last.add(minutes=minutes)
    day = (at or CLOCK).in_timezone("Asia/Shanghai").date()
    days = draw(st.integers(-5, 100))
    note = draw(st.sampled_from((None, "", "说明")))
    kwargs: dict[str, Any] = {
        "actor": draw(actors()),
        "at": at,
        "note": note,
        "evidence": draw(st.sampled_from(((), ("佐证.pdf",), ("a.pdf", "b.jpg")))),
    }
    if name == "stage":
        kwargs["next_checkpoint"] = day + dt.timedelta(days=days)
    elif name == "rebound":
        kwargs["deadline"] = day + dt.timedelta(days=days)
    elif name == "extend":
        kwargs.update(
            requested_by=draw(st.one_of(st.none(), actors())),
            until=deadline + dt.timedelta(days=days),
            reason=note,
        )
    elif name == "spot_check":
        kwargs["seed"] = draw(st.one_of(st.none(), st.integers(0, 2**40)))
    elif name == "cancel":
        kwargs["reason"] = note
    elif name == "record_measure":
        kwargs["measure"] = f"{fid}-{draw(st.sampled_from(('1', '2', '9')))}"
    if draw(st.integers(0, 9)) == 0:
        kwargs["expected_version"] = draw(st.integers(0, 12))
    return {"finding_id": fid, "event": name, **kwargs}


def queries(findings: list[Any]) -> tuple[st.SearchStrategy[AgendaQuery], ...]:
    """Agenda queries, one strategy per criterion and one combining them.

    Their days and instants sit on, just before and just after the findings' own.
    """
    one_day, one_us = dt.timedelta(days=1), dt.timedelta(microseconds=1)

    def around(values: list[Any], step: dt.timedelta, default: Any) -> st.SearchStrategy[Any]:
        near = {v + k * step for v in values if v is not None for k in (-1, 0, 1)}
        return st.sampled_from(sorted(near or {default}))

    deadline = around([f.deadline for f in findings], one_day, START.date())
    checkpoint = around([f.next_checkpoint for f in findings], one_day, START.date())
    recurring = around([f.recurring_due for f in findings], one_day, START.date())
    completed = around([f.completed_at for f in findings], one_us, START)
    inspection = st.sampled_from(INSPECTIONS)
    states = st.frozensets(st.sampled_from(STATES), max_size=3)
    combined = st.builds(
        AgendaQuery,
        inspection=st.none() | inspection,
        states=st.none() | states,
        deadline_until=st.none() | deadline,
        checkpoint_before=st.none() | checkpoint,
        completed_until=st.none() | completed,
        recurring_due_until=st.none() | recurring,
    )
    return (
        st.builds(AgendaQuery, inspection=inspection),
        st.builds(AgendaQuery, states=states),
        st.builds(AgendaQuery, deadline_until=deadline, states=st.none() | states),
        st.builds(AgendaQuery, checkpoint_before=checkpoint),
        st.builds(AgendaQuery, completed_until=completed),
        st.builds(AgendaQuery, recurring_due_until=recurring),
        combined,
    )


class BackendsAgree(RuleBasedStateMachine):
    """Random Ledger operations on a durable backend and on memory; both must agree at every step."""

    findings = Bundle("findings")
    max_findings: ClassVar[int] = 4

    def __init__(self) -> None:
        """Open both ledgers with the same clock and policy, and add the first inspection."""
        super().__init__()
        self.memory = Ledger(MemoryStore(), policy=POLICY, clock=lambda: CLOCK)
        self.durable = Ledger(self.open_durable(), policy=POLICY, clock=lambda: CLOCK)
        self.steps = 0
        self.both(
            lambda lg: lg.add_inspection(
                "T", title="巡察", feedback_at=START.date() - dt.timedelta(days=1), at=START
            )
        )

    # -- the backend under test (subclasses)

    def open_durable(self) -> Store:
        """Open (or reopen) the durable store."""
        raise NotImplementedError

    def close_durable(self) -> None:
        """Close the durable ledger and release what it holds."""
        self.durable.close()

    def teardown(self) -> None:
        """Close both ledgers."""
        self.memory.close()
        self.close_durable()

    # -- helpers

    def both(self, op: Callable[[Ledger], Any]) -> tuple[Any, ...]:
        """Run *op* on both ledgers; they must have the same outcome."""
        expected = outcome(op, self.memory)
        actual = outcome(op, self.durable)
        assert actual == expected
        return expected

    # -- rules

    @initialize(target=findings, owner=owners(), ms=measures("F0"))
    def first_finding(self, owner: Any, ms: Any) -> Any:
        """Every run starts with one finding."""
        return self._add("F0", owner, ms, "T")

    @precondition(lambda self: self.memory.store.count() < self.max_findings)
    @rule(target=findings, owner=owners(), n=st.integers(1, 6), data=st.data())
    def add_finding(self, owner: Any, n: int, data: st.DataObject) -> Any:
        """Add a finding (an existing id must fail the same way on both)."""
        fid = f"F{n}"
        return self._add(
            fid, owner, data.draw(measures(fid)), data.draw(st.sampled_from(INSPECTIONS))
        )

    def _add(self, fid: str, owner: Any, ms: Any, inspection: str) -> Any:
        self.both(
            lambda lg: lg.add_finding(
                fid,
                inspection=inspection,
                title=f"问题 {fid}",
                kind="deadline",
                owner=owner,
                deadline=(START + dt.timedelta(days=30)).date(),
                measures=ms,
                actor="巡察办",
                at=START,
            )
        )
        return fid if fid in self.memory else multiple()

    @rule(inspection=st.sampled_from(INSPECTIONS), day=st.integers(-3, 3))
    def add_inspection(self, inspection: str, day: int) -> None:
        """Add an inspection (the second time it is a duplicate on both)."""
        feedback = START.date() + dt.timedelta(days=day)
        self.both(
            lambda lg: lg.add_inspection(inspection, title="第二轮", feedback_at=feedback, at=START)
        )

    def _draw_fire(self, data: st.DataObject, fid: str) -> dict[str, Any]:
        f = self.memory.get(fid)
        last = pendulum.instance(self.memory.history(fid)[-1].at)
        return data.draw(fire_args(fid, f.state, f.deadline, last))

    @rule(fid=findings, data=st.data())
    def fire(self, fid: str, data: st.DataObject) -> None:
        """Fire one random event at a finding on both ledgers."""
        args = self._draw_fire(data, fid)
        self.both(lambda lg: lg.fire(**args))
        self.steps += 1

    @rule(fid=findings, data=st.data())
    def advance(self, fid: str, data: st.DataObject) -> None:
        """Fire the next event along the lifecycle with valid arguments (to reach the deep states)."""
        args = self._next_along_lifecycle(data, fid)
        if args is not None:
            self.both(lambda lg: lg.fire(**args))
            self.steps += 1

    def _next_along_lifecycle(self, data: st.DataObject, fid: str) -> dict[str, Any] | None:
        f = self.memory.get(fid)
        last = pendulum.instance(self.memory.history(fid)[-1].at)
        at = last.add(days=data.draw(st.sampled_from((0, 1, 15)), label="days later"))
        day = at.in_timezone("Asia/Shanghai").date()
        others = [a for a in ACTORS if a not in (f.owner.person, f.submitter)]
        base: dict[str, Any] = {
            "finding_id": fid,
            "at": at,
            "actor": data.draw(st.sampled_from(others)),
        }
        proof = {"evidence": ("佐证.pdf",), "note": "说明"}
        pending = [m.id for m in f.measures if not m.is_done]
        if f.state == "assigned":
            return {**base, "event": "start"}
        if f.state in ("in_progress", "staged_result"):
            if pending:
                return {**base, "event": "record_measure", "measure": pending[0]}
            if f.state == "in_progress" and data.draw(st.booleans(), label="stage first"):
                return {
                    **base,
                    **proof,
                    "event": "stage",
                    "next_checkpoint": day + dt.timedelta(days=30),
                }
            return {**base, **proof, "event": "submit"}
        if f.state == "pending_signoff":
            return {**base, "event": "sign_off"}
        if f.state in ("completed", "rechecked"):
            name = data.draw(
                st.sampled_from(("recheck", "spot_check", "rebound")), label="after sign-off"
            )
            extra = {
                "recheck": {},
                "spot_check": {"seed": 7},
                "rebound": {"deadline": day + dt.timedelta(days=20)},
            }
            return {**base, **proof, "event": name, **extra[name]}
        return None

    @rule(data=st.data(), n=st.integers(1, 5), abort_after=st.one_of(st.none(), st.integers(0, 5)))
    def batch(self, data: st.DataObject, n: int, abort_after: int | None) -> None:
        """Fire several events in one batch on both; with *abort_after* set it fails midway and nothing stays.

        The events are drawn while the memory ledger runs its batch (so each
        one fits the state the batch has reached), then replayed on the
        durable ledger.
        """
        ids = [f.id for f in self.memory.findings()]
        fids = [data.draw(st.sampled_from(ids)) for _ in range(n)]
        plans: list[dict[str, Any]] = []

        def run(ledger: Ledger, draw: bool) -> list[tuple[Any, ...]]:
            results: list[tuple[Any, ...]] = []
            try:
                with ledger.batch():
                    for i, fid in enumerate(fids):
                        if abort_after == i:
                            pull_the_plug()
                        if draw:
                            valid = data.draw(st.booleans(), label="along the lifecycle")
                            plan = self._next_along_lifecycle(data, fid) if valid else None
                            plans.append(plan or self._draw_fire(data, fid))
                        args = plans[i]
                        results.append(outcome(lambda lg: lg.fire(**args), ledger))  # noqa: B023
            except Abort:
                results.append(("aborted",))
            return results

        expected = run(self.memory, draw=True)
        assert run(self.durable, draw=False) == expected
        self.steps += n

    @rule()
    def reopen(self) -> None:
        """Close the durable ledger and open it again: nothing is lost."""
        self.durable.close()
        self.durable = Ledger(self.open_durable(), policy=POLICY, clock=lambda: CLOCK)

    @rule(data=st.data())
    def select(self, data: st.DataObject) -> None:
        """Agenda selections (each criterion, and combined) return the same findings in the same order on both."""
        for strategy in queries(list(self.memory.findings())):
            query = data.draw(strategy)
            assert list(self.durable.store.select(query)) == list(self.memory.store.select(query))

    # -- invariants

    @invariant()
    def same_ledger(self) -> None:
        """Both hold the same inspections, findings, histories and chain head."""
        assert self.durable.inspections() == self.memory.inspections()
        findings = list(self.memory.findings())
        assert list(self.durable.findings()) == findings
        for f in findings:
            assert self.durable.history(f.id) == self.memory.history(f.id)
        assert self.durable.head() == self.memory.head()

    @invariant()
    def durable_verifies(self) -> None:
        """The durable chain verifies against the memory head (every fifth step: it replays everything)."""
        if self.steps % 5 == 0:
            result = self.durable.verify(anchor=self.memory.head())
            assert result.ok, result.problems


class SqliteAgrees(BackendsAgree):
    """SQLite (a file in a fresh directory per run) against memory."""

    def __init__(self) -> None:
        """Make the directory, then open both ledgers."""
        self.directory = tempfile.mkdtemp(prefix="rectflow-stateful-")
        super().__init__()

    def open_durable(self) -> Store:
        """The SQLite file of this run."""
        return SqliteStore(f"{self.directory}/ledger.db")

    def close_durable(self) -> None:
        """Close it and remove the directory."""
        self.durable.close()
        shutil.rmtree(self.directory, ignore_errors=True)


TestSqliteAgreesWithMemory = SqliteAgrees.TestCase
TestSqliteAgreesWithMemory.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class PostgresAgrees(BackendsAgree):
    """PostgreSQL (a fresh schema per run) against memory."""

    url: ClassVar[str] = ""

    def __init__(self) -> None:
        """Pick the schema, then open both ledgers."""
        self.schema = f"rf_stateful_{uuid.uuid4().hex[:10]}"
        super().__init__()

    def open_durable(self) -> Store:
        """The schema of this run."""
        return PostgresStore(self.url, schema=self.schema)

    def close_durable(self) -> None:
        """Close it and drop the schema."""
        import psycopg  # noqa: PLC0415

        self.durable.close()
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


@pytest.mark.postgres
def test_postgres_agrees_with_memory(pg_url: str) -> None:
    """PostgreSQL and memory agree under the same random operations (20 runs x 25 steps)."""
    PostgresAgrees.url = pg_url
    case = PostgresAgrees.TestCase
    case.settings = settings(
        max_examples=20,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    case("runTest").runTest()
