"""The finding workflow: one shared ``transitions`` machine and its rules.

Pure: no I/O, no wall clock. :meth:`Workflow.apply` takes a finding and an
event and returns the finding after the event, or raises; the caller (the
ledger) decides whether to make it real.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import attrs
import cattrs
from transitions import Machine

from rectflow import _codec
from rectflow._i18n import has, msg
from rectflow._model import (
    CADENCES,
    FINDING_KINDS,
    MEASURE_KINDS,
    STATE_LABELS,
    STATES,
    Event,
    Finding,
    Measure,
    Owner,
    evolve_finding,
    missed_periods,
)
from rectflow._policy import Period, Policy
from rectflow._time import local_date, parse_date, parse_time
from rectflow.exceptions import InvalidInput, RuleViolation, TransitionNotAllowed

EVENT_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "add": ("列入台账", "add"),
    "start": ("开始整改", "start"),
    "stage": ("报告阶段性成效", "report a staged result"),
    "submit": ("提交销号", "submit for sign-off"),
    "sign_off": ("销号", "sign off"),
    "reject": ("退回", "reject"),
    "recheck": ("回头看", "recheck"),
    "rebound": ("反弹重启", "rebound"),
    "extend": ("延期", "extend"),
    "spot_check": ("抽查", "spot check"),
    "cancel": ("撤销", "cancel"),
    "record_measure": ("记录措施", "record a measure"),
    "amend": ("修订台账信息", "amend"),
    "attest": ("导入台账时已完成", "completed as imported (attested)"),
}

_OPEN: Final = ["assigned", "in_progress", "staged_result", "pending_signoff"]

TRANSITIONS: Final[tuple[dict[str, Any], ...]] = (
    {"trigger": "start", "source": "assigned", "dest": "in_progress"},
    {"trigger": "stage", "source": ["in_progress", "staged_result"], "dest": "staged_result"},
    {"trigger": "submit", "source": ["in_progress", "staged_result"], "dest": "pending_signoff"},
    {"trigger": "sign_off", "source": "pending_signoff", "dest": "completed"},
    {"trigger": "reject", "source": "pending_signoff", "dest": "in_progress"},
    {"trigger": "recheck", "source": "completed", "dest": "rechecked"},
    {"trigger": "rebound", "source": ["completed", "rechecked"], "dest": "in_progress"},
    {"trigger": "extend", "source": ["assigned", "in_progress", "staged_result"], "dest": "="},
    {"trigger": "spot_check", "source": ["completed", "rechecked"], "dest": "="},
    {"trigger": "cancel", "source": _OPEN, "dest": "cancelled"},
    {"trigger": "attest", "source": ["in_progress", "staged_result"], "dest": "completed"},
    {
        "trigger": "record_measure",
        "source": ["in_progress", "staged_result", "pending_signoff", "completed", "rechecked"],
        "dest": "=",
    },
    {"trigger": "amend", "source": [*_OPEN, "completed", "rechecked"], "dest": "="},
)
"""The default workflow's edges (DOMAIN.md), plus ``record_measure`` for measure progress
and ``amend`` for corrections of a finding's recorded text (every state but ``cancelled``)."""

PAYLOAD_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "start": frozenset(),
    "stage": frozenset({"next_checkpoint"}),
    "submit": frozenset(),
    "sign_off": frozenset(),
    "reject": frozenset(),
    "recheck": frozenset(),
    "rebound": frozenset({"deadline"}),
    "extend": frozenset({"requested_by", "until", "reason"}),
    "spot_check": frozenset({"seed", "k", "drawn_on"}),
    "cancel": frozenset({"reason"}),
    "record_measure": frozenset({"measure"}),
    "amend": frozenset({"changes"}),
    "attest": frozenset({"provenance", "source"}),
}
"""Keyword arguments each event takes besides ``actor``, ``at``, ``note`` and ``evidence``."""

EVENTS: Final = tuple(PAYLOAD_KEYS)

AMEND_FIELDS: Final = (
    "aspect",
    "category",
    "title",
    "kind",
    "leader",
    "department",
    "person",
    "deadline",
    "measures",
    "remarks",
    "extra",
)
"""The fields an ``amend`` event may change (the text a ledger table holds for a finding).

``remarks`` is the sheet's 备注; ``extra`` the office's own columns, header → text
(its old and new values are whole mappings).

A changed ``deadline`` is the current one; ``original_deadline`` is kept, as after an
extension, so on-time figures cannot be changed by editing the sheet.
"""
IMPORT_ONLY: Final = frozenset({"attest"})
"""Events only an import writes (not listed as allowed, refused by ``fire``)."""

DATE_ARGUMENTS: Final = frozenset({"next_checkpoint", "deadline", "until", "drawn_on"})
"""Event arguments that are days, kept on the event as ISO text."""

_DATE_TEXT: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAY_LIKE: Final = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")  # a day, maybe mistyped: not a period


# ---------------------------------------------------------------- values in
# One reading of the values callers pass, shared by the Ledger and the Workflow.


def event_arguments(arguments: Mapping[str, Any], lang: str = "zh") -> dict[str, Any]:
    """An event's arguments as they are kept on it: days as ISO text, names normalised.

    Raises:
        InvalidInput: For a day that is not one, or a seed or k of the wrong type.
    """
    payload: dict[str, Any] = {}
    for key, value in arguments.items():
        if value is None:
            continue
        if key in DATE_ARGUMENTS:
            payload[key] = parse_date(value, key, lang).isoformat()
        elif key in ("seed", "k"):
            if (
                not isinstance(value, (int, str))
                or isinstance(value, bool)
                or (key == "k" and not isinstance(value, int))
            ):
                raise InvalidInput(msg("bad_value", lang, field=key, value=value), field=key)
            payload[key] = value
        elif key == "changes" and isinstance(value, Mapping):  # amend: {field: {old, new}}
            payload[key] = {
                str(k): dict(v) if isinstance(v, Mapping) else v for k, v in value.items()
            }
        elif key == "requested_by" and isinstance(value, str):
            payload[key] = normalize_name(value)
        else:
            payload[key] = str(value)
    return payload


def owner_of(value: object, lang: str = "zh") -> Owner:
    """*value* (an :class:`Owner`, or its fields as a mapping) as an Owner, names normalised.

    Raises:
        InvalidInput: For anything else.
    """
    if isinstance(value, Mapping) and not isinstance(value, Owner):
        fields = [value.get(k) for k in ("leader", "department", "person")]
    elif isinstance(value, Owner):
        fields = [value.leader, value.department, value.person]
    else:
        fields = []
    if len(fields) != 3 or not all(isinstance(v, str) for v in fields):
        raise InvalidInput(msg("bad_value", lang, field="owner", value=value), field="owner")
    return Owner(*(normalize_name(v) for v in fields))


def deadline_of(spec: object, start: dt.date, calendar: Any, lang: str = "zh") -> dt.date:
    """A deadline: a day (``date`` or ``"2024-01-31"``), or a period after *start*.

    A period is a :class:`~rectflow.Period` or its text (``"10 working days"``,
    ``"2 months"``, ``"10个工作日"``, ``"2个月"``), counted through *calendar*.

    Raises:
        InvalidInput: When it is neither.
    """
    if isinstance(spec, Period):
        return spec.after(start, calendar)
    if isinstance(spec, str) and not _DAY_LIKE.fullmatch(spec.strip()):
        try:
            period = Period.parse(spec)
        except InvalidInput as exc:
            raise InvalidInput(
                msg("bad_deadline_spec", lang, field="deadline", value=spec),
                field="deadline",
                value=spec,
            ) from exc
        return period.after(start, calendar)
    return parse_date(spec, "deadline", lang)


def event_in(event: Event, lang: str = "zh", *, days: bool = True) -> Event:
    """*event* with its values read the one way: ``at`` as an aware time, days as ISO text.

    An event built by the ledger is returned as it is; one built by an app may
    carry ISO text for ``at`` or ``date`` objects for its days.

    Raises:
        InvalidInput: For a value that cannot be read (the message names it).
    """
    at = event.at
    changes: dict[str, Any] = {}
    if not isinstance(at, dt.datetime):  # ISO text; anything else: a clear "bad time"
        changes["at"] = parse_time(at, "at", lang)
    payload = event.payload
    if (
        days
        and payload
        and any(
            k in DATE_ARGUMENTS and not (type(v) is str and _DATE_TEXT.fullmatch(v))
            for k, v in payload.items()
        )
    ):
        changes["payload"] = {
            **payload,
            **event_arguments({k: v for k, v in payload.items() if k in DATE_ARGUMENTS}, lang),
        }
    return attrs.evolve(event, **changes) if changes else event


@attrs.frozen
class Context:
    """What a rule sees: the finding before the event, the event, and the settings.

    Attributes:
        finding: The finding as it is before the event.
        event: The event being applied.
        policy: The policy in force.
        calendar: The policy's working-day calendar.
        now: The ledger clock's time, or None when replaying history.
        lang: Language of error messages.
    """

    finding: Finding
    event: Event
    policy: Policy
    calendar: Any
    now: dt.datetime | None
    lang: str = "zh"

    @property
    def day(self) -> dt.date:
        """The event's day in the policy's time zone."""
        return local_date(self.event.at, self.policy.timezone)

    def fail(self, rule: str, **fields: Any) -> RuleViolation:
        """A :class:`RuleViolation` for *rule* with the catalogue's message."""
        label = EVENT_LABELS.get(self.event.name, (self.event.name, self.event.name))
        key = f"rule.{rule}" if has(f"rule.{rule}") else "rule.generic"
        text = msg(
            key,
            self.lang,
            rule=rule,
            finding=self.finding.id,
            event=self.event.name,
            event_label=label[0],
            actor=self.event.actor,
            **fields,
        )
        return RuleViolation(rule, text, finding_id=self.finding.id, event=self.event.name)

    def period(self, period: Period) -> str:
        """A period in the message language, e.g. ``3个月`` or ``3 months``."""
        return period.text(self.lang)

    def payload_date(self, key: str) -> dt.date | None:
        """A date argument of the event (stored as ISO text)."""
        value = self.event.payload.get(key)
        return None if value is None else dt.date.fromisoformat(str(value))


Rule = Callable[[Context], None]
"""A guard: raises :class:`~rectflow.RuleViolation` (via ``ctx.fail``) or returns None."""


# ---------------------------------------------------------------- the rules


def _note_required(ctx: Context) -> None:
    if not (ctx.event.note or "").strip():
        raise ctx.fail("note_required")


def _evidence_required(ctx: Context) -> None:
    if not [e for e in ctx.event.evidence if str(e).strip()]:
        raise ctx.fail("evidence_required")


def _reason_required(ctx: Context) -> None:
    if not str(ctx.event.payload.get("reason") or "").strip():
        raise ctx.fail("reason_required")


def _checkpoint(ctx: Context) -> None:
    checkpoint = ctx.payload_date("next_checkpoint")
    if checkpoint is None:
        raise ctx.fail("checkpoint_required")
    if checkpoint <= ctx.day:
        raise ctx.fail("checkpoint_after_event", checkpoint=checkpoint, day=ctx.day)
    limit = ctx.policy.checkpoint_interval.after(ctx.day, ctx.calendar)
    if checkpoint > limit:
        raise ctx.fail(
            "checkpoint_within_interval",
            checkpoint=checkpoint,
            period=ctx.period(ctx.policy.checkpoint_interval),
            limit=limit,
        )


def _measures_done(ctx: Context) -> None:
    pending = [m.id for m in ctx.finding.measures if not m.is_done or missed_periods(m, ctx.day)]
    if pending:
        raise ctx.fail("measures_done", pending=", ".join(pending))


def same_person(a: str | None, b: str | None) -> bool:
    """Whether two names denote the same person (NFKC, case and spacing folded).

    Separation-of-duty rules compare names this way, so "王老师 " or a
    full-width variant cannot pass for someone else.
    """
    if a is None or b is None:
        return False
    return normalize_name(a).casefold() == normalize_name(b).casefold()


@functools.lru_cache(maxsize=4096)
def normalize_name(name: str) -> str:
    """*name* in NFKC with surrounding space removed and inner runs collapsed.

    Cached: the same few names come back on every event, and the cache hands
    out one string object per name, which the records then share.
    """
    return " ".join(unicodedata.normalize("NFKC", name).split())


def _signer(ctx: Context) -> None:
    if same_person(ctx.event.actor, ctx.finding.submitter):
        raise ctx.fail("signer_not_submitter")
    if same_person(ctx.event.actor, ctx.finding.owner.person):
        raise ctx.fail("signer_not_responsible")


def _rejecter(ctx: Context) -> None:
    if same_person(ctx.event.actor, ctx.finding.submitter):
        raise ctx.fail("rejecter_not_submitter")


def _look_back(ctx: Context) -> None:
    completed = ctx.finding.completed_at
    assert completed is not None  # completed state always has it  # noqa: S101
    earliest = ctx.policy.look_back_wait.after(
        local_date(completed, ctx.policy.timezone), ctx.calendar
    )
    if ctx.day < earliest:
        raise ctx.fail(
            "look_back_wait", period=ctx.period(ctx.policy.look_back_wait), earliest=earliest
        )
    if same_person(ctx.event.actor, ctx.finding.submitter):
        raise ctx.fail("rechecker_not_submitter")


def _new_deadline(ctx: Context) -> None:
    deadline = ctx.payload_date("deadline")
    if deadline is None:
        raise ctx.fail("deadline_required")
    if deadline <= ctx.day:
        raise ctx.fail("deadline_after_event", deadline=deadline, day=ctx.day)


def _extension(ctx: Context) -> None:
    finding, payload = ctx.finding, ctx.event.payload
    requester = str(payload.get("requested_by") or "").strip()
    if not requester:
        raise ctx.fail("requester_required")
    if not str(payload.get("reason") or "").strip():
        raise ctx.fail("reason_required")
    until = ctx.payload_date("until")
    if until is None:
        raise ctx.fail("deadline_required")
    if ctx.day > ctx.calendar.next_workday(finding.deadline):  # art. 203
        raise ctx.fail("extension_filed_in_time", day=ctx.day, deadline=finding.deadline)
    if same_person(ctx.event.actor, requester):
        raise ctx.fail("approver_not_requester")
    if finding.extensions >= ctx.policy.max_extensions:
        raise ctx.fail("max_extensions", count=finding.extensions, limit=ctx.policy.max_extensions)
    if until <= finding.deadline:
        raise ctx.fail("new_deadline_later", until=until, deadline=finding.deadline)


def _seed(ctx: Context) -> None:
    if ctx.event.payload.get("seed") in (None, ""):
        raise ctx.fail("seed_required")


def _canceller(ctx: Context) -> None:
    if same_person(ctx.event.actor, ctx.finding.owner.person):
        raise ctx.fail("canceller_not_responsible")


def _attested(ctx: Context) -> None:
    """An ``attest`` is an import's: it says so and names the sheet it came from."""
    payload = ctx.event.payload
    if payload.get("provenance") != "attested_by_import" or not str(payload.get("source") or ""):
        raise ctx.fail("attest_import_only")


def _measure(ctx: Context) -> None:
    measure_id = str(ctx.event.payload.get("measure") or "")
    measure = ctx.finding.measure(measure_id)
    if measure is None:
        raise ctx.fail("measure_unknown", measure=measure_id)
    if measure.kind in ("one_off", "institutional"):
        if ctx.finding.state not in ("in_progress", "staged_result"):
            raise ctx.fail("measure_closed")
        if measure.done_at is not None:
            raise ctx.fail("measure_already_done", measure=measure_id)
    elif measure.kind == "long_term" and ctx.finding.state not in ("in_progress", "staged_result"):
        raise ctx.fail("measure_closed")


def amend_value(finding: Finding, field: str) -> Any:
    """The current value of an :data:`AMEND_FIELDS` field, as an ``amend`` records it."""
    if field in ("leader", "department", "person"):
        return getattr(finding.owner, field)
    if field == "deadline":
        return finding.deadline.isoformat()
    if field == "measures":
        return [m.text for m in finding.measures]
    if field == "extra":
        return dict(finding.extra)
    return getattr(finding, field)


def _valid_new(field: str, value: object) -> bool:
    """Whether *value* can be the new value of *field*."""
    if field == "measures":
        return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
    if field == "extra":
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()
            for k, v in value.items()
        )
    if not isinstance(value, str):
        return False
    if field in ("title", "department"):
        return bool(value.strip())
    if field == "kind":
        return value in FINDING_KINDS
    if field == "deadline":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
    return True


def _amendment(ctx: Context) -> None:
    changes = ctx.event.payload.get("changes")
    if not isinstance(changes, Mapping) or not changes:
        raise ctx.fail("amend_empty")
    for field, change in changes.items():
        if field not in AMEND_FIELDS:
            raise ctx.fail("amend_field", field=field, known=", ".join(AMEND_FIELDS))
        if not isinstance(change, Mapping) or set(change) != {"old", "new"}:
            raise ctx.fail("amend_shape", field=field)
        old, new = (list(v) if isinstance(v, tuple) else v for v in (change["old"], change["new"]))
        current = amend_value(ctx.finding, field)
        if old != current:
            raise ctx.fail("amend_stale", field=field, old=old, current=current)
        if new == old:
            raise ctx.fail("amend_unchanged", field=field)
        if not _valid_new(field, new):
            raise ctx.fail("amend_value", field=field, value=new)


RULES: Final[Mapping[str, tuple[Rule, ...]]] = {
    "start": (),
    "stage": (_note_required, _evidence_required, _checkpoint),
    "submit": (_evidence_required, _measures_done),
    "sign_off": (_signer,),
    "reject": (_note_required, _rejecter),
    "recheck": (_evidence_required, _look_back),
    "rebound": (_evidence_required, _new_deadline),
    "extend": (_extension,),
    "spot_check": (_seed,),
    "cancel": (_reason_required, _canceller),
    "record_measure": (_measure,),
    "amend": (_amendment,),
    "attest": (_attested, _measures_done, _signer),
}
"""The guards of each event, in the order they are checked."""


# ---------------------------------------------------------------- effects


def _amended(finding: Finding, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The record's fields after an ``amend`` (its rule has checked *changes*)."""
    out: dict[str, Any] = {}
    owner = finding.owner
    for field, change in changes.items():
        new = change["new"]
        if field in ("leader", "department", "person"):
            owner = attrs.evolve(owner, **{field: new})
            out["owner"] = owner
        elif field == "deadline":
            out["deadline"] = dt.date.fromisoformat(new)
        elif field == "measures":
            out["measures"] = _amended_measures(finding, list(new))
        elif field == "extra":
            out["extra"] = {str(k): str(v) for k, v in new.items()}
        else:
            out[field] = new
    return out


def _amended_measures(finding: Finding, texts: list[str]) -> tuple[Measure, ...]:
    """The measures after their texts changed: the n-th keeps its id and progress.

    Measures beyond the old count are new one-off measures, numbered after the
    highest ``<finding>-<n>`` id in use; measures beyond the new count are dropped.
    """
    kept = [attrs.evolve(m, text=t) for m, t in zip(finding.measures, texts, strict=False)]
    used = {m.id for m in finding.measures}
    n = len(finding.measures)
    for text in texts[len(kept) :]:
        n += 1
        while f"{finding.id}-{n}" in used:
            n += 1
        kept.append(Measure(f"{finding.id}-{n}", text, kind="one_off"))
    return tuple(kept)


def _effect(finding: Finding, event: Event, dest: str, tz: str) -> Finding:
    changes: dict[str, Any] = {
        "state": dest,
        "version": finding.version + 1,
        "updated_at": event.at,
    }
    name, payload = event.name, event.payload
    if name == "stage":
        changes["next_checkpoint"] = dt.date.fromisoformat(str(payload["next_checkpoint"]))
    elif name == "submit":
        changes.update(submitter=event.actor, submitted_at=event.at)
    elif name in ("sign_off", "attest"):
        changes.update(
            completed_at=event.at,
            signed_off_by=event.actor,
            next_checkpoint=None,
            first_completed_at=finding.first_completed_at or event.at,
        )
    elif name == "reject":
        changes.update(submitter=None, submitted_at=None)
    elif name == "recheck":
        changes["rechecked_at"] = event.at
    elif name == "rebound":
        changes.update(
            rework=finding.rework + 1,
            deadline=dt.date.fromisoformat(str(payload["deadline"])),
            submitter=None,
            submitted_at=None,
            completed_at=None,
            signed_off_by=None,
            rechecked_at=None,
        )
    elif name == "extend":
        changes.update(
            deadline=dt.date.fromisoformat(str(payload["until"])),
            extensions=finding.extensions + 1,
        )
    elif name == "spot_check":
        changes["spot_checks"] = finding.spot_checks + 1
    elif name == "record_measure":
        day = local_date(event.at, tz)
        measures = []
        for m in finding.measures:
            if m.id == payload["measure"]:
                if m.kind in ("one_off", "institutional"):
                    m = attrs.evolve(m, done_at=day)  # noqa: PLW2901
                elif m.established is None:
                    m = attrs.evolve(m, established=day)  # noqa: PLW2901
                else:
                    m = attrs.evolve(m, occurrences=(*m.occurrences, day))  # noqa: PLW2901
            measures.append(m)
        changes["measures"] = tuple(measures)
    elif name == "amend":
        changes.update(_amended(finding, payload["changes"]))
    return evolve_finding(finding, changes)


class _Cursor:
    """The model the shared machine moves: only a state, thrown away after the event."""

    __slots__ = ("ctx", "state")

    def __init__(self, state: str, ctx: Context) -> None:
        self.state = state
        self.ctx = ctx


class Workflow:
    """The finding workflow: one shared ``transitions`` machine for every finding.

    The machine is built once with ``auto_transitions=False`` and never holds
    findings: :meth:`apply` drives it with a throwaway cursor, so the state of
    a record changes only when the caller stores the returned finding.

    Apps can use a workflow without a :class:`~rectflow.Ledger`: make
    :class:`~rectflow.Finding` records with :meth:`create` (from an ``add``
    event), move them with :meth:`apply`, rebuild them with :meth:`replay`,
    and store the results their own way. :meth:`allowed` and
    :meth:`destination` answer what an app's own record (any object with a
    ``state``) may do next.

    Attributes:
        policy: The policy the rules use.
        calendar: The policy's working-day calendar.
        machine: The shared ``transitions.Machine``.
        rules: The guards of each event.
        lang: Language of error messages.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        calendar: Any = None,
        rules: Mapping[str, Iterable[Rule]] | None = None,
        lang: str = "zh",
    ) -> None:
        """Build the shared machine.

        Args:
            policy: The policy (default: :class:`Policy` defaults).
            calendar: A working-day calendar; default: the policy's.
            rules: Extra guards per event, checked after the built-in ones.
            lang: ``"zh"`` or ``"en"`` for error messages.
        """
        self.policy = policy or Policy()
        self.calendar = calendar if calendar is not None else self.policy.work_calendar()
        self.lang = lang
        merged = {name: list(rs) for name, rs in RULES.items()}
        for name, extra in (rules or {}).items():
            if name not in merged:
                raise InvalidInput(msg("unknown_event", lang, value=name, known=", ".join(EVENTS)))
            merged[name].extend(extra)
        self.rules: Mapping[str, tuple[Rule, ...]] = {k: tuple(v) for k, v in merged.items()}
        self.machine = Machine(
            model=None,
            states=list(STATES),
            initial="assigned",
            transitions=[dict(t, conditions=[self._guard]) for t in TRANSITIONS],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        self._dest: dict[tuple[str, str], str] = {}
        for t in TRANSITIONS:
            sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
            for source in sources:
                self._dest[source, t["trigger"]] = source if t["dest"] == "=" else t["dest"]
        self._allowed: dict[str, tuple[str, ...]] = {  # what a person may fire
            state: tuple(e for (s, e) in self._dest if s == state and e not in IMPORT_ONLY)
            for state in STATES
        }

    # -- introspection

    def allowed(self, state: str) -> tuple[str, ...]:
        """The events allowed in *state*."""
        if state not in self._allowed:
            raise InvalidInput(
                msg("unknown_state", self.lang, value=state, known=", ".join(STATES)),
                field="state",
                value=state,
            )
        return self._allowed[state]

    def mermaid(self) -> str:
        """A mermaid ``stateDiagram-v2`` of the machine's states and edges."""
        lines = ["stateDiagram-v2", "    [*] --> assigned"]
        for name, event in self.machine.events.items():
            for source, transitions in event.transitions.items():
                for t in transitions:
                    dest = t.dest if t.dest is not None else source
                    lines.append(f"    {source} --> {dest}: {name}")
        lines.append("    cancelled --> [*]")
        return "\n".join(lines) + "\n"

    def destination(self, state: str, event: str) -> str | None:
        """Where *event* leads from *state*, or None if it is not allowed."""
        self.allowed(state)  # an unknown state is InvalidInput
        return self._dest.get((state, event))

    # -- the engine

    def _guard(self, event_data: Any) -> bool:
        ctx: Context = event_data.model.ctx
        for rule in self.rules[ctx.event.name]:
            rule(ctx)
        return True

    def check_event(self, event: Event, *, lang: str | None = None) -> None:
        """Validate an event's shape: known name, actor, aware time, arguments.

        Args:
            event: The event.
            lang: The language of the error (default: the workflow's).

        Raises:
            InvalidInput: For anything malformed.
        """
        lang = lang or self.lang
        if event.name not in PAYLOAD_KEYS:
            raise InvalidInput(
                msg("unknown_event", lang, value=event.name, known=", ".join(EVENTS)),
                field="event",
                value=event.name,
            )
        if not isinstance(event.actor, str) or not event.actor.strip():
            raise InvalidInput(msg("empty", lang, field="actor"), field="actor")
        if not isinstance(event.at, dt.datetime) or event.at.utcoffset() is None:
            parse_time(event.at, "at", lang)  # says what is wrong: no offset, or not a time
        extra = set(event.payload) - PAYLOAD_KEYS[event.name]
        if extra:
            raise InvalidInput(
                msg("unexpected_args", lang, event=event.name, names=", ".join(sorted(extra))),
                field=min(extra),
            )

    def apply(
        self,
        finding: Finding,
        event: Event,
        *,
        now: dt.datetime | None = None,
        lang: str | None = None,
    ) -> Finding:
        """The finding after *event*, or an error; *finding* itself is unchanged.

        Args:
            finding: The finding before the event.
            event: The event (its ``version`` is ignored and set on the result).
                Its ``at`` may be ISO-8601 text with an offset, its days
                (``next_checkpoint``, ``deadline``, ``until``) ``date`` objects:
                they are read as :meth:`rectflow.Ledger.fire` reads them.
            now: The clock's time; an event later than it is refused. None when
                replaying history.
            lang: The language of the error (default: the workflow's).

        Raises:
            InvalidInput: The event is malformed.
            TransitionNotAllowed: The event is not allowed in the finding's state.
            RuleViolation: A guard failed; ``.rule`` names it.
        """
        lang = lang or self.lang
        event = event_in(event, lang)
        self.check_event(event, lang=lang)
        state = finding.state
        allowed = self.allowed(state)
        if (state, event.name) not in self._dest:
            labels = STATE_LABELS[state]
            raise TransitionNotAllowed(
                finding.id,
                event.name,
                state,
                allowed,
                msg(
                    "not_allowed",
                    lang,
                    finding=finding.id,
                    state=state,
                    state_label=labels[0],
                    event=event.name,
                    event_label=EVENT_LABELS[event.name][0],
                    allowed=(
                        ", ".join(allowed)
                        if lang == "en"
                        else "、".join(f"{EVENT_LABELS[e][0]}({e})" for e in allowed)
                    )
                    or "-",
                ),
            )
        ctx = Context(finding, event, self.policy, self.calendar, now, lang)
        self._check_time(ctx)
        cursor = _Cursor(state, ctx)
        self.machine.events[event.name].trigger(cursor)
        return _effect(finding, event, cursor.state, self.policy.timezone)

    def _check_time(self, ctx: Context) -> None:
        at = ctx.event.at
        previous = ctx.finding.updated_at or ctx.finding.created_at
        if previous is not None and at < previous:
            raise ctx.fail("time_order", at=at, previous=previous)
        if ctx.now is not None and at > ctx.now:
            raise ctx.fail("not_in_future", at=at, now=ctx.now)

    def create(self, event: Event, *, lang: str | None = None) -> Finding:
        """The finding an ``add`` event creates (version 1, state ``assigned``).

        Args:
            event: The ``add`` event. Its payload takes what
                :meth:`rectflow.Ledger.add_finding` takes: ``owner`` an
                :class:`~rectflow.Owner` (or its fields), ``deadline`` a day or a
                period (``"2 months"``: counted from the event's day, as the
                workflow knows no inspection), ``measures`` :class:`~rectflow.Measure`
                records (or their fields); ``at`` may be ISO-8601 text with an offset.
            lang: The language of the error (default: the workflow's).

        Raises:
            InvalidInput: When the event's definition is malformed.
        """
        lang = lang or self.lang
        if event.name != "add":
            raise InvalidInput(msg("unknown_event", lang, value=event.name, known="add"))
        if not isinstance(event.actor, str) or not event.actor.strip():
            raise InvalidInput(msg("empty", lang, field="actor"), field="actor")
        if not isinstance(event.at, dt.datetime) or event.at.utcoffset() is None:
            event = attrs.evolve(event, at=parse_time(event.at, "at", lang))
        p = _codec.plain(event.payload)
        try:
            measures = tuple(
                m if isinstance(m, Measure) else _codec.measure_from(m)
                for m in p.get("measures", ())
            )
            validate_definition(kind=p["kind"], measures=measures, lang=lang)
            spec = p["deadline"]
            deadline = (
                dt.date.fromisoformat(spec)
                if type(spec) is str and _DATE_TEXT.fullmatch(spec)
                else deadline_of(
                    spec, local_date(event.at, self.policy.timezone), self.calendar, lang
                )
            )
            owner = event.payload["owner"]  # as given (plain() copied it)
            return Finding(
                id=event.finding_id,
                inspection=str(p["inspection"]),
                aspect=str(p.get("aspect", "")),
                category=str(p.get("category", "")),
                title=str(p["title"]),
                kind=p["kind"],
                owner=owner_of(owner, lang)
                if isinstance(owner, Owner)
                else _codec.owner_from(owner),
                deadline=deadline,
                original_deadline=deadline,
                measures=measures,
                itemized=bool(p.get("itemized", True)),
                remarks=str(p.get("remarks", "")),
                extra={str(k): str(v) for k, v in (p.get("extra") or {}).items()},
                state="assigned",
                version=1,
                created_at=event.at,
                updated_at=event.at,
            )
        except InvalidInput:
            raise
        except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as exc:
            raise InvalidInput(
                msg("bad_value", lang, field="payload", value=exc), field="payload"
            ) from exc

    def replay(self, events: Iterable[Event], *, check: bool = True) -> Finding | None:
        """Rebuild a finding from its history.

        Args:
            events: The finding's events, oldest first (``add`` first).
            check: Check every rule again (what :meth:`rectflow.Ledger.verify` does).
                With False only the edges are followed: history that was valid when
                written is replayed even if the policy has changed since (what
                reports "as of" a past day do).

        Returns:
            The finding after the last event, or None for an empty history.

        Raises:
            TransitionNotAllowed: An event is not allowed in the state reached.
            RuleViolation: With *check*, an event breaks a rule.
        """
        finding: Finding | None = None
        for event in events:
            if finding is None:
                finding = self.create(event)
            elif check:
                finding = self.apply(finding, event)
            else:
                dest = self.destination(finding.state, event.name)
                if dest is None:
                    raise TransitionNotAllowed(
                        finding.id, event.name, finding.state, self.allowed(finding.state)
                    )
                finding = _effect(finding, event, dest, self.policy.timezone)
        return finding


def validate_definition(
    *,
    kind: str,
    measures: Iterable[Measure],
    lang: str = "zh",
) -> None:
    """Check a finding's kind and measures before it is added.

    Raises:
        InvalidInput: For an unknown kind, cadence or duplicate measure id.
    """
    if kind not in FINDING_KINDS:
        raise InvalidInput(
            msg("unknown_kind", lang, field="kind", value=kind, known=", ".join(FINDING_KINDS)),
            field="kind",
            value=kind,
        )
    seen: set[str] = set()
    for m in measures:
        if not isinstance(m, Measure):
            raise InvalidInput(msg("bad_value", lang, field="measures", value=m), field="measures")
        if m.kind not in MEASURE_KINDS:
            raise InvalidInput(
                msg(
                    "unknown_kind",
                    lang,
                    field="measure.kind",
                    value=m.kind,
                    known=", ".join(MEASURE_KINDS),
                ),
                field="measures",
                value=m.kind,
            )
        if m.kind == "recurring" and m.cadence not in CADENCES:
            raise InvalidInput(
                msg(
                    "unknown_kind",
                    lang,
                    field="measure.cadence",
                    value=m.cadence,
                    known=", ".join(CADENCES),
                ),
                field="measures",
                value=m.cadence,
            )
        if m.id in seen or not m.id:
            raise InvalidInput(msg("duplicate_measure", lang, value=m.id), field="measures")
        if m.done_at is not None or m.established is not None or m.occurrences:
            raise InvalidInput(msg("measure_progress", lang, value=m.id), field="measures")
        seen.add(m.id)


def state_label(name: str, lang: str = "zh") -> str:
    """The state's name in *lang*."""
    zh, en = STATE_LABELS.get(name, (name, name))
    return en if lang == "en" else zh
