"""The peers of the write-path benchmarks, on rectflow's own states and events.

Each peer moves a record through the same edges (``rectflow._workflow.TRANSITIONS``)
with one guard and one history callback per transition, the least a workflow library
does:

- the guard: the signer is not the submitter (checked on every transition, as
  rectflow checks its rules on every event);
- the callback: appends ``(event, actor, at)`` to the record's history.

(a) :class:`DictPeer` — a hand-written dict dispatch on slotted ``attrs`` objects;
(b) :class:`SharedMachinePeer` — ``transitions``, one shared machine driven by
    ``machine.events[name].trigger(model)``;
(c) :class:`MachinePerObjectPeer` — ``transitions``, a Machine per object (its default);
(d) :class:`StatemachinePeer` — ``python-statemachine``, one instance per object;
(e) :class:`RawSqlPeer` — a raw DB-API loop (``sqlite3`` or ``psycopg``) doing the
    version-checked update and the hashed insert rectflow does, on rectflow's schema;
    :class:`RawPgFirePeer` — its PostgreSQL fire with one commit each: the same two
    round trips and the same statements as ``Ledger.fire`` on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import attrs
from transitions import Machine

from rectflow._model import STATES
from rectflow._workflow import TRANSITIONS

EDGES: dict[tuple[str, str], str] = {}
for _t in TRANSITIONS:
    for _src in _t["source"] if isinstance(_t["source"], list) else [_t["source"]]:
        EDGES[(_src, _t["trigger"])] = _src if _t["dest"] == "=" else _t["dest"]


class Refused(Exception):
    """A peer's guard or edge refused an event."""


@attrs.define(slots=True)
class Record:
    """A peer's record: a state, who submitted it, and its history."""

    id: str
    state: str = "assigned"
    submitter: str | None = None
    history: list[tuple[str, str, Any]] = attrs.Factory(list)


def _allowed(record: Any, name: str, actor: str) -> bool:
    """The guard: a signer is not the submitter."""
    return not (name == "sign_off" and actor == record.submitter)


def _record(record: Any, name: str, actor: str, at: Any) -> None:
    """The history callback."""
    record.history.append((name, actor, at))
    if name == "submit":
        record.submitter = actor


class DictPeer:
    """(a) ``EDGES[(state, event)]`` on a slotted attrs record, guard and callback inline."""

    name = "dict dispatch (a)"

    def new(self, fid: str) -> Record:
        """A new record."""
        return Record(fid)

    def fire(self, record: Record, name: str, actor: str, at: Any) -> None:
        """Move *record* by *name*."""
        dest = EDGES.get((record.state, name))
        if dest is None or not _allowed(record, name, actor):
            raise Refused(name)
        _record(record, name, actor, at)
        record.state = dest


def _machine_kwargs(model: Any) -> dict[str, Any]:
    return {
        "model": model,
        "states": list(STATES),
        "transitions": [
            dict(t, conditions=["_guard"] if model is not None else [_guard_shared])
            for t in TRANSITIONS
        ],
        "initial": "assigned",
        "auto_transitions": False,
        "send_event": True,
        "after_state_change": "_after" if model is not None else _after_shared,
    }


def _guard_shared(event: Any) -> bool:
    return _allowed(event.model, event.event.name, event.kwargs["actor"])


def _after_shared(event: Any) -> None:
    _record(event.model, event.event.name, event.kwargs["actor"], event.kwargs["at"])


class SharedMachinePeer:
    """(b) One ``transitions.Machine(model=None)`` for every record."""

    name = "transitions, shared machine (b)"

    def __init__(self) -> None:
        """Build the one machine."""
        self.machine = Machine(**_machine_kwargs(None))
        self.events = self.machine.events

    def new(self, fid: str) -> Record:
        """A new record (the machine does not hold it)."""
        return Record(fid)

    def fire(self, record: Record, name: str, actor: str, at: Any) -> None:
        """Move *record* by *name* through the shared machine."""
        if not self.events[name].trigger(record, actor=actor, at=at):
            raise Refused(name)


class _MachineModel:
    """A model a per-object Machine decorates with its triggers."""

    def __init__(self, fid: str) -> None:
        self.id = fid
        self.submitter: str | None = None
        self.history: list[tuple[str, str, Any]] = []

    def _guard(self, event: Any) -> bool:
        return _allowed(self, event.event.name, event.kwargs["actor"])

    def _after(self, event: Any) -> None:
        _record(self, event.event.name, event.kwargs["actor"], event.kwargs["at"])


class MachinePerObjectPeer:
    """(c) ``transitions``' default: a Machine built for each record."""

    name = "transitions, Machine per object (c)"

    def new(self, fid: str) -> Any:
        """A new record with its own Machine."""
        model = _MachineModel(fid)
        Machine(**_machine_kwargs(model))
        return model

    def fire(self, record: Any, name: str, actor: str, at: Any) -> None:
        """Move *record* by its own trigger method."""
        if not getattr(record, name)(actor=actor, at=at):
            raise Refused(name)


def _statemachine_class() -> type:
    from statemachine import State, StateMachine  # noqa: PLC0415 - the bench extra

    states = {s: State(s, value=s, initial=s == "assigned", final=s == "cancelled") for s in STATES}
    namespace: dict[str, Any] = dict(states)
    for t in TRANSITIONS:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        edges = None
        for src in sources:
            dest = states[src] if t["dest"] == "=" else states[t["dest"]]
            edge = states[src].to(dest, cond="guard", after="record")
            edges = edge if edges is None else edges | edge
        namespace[t["trigger"]] = edges

    def guard(self: Any, event: str, actor: str, at: Any) -> bool:  # noqa: ARG001
        return _allowed(self, event, actor)

    def record(self: Any, event: str, actor: str, at: Any) -> None:
        _record(self, event, actor, at)

    namespace["guard"] = guard
    namespace["record"] = record
    return type("FindingMachine", (StateMachine,), namespace)


class StatemachinePeer:
    """(d) ``python-statemachine``: one instance per record."""

    name = "python-statemachine (d)"

    def __init__(self) -> None:
        """Define the machine class once."""
        self.cls = _statemachine_class()

    def new(self, fid: str) -> Any:
        """A new machine instance as the record."""
        sm = self.cls()
        sm.id = fid
        sm.submitter = None
        sm.history = []
        return sm

    def fire(self, record: Any, name: str, actor: str, at: Any) -> None:
        """Send *name* to the record's machine (a refused guard raises)."""
        try:
            record.send(name, actor=actor, at=at)
        except Exception as exc:
            raise Refused(name) from exc


class RawSqlPeer:
    """(e) The raw DB-API loop: read the row, version-checked UPDATE, hashed INSERT.

    Works on rectflow's own tables (created by a rectflow store), so the indexes and
    triggers it pays for are the same; the chain's tip is kept in Python, as one
    writer would.
    """

    def __init__(self, conn: Any, param: str, *, sqlite: bool, deadline: Any) -> None:
        """Use *conn* (the caller commits); *deadline* as the driver takes a date."""
        self.conn = conn
        self.deadline = deadline
        self.sqlite = sqlite
        p = param
        self.select = f"SELECT version, state FROM findings WHERE id = {p}"
        self.update = (
            f"UPDATE findings SET version = {p}, state = {p}, data = {p}"
            f" WHERE id = {p} AND version = {p}"
        )
        at_col = "at, at_us" if sqlite else "at"
        values = ", ".join([p] * (9 if sqlite else 8))
        self.insert_event = (
            f"INSERT INTO events (finding_id, version, seq, name, {at_col}, data, prev_hash, hash)"
            f" VALUES ({values})"
        )
        self.insert_finding = (
            "INSERT INTO findings (id, inspection, version, state, deadline, data)"
            f" VALUES ({p}, {p}, 1, 'assigned', {p}, {p})"
        )
        # Continue the chain the store began (its inspection is an entry of it too).
        tip = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq, self.prev = (0, "0" * 64) if tip is None else (int(tip[0]), str(tip[1]))

    def _event(self, fid: str, version: int, name: str, actor: str, at: Any) -> None:
        data = _dumps(
            {
                "finding_id": fid,
                "version": version,
                "name": name,
                "actor": actor,
                "at": at[0],
                "note": None,
                "evidence": ["整改照片.pdf"] if name == "submit" else [],
                "payload": {},
            }
        )
        self.seq += 1
        digest = hashlib.sha256(f"{self.prev}\n{self.seq}{data}".encode()).hexdigest()
        times = (at[0], at[1]) if self.sqlite else (at[2],)
        self.conn.execute(
            self.insert_event, (fid, version, self.seq, name, *times, data, self.prev, digest)
        )
        self.prev = digest

    def add(self, fid: str, actor: str, at: Any) -> None:
        """Insert a finding's row and its ``add`` event."""
        self.conn.execute(self.insert_finding, (fid, "R1", self.deadline, _row(fid, "assigned", 1)))
        self._event(fid, 1, "add", actor, at)

    def fire(self, fid: str, name: str, actor: str, at: Any) -> None:
        """Move the finding: read, check the edge, version-checked update, hashed insert."""
        version, state = self.conn.execute(self.select, (fid,)).fetchone()
        dest = EDGES.get((state, name))
        if dest is None:
            raise Refused(name)
        row = _row(fid, dest, version + 1)
        cur = self.conn.execute(self.update, (version + 1, dest, row, fid, version))
        if cur.rowcount != 1:
            raise Refused(name)
        self._event(fid, version + 1, name, actor, at)


def _dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _row(fid: str, state: str, version: int) -> str:
    """A current row as big as rectflow's: every field a finding record has."""
    return _dumps(
        {
            "id": fid,
            "inspection": "R1",
            "aspect": "",
            "category": "",
            "title": f"问题 {fid}",
            "kind": "deadline",
            "owner": {"leader": "张校长", "department": "德育处", "person": "王老师"},
            "deadline": "2025-05-01",
            "original_deadline": "2025-05-01",
            "measures": [],
            "itemized": True,
            "state": state,
            "version": version,
            "extensions": 0,
            "rework": 0,
            "created_at": "2025-01-03T09:00:00+08:00",
            "updated_at": "2025-01-06T09:00:00+08:00",
            "submitter": None,
            "submitted_at": None,
            "completed_at": None,
            "signed_off_by": None,
            "rechecked_at": None,
            "next_checkpoint": None,
            "spot_checks": 0,
            "first_completed_at": None,
        }
    )


class RawPgFirePeer:
    """(e) A fire on PostgreSQL as rectflow sends it, from a raw ``psycopg`` loop.

    The same statements, in the same round trips, as ``PostgresStore`` (their texts
    are imported from it, so they cannot drift): one statement reads the finding's
    row, the chain's head and the ledger tip; one pipeline (one implicit
    transaction) locks the head and, in one statement, moves the row if it is at the
    version read and the head unmoved, appends the hashed event and moves the head.
    What is left to rectflow is its own work: the rules, the role gate, the records.
    """

    def __init__(self, conn: Any, deadline: Any) -> None:
        """Use *conn* (autocommit) on a schema rectflow created."""
        from rectflow._store import postgres  # noqa: PLC0415 - the postgres extra

        self.conn = conn
        self.deadline = deadline
        self.read = postgres._READ_FOR_FIRE  # noqa: SLF001 - the same statements, on purpose
        self.lock = postgres._LOCK_HEAD  # noqa: SLF001
        self.move = postgres._MOVE_FOR_FIRE  # noqa: SLF001

    def fire(self, fid: str, name: str, actor: str, at: Any) -> None:
        """Read, check the edge, then the pipelined version-checked write; refused if not written."""
        data, seq, prev, _, _ = self.conn.execute(self.read, (fid,)).fetchone()
        row = json.loads(data)
        version, state = row["version"], row["state"]
        dest = EDGES.get((state, name))
        if dest is None:
            raise Refused(name)
        new = _row(fid, dest, version + 1)
        event = _dumps(
            {
                "actor": actor,
                "at": at[0],
                "evidence": ["整改照片.pdf"] if name == "submit" else [],
                "finding_id": fid,
                "name": name,
                "note": None,
                "payload": {},
                "version": version + 1,
            }
        )
        seq += 1
        cut = event.rfind(',"version":')
        digest = hashlib.sha256(
            f'{prev}\n{event[:cut]},"seq":{seq}{event[cut:]}'.encode()
        ).hexdigest()
        columns = ("R1", version + 1, dest, self.deadline, None, None, None, new, fid)
        chained = (fid, version + 1, seq, name, at[2], event, prev, digest)
        with self.conn.pipeline():
            self.conn.execute(self.lock)
            done = self.conn.execute(
                self.move, (*columns, version, seq - 1, prev, *chained, seq, digest, fid)
            )
        if not done.fetchone()[0]:
            raise Refused(name)
