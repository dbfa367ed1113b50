"""Tamper-evidence of what issue 8 chained: inspections, actors, grants, signed heads, evidence."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest

from rectflow import Event, InvalidInput, Ledger, SignedHead, hash_evidence
from rectflow._codec import dumps, event_from, unstructure
from rectflow._roles import LEDGER
from rectflow._store.base import GENESIS, entry_hash
from rectflow._store.memory import MemoryStore
from rectflow.cli import main
from roles_support import CLOCK, add_finding, t

KEY = b"kept-by-the-inspection-office"


def fill(ledger: Ledger) -> None:
    """Two inspections, four actors (one role revoked), one finding signed off, a report."""
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    ledger.add_actor("办", roles=["inspector", "leader"], at=t(0))
    ledger.add_inspection("R2", title="审计", feedback_at="2024-01-06", actor="办", at=t(0))
    ledger.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(0))
    ledger.add_actor("丙", roles=["leader"], inspection="R1", actor="办", at=t(0))
    ledger.add_actor("丁", roles=["leader", "checker"], inspection="R1", actor="办", at=t(0))
    add_finding(ledger)
    ledger.fire("F1", "start", actor="乙", at=t(2))
    ledger.fire("F1", "submit", actor="乙", evidence=["完成.pdf"], at=t(3))
    ledger.fire("F1", "sign_off", actor="丙", at=t(4))
    ledger.revoke_role("丁", "checker", inspection="R1", actor="办", at=t(5))
    ledger.submit_report("R1", actor="丙", evidence=["报告.pdf"], at=t(6))


@attrs.define
class Target:
    """A backend with the filled ledger, and how an attacker reaches its rows.

    Attributes:
        name: ``memory``, ``sqlite`` or ``postgres``.
        open: Opens the ledger (the same store for memory).
        raw: Runs plain SQL (None for memory).
        ph: The placeholder.
        store: The memory store (None for SQL).
    """

    name: str
    open: Callable[[], Ledger]
    raw: Callable[..., list[Any]] | None
    ph: str
    store: MemoryStore | None = None


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Each backend, filled."""
    if request.param == "memory":
        store = MemoryStore()
        tg = Target("memory", lambda: Ledger(store, clock=lambda: CLOCK), None, "", store)
    elif request.param == "sqlite":
        path = request.getfixturevalue("sqlite_target")
        raw = request.getfixturevalue("sqlite_sql")
        tg = Target("sqlite", lambda: Ledger.open(path, clock=lambda: CLOCK), raw, "?")
    else:
        url = request.getfixturevalue("pg_target")
        raw = request.getfixturevalue("pg_sql")
        tg = Target("postgres", lambda: Ledger.open(url, clock=lambda: CLOCK), raw, "%s")
    ledger = tg.open()
    fill(ledger)
    assert ledger.verify().ok
    if tg.name != "memory":
        ledger.close()
    return tg


def problems(tg: Target, anchor: Any = None, **kw: Any) -> set[tuple[str, str]]:
    """``(kind, detail start)`` of every problem verify reports, on a reopened ledger."""
    ledger = tg.open()
    ledger.lang = "en"  # the details are compared in English (Chinese is the default)
    try:
        result = ledger.verify(anchor, **kw)
    finally:
        if tg.name != "memory":
            ledger.close()
    assert result.ok is (not result.problems)
    return {(p.kind, p.detail) for p in result.problems}


def kinds(found: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """``(kind, first two words of the detail)``: what and which row."""
    return {(k, " ".join(d.split()[:2]).rstrip(":")) for k, d in found}


def set_row(tg: Target, table: str, key: tuple[str, ...], data: dict[str, Any] | None) -> None:
    """Replace (or delete, *data* None) a row of ``inspections`` or ``ledger_records``."""
    if tg.store is not None:
        if table == "inspections":
            if data is None:
                del tg.store._inspections[key[0]]
            else:
                from rectflow._codec import inspection_from  # noqa: PLC0415

                tg.store._inspections[key[0]] = inspection_from(data)
        elif data is None:
            del tg.store._rows[(key[0], key[1])]
        else:
            tg.store._rows[(key[0], key[1])] = dumps(data)
        return
    assert tg.raw is not None
    p = tg.ph
    if table == "inspections":
        where, params = f"id = {p}", key
    else:
        where, params = f"kind = {p} AND id = {p}", key
    if data is None:
        tg.raw(f"DELETE FROM {table} WHERE {where}", params)
    elif tg.raw(f"SELECT 1 FROM {table} WHERE {where}", params):
        tg.raw(f"UPDATE {table} SET data = {p} WHERE {where}", (dumps(data), *params))
    elif table == "inspections":
        tg.raw(f"INSERT INTO inspections (id, data) VALUES ({p}, {p})", (key[0], dumps(data)))
    else:
        tg.raw(
            f"INSERT INTO ledger_records (kind, id, data) VALUES ({p}, {p}, {p})",
            (*key, dumps(data)),
        )


def row(tg: Target, table: str, key: tuple[str, ...]) -> dict[str, Any]:
    """A row's data."""
    if tg.store is not None:
        if table == "inspections":
            return dict(unstructure(tg.store._inspections[key[0]]))
        return dict(json.loads(tg.store._rows[(key[0], key[1])]))
    assert tg.raw is not None
    p = tg.ph
    if table == "inspections":
        [(data,)] = tg.raw(f"SELECT data FROM inspections WHERE id = {p}", key)
    else:
        [(data,)] = tg.raw(f"SELECT data FROM ledger_records WHERE kind = {p} AND id = {p}", key)
    return dict(json.loads(data))


def test_untouched_ledger_verifies(target: Target) -> None:
    """The filled ledger verifies on every backend, and every backend has the same head."""
    assert problems(target) == set()
    ledger = Ledger(MemoryStore(), clock=lambda: CLOCK)
    fill(ledger)
    opened = target.open()
    assert opened.head() == ledger.head()


def test_edited_inspection_row_is_named(target: Target) -> None:
    """Raising an inspection's declared count behind rectflow's back: inspection R1 edited."""
    data = row(target, "inspections", ("R1",))
    set_row(target, "inspections", ("R1",), {**data, "declared_findings": 99})
    assert kinds(problems(target)) == {("inspection_mismatch", "inspection R1")}
    assert any("edited" in d for _, d in problems(target))


def test_deleted_inspection_row_is_named(target: Target) -> None:
    """A deleted inspection row: inspection R2 deleted."""
    set_row(target, "inspections", ("R2",), None)
    found = problems(target)
    assert kinds(found) == {("inspection_mismatch", "inspection R2")}
    assert any("deleted" in d for _, d in found)


def test_inserted_inspection_row_is_named(target: Target) -> None:
    """An inspection row with no event on the chain: inspection R9 inserted."""
    data = {**row(target, "inspections", ("R2",)), "id": "R9"}
    set_row(target, "inspections", ("R9",), data)
    found = problems(target)
    assert kinds(found) == {("inspection_mismatch", "inspection R9")}
    assert any("inserted" in d for _, d in found)


def test_edited_deleted_inserted_actor_rows_are_named(target: Target) -> None:
    """Actor rows edited, deleted or inserted are each named."""
    data = row(target, "ledger_records", ("actor", "乙"))
    set_row(target, "ledger_records", ("actor", "乙"), {**data, "added_by": "乙"})
    set_row(target, "ledger_records", ("actor", "丙"), None)
    set_row(target, "ledger_records", ("actor", "冒名"), {**data, "name": "冒名"})
    found = problems(target)
    assert kinds(found) == {
        ("actor_mismatch", "actor 乙"),
        ("actor_mismatch", "actor 丙"),
        ("actor_mismatch", "actor 冒名"),
    }
    assert sorted(d.split(": ")[1].split(":")[0] for _, d in found) == [
        "deleted",
        "edited",
        "inserted",
    ]


def test_edited_and_forged_role_grants_are_named(target: Target) -> None:
    """A role grant widened, a revocation erased, a grant forged: each grant row is named."""
    ledger = target.open()
    grants = {(g.actor, g.role): g.key for g in ledger.grants()}
    if target.name != "memory":
        ledger.close()
    owner = grants[("乙", "owner")]
    data = row(target, "ledger_records", ("grant", owner))
    set_row(target, "ledger_records", ("grant", owner), {**data, "role": "leader"})
    revoked = grants[("丁", "checker")]
    data = row(target, "ledger_records", ("grant", revoked))
    set_row(
        target,
        "ledger_records",
        ("grant", revoked),
        {**data, "revoked_at": None, "revoked_by": None, "revoked_in": None},
    )
    set_row(target, "ledger_records", ("grant", "99:leader"), {**data, "actor": "冒名"})
    found = kinds(problems(target))
    assert found == {
        ("grant_mismatch", f"grant {owner}"),
        ("grant_mismatch", f"grant {revoked}"),
        ("grant_mismatch", "grant 99:leader"),
    }


def test_forged_row_gives_no_permission(target: Target) -> None:
    """A grant row written with SQL does not let its actor act: permissions come from the chain."""
    data = row(target, "ledger_records", ("grant", "2:inspector"))
    set_row(
        target,
        "ledger_records",
        ("grant", "99:inspector"),
        {**data, "actor": "乙", "role": "inspector", "inspection": "R1"},
    )
    ledger = target.open()
    try:
        with pytest.raises(Exception, match="checker, inspector") as info:
            ledger.fire(
                "F1", "rebound", actor="乙", evidence=["x"], deadline="2024-12-01", at=t(20)
            )
        assert type(info.value).__name__ == "PermissionDenied"
    finally:
        if target.name != "memory":
            ledger.close()


def drop_tail(tg: Target, n: int) -> None:
    """Delete the last *n* chain entries (and only those), as an attacker with SQL would."""
    if tg.store is not None:
        for _ in range(n):  # the memory store keeps events and raw digests side by side
            event = tg.store._chain.pop()
            tg.store._hashes.pop()
            if event.finding_id == LEDGER:
                tg.store._ledger.pop()
            else:
                events = tg.store._events[event.finding_id]
                assert isinstance(events, list)
                events.pop()
        return
    assert tg.raw is not None
    if tg.name == "sqlite":
        tg.raw("DROP TRIGGER IF EXISTS events_no_delete")
    else:
        tg.raw("ALTER TABLE events DISABLE TRIGGER USER")
    [(last,)] = tg.raw("SELECT max(seq) FROM events")
    tg.raw(f"DELETE FROM events WHERE seq > {tg.ph}", (int(last) - n,))


def test_truncated_tail_is_named_with_and_without_the_anchor(target: Target) -> None:
    """Dropping the report and the revocation: truncated given the anchor; rows betray it without."""
    ledger = target.open()
    anchor = ledger.head()
    if target.name != "memory":
        ledger.close()
    drop_tail(target, 2)
    with_anchor = problems(target, anchor)
    assert {k for k, _ in with_anchor} >= {"truncated"}
    assert {int(d.split()[1]) for k, d in with_anchor if k == "truncated"} == {
        anchor.count - 1,
        anchor.count,
    }
    without = kinds(problems(target))
    assert ("inspection_mismatch", "inspection R1") in without  # its report is gone
    assert any(k == "grant_mismatch" for k, _ in without)  # the revocation is gone


def test_forged_head_without_the_key_is_named(target: Target) -> None:
    """Rewriting the tail and signing a new head with another key: verify with the key says forged."""
    ledger = target.open()
    signed = ledger.signed_head(KEY)
    if target.name != "memory":
        ledger.close()
    assert problems(target, str(signed), key=KEY) == set()
    drop_tail(target, 1)
    ledger = target.open()
    forged = ledger.signed_head(b"a guess")
    if target.name != "memory":
        ledger.close()
    found = problems(target, str(forged), key=KEY)
    assert "anchor_forged" in {k for k, _ in found}
    # under the forger's own key the MAC checks: only the office's key exposes it
    assert "anchor_forged" not in {k for k, _ in problems(target, str(forged), key=b"a guess")}
    # the genuine signed anchor shows the truncation
    assert "truncated" in {k for k, _ in problems(target, str(signed), key=KEY)}


def slipped_past_the_gate(ledger: Ledger, event: str, actor: str, at: str, **kw: Any) -> None:
    """Append an event of F1 to the (memory) store directly, as an SQL insert with good hashes would."""
    current = ledger.get("F1")
    forged = Event("F1", event, pendulum.parse(at), actor, version=current.version + 1, **kw)
    ledger.store.append(forged, ledger.workflow.apply(current, forged, now=CLOCK), current.version)


def test_replay_refuses_an_event_whose_actor_lacked_the_role() -> None:
    """An event slipped past the gate (appended to the store directly) is named by verify."""
    ledger = Ledger(MemoryStore(), clock=lambda: CLOCK)
    fill(ledger)
    slipped_past_the_gate(ledger, "recheck", "丙", t(200), evidence=("r.pdf",))
    result = ledger.verify()
    assert [(p.kind, p.finding_id) for p in result.problems] == [("permission_denied", "F1")]
    assert result.problems[0].position == ledger.head().count


def test_replay_refuses_an_event_legitimised_only_by_a_later_grant() -> None:
    """An event by an actor granted the role only later in the chain stays refused on replay."""
    ledger = Ledger(MemoryStore(), clock=lambda: CLOCK)
    fill(ledger)
    slipped_past_the_gate(ledger, "spot_check", "新", t(10), payload={"seed": 1})
    ledger.add_actor("新", roles=["checker"], inspection="R1", actor="办", at=t(1))
    assert [p.kind for p in ledger.verify().problems] == ["permission_denied"]


def test_signed_head_round_trips_and_refuses_bad_input() -> None:
    """A signed head reads back from its text; an empty key or a signed anchor without key is refused."""
    ledger = Ledger(MemoryStore(), clock=lambda: CLOCK)
    fill(ledger)
    signed = ledger.signed_head(KEY)
    assert isinstance(signed, SignedHead)
    count, digest, mac = str(signed).split(":")
    assert (int(count), digest) == tuple(ledger.head())
    assert len(mac) == 64
    assert ledger.signed_head(KEY.decode()) == signed
    assert ledger.verify(str(signed), key=KEY).ok
    assert ledger.verify(signed, key=KEY).ok
    assert ledger.verify(f"{count}:{digest}").ok
    with pytest.raises(InvalidInput):
        ledger.signed_head(b"")
    with pytest.raises(InvalidInput):
        ledger.verify(str(signed))
    with pytest.raises(InvalidInput):
        ledger.verify("12:nothex")


# ---------------------------------------------------------------- evidence


def test_evidence_hashes_are_rechecked(tmp_path: Path) -> None:
    """Hashed evidence re-hashed from a folder: changed and missing files are named, others pass."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "完成.pdf").write_bytes(b"done")
    (folder / "report.pdf").write_bytes(b"report")
    (folder / "gone.pdf").write_bytes(b"gone")
    done = hash_evidence(folder / "完成.pdf")
    assert done == f"完成.pdf#sha256={hashlib.sha256(b'done').hexdigest()}"
    ledger = Ledger(MemoryStore(), clock=lambda: CLOCK)
    ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
    add_finding(ledger, person="乙")
    ledger.fire("F1", "start", actor="乙", at=t(2))
    ledger.fire(
        "F1",
        "submit",
        actor="乙",
        evidence=[done, hash_evidence(folder / "gone.pdf"), "说明"],
        at=t(3),
    )
    ledger.submit_report("R1", actor="丙", evidence=[hash_evidence(folder / "report.pdf")], at=t(4))
    assert ledger.verify(evidence_dir=str(folder)).ok
    (folder / "report.pdf").write_bytes(b"rewritten")
    (folder / "gone.pdf").unlink()
    result = ledger.verify(evidence_dir=str(folder))
    assert {(p.kind, p.finding_id, p.position) for p in result.problems} == {
        ("evidence_changed", None, 5),
        ("evidence_missing", "F1", 4),
    }
    with pytest.raises(InvalidInput):
        hash_evidence(folder / "gone.pdf")


# ---------------------------------------------------------------- CLI


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_roles_report_head_and_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """add-actor, revoke-role, submit-report, head --key-file, verify --anchor/--key-file/--evidence-dir."""
    monkeypatch.chdir(tmp_path)
    db = "t.db"
    with Ledger.open(db) as ledger:
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
    assert (
        run(capsys, "--ledger", db, "add-actor", "办", "--role", "leader", "--role", "inspector")[0]
        == 0
    )
    code, out, _ = run(
        capsys,
        "--ledger",
        db,
        "--json",
        "add-actor",
        "乙",
        "--role",
        "owner",
        "--inspection",
        "R1",
        "--actor",
        "办",
    )
    assert code == 0
    assert [g["role"] for g in json.loads(out)["grants"]] == ["owner"]
    code, _, err = run(
        capsys, "--ledger", db, "--json", "add-actor", "丙", "--role", "leader", "--actor", "乙"
    )
    assert code == 2
    assert json.loads(err)["error"] == "PermissionDenied"
    assert json.loads(err)["needed"] == ["inspector", "leader"]
    code, _, err = run(capsys, "--ledger", db, "add-actor", "丙", "--role", "boss", "--actor", "办")
    assert code == 2
    assert "boss" in err
    (tmp_path / "报告.pdf").write_bytes(b"v1")
    code, out, _ = run(
        capsys,
        "--ledger",
        db,
        "--lang",
        "en",
        "submit-report",
        "R1",
        "--actor",
        "办",
        "--evidence",
        "报告.pdf",
    )
    assert code == 0, out
    assert "submitted" in out
    with Ledger.open(db) as ledger:
        refs = ledger.ledger_history()[-1].evidence
    assert refs == (f"报告.pdf#sha256={hashlib.sha256(b'v1').hexdigest()}",)
    assert (
        run(
            capsys,
            "--ledger",
            db,
            "revoke-role",
            "乙",
            "owner",
            "--inspection",
            "R1",
            "--actor",
            "办",
        )[0]
        == 0
    )
    (tmp_path / "k").write_bytes(KEY + b"\n")
    code, out, _ = run(capsys, "--ledger", db, "head", "--key-file", "k")
    assert code == 0
    anchor = out.strip()
    assert len(anchor.split(":")) == 3
    code, out, _ = run(capsys, "--ledger", db, "--json", "head", "--key-file", "k")
    assert json.loads(out)["mac"] == anchor.split(":")[2]
    ok = ["--ledger", db, "verify", "--anchor", anchor, "--key-file", "k", "--evidence-dir", "."]
    assert run(capsys, *ok)[0] == 0
    (tmp_path / "报告.pdf").write_bytes(b"v2")
    code, out, _ = run(capsys, *ok)
    assert code == 1
    assert "evidence_changed" in out
    (tmp_path / "k2").write_bytes(b"other")
    code, out, _ = run(capsys, "--ledger", db, "verify", "--anchor", anchor, "--key-file", "k2")
    assert code == 1
    assert "anchor_forged" in out
    monkeypatch.setenv("RECTFLOW_HEAD_KEY", KEY.decode())
    assert run(capsys, "--ledger", db, "head")[1].strip() == anchor
    assert run(capsys, "--ledger", db, "verify", "--anchor", anchor)[0] == 0
    monkeypatch.delenv("RECTFLOW_HEAD_KEY")
    assert run(capsys, "--ledger", db, "verify", "--anchor", anchor)[0] == 2  # a MAC needs its key
    assert run(capsys, "--ledger", db, "verify", "--anchor", "3:zz")[0] == 2
    assert run(capsys, "--ledger", db, "head", "--key-file", "missing")[0] == 2
    assert run(capsys, "--ledger", db, "verify", "--evidence-dir", "missing")[0] == 2


def test_cli_fire_hashes_a_local_evidence_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fire --evidence FILE` records the file's SHA-256; a reference that is no file stays text."""
    monkeypatch.chdir(tmp_path)
    with Ledger.open("t.db") as ledger:
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
        add_finding(ledger, person="乙")
        ledger.fire("F1", "start", actor="乙", at=t(2))
    Path("整改.pdf").write_bytes(b"proof")
    code, _, err = run(
        capsys,
        "--ledger",
        "t.db",
        "fire",
        "F1",
        "submit",
        "--actor",
        "乙",
        "--evidence",
        "整改.pdf",
        "--evidence",
        "https://x/y",
    )
    assert code == 0, err
    with Ledger.open("t.db") as ledger:
        assert ledger.history("F1")[-1].evidence == (
            f"整改.pdf#sha256={hashlib.sha256(b'proof').hexdigest()}",
            "https://x/y",
        )


def test_rehashed_rewrite_of_a_chained_actor_event_is_caught(target: Target) -> None:
    """Rewriting the first add_actor (and its hash) breaks the link to the next entry."""
    if target.store is not None:
        store = target.store
        i = next(i for i, e in enumerate(store._chain) if e.name == "add_actor")
        old_event = store._chain[i]
        event = attrs.evolve(
            old_event, payload={**old_event.payload, "roles": ["leader", "owner", "inspector"]}
        )
        prev = store._hashes[i - 1].hex() if i else GENESIS
        store._chain[i] = event
        store._hashes[i] = bytes.fromhex(entry_hash(prev, i + 1, event))
        # The memory store keeps no prev_hash per entry: the broken link shows at the next one.
        seq = i + 2
    else:
        assert target.raw is not None
        if target.name == "sqlite":
            target.raw("DROP TRIGGER IF EXISTS events_no_update")
        else:
            target.raw("ALTER TABLE events DISABLE TRIGGER USER")
        [(seq, data, prev)] = target.raw(
            "SELECT seq, data, prev_hash FROM events WHERE name = 'add_actor' ORDER BY seq LIMIT 1"
        )
        old = event_from(json.loads(data))
        event = attrs.evolve(
            old, payload={**old.payload, "roles": ["inspector", "leader", "owner"]}
        )
        p = target.ph
        target.raw(
            f"UPDATE events SET data = {p}, hash = {p} WHERE seq = {p}",
            (dumps(unstructure(event)), entry_hash(prev, seq, event), seq),
        )
    found = problems(target)
    assert ("edited", seq) in {(k, int(d.split()[1])) for k, d in found if k == "edited"}


def test_tamper_evidence_page_runs() -> None:
    """Every python block of docs/explanation/tamper-evidence.md runs as written."""
    page = Path(__file__).resolve().parent.parent / "docs" / "explanation" / "tamper-evidence.md"
    blocks = [
        b.split("```", 1)[0] for b in page.read_text(encoding="utf-8").split("```python\n")[1:]
    ]
    assert blocks
    for block in blocks:
        exec(compile(block, str(page), "exec"), {})  # noqa: S102
