"""Verifying what issue 8 put on the chain: ledger-level events, roles, anchors, evidence.

- :func:`ledger_problems` replays the ledger-level events (inspections, actors,
  role grants, reports) in chain order, checks every event's role at its point
  of the chain (a role granted later never legitimises an earlier event), and
  compares the replayed inspections, actors and grants with the stored rows:
  an edited, deleted or inserted row is named.
- :func:`sign_head` / :func:`anchor_problems`: a head signed with an HMAC key
  kept outside the ledger, so a forged head is detected.
- :func:`hash_evidence` / :func:`evidence_problems`: evidence references that
  carry the SHA-256 of their file, re-hashed from a folder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from rectflow import _codec
from rectflow._i18n import msg
from rectflow._roles import LEDGER, LedgerState
from rectflow._store.base import Head
from rectflow._views.verify import Problem, Verification
from rectflow.exceptions import InvalidInput, PermissionDenied, PolicyError, RectflowError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from rectflow._model import Inspection
    from rectflow._policy import Policy
    from rectflow._spec import WorkflowSpec
    from rectflow._store.base import ChainEntry

EVIDENCE_HASH: Final = re.compile(r"^(?P<name>.+)#sha256=(?P<digest>[0-9a-f]{64})$")
"""An evidence reference carrying its file's hash: ``name#sha256=<64 hex digits>``."""

_HEAD_LABEL: Final = "rectflow-head-v1"


class SignedHead(NamedTuple):
    """A head with an HMAC over it: ``str()`` gives ``COUNT:HASH:MAC`` to keep elsewhere.

    Attributes:
        count: Number of entries in the chain.
        hash: The last entry's hash.
        mac: HMAC-SHA256 (hex) of the head under the key, or None for an unsigned anchor.
    """

    count: int  # type: ignore[assignment]  # the field deliberately shadows tuple.count
    hash: str
    mac: str | None = None

    def __str__(self) -> str:
        """``COUNT:HASH:MAC`` (``COUNT:HASH`` unsigned)."""
        text = f"{self.count}:{self.hash}"
        return text if self.mac is None else f"{text}:{self.mac}"


def _key_bytes(key: bytes | str, lang: str) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    # str.strip() knows every Unicode space (U+3000 too); bytes.strip() only ASCII ones
    if not isinstance(raw, bytes) or not raw.strip() or (isinstance(key, str) and not key.strip()):
        raise InvalidInput(msg("bad_key", lang, value="empty"), field="key")
    return raw


def _mac(count: int, digest: str, key: bytes) -> str:
    message = f"{_HEAD_LABEL}:{count}:{digest}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_head(head: Head, key: bytes | str, lang: str = "zh") -> SignedHead:
    """*head* signed with HMAC-SHA256 under *key*.

    Raises:
        InvalidInput: An empty key.
    """
    return SignedHead(head.count, head.hash, _mac(head.count, head.hash, _key_bytes(key, lang)))


def parse_anchor(anchor: object, lang: str = "zh") -> SignedHead:
    """An anchor given as a head, a signed head, or ``COUNT:HASH[:MAC]`` text.

    Raises:
        InvalidInput: When it is none of these.
    """
    if isinstance(anchor, SignedHead):
        return anchor
    if isinstance(anchor, str):
        parts = anchor.strip().split(":")
        if len(parts) in (2, 3) and parts[0].isdigit() and re.fullmatch(r"[0-9a-f]{64}", parts[1]):
            mac = parts[2] if len(parts) == 3 else None
            if mac is None or re.fullmatch(r"[0-9a-f]{64}", mac):
                return SignedHead(int(parts[0]), parts[1], mac)
    elif isinstance(anchor, tuple) and len(anchor) == 2:
        count, digest = anchor
        if isinstance(count, int) and not isinstance(count, bool) and isinstance(digest, str):
            return SignedHead(count, digest)
    raise InvalidInput(msg("bad_anchor", lang, value=anchor), field="anchor", value=anchor)


def anchor_problems(anchor: SignedHead, key: bytes | str | None, lang: str = "zh") -> list[Problem]:
    """A problem when the anchor's MAC does not match the key (a forged head).

    Raises:
        InvalidInput: A signed anchor and no key.
    """
    if anchor.mac is None:
        return []
    if key is None:
        raise InvalidInput(msg("key_needed", lang), field="key")
    expected = _mac(anchor.count, anchor.hash, _key_bytes(key, lang))
    if hmac.compare_digest(expected, anchor.mac):
        return []
    return [
        Problem(
            anchor.count,
            "anchor_forged",
            None,
            msg("anchor_forged", lang, count=anchor.count, hash=anchor.hash[:12]),
        )
    ]


def hash_evidence(path: str | Path, name: str | None = None) -> str:
    """An evidence reference carrying the file's SHA-256: ``name#sha256=<hex>``.

    Args:
        path: The local file.
        name: The reference's name (default: the file's name); ``verify
            --evidence-dir`` looks it up in the folder it is given.

    Raises:
        InvalidInput: When the file cannot be read.
    """
    file = Path(path)
    try:
        digest = _sha256(file)
    except OSError as exc:
        raise InvalidInput(
            msg("evidence_file", "zh", value=str(file), error=exc), field="evidence", value=path
        ) from exc
    return f"{name or file.name}#sha256={digest}"


def _sha256(file: Path) -> str:
    h = hashlib.sha256()
    with file.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def evidence_problems(
    entries: Iterable[ChainEntry], directory: str | Path, lang: str = "zh"
) -> list[Problem]:
    """``evidence_changed`` / ``evidence_missing`` for every hashed reference under *directory*.

    A reference whose name leads outside *directory* (``../x``, an absolute path, a
    symbolic link out of it) is never read: it is an ``evidence_outside`` problem.
    """
    folder = Path(directory).resolve()
    problems: list[Problem] = []
    for entry in entries:
        for ref in entry.event.evidence:
            match = EVIDENCE_HASH.match(ref)
            if match is None:
                continue
            name, digest = match["name"], match["digest"]
            file = (folder / name).resolve()
            subject = entry.event.finding_id or None
            if not file.is_relative_to(folder) or file == folder:
                kind = "evidence_outside"
            elif not file.is_file():
                kind = "evidence_missing"
            elif _sha256(file) != digest:
                kind = "evidence_changed"
            else:
                continue
            problems.append(Problem(entry.seq, kind, subject, msg(kind, lang, name=name)))
    return problems


def _row_problems(
    kind: str, replayed: Mapping[str, Any], stored: Mapping[str, Any], lang: str
) -> list[Problem]:
    problems = []
    for key in sorted(set(replayed) | set(stored)):
        if key not in stored:
            how = "deleted"
        elif key not in replayed:
            how = "inserted"
        elif stored[key] != replayed[key]:
            how = "edited"
        else:
            continue
        detail = msg(f"v.row_{how}", lang, kind=msg(f"v.row_kind.{kind}", lang), key=key)
        problems.append(Problem(0, f"{kind}_mismatch", None, detail))
    return problems


def _data(record: Any) -> Any:
    return json.loads(_codec.dumps(_codec.unstructure(record)))


def ledger_problems(
    entries: Sequence[ChainEntry],
    inspections: Iterable[Inspection],
    records: Mapping[str, Iterable[tuple[str, str]]],
    policy: Policy,
    lang: str = "zh",
    spec: WorkflowSpec | None = None,
) -> list[Problem]:
    """Replay the ledger-level events and every event's role; compare the rows.

    Args:
        entries: The chain as stored, by ``seq``.
        inspections: The stored inspection rows.
        records: The stored projection rows by kind (``actor``, ``grant``).
        policy: The ledger's policy (its role table).
        lang: Language of the details taken from errors.
        spec: The workflow definition (roles of events the policy does not name).

    Returns:
        ``permission_denied`` (an event whose actor lacked the role at that point),
        ``policy_mismatch`` (an event recorded under other rules than the stored policy:
        the policy was edited),
        ``replay_failed`` / ``history_gap`` for the ledger's own events, and
        ``inspection_mismatch`` / ``actor_mismatch`` / ``grant_mismatch`` for rows.
    """
    state = LedgerState()
    inspection_of: dict[str, str | None] = {}
    problems: list[Problem] = []
    for entry in entries:
        event = entry.event
        if event.finding_id != LEDGER:
            if event.name == "add":
                inspection_of[event.finding_id] = event.payload.get("inspection")
            try:
                state.check_role(event, inspection_of.get(event.finding_id), policy, lang, spec)
            except PermissionDenied as exc:
                problems.append(Problem(entry.seq, "permission_denied", event.finding_id, str(exc)))
            continue
        if event.version != state.version + 1:
            problems.append(
                Problem(
                    entry.seq,
                    "history_gap",
                    None,
                    msg(
                        "v.ledger_gap",
                        lang,
                        event=event.name,
                        version=event.version,
                        expected=state.version + 1,
                    ),
                )
            )
        try:
            state.check(event, None, policy, lang)
        except PermissionDenied as exc:
            problems.append(Problem(entry.seq, "permission_denied", None, str(exc)))
        except PolicyError:
            detail = msg("problem.policy_mismatch", lang, seq=entry.seq)
            problems.append(Problem(entry.seq, "policy_mismatch", None, detail))
        except RectflowError as exc:
            problems.append(Problem(entry.seq, "replay_failed", None, str(exc)))
        try:
            state.apply(event)
        except (RectflowError, KeyError, ValueError, TypeError) as exc:
            problems.append(
                Problem(
                    entry.seq,
                    "replay_failed",
                    None,
                    msg("v.ledger_replay", lang, event=event.name, error=repr(exc)),
                )
            )
    problems += _row_problems(
        "inspection",
        {i.id: _data(i) for i in state.inspections.values()},
        {i.id: _data(i) for i in inspections},
        lang,
    )
    problems += _row_problems(
        "actor",
        {a.name: _data(a) for a in state.actors.values()},
        {k: json.loads(v) for k, v in records.get("actor", ())},
        lang,
    )
    problems += _row_problems(
        "grant",
        {g.key: _data(g) for g in state.grants},
        {k: json.loads(v) for k, v in records.get("grant", ())},
        lang,
    )
    return problems


def with_problems(result: Verification, extra: Iterable[Problem]) -> Verification:
    """*result* with *extra* problems merged in, sorted as :func:`verify_chain` sorts them."""
    problems = [*result.problems, *extra]
    if len(problems) == len(result.problems):
        return result
    problems.sort(key=lambda p: (p.position == 0, p.position, p.kind, p.finding_id or ""))
    return Verification(ok=False, count=result.count, head=result.head, problems=tuple(problems))
