"""Verifying a ledger: the hash chain, the anchor, and a replay of every finding."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from rectflow._store import GENESIS, ChainEntry, Head, entry_hash
from rectflow.exceptions import RectflowError

if TYPE_CHECKING:
    from rectflow._model import Event, Finding
    from rectflow._workflow import Workflow


@attrs.frozen
class Problem:
    """One thing :meth:`rectflow.Ledger.verify` found wrong.

    Attributes:
        position: The chain position (1-based ``seq``) where it shows, or 0 for
            problems of a finding's current row.
        kind: ``"edited"``, ``"deleted"``, ``"reordered"``, ``"truncated"``,
            ``"inserted"``, ``"anchor_mismatch"``, ``"replay_failed"`` or ``"state_mismatch"``.
        finding_id: The finding concerned, when known.
        detail: A sentence saying what was found.
    """

    position: int
    kind: str
    finding_id: str | None
    detail: str


@attrs.frozen
class Verification:
    """The result of :meth:`rectflow.Ledger.verify`.

    Attributes:
        ok: True when nothing was found wrong.
        count: Number of entries checked.
        head: The head recomputed from the stored entries.
        problems: Everything found wrong, by position.
    """

    ok: bool
    count: int
    head: Head
    problems: tuple[Problem, ...]

    def __bool__(self) -> bool:
        """True when the ledger verified."""
        return self.ok


def verify_chain(
    entries: Iterable[ChainEntry],
    current: Iterable[Finding],
    workflow: Workflow,
    anchor: Head | tuple[int, str] | None = None,
) -> Verification:
    """Check the chain's links and hashes, the anchor, and replay every finding."""
    problems: list[Problem] = []
    prev = GENESIS
    count = 0
    last_hash = GENESIS
    per_finding: dict[str, list[Event]] = {}
    hashes: dict[int, str] = {}
    seen_seq: set[int] = set()
    for position, entry in enumerate(entries, start=1):
        count = position
        event = entry.event
        fid = event.finding_id
        computed = entry_hash(entry.prev_hash, entry.seq, event)
        if entry.seq != position:
            kind = "reordered" if entry.seq in seen_seq or entry.seq < position else "deleted"
            if entry.seq > position:
                problems.append(
                    Problem(
                        position,
                        "deleted",
                        fid,
                        f"entry {position} is missing: the chain jumps to seq {entry.seq}",
                    )
                )
            else:
                problems.append(
                    Problem(
                        position, kind, fid, f"entry at position {position} carries seq {entry.seq}"
                    )
                )
        if computed != entry.hash:
            problems.append(
                Problem(position, "edited", fid, f"entry {entry.seq} does not match its hash")
            )
        elif entry.prev_hash != prev:
            problems.append(
                Problem(
                    position,
                    "reordered" if entry.seq == position else "deleted",
                    fid,
                    f"entry {entry.seq} does not link to the entry before it",
                )
            )
        seen_seq.add(entry.seq)
        prev = entry.hash
        last_hash = entry.hash
        hashes[position] = entry.hash
        per_finding.setdefault(fid, []).append(event)

    if anchor is not None:
        a_count, a_hash = tuple(anchor)
        if count < a_count:
            problems.append(
                Problem(
                    count + 1,
                    "truncated",
                    None,
                    f"the anchor has {a_count} entries but only {count} are stored",
                )
            )
        elif hashes.get(a_count, GENESIS) != a_hash:
            problems.append(
                Problem(
                    a_count, "anchor_mismatch", None, f"entry {a_count} differs from the anchor"
                )
            )

    stored = {f.id: f for f in current}
    for fid, events in per_finding.items():
        versions = [e.version for e in events]
        if versions != list(range(1, len(events) + 1)):
            problems.append(
                Problem(
                    0,
                    "deleted",
                    fid,
                    f"finding {fid}: versions are {versions}, not 1..{len(events)}",
                )
            )
        try:
            replayed = workflow.replay(sorted(events, key=lambda e: e.version))
        except RectflowError as exc:
            problems.append(
                Problem(0, "replay_failed", fid, f"finding {fid}: replay failed: {exc}")
            )
            continue
        row = stored.pop(fid, None)
        if row is None or replayed is None or row != replayed:
            problems.append(
                Problem(
                    0,
                    "state_mismatch",
                    fid,
                    f"finding {fid}: current row differs from its replayed history",
                )
            )
    problems.extend(
        Problem(0, "state_mismatch", fid, f"finding {fid}: a current row without history")
        for fid in stored
    )
    problems.sort(key=lambda p: (p.position == 0, p.position))
    return Verification(not problems, count, Head(count, last_hash), tuple(problems))
