"""Tests that kill the security mutations of issue 17 (each would be a real bug).

An independent run mutated the security-relevant code by hand and found fourteen
one-line changes that the suite did not notice. Each test below names, in its
docstring, the bug it pins; docs/testing.md keeps the table of mutation → test,
each proved by applying the mutation and watching the test fail.

They test behaviour (the public ledger, the file readers' refusals, the pure
checks of :mod:`rectflow._roles` and :mod:`rectflow._views`), never line numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import attrs
import openpyxl
import pytest
import yaml

from rectflow import (
    Event,
    FileLimits,
    InvalidInput,
    Ledger,
    LedgerFileError,
    PermissionDenied,
    RuleViolation,
)
from rectflow._i18n import msg
from rectflow._io.table import FileProblem
from rectflow._io.xlsxfile import DATE_FORMAT, _first_sheet_part, write_rows
from rectflow._roles import LEDGER, LedgerState
from rectflow._store.base import GENESIS, ChainEntry, Head, entry_hash
from rectflow._views.integrity import (
    SignedHead,
    anchor_problems,
    evidence_problems,
    hash_evidence,
    ledger_problems,
    parse_anchor,
    sign_head,
    with_problems,
)
from rectflow._views.verify import Problem, Verification, verify_chain
from roles_support import BASE, CLOCK, add_finding, t

KEY = "the key kept outside the ledger"


def new_ledger() -> Ledger:
    """A memory ledger with the fixed clock of the roles tests."""
    return Ledger.open(":memory:", clock=lambda: CLOCK)


def roles_ledger() -> Ledger:
    """A roles-mode ledger: 办 inspects and leads, 乙 owns R1; F1 added by 办."""
    ledger = new_ledger()
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    ledger.add_actor("办", roles=["inspector", "leader"], at=t(0))
    ledger.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(0))
    add_finding(ledger)
    return ledger


def codes(exc: LedgerFileError) -> set[tuple[str, str]]:
    """The ``(column, code)`` of every problem of a refused file."""
    return {(e.column, e.code) for e in exc.errors}


# ---------------------------------------------------------------- _views/verify.py


def rechain(events: list[Event], start: str) -> list[ChainEntry]:
    """*events* chained afresh from *start*, every hash and link consistent."""
    entries, prev = [], start
    for seq, event in enumerate(events, 1):
        digest = entry_hash(prev, seq, event)
        entries.append(ChainEntry(seq, event, prev, digest))
        prev = digest
    return entries


def test_a_chain_rehashed_from_a_non_genesis_start_is_caught_without_an_anchor() -> None:
    """verify.py: the first entry must link to GENESIS (bug: the ``prev_hash`` check disabled,
    so a whole chain rewritten and re-hashed from another start verifies without an anchor)."""
    ledger = roles_ledger()
    ledger.fire("F1", "start", actor="乙", at=t(2))
    events = [e.event for e in ledger.store.chain()]
    rows = list(ledger.store.findings())
    assert verify_chain(rechain(events, GENESIS), rows, ledger.workflow).ok  # the control

    forged = verify_chain(rechain(events, "ab" * 32), rows, ledger.workflow)

    assert not forged.ok
    assert [(p.position, p.kind) for p in forged.problems] == [(1, "edited")]


# ---------------------------------------------------------------- _views/integrity.py


def test_a_signed_head_binds_its_count() -> None:
    """integrity.py: the MAC covers the count (bug: the signed message without the count, so
    an anchor whose count alone was changed — hiding a truncation — still verifies)."""
    head = Head(5, "c" * 64)
    signed = sign_head(head, KEY)
    assert anchor_problems(signed, KEY) == []  # the control
    forged = SignedHead(4, signed.hash, signed.mac)

    problems = anchor_problems(forged, KEY)

    assert [(p.position, p.kind) for p in problems] == [(4, "anchor_forged")]
    assert sign_head(Head(4, head.hash), KEY).mac != signed.mac


def test_a_ledger_anchor_with_a_forged_count_is_named() -> None:
    """integrity.py: ``Ledger.verify`` names an anchor whose count was changed under the same
    MAC (bug: the signed message without the count)."""
    ledger = roles_ledger()
    signed = ledger.signed_head(KEY)
    ledger.fire("F1", "start", actor="乙", at=t(2))
    forged = f"{signed.count - 1}:{signed.hash}:{signed.mac}"

    result = ledger.verify(anchor=forged, key=KEY)

    assert ("anchor_forged", signed.count - 1) in {(p.kind, p.position) for p in result.problems}


def ledger_chain() -> tuple[Ledger, list[ChainEntry]]:
    """A ledger whose chain holds three ledger-level events (versions 1, 2, 3) and a finding's."""
    ledger = new_ledger()
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    ledger.add_inspection("R2", title="市委巡察", feedback_at="2024-01-05", at=t(0))
    add_finding(ledger)
    ledger.add_inspection("R3", title="省委巡察", feedback_at="2024-01-05", at=t(2))
    return ledger, list(ledger.store.chain())


def integrity_problems(ledger: Ledger, entries: list[ChainEntry]) -> set[tuple[int, str]]:
    """``(seq, kind)`` of what :func:`ledger_problems` finds in *entries* on *ledger*'s rows."""
    records = {kind: ledger.store.records(kind) for kind in ("actor", "grant")}
    found = ledger_problems(entries, ledger.store.inspections(), records, ledger.policy)
    return {(p.position, p.kind) for p in found}


@pytest.mark.parametrize(("seq", "version"), [(2, 3), (2, 1), (4, 2), (4, 5)])
def test_a_ledger_level_version_gap_or_repeat_is_named(seq: int, version: int) -> None:
    """integrity.py: ledger-level versions run 1, 2, 3 … (bug: the gap check weakened to
    ``version < previous``, so a skipped or repeated version of the ledger's own events passes)."""
    ledger, entries = ledger_chain()
    assert [e.event.version for e in entries if e.event.finding_id == LEDGER] == [1, 2, 3]
    assert integrity_problems(ledger, entries) == set()  # the control
    i = seq - 1
    assert entries[i].event.finding_id == LEDGER
    entries[i] = attrs.evolve(entries[i], event=attrs.evolve(entries[i].event, version=version))

    assert (seq, "history_gap") in integrity_problems(ledger, entries)


@pytest.mark.parametrize(
    "mac",
    ["garbage", "", "0" * 63, "0" * 65, "G" * 64, "0" * 63 + " 0"],
)
def test_a_malformed_mac_is_refused_not_taken_for_no_mac(mac: str) -> None:
    """integrity.py: ``COUNT:HASH:garbage`` is an error (bug: a malformed MAC read as "no MAC",
    so a forged anchor verifies as an unsigned one, without the key)."""
    head = f"3:{'a' * 64}"
    assert parse_anchor(head).mac is None  # the control: unsigned is fine
    with pytest.raises(InvalidInput):
        parse_anchor(f"{head}:{mac}")


def test_ledger_verify_refuses_an_anchor_with_a_malformed_mac() -> None:
    """integrity.py: ``Ledger.verify`` refuses ``COUNT:HASH:garbage`` rather than checking it as
    an unsigned head (bug: a malformed MAC accepted as "no MAC")."""
    ledger = roles_ledger()
    head = ledger.head()
    assert ledger.verify(anchor=f"{head.count}:{head.hash}").ok  # the control

    with pytest.raises(InvalidInput):
        ledger.verify(anchor=f"{head.count}:{head.hash}:garbage")


@pytest.mark.parametrize("key", [" ", "\t\n ", b"  ", b"\r\n", "\u3000"])
def test_a_whitespace_only_hmac_key_is_refused(key: str | bytes) -> None:
    """integrity.py: a key of only whitespace is no key (bug: ``raw.strip()`` → ``raw``, so a
    head signed under ``" "`` — a key anyone guesses — is accepted)."""
    head = Head(1, "a" * 64)
    signed = sign_head(head, KEY)
    with pytest.raises(InvalidInput):
        sign_head(head, key)
    with pytest.raises(InvalidInput):
        anchor_problems(signed, key)


# ---------------------------------------------------------------- _roles.py


@pytest.mark.parametrize(
    ("event", "relation", "named", "actor"),
    [
        ("sign_off", "submitter", "李四", " 李四"),
        ("sign_off", "submitter", "李四", "李四\u3000"),
        ("reject", "submitter", "Li Si", "LI  SI"),
        ("recheck", "submitter", "Li Si", "ｌｉ ｓｉ"),
        ("sign_off", "responsible", "张三", "张三 "),
        ("cancel", "responsible", "张三", "\t张三"),
        ("extend", "requester", "wang", "ＷＡＮＧ"),
    ],
)
def test_separation_of_duties_compares_persons_not_raw_strings(
    event: str, relation: str, named: str, actor: str
) -> None:
    """_roles.py: a name that differs only in spacing, case or width is the same person (bug:
    separation of duties comparing raw strings, so "李四 " signs off what 李四 submitted)."""
    ledger = new_ledger()
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    before = attrs.evolve(
        add_finding(ledger, person=named if relation == "responsible" else "张三"),
        submitter=named if relation == "submitter" else "某甲",
    )
    payload = {"requested_by": named} if relation == "requester" else {}
    policy = attrs.evolve(ledger.policy, separation=((event, (relation,)),))
    state = LedgerState()
    allowed = Event("F1", event, CLOCK, "某人", payload=payload)
    state.check_separation(allowed, before, policy, "en")  # the control: someone else
    assert actor != named

    with pytest.raises(PermissionDenied):
        state.check_separation(attrs.evolve(allowed, actor=actor), before, policy, "en")


def test_a_yaml_sign_off_by_the_submitter_under_another_spelling_is_refused(
    tmp_path: Path,
) -> None:
    """_roles.py through an import: a YAML file's ``sign_off`` by "乙 " after 乙 submitted is
    refused (bug: separation of duties comparing raw strings)."""
    source = new_ledger()
    source.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    add_finding(source, actor="办")
    source.fire("F1", "start", actor="乙", at=t(2))
    source.fire("F1", "submit", actor="乙", at=t(3), note="已整改", evidence=["a.pdf"])
    path = tmp_path / "l.yaml"
    source.export_file(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["events"].append(
        {"finding_id": "F1", "name": "sign_off", "at": t(4), "actor": "乙\u3000", "version": 4}
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    target = new_ledger()

    with pytest.raises(LedgerFileError) as refused:
        target.import_file(path, actor="办")

    assert {code for _, code in codes(refused.value)} & {
        "permission_denied",
        "rule.signer_not_submitter",
    }
    assert target.head().count == 0


def test_a_report_dated_before_its_inspection_was_recorded_is_refused() -> None:
    """_roles.py: ``submit_report`` before the inspection was put on the ledger is refused, even
    after its feedback day (bug: that check dropped, so a report can be back-dated)."""
    ledger = new_ledger()
    state = LedgerState()
    recorded = ledger.now().subtract(days=30)
    state.apply(
        Event(
            LEDGER,
            "add_inspection",
            recorded,
            "",
            payload={
                "inspection": "R1",
                "title": "县委巡察",
                "feedback_at": "2024-01-05",
                "declared_findings": None,
            },
            version=1,
        )
    )
    report = Event(
        LEDGER,
        "submit_report",
        recorded.add(days=1),
        "办",
        evidence=("report.pdf",),
        payload={"inspection": "R1"},
        version=2,
    )
    state.validate(report, ledger.policy, "en")  # the control: after it was recorded

    with pytest.raises(RuleViolation) as refused:
        state.validate(attrs.evolve(report, at=recorded.subtract(days=1)), ledger.policy, "en")
    assert refused.value.rule == "report_after_feedback"


def test_verify_names_a_report_chained_before_its_inspection_was_recorded() -> None:
    """_roles.py via ``ledger_problems``: a chained report whose time precedes its inspection's
    recording is named (bug: the report-before-recorded check dropped)."""
    ledger = new_ledger()
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(5))
    ledger.submit_report("R1", actor="办", evidence=["report.pdf"], at=t(6))
    entries = list(ledger.store.chain())
    assert integrity_problems(ledger, entries) == set()  # the control
    report = entries[1]
    entries[1] = attrs.evolve(report, event=attrs.evolve(report.event, at=BASE.add(days=4)))

    assert (2, "replay_failed") in integrity_problems(ledger, entries)


# ---------------------------------------------------------------- _io/plan.py


def yaml_events(n: int, tmp_path: Path) -> Path:
    """A YAML ledger file of *n* events: R1 then ``add`` of G1 … G(n-1) (one per finding)."""
    source = new_ledger()
    source.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    for i in range(1, n):
        add_finding(source, f"G{i}")
    path = tmp_path / f"events{n}.yaml"
    source.export_file(path)
    assert len(yaml.safe_load(path.read_text(encoding="utf-8"))["events"]) == n
    return path


def test_the_yaml_event_limit_is_exact(tmp_path: Path) -> None:
    """plan.py: a YAML file of exactly ``max_rows`` events imports, one more is refused with
    ``too_many_rows`` (bug: the row limit off by one either way)."""
    limits = FileLimits(max_rows=4)
    at_limit = new_ledger()
    at_limit.import_file(yaml_events(4, tmp_path), actor="办", limits=limits)
    assert at_limit.head().count == 4

    over = new_ledger()
    with pytest.raises(LedgerFileError) as refused:
        over.import_file(yaml_events(5, tmp_path), actor="办", limits=limits)
    assert codes(refused.value) == {("events", "too_many_rows")}
    assert over.head().count == 0


def test_a_yaml_add_whose_payload_is_not_what_the_rules_derive_is_refused(
    tmp_path: Path,
) -> None:
    """plan.py: an ``add`` event's payload must equal what ``add_finding`` derives from it (bug:
    not compared, so the file's event and the one chained differ and extra data is dropped)."""
    path = yaml_events(2, tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["events"][1]["payload"]["owner"]["phone"] = "138"
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    target = new_ledger()
    target.import_file(path, actor="办", dry_run=True)  # the control: as exported

    with pytest.raises(LedgerFileError) as refused:
        target.import_file(edited, actor="办")

    assert codes(refused.value) == {("events.payload", "yaml_schema")}
    assert target.head().count == 0


def roles_yaml(tmp_path: Path, *extra: dict[str, Any]) -> Path:
    """The roles ledger as a YAML file, *extra* events appended after its last one."""
    path = tmp_path / "roles.yaml"
    roles_ledger().export_file(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["events"].extend(extra)
    data.pop("head")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


FORBIDDEN_START = {"finding_id": "F1", "name": "start", "at": t(2), "actor": "办", "version": 2}
"""办 starting F1: 办 holds no owner role."""
FORBIDDEN_ADD = {
    "finding_id": "F2",
    "name": "add",
    "at": t(2),
    "actor": "乙",
    "version": 1,
    "payload": {
        "inspection": "R1",
        "aspect": "",
        "category": "",
        "title": "问题",
        "kind": "deadline",
        "owner": {"leader": "领导", "department": "办公室", "person": "责任人"},
        "deadline": "2024-03-29",
        "measures": [],
        "itemized": True,
    },
}
"""乙 adding F2: 乙 is an owner, not an inspector."""


@pytest.mark.parametrize("event", [FORBIDDEN_START, FORBIDDEN_ADD], ids=["start", "add"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry_run", "import"])
def test_a_yaml_event_after_the_last_ledger_event_passes_the_role_gate(
    tmp_path: Path, event: dict[str, Any], dry_run: bool
) -> None:
    """plan.py: every planned event of a YAML file passes the role gate, also in a dry run when it
    comes after the file's last ledger-level event (bug: the gate skipped for planned events, so
    the dry run reports success for a file the real import refuses)."""
    fine = new_ledger()
    fine.import_file(roles_yaml(tmp_path), actor="办", dry_run=dry_run)  # the control

    target = new_ledger()
    with pytest.raises((LedgerFileError, PermissionDenied)) as refused:
        target.import_file(roles_yaml(tmp_path, event), actor="办", dry_run=dry_run)

    if dry_run:  # nothing was written: the refusal is the file's, in its place
        assert isinstance(refused.value, LedgerFileError)
        assert {code for _, code in codes(refused.value)} == {"permission_denied"}
    assert target.head().count == 0


# ---------------------------------------------------------------- _ledger.py, _writer.py


def test_an_import_is_admitted_again_when_a_role_is_revoked_before_its_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_writer.py: a YAML import's events (admitted with no known tip) are admitted again under
    the write lock (bug: re-admission skipped when the tip is unknown, so a revoke another writer
    committed between planning and writing lets the import through)."""
    path = tmp_path / "g.yaml"
    source = new_ledger()
    source.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    add_finding(source, "G1", actor="录")
    source.export_file(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["events"] = data["events"][1:]  # the finding's events only: R1 is on the ledger
    data.pop("head")
    data.pop("inspections")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ledger = roles_ledger()
    ledger.add_actor("录", roles=["inspector"], actor="办", at=t(0))
    other = Ledger(ledger.store, clock=lambda: CLOCK)
    head = ledger.head()
    ledger.import_file(path, actor="录", dry_run=True)  # the control: 录 may add G1
    write = ledger.store.append_many

    def revoke_first(*args: Any, **kwargs: Any) -> Any:
        other.revoke_role("录", "inspector", actor="办", at=t(1))
        return write(*args, **kwargs)

    monkeypatch.setattr(ledger.store, "append_many", revoke_first)

    with pytest.raises(PermissionDenied):
        ledger.import_file(path, actor="录")
    assert [f.id for f in ledger.findings()] == ["F1"]
    assert ledger.head() == head  # one process: the revoke went with the import's transaction


@pytest.mark.parametrize("actor", ["", "   ", "\u3000"])
def test_a_yaml_import_needs_an_actor(tmp_path: Path, actor: str) -> None:
    """_ledger.py: ``import_file`` refuses an empty or blank actor for every format, YAML too
    (bug: the actor check dropped, so a YAML import with ``actor=""`` succeeds)."""
    path = yaml_events(2, tmp_path)
    ledger = new_ledger()

    with pytest.raises(InvalidInput) as refused:
        ledger.import_file(path, actor=actor)

    assert not isinstance(refused.value, LedgerFileError)
    assert refused.value.field == "actor"
    assert ledger.head().count == 0


# ---------------------------------------------------------------- _io/xlsxfile.py


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small sound XLSX ledger file (one finding of R1), as bytes."""
    ledger = new_ledger()
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    add_finding(ledger)
    path = tmp_path_factory.mktemp("xlsx") / "sound.xlsx"
    ledger.export_file(path)
    return path.read_bytes()


def with_part(workbook: bytes, path: Path, name: str, write: Any) -> Path:
    """*workbook* with one more zip member *name*, written by ``write(stream)``."""
    buffer = io.BytesIO(workbook)
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open(name, "w", force_zip64=True) as part,
    ):
        write(part)
    path.write_bytes(buffer.getvalue())
    return path


def import_into_r1(path: Path) -> Ledger:
    """A ledger with R1 that imports *path* (raises as ``import_file`` does)."""
    ledger = new_ledger()
    ledger.add_inspection("R1", title="县委巡察", feedback_at="2024-01-05", at=t(0))
    ledger.import_file(path, actor="办")
    return ledger


def test_a_zip_bomb_is_refused_by_its_unpacked_size(workbook: bytes, tmp_path: Path) -> None:
    """xlsxfile.py: a workbook that unpacks past the limit (520 MiB of zeros, about 2 MB packed)
    is refused before it is read (bug: the limit measured on compressed sizes)."""
    assert import_into_r1(
        with_part(workbook, tmp_path / "ok.xlsx", "xl/media/a.bin", lambda p: p.write(b"0"))
    )

    def zeros(part: Any) -> None:
        block = bytes(1 << 20)
        for _ in range(520):
            part.write(block)

    bomb = with_part(workbook, tmp_path / "bomb.xlsx", "xl/media/a.bin", zeros)
    assert bomb.stat().st_size < 8 << 20

    with pytest.raises(LedgerFileError) as refused:
        import_into_r1(bomb)
    assert {code for _, code in codes(refused.value)} == {"bad_xlsx"}


@pytest.mark.parametrize(
    "declaration",
    [
        b'<!DOCTYPE x [<!ENTITY e "boom">]>',
        b'<!doctype x [<!entity e "boom">]>',
        b'<!DocType x [<!Entity e "boom">]>',
        b'<! DOCTYPE x [<! ENTITY e "boom">]>',
        b'<!\n\tENTITY e "boom">',
    ],
    ids=["upper", "lower", "mixed", "spaced", "entity-after-newline"],
)
@pytest.mark.parametrize("member", ["customXml/item1.xml", "xl/_rels/extra.rels"])
def test_a_dtd_or_entity_in_any_part_is_refused_whatever_its_case_or_spacing(
    workbook: bytes, tmp_path: Path, declaration: bytes, member: str
) -> None:
    """xlsxfile.py: every XML part is scanned for DTDs and entities, case-insensitively and with
    spaces after ``<!`` (bug: the pattern made case- and space-sensitive, so ``<!doctype`` in a
    part openpyxl never parses slips through)."""
    plain = b'<?xml version="1.0"?><root>fine</root>'
    assert import_into_r1(
        with_part(workbook, tmp_path / "ok.xlsx", member, lambda p: p.write(plain))
    )
    text = b'<?xml version="1.0"?>' + declaration + b"<root>&e;</root>"
    path = with_part(workbook, tmp_path / "dtd.xlsx", member, lambda p: p.write(text))

    with pytest.raises(LedgerFileError) as refused:
        import_into_r1(path)
    assert {code for _, code in codes(refused.value)} == {"xml_entities"}


def test_a_dtd_across_a_read_boundary_is_refused(workbook: bytes, tmp_path: Path) -> None:
    """xlsxfile.py: a declaration split across the scanner's 64 KiB reads is still found."""
    prefix = b'<?xml version="1.0"?><root><!-- '
    filler = b"x" * ((1 << 16) - 3 - len(prefix) - len(b" -->"))
    text = prefix + filler + b' --><!doctype x [<!entity e "b">]></root>'
    assert text.index(b"<!doctype") == (1 << 16) - 3  # "<!d" in one read, "octype" in the next
    path = with_part(
        workbook, tmp_path / "split.xlsx", "customXml/item1.xml", lambda p: p.write(text)
    )

    with pytest.raises(LedgerFileError) as refused:
        import_into_r1(path)
    assert {code for _, code in codes(refused.value)} == {"xml_entities"}


# ---------------------------------------------------------------- details the mutation tool asks for
# (docs/testing.md: mutmut's survivors in integrity.py, each killed here or listed as equivalent)


def test_key_errors_name_the_key_in_the_callers_language() -> None:
    """integrity.py: a bad or missing key is an ``InvalidInput`` on ``key`` whose message is in
    the language asked for (Chinese by default)."""
    head = Head(1, "a" * 64)
    signed = sign_head(head, KEY)
    for call in (
        lambda: sign_head(head, " ", "en"),
        lambda: anchor_problems(signed, b" ", "en"),
    ):
        with pytest.raises(InvalidInput) as refused:
            call()
        assert refused.value.field == "key"
        assert str(refused.value) == "invalid key: empty"
    with pytest.raises(InvalidInput) as refused:
        sign_head(head, "")
    assert str(refused.value) == "密钥无效: empty"
    with pytest.raises(InvalidInput) as refused:
        anchor_problems(signed, None, "en")
    assert refused.value.field == "key"
    assert str(refused.value).startswith("the anchor carries a MAC")
    assert anchor_problems(SignedHead(1, "a" * 64), None) == []  # unsigned: no key needed


HASH = "a" * 64


@pytest.mark.parametrize(
    "anchor",
    [
        [3, HASH],
        (True, HASH),
        (3, 7),
        ("3", HASH),
        (3, HASH, None),
        "3",
        f"-3:{HASH}",
        f"x:{HASH}",
        f"3:{HASH.upper()}",
        f"3:{HASH[:-1]}",
        f"3:{HASH}:{'b' * 64}:x",
        3,
        None,
    ],
)
def test_a_malformed_anchor_is_refused_with_its_value(anchor: object) -> None:
    """integrity.py: an anchor is a head, a signed head or ``COUNT:HASH[:MAC]`` text; anything
    else (a list, a bool count, a short or upper-case hash, extra parts) is refused on ``anchor``."""
    with pytest.raises(InvalidInput) as refused:
        parse_anchor(anchor, "en")
    assert refused.value.field == "anchor"
    assert refused.value.value == anchor
    assert str(refused.value) == f"an anchor is COUNT:HASH or COUNT:HASH:MAC, not {anchor!r}"


def test_well_formed_anchors_are_read_exactly() -> None:
    """integrity.py: the accepted anchor forms give the count, hash and MAC they hold."""
    mac = "b" * 64
    signed = SignedHead(3, HASH, mac)
    assert parse_anchor(signed) is signed
    assert parse_anchor((3, HASH)) == SignedHead(3, HASH, None)
    assert parse_anchor(Head(3, HASH)) == SignedHead(3, HASH, None)
    assert parse_anchor(f" 3:{HASH}:{mac}\n") == signed
    assert parse_anchor(f"0:{HASH}") == SignedHead(0, HASH, None)
    assert str(signed) == f"3:{HASH}:{mac}"
    assert str(SignedHead(3, HASH)) == f"3:{HASH}"


def test_a_forged_anchor_problem_says_which_head() -> None:
    """integrity.py: the ``anchor_forged`` problem is at the anchor's count, of no finding, and
    names the count and the hash's first 12 digits."""
    forged = SignedHead(7, HASH, sign_head(Head(7, HASH), "another key").mac)

    [problem] = anchor_problems(forged, KEY, "en")

    assert problem.position == 7
    assert problem.kind == "anchor_forged"
    assert problem.finding_id is None
    assert problem.detail.startswith(f"the anchor 7:{HASH[:12]}… is not signed by this key")


def test_hash_evidence_names_and_hashes_a_file_of_many_blocks(tmp_path: Path) -> None:
    """integrity.py: ``hash_evidence`` hashes the whole file (several 64 KiB reads) under the
    name given, else the file's; an unreadable file is ``InvalidInput`` on ``evidence``."""
    data = bytes(range(256)) * 1000  # 256 KB
    file = tmp_path / "scan.pdf"
    file.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()

    assert hash_evidence(file) == f"scan.pdf#sha256={digest}"
    assert hash_evidence(str(file), "整改/scan.pdf") == f"整改/scan.pdf#sha256={digest}"
    with pytest.raises(InvalidInput) as refused:
        hash_evidence(tmp_path / "gone.pdf")
    assert refused.value.field == "evidence"
    assert refused.value.value == tmp_path / "gone.pdf"
    assert "gone.pdf" in str(refused.value)


def evidence_entry(seq: int, refs: tuple[str, ...], finding_id: str = "F1") -> ChainEntry:
    """A chain entry whose event carries *refs* as evidence (hashes are not checked here)."""
    event = Event(finding_id, "submit", CLOCK, "乙", evidence=refs, version=seq)
    return ChainEntry(seq, event, GENESIS, GENESIS)


def test_evidence_outside_the_folder_is_never_read(tmp_path: Path) -> None:
    """integrity.py: a hashed reference leading out of the evidence folder (``..``, an absolute
    path, the folder itself, a symbolic link out) is ``evidence_outside``; names are reported
    as written, in the language asked for; unhashed references are not evidence files."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    (folder / "link.txt").symlink_to(secret)
    (folder / "ok.txt").write_bytes(b"ok")
    digest = hashlib.sha256(b"secret").hexdigest()
    ok = hash_evidence(folder / "ok.txt")
    names = ["../secret.txt", str(secret), ".", "sub/..", "link.txt"]
    entries = [
        evidence_entry(1, (ok, "说明", "plain.txt")),
        evidence_entry(2, tuple(f"{n}#sha256={digest}" for n in names), finding_id=LEDGER),
    ]

    found = evidence_problems(entries, folder, "en")

    assert [(p.position, p.kind, p.finding_id) for p in found] == [
        (2, "evidence_outside", None)
    ] * len(names)
    assert [p.detail for p in found] == [
        f"evidence {n} points outside the evidence folder and was not read" for n in names
    ]


def test_changed_and_missing_evidence_details(tmp_path: Path) -> None:
    """integrity.py: ``evidence_changed`` and ``evidence_missing`` name the finding, the entry and
    the file (a folder under a hashed name is missing, not read)."""
    (tmp_path / "a.pdf").write_bytes(b"now")
    (tmp_path / "dir.pdf").mkdir()
    digest = hashlib.sha256(b"then").hexdigest()
    refs = ("说明", *(f"{n}#sha256={digest}" for n in ("a.pdf", "b.pdf", "dir.pdf")))

    found = evidence_problems([evidence_entry(3, refs)], str(tmp_path), "en")

    assert [(p.position, p.kind, p.finding_id, p.detail) for p in found] == [
        (
            3,
            "evidence_changed",
            "F1",
            "evidence a.pdf changed since it was recorded (SHA-256 differs)",
        ),
        (3, "evidence_missing", "F1", "evidence b.pdf is missing"),
        (3, "evidence_missing", "F1", "evidence dir.pdf is missing"),
    ]


# ---------------------------------------------------------------- _roles.py details


def inspected() -> tuple[LedgerState, Any, Any]:
    """A state holding R1 (feedback 2024-01-05, recorded 2024-01-10 10:00), the policy, that time."""
    ledger = new_ledger()
    state = LedgerState()
    recorded = BASE
    state.apply(
        Event(
            LEDGER,
            "add_inspection",
            recorded,
            "",
            payload={
                "inspection": "R1",
                "title": "县委巡察",
                "feedback_at": "2024-01-05",
                "declared_findings": None,
            },
            version=1,
        )
    )
    return state, ledger.policy, recorded


def change(at: Any, **payload: Any) -> Event:
    """A ``change_inspection`` of R1 at *at*."""
    return Event(LEDGER, "change_inspection", at, "办", payload={"inspection": "R1", **payload})


@pytest.mark.parametrize(
    ("payload", "field", "value"),
    [
        ({"reason": 5, "declared_findings": 3}, "reason", 5),
        ({"reason": " \t", "declared_findings": 3}, "reason", " \t"),
        ({"reason": "改"}, "declared_findings", None),
        ({"reason": "改", "declared_findings": -1}, "declared_findings", -1),
        ({"reason": "改", "declared_findings": True}, "declared_findings", True),
        ({"reason": "改", "feedback_at": "soon"}, "feedback_at", "soon"),
    ],
)
def test_a_malformed_change_of_an_inspection_names_its_field(
    payload: dict[str, Any], field: str, value: object
) -> None:
    """_roles.py: ``change_inspection`` needs a reason (text, not blank), something to change,
    a count ≥ 0 and a date; a refusal names the field and the value, in the language asked for."""
    state, policy, recorded = inspected()
    state.validate(change(recorded, reason="改", declared_findings=3), policy, "en")  # control

    with pytest.raises(InvalidInput) as refused:
        state.validate(change(recorded, **payload), policy, "en")

    assert (refused.value.field, refused.value.value) == (field, value)
    assert str(refused.value) == f"ledger event change_inspection: invalid {field}: {value!r}"


def test_a_changed_feedback_day_may_be_the_day_of_the_change_not_later() -> None:
    """_roles.py: a new feedback day on the day of the change (local time) is accepted, the day
    after is ``feedback_not_in_future`` with both days named."""
    state, policy, recorded = inspected()
    state.validate(change(recorded, reason="改", feedback_at="2024-01-10"), policy, "en")

    with pytest.raises(RuleViolation) as refused:
        state.validate(change(recorded, reason="改", feedback_at="2024-01-11"), policy, "en")

    assert (refused.value.rule, refused.value.event) == (
        "feedback_not_in_future",
        "change_inspection",
    )
    assert str(refused.value) == (
        "the feedback day 2024-01-11 is after the day of the change 2024-01-10"
    )


def report(at: Any, *evidence: Any) -> Event:
    """A ``submit_report`` of R1 at *at* with *evidence*."""
    return Event(LEDGER, "submit_report", at, "办", evidence=evidence, payload={"inspection": "R1"})


@pytest.mark.parametrize("evidence", [(), (" ",), ("report.pdf", ""), (5,), ("report.pdf", None)])
def test_a_report_needs_evidence_that_is_text(evidence: tuple[Any, ...]) -> None:
    """_roles.py: a report without evidence, or with a blank or non-text reference, is refused
    with ``evidence_required`` (never an ``AttributeError``)."""
    state, policy, recorded = inspected()
    state.validate(report(recorded, "report.pdf"), policy, "en")  # the control

    with pytest.raises(RuleViolation) as refused:
        state.validate(report(recorded, *evidence), policy, "en")

    assert (refused.value.rule, refused.value.event) == ("evidence_required", "submit_report")
    assert str(refused.value) == "evidence must not be empty"


def test_a_report_may_come_on_the_feedback_day_and_at_the_recording_time() -> None:
    """_roles.py: the report's bounds are inclusive (the feedback day, the very time the
    inspection was recorded); a second earlier is refused, naming the inspection."""
    state, policy, recorded = inspected()
    state.validate(report(recorded, "report.pdf"), policy, "en")
    early = state.inspections["R1"]
    state.inspections["R1"] = attrs.evolve(early, created_at=None)
    on_feedback_day = BASE.set(day=5, hour=0)
    state.validate(report(on_feedback_day, "report.pdf"), policy, "en")
    with pytest.raises(RuleViolation):
        state.validate(report(on_feedback_day.subtract(seconds=1), "r.pdf"), policy, "en")
    state.inspections["R1"] = early

    with pytest.raises(RuleViolation) as refused:
        state.validate(report(recorded.subtract(seconds=1), "report.pdf"), policy, "en")

    assert (refused.value.rule, refused.value.event) == ("report_after_feedback", "submit_report")
    assert str(refused.value).startswith("the report of R1 at 2024-01-10T09:59:59+08:00")


# ---------------------------------------------------------------- _io/xlsxfile.py details


def rebuilt(workbook: bytes, path: Path, **parts: bytes | None) -> Path:
    """*workbook* with parts replaced, added or (None) dropped, written to *path*."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    names = [n for n in source.namelist() if n not in parts] + list(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in dict.fromkeys(names):
            data = parts[name] if name in parts else source.read(name)
            if data is not None:
                archive.writestr(name, data)
    return path


def part(workbook: bytes, name: str) -> bytes:
    """One part of *workbook*."""
    return zipfile.ZipFile(io.BytesIO(workbook)).read(name)


def test_a_dtd_in_a_part_the_scan_skips_is_refused_by_the_xml_parser(
    workbook: bytes, tmp_path: Path
) -> None:
    """xlsxfile.py: the second line of defence: a sheet stored under another suffix (not
    scanned) that declares entities is refused by defusedxml as ``xml_entities``, not read."""
    sheet = part(workbook, "xl/worksheets/sheet1.xml")
    rels = part(workbook, "xl/_rels/workbook.xml.rels").replace(b"sheet1.xml", b"sheet1.dat")
    types = part(workbook, "[Content_Types].xml").replace(b"sheet1.xml", b"sheet1.dat")
    moved = {
        "xl/worksheets/sheet1.xml": None,
        "xl/_rels/workbook.xml.rels": rels,
        "[Content_Types].xml": types,
    }
    sound = rebuilt(
        workbook, tmp_path / "moved.xlsx", **moved, **{"xl/worksheets/sheet1.dat": sheet}
    )
    assert import_into_r1(sound).get("F1")  # the control: the moved sheet reads
    declared = sheet.replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY e "boom">]><worksheet', 1)
    path = rebuilt(
        workbook, tmp_path / "dtd.xlsx", **moved, **{"xl/worksheets/sheet1.dat": declared}
    )

    with pytest.raises(LedgerFileError) as refused:
        import_into_r1(path)
    assert {code for _, code in codes(refused.value)} == {"xml_entities"}


def test_the_first_worksheet_is_found_as_openpyxl_finds_it(workbook: bytes, tmp_path: Path) -> None:
    """xlsxfile.py: the fallback that finds the first sheet's part (openpyxl's own rules): the
    workbook named by its content type or at ``xl/workbook.xml``; sheets whose target is
    missing or a chartsheet skipped; none at all is ``bad_xlsx`` (no worksheet)."""

    def first(**parts: bytes | None) -> str:
        path = rebuilt(workbook, tmp_path / "w.xlsx", **parts)
        with zipfile.ZipFile(path) as archive:
            return _first_sheet_part(archive)

    types = part(workbook, "[Content_Types].xml")
    book = part(workbook, "xl/workbook.xml")
    rels = part(workbook, "xl/_rels/workbook.xml.rels")
    assert first() == "xl/worksheets/sheet1.xml"
    # the workbook moved, named only by its content type
    assert (
        first(
            **{
                "xl/workbook.xml": None,
                "xl/_rels/workbook.xml.rels": None,
                "xl/book.xml": book,
                "xl/_rels/book.xml.rels": rels,
                "[Content_Types].xml": types.replace(b"/xl/workbook.xml", b"/xl/book.xml"),
            }
        )
        == "xl/worksheets/sheet1.xml"
    )
    # no content type for it: the default place
    no_type = types.replace(b'<Override PartName="/xl/workbook.xml"', b'<Default Extension="x"')
    assert first(**{"[Content_Types].xml": no_type}) == "xl/worksheets/sheet1.xml"
    # a chartsheet and a sheet whose part is missing come first: skipped
    chart = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/chartsheet"
    extra = (
        b'<Relationship Type="' + chart + b'" Target="/xl/styles.xml" Id="rId8" />'
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/worksheet" Target="/xl/worksheets/gone.xml" Id="rId9" />'
    )
    sheets = (
        b'<sheets><sheet name="c" sheetId="8" r:id="rId8" />'
        b'<sheet name="g" sheetId="9" r:id="rId9" /><sheet name="n" sheetId="7" />'
    )
    with_extra = rels.replace(b"</Relationships>", extra + b"</Relationships>")
    skipped = book.replace(b"<sheets>", sheets, 1)
    assert (
        first(**{"xl/_rels/workbook.xml.rels": with_extra, "xl/workbook.xml": skipped})
        == "xl/worksheets/sheet1.xml"
    )
    # the workbook at a name starting with X; an element with an r:id before the sheets
    assert (
        first(
            **{
                "xl/workbook.xml": None,
                "xl/_rels/workbook.xml.rels": None,
                "Xbook.xml": book.replace(b"<workbookPr />", b'<workbookPr r:id="rId2" />'),
                "_rels/Xbook.xml.rels": rels.replace(
                    b'Target="styles.xml"', b'Target="xl/styles.xml"'
                ),
                "[Content_Types].xml": types.replace(b"/xl/workbook.xml", b"/Xbook.xml"),
            }
        )
        == "xl/worksheets/sheet1.xml"
    )
    only_chart = book.replace(b'r:id="rId1"', b'r:id="rId8"')
    with pytest.raises(FileProblem) as refused:
        first(**{"xl/_rels/workbook.xml.rels": with_extra, "xl/workbook.xml": only_chart})
    assert (refused.value.code, refused.value.fields) == ("bad_xlsx", {"value": "no worksheet"})


def test_written_workbooks_keep_text_as_text_and_their_layout(tmp_path: Path) -> None:
    """xlsxfile.py: ``write_rows`` stores text that looks like a formula as text (never a formula
    a spreadsheet would run), dates with a date format, in one sheet 整改台账 with its header
    frozen and its long-text columns wide."""
    path = tmp_path / "w.xlsx"
    header = ["编号", "问题", "整改措施", "整改进展", "佐证材料", "整改时限"]
    write_rows(path, header, [["=1+1", "@SUM(A1)", "+x", "-y", "a", dt.date(2024, 3, 1)]])

    book = openpyxl.load_workbook(path)
    [sheet] = book.worksheets
    assert sheet.title == "整改台账"
    assert sheet.freeze_panes == "A2"
    assert [sheet.column_dimensions[c].width for c in "ABCDEF"] == [14, 40, 40, 40, 40, 14]
    row = sheet[2]
    assert [c.value for c in row[:5]] == ["=1+1", "@SUM(A1)", "+x", "-y", "a"]
    assert {c.data_type for c in row[:5]} == {"s"}
    assert row[5].number_format == DATE_FORMAT
    assert row[5].value.date() == dt.date(2024, 3, 1)


# ---------------------------------------------------------------- integrity.py: what each problem says


def appended(entries: list[ChainEntry], event: Event) -> list[ChainEntry]:
    """*entries* and *event* after them (hashes are not what ``ledger_problems`` checks)."""
    return [*entries, ChainEntry(len(entries) + 1, event, GENESIS, GENESIS)]


def described(ledger: Ledger, entries: list[ChainEntry]) -> list[tuple[int, str, Any, str]]:
    """Every problem ``ledger_problems`` finds, in English, as ``(seq, kind, finding, detail)``."""
    records = {kind: ledger.store.records(kind) for kind in ("actor", "grant")}
    found = ledger_problems(entries, ledger.store.inspections(), records, ledger.policy, "en")
    return [(p.position, p.kind, p.finding_id, p.detail) for p in found]


def test_ledger_problems_name_each_kind_with_its_details() -> None:
    """integrity.py: a version gap, an actor without the role (ledger-level and finding events),
    an event under another policy and an event that cannot be replayed are each named with
    their kind, entry and an English detail; a row whose event is gone is at position 0."""
    ledger = roles_ledger()
    entries = list(ledger.store.chain())
    assert described(ledger, entries) == []  # the control
    n = len(entries)

    gap = appended(entries, change(BASE.add(days=3), reason="改", declared_findings=2))
    gap[-1] = attrs.evolve(gap[-1], event=attrs.evolve(gap[-1].event, actor="办", version=5))
    assert (n + 1, "history_gap", None, "ledger event change_inspection has version 5, not 4") in (
        described(ledger, gap)
    )

    outsider = Event(
        LEDGER,
        "add_actor",
        BASE.add(days=3),
        "外人",
        payload={"name": "丁", "roles": ["owner"], "inspection": None},
        version=4,
    )
    [(seq, kind, subject, detail)] = described(ledger, appended(entries, outsider))[:1]
    assert (seq, kind, subject) == (n + 1, "permission_denied", None)
    assert "外人" in detail

    start = Event("F1", "start", BASE.add(days=3), "外人", version=2)
    [(seq, kind, subject, detail)] = described(ledger, appended(entries, start))
    assert (seq, kind, subject) == (n + 1, "permission_denied", "F1")
    assert "外人" in detail

    forged = change(BASE.add(days=3), reason="改", declared_findings=2, policy="0" * 64)
    forged = attrs.evolve(forged, actor="办", version=4)
    policy_problems = [p for p in described(ledger, appended(entries, forged)) if p[0]]
    assert policy_problems == [
        (n + 1, "policy_mismatch", None, msg("problem.policy_mismatch", "en", seq=n + 1))
    ]
    assert policy_problems[0][3].startswith(f"entry {n + 1}: the event was recorded under another")

    unknown = report(BASE.add(days=3), "r.pdf")
    unknown = attrs.evolve(unknown, actor="办", payload={"inspection": "R9"}, version=4)
    found = described(ledger, appended(entries, unknown))
    assert [(s, k, f) for s, k, f, _ in found] == [(n + 1, "replay_failed", None)] * 2
    assert found[0][3] == "ledger event submit_report: invalid inspection: 'R9'"
    assert found[1][3] == f"ledger event submit_report cannot be replayed: {KeyError('R9')!r}"

    assert described(ledger, entries[1:])[-1:] == [
        (
            0,
            "inspection_mismatch",
            None,
            "inspection R1: inserted: a row without its event on the chain",
        )
    ]


def test_added_problems_are_sorted_as_verify_sorts_them() -> None:
    """integrity.py: ``with_problems`` keeps positional problems first by position, then kind,
    then finding (none first), and position 0 last; nothing added leaves the result as it was."""
    base = Verification(True, 3, Head(3, HASH), ())
    assert with_problems(base, []) is base
    extra = [
        Problem(0, "grant_mismatch", None, ""),
        Problem(2, "edited", "F2", ""),
        Problem(2, "edited", None, ""),
        Problem(1, "permission_denied", "F1", ""),
        Problem(2, "anchor_forged", None, ""),
    ]

    result = with_problems(base, extra)

    assert not result.ok
    assert (result.count, result.head) == (3, Head(3, HASH))
    assert [(p.position, p.kind, p.finding_id) for p in result.problems] == [
        (1, "permission_denied", "F1"),
        (2, "anchor_forged", None),
        (2, "edited", None),
        (2, "edited", "F2"),
        (0, "grant_mismatch", None),
    ]


# ---------------------------------------------------------------- verify.py: what each problem says


def plain_chain(n: int) -> list[ChainEntry]:
    """A sound chain of *n* ``add`` events (F1 … Fn), from GENESIS."""
    return rechain(
        [Event(f"F{i}", "add", CLOCK, "办", version=1) for i in range(1, n + 1)], GENESIS
    )


def positional(entries: list[ChainEntry], anchor: Any = None) -> list[tuple[int, str, Any, str]]:
    """The chain problems ``verify_chain`` finds, in English: ``(position, kind, finding, detail)``."""
    result = verify_chain(entries, [], new_ledger().workflow, anchor, "en")
    return [(p.position, p.kind, p.finding_id, p.detail) for p in result.problems if p.position]


def swapped(entries: list[ChainEntry], a: int, b: int) -> list[ChainEntry]:
    """*entries* with the rows at seq *a* and *b* exchanged (each keeps its own hash)."""
    out = list(entries)
    out[a - 1], out[b - 1] = (
        attrs.evolve(entries[b - 1], seq=a),
        attrs.evolve(entries[a - 1], seq=b),
    )
    return out


def test_verify_names_each_tampering_with_its_finding_and_positions() -> None:
    """verify.py: an edited, swapped, copied, renumbered or deleted entry is named at its
    position, with the finding it holds and the positions involved, in the language asked for."""
    chain = plain_chain(7)
    assert positional(chain) == []

    edited = list(chain)
    edited[2] = attrs.evolve(chain[2], event=attrs.evolve(chain[2].event, actor="改"))
    assert positional(edited) == [(3, "edited", "F3", "entry 3 does not match its hash")]

    assert positional(swapped(chain, 2, 3)) == [
        (2, "reordered", "F3", "entry 2 holds the event written at position 3"),
        (3, "reordered", "F2", "entry 3 holds the event written at position 2"),
    ]

    copied = [*chain, attrs.evolve(chain[3], seq=8)]
    assert positional(copied) == [(8, "inserted", "F4", "entry 8 is a copy of entry 4")]

    shifted = [attrs.evolve(e, seq=e.seq + 1) for e in chain]
    assert positional(shifted) == [
        (e.seq + 1, "edited", f"F{e.seq}", f"entry {e.seq + 1} was renumbered from {e.seq}")
        for e in chain
    ]

    gap = [e for e in chain if e.seq != 4]
    assert positional(gap) == [(4, "deleted", None, "entry 4 is missing from the chain")]

    contents = list(chain)  # two rows' contents exchanged, each keeping its seq
    contents[1] = attrs.evolve(chain[2], seq=2)
    contents[2] = attrs.evolve(chain[1], seq=3)
    assert [p[:3] for p in positional(contents)] == [(2, "reordered", "F3"), (3, "reordered", "F2")]

    assert positional(chain[:5], Head(7, chain[6].hash)) == [
        (
            s,
            "truncated",
            None,
            f"entry {s} is missing: the anchor has 7 entries, the chain ends at 5",
        )
        for s in (6, 7)
    ]
    assert positional(chain, Head(4, chain[2].hash)) == [
        (4, "anchor_mismatch", None, "entry 4 differs from the anchor")
    ]


@pytest.mark.parametrize(("pairs", "kind"), [(128, "reordered"), (129, "edited")])
def test_moves_are_explained_up_to_256_broken_entries(pairs: int, kind: str) -> None:
    """verify.py: up to 256 broken entries, swapped rows are explained as reordered; above it
    every broken entry is reported as edited without looking for moves (a bound on the work)."""
    chain = plain_chain(2 * pairs + 1)
    for k in range(pairs):
        chain = swapped(chain, 2 * k + 1, 2 * k + 2)

    found = positional(chain)

    assert len(found) == 2 * pairs
    assert {p[1] for p in found} == {kind}


def test_verify_edge_cases_of_the_chain() -> None:
    """verify.py: an empty chain verifies; the first and the next-to-last entry deleted, the first
    entry renumbered far away, an entry renumbered next to an edited one, later problems after
    an earlier one and a rewrite re-hashed after an edited entry are all named."""
    assert verify_chain([], [], new_ledger().workflow).ok
    assert positional([]) == []
    chain = plain_chain(7)
    events = [e.event for e in chain]
    assert positional(chain[1:]) == [(1, "deleted", None, "entry 1 is missing from the chain")]
    assert positional([e for e in chain if e.seq != 6]) == [
        (6, "deleted", None, "entry 6 is missing from the chain")
    ]
    far = [e for e in chain if e.seq != 5]
    far[0] = attrs.evolve(far[0], seq=5)
    assert (5, "edited", "F1", "entry 5 was renumbered from 1") in positional(far)

    edited = [e for e in chain if e.seq != 5]
    edited[2] = attrs.evolve(edited[2], event=attrs.evolve(edited[2].event, actor="改"))
    edited[3] = attrs.evolve(edited[3], seq=5)
    assert (5, "edited", "F4", "entry 5 was renumbered from 4") in positional(edited)

    both = [*chain, attrs.evolve(chain[3], seq=8)]
    both[1] = attrs.evolve(both[1], event=attrs.evolve(both[1].event, actor="改"))
    assert positional(both) == [
        (2, "edited", "F2", "entry 2 does not match its hash"),
        (8, "inserted", "F4", "entry 8 is a copy of entry 4"),
    ]

    relinked = list(both[:7])
    fifth = attrs.evolve(events[4], actor="改")
    relinked[4] = ChainEntry(5, fifth, chain[4].prev_hash, entry_hash(chain[4].prev_hash, 5, fifth))
    assert positional(relinked) == [
        (2, "edited", "F2", "entry 2 does not match its hash"),
        (5, "edited", "F5", "entry 5 was rewritten and re-hashed: entry 6 no longer links to it"),
    ]

    assert positional(rechain(events, "ab" * 32)) == [
        (1, "edited", "F1", "entry 1 does not start the chain")
    ]


def test_an_unreadable_evidence_file_is_named_with_its_error(tmp_path: Path) -> None:
    """integrity.py: ``hash_evidence`` of a missing file says which file and the system's error."""
    gone = tmp_path / "gone.pdf"
    with pytest.raises(InvalidInput) as refused:
        hash_evidence(gone)
    assert str(refused.value) == (
        f"无法读取证据文件 {gone}: [Errno 2] No such file or directory: '{gone}'"
    )


def test_a_report_before_its_feedback_day_says_which_day() -> None:
    """_roles.py: the ``report_after_feedback`` message names the inspection, the time and the
    feedback day."""
    state, policy, _ = inspected()
    state.inspections["R1"] = attrs.evolve(state.inspections["R1"], created_at=None)
    with pytest.raises(RuleViolation) as refused:
        state.validate(report(BASE.set(day=4), "r.pdf"), policy, "en")
    assert str(refused.value).startswith(
        "the report of R1 at 2024-01-04T10:00:00+08:00 is before its feedback day 2024-01-05"
    )


# ---------------------------------------------------------------- refusals and problems, in full


def test_a_permission_refusal_says_who_what_and_why() -> None:
    """_roles.py: ``PermissionDenied`` carries the actor, event, roles needed, inspection and
    subject, and says them (separation of duties, a missing role, an unregistered actor)."""
    ledger = roles_ledger()
    state = LedgerState.replay(ledger.ledger_history())
    before = attrs.evolve(ledger.get("F1"), submitter="乙")
    with pytest.raises(PermissionDenied) as refused:
        state.check_separation(Event("F1", "sign_off", CLOCK, "乙"), before, ledger.policy, "en")
    e = refused.value
    assert (e.actor, e.event, e.needed, e.inspection, e.subject) == (
        "乙",
        "sign_off",
        (),
        "R1",
        "F1",
    )
    assert str(e) == "'乙' is the submitter of finding F1 and may not sign_off it"

    with pytest.raises(PermissionDenied) as refused:
        state.check_role(Event("F1", "sign_off", BASE.add(days=3), "乙"), "R1", ledger.policy, "en")
    e = refused.value
    assert (e.actor, e.event, e.needed, e.inspection, e.subject) == (
        "乙",
        "sign_off",
        ("leader",),
        "R1",
        "F1",
    )
    assert str(e).startswith(
        "'乙' does not hold a role leader needed to sign_off (F1) at 2024-01-13T10:00:00+08:00"
    )
    assert "R1" in str(e)

    revoke = Event(
        LEDGER,
        "revoke_role",
        BASE.add(days=3),
        "外人",
        payload={"name": "乙", "role": "owner", "inspection": "R1"},
    )
    with pytest.raises(PermissionDenied) as refused:
        state.check_role(revoke, None, ledger.policy, "en")
    e = refused.value
    assert (e.actor, e.event, e.inspection, e.subject) == ("外人", "revoke_role", None, "乙")
    assert str(e) == (
        f"'外人' is not a registered actor and may not revoke_role (乙); needs: "
        f"{', '.join(dict(ledger.policy.roles)['revoke_role']) or '-'}"
    )
    report_event = Event(
        LEDGER, "submit_report", BASE.add(days=3), "外人", payload={"inspection": "R1"}
    )
    with pytest.raises(PermissionDenied) as refused:
        state.check_role(report_event, "R1", ledger.policy, "en")
    assert refused.value.subject == "R1"


def test_verify_names_each_findings_problem_in_full() -> None:
    """verify.py: a version gap, a history that breaks the rules, a row that differs from its
    replay and a row without history are named with the finding, in the language asked for,
    after every positional problem; an anchor of count 0 must be the genesis head."""
    ledger = roles_ledger()
    ledger.fire("F1", "start", actor="乙", at=t(2))
    add_finding(ledger, "F2")
    entries = list(ledger.store.chain())
    rows = {f.id: f for f in ledger.store.findings()}
    wf = ledger.workflow

    def finding_problems(entries: list[ChainEntry], rows: dict[str, Any]) -> list[Any]:
        found = verify_chain(entries, rows.values(), wf, None, "en").problems
        return [(p.position, p.kind, p.finding_id, p.detail) for p in found if not p.position]

    assert finding_problems(entries, rows) == []
    start = next(i for i, e in enumerate(entries) if e.event.name == "start")
    gap = list(entries)
    gap[start] = attrs.evolve(entries[start], event=attrs.evolve(entries[start].event, version=3))
    assert (0, "history_gap", "F1", "finding F1: versions are [1, 3], not 1..2") in (
        finding_problems(gap, rows)
    )
    broken = list(entries)
    broken[start] = attrs.evolve(
        entries[start], event=attrs.evolve(entries[start].event, name="sign_off")
    )
    [(_, kind, fid, detail)] = [
        p for p in finding_problems(broken, rows) if p[1] != "state_mismatch"
    ]
    assert (kind, fid) == ("replay_failed", "F1")
    assert detail.startswith("finding F1: replay failed: ")
    assert len(detail) > len("finding F1: replay failed: ")
    other = {**rows, "F1": attrs.evolve(rows["F1"], title="改")}
    assert finding_problems(entries, other) == [
        (0, "state_mismatch", "F1", "finding F1: current row differs from its replayed history")
    ]
    extra = {**rows, "F9": attrs.evolve(rows["F2"], id="F9")}
    assert finding_problems(entries, extra) == [
        (0, "state_mismatch", "F9", "finding F9: a current row without history")
    ]
    mixed = verify_chain(gap[1:], other.values(), wf, None, "en").problems
    assert mixed[0].position != 0
    assert sorted(
        mixed, key=lambda p: (p.position == 0, p.position, p.kind, p.finding_id or "")
    ) == list(mixed)
    assert verify_chain(entries, rows.values(), wf).head == Head(len(entries), entries[-1].hash)
    assert verify_chain([], [], wf).head == Head(0, GENESIS)
    assert verify_chain([], [], wf, Head(0, GENESIS)).ok
    [problem] = verify_chain([], [], wf, Head(0, HASH), "en").problems
    assert (problem.position, problem.kind, problem.detail) == (
        0,
        "anchor_mismatch",
        "the anchor is not a head",
    )
    assert verify_chain(entries, rows.values(), wf, Head(1, entries[0].hash)).ok
