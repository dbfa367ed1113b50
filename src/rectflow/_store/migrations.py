"""The SQL schema of the durable stores, its migrations, and the row encoding they share.

A durable ledger records its schema version in a one-row ``schema_version``
table. Opening a store:

- an empty database gets the current schema (:data:`SQLITE_SCHEMA`,
  :data:`POSTGRES_SCHEMA`) and version :data:`~rectflow._store.base.SCHEMA_VERSION`;
- an older version is brought up to date by running every :data:`MIGRATIONS`
  step above it, in order, in the same transaction as the version bump (a
  crash leaves the old schema intact);
- a newer version is refused with :class:`~rectflow.SchemaVersionError`,
  nothing touched.

Schema history:

1. ``inspections``, ``findings`` (id, inspection, version, state, JSON data),
   ``events`` (``PRIMARY KEY (finding_id, version)``, unique gapless ``seq``,
   ``prev_hash``, ``hash``, canonical JSON data); PostgreSQL also ``ledger_head``.
2. ``findings`` gains the agenda's indexed columns (``deadline``,
   ``next_checkpoint``, ``completed_at``, ``recurring_due``) backfilled from the JSON; SQLite's
   ``events`` gains ``at_us`` (UTC microseconds) and both tables are rebuilt
   with ``NOT NULL`` where it belongs; ``events`` gets triggers refusing
   ``UPDATE``/``DELETE`` (append-only enforced by the engine).
3. ``ledger_meta`` (the policy the ledger was created under).
4. ``ledger_records`` (actors and role grants, projections of chained events);
   every stored inspection gets its ``add_inspection`` event appended to the
   chain (existing entries and heads unchanged).

Times are stored explicitly, never through a driver's default adapters:
SQLite keeps ISO text (with its original offset) plus an integer of UTC
microseconds for ordering; PostgreSQL keeps ``timestamptz``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs
import pendulum

from rectflow import _codec
from rectflow._model import Event, Finding
from rectflow._roles import LEDGER, inspection_payload
from rectflow._store.base import GENESIS, SCHEMA_VERSION, entry_hash
from rectflow.exceptions import InvalidInput, SchemaVersionError, StorageError

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICRO: Final = dt.timedelta(microseconds=1)


def utc_micros(value: dt.datetime) -> int:
    """An aware time as integer microseconds since 1970-01-01 UTC (exact).

    Raises:
        InvalidInput: For a naive time.
    """
    offset = value.utcoffset()
    if offset is None:
        raise InvalidInput(f"naive time {value!r}", field="at", value=value)
    # Rebuilt as a plain datetime: subclasses (pendulum) return their own intervals.
    wall = dt.datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=dt.timezone.utc,
    )
    return (wall - offset - _EPOCH) // _MICRO


def from_utc_micros(value: int) -> dt.datetime:
    """The aware UTC time of :func:`utc_micros` output."""
    return _EPOCH + dt.timedelta(microseconds=value)


# ---------------------------------------------------------------- rows


@attrs.frozen
class FindingRow:
    """A finding's current row as the SQL stores keep it.

    Attributes:
        id: The finding's id.
        inspection: Its inspection.
        version: Its version (the number of its events).
        state: Its state.
        deadline: Its deadline, ISO date.
        next_checkpoint: Its next checkpoint, ISO date, or None.
        completed_at: When it was signed off, or None.
        recurring_due: The first day one of its recurring measures is missed
            (:attr:`rectflow.Finding.recurring_due`), ISO date, or None.
        data: The whole finding as canonical JSON.
    """

    id: str
    inspection: str
    version: int
    state: str
    deadline: str
    next_checkpoint: str | None
    completed_at: dt.datetime | None
    recurring_due: str | None
    data: str

    @classmethod
    def of(cls, finding: Finding) -> FindingRow:
        """The row of *finding*."""
        return cls(
            finding.id,
            finding.inspection,
            finding.version,
            finding.state,
            finding.deadline.isoformat(),
            None if finding.next_checkpoint is None else finding.next_checkpoint.isoformat(),
            finding.completed_at,
            None if (due := finding.recurring_due) is None else due.isoformat(),
            _codec.dumps(_codec.unstructure(finding)),
        )

    @property
    def completed_at_us(self) -> int | None:
        """:attr:`completed_at` in UTC microseconds."""
        return None if self.completed_at is None else utc_micros(self.completed_at)

    @property
    def completed_at_utc(self) -> dt.datetime | None:
        """:attr:`completed_at` as a plain UTC ``datetime`` (for the driver)."""
        us = self.completed_at_us
        return None if us is None else from_utc_micros(us)


def load_finding(data: str) -> Finding:
    """A finding from its row's JSON."""
    return _codec.finding_from(json.loads(data))


def event_data(event: Event) -> str:
    """An event's canonical JSON, as stored in the ``data`` column."""
    return _codec.dumps(_codec.unstructure(event))


def load_event(finding_id: str, version: int, name: str, at_us: int, data: str) -> Event:
    """An event from its row, the key columns taking precedence over the JSON.

    When a column was edited behind rectflow's back (the finding, version, name
    or time no longer agree with the JSON), the column's value is used, so that
    the event no longer matches its hash and :meth:`rectflow.Ledger.verify`
    reports it.
    """
    event = _codec.event_from(json.loads(data))
    if (event.finding_id, event.version, event.name) != (finding_id, version, name):
        event = attrs.evolve(event, finding_id=finding_id, version=version, name=name)
    if utc_micros(event.at) != at_us:
        event = attrs.evolve(event, at=pendulum.instance(from_utc_micros(at_us)))
    return event


# ---------------------------------------------------------------- SQLite DDL


def _sqlite_findings(table: str) -> str:
    return f"""CREATE TABLE {table} (
    id TEXT PRIMARY KEY,
    inspection TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    state TEXT NOT NULL,
    deadline TEXT NOT NULL,
    next_checkpoint TEXT,
    completed_at_us INTEGER,
    recurring_due TEXT,
    data TEXT NOT NULL
)"""


def _sqlite_events(table: str) -> str:
    return f"""CREATE TABLE {table} (
    finding_id TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    seq INTEGER NOT NULL UNIQUE CHECK (seq >= 1),
    name TEXT NOT NULL,
    at TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (finding_id, version)
)"""


_SQLITE_INDEXES_V2: Final = (
    "CREATE INDEX findings_inspection ON findings (inspection, id)",
    "CREATE INDEX findings_state_deadline ON findings (state, deadline)",
    "CREATE INDEX findings_deadline ON findings (deadline)",
    "CREATE INDEX findings_state_checkpoint ON findings (state, next_checkpoint)",
    "CREATE INDEX findings_state_completed ON findings (state, completed_at_us)",
    "CREATE INDEX findings_recurring_due ON findings (recurring_due)",
    (
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'rectflow: events are append-only'); END"
    ),
    (
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'rectflow: events are append-only'); END"
    ),
)

SQLITE_V1: Final[tuple[str, ...]] = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    (
        "CREATE TABLE inspections ("
        " pos INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL)"
    ),
    (
        "CREATE TABLE findings ("
        " id TEXT PRIMARY KEY, inspection TEXT NOT NULL,"
        " version INTEGER NOT NULL CHECK (version >= 1), state TEXT NOT NULL, data TEXT NOT NULL)"
    ),
    (
        "CREATE TABLE events ("
        " finding_id TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1),"
        " seq INTEGER NOT NULL UNIQUE CHECK (seq >= 1), name TEXT NOT NULL, at TEXT NOT NULL,"
        " data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,"
        " PRIMARY KEY (finding_id, version))"
    ),
)
"""The version 1 schema (kept to test the migration from it)."""

_SQLITE_META: Final = "CREATE TABLE ledger_meta (id TEXT PRIMARY KEY, value TEXT NOT NULL)"
_PG_META: Final = 'CREATE TABLE ledger_meta (id text COLLATE "C" PRIMARY KEY, value text NOT NULL)'
_SQLITE_RECORDS: Final = (
    "CREATE TABLE ledger_records (kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,"
    " PRIMARY KEY (kind, id))"
)
_PG_RECORDS: Final = (
    'CREATE TABLE ledger_records (kind text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL,'
    " data text NOT NULL, PRIMARY KEY (kind, id))"
)

SQLITE_SCHEMA: Final[tuple[str, ...]] = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    _SQLITE_META,
    (
        "CREATE TABLE inspections ("
        " pos INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL)"
    ),
    _sqlite_findings("findings"),
    _sqlite_events("events"),
    *_SQLITE_INDEXES_V2,
    _SQLITE_RECORDS,
)
"""The current schema, created in an empty SQLite database."""


def _sqlite_1_to_2(conn: sqlite3.Connection) -> None:
    conn.execute(_sqlite_findings("findings_v2"))
    rows = [
        FindingRow.of(load_finding(data))
        for (data,) in conn.execute("SELECT data FROM findings ORDER BY id")
    ]
    conn.executemany(
        "INSERT INTO findings_v2 (id, inspection, version, state, deadline, next_checkpoint,"
        " completed_at_us, recurring_due, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                r.id,
                r.inspection,
                r.version,
                r.state,
                r.deadline,
                r.next_checkpoint,
                r.completed_at_us,
                r.recurring_due,
                r.data,
            )
            for r in rows
        ],
    )
    conn.execute(_sqlite_events("events_v2"))
    conn.executemany(
        "INSERT INTO events_v2 (finding_id, version, seq, name, at, at_us, data, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                fid,
                version,
                seq,
                name,
                at,
                utc_micros(dt.datetime.fromisoformat(at)),
                data,
                prev,
                hsh,
            )
            for fid, version, seq, name, at, data, prev, hsh in conn.execute(
                "SELECT finding_id, version, seq, name, at, data, prev_hash, hash"
                " FROM events ORDER BY seq"
            ).fetchall()
        ],
    )
    conn.execute("DROP TABLE findings")
    conn.execute("ALTER TABLE findings_v2 RENAME TO findings")
    conn.execute("DROP TABLE events")
    conn.execute("ALTER TABLE events_v2 RENAME TO events")
    for statement in _SQLITE_INDEXES_V2:
        conn.execute(statement)


# ---------------------------------------------------------------- PostgreSQL DDL

_PG_V1_TABLES: Final = (
    "CREATE TABLE schema_version (version integer NOT NULL)",
    (
        "CREATE TABLE inspections ("
        ' pos bigint GENERATED ALWAYS AS IDENTITY, id text COLLATE "C" PRIMARY KEY,'
        " data text NOT NULL)"
    ),
    (
        "CREATE TABLE findings ("
        ' id text COLLATE "C" PRIMARY KEY, inspection text COLLATE "C" NOT NULL,'
        " version integer NOT NULL CHECK (version >= 1), state text NOT NULL, data text NOT NULL)"
    ),
    (
        "CREATE TABLE events ("
        ' finding_id text COLLATE "C" NOT NULL, version integer NOT NULL CHECK (version >= 1),'
        " seq bigint NOT NULL UNIQUE CHECK (seq >= 1), name text NOT NULL, at timestamptz NOT NULL,"
        " data text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL,"
        " PRIMARY KEY (finding_id, version))"
    ),
    (
        "CREATE TABLE ledger_head ("
        " id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL)"
    ),
    f"INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')",
)

POSTGRES_V1: Final[tuple[str, ...]] = _PG_V1_TABLES
"""The version 1 schema (kept to test the migration from it)."""

_PG_V2_COLUMNS: Final = (
    "ALTER TABLE findings ADD COLUMN deadline date, ADD COLUMN next_checkpoint date,"
    " ADD COLUMN completed_at timestamptz, ADD COLUMN recurring_due date"
)

_PG_V2_AFTER: Final = (
    "ALTER TABLE findings ALTER COLUMN deadline SET NOT NULL",
    "CREATE INDEX findings_inspection ON findings (inspection, id)",
    "CREATE INDEX findings_state_deadline ON findings (state, deadline)",
    "CREATE INDEX findings_deadline ON findings (deadline)",
    "CREATE INDEX findings_state_checkpoint ON findings (state, next_checkpoint)",
    "CREATE INDEX findings_state_completed ON findings (state, completed_at)",
    "CREATE INDEX findings_recurring_due ON findings (recurring_due)",
    (
        "CREATE OR REPLACE FUNCTION rectflow_append_only() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'rectflow: events are append-only'; END $$"
    ),
    (
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events"
        " FOR EACH ROW EXECUTE FUNCTION rectflow_append_only()"
    ),
    (
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events"
        " FOR EACH STATEMENT EXECUTE FUNCTION rectflow_append_only()"
    ),
)

POSTGRES_SCHEMA: Final[tuple[str, ...]] = (
    *_PG_V1_TABLES,
    _PG_V2_COLUMNS,
    *_PG_V2_AFTER,
    _PG_META,
    _PG_RECORDS,
)
"""The current schema, created in an empty PostgreSQL schema.

Version 2 only adds to version 1 (columns, indexes, triggers), so the fresh
schema is version 1 plus the step's DDL without the backfill.
"""


def _postgres_1_to_2(conn: Any) -> None:
    conn.execute(_PG_V2_COLUMNS)
    rows = [FindingRow.of(load_finding(r[0])) for r in conn.execute("SELECT data FROM findings")]
    for r in rows:
        conn.execute(
            "UPDATE findings SET deadline = %s, next_checkpoint = %s, completed_at = %s,"
            " recurring_due = %s WHERE id = %s",
            (r.deadline, r.next_checkpoint, r.completed_at_utc, r.recurring_due, r.id),
        )
    for statement in _PG_V2_AFTER:
        conn.execute(statement)


def _sqlite_2_to_3(conn: sqlite3.Connection) -> None:
    conn.execute(_SQLITE_META)


def _postgres_2_to_3(conn: Any) -> None:
    conn.execute(_PG_META)


def _chain_inspections(conn: Any, param: str, utc: Callable[[dt.datetime], Any]) -> None:
    """Put every stored inspection on the chain as an ``add_inspection`` event (v3 → v4).

    Appended after the existing entries, in the order the inspections were added,
    so every existing entry (and any head kept from before) is unchanged.
    """
    tip = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (0, GENESIS) if tip is None else (int(tip[0]), str(tip[1]))
    rows = conn.execute("SELECT data FROM inspections ORDER BY pos").fetchall()
    for version, (data,) in enumerate(rows, start=1):
        inspection = _codec.inspection_from(json.loads(data))
        at = inspection.created_at or dt.datetime.combine(
            inspection.feedback_at, dt.time(), tzinfo=dt.timezone.utc
        )
        event = Event(
            LEDGER,
            "add_inspection",
            pendulum.instance(at),
            "rectflow-migration",
            note="schema v4: inspection put on the chain",
            payload=inspection_payload(inspection),
            version=version,
        )
        seq += 1
        digest = entry_hash(prev, seq, event)
        text = event_data(event)
        at_value = utc(event.at)
        conn.execute(
            "INSERT INTO events (finding_id, version, seq, name, at"
            + (", at_us" if param == "?" else "")
            + ", data, prev_hash, hash) VALUES ("
            + ", ".join([param] * (9 if param == "?" else 8))
            + ")",
            (
                LEDGER,
                version,
                seq,
                "add_inspection",
                *((_codec.unstructure(event)["at"], at_value) if param == "?" else (at_value,)),
                text,
                prev,
                digest,
            ),
        )
        prev = digest
    if param != "?":
        conn.execute("UPDATE ledger_head SET seq = %s, hash = %s WHERE id = 1", (seq, prev))


def _sqlite_3_to_4(conn: sqlite3.Connection) -> None:
    conn.execute(_SQLITE_RECORDS)
    _chain_inspections(conn, "?", utc_micros)


def _postgres_3_to_4(conn: Any) -> None:
    conn.execute(_PG_RECORDS)
    _chain_inspections(conn, "%s", lambda at: from_utc_micros(utc_micros(at)))


# ---------------------------------------------------------------- migrations


@attrs.frozen
class Migration:
    """One step of the schema's history.

    Attributes:
        to_version: The version the step produces (from ``to_version - 1``).
        description: What changes.
        sqlite: The step on a SQLite connection (inside the opening transaction).
        postgres: The step on a psycopg connection (inside the opening transaction).
    """

    to_version: int
    description: str
    sqlite: Callable[[sqlite3.Connection], None]
    postgres: Callable[[Any], None]


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        2,
        "indexed agenda columns on findings, UTC microseconds on events, append-only triggers",
        _sqlite_1_to_2,
        _postgres_1_to_2,
    ),
    Migration(
        3,
        "ledger_meta: the policy the ledger was created under",
        _sqlite_2_to_3,
        _postgres_2_to_3,
    ),
    Migration(
        4,
        "ledger_records (actors, role grants); inspections put on the chain",
        _sqlite_3_to_4,
        _postgres_3_to_4,
    ),
)
"""Every migration step, oldest first; the last one produces SCHEMA_VERSION."""


def pending(found: int) -> Sequence[Migration]:
    """The steps that bring a store at version *found* up to date.

    Raises:
        SchemaVersionError: When *found* is newer than this rectflow.
        StorageError: When *found* is not a version rectflow ever wrote.
    """
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(found, SCHEMA_VERSION)
    if found < 1:
        raise StorageError(f"台账的数据结构版本 {found} 无效 (invalid schema version {found})")
    return [m for m in MIGRATIONS if m.to_version > found]
