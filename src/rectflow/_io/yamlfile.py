"""YAML ledger files: inspections and every event, in chain order (lossless).

Read with a ``yaml.SafeLoader`` that also refuses anchors and aliases (no alias
bombs: a ledger file never needs them) and any tag outside plain data
(``!!python/…``); written with ``safe_dump(allow_unicode=True)``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

import yaml

from rectflow import _codec
from rectflow._io.plan import FORMAT
from rectflow._io.table import FileProblem
from rectflow._model import Event, Inspection

VERSION: Final = 1


class _Loader(yaml.SafeLoader):
    """SafeLoader without anchors and aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or (
            isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent))
            and event.anchor is not None
        ):
            mark = event.start_mark
            raise FileProblem(
                "yaml_alias", mark.line + 1 if mark else 0, str(mark.column + 1) if mark else ""
            )
        return super().compose_node(parent, index)


def load(path: pathlib.Path) -> dict[str, Any]:
    """The file's root mapping.

    Raises:
        FileProblem: ``empty_file``, ``encoding``, ``yaml_syntax``, ``yaml_tag``,
            ``yaml_alias`` or ``yaml_root``.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblem("encoding") from exc
    if not text.strip():
        raise FileProblem("empty_file")
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        tag = (exc.problem or "").rpartition("tag ")[2].strip("'\" ")
        raise FileProblem(
            "yaml_tag",
            mark.line + 1 if mark else 0,
            str(mark.column + 1) if mark else "",
            value=tag,
        ) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise FileProblem(
            "yaml_syntax",
            mark.line + 1 if mark else 0,
            str(mark.column + 1) if mark else "",
            value=exc.problem,
        ) from exc
    except yaml.YAMLError as exc:
        raise FileProblem("yaml_syntax", value=str(exc)) from exc
    if not isinstance(data, dict):
        raise FileProblem("yaml_root", 1, "", value=type(data).__name__)
    return data


def dump(
    path: pathlib.Path,
    inspections: Iterable[Inspection],
    events: Iterable[Event],
    meta: Mapping[str, Any],
) -> None:
    """Write *inspections* and *events* (in chain order) as YAML."""
    data = {
        "format": FORMAT,
        "version": VERSION,
        **meta,
        "inspections": [_codec.unstructure(i) for i in inspections],
        "events": [_codec.unstructure(e) for e in events],
    }
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out, Dumper=dumper, allow_unicode=True, sort_keys=False, width=1000)
