"""The hand-written encoders of the write path give exactly the text the generic ones gave."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

import attrs
import cattrs
import pendulum
import pytest

from rectflow import Event, Finding, Ledger, Owner, _codec
from rectflow._store.base import canonical, canonical_of, entry_hash, hash_of
from store_support import open_test_ledger, populate_sample


def reference_converter() -> cattrs.Converter:
    """The converter rectflow 0.x hashed with: every time through ``pendulum.instance``."""
    conv = cattrs.Converter()
    conv.register_unstructure_hook(dt.datetime, lambda v: pendulum.instance(v).isoformat())
    conv.register_unstructure_hook(dt.date, lambda v: v.isoformat())
    return conv


def reference_json(record: Any) -> dict[str, Any]:
    """A record as the generic converter unstructures it."""
    data: dict[str, Any] = reference_converter().unstructure(record)
    if isinstance(record, Event):
        data["payload"] = dict(record.payload)
        data["evidence"] = list(record.evidence)
    return data


def dumps(data: Any) -> str:
    """The canonical JSON settings, spelled out."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture
def sample() -> Ledger:
    """The storage tests' sample ledger in memory."""
    ledger: Ledger = open_test_ledger(":memory:")
    populate_sample(ledger)
    return ledger


def test_finding_json_matches_the_generic_converter(sample: Ledger) -> None:
    """finding_json gives the same text as cattrs for findings in every state."""
    findings: list[Finding] = list(sample.findings())
    assert {f.state for f in findings} >= {"assigned", "completed", "staged_result"}
    for f in findings:
        assert _codec.finding_json(f) == dumps(reference_json(f))


def test_canonical_form_is_unchanged(sample: Ledger) -> None:
    """The spliced canonical form equals the event's JSON with seq added, as before."""
    for seq, entry in enumerate(sample.store.chain(), start=1):
        old = reference_json(entry.event) | {"seq": seq}
        assert canonical(seq, entry.event) == dumps(old)
        assert canonical_of(seq, _codec.event_json(entry.event)) == dumps(old)
        assert hash_of(entry.prev_hash, seq, _codec.event_json(entry.event)) == entry.hash


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(2024, 3, 1, 10, 0, 5, 123, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),
        dt.datetime(1900, 3, 1, 10, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),  # LMT +08:05:43
        dt.datetime(2024, 3, 10, 2, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York")),  # a gap
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5, seconds=7))),
        pendulum.datetime(2024, 11, 3, 1, 30, tz="America/New_York"),
        pendulum.parse("2024-01-10T01:00:00Z"),
    ],
)
def test_time_text_matches_pendulum(at: dt.datetime) -> None:
    """Times of any zone, offset or kind are written as pendulum wrote them."""
    assert _codec.time_text(at) == pendulum.instance(at).isoformat()
    event = Event("A", "note", at, "x", payload={"z": 1, "a": [1]}, version=3)
    assert entry_hash("0" * 64, 5, event) == hash_of("0" * 64, 5, _codec.event_json(event))
    later = attrs.evolve(event, version=12, note='"version":1}')
    assert canonical(105, later) == dumps(reference_json(later) | {"seq": 105})


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-08T09:00:00.123456+08:00",
        "2024-01-10T01:00:00+00:00",
        "1900-03-01T10:00:05+08:05:43",
        "2024-03-01T10:00:05-05:00",
    ],
)
def test_parse_stored_time_matches_pendulum_instance(text: str) -> None:
    """Stored times read back as pendulum.instance read them: type, zone, value and text."""
    expected = pendulum.instance(dt.datetime.fromisoformat(text))
    got = _codec.parse_stored_time(text)
    assert type(got) is type(expected)
    assert repr(got) == repr(expected)
    assert got.tzinfo == expected.tzinfo
    assert got.isoformat() == text


def test_event_payload_is_read_only_compact_and_picklable() -> None:
    """An event's payload reads like the dict it was given, refuses changes and pickles."""
    import pickle  # noqa: PLC0415

    given = {"until": "2024-02-10", "requested_by": "王老师", "reason": "等待设备"}
    event = Event("A", "extend", pendulum.datetime(2024, 1, 24, tz="UTC"), "李主任", payload=given)
    given["reason"] = "changed afterwards"
    assert dict(event.payload) == {**given, "reason": "等待设备"}
    assert event.payload.get("until") == "2024-02-10"
    assert "seed" not in event.payload
    assert event.payload.get("seed") is None
    assert list(event.payload) == ["until", "requested_by", "reason"]
    with pytest.raises(TypeError):
        event.payload["until"] = "2030-01-01"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(event)) == event  # noqa: S301 - our own bytes
    assert Event("A", "start", event.at, "x").payload == {}
    owner = _codec.owner_dict(Owner("张校长", "德育处", "王老师"))
    with pytest.raises(TypeError):
        owner["person"] = "someone else"
    assert pickle.loads(pickle.dumps(owner)) == owner  # noqa: S301


def test_unstructured_events_hold_only_plain_containers(sample: Ledger) -> None:
    """An event as JSON-native data has plain dicts only (safe for YAML and other dumpers)."""
    for entry in sample.store.chain():
        data = _codec.unstructure(entry.event)
        assert type(data["payload"]) is dict
        assert all(type(v) is not _codec.FrozenDict for v in data["payload"].values())
    adds = [e.event for e in sample.store.chain() if e.event.name == "add"]
    assert type(_codec.unstructure(adds[0])["payload"]["owner"]) is dict
