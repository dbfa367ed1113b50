"""Schema versions: a version 1 ledger is migrated on open, a newer one is refused untouched.

A version 1 ledger is written here the way rectflow 1 wrote it (its DDL is
kept in ``_migrations``), from the sample ledger held in memory; opening it
must give back exactly the same ledger, with the version 2 columns,
indexes and triggers, and a schema identical to a freshly created one.
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable
from typing import Any

import pytest

from rectflow import Ledger
from rectflow._codec import dumps, unstructure
from rectflow._store.base import (
    GENESIS,
    SCHEMA_VERSION,
    AgendaQuery,
    ChainEntry,
    Head,
    Store,
    entry_hash,
)
from rectflow._store.memory import MemoryStore
from rectflow._store.migrations import MIGRATIONS, POSTGRES_V1, SQLITE_V1, pending
from rectflow._store.sqlite import SqliteStore
from rectflow.exceptions import SchemaVersionError, StorageError

try:
    from rectflow._store.postgres import PostgresStore
except ImportError:  # no 'postgres' extra: the PostgreSQL tests skip (or fail under CI) via pg_url
    PostgresStore = None  # type: ignore[assignment,misc]


@pytest.fixture
def reference(make_ledger: Callable[[Any], Ledger], populate: Callable[[Ledger], None]) -> Ledger:
    """The sample ledger in memory: what the version 1 file holds."""
    ledger = make_ledger(MemoryStore())
    populate(ledger)
    return ledger


def legacy_chain(ledger: Ledger) -> list[ChainEntry]:
    """*ledger*'s findings' events chained alone, as rectflow before schema 4 chained them."""
    entries, prev = [], GENESIS
    for seq, event in enumerate((e.event for e in ledger.store.chain() if e.event.finding_id), 1):
        digest = entry_hash(prev, seq, event)
        entries.append(ChainEntry(seq, event, prev, digest))
        prev = digest
    return entries


def legacy_head(ledger: Ledger) -> Head:
    """The head a pre-schema-4 rectflow gave *ledger* (its inspections off the chain)."""
    entries = legacy_chain(ledger)
    return Head(len(entries), entries[-1].hash)


def write_v1(raw: Callable[..., list[Any]], ph: str, ddl: tuple[str, ...], ledger: Ledger) -> None:
    """Write *ledger* into an empty database with the version 1 schema, as rectflow 1 did."""
    for statement in ddl:
        raw(statement)
    raw(f"INSERT INTO schema_version (version) VALUES ({ph})", (1,))
    for i in ledger.store.inspections():
        raw(
            f"INSERT INTO inspections (id, data) VALUES ({ph}, {ph})", (i.id, dumps(unstructure(i)))
        )
    for f in ledger.store.findings():
        raw(
            f"INSERT INTO findings (id, inspection, version, state, data) VALUES ({ph}, {ph}, {ph}, {ph}, {ph})",
            (f.id, f.inspection, f.version, f.state, dumps(unstructure(f))),
        )
    for e in legacy_chain(ledger):
        data = unstructure(e.event)
        raw(
            "INSERT INTO events (finding_id, version, seq, name, at, data, prev_hash, hash)"
            f" VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, {ph}, {ph}, {ph})",
            (
                e.event.finding_id,
                e.event.version,
                e.seq,
                e.event.name,
                data["at"],
                dumps(data),
                e.prev_hash,
                e.hash,
            ),
        )


def assert_same_ledger(
    store: Store, reference: Ledger, make_ledger: Callable[[Any], Ledger]
) -> None:
    """*store* holds exactly the reference ledger, selects like it and verifies against its head.

    Schema 4 appends each inspection's event after the old chain: the old head still
    verifies as an anchor, and the inspections are on the chain in the order added.
    """
    assert store.inspections() == reference.store.inspections()
    assert list(store.findings()) == list(reference.store.findings())
    for f in reference.store.findings():
        assert store.history(f.id) == reference.store.history(f.id)
    old = legacy_head(reference)
    assert store.head().count == reference.head().count == old.count + 2
    moved = store.ledger_events()
    assert [(e.name, e.payload["inspection"]) for e in moved] == [
        ("add_inspection", i.id) for i in reference.store.inspections()
    ]
    assert [e.at for e in moved] == [i.created_at for i in reference.store.inspections()]
    queries = (
        AgendaQuery(
            states=frozenset({"in_progress", "assigned"}),
            deadline_until=reference.get("G").deadline,
        ),
        AgendaQuery(checkpoint_before=reference.get("B").next_checkpoint),
        AgendaQuery(completed_until=reference.get("1.10").completed_at),
        AgendaQuery(recurring_due_until=reference.get("A").recurring_due),
    )
    for q in queries:
        assert [f.id for f in store.select(q)] == [f.id for f in reference.store.select(q)]
        assert list(store.select(q))
    ledger = make_ledger(store)
    assert ledger.verify(anchor=old).ok
    assert ledger.verify(anchor=store.head()).ok
    ledger.fire("1.9", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    assert ledger.verify(anchor=old).ok


def test_steps_lead_to_the_current_version() -> None:
    """The migration steps run 2..SCHEMA_VERSION without gaps, and pending() picks the missing ones."""
    assert [m.to_version for m in MIGRATIONS] == list(range(2, SCHEMA_VERSION + 1))
    assert [m.to_version for m in pending(1)] == list(range(2, SCHEMA_VERSION + 1))
    assert list(pending(SCHEMA_VERSION)) == []
    with pytest.raises(SchemaVersionError) as info:
        pending(SCHEMA_VERSION + 1)
    assert (info.value.found, info.value.supported) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)
    with pytest.raises(StorageError):
        pending(0)


# -- SQLite


def sqlite_schema(raw: Callable[..., list[Any]]) -> dict[str, Any]:
    """Tables' columns, indexes' columns and triggers of a SQLite file, comparable across files."""
    out: dict[str, Any] = {}
    for kind, name in raw(
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ):
        if kind == "table":
            out[name] = raw(f"PRAGMA table_info({name})")
        elif kind == "index":
            out[name] = raw(f"PRAGMA index_info({name})")
        else:
            [(sql,)] = raw("SELECT sql FROM sqlite_master WHERE name = ?", (name,))
            out[name] = sql
    return out


def test_sqlite_v1_file_is_migrated(
    sqlite_target: str,
    sqlite_sql: Callable[..., list[Any]],
    reference: Ledger,
    make_ledger: Callable[[Any], Ledger],
) -> None:
    """A version 1 file opens as version 2 with every finding, event, hash and index intact."""
    write_v1(sqlite_sql, "?", SQLITE_V1, reference)
    assert "at_us" not in {c[1] for c in sqlite_sql("PRAGMA table_info(events)")}
    store = SqliteStore(sqlite_target)
    try:
        assert sqlite_sql("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
        assert_same_ledger(store, reference, make_ledger)
    finally:
        store.close()


def test_sqlite_migrated_schema_equals_a_fresh_one(
    sqlite_target: str, sqlite_sql: Callable[..., list[Any]], reference: Ledger, tmp_path: Any
) -> None:
    """Migrating from version 1 gives the very schema a new file gets: columns, indexes, triggers."""
    write_v1(sqlite_sql, "?", SQLITE_V1, reference)
    SqliteStore(sqlite_target).close()
    fresh = str(tmp_path / "fresh.db")
    SqliteStore(fresh).close()
    import sqlite3  # noqa: PLC0415

    conn = sqlite3.connect(fresh)
    try:
        expected = sqlite_schema(lambda sql, params=(): conn.execute(sql, params).fetchall())
    finally:
        conn.close()
    assert sqlite_schema(sqlite_sql) == expected
    assert {"findings_state_deadline", "findings_recurring_due", "events_no_update"} <= set(
        expected
    )


def test_sqlite_newer_file_is_refused_untouched(
    sqlite_target: str, sqlite_sql: Callable[..., list[Any]]
) -> None:
    """A file written by a newer schema raises SchemaVersionError and is left as it was."""
    SqliteStore(sqlite_target).close()
    sqlite_sql("UPDATE schema_version SET version = 99")
    before = sqlite_schema(sqlite_sql)
    with pytest.raises(SchemaVersionError) as info:
        Ledger.open(sqlite_target)
    assert (info.value.found, info.value.supported) == (99, SCHEMA_VERSION)
    assert "请升级 rectflow" in str(info.value)
    assert sqlite_sql("SELECT version FROM schema_version") == [(99,)]
    assert sqlite_schema(sqlite_sql) == before


def test_sqlite_failed_migration_changes_nothing(
    sqlite_target: str, sqlite_sql: Callable[..., list[Any]], reference: Ledger
) -> None:
    """A v1 file the migration cannot read raises StorageError and stays a complete v1 file."""
    write_v1(sqlite_sql, "?", SQLITE_V1, reference)
    sqlite_sql("UPDATE findings SET data = '{not json' WHERE id = 'H'")
    before = sqlite_schema(sqlite_sql)
    with pytest.raises(StorageError, match="schema version 2 failed"):
        SqliteStore(sqlite_target)
    assert sqlite_sql("SELECT version FROM schema_version") == [(1,)]
    assert sqlite_schema(sqlite_sql) == before
    assert sqlite_sql("SELECT count(*) FROM events") == [(27,)]


def test_sqlite_concurrent_openers_migrate_once(
    sqlite_target: str,
    sqlite_sql: Callable[..., list[Any]],
    reference: Ledger,
    make_ledger: Callable[[Any], Ledger],
) -> None:
    """Several connections opening a v1 file at once: one migrates, all end up on version 2."""
    write_v1(sqlite_sql, "?", SQLITE_V1, reference)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: SqliteStore(sqlite_target), range(4)))
    try:
        assert len({s.head() for s in stores}) == 1
        assert stores[0].head().count == reference.head().count
        assert sqlite_sql("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    finally:
        for s in stores:
            s.close()


# -- PostgreSQL


def pg_schema_shape(pg_sql: Callable[..., list[Any]], schema: str) -> dict[str, Any]:
    """Columns, indexes and triggers of *schema*, comparable across schemas."""
    columns = pg_sql(
        "SELECT table_name, column_name, data_type, is_nullable, collation_name"
        " FROM information_schema.columns WHERE table_schema = %s ORDER BY table_name, ordinal_position",
        (schema,),
    )
    indexes = pg_sql(
        "SELECT indexname, replace(indexdef, %s, 'S') FROM pg_indexes WHERE schemaname = %s ORDER BY indexname",
        (f'"{schema}"', schema),
    )
    indexes = [(name, definition.replace(f"{schema}.", "S.")) for name, definition in indexes]
    triggers = pg_sql(
        "SELECT trigger_name, event_manipulation, action_timing FROM information_schema.triggers"
        " WHERE trigger_schema = %s ORDER BY 1, 2",
        (schema,),
    )
    return {"columns": columns, "indexes": indexes, "triggers": triggers}


@pytest.mark.postgres
def test_postgres_v1_schema_is_migrated(
    pg_target: str,
    pg_schema: str,
    pg_sql: Callable[..., list[Any]],
    reference: Ledger,
    make_ledger: Callable[[Any], Ledger],
) -> None:
    """A version 1 schema opens as version 2 with every finding, event, hash and index intact."""
    pg_sql(f'CREATE SCHEMA "{pg_schema}"')
    write_v1(pg_sql, "%s", POSTGRES_V1, reference)
    head = legacy_head(reference)
    pg_sql("UPDATE ledger_head SET seq = %s, hash = %s", (head.count, head.hash))
    store = PostgresStore(pg_target)
    try:
        assert pg_sql("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
        assert_same_ledger(store, reference, make_ledger)
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_migrated_schema_equals_a_fresh_one(
    pg_target: str, pg_url: str, pg_schema: str, pg_sql: Callable[..., list[Any]], reference: Ledger
) -> None:
    """Migrating from version 1 gives the very schema a new ledger gets."""
    pg_sql(f'CREATE SCHEMA "{pg_schema}"')
    write_v1(pg_sql, "%s", POSTGRES_V1, reference)
    PostgresStore(pg_target).close()
    fresh = f"{pg_schema}_fresh"
    PostgresStore(pg_url, schema=fresh).close()
    try:
        expected = pg_schema_shape(pg_sql, fresh)
        assert pg_schema_shape(pg_sql, pg_schema) == expected
        assert len(expected["indexes"]) >= 8
    finally:
        pg_sql(f'DROP SCHEMA "{fresh}" CASCADE')


@pytest.mark.postgres
def test_postgres_newer_schema_is_refused_untouched(
    pg_target: str, pg_schema: str, pg_sql: Callable[..., list[Any]]
) -> None:
    """A schema written by a newer rectflow raises SchemaVersionError and is left as it was."""
    PostgresStore(pg_target).close()
    pg_sql("UPDATE schema_version SET version = 99")
    before = pg_schema_shape(pg_sql, pg_schema)
    with pytest.raises(SchemaVersionError) as info:
        Ledger.open(pg_target)
    assert (info.value.found, info.value.supported) == (99, SCHEMA_VERSION)
    assert pg_sql("SELECT version FROM schema_version") == [(99,)]
    assert pg_schema_shape(pg_sql, pg_schema) == before


@pytest.mark.postgres
def test_postgres_failed_migration_changes_nothing(
    pg_target: str, pg_schema: str, pg_sql: Callable[..., list[Any]], reference: Ledger
) -> None:
    """A v1 schema the migration cannot read raises StorageError and stays a complete v1 schema."""
    pg_sql(f'CREATE SCHEMA "{pg_schema}"')
    write_v1(pg_sql, "%s", POSTGRES_V1, reference)
    pg_sql("UPDATE findings SET data = %s WHERE id = 'H'", (json.dumps({"id": "H"}),))
    before = pg_schema_shape(pg_sql, pg_schema)
    with pytest.raises(StorageError, match="schema version 2 failed"):
        PostgresStore(pg_target)
    assert pg_sql("SELECT version FROM schema_version") == [(1,)]
    assert pg_schema_shape(pg_sql, pg_schema) == before


@pytest.mark.postgres
def test_postgres_concurrent_openers_migrate_once(
    pg_target: str, pg_schema: str, pg_sql: Callable[..., list[Any]], reference: Ledger
) -> None:
    """Several connections opening a v1 schema at once: one migrates (under a lock), all end on version 2."""
    pg_sql(f'CREATE SCHEMA "{pg_schema}"')
    write_v1(pg_sql, "%s", POSTGRES_V1, reference)
    head = legacy_head(reference)
    pg_sql("UPDATE ledger_head SET seq = %s, hash = %s", (head.count, head.hash))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(pg_target), range(4)))
    try:
        assert len({s.head() for s in stores}) == 1
        assert stores[0].head().count == head.count + 2
        assert pg_sql("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    finally:
        for s in stores:
            s.close()


def test_a_migrated_ledger_exports_a_file_that_imports(
    sqlite_target: str,
    sqlite_sql: Callable[..., list[Any]],
    reference: Ledger,
    make_ledger: Callable[[Any], Ledger],
    tmp_path: Any,
) -> None:
    """A schema-1 ledger, migrated, exports YAML that re-imports with the same events and verifies."""
    write_v1(sqlite_sql, "?", SQLITE_V1, reference)
    migrated = make_ledger(sqlite_target)
    out = tmp_path / "old.yaml"
    migrated.export_file(out)
    copy = make_ledger(MemoryStore())
    copy.import_file(out, actor="恢复")
    assert copy.verify()
    events = sorted(
        (e.finding_id, e.version, e.name) for e in (c.event for c in copy.store.chain())
    )
    assert events == sorted(
        (e.finding_id, e.version, e.name) for e in (c.event for c in migrated.store.chain())
    )
    assert [f.id for f in copy.findings()] == [f.id for f in migrated.findings()]
    migrated.close()
