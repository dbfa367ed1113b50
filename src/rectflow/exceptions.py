"""Every error rectflow raises.

All of them derive from :class:`RectflowError`, and most also subclass the
builtin that fits, so ``except ValueError`` keeps working for callers that do
not know rectflow::

    RectflowError
    ├── InvalidInput (ValueError)            bad time, unknown event, state, kind …
    │   ├── PolicyError                      a policy file that does not validate
    │   ├── WorkflowError                    a workflow definition that does not load
    │   └── LedgerFileError                  a ledger file (CSV/XLSX/YAML) that does not import
    ├── FindingNotFound (KeyError)           no finding with that id
    ├── InspectionNotFound (KeyError)        no inspection with that id
    ├── DuplicateId (ValueError)             an id that is already on the ledger
    ├── TransitionNotAllowed                 the event is not allowed in the current state
    ├── RuleViolation                        a guard of the workflow failed; ``.rule`` names it
    ├── ConcurrencyConflict                  someone else moved the finding first
    │   └── TimeOrderConflict                ... with an event later than the ``at`` sent
    ├── PermissionDenied (PermissionError)   the actor lacks the role the event needs
    ├── WorkflowMismatch                     the ledger records another workflow definition
    └── StorageError                         the store cannot be opened or used
        ├── SchemaVersionError               written by a newer rectflow
        └── LedgerCorrupted                  ``verify`` found tampering or damage

Messages are in Chinese by default; every error keeps its structured fields
as attributes, and ``str(err)`` is built from them. An error leaving a
:class:`~rectflow.Ledger` is in the language the ledger was opened with.
"""

from __future__ import annotations

import re
from typing import Any

_CJK = re.compile(r"[\u3400-\u9fff]")

__all__ = [
    "ConcurrencyConflict",
    "DuplicateId",
    "FindingNotFound",
    "InspectionNotFound",
    "InvalidInput",
    "LedgerCorrupted",
    "LedgerFileError",
    "PermissionDenied",
    "PolicyError",
    "RectflowError",
    "RuleViolation",
    "SchemaVersionError",
    "StorageError",
    "TimeOrderConflict",
    "TransitionNotAllowed",
    "WorkflowError",
    "WorkflowMismatch",
]


class RectflowError(Exception):
    """Base class of every error rectflow raises.

    Attributes:
        message: The human-readable message (``str(err)``).
        translations: The message per language (``"zh"``, ``"en"``), when the
            raiser knew both; see :meth:`in_lang`.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.translations: dict[str, str] = {}

    def __str__(self) -> str:
        """The message."""
        return self.message

    def in_lang(self, lang: str) -> str:
        """The message in *lang* (``"zh"`` or ``"en"``) when known, else :attr:`message`."""
        return self.translations.get(lang, self.message)

    def _localize(self, lang: str) -> None:
        """Make :attr:`message` (and ``str(err)``) the one in *lang*, when known."""
        text = self.translations.get(lang)
        if text is not None and text != self.message:
            self.message = text
            self.args = (text, *self.args[1:])


class InvalidInput(RectflowError, ValueError):
    """A value given to rectflow is malformed.

    A naive or impossible time, an unknown event, state or kind, an empty actor.

    Attributes:
        field: The name of the offending argument or column, when known.
        value: The offending value, when known.
    """

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class PolicyError(InvalidInput):
    """A policy (or policy file) that does not validate."""


class WorkflowError(InvalidInput):
    """A workflow definition that does not load.

    It names an unknown state, an unregistered rule or effect, an unknown field
    type or state kind, or it is not a definition at all; ``field`` says where.
    """


class WorkflowMismatch(RectflowError):
    """The ledger records another workflow definition than the one it was opened with.

    Raised by the first write (reading and ``verify`` still work). Record the new
    definition with :meth:`~rectflow.Ledger.change_workflow`, or open the ledger
    with the definition it records.

    Attributes:
        recorded: The digest the ledger records.
        given: The digest of the definition it was opened with.
        missing_rules: The ``name@version`` of rules the recorded definition names
            that are not registered in this process.
        differences: What differs, one line each (``state escalated removed`` …).
    """

    def __init__(
        self,
        message: str,
        *,
        recorded: str = "",
        given: str = "",
        missing_rules: tuple[str, ...] = (),
        differences: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.recorded = recorded
        self.given = given
        self.missing_rules = missing_rules
        self.differences = differences


class FindingNotFound(RectflowError, KeyError):
    """No finding with this id is on the ledger.

    Attributes:
        finding_id: The id that was looked up.
    """

    def __init__(self, finding_id: str, message: str | None = None) -> None:
        super().__init__(message or f"整改台账中没有编号为 {finding_id!r} 的问题")
        self.finding_id = finding_id

    def __str__(self) -> str:
        """The message (KeyError would quote it otherwise)."""
        return self.message


class InspectionNotFound(RectflowError, KeyError):
    """No inspection with this id is on the ledger.

    Attributes:
        inspection_id: The id that was looked up.
    """

    def __init__(self, inspection_id: str, message: str | None = None) -> None:
        super().__init__(message or f"整改台账中没有编号为 {inspection_id!r} 的巡察")
        self.inspection_id = inspection_id

    def __str__(self) -> str:
        """The message (KeyError would quote it otherwise)."""
        return self.message


class DuplicateId(RectflowError, ValueError):
    """An inspection or finding with this id is already on the ledger.

    Attributes:
        id: The duplicated id.
    """

    def __init__(self, id: str, message: str | None = None) -> None:  # noqa: A002
        super().__init__(message or f"编号 {id!r} 已存在")
        self.id = id


class TransitionNotAllowed(RectflowError):
    """The event cannot happen in the finding's current state.

    Attributes:
        finding_id: The finding the event was fired at.
        event: The event name.
        state: The finding's current state.
        allowed: The events that are allowed in that state.
    """

    def __init__(
        self,
        finding_id: str,
        event: str,
        state: str,
        allowed: tuple[str, ...] = (),
        message: str | None = None,
    ) -> None:
        super().__init__(
            message
            or f"问题 {finding_id}: 当前状态 {state} 下不能执行 {event}"
            f"(可执行: {', '.join(allowed) or '无'})"
        )
        self.finding_id = finding_id
        self.event = event
        self.state = state
        self.allowed = allowed


class RuleViolation(RectflowError):
    """A guard of the workflow failed; nothing was changed.

    Attributes:
        rule: The rule's stable identifier, e.g. ``"signer_not_submitter"``.
        finding_id: The finding the event was fired at.
        event: The event name.
    """

    def __init__(self, rule: str, message: str, *, finding_id: str = "", event: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.finding_id = finding_id
        self.event = event


class ConcurrencyConflict(RectflowError):
    """The finding moved between reading it and writing the event.

    Never resolved by last-writer-wins: reload the finding and decide again.

    Attributes:
        finding_id: The finding.
        expected: The version the writer based its event on.
        actual: The version found in the store.
    """

    def __init__(
        self, finding_id: str, expected: int, actual: int, message: str | None = None
    ) -> None:
        super().__init__(
            message
            or f"问题 {finding_id} 已被他人修改: 期望版本 {expected}, 实际版本 {actual};"
            "请重新读取后再操作"
        )
        self.finding_id = finding_id
        self.expected = expected
        self.actual = actual


class TimeOrderConflict(ConcurrencyConflict):
    """The finding already has an event later than the one being written.

    What the loser of a race sees when it sent its own ``at`` and another writer
    committed a later event first: reload the finding and decide again (or send
    no ``at``, and the ledger's clock times the event). A subclass of
    :class:`ConcurrencyConflict`, so one ``except`` (one HTTP 409) covers both.
    With an ``expected_version`` that is still current no race was lost, and an
    ``at`` before the last event is a :class:`RuleViolation` (``time_order``).

    Attributes:
        rule: ``"time_order"``, the rule the event broke.
        at: The event's time.
        previous: The time of the finding's latest event.
    """

    def __init__(
        self,
        finding_id: str,
        version: int,
        *,
        at: Any,
        previous: Any,
        message: str | None = None,
    ) -> None:
        super().__init__(
            finding_id,
            version,
            version,
            message
            or f"问题 {finding_id} 已有更晚的事件 ({previous}), 时间 {at} 的事件不能再记入;"
            "请重新读取后再操作",
        )
        self.rule = "time_order"
        self.at = at
        self.previous = previous


_BILINGUAL = re.compile(r"(?P<zh>[^()]*?) \((?P<en>[^()]+)\)(?P<rest>.*)", re.DOTALL)


class StorageError(RectflowError):
    """The ledger's store cannot be opened or used.

    A store writes its message as ``中文 (English)`` with the cause after it;
    both are kept in :attr:`~RectflowError.translations`, and the ledger shows
    the one of its language.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        found = _BILINGUAL.fullmatch(message)
        if found is not None and _CJK.search(found["zh"]) and not _CJK.search(found["en"]):
            rest = found["rest"]
            self.translations = {"zh": found["zh"] + rest, "en": found["en"] + rest}


class SchemaVersionError(StorageError):
    """The ledger was written by a newer schema than this rectflow knows.

    Attributes:
        found: The schema version in the store.
        supported: The newest schema version this rectflow can read.
    """

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"台账的数据结构版本为 {found}, 本版本 rectflow 只支持到 {supported}; 请升级 rectflow "
            f"(the ledger has schema version {found}; this rectflow reads up to {supported}: "
            "upgrade rectflow)"
        )
        self.found = found
        self.supported = supported


class LedgerCorrupted(StorageError):
    """The ledger's event chain does not verify.

    Attributes:
        problems: The individual findings of the verification.
    """

    def __init__(self, message: str, problems: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


# -- ledger files (issue 7)


class LedgerFileError(InvalidInput):
    """A ledger file that cannot be imported; nothing was written.

    Attributes:
        path: The file.
        errors: Every problem found (up to the limit), in file order: each a
            :class:`rectflow.FileIssue` with ``.row``, ``.column``, ``.code``, ``.message``.
        truncated: True when more problems were found than are listed.
    """

    def __init__(
        self, path: str, errors: tuple[Any, ...], message: str, *, truncated: bool = False
    ) -> None:
        super().__init__(message, field="file", value=path)
        self.path = path
        self.errors = errors
        self.truncated = truncated


class PermissionDenied(RectflowError, PermissionError):
    """The actor may not fire this event (issue 8: who may do what).

    In a ledger with registered actors, every event must come from a registered
    actor who holds, at the event's time, one of the roles the policy names for
    it; nothing is written when it does not.

    Attributes:
        actor: Who tried.
        event: The event's name (``"sign_off"``, ``"add_actor"`` …).
        needed: The roles that would have allowed it (empty: nobody may).
        inspection: The inspection the role is needed for (None: ledger-wide).
        subject: The finding (or, for ledger events, the inspection or actor) concerned.
    """

    def __init__(
        self,
        message: str,
        *,
        actor: str,
        event: str,
        needed: tuple[str, ...],
        inspection: str | None = None,
        subject: str = "",
    ) -> None:
        super().__init__(message)
        self.actor = actor
        self.event = event
        self.needed = needed
        self.inspection = inspection
        self.subject = subject
