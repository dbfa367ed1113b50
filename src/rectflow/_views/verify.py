"""Verifying a ledger: the hash chain, the anchor, and a replay of every finding.

The chain is read as stored (by ``seq``, with the ``seq`` each row carries), so
tampering done with plain SQL shows:

- **edited**: an entry no longer matches its hash (its event, ``seq`` or
  ``prev_hash`` changed), or an entry was rewritten and re-hashed so that the
  next entry no longer links to it;
- **reordered**: an intact entry found at another position (its ``seq``
  swapped with another row's, or two rows' contents swapped);
- **deleted**: a position missing inside the chain;
- **truncated**: positions missing at the end, up to the anchor's count;
- **inserted**: a copy of an entry that is already in the chain;
- **anchor_mismatch**: the entry at the anchor's position differs from it
  (the chain was rewritten from there on, or the anchor is of another ledger).

Problems of a finding as a whole have position 0: **history_gap** (its
versions are not 1..n), **replay_failed** (its history breaks the workflow's
rules), **rule_unavailable** (it did not replay and the ledger's recorded
definition names rules this process has not registered), **state_mismatch**
(its current row differs from its replayed history, or has no history).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

import attrs

from rectflow._i18n import msg
from rectflow._store.base import GENESIS, ChainEntry, Head, entry_hash
from rectflow.exceptions import RectflowError

if TYPE_CHECKING:
    from rectflow._model import Event, Finding
    from rectflow._workflow import Workflow

_MAX_EXPLAINED: Final = 256
"""Above this many broken entries, they are all reported as edited without
looking for moves (which costs a hash per pair)."""


@attrs.frozen
class Problem:
    """One thing :meth:`rectflow.Ledger.verify` found wrong.

    Attributes:
        position: The chain position (1-based ``seq``) where it shows, or 0 for
            problems of a finding's current row.
        kind: ``"edited"``, ``"deleted"``, ``"reordered"``, ``"truncated"``,
            ``"inserted"``, ``"anchor_mismatch"`` (positional), or
            ``"history_gap"``, ``"replay_failed"``, ``"rule_unavailable"``, ``"state_mismatch"``
            (position 0). Issue 8 adds ``"permission_denied"``,
            ``"evidence_changed"``, ``"evidence_missing"``, ``"evidence_outside"``,
            ``"anchor_forged"``, ``"policy_mismatch"`` (positional: the stored policy
            differs from the one the event was recorded under) and
            ``"inspection_mismatch"``, ``"actor_mismatch"``, ``"grant_mismatch"``
            (position 0); see :mod:`rectflow._views.integrity`.
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


def _origins(stored: list[ChainEntry], intact: list[bool]) -> tuple[list[int | None], list[str]]:
    """Where each entry was written: its ``seq`` if intact, else the ``seq`` it hashes under.

    Returns:
        The original seq of each entry (None: edited beyond recognition) and
        how a broken entry was explained (``"seq"``: the row carries another
        seq; ``"content"``: the row holds another row's event; ``""``: not).
    """
    origins: list[int | None] = [
        e.seq if ok else None for e, ok in zip(stored, intact, strict=True)
    ]
    how = ["" for _ in stored]
    broken = [i for i, ok in enumerate(intact) if not ok]
    if not broken or len(broken) > _MAX_EXPLAINED:
        return origins, how
    seq_of_hash = {GENESIS: 0} | {e.hash: e.seq for e, ok in zip(stored, intact, strict=True) if ok}
    for i in broken:
        e = stored[i]
        candidates = {stored[j].seq for j in broken if j != i} | {e.seq - 1, e.seq + 1}
        if (pred := seq_of_hash.get(e.prev_hash)) is not None:
            candidates.add(pred + 1)
        for s in sorted(candidates - {e.seq}):
            if s >= 1 and entry_hash(e.prev_hash, s, e.event) == e.hash:
                origins[i], how[i] = s, "seq"
                break
        else:
            for j in broken:
                o = stored[j]
                if j != i and entry_hash(o.prev_hash, o.seq, e.event) == o.hash:
                    origins[i], how[i] = o.seq, "content"
                    break
    return origins, how


def _chain_problems(
    stored: list[ChainEntry], anchor: Head | tuple[int, str] | None, lang: str
) -> list[Problem]:
    problems: list[Problem] = []
    intact = [entry_hash(e.prev_hash, e.seq, e.event) == e.hash for e in stored]
    origins, how = _origins(stored, intact)

    moved = [i for i, h in enumerate(how) if h == "seq"]
    permutation = {origins[i] for i in moved} == {stored[i].seq for i in moved}
    by_origin: dict[int, int] = {}
    for i, e in enumerate(stored):
        fid = e.event.finding_id
        origin = origins[i]
        if origin is None:
            problems.append(Problem(e.seq, "edited", fid, msg("v.edited", lang, seq=e.seq)))
            continue
        if origin in by_origin:
            problems.append(
                Problem(e.seq, "inserted", fid, msg("v.inserted", lang, seq=e.seq, origin=origin))
            )
            continue
        by_origin[origin] = i
        if how[i] == "content" or (how[i] == "seq" and permutation):
            problems.append(
                Problem(
                    e.seq,
                    "reordered",
                    fid,
                    msg("v.reordered", lang, seq=e.seq, origin=origin),
                )
            )
        elif how[i] == "seq":
            problems.append(
                Problem(e.seq, "edited", fid, msg("v.renumbered", lang, seq=e.seq, origin=origin))
            )

    # Positions known to have been written: every original seq, and the seq an
    # unexplained entry carries.
    known = set(by_origin) | {e.seq for e, o in zip(stored, origins, strict=True) if o is None}
    last = max(known, default=0)
    problems.extend(
        Problem(s, "deleted", None, msg("v.deleted", lang, seq=s))
        for s in range(1, last + 1)
        if s not in known
    )

    # Links between consecutive intact entries in written order.
    reported = {(p.position, p.kind) for p in problems}
    for origin, i in sorted(by_origin.items()):
        e = stored[i]
        if origin == 1:
            if e.prev_hash != GENESIS and intact[i]:
                problems.append(Problem(e.seq, "edited", e.event.finding_id, msg("v.first", lang)))
            continue
        j = by_origin.get(origin - 1)
        if j is None or not (intact[i] and intact[j]):
            continue  # a deletion or a broken entry already explains it
        before = stored[j]
        if e.prev_hash != before.hash and (before.seq, "edited") not in reported:
            problems.append(
                Problem(
                    before.seq,
                    "edited",
                    before.event.finding_id,
                    msg("v.relinked", lang, seq=before.seq, next=e.seq),
                )
            )

    if anchor is not None:
        a_count, a_hash = int(anchor[0]), str(anchor[1])
        if last < a_count:
            problems.extend(
                Problem(
                    s,
                    "truncated",
                    None,
                    msg("v.truncated", lang, seq=s, count=a_count, last=last),
                )
                for s in range(last + 1, a_count + 1)
            )
        elif a_count == 0:
            if a_hash != GENESIS:
                problems.append(Problem(0, "anchor_mismatch", None, msg("v.anchor_not_head", lang)))
        elif (k := by_origin.get(a_count)) is not None and stored[k].hash != a_hash:
            problems.append(
                Problem(
                    a_count, "anchor_mismatch", None, msg("v.anchor_differs", lang, seq=a_count)
                )
            )
    return problems


def verify_chain(
    entries: Iterable[ChainEntry],
    current: Iterable[Finding],
    workflow: Workflow,
    anchor: Head | tuple[int, str] | None = None,
    lang: str = "zh",
    *,
    unavailable: tuple[str, ...] = (),
) -> Verification:
    """Check the chain's hashes and links, the anchor, and replay every finding.

    Args:
        entries: The chain as stored, by stored ``seq``.
        current: The current rows.
        workflow: The workflow to replay histories with.
        anchor: A head kept from earlier (detects truncation and rewrites).
        lang: The language of the problems' details (``zh``, ``en``).
        unavailable: Rules (``name@version``) the ledger's recorded definition names
            that this process has not registered: a finding that does not replay is
            reported as ``rule_unavailable`` naming them, not ``replay_failed``.

    Returns:
        The verification; its problems are sorted by position, finding-level
        problems (position 0) last.
    """
    stored = list(entries)
    problems = _chain_problems(stored, anchor, lang)

    per_finding: dict[str, list[Event]] = {}
    for e in stored:
        if e.event.finding_id:  # ledger-level events (issue 8): rectflow._views.integrity
            per_finding.setdefault(e.event.finding_id, []).append(e.event)
    rows = {f.id: f for f in current}
    for fid, events in per_finding.items():
        events.sort(key=lambda e: e.version)
        versions = [e.version for e in events]
        if versions != list(range(1, len(events) + 1)):
            problems.append(
                Problem(
                    0,
                    "history_gap",
                    fid,
                    msg("v.history_gap", lang, finding=fid, versions=versions, n=len(events)),
                )
            )
        try:
            replayed = workflow.replay(events)
        except RectflowError as exc:
            if unavailable:
                rules = ", ".join(unavailable)
                detail = msg("v.rule_unavailable", lang, finding=fid, rules=rules)
                problems.append(Problem(0, "rule_unavailable", fid, detail))
                rows.pop(fid, None)
                continue
            problems.append(
                Problem(
                    0,
                    "replay_failed",
                    fid,
                    msg("v.replay_failed", lang, finding=fid, error=exc.in_lang(lang)),
                )
            )
            rows.pop(fid, None)
            continue
        row = rows.pop(fid, None)
        if row is None or replayed is None or row != replayed:
            problems.append(
                Problem(
                    0,
                    "state_mismatch",
                    fid,
                    msg("v.state_mismatch", lang, finding=fid),
                )
            )
    problems.extend(
        Problem(0, "state_mismatch", fid, msg("v.no_history", lang, finding=fid)) for fid in rows
    )
    problems.sort(key=lambda p: (p.position == 0, p.position, p.kind, p.finding_id or ""))
    count = len(stored)
    head = Head(count, stored[-1].hash if stored else GENESIS)
    return Verification(not problems, count, head, tuple(problems))
