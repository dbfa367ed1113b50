"""The ledger for asyncio applications: :class:`AsyncLedger`.

Every public method of :class:`rectflow.Ledger` as a coroutine, for ``async def``
request handlers::

    from rectflow.aio import AsyncLedger

    async with AsyncLedger.open("rectflow.db") as ledger:
        await ledger.fire("1.1.1", "start", actor="王老师")

Each :class:`AsyncLedger` owns one worker thread, where its ledger is opened and
every call runs, one at a time and in the order they were made: the event loop
only waits, and never runs the ledger's I/O or its checks. The errors are the
ledger's own (:class:`~rectflow.ConcurrencyConflict`, :class:`~rectflow.RuleViolation`
…), raised in the awaiting task; the chain written is the one the sync ledger
writes. On PostgreSQL too the work runs in that one thread (on the ledger's own
connection), not on psycopg's async connection: see the how-to "Embed rectflow in
a web service".
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
import inspect
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, asynccontextmanager
from typing import Any, TypeVar

import pendulum

from rectflow._io.cells import FileLimits
from rectflow._io.files import ImportSummary
from rectflow._ledger import Ledger
from rectflow._model import Event, Finding, Inspection, Measure, Owner
from rectflow._policy import Period, Policy
from rectflow._render.agenda import Agenda
from rectflow._render.report import Report
from rectflow._roles import Actor, Grant
from rectflow._spec import WorkflowSpec
from rectflow._store.base import Head
from rectflow._views.integrity import SignedHead
from rectflow._views.verify import Verification
from rectflow._workflow import Workflow
from rectflow._writer import EventPage, SpotCheckDraw

__all__ = ["AsyncLedger"]

_T = TypeVar("_T")
_log = logging.getLogger("rectflow")
_IN_BATCH: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "rectflow_aio_batch", default=None
)
"""The token of the :meth:`AsyncLedger.batch` block the current task is inside (tasks it
starts inherit it; it counts only while that block is open)."""


class _Opening:
    """What :meth:`AsyncLedger.open` returns: await it, or use it as ``async with``."""

    def __init__(self, opener: Callable[[], Awaitable[AsyncLedger]]) -> None:
        self._opener = opener
        self._ledger: AsyncLedger | None = None

    def __await__(self) -> Generator[Any, None, AsyncLedger]:
        return self._opener().__await__()

    async def __aenter__(self) -> AsyncLedger:
        self._ledger = await self._opener()
        return self._ledger

    async def __aexit__(self, *exc: object) -> None:
        if self._ledger is not None:
            await self._ledger.close()


class AsyncLedger:
    """A :class:`rectflow.Ledger` whose methods are coroutines, for asyncio.

    Open one with :meth:`open` (``await AsyncLedger.open(…)`` or ``async with
    AsyncLedger.open(…) as ledger``). Its calls run one at a time on a worker
    thread of its own; the arguments, results and errors are the
    :class:`~rectflow.Ledger`'s. Share one per process among all tasks.

    Attributes:
        ledger: The synchronous ledger underneath (use it only from
            :meth:`run`, which runs in the worker thread).
        policy: The ledger's policy.
        workflow: The ledger's workflow.
        lang: The ledger's language.
    """

    def __init__(self, ledger: Ledger, executor: ThreadPoolExecutor) -> None:
        """Wrap *ledger*, used only from *executor*'s one thread; prefer :meth:`open`."""
        self.ledger = ledger
        self.policy: Policy = ledger.policy
        self.workflow: Workflow = ledger.workflow
        self.lang: str = ledger.lang
        self._executor = executor
        self._gate = asyncio.Lock()  # held by a batch, so that no other task's call joins it
        self._batch: object | None = None  # the token of the open batch block
        self._closed = False

    @classmethod
    def open(
        cls,
        target: str = ":memory:",
        *,
        policy: Policy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        workflow: Workflow | WorkflowSpec | str | os.PathLike[str] | None = None,
        lang: str = "zh",
    ) -> _Opening:
        """Open (or create) a ledger in a worker thread of its own.

        The arguments are :meth:`rectflow.Ledger.open`'s. Await the result, or use
        it as an async context manager that closes the ledger at its end.
        """

        async def opener() -> AsyncLedger:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rectflow-aio")
            try:
                ledger = await asyncio.get_running_loop().run_in_executor(
                    executor,
                    functools.partial(
                        Ledger.open,
                        target,
                        policy=policy,
                        clock=clock,
                        workflow=workflow,
                        lang=lang,
                    ),
                )
            except BaseException:
                executor.shutdown(wait=False)
                raise
            return cls(ledger, executor)

        return _Opening(opener)

    async def close(self) -> None:
        """Close the ledger and end its worker thread (a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.ledger.close)
        finally:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> AsyncLedger:  # noqa: PYI034 - Self needs Python 3.11
        """Use as an async context manager that closes the ledger."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the ledger."""
        await self.close()

    async def run(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run ``function(*args, **kwargs)`` in the worker thread, in turn with the other calls.

        For anything the coroutines do not cover, e.g.
        ``await ledger.run(lambda: list(ledger.ledger.store.chain()))``.
        """
        loop = asyncio.get_running_loop()
        call = functools.partial(function, *args, **kwargs)
        if self._in_batch():
            return await loop.run_in_executor(self._executor, call)
        async with self._gate:
            return await loop.run_in_executor(self._executor, call)

    # -- writes

    async def add_inspection(
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
        """:meth:`rectflow.Ledger.add_inspection`."""
        return await self.run(
            self.ledger.add_inspection,
            inspection_id,
            title=title,
            feedback_at=feedback_at,
            declared_findings=declared_findings,
            at=at,
            actor=actor,
            unit=unit,
        )

    async def change_inspection(
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
        """:meth:`rectflow.Ledger.change_inspection`."""
        return await self.run(
            self.ledger.change_inspection,
            inspection_id,
            reason=reason,
            declared_findings=declared_findings,
            feedback_at=feedback_at,
            actor=actor,
            at=at,
            unit=unit,
        )

    async def submit_report(
        self,
        inspection: str,
        *,
        actor: str,
        evidence: Iterable[str] | str,
        at: dt.datetime | str | None = None,
        note: str | None = None,
    ) -> Inspection:
        """:meth:`rectflow.Ledger.submit_report`."""
        return await self.run(
            self.ledger.submit_report, inspection, actor=actor, evidence=evidence, at=at, note=note
        )

    async def add_finding(
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
        """:meth:`rectflow.Ledger.add_finding`."""
        return await self.run(
            self.ledger.add_finding,
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

    async def fire(
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
        """:meth:`rectflow.Ledger.fire`."""
        return await self.run(
            self.ledger.fire,
            finding_id,
            event,
            actor=actor,
            at=at,
            note=note,
            evidence=evidence,
            expected_version=expected_version,
            **arguments,
        )

    async def add_actor(
        self,
        name: str,
        *,
        roles: Iterable[str] | str,
        inspection: str | None = None,
        actor: str | None = None,
        at: dt.datetime | str | None = None,
        note: str | None = None,
    ) -> Actor:
        """:meth:`rectflow.Ledger.add_actor`."""
        return await self.run(
            self.ledger.add_actor,
            name,
            roles=roles,
            inspection=inspection,
            actor=actor,
            at=at,
            note=note,
        )

    async def revoke_role(
        self,
        name: str,
        role: str,
        *,
        inspection: str | None = None,
        actor: str,
        at: dt.datetime | str | None = None,
        note: str | None = None,
    ) -> None:
        """:meth:`rectflow.Ledger.revoke_role`."""
        await self.run(
            self.ledger.revoke_role,
            name,
            role,
            inspection=inspection,
            actor=actor,
            at=at,
            note=note,
        )

    async def import_file(
        self,
        path: str | os.PathLike[str],
        *,
        actor: str,
        format: str | None = None,  # noqa: A002 - the ledger's own argument name
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
        """:meth:`rectflow.Ledger.import_file` (*progress* is called in the worker thread)."""
        return await self.run(
            self.ledger.import_file,
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

    async def export_file(
        self,
        path: str | os.PathLike[str],
        *,
        format: str | None = None,  # noqa: A002 - the ledger's own argument name
        as_of: dt.date | dt.datetime | str | None = None,
        inspection: str | None = None,
    ) -> int:
        """:meth:`rectflow.Ledger.export_file`."""
        return await self.run(
            self.ledger.export_file, path, format=format, as_of=as_of, inspection=inspection
        )

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[AsyncLedger]:
        """:meth:`rectflow.Ledger.batch`: the block's calls commit together, or none.

        While the block runs, the calls of other tasks wait for it; calls made
        from inside the block (by the task that opened it) join it.
        """
        if self._in_batch():  # nested: joins the outer block
            yield self
            return
        loop = asyncio.get_running_loop()
        async with self._gate:
            block: AbstractContextManager[Ledger] = self.ledger.batch()
            await loop.run_in_executor(self._executor, block.__enter__)
            self._batch = marker = object()
            token = _IN_BATCH.set(marker)
            try:
                yield self
            except BaseException as exc:
                self._batch = None
                _IN_BATCH.reset(token)
                suppress = await loop.run_in_executor(
                    self._executor, block.__exit__, type(exc), exc, exc.__traceback__
                )
                if not suppress:
                    raise
            else:
                self._batch = None
                _IN_BATCH.reset(token)
                await loop.run_in_executor(self._executor, block.__exit__, None, None, None)

    def _in_batch(self) -> bool:
        """Whether the current task is inside this ledger's open batch block."""
        return self._batch is not None and _IN_BATCH.get() is self._batch

    # -- reads

    async def now(self) -> pendulum.DateTime:
        """:meth:`rectflow.Ledger.now`."""
        return await self.run(self.ledger.now)

    async def get(self, finding_id: str) -> Finding:
        """:meth:`rectflow.Ledger.get`."""
        return await self.run(self.ledger.get, finding_id)

    async def contains(self, finding_id: str) -> bool:
        """``finding_id in ledger``."""
        return await self.run(self.ledger.__contains__, finding_id)

    async def findings(
        self, inspection: str | None = None, *, state: str | None = None
    ) -> list[Finding]:
        """:meth:`rectflow.Ledger.findings`, as a list."""
        return await self.run(lambda: list(self.ledger.findings(inspection, state=state)))

    async def history(self, finding_id: str) -> tuple[Event, ...]:
        """:meth:`rectflow.Ledger.history`."""
        return await self.run(self.ledger.history, finding_id)

    async def inspection(self, inspection_id: str) -> Inspection:
        """:meth:`rectflow.Ledger.inspection`."""
        return await self.run(self.ledger.inspection, inspection_id)

    async def inspections(self) -> list[Inspection]:
        """:meth:`rectflow.Ledger.inspections`."""
        return await self.run(self.ledger.inspections)

    async def resolve_deadline(self, spec: object, inspection: Inspection) -> dt.date:
        """:meth:`rectflow.Ledger.resolve_deadline`."""
        return await self.run(self.ledger.resolve_deadline, spec, inspection)

    async def as_of(
        self, as_of: dt.date | dt.datetime | str, inspection: str | None = None
    ) -> list[Finding]:
        """:meth:`rectflow.Ledger.as_of`."""
        return await self.run(self.ledger.as_of, as_of, inspection)

    async def report(
        self,
        inspection: str,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        lang: str | None = None,
    ) -> Report:
        """:meth:`rectflow.Ledger.report`."""
        return await self.run(self.ledger.report, inspection, as_of=as_of, lang=lang)

    async def agenda(
        self,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        inspection: str | None = None,
        upcoming: int = 0,
    ) -> Agenda:
        """:meth:`rectflow.Ledger.agenda`."""
        return await self.run(
            self.ledger.agenda, as_of=as_of, inspection=inspection, upcoming=upcoming
        )

    async def draw_spot_checks(
        self,
        inspection: str,
        *,
        k: int | None = None,
        seed: int | None = None,
        as_of: dt.date | str | None = None,
    ) -> SpotCheckDraw:
        """:meth:`rectflow.Ledger.draw_spot_checks`."""
        return await self.run(self.ledger.draw_spot_checks, inspection, k=k, seed=seed, as_of=as_of)

    async def actors(self) -> list[Actor]:
        """:meth:`rectflow.Ledger.actors`."""
        return await self.run(self.ledger.actors)

    async def grants(self, name: str | None = None) -> list[Grant]:
        """:meth:`rectflow.Ledger.grants`."""
        return await self.run(self.ledger.grants, name)

    async def roles_mode(self) -> bool:
        """:attr:`rectflow.Ledger.roles_mode`."""
        return await self.run(lambda: self.ledger.roles_mode)

    async def ledger_history(self) -> tuple[Event, ...]:
        """:meth:`rectflow.Ledger.ledger_history`."""
        return await self.run(self.ledger.ledger_history)

    async def head(self) -> Head:
        """:meth:`rectflow.Ledger.head`."""
        return await self.run(self.ledger.head)

    async def signed_head(self, key: bytes | str) -> SignedHead:
        """:meth:`rectflow.Ledger.signed_head`."""
        return await self.run(self.ledger.signed_head, key)

    async def verify(
        self,
        anchor: Head | tuple[int, str] | SignedHead | str | None = None,
        *,
        key: bytes | str | None = None,
        evidence_dir: str | None = None,
    ) -> Verification:
        """:meth:`rectflow.Ledger.verify`."""
        return await self.run(self.ledger.verify, anchor, key=key, evidence_dir=evidence_dir)

    async def events_since(self, cursor: int = 0, *, limit: int = 1000) -> EventPage:
        """:meth:`rectflow.Ledger.events_since`."""
        return await self.run(self.ledger.events_since, cursor, limit=limit)

    # -- hooks

    def subscribe(
        self, callback: Callable[[Event], object], events: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """:meth:`rectflow.Ledger.subscribe`, with *callback* called on this event loop.

        Call it from a coroutine. After each commit the callback is scheduled on
        the running loop, once per event; it may be a coroutine function (its
        coroutine runs as a task). A failure is logged (logger ``"rectflow"``).

        Returns:
            A function that unsubscribes it.
        """
        loop = asyncio.get_running_loop()

        def relay(event: Event) -> None:
            loop.call_soon_threadsafe(_notify, loop, callback, event)

        if not callable(callback):  # the ledger refuses it, in its language
            return self.ledger.subscribe(callback, events)
        return self.ledger.subscribe(relay, events)


def _notify(
    loop: asyncio.AbstractEventLoop, callback: Callable[[Event], object], event: Event
) -> None:
    """Call a subscriber on the loop; an awaitable result runs as a task; failures are logged."""
    try:
        result = callback(event)
    except Exception:  # noqa: BLE001 - a subscriber's failure never undoes a commit
        _log.exception("rectflow: subscriber %r failed on %s", callback, event.name)
        return
    if inspect.isawaitable(result):
        task = loop.create_task(_awaited(result, callback, event))
        _TASKS.add(task)
        task.add_done_callback(_TASKS.discard)


_TASKS: set[asyncio.Task[None]] = set()
"""Subscriber tasks still running (kept referenced until done)."""


async def _awaited(result: Awaitable[object], callback: object, event: Event) -> None:
    try:
        await result
    except Exception:  # noqa: BLE001 - logged like a sync subscriber's failure
        _log.exception("rectflow: subscriber %r failed on %s", callback, event.name)
