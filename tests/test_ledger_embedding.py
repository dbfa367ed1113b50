"""The Ledger as services embed it (issue 16): the README's path, one race one error, one language."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any

import pendulum
import pytest

from rectflow import (
    ConcurrencyConflict,
    DuplicateId,
    FindingNotFound,
    InvalidInput,
    Ledger,
    Measure,
    Owner,
    PermissionDenied,
    Policy,
    RectflowError,
    RuleViolation,
    StorageError,
    TimeOrderConflict,
    TransitionNotAllowed,
    Workflow,
)
from rectflow._demo import load_seed

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2025, 6, 1, 8, tz=TZ)
CJK = re.compile(r"[\u3400-\u9fff]")


def readme_ledger(ledger: Ledger) -> Ledger:
    """The README's example, three findings over, with every form of ``at`` it allows."""
    ledger.add_inspection(
        "R1",
        title="县委第一巡察组巡察",
        feedback_at="2023-11-23",
        declared_findings=28,
        actor="巡察办",
        at="2023-11-24T09:00:00+08:00",
    )
    for i in range(1, 4):
        fid = f"1.1.{i}"
        ledger.add_finding(
            fid,
            inspection="R1",
            aspect="第一方面",
            category="(一)…",
            title="对德育工作重要性认识不足",
            kind="deadline",
            owner=Owner(leader="刘副校长", department="德育处", person=f"黄主任{i}"),
            deadline="2 months",
            measures=[
                Measure(f"{fid}-1", "每月召开德育工作联席会议", kind="recurring", cadence="monthly")
            ],
            actor="巡察办",
            at="2023-11-27T09:00:00+08:00",
        )
        ledger.fire(fid, "start", actor="黄主任", at="2023-11-28T09:00:00.250+08:00")
        ledger.fire(
            fid, "record_measure", measure=f"{fid}-1", actor="德育处", at="2023-12-05T10:00:00+0800"
        )
        ledger.fire(fid, "submit", actor="黄主任", at="2023-12-20T02:00:00Z", evidence=["纪要.pdf"])
        ledger.fire(
            fid,
            "sign_off",
            actor="整改办 陈主任",
            at=dt.datetime(2023, 12, 22, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        )
    ledger.fire(
        "1.1.1",
        "recheck",
        actor="巡察办",
        at=pendulum.datetime(2024, 3, 25, 10, tz=TZ),
        evidence=["x"],
    )
    return ledger


# ---------------------------------------------------------------- the README's path


# The heads these ledgers had before issue 16 changed how times are read and the clock
# is kept: the same events, hashed the same way.
README_HEAD = (17, "b706faaae84633cbdd3549d24ee3a232a5923d407555ac87ac05eb5169a5fdc1")
SEED_HEAD = (200, "b3e9edca504964e8c02ce8fc97c9d54125e7d199d0dd3bf1511ebd17e29d90a5")


def test_readme_path_keeps_its_chain_head(tmp_path):
    """The README's path (no clock, ISO text) gives the same events and hashes as before."""
    assert tuple(readme_ledger(Ledger.open(":memory:")).head()) == README_HEAD
    with Ledger.open(tmp_path / "r.db") as ledger:
        assert tuple(readme_ledger(ledger).head()) == README_HEAD
        assert ledger.verify().ok


def test_seed_keeps_its_chain_head():
    """The demo seed's ledger has the same head as before issue 16."""
    ledger = Ledger.open(":memory:")
    load_seed(ledger)
    assert tuple(ledger.head()) == SEED_HEAD


@pytest.mark.parametrize("target", ["memory", "sqlite"])
def test_agenda_of_a_past_day_uses_the_indexes_with_the_wall_clock(tmp_path, target):
    """With no clock, a past day after the last event is answered by the indexes, as replayed."""
    ledger = readme_ledger(Ledger.open(":memory:" if target == "memory" else tmp_path / "a.db"))
    replayed = ledger.agenda(as_of="2024-04-01", upcoming=0)  # reference: replay forced below
    calls: list[dt.datetime] = []
    replay = ledger._writer.as_of

    def spy(cutoff: dt.datetime, *args: Any, **kwargs: Any) -> Any:
        calls.append(cutoff)
        return replay(cutoff, *args, **kwargs)

    ledger._writer.as_of = spy  # type: ignore[method-assign]
    indexed = ledger.agenda(as_of="2024-04-01")
    assert calls == []  # the indexes answered
    assert indexed.to_dict() == replayed.to_dict()
    ledger.agenda(as_of="2024-03-01")  # before the recheck of 2024-03-25: replayed
    assert len(calls) == 1
    ledger.close()


def test_agenda_index_after_a_rolled_back_batch_is_not_stale():
    """A batch rolled back and rewritten with later times: the latest time is scanned anew."""
    ledger = readme_ledger(Ledger.open(":memory:"))
    ledger.agenda(as_of="2024-04-01")  # the latest time is cached now

    def rolled_back() -> None:
        with ledger.batch():
            ledger.fire(
                "1.1.2", "recheck", actor="巡察办", at="2024-03-26T10:00:00+08:00", evidence=["x"]
            )
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rolled_back()
    ledger.fire("1.1.3", "recheck", actor="巡察办", at="2024-04-10T10:00:00+08:00", evidence=["x"])
    calls: list[object] = []
    replay = ledger._writer.as_of

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return replay(*args, **kwargs)

    ledger._writer.as_of = spy  # type: ignore[method-assign]
    ledger.agenda(as_of="2024-04-01")  # an event of 2024-04-10 exists: the index cannot answer
    assert len(calls) == 1


# ---------------------------------------------------------------- one race, one error


def two_writers(tmp_path: Any) -> tuple[Ledger, Ledger]:
    """Two ledgers on one SQLite file (two processes' view), finding F1 started."""
    path = tmp_path / "race.db"
    first = Ledger.open(path, clock=lambda: NOW)
    first.add_inspection(
        "R1", title="巡察", feedback_at="2025-01-02", at="2025-01-03T09:00:00+08:00"
    )
    first.add_finding(
        "F1",
        inspection="R1",
        title="问题",
        kind="deadline",
        owner=Owner("张校长", "德育处", "王老师"),
        deadline="2025-05-01",
        actor="巡察办",
        at="2025-01-03T09:00:00+08:00",
    )
    first.fire("F1", "start", actor="王老师", at="2025-01-06T09:00:00+08:00")
    return first, Ledger.open(path, clock=lambda: NOW)


SUBMIT: dict[str, Any] = {"actor": "王老师", "evidence": ["a.pdf"]}
EXTEND: dict[str, Any] = {
    "actor": "陈主任",
    "requested_by": "王老师",
    "until": "2025-06-01",
    "reason": "汛期",
}


def test_loser_with_its_own_earlier_at_gets_a_conflict(tmp_path):
    """The winner committed a later event first: the loser's earlier ``at`` is a 409, not a 422."""
    loser, winner = two_writers(tmp_path)
    winner.fire("F1", "extend", at="2025-01-08T09:00:00+08:00", **EXTEND)
    with pytest.raises(ConcurrencyConflict) as info:
        loser.fire("F1", "submit", at="2025-01-07T09:00:00+08:00", **SUBMIT)
    err = info.value
    assert isinstance(err, TimeOrderConflict)
    assert not isinstance(err, RuleViolation)
    assert (err.finding_id, err.rule, err.actual) == ("F1", "time_order", 3)
    assert err.previous == pendulum.parse("2025-01-08T09:00:00+08:00")
    assert len(loser.history("F1")) == 3  # nothing of the loser stored
    assert loser.verify().ok


def test_loser_between_read_and_write_gets_a_conflict_whatever_at_says(tmp_path):
    """The winner commits between the loser's read and write: a ConcurrencyConflict, at or no at."""
    for i, at in enumerate(("2025-01-07T09:00:00+08:00", None)):
        (tmp_path / str(i)).mkdir()
        loser, winner = two_writers(tmp_path / str(i))
        loser._writer.before_write = functools.partial(  # widen the race window
            winner.fire, "F1", "submit", at="2025-01-08T09:00:00+08:00", **SUBMIT
        )
        with pytest.raises(ConcurrencyConflict) as info:
            loser.fire("F1", "submit", at=at, **SUBMIT)
        assert (info.value.expected, info.value.actual) == (2, 3)
        assert [e.name for e in loser.history("F1")] == ["add", "start", "submit"]


def test_an_earlier_at_against_the_version_in_hand_is_a_rule_violation(tmp_path):
    """With expected_version still current no race was lost: an earlier at is RuleViolation."""
    ledger, _ = two_writers(tmp_path)
    with pytest.raises(RuleViolation) as info:
        ledger.fire("F1", "submit", at="2025-01-05T09:00:00+08:00", expected_version=2, **SUBMIT)
    assert info.value.rule == "time_order"
    assert not isinstance(info.value, ConcurrencyConflict)


# ---------------------------------------------------------------- one language


def lang_ledger(lang: str, target: str, workflow: Workflow | None = None) -> Ledger:
    """A ledger in *lang* (ASCII names, so any CJK in a message is the catalogue's)."""
    ledger = Ledger.open(target, lang=lang, clock=lambda: NOW, workflow=workflow)
    ledger.add_inspection("R1", title="x", feedback_at="2025-01-02", at="2025-01-03T09:00:00+08:00")
    ledger.add_finding(
        "F1",
        inspection="R1",
        title="t",
        kind="deadline",
        owner=Owner("lead", "dept", "pat"),
        deadline="2025-05-01",
        actor="office",
        at="2025-01-03T09:00:00+08:00",
    )
    ledger.fire("F1", "start", actor="pat", at="2025-01-04T09:00:00+08:00")
    ledger.fire("F1", "submit", actor="sam", at="2025-01-04T10:00:00+08:00", evidence=["a"])
    return ledger


def error_cases(ledger: Ledger) -> list[tuple[type[RectflowError], Callable[[], object]]]:
    """One call per kind of error a service meets."""
    return [
        (RuleViolation, lambda: ledger.fire("F1", "sign_off", actor="sam")),
        (RuleViolation, lambda: ledger.fire("F1", "reject", actor="x")),
        (TransitionNotAllowed, lambda: ledger.fire("F1", "start", actor="pat")),
        (ConcurrencyConflict, lambda: ledger.fire("F1", "sign_off", actor="x", expected_version=1)),
        (
            TimeOrderConflict,
            lambda: ledger.fire("F1", "sign_off", actor="x", at="2025-01-03T09:00:00Z"),
        ),
        (FindingNotFound, lambda: ledger.get("F9")),
        (DuplicateId, lambda: ledger.add_inspection("R1", title="x", feedback_at="2025-01-02")),
        (InvalidInput, lambda: ledger.fire("F1", "sign_off", actor="x", at="2025-01-05T09:00")),
        (InvalidInput, lambda: ledger.fire("F1", "sign_off", actor="x", at="soon")),
        (
            PermissionDenied,
            lambda: (
                ledger.add_actor("boss", roles=["leader"], actor="office"),
                ledger.fire("F1", "sign_off", actor="nobody"),
            ),
        ),
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("custom_workflow", [False, True])
def test_every_error_follows_the_ledgers_language(tmp_path, lang, custom_workflow):
    """Rule, transition, conflict, lookup, input and permission errors: all in the ledger's lang."""
    workflow = Workflow(Policy()) if custom_workflow else None  # a Chinese workflow, shared
    ledger = lang_ledger(lang, str(tmp_path / "l.db"), workflow)
    for kind, call in error_cases(ledger):
        with pytest.raises(kind) as info:
            call()
        text = str(info.value)
        assert bool(CJK.search(text)) == (lang == "zh"), (kind, text)
        assert info.value.message == text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_storage_errors_follow_the_ledgers_language(tmp_path, lang):
    """A store's error (a closed ledger, a file that is no ledger) is in one language, not two."""
    ledger = lang_ledger(lang, str(tmp_path / "s.db"))
    ledger.close()
    with pytest.raises(StorageError) as info:
        ledger.get("F1")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(StorageError) as opened:
        Ledger.open(bad, lang=lang)
    for err in (info.value, opened.value):
        text = str(err)
        assert bool(CJK.search(text)) == (lang == "zh"), text
        assert "(" not in text.split(":", maxsplit=1)[0]  # no "中文 (English)" pair
    assert str(tmp_path / "s.db") in str(info.value)  # the path, in either language


def test_storage_error_keeps_both_languages():
    """A store's ``中文 (English): cause`` message keeps both, each with the cause."""
    err = StorageError("台账已关闭 (the ledger is closed): boom")
    assert err.in_lang("zh") == "台账已关闭: boom"
    assert err.in_lang("en") == "the ledger is closed: boom"
    assert str(err) == "台账已关闭 (the ledger is closed): boom"  # outside a ledger: both
    assert StorageError("plain").translations == {}
