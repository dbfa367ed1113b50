"""rectflow: rectification (整改) workflows on a durable, tamper-evident ledger.

The findings of an inspection or audit move through
``assigned → in_progress → staged_result → pending_signoff → completed → rechecked``
under deadlines, sign-off, look-back (回头看) and spot-check rules::

    from rectflow import Ledger, Owner, Policy

    ledger = Ledger.open("rectflow.db", policy=Policy())
    ledger.add_inspection("R1", title="…", feedback_at="2023-11-23", declared_findings=28)
    ledger.add_finding("1.1.1", inspection="R1", title="…", kind="deadline",
                       owner=Owner(leader="…", department="德育处", person="王老师"),
                       deadline="2024-01-31", actor="巡察办", at="2023-11-30T09:00:00+08:00")
    ledger.fire("1.1.1", "start", actor="王老师", at="2023-12-01T09:00:00+08:00")
"""

from __future__ import annotations

from rectflow._io import FileIssue, FileLimits, ImportSummary
from rectflow._io.update import Change, FieldChange, UpdateSummary
from rectflow._ledger import Ledger
from rectflow._model import (
    DONE_STATES,
    EVENT_NAMES,
    OPEN_STATES,
    STATES,
    Event,
    Finding,
    Inspection,
    Measure,
    Owner,
)
from rectflow._policy import ROLES, ImportWords, Period, Policy, load_policy, policy_pack
from rectflow._render.agenda import Agenda
from rectflow._render.report import Report
from rectflow._roles import Actor, Grant
from rectflow._spec import (
    Context,
    EventSpec,
    FieldSpec,
    Rule,
    StateSpec,
    WorkflowSpec,
    effect,
    rule,
)
from rectflow._store.base import ChainEntry, Head, Store
from rectflow._store.memory import MemoryStore
from rectflow._version import __version__
from rectflow._views.agenda import AgendaItem, InspectionAgenda
from rectflow._views.integrity import SignedHead, hash_evidence
from rectflow._views.verify import Problem, Verification
from rectflow._workflow import Workflow
from rectflow._writer import EventPage, SpotCheckDraw
from rectflow.exceptions import (
    ConcurrencyConflict,
    DuplicateId,
    FindingNotFound,
    InspectionNotFound,
    InvalidInput,
    LedgerCorrupted,
    LedgerFileError,
    PermissionDenied,
    PolicyError,
    RectflowError,
    RuleViolation,
    SchemaVersionError,
    StorageError,
    TimeOrderConflict,
    TransitionNotAllowed,
    WorkflowError,
)

__all__ = [
    "DONE_STATES",
    "EVENT_NAMES",
    "OPEN_STATES",
    "ROLES",
    "STATES",
    "Actor",
    "Agenda",
    "AgendaItem",
    "ChainEntry",
    "Change",
    "ConcurrencyConflict",
    "Context",
    "DuplicateId",
    "Event",
    "EventPage",
    "EventSpec",
    "FieldChange",
    "FieldSpec",
    "FileIssue",
    "FileLimits",
    "Finding",
    "FindingNotFound",
    "Grant",
    "Head",
    "ImportSummary",
    "ImportWords",
    "Inspection",
    "InspectionAgenda",
    "InspectionNotFound",
    "InvalidInput",
    "Ledger",
    "LedgerCorrupted",
    "LedgerFileError",
    "Measure",
    "MemoryStore",
    "Owner",
    "Period",
    "PermissionDenied",
    "Policy",
    "PolicyError",
    "Problem",
    "RectflowError",
    "Report",
    "Rule",
    "RuleViolation",
    "SchemaVersionError",
    "SignedHead",
    "SpotCheckDraw",
    "StateSpec",
    "StorageError",
    "Store",
    "TimeOrderConflict",
    "TransitionNotAllowed",
    "UpdateSummary",
    "Verification",
    "Workflow",
    "WorkflowError",
    "WorkflowSpec",
    "__version__",
    "effect",
    "hash_evidence",
    "load_policy",
    "policy_pack",
    "rule",
]
