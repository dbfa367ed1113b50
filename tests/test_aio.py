"""rectflow.aio.AsyncLedger: the Ledger's methods as coroutines, the loop never stalled."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pendulum
import pytest

from rectflow import Event, Ledger, Owner, Policy
from rectflow.aio import AsyncLedger
from rectflow.exceptions import (
    ConcurrencyConflict,
    FindingNotFound,
    InvalidInput,
    RuleViolation,
    TransitionNotAllowed,
)

NOW = pendulum.datetime(2030, 1, 1, tz="Asia/Shanghai")
POLICY = Policy(calendar="weekdays")
OWNER = Owner(leader="张校长", department="德育处", person="王老师")
TASKS = 100
STALL = 0.020
"""The longest the event loop may go without running the ticker (seconds)."""


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A ledger target on each backend."""
    if request.param == "memory":
        return ":memory:"
    if request.param == "sqlite":
        return str(tmp_path / "aio.db")
    return str(request.getfixturevalue("pg_target"))


async def setup(ledger: Any, n: int) -> None:
    """An inspection and *n* findings (a sync or async ledger: awaited when it is async)."""

    async def call(result: Any) -> Any:
        return await result if asyncio.iscoroutine(result) else result

    await call(
        ledger.add_inspection(
            "R1", title="巡察", feedback_at="2029-04-30", at="2029-04-30T09:00:00+08:00"
        )
    )
    for i in range(n):
        await call(
            ledger.add_finding(
                f"F{i:03d}",
                inspection="R1",
                title=f"问题{i}",
                kind="deadline",
                owner=OWNER,
                deadline="2029-12-31",
                actor="巡察办",
                at="2029-05-01T09:00:00+08:00",
            )
        )


ATTEMPTS = 3
"""Rounds of the stall test; one must stay under STALL (the machine's other load can pause a
whole process for longer, whatever the design; a loop blocked by the ledger fails every round)."""


async def _lag_while(work: Any) -> float:
    """The loop's worst lag (seconds) while *work* (a coroutine) runs, ticked every 1 ms."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - before - 0.001)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    try:
        await work
    finally:
        done.set()
        await tick
    return max(lags)


def test_the_ticker_sees_a_blocked_loop():
    """The lag probe is not blind: 50 ms of blocking work on the loop shows as a stall."""

    async def block() -> None:
        await asyncio.sleep(0.005)
        time.sleep(0.05)  # noqa: ASYNC251 - what a sync ledger call in async def does

    assert asyncio.run(_lag_while(block())) > STALL


def test_concurrent_tasks_never_stall_the_loop(target):
    """100 tasks firing at once: every fire lands, and the loop's lag stays under 20 ms."""

    async def main() -> tuple[list[float], list[Any], int]:
        async with AsyncLedger.open(target, policy=POLICY, clock=lambda: NOW) as ledger:
            await setup(ledger, TASKS * ATTEMPTS)

            async def work(i: int) -> Any:
                fid = f"F{i:03d}"
                await ledger.fire(fid, "start", actor="王老师", at="2029-05-02T09:00:00+08:00")
                await ledger.fire(
                    fid, "submit", actor="王老师", at="2029-05-03T09:00:00+08:00", evidence=["e"]
                )
                return await ledger.get(fid)

            worst: list[float] = []
            results: list[Any] = []
            for attempt in range(ATTEMPTS):
                batch = range(attempt * TASKS, (attempt + 1) * TASKS)
                gathered = asyncio.gather(*(work(i) for i in batch))
                worst.append(await _lag_while(gathered))
                results += gathered.result()
                if worst[-1] < STALL:
                    break
            assert await ledger.verify()
            return worst, results, (await ledger.head()).count

    worst, results, count = asyncio.run(main())
    assert [(f.state, f.version) for f in results] == [("pending_signoff", 3)] * len(results)
    assert count == 1 + TASKS * ATTEMPTS + 2 * len(results)
    assert min(worst) < STALL, (
        f"the event loop stalled for {[round(w * 1000, 1) for w in worst]} ms"
    )


def test_same_chain_as_the_sync_ledger(target, tmp_path):
    """The same calls through AsyncLedger and Ledger write the same chain (same head)."""

    async def run_async() -> Any:
        async with AsyncLedger.open(target, policy=POLICY, clock=lambda: NOW) as ledger:
            await setup(ledger, 3)
            await ledger.fire("F000", "start", actor="王老师", at="2029-05-02T09:00:00+08:00")
            async with ledger.batch():
                await ledger.fire("F001", "start", actor="王老师", at="2029-05-02T09:00:00+08:00")
                await ledger.fire("F002", "start", actor="王老师", at="2029-05-02T09:00:00+08:00")
            return await ledger.head()

    sync = Ledger.open(str(tmp_path / "sync.db"), policy=POLICY, clock=lambda: NOW)
    asyncio.run(setup(sync, 3))
    sync.fire("F000", "start", actor="王老师", at="2029-05-02T09:00:00+08:00")
    with sync.batch():
        sync.fire("F001", "start", actor="王老师", at="2029-05-02T09:00:00+08:00")
        sync.fire("F002", "start", actor="王老师", at="2029-05-02T09:00:00+08:00")
    assert asyncio.run(run_async()) == sync.head()
    sync.close()


def test_same_errors_as_the_sync_ledger(target):
    """The ledger's own exceptions reach the awaiting task, and nothing is stored for them."""

    async def main() -> None:
        async with AsyncLedger.open(target, policy=POLICY, clock=lambda: NOW) as ledger:
            await setup(ledger, 1)
            head = await ledger.head()
            with pytest.raises(FindingNotFound):
                await ledger.fire("nope", "start", actor="王老师")
            with pytest.raises(TransitionNotAllowed):
                await ledger.fire("F000", "sign_off", actor="李主任")
            with pytest.raises(RuleViolation):  # later than the clock
                await ledger.fire("F000", "start", actor="王老师", at="2031-01-01T00:00:00+08:00")
            with pytest.raises(ConcurrencyConflict):
                await ledger.fire("F000", "start", actor="王老师", expected_version=5)
            with pytest.raises(InvalidInput):
                await ledger.fire("F000", "start", actor="王老师", evidence=[3])
            assert await ledger.head() == head

    asyncio.run(main())


def test_a_failed_batch_stores_nothing_and_other_tasks_stay_out():
    """A batch that raises rolls back; a task outside the block waits, and is not part of it."""

    async def main() -> None:
        async with AsyncLedger.open(":memory:", policy=POLICY, clock=lambda: NOW) as ledger:
            await setup(ledger, 2)
            head = await ledger.head()
            entered = asyncio.Event()

            async def outsider() -> None:
                await entered.wait()
                await ledger.fire("F001", "start", actor="王老师", at="2029-05-02T09:00:00+08:00")

            other = asyncio.create_task(outsider())
            with pytest.raises(RuleViolation):  # noqa: PT012 - the block fails
                async with ledger.batch():
                    await ledger.fire(
                        "F000", "start", actor="王老师", at="2029-05-02T09:00:00+08:00"
                    )
                    entered.set()
                    await asyncio.sleep(0.05)  # the outsider is waiting, not joining
                    await ledger.fire("F000", "stage", actor="王老师")  # no note: refused
            await other
            assert (await ledger.get("F000")).version == 1
            assert (await ledger.get("F001")).version == 2
            assert (await ledger.head()).count == head.count + 1

    asyncio.run(main())


def test_a_task_started_in_a_batch_joins_it_only_while_it_is_open():
    """Tasks gathered inside the block join it; one still running after it waits its turn."""

    async def main() -> None:
        async with AsyncLedger.open(":memory:", policy=POLICY, clock=lambda: NOW) as ledger:
            await setup(ledger, 4)
            at = "2029-05-02T09:00:00+08:00"
            release = asyncio.Event()

            async def late() -> None:
                await release.wait()
                await ledger.fire("F003", "start", actor="王老师", at=at)

            async with ledger.batch():
                await asyncio.gather(
                    *(ledger.fire(f"F00{i}", "start", actor="王老师", at=at) for i in range(2))
                )
                straggler = asyncio.create_task(late())
            with pytest.raises(RuleViolation):  # noqa: PT012 - the block fails
                async with ledger.batch():
                    await ledger.fire("F002", "start", actor="王老师", at=at)
                    release.set()
                    await asyncio.sleep(0.05)  # the straggler waits: it is not in this block
                    await ledger.fire("F002", "stage", actor="王老师")  # no note: refused
            await straggler
            versions = [(await ledger.get(f"F00{i}")).version for i in range(4)]
            assert versions == [2, 2, 1, 2]

    asyncio.run(main())


def test_one_worker_thread_per_ledger():
    """Every call runs on the AsyncLedger's one worker thread, never the loop's, never a new one."""

    async def main() -> set[str]:
        names: set[str] = set()
        async with AsyncLedger.open(":memory:", policy=POLICY, clock=lambda: NOW) as ledger:
            await setup(ledger, 0)
            for _ in range(20):
                names.add(await ledger.run(lambda: threading.current_thread().name))
        return names

    names = asyncio.run(main())
    assert len(names) == 1
    assert names.pop().startswith("rectflow-aio")


def test_subscribers_are_called_on_the_loop():
    """An async subscriber runs on the event loop after commit, once per event; plain ones too."""

    async def main() -> None:
        async with AsyncLedger.open(":memory:", policy=POLICY, clock=lambda: NOW) as ledger:
            loop_thread = threading.current_thread()
            seen: list[tuple[str, bool]] = []
            plain: list[str] = []

            async def on_event(event: Event) -> None:
                await asyncio.sleep(0)
                seen.append((event.name, threading.current_thread() is loop_thread))

            ledger.subscribe(on_event)
            stop = ledger.subscribe(lambda e: plain.append(e.name), events=["add"])
            await setup(ledger, 2)
            for _ in range(5):
                await asyncio.sleep(0.01)
            stop()
            assert seen == [("add_inspection", True), ("add", True), ("add", True)]
            assert plain == ["add", "add"]
            with pytest.raises(InvalidInput):
                ledger.subscribe("not callable")  # type: ignore[arg-type]

    asyncio.run(main())


def test_open_as_awaitable_and_close_twice(tmp_path):
    """``await AsyncLedger.open(...)`` works too; close is idempotent."""

    async def main() -> None:
        ledger = await AsyncLedger.open(str(tmp_path / "x.db"), policy=POLICY)
        assert ledger.policy == POLICY
        assert ledger.lang == "zh"
        assert await ledger.inspections() == []
        await ledger.close()
        await ledger.close()

    asyncio.run(main())


def test_every_ledger_method_has_its_coroutine_with_the_same_parameters():
    """AsyncLedger keeps up with Ledger: each public method, the same parameters and defaults
    (a parameter added to Ledger and not to AsyncLedger fails here)."""
    import inspect  # noqa: PLC0415

    for name, method in inspect.getmembers(Ledger, callable):
        if name.startswith("_"):
            continue
        mirror = getattr(AsyncLedger, name, None)
        assert mirror is not None, name

        def shape(fn):
            return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

        assert shape(mirror) == shape(method), name
