"""Converting records to JSON-native data and back (cattrs)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import json.encoder
from collections.abc import Callable, Mapping
from typing import Any, Final

import cattrs
import pendulum
from pendulum.tz.timezone import FixedTimezone

from rectflow._model import Event, Finding, Inspection, Measure, Owner, Payload


def parse_stored_time(text: str) -> pendulum.DateTime:
    """Read back a time written by :func:`unstructure` (offsets with seconds included).

    The same value ``pendulum.instance`` gives (UTC as pendulum's UTC, any other
    offset as a fixed zone), built directly: stores read one per event.
    """
    d = dt.datetime.fromisoformat(text)
    offset = d.utcoffset()
    if offset is None or offset.microseconds:
        return pendulum.instance(d)
    return pendulum.DateTime(
        d.year,
        d.month,
        d.day,
        d.hour,
        d.minute,
        d.second,
        d.microsecond,
        tzinfo=_fixed_zone(int(offset.total_seconds())),
        fold=d.fold,
    )


@functools.lru_cache(maxsize=256)
def _fixed_zone(seconds: int) -> dt.tzinfo:
    return pendulum.UTC if seconds == 0 else FixedTimezone(seconds)


def time_text(value: dt.datetime) -> str:
    """An aware time as stored: ISO text with its offset (seconds included when it has them).

    A time already normalised by pendulum, or with a fixed offset, is written by
    the stdlib directly (the same text, without converting it to pendulum first).
    """
    last = _LAST_TIME[0]
    if last[0] is value:  # the same time object again (an import's events share one)
        return last[1]
    if type(value) is pendulum.DateTime or type(value.tzinfo) is dt.timezone:
        text = dt.datetime.isoformat(value)  # pendulum's own isoformat is the same, slower
    else:
        text = pendulum.instance(value).isoformat()
    _LAST_TIME[0] = (value, text)  # held, so its identity cannot be reused meanwhile
    return text


_LAST_TIME: Final[list[tuple[object, str]]] = [(None, "")]
"""The last time :func:`time_text` wrote, and its text."""


def event_dict(e: Event) -> dict[str, Any]:
    """An event as JSON-native data (what :func:`unstructure` gives for it)."""
    return {
        "finding_id": e.finding_id,
        "name": e.name,
        "at": time_text(e.at),
        "actor": e.actor,
        "note": e.note,
        "evidence": list(e.evidence),
        "payload": plain(e.payload),
        "version": e.version,
    }


def plain(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An event's payload as a plain ``dict`` (a shared read-only part as a ``dict`` too)."""
    data = payload.to_dict() if type(payload) is Payload else dict(payload)
    for key, value in data.items():
        if isinstance(value, FrozenDict):
            data[key] = dict(value)
    return data


def event_json(e: Event) -> str:
    """An event's canonical JSON (:func:`dumps` of :func:`event_dict`), as stored and hashed.

    Written out in sorted key order around the payload's encoding (every write
    encodes its events; ``tests/test_codec_fast.py`` holds the two equal); a value
    of an unexpected type takes the generic way.
    """
    text, note, version = _encode_text, e.note, e.version
    if type(version) is not int:
        return dumps(event_dict(e))
    try:
        return (
            f'{{"actor":{text(e.actor)},"at":"{time_text(e.at)}",'
            f'"evidence":[{",".join(map(text, e.evidence))}],'
            f'"finding_id":{text(e.finding_id)},"name":{text(e.name)},'
            f'"note":{"null" if note is None else text(note)},'
            f'"payload":{dumps(plain(e.payload)) if e.payload else "{}"},"version":{version}}}'
        )
    except (TypeError, AttributeError):  # a value of another type: the generic way
        return dumps(event_dict(e))


converter = cattrs.Converter()
converter.register_unstructure_hook(dt.datetime, time_text)
converter.register_structure_hook(dt.datetime, lambda v, _: parse_stored_time(v))
converter.register_unstructure_hook(dt.date, lambda v: v.isoformat())
converter.register_structure_hook(dt.date, lambda v, _: dt.date.fromisoformat(v))
converter.register_unstructure_hook(Event, event_dict)


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else time_text(value)


def measure_dict(m: Measure) -> dict[str, Any]:
    """A measure as JSON-native data (what :func:`unstructure` gives for it)."""
    return {
        "id": m.id,
        "text": m.text,
        "kind": m.kind,
        "owner": m.owner,
        "cadence": m.cadence,
        "document": m.document,
        "document_type": m.document_type,
        "done_at": _day(m.done_at),
        "established": _day(m.established),
        "occurrences": [d.isoformat() for d in m.occurrences],
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    """A finding as JSON-native data (what :func:`unstructure` gives for it), written out.

    The stores encode a row on every write; this is several times faster than
    the generic converter.
    """
    o = f.owner
    return {
        "id": f.id,
        "inspection": f.inspection,
        "aspect": f.aspect,
        "category": f.category,
        "title": f.title,
        "kind": f.kind,
        "owner": {"leader": o.leader, "department": o.department, "person": o.person},
        "deadline": f.deadline.isoformat(),
        "original_deadline": f.original_deadline.isoformat(),
        "measures": [measure_dict(m) for m in f.measures],
        "itemized": f.itemized,
        "state": f.state,
        "version": f.version,
        "extensions": f.extensions,
        "rework": f.rework,
        "created_at": _time(f.created_at),
        "updated_at": _time(f.updated_at),
        "submitter": f.submitter,
        "submitted_at": _time(f.submitted_at),
        "completed_at": _time(f.completed_at),
        "signed_off_by": f.signed_off_by,
        "rechecked_at": _time(f.rechecked_at),
        "next_checkpoint": _day(f.next_checkpoint),
        "spot_checks": f.spot_checks,
        "first_completed_at": _time(f.first_completed_at),
        # written only when present: a finding without them keeps its JSON and hash
        **({"remarks": f.remarks} if f.remarks else {}),
        **({"extra": dict(f.extra)} if f.extra else {}),
    }


converter.register_unstructure_hook(Finding, finding_dict)


def _jday(value: dt.date | None) -> str:
    return "null" if value is None else f'"{value.isoformat()}"'


def _jtime(value: dt.datetime | None) -> str:
    return "null" if value is None else f'"{time_text(value)}"'


def _measure_json(m: Measure) -> str:
    """:func:`dumps` of :func:`measure_dict`, keys in sorted order, written out."""
    text = _encode_text
    occurrences = ",".join(f'"{d.isoformat()}"' for d in m.occurrences)
    cadence, document, document_type = m.cadence, m.document, m.document_type
    return (
        f'{{"cadence":{"null" if cadence is None else text(cadence)},'
        f'"document":{"null" if document is None else text(document)},'
        f'"document_type":{"null" if document_type is None else text(document_type)},'
        f'"done_at":{_jday(m.done_at)},"established":{_jday(m.established)},'
        f'"id":{text(m.id)},"kind":{text(m.kind)},"occurrences":[{occurrences}],'
        f'"owner":{text(m.owner)},"text":{text(m.text)}}}'
    )


def finding_json(f: Finding) -> str:
    """A finding's canonical JSON, as the SQL stores keep its row.

    The text :func:`dumps` gives for :func:`finding_dict` (every write encodes
    one row, so it is written out here in sorted key order without building the
    dict; a value of an unexpected type takes the generic way;
    ``tests/test_codec_fast.py`` holds the two equal).
    """
    ints = (f.extensions, f.rework, f.spot_checks, f.version)
    if (
        type(f.itemized) is not bool
        or not all(type(n) is int for n in ints)
        or f.remarks
        or f.extra
    ):
        return dumps(finding_dict(f))
    text, o = _encode_text, f.owner
    submitter, signed_off_by = f.submitter, f.signed_off_by
    try:
        return (
            f'{{"aspect":{text(f.aspect)},"category":{text(f.category)},'
            f'"completed_at":{_jtime(f.completed_at)},"created_at":{_jtime(f.created_at)},'
            f'"deadline":{_jday(f.deadline)},"extensions":{f.extensions},'
            f'"first_completed_at":{_jtime(f.first_completed_at)},"id":{text(f.id)},'
            f'"inspection":{text(f.inspection)},"itemized":{"true" if f.itemized else "false"},'
            f'"kind":{text(f.kind)},"measures":[{",".join(map(_measure_json, f.measures))}],'
            f'"next_checkpoint":{_jday(f.next_checkpoint)},'
            f'"original_deadline":{_jday(f.original_deadline)},'
            f'"owner":{{"department":{text(o.department)},"leader":{text(o.leader)},'
            f'"person":{text(o.person)}}},'
            f'"rechecked_at":{_jtime(f.rechecked_at)},"rework":{f.rework},'
            f'"signed_off_by":{"null" if signed_off_by is None else text(signed_off_by)},'
            f'"spot_checks":{f.spot_checks},"state":{text(f.state)},'
            f'"submitted_at":{_jtime(f.submitted_at)},'
            f'"submitter":{"null" if submitter is None else text(submitter)},'
            f'"title":{text(f.title)},"updated_at":{_jtime(f.updated_at)},'
            f'"version":{f.version}}}'
        )
    except (TypeError, AttributeError):  # a value of another type: the generic way
        return dumps(finding_dict(f))


def unstructure(record: Any) -> Any:
    """A record as JSON-native data."""
    return converter.unstructure(record)


_FINDING_DATES = ("deadline", "original_deadline", "next_checkpoint")
_FINDING_TIMES = (
    "created_at",
    "updated_at",
    "submitted_at",
    "completed_at",
    "rechecked_at",
    "first_completed_at",
)
_MEASURE_DATES = ("done_at", "established")


def _measure_fast(data: dict[str, Any]) -> Measure:
    fields = dict(data)
    for key in _MEASURE_DATES:
        if fields.get(key) is not None:
            fields[key] = dt.date.fromisoformat(fields[key])
    fields["occurrences"] = tuple(dt.date.fromisoformat(d) for d in fields.get("occurrences", ()))
    return Measure(**fields)


def finding_from(data: dict[str, Any]) -> Finding:
    """A :class:`Finding` from :func:`unstructure` output.

    Hand-written rather than ``converter.structure``: stores decode one per row, and
    this is several times faster. Times come back as aware stdlib datetimes.
    """
    fields = dict(data)
    fields["owner"] = Owner(**fields["owner"])
    if "extra" in fields:
        fields["extra"] = {str(k): str(v) for k, v in fields["extra"].items()}
    fields["measures"] = tuple(_measure_fast(m) for m in fields.get("measures", ()))
    for key in _FINDING_DATES:
        if fields.get(key) is not None:
            fields[key] = dt.date.fromisoformat(fields[key])
    for key in _FINDING_TIMES:
        if fields.get(key) is not None:
            fields[key] = dt.datetime.fromisoformat(fields[key])
    return Finding(**fields)


_MEASURE_KEYS: Final = frozenset(
    (
        "id",
        "text",
        "kind",
        "owner",
        "cadence",
        "document",
        "document_type",
        "done_at",
        "established",
        "occurrences",
    )
)


def _text_or_none(value: object) -> bool:
    return value is None or type(value) is str


def measure_from(data: dict[str, Any]) -> Measure:
    """A :class:`Measure` from JSON-native data.

    Data already of the right types (what :func:`measure_dict` writes) is built
    directly; anything else goes through the converter, which coerces or refuses
    it exactly as before (an import builds one per measure per row).
    """
    if type(data) is dict and data.keys() <= _MEASURE_KEYS:
        get = data.get
        mid, text, kind, owner = get("id"), get("text"), get("kind", "one_off"), get("owner", "")
        cadence, document, document_type = get("cadence"), get("document"), get("document_type")
        done_at, established, occurrences = (
            get("done_at"),
            get("established"),
            get("occurrences", ()),
        )
        if (
            type(mid) is str
            and type(text) is str
            and type(kind) is str
            and type(owner) is str
            and _text_or_none(cadence)
            and _text_or_none(document)
            and _text_or_none(document_type)
            and _text_or_none(done_at)
            and _text_or_none(established)
            and type(occurrences) in (list, tuple)
            and all(type(d) is str for d in occurrences)
        ):
            try:
                return Measure(
                    mid,
                    text,
                    kind,
                    owner,
                    cadence,
                    document,
                    document_type,
                    None if done_at is None else dt.date.fromisoformat(done_at),
                    None if established is None else dt.date.fromisoformat(established),
                    tuple(dt.date.fromisoformat(d) for d in occurrences),
                )
            except ValueError:
                pass  # a malformed date: the converter says so in its own words
    return converter.structure(data, Measure)


class FrozenDict(dict[str, Any]):
    """A ``dict`` that refuses changes: a part of an event's payload shared between events."""

    __slots__ = ()

    def _refuse(self, *_args: Any, **_kwargs: Any) -> None:
        raise TypeError("an event's payload is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its contents (unpickling would otherwise set items one by one)."""
        return (FrozenDict, (dict(self),))


class _OwnerData(FrozenDict):
    """An owner's read-only dict that keeps the :class:`Owner` it was made from."""

    __slots__ = ("owner",)

    owner: Owner


@functools.lru_cache(maxsize=4096)
def owner_dict(owner: Owner) -> dict[str, Any]:
    """*owner* as JSON-native data, one shared read-only dict per distinct owner."""
    data = _OwnerData(leader=owner.leader, department=owner.department, person=owner.person)
    data.owner = owner  # owner_from gives it back without making it again
    return data


def owner_from(data: dict[str, Any]) -> Owner:
    """An :class:`Owner` from JSON-native data (one shared record per distinct owner)."""
    if type(data) is _OwnerData:
        return data.owner
    try:
        return _owner(data["leader"], data["department"], data["person"])
    except TypeError:  # not hashable: let the converter say what is wrong
        return converter.structure(data, Owner)


@functools.lru_cache(maxsize=4096)
def _owner(leader: str, department: str, person: str) -> Owner:
    if type(leader) is str and type(department) is str and type(person) is str:
        return Owner(leader, department, person)  # what the converter makes, without it
    return converter.structure(
        {"leader": leader, "department": department, "person": person}, Owner
    )


def inspection_from(data: dict[str, Any]) -> Inspection:
    """An :class:`Inspection` from JSON-native data."""
    return converter.structure(data, Inspection)


def event_from(data: dict[str, Any]) -> Event:
    """An :class:`Event` from JSON-native data."""
    return Event(
        finding_id=data["finding_id"],
        name=data["name"],
        at=parse_stored_time(data["at"]),
        actor=data["actor"],
        note=data.get("note"),
        evidence=tuple(data.get("evidence") or ()),
        payload=data.get("payload") or {},
        version=int(data["version"]),
    )


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_encode_text: Final = json.encoder.encode_basestring
"""A string as JSON text with ``ensure_ascii=False`` (what :data:`_ENCODER` writes for it)."""


_make_c_encoder: Callable[..., Any] | None = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE: Final = (
    None
    if _make_c_encoder is None
    # _ENCODER's settings, made once (JSONEncoder.encode builds it again on every call)
    # and without the check for cycles: JSON-native data has none.
    # (markers, default, encoder, indent, key and item separators, sort_keys, skipkeys,
    # allow_nan): positional only
    else _make_c_encoder(None, _ENCODER.default, _encode_text, None, ":", ",", True, False, True)  # noqa: FBT003
)


def dumps(data: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept."""
    if _C_ENCODE is None:  # pragma: no cover - CPython has the C encoder
        return _ENCODER.encode(data)
    return "".join(_C_ENCODE(data, 0))
