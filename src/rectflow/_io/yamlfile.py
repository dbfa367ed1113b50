"""YAML ledger files: inspections and every event, in chain order (lossless).

Read with a ``yaml.SafeLoader`` that also refuses anchors and aliases (no alias
bombs: a ledger file never needs them), any tag outside plain data
(``!!python/…``) and nesting deeper than a limit (counted as the parser's
events arrive, before a deeper node is built, so no document can exhaust the
stack); a value the loader cannot build (``2024-02-30``, ``!!int abc``) is
refused at its line. Written with ``safe_dump(allow_unicode=True)``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

import yaml

from rectflow import _codec
from rectflow._io.plan import FORMAT
from rectflow._io.table import NO_DEADLINE, Deadline, FileProblem
from rectflow._model import Event, Inspection

VERSION: Final = 1


def _place(mark: Any) -> tuple[int, str]:
    """The 1-based line and column of a YAML mark (0 and "" without one)."""
    return (mark.line + 1, str(mark.column + 1)) if mark is not None else (0, "")


class _Loader(yaml.SafeLoader):
    """SafeLoader without anchors and aliases, its nesting and its time bounded."""

    max_depth = 64
    deadline = NO_DEADLINE

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.deadline.check()
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or (
            isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent))
            and event.anchor is not None
        ):
            raise FileProblem("yaml_alias", *_place(event.start_mark))
        if self._depth >= self.max_depth:
            raise FileProblem("yaml_depth", *_place(event.start_mark), limit=self.max_depth)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (FileProblem, yaml.YAMLError):
            raise
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError) as exc:
            # what PyYAML raises building a value it accepted: 2024-02-30, !!int abc …
            value = f"{node.tag.rpartition(':')[2]} {node.value!r}"[:200]
            raise FileProblem("yaml_value", *_place(node.start_mark), value=value) from exc


def load(
    path: pathlib.Path, *, max_depth: int = 64, deadline: Deadline = NO_DEADLINE
) -> dict[str, Any]:
    """The file's root mapping.

    Args:
        path: The file.
        max_depth: The deepest nesting allowed (the root mapping is 1).
        deadline: When reading must be done (checked every node).

    Raises:
        FileProblem: ``empty_file``, ``encoding``, ``yaml_syntax``, ``yaml_tag``,
            ``yaml_alias``, ``yaml_depth``, ``yaml_value``, ``yaml_root`` or ``time_limit``.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblem("encoding") from exc
    if not text.strip():
        raise FileProblem("empty_file")
    loader = type("_Bounded", (_Loader,), {"max_depth": max_depth, "deadline": deadline})
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - _Loader is a SafeLoader
    except RecursionError as exc:  # a max_depth set past what the stack holds
        raise FileProblem("yaml_depth", limit=max_depth) from exc
    except yaml.constructor.ConstructorError as exc:
        problem = exc.problem or ""
        if "constructor for the tag" not in problem:  # an unhashable key, a bad !!set …
            raise FileProblem("yaml_value", *_place(exc.problem_mark), value=problem) from exc
        tag = problem.rpartition("tag ")[2].strip("'\" ")
        raise FileProblem("yaml_tag", *_place(exc.problem_mark), value=tag) from exc
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
