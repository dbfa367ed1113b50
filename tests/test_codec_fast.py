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
from hypothesis import given
from hypothesis import strategies as st

from rectflow import Event, Finding, Ledger, Measure, Owner, _codec
from rectflow._store.base import canonical, canonical_of, entry_hash, hash_of
from rectflow.testing import aware_times
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
    if isinstance(record, Finding):  # added later: left out when empty (old rows unchanged)
        data["extra"] = dict(record.extra)
        for key in ("remarks", "extra"):
            if not data[key]:
                del data[key]
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


# Text that JSON must escape or keep: quotes, backslashes, control and astral characters.
_texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
_maybe_text = st.none() | _texts
_days = st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31))
_times = st.none() | aware_times(days=20_000)
_measures = st.builds(
    Measure,
    id=_texts,
    text=_texts,
    kind=_texts,
    owner=_texts,
    cadence=_maybe_text,
    document=_maybe_text,
    document_type=_maybe_text,
    done_at=_days,
    established=_days,
    occurrences=st.lists(st.dates(), max_size=3).map(tuple),
)
_findings = st.builds(
    Finding,
    id=_texts,
    inspection=_texts,
    aspect=_texts,
    category=_texts,
    title=_texts,
    kind=_texts,
    owner=st.builds(Owner, _texts, _texts, _texts),
    deadline=st.dates(),
    original_deadline=st.dates(),
    measures=st.lists(_measures, max_size=3).map(tuple),
    itemized=st.booleans(),
    state=_texts,
    version=st.integers(0, 2**40),
    extensions=st.integers(0, 9),
    rework=st.integers(0, 9),
    created_at=_times,
    updated_at=_times,
    submitter=_maybe_text,
    submitted_at=_times,
    completed_at=_times,
    signed_off_by=_maybe_text,
    rechecked_at=_times,
    next_checkpoint=_days,
    spot_checks=st.integers(0, 9),
    first_completed_at=_times,
)


@given(_findings)
def test_written_out_finding_json_equals_the_encoder(finding: Finding) -> None:
    """finding_json, written out field by field, is the encoder's text for any finding."""
    assert _codec.finding_json(finding) == dumps(_codec.finding_dict(finding))
    assert _codec.finding_json(finding) == dumps(reference_json(finding))


@given(
    finding_id=_texts,
    name=_texts,
    at=aware_times(days=20_000),
    actor=_texts,
    note=_maybe_text,
    evidence=st.lists(_texts, max_size=3),
    payload=st.dictionaries(
        _texts,
        st.recursive(
            st.none() | st.booleans() | st.integers() | _texts,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
            max_leaves=6,
        ),
        max_size=4,
    ),
    version=st.integers(1, 2**40),
)
def test_written_out_event_json_equals_the_encoder(**fields: Any) -> None:
    """event_json, written out around the payload, is the encoder's text for any event."""
    event = Event(**fields)
    assert _codec.event_json(event) == dumps(reference_json(event))


@pytest.mark.parametrize(
    "odd",
    [
        {"version": True},  # a bool where an int belongs: the generic way (true, not 1)
        {"extensions": False},
        {"itemized": 1},
        {"title": 7},  # not text
        {"submitter": ["a"]},
    ],
)
def test_finding_json_of_unexpected_types_is_the_encoders(odd: dict[str, Any]) -> None:
    """A value of another type than declared is encoded exactly as the generic way does."""
    base = Finding(
        "F",
        "R1",
        "",
        "",
        "标题",
        "deadline",
        Owner("张校长", "德育处", "王老师"),
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 1),
    )
    finding = attrs.evolve(base, **odd)
    assert _codec.finding_json(finding) == dumps(_codec.finding_dict(finding))


def test_time_text_is_not_fooled_by_its_last_time() -> None:
    """The last-time shortcut gives each time its own text (equal times, other zones)."""
    shanghai = pendulum.datetime(2024, 3, 1, 10, tz="Asia/Shanghai")
    same_instant = shanghai.in_timezone("UTC")
    assert _codec.time_text(shanghai) == "2024-03-01T10:00:00+08:00"
    assert _codec.time_text(same_instant) == "2024-03-01T02:00:00+00:00"
    assert _codec.time_text(shanghai) == "2024-03-01T10:00:00+08:00"
