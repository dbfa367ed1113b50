"""Fuzzing the ledger file readers: generators for CSV, XLSX, damaged zips and YAML.

Each generator is a hypothesis strategy of file bytes. It builds a file of the
format's structure (headers, rows, cells, sheets, merges, YAML mappings and
lists) with values of every type and shape, then damages some of them
(truncation, byte flips, deep nesting, wrong types). :func:`run` imports each
into a ledger and sorts the outcome: a clean import, a typed refusal
(a :class:`rectflow.RectflowError`) with the ledger's head unchanged, or a
failure (an untyped exception, a changed ledger, a hang).

``make fuzz`` runs it at scale (``python tests/fuzz_support.py``);
``tests/test_io_fuzz.py`` runs a short seeded slice in ``make test``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import csv
import datetime as dt
import io
import pathlib
import signal
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from xml.sax.saxutils import escape

import attrs
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rectflow import FileLimits, Ledger, Owner, RectflowError
from rectflow._io.cells import COLUMNS

FORMATS = ("csv", "xlsx", "zip", "yaml")
"""The generators: ``zip`` is a workbook damaged at the zip level."""

SLOW = 10.0
"""Seconds one input may take; more is a hang."""

NOW = dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))

# ---------------------------------------------------------------- values

_WORDS = ["整改", "问题", "德育处", "R1", "1.1", "巡察办", "长期", "已完成", "进行中", "是", "否"]
_DATES = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2024, 1, 31)]),
)
_TEXT_DATES = st.one_of(
    _DATES.map(str),
    st.tuples(
        st.integers(0, 10000), st.integers(0, 13), st.integers(0, 32), st.sampled_from("-/.年")
    ).map(lambda t: f"{t[0]:04d}{t[3]}{t[1]}{t[3] if t[3] != '年' else '月'}{t[2]}"),
    st.datetimes(
        min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31), timezones=st.none()
    ).map(lambda d: d.isoformat()),
    st.datetimes(
        min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.none()
    ).map(lambda d: d.isoformat() + st_offset(d)),
)


def st_offset(d: dt.datetime) -> str:
    """A zone offset picked from the value (deterministic)."""
    return ("+08:00", "Z", "-14:00", "+25:00")[d.microsecond % 4]


_SCALAR_TEXT = st.one_of(
    st.sampled_from(_WORDS),
    _TEXT_DATES,
    st.text(max_size=12),
    st.sampled_from(["=1+1", "＝A1", "'=x", " ", "", "\x00", "\ufeff", "\r\n", "一是甲二是乙"]),
    st.integers(-(10**20), 10**20).map(str),
)


def _states() -> list[str]:
    return ["已下达", "整改中", "阶段性成效", "待销号", "已完成", "已复查", "已撤销", "x"]


def cell_values() -> st.SearchStrategy[Any]:
    """What a table cell may hold."""
    return st.one_of(
        _SCALAR_TEXT,
        st.sampled_from(_states()),
        st.sampled_from(["立行立改", "限期整改", "长期坚持", "2个月", "3周", "长期"]),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
        _DATES,
    )


def _header_names() -> st.SearchStrategy[list[str]]:
    names = [alias for aliases in COLUMNS.values() for alias in aliases[:2]]
    core = ["编号", "巡察", "问题", "整改时限", "责任部门"]
    return st.one_of(
        st.permutations(core).map(list),
        st.lists(st.sampled_from(names), min_size=0, max_size=22),
        st.lists(st.sampled_from(names) | st.text(max_size=5), min_size=0, max_size=8),
    ).map(lambda h: h or core)


@st.composite
def tables(draw: st.DrawFn) -> list[list[Any]]:
    """Rows of a ledger table: title rows, a header, data rows of any width."""
    rows: list[list[Any]] = []
    for _ in range(draw(st.integers(0, 2))):
        rows.append([draw(st.text(max_size=10))])
    header = draw(_header_names())
    rows.append(header)
    width = len(header)
    for _ in range(draw(st.integers(0, 6))):
        w = draw(st.sampled_from([width, width, width, max(0, width - 1), width + 2]))
        rows.append([draw(cell_values()) for _ in range(w)])
    return rows


# ---------------------------------------------------------------- damage


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """*data* as it is, truncated, with bytes flipped, inserted or cut out."""
    how = draw(st.sampled_from(["none", "none", "truncate", "flip", "insert", "cut"]))
    if not data or how == "none":
        return data
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(0, len(out) - 1)))
        if how == "flip" and out:
            out[at] ^= draw(st.integers(1, 255))
        elif how == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif out:
            del out[at : at + draw(st.integers(1, 16))]
    return bytes(out)


# ---------------------------------------------------------------- CSV


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A CSV ledger table: any header and rows, any encoding, maybe damaged."""
    rows = draw(tables())
    if draw(st.integers(0, 9)) == 0:  # a very wide header (trailing empty columns)
        rows[-1 if len(rows) == 1 else 0] = [*rows[0], *[""] * draw(st.integers(1, 40_000))]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=draw(st.sampled_from(["\r\n", "\n", "\r"])))
    writer.writerows([["" if c is None else str(c) for c in row] for row in rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]))
    body = text.getvalue().encode(encoding, errors="replace")
    return draw(damaged(body))


# ---------------------------------------------------------------- XLSX

_CT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_BOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_BOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _letters(column: int) -> str:
    out = ""
    while column:
        column, r = divmod(column - 1, 26)
        out = chr(65 + r) + out
    return out


_REFS = st.one_of(
    st.tuples(st.integers(1, 30), st.integers(1, 30)).map(lambda t: f"{_letters(t[1])}{t[0]}"),
    st.sampled_from(["XFD1048576", "A1048576", "XFD1", "A0", "ZZZZ1", "1A", "", "A-1"]),
)
_RANGES = st.one_of(
    st.tuples(_REFS, _REFS).map(lambda t: f"{t[0]}:{t[1]}"),
    st.sampled_from(["A3:XFD1048576", "A1:XFD1", "A1:A1048576", "A:A", "1:1", "B2:A1", "junk"]),
    _REFS,
)


def _cell_xml(ref: str | None, value: Any, draw: st.DrawFn) -> str:
    r = "" if ref is None else f' r="{escape(ref, {chr(34): "&quot;"})}"'
    kind = draw(st.sampled_from(["natural", "natural", "natural", "bad", "empty"]))
    if kind == "empty" or value is None:
        return f'<c{r} s="{draw(st.integers(0, 3))}"/>'
    if kind == "bad":
        t = draw(st.sampled_from(["n", "b", "d", "e", "s", "str", "inlineStr", "zz"]))
        return f'<c{r} t="{t}"><v>{escape(str(value))}</v></c>'
    if isinstance(value, bool):
        return f'<c{r} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f"<c{r}><v>{value}</v></c>"
    if isinstance(value, dt.date):
        return f'<c{r} t="d"><v>{value.isoformat()}</v></c>'
    text = "".join(ch for ch in str(value) if ch in "\t\n\r" or ord(ch) >= 32)
    text = "".join(ch for ch in text if ch not in "\ufffe\uffff" and not 0xD800 <= ord(ch) < 0xE000)
    if text.startswith("=") and draw(st.booleans()):
        return f"<c{r}><f>{escape(text[1:])}</f></c>"
    return f'<c{r} t="inlineStr"><is><t>{escape(text)}</t></is></c>'


@st.composite
def sheet_xml(draw: st.DrawFn) -> str:
    """A worksheet: rows, cells (refs right, missing, far, out of order), merges, dimension."""
    rows = draw(tables())
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">']
    if draw(st.booleans()):
        parts.append(f'<dimension ref="{draw(_RANGES)}"/>')
    parts.append("<sheetData>")
    numbers = list(range(1, len(rows) + 1))
    if draw(st.integers(0, 5)) == 0:
        numbers = draw(st.permutations(numbers))
    for number, row in zip(numbers, rows, strict=True):
        refs = draw(st.sampled_from(["all", "all", "none", "some"]))
        cells = []
        for col, value in enumerate(row, 1):
            ref: str | None = f"{_letters(col)}{number}"
            if refs == "none" or (refs == "some" and draw(st.booleans())):
                ref = None
            cells.append(_cell_xml(ref, value, draw))
        row_ref = "" if refs == "none" and draw(st.booleans()) else f' r="{number}"'
        parts.append(f"<row{row_ref}>{''.join(cells)}</row>")
    if draw(st.integers(0, 4)) == 0:  # a far cell, empty or not
        ref = draw(st.sampled_from(["XFD1048576", "A1048576", "XFD1", "AA5000"]))
        value = draw(st.sampled_from(["", "x"]))
        body = f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>' if value else ""
        row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        empty = '<c r="' + ref + '" s="1"/>'
        parts.append(f'<row r="{row}">{body or empty}</row>')
    parts.append("</sheetData>")
    merges = draw(st.lists(_RANGES, max_size=4))
    if merges:
        parts.append(f'<mergeCells count="{len(merges)}">')
        parts.extend(f'<mergeCell ref="{escape(m)}"/>' for m in merges)
        parts.append("</mergeCells>")
    parts.append("</worksheet>")
    return "".join(parts)


def _zip(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


def _workbook_parts(sheet: str) -> dict[str, bytes]:
    return {
        "[Content_Types].xml": _CT.encode(),
        "_rels/.rels": _RELS.encode(),
        "xl/workbook.xml": _BOOK.encode(),
        "xl/_rels/workbook.xml.rels": _BOOK_RELS.encode(),
        "xl/worksheets/sheet1.xml": sheet.encode(),
    }


@st.composite
def xlsx_files(draw: st.DrawFn) -> bytes:
    """A workbook of one sheet of any structure (the zip itself sound)."""
    parts = _workbook_parts(draw(sheet_xml()))
    if draw(st.integers(0, 5)) == 0:  # a part's XML damaged
        name = draw(st.sampled_from(sorted(parts)))
        parts[name] = draw(damaged(parts[name]))
    if draw(st.integers(0, 8)) == 0:  # a part missing
        parts.pop(draw(st.sampled_from(sorted(parts))))
    return _zip(parts)


@st.composite
def damaged_zips(draw: st.DrawFn) -> bytes:
    """A workbook damaged at the zip level: its bytes, its headers, its deflate streams."""
    parts = _workbook_parts(draw(sheet_xml()))
    data = _zip(parts, draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])))
    how = draw(st.sampled_from(["bytes", "bytes", "stream", "header", "prefix"]))
    if how == "prefix":  # the zip's start only: a few bytes up to a few hundred
        return data[: draw(st.integers(0, min(len(data), 400)))]
    if how == "header":  # a field of a local or central header rewritten
        out = bytearray(data)
        for sig in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"):
            at = out.find(sig)
            if at >= 0 and draw(st.booleans()):
                field = at + draw(st.integers(4, 30))
                if field + 4 <= len(out):
                    out[field : field + 4] = draw(st.binary(min_size=4, max_size=4))
        return bytes(out)
    if how == "stream":  # flips inside the compressed data of one member
        out = bytearray(data)
        start = out.find(b"PK\x03\x04", draw(st.integers(0, len(out) // 2)))
        start = max(start, 0) + 30
        for _ in range(draw(st.integers(1, 6))):
            at = draw(st.integers(start, max(start, len(out) - 1)))
            if at < len(out):
                out[at] ^= draw(st.integers(1, 255))
        return bytes(out)
    return draw(damaged(data))


# ---------------------------------------------------------------- YAML


def _base_ledger() -> dict[str, Any]:
    add = {
        "finding_id": "F1",
        "name": "add",
        "at": "2024-01-02T09:00:00+08:00",
        "actor": "巡察办",
        "note": None,
        "evidence": [],
        "payload": {
            "inspection": "R2",
            "aspect": "",
            "category": "",
            "title": "问题",
            "kind": "deadline",
            "owner": {"leader": "刘", "department": "德育处", "person": "黄"},
            "deadline": "2024-01-31",
            "measures": [{"id": "F1-1", "text": "措施", "kind": "recurring", "occurrences": []}],
            "itemized": True,
        },
        "version": 1,
    }

    def event(name: str, version: int, **payload: Any) -> dict[str, Any]:
        return {
            "finding_id": "F1",
            "name": name,
            "at": f"2024-01-{2 + version:02d}T09:00:00+08:00",
            "actor": "黄",
            "note": "进展",
            "evidence": ["a.pdf"],
            "payload": payload,
            "version": version,
        }

    return {
        "format": "rectflow-ledger",
        "version": 1,
        "inspections": [
            {"id": "R2", "title": "巡察", "feedback_at": "2023-12-01", "declared_findings": 1}
        ],
        "events": [
            add,
            event("start", 2),
            event("stage", 3, next_checkpoint="2024-02-01"),
            event("record_measure", 4, measure="F1-1"),
        ],
    }


def yaml_values(depth: int = 3) -> st.SearchStrategy[Any]:
    """Any value YAML can carry: scalars of every type, lists, mappings, nested."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(),
        _SCALAR_TEXT,
        _DATES,
        st.datetimes(min_value=dt.datetime(1, 1, 1), timezones=st.none()),
        st.binary(max_size=4),
    )
    if depth <= 0:
        return scalars
    inner = yaml_values(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["id", "text", "measure", "x", "at", "0"]), inner, max_size=3
        ),
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


def _replace(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    holder = doc
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return doc


_TAGGED = st.sampled_from(
    [
        "!!int abc",
        "!!bool abc",
        "!!timestamp abc",
        "!!float abc",
        "2024-02-30",
        "!!binary '@@@'",
        "!!set {a: 1}",
        "!!omap [a]",
        "!!pairs [[a]]",
        "!!str",
        "!!null x",
        "!!python/object:os.system x",
        "&a x",
        "*a",
        "0001-01-01",
        "0000-01-01",
        "9999-12-31T23:59:59+08:00",
        "1e999",
        "[" * 3000,
        "{",
        "? [a, b]\n  : c",
    ]
)


@st.composite
def yaml_files(draw: st.DrawFn) -> bytes:
    """A YAML ledger file: the right structure with parts replaced by anything, maybe damaged."""
    doc: Any = _base_ledger()
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(list(_paths(doc))))
        doc = _replace(doc, path, draw(yaml_values()))
    if draw(st.integers(0, 6)) == 0:  # nesting far deeper than a ledger needs
        depth = draw(st.sampled_from([10, 100, 1000, 5000]))
        nested: Any = "x"
        for _ in range(depth):
            nested = [nested] if draw(st.booleans()) else {"k": nested}
        path = draw(st.sampled_from(list(_paths(doc))))
        doc = _replace(doc, path, nested)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    try:
        text = yaml.dump(doc, Dumper=dumper, allow_unicode=True, sort_keys=False, width=1000)
    except (yaml.YAMLError, RecursionError):
        text = "events: []\n"
    if draw(st.integers(0, 2)) == 0:  # a scalar replaced in the text by a tag or a bad value
        lines = text.splitlines()
        scalar_lines = [i for i, line in enumerate(lines) if ": " in line]
        if scalar_lines:
            i = draw(st.sampled_from(scalar_lines))
            key = lines[i].partition(": ")[0]
            lines[i] = f"{key}: {draw(_TAGGED)}"
            text = "\n".join(lines) + "\n"
    return draw(damaged(text.encode()))


GENERATORS: dict[str, Callable[[], st.SearchStrategy[bytes]]] = {
    "csv": csv_files,
    "xlsx": xlsx_files,
    "zip": damaged_zips,
    "yaml": yaml_files,
}
SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "zip": ".xlsx", "yaml": ".yaml"}


# ---------------------------------------------------------------- running


@attrs.define
class Stats:
    """What one format's run saw.

    Attributes:
        inputs: Files tried.
        imported: Files imported cleanly.
        refused: Files refused with a typed error, the ledger unchanged.
        untyped: Files that raised something else.
        hangs: Files slower than :data:`SLOW`.
        changed: Refusals that changed the ledger.
        slowest: The slowest file's seconds.
        seconds: Wall time of the run.
        cpu: CPU time of the run (the process's; the machine may be shared).
        failures: ``(kind, detail, file)`` of each failure (the file kept on disk).
    """

    inputs: int = 0
    imported: int = 0
    refused: int = 0
    untyped: int = 0
    hangs: int = 0
    changed: int = 0
    slowest: float = 0.0
    seconds: float = 0.0
    cpu: float = 0.0
    failures: list[tuple[str, str, str]] = attrs.Factory(list)

    @property
    def failed(self) -> int:
        """Untyped errors, hangs and changed ledgers."""
        return self.untyped + self.hangs + self.changed


class _Hang(BaseException):
    """Raised by the alarm when one input runs far past :data:`SLOW`."""


def _alarm(_signum: int, _frame: object) -> None:
    raise _Hang


def sample_ledger(path: str = ":memory:", *, lang: str = "zh", now: Any = NOW) -> Ledger:
    """A ledger holding inspection R1 and finding X1, its clock stopped at *now*: what each
    bad file is imported into (the fuzz here, the corpus and limits tests)."""
    ledger = Ledger.open(path, clock=lambda: now, lang=lang)
    ledger.add_inspection(
        "R1", title="巡察", feedback_at="2023-11-23", at="2023-11-23T09:00:00+08:00"
    )
    ledger.add_finding(
        "X1",
        inspection="R1",
        title="已有的问题",
        kind="deadline",
        owner=Owner("刘", "德育处", "黄"),
        deadline="2024-01-31",
        actor="巡察办",
        at="2023-12-01T09:00:00+08:00",
    )
    return ledger


def run(
    fmt: str,
    n: int,
    *,
    seed: int | None = None,
    keep: pathlib.Path | None = None,
    limits: FileLimits | None = None,
) -> Stats:
    """Import *n* generated files of *fmt* and sort the outcomes.

    Args:
        fmt: One of :data:`FORMATS`.
        n: How many inputs.
        seed: Generate from this seed (the same files each run); None: random.
        keep: Where failing files are kept (default: a temporary folder).
        limits: The import's limits.
    """
    stats = Stats()
    folder = pathlib.Path(tempfile.mkdtemp(prefix=f"rectflow-fuzz-{fmt}-"))
    keep = keep or folder
    keep.mkdir(parents=True, exist_ok=True)
    file = folder / f"input{SUFFIX[fmt]}"
    state = {"ledger": sample_ledger()}
    use_alarm = hasattr(signal, "setitimer")
    previous = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None

    def one(data: bytes) -> None:
        stats.inputs += 1
        file.write_bytes(data)
        ledger = state["ledger"]
        head = ledger.head()
        start = time.perf_counter()
        kind, detail = "", ""
        try:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, SLOW * 3)
            try:
                ledger.import_file(file, actor="整改办", limits=limits)
            finally:
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except _Hang:
            kind, detail = "hang", f"> {SLOW * 3:.0f} s"
        except RectflowError:
            if ledger.head() != head:
                kind, detail = "changed", "refused, but the head moved"
            else:
                stats.refused += 1
        except Exception as exc:  # what the contract forbids is counted
            kind = "untyped"
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            detail += "\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
        else:
            stats.imported += 1
            state["ledger"] = sample_ledger()
        elapsed = time.perf_counter() - start
        stats.slowest = max(stats.slowest, elapsed)
        if not kind and elapsed > SLOW:
            kind, detail = "hang", f"{elapsed:.1f} s"
        if kind:
            counter = {"hang": "hangs"}.get(kind, kind)
            setattr(stats, counter, getattr(stats, counter) + 1)
            kept = keep / f"{fmt}-{kind}-{stats.inputs}{SUFFIX[fmt]}"
            kept.write_bytes(data)
            stats.failures.append((kind, detail, str(kept)))
            if kind != "changed" and state["ledger"].head() != head:
                state["ledger"] = sample_ledger()

    test = settings(
        max_examples=n,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(given(GENERATORS[fmt]())(one))
    if seed is not None:
        test = hypothesis_seed(seed)(test)
    began, cpu = time.perf_counter(), time.process_time()
    try:
        test()
    finally:
        stats.seconds = time.perf_counter() - began
        stats.cpu = time.process_time() - cpu
        if use_alarm:
            signal.signal(signal.SIGALRM, previous)
        with contextlib.suppress(OSError):
            file.unlink()
    return stats


def hypothesis_seed(value: int) -> Callable[[Any], Any]:
    """hypothesis's ``seed`` decorator (imported late: it is only needed for seeded runs)."""
    from hypothesis import seed  # noqa: PLC0415

    return seed(value)


def _run_one(job: tuple[str, int, int | None, pathlib.Path]) -> tuple[str, Stats]:
    fmt, n, seed, keep = job
    warnings.simplefilter("ignore")  # openpyxl warns about much of what a damaged file holds
    return fmt, run(fmt, n, seed=seed, keep=keep)


def main(argv: list[str] | None = None) -> int:
    """``make fuzz``: every format, counts printed; non-zero exit on any failure."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--csv", type=int, default=7000, help="CSV inputs")
    parser.add_argument("--xlsx", type=int, default=3500, help="XLSX inputs")
    parser.add_argument("--zip", type=int, default=3500, help="damaged zip inputs")
    parser.add_argument("--yaml", type=int, default=6000, help="YAML inputs")
    parser.add_argument("--seed", type=int, default=None, help="derandomize with this seed")
    parser.add_argument("--jobs", type=int, default=2, help="formats run at once")
    parser.add_argument("--keep", type=pathlib.Path, default=pathlib.Path("fuzz-failures"))
    args = parser.parse_args(argv)
    began = time.perf_counter()
    total = Stats()
    print(f"{'format':<6} {'inputs':>7} {'imported':>8} {'refused':>8} {'untyped':>7} "
          f"{'hangs':>5} {'changed':>7} {'slowest':>8} {'wall':>7} {'cpu':>7}", flush=True)  # fmt: skip
    jobs = [(fmt, getattr(args, fmt), args.seed, args.keep) for fmt in FORMATS]
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(_run_one, job) for job in jobs]
        results = [f.result() for f in concurrent.futures.as_completed(futures)]
    for fmt, stats in sorted(results, key=lambda r: FORMATS.index(r[0])):
        print(
            f"{fmt:<6} {stats.inputs:>7} {stats.imported:>8} {stats.refused:>8} "
            f"{stats.untyped:>7} {stats.hangs:>5} {stats.changed:>7} "
            f"{stats.slowest:>7.2f}s {stats.seconds:>6.0f}s {stats.cpu:>6.0f}s",
            flush=True,
        )
        for kind, detail, kept in stats.failures[:5]:
            print(f"  {kind}: {kept}\n    " + detail.replace("\n", "\n    "), flush=True)
        for field in ("inputs", "imported", "refused", "untyped", "hangs", "changed"):
            setattr(total, field, getattr(total, field) + getattr(stats, field))
        total.slowest = max(total.slowest, stats.slowest)
        total.cpu += stats.cpu
    wall = time.perf_counter() - began
    print(
        f"{'total':<6} {total.inputs:>7} {total.imported:>8} {total.refused:>8} "
        f"{total.untyped:>7} {total.hangs:>5} {total.changed:>7} {total.slowest:>7.2f}s "
        f"{wall:>6.0f}s {total.cpu:>6.0f}s"
    )
    return 1 if total.failed else 0


if __name__ == "__main__":
    sys.exit(main())
