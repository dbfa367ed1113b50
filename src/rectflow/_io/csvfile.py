"""CSV ledger files: UTF-8 (with or without BOM) or GB18030 in, UTF-8 with BOM out."""

from __future__ import annotations

import codecs
import csv
import pathlib
from collections.abc import Iterable, Iterator
from typing import Any, Final

from rectflow._io.table import NO_DEADLINE, Deadline, FileProblem

ENCODINGS: Final = ("utf-8-sig", "gb18030")
"""Tried in order: UTF-8 (a BOM is skipped), then GB18030 (Excel on a Chinese Windows)."""

_FOREIGN_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)
csv.field_size_limit(1 << 30)  # cells are limited by FileLimits, with a clear error


def _encoding(path: pathlib.Path, deadline: Deadline) -> str:
    """The file's encoding: the first of :data:`ENCODINGS` that decodes all of it.

    Decoding is streamed (64 KiB at a time), so the file is never held whole.

    Raises:
        FileProblem: ``empty_file`` or ``encoding``.
    """
    with path.open("rb") as raw:
        head = raw.read(4)
    if not head:
        raise FileProblem("empty_file")
    if head.startswith(_FOREIGN_BOMS) or b"\x00" in head:
        raise FileProblem("encoding")
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as raw:
                while chunk := raw.read(1 << 16):
                    deadline.check()
                    if b"\x00" in chunk:
                        raise FileProblem("encoding")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileProblem("encoding")


def read_rows(
    path: pathlib.Path, deadline: Deadline = NO_DEADLINE
) -> Iterator[tuple[int, list[Any]]]:
    """``(row number, cells)`` of a CSV file, streamed; rows are numbered as Excel shows them.

    Raises:
        FileProblem: For an empty file or an encoding that is neither UTF-8 nor GB18030,
            or ``time_limit`` while the encoding is found.
    """
    encoding = _encoding(path, deadline)
    with path.open(encoding=encoding, newline="") as text:
        reader = csv.reader(text)
        number = 0
        try:
            for number, cells in enumerate(reader, 1):
                yield number, cells
        except csv.Error as exc:
            raise FileProblem("bad_value", number + 1, "", value=str(exc)) from exc


def write_rows(path: pathlib.Path, rows: Iterable[list[str]]) -> None:
    """Write text rows as UTF-8 with a BOM (so Excel opens it), CRLF line ends."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerows(rows)
