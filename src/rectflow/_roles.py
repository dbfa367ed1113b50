"""Who may do what: actors, role grants, and the ledger-level events (issue 8).

Ledger-level events (an inspection added or changed, a report submitted, an
actor added, a role revoked) are :class:`~rectflow.Event` records on the same
hash chain as the findings' events. Their ``finding_id`` is :data:`LEDGER`
(the empty string, which no finding can have) and their ``version`` counts the
ledger's own events from 1, so the canonical form hashed for findings' events
is unchanged.

:class:`LedgerState` is what those events add up to, replayed in chain order:
the inspections, the actors, every role grant with its revocation, and whether
the ledger is in roles mode (from its first ``add_actor`` on, for good). Its
:meth:`~LedgerState.check` is the role policy applied to one event, given the
state *at that point of the chain*: a role granted later never legitimises an
earlier event. Pure: no store, no clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from typing import TYPE_CHECKING, Any, Final

import attrs

from rectflow._i18n import msg
from rectflow._model import Event, Finding, Inspection
from rectflow._policy import ROLES, policy_digest
from rectflow._spec import registered_rule
from rectflow._time import local_date
from rectflow._workflow import normalize_name, same_person
from rectflow.exceptions import InvalidInput, PermissionDenied, PolicyError, RuleViolation

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from rectflow._policy import Policy
    from rectflow._spec import WorkflowSpec

LEDGER: Final = ""
"""The ``finding_id`` of ledger-level events (no finding can have an empty id)."""

LEDGER_EVENTS: Final = (
    "add_inspection",
    "change_inspection",
    "submit_report",
    "add_actor",
    "revoke_role",
    "change_workflow",
)
"""The ledger-level events, chained like the findings' ones."""


ROLES_OF_UNLISTED: Final = {"amend": "add", "change_workflow": "add_inspection"}
"""An event a policy's role table does not list takes the roles of this one: those who
may put a finding on the ledger may correct its text (a policy can list ``amend``), and
those who may add inspections may record a new workflow definition (``change_workflow``)."""


_PAYLOAD_KEYS: Final[dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    # event: (required keys, optional keys); "policy" is the digest of the ledger's rules
    "add_inspection": (
        frozenset({"inspection", "title", "feedback_at", "declared_findings"}),
        frozenset({"policy", "unit"}),
    ),
    "change_inspection": (
        frozenset({"inspection", "reason"}),
        frozenset({"declared_findings", "feedback_at", "policy", "unit"}),
    ),
    "submit_report": (frozenset({"inspection"}), frozenset({"policy"})),
    "add_actor": (frozenset({"name", "roles", "inspection"}), frozenset({"roles_mode", "policy"})),
    "revoke_role": (frozenset({"name", "role", "inspection"}), frozenset({"policy"})),
    # "first": recorded by the first write with the definition the ledger was opened with
    "change_workflow": (
        frozenset({"workflow", "digest", "rules", "effects", "states", "events"}),
        frozenset({"policy", "first"}),
    ),
}
"""The payload each ledger-level event carries: nothing missing, nothing else."""


def _short(data: object) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def workflow_payload(spec: WorkflowSpec) -> dict[str, Any]:
    """The payload of the ``change_workflow`` event recording *spec* (issue 15).

    Its name, digest, the ``name@version`` of its rules and effects, and a short
    hash of each state and event (so a later mismatch can say which changed).
    """
    data = spec.to_mapping()
    return {
        "workflow": spec.name,
        "digest": spec.digest,
        "rules": list(data["rules"]),
        "effects": list(data["effects"]),
        "states": {name: _short(value) for name, value in data["states"].items()},
        "events": {name: _short(value) for name, value in data["events"].items()},
    }


def workflow_differences(recorded: Mapping[str, Any], spec: WorkflowSpec) -> list[str]:
    """What differs between a recorded definition (its payload) and *spec*, one line each."""
    given = workflow_payload(spec)
    lines: list[str] = []
    for kind in ("states", "events"):
        old, new = dict(recorded.get(kind) or {}), given[kind]
        lines += [f"{kind[:-1]} {n}: -" for n in old if n not in new]
        lines += [f"{kind[:-1]} {n}: +" for n in new if n not in old]
        lines += [f"{kind[:-1]} {n}: ~" for n in old if n in new and old[n] != new[n]]
    for kind in ("rules", "effects"):
        old_refs, new_refs = list(recorded.get(kind) or ()), given[kind]
        lines += [f"{kind[:-1]} {r}: -" for r in old_refs if r not in new_refs]
        lines += [f"{kind[:-1]} {r}: +" for r in new_refs if r not in old_refs]
    return lines


def missing_rules(refs: Iterable[str]) -> tuple[str, ...]:
    """The rules (``name@version``) of a recorded definition not registered in this process."""
    return tuple(r for r in refs if registered_rule(r) is None)


def _fold(name: str) -> str:
    return normalize_name(name).casefold()


@attrs.frozen
class Actor:
    """A registered actor (a person or body that fires events).

    Attributes:
        name: The name events carry as ``actor``.
        added_at: When they were first registered.
        added_by: Who registered them.
    """

    name: str
    added_at: dt.datetime
    added_by: str


@attrs.frozen
class Grant:
    """A role held by an actor, from its grant until its revocation.

    Attributes:
        actor: Who holds it.
        role: ``inspector``, ``leader``, ``owner`` or ``checker``.
        inspection: The inspection it applies to (None: every inspection).
        granted_at: When it was granted; events before this time are not covered.
        granted_by: Who granted it.
        granted_in: The ledger version of the ``add_actor`` event that granted it.
        revoked_at: When it was revoked, or None.
        revoked_by: Who revoked it.
        revoked_in: The ledger version of the ``revoke_role`` event, or None.
    """

    actor: str
    role: str
    inspection: str | None
    granted_at: dt.datetime
    granted_by: str
    granted_in: int
    revoked_at: dt.datetime | None = None
    revoked_by: str | None = None
    revoked_in: int | None = None

    @property
    def key(self) -> str:
        """A stable id for the grant's row: ``"<granted_in>:<role>"``."""
        return f"{self.granted_in}:{self.role}"

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_in is None

    def covers(self, inspection: str | None) -> bool:
        """Whether it applies to *inspection* (a ledger-wide grant applies to all)."""
        return self.inspection is None or self.inspection == inspection


def inspection_payload(inspection: Inspection) -> dict[str, Any]:
    """The payload of the ``add_inspection`` event recording *inspection*."""
    return {
        "inspection": inspection.id,
        "title": inspection.title,
        "feedback_at": inspection.feedback_at.isoformat(),
        "declared_findings": inspection.declared_findings,
        # only when recorded: the payload (and hash) of an inspection without one is unchanged
        **({} if inspection.unit is None else {"unit": inspection.unit}),
    }


def event_inspection(event: Event, before: Finding | None) -> str | None:
    """The inspection an event concerns (None: the ledger as a whole)."""
    if before is not None:
        return before.inspection
    value = event.payload.get("inspection")
    return None if value is None else str(value)


ROLE_OF: Final = {"attest": "sign_off"}
"""Events that need another event's roles: an import attesting a completion signs it off."""


@functools.lru_cache(maxsize=64)
def _table(pairs: Any) -> dict[str, Any]:
    """A policy's role table (pairs) as a dict, made once per table (checked on every write)."""
    return dict(pairs)


@functools.lru_cache(maxsize=16)
def _spec_tables(spec: WorkflowSpec) -> dict[str, dict[str, tuple[str, ...]]]:
    return {
        "roles": {e.name: tuple(sorted(e.roles)) for e in spec.events},
        "separation": {e.name: tuple(sorted(e.separation)) for e in spec.events},
    }


def _spec_table(spec: WorkflowSpec | None, kind: str) -> dict[str, tuple[str, ...]]:
    """A definition's roles or separation per event (none without a definition)."""
    return {} if spec is None else _spec_tables(spec)[kind]


def relation_of(event: Event, before: Finding, relation: str) -> bool:
    """Whether the event's actor stands in *relation* to the finding *before*."""
    if relation == "submitter":
        return same_person(event.actor, before.submitter)
    if relation == "responsible":
        return same_person(event.actor, before.owner.person)
    requester = event.payload.get("requested_by")
    return same_person(event.actor, None if requester is None else str(requester))


def _date_of(state: LedgerState, event: Event, value: object, lang: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise state._bad(event, "feedback_at", value, lang) from None  # noqa: SLF001


def _check_count(state: LedgerState, event: Event, value: object, lang: str) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise state._bad(event, "declared_findings", value, lang)  # noqa: SLF001


def p_first(event: Event) -> bool:
    """A ``change_workflow`` recorded by a first write (the definition opened with): no role."""
    return event.payload.get("first") is True


class LedgerState:
    """What the ledger-level events add up to, as of a point of the chain.

    Attributes:
        version: How many ledger-level events were applied.
        last_at: The time of the last one (they are in time order).
        inspections: The inspections by id, in the order they were added.
        actors: The registered actors, by folded name.
        grants: Every role grant, revoked ones included, in grant order.
        workflow: The payload of the last ``change_workflow`` event (None: the ledger
            records no definition, it runs the built-in one).
    """

    def __init__(self) -> None:
        """Start empty: no inspections, no actors, not in roles mode."""
        self.version = 0
        self.last_at: dt.datetime | None = None
        self.inspections: dict[str, Inspection] = {}
        self.actors: dict[str, Actor] = {}
        self.grants: list[Grant] = []
        self.workflow: dict[str, Any] | None = None

    @classmethod
    def replay(cls, events: Iterable[Event]) -> LedgerState:
        """The state after *events* (ledger-level events, oldest first), unchecked."""
        state = cls()
        for event in events:
            state.apply(event)
        return state

    @property
    def roles_mode(self) -> bool:
        """Whether an actor was ever registered: then every event needs a role, for good."""
        return bool(self.actors)

    @property
    def workflow_digest(self) -> str | None:
        """The digest of the definition the ledger records (None: none recorded)."""
        return None if self.workflow is None else str(self.workflow["digest"])

    @property
    def workflow_rules(self) -> tuple[str, ...]:
        """The ``name@version`` of the rules the recorded definition names."""
        return () if self.workflow is None else tuple(map(str, self.workflow["rules"]))

    def actor(self, name: str) -> Actor | None:
        """The registered actor with this name (compared as separation of duties does)."""
        return self.actors.get(_fold(name))

    def grants_of(self, name: str) -> list[Grant]:
        """Every grant of *name*, revoked ones included."""
        key = _fold(name)
        return [g for g in self.grants if _fold(g.actor) == key]

    # -- applying

    def apply(self, event: Event) -> None:
        """Apply one ledger-level event (already checked) and count it."""
        p = event.payload
        name = event.name
        if name == "add_inspection":
            inspection = Inspection(
                str(p["inspection"]),
                str(p["title"]),
                dt.date.fromisoformat(str(p["feedback_at"])),
                None if p.get("declared_findings") is None else int(p["declared_findings"]),
                event.at,
                unit=None if p.get("unit") is None else str(p["unit"]),
            )
            self.inspections[inspection.id] = inspection
        elif name == "change_inspection":
            current = self.inspections[str(p["inspection"])]
            changes: dict[str, Any] = {}
            if "declared_findings" in p:
                value = p["declared_findings"]
                changes["declared_findings"] = None if value is None else int(value)
            if "feedback_at" in p:
                changes["feedback_at"] = dt.date.fromisoformat(str(p["feedback_at"]))
            if "unit" in p:
                changes["unit"] = str(p["unit"])
            self.inspections[current.id] = attrs.evolve(current, **changes)
        elif name == "submit_report":
            current = self.inspections[str(p["inspection"])]
            if current.report_submitted_at is None:
                self.inspections[current.id] = attrs.evolve(current, report_submitted_at=event.at)
        elif name == "add_actor":
            actor = str(p["name"])
            if _fold(actor) not in self.actors:
                self.actors[_fold(actor)] = Actor(actor, event.at, event.actor)
            scope = None if p.get("inspection") is None else str(p["inspection"])
            self.grants.extend(
                Grant(actor, str(role), scope, event.at, event.actor, event.version)
                for role in p.get("roles", ())
            )
        elif name == "change_workflow":
            self.workflow = dict(p)
        elif name == "revoke_role":
            self.grants = [
                attrs.evolve(
                    g, revoked_at=event.at, revoked_by=event.actor, revoked_in=event.version
                )
                if self._matches(g, p)
                else g
                for g in self.grants
            ]
        self.version = event.version
        self.last_at = event.at

    @staticmethod
    def _matches(grant: Grant, payload: Any) -> bool:
        scope = payload.get("inspection")
        return (
            grant.active
            and same_person(grant.actor, str(payload["name"]))
            and grant.role == payload["role"]
            and grant.inspection == (None if scope is None else str(scope))
        )

    # -- checking

    def check(
        self,
        event: Event,
        before: Finding | None,
        policy: Policy,
        lang: str,
        spec: WorkflowSpec | None = None,
    ) -> None:
        """Refuse *event* unless the role policy allows it at this point.

        Separation of duties always; roles once the ledger is in roles mode. An
        event the policy's tables do not name takes its roles and separation from
        the workflow definition *spec* (issue 15).

        Raises:
            PermissionDenied: The actor lacks the role, is not registered, or is tied
                to the finding in a way the policy bars.
            InvalidInput: A malformed ``add_actor`` or ``revoke_role``.
        """
        if before is not None:
            self.check_separation(event, before, policy, lang, spec)
        if event.finding_id == LEDGER:
            self.validate(event, policy, lang)
            self._check_ledger_event(event, lang)
        first = event.name == "change_workflow" and self.workflow is None and p_first(event)
        if self.roles_mode and not first:  # else anyone may: no need to find its inspection
            self.check_role(event, event_inspection(event, before), policy, lang, spec)

    def check_separation(
        self,
        event: Event,
        before: Finding,
        policy: Policy,
        lang: str,
        spec: WorkflowSpec | None = None,
    ) -> None:
        """Refuse an actor the policy's ``separation`` table bars from *event* on *before*.

        An event the policy's table does not name: the definition's ``separation``.
        """
        table = _table(policy.separation)
        name = ROLE_OF.get(event.name, event.name)
        relations = table[name] if name in table else _spec_table(spec, "separation").get(name, ())
        for relation in relations:
            if relation_of(event, before, relation):
                raise PermissionDenied(
                    msg(
                        "denied.relation",
                        lang,
                        actor=event.actor,
                        subject=before.id,
                        relation=msg(f"relation.{relation}", lang),
                        event=event.name,
                    ),
                    actor=event.actor,
                    event=event.name,
                    needed=(),
                    inspection=before.inspection,
                    subject=before.id,
                )

    def check_role(
        self,
        event: Event,
        inspection: str | None,
        policy: Policy,
        lang: str,
        spec: WorkflowSpec | None = None,
    ) -> None:
        """Refuse *event* in roles mode unless its actor holds a needed role at its time.

        The roles are the policy's for the event (or for the event it stands in
        for); an event the policy does not name takes the definition *spec*'s.
        """
        if not self.roles_mode:
            return  # the first add_actor switches roles mode on; before it, anyone
        roles = _table(policy.roles)
        name = ROLE_OF.get(event.name, event.name)
        stand_in = ROLES_OF_UNLISTED.get(name, "")
        if name in roles:
            needed = roles[name]
        elif stand_in in roles:
            needed = roles[stand_in]
        else:
            needed = _spec_table(spec, "roles").get(name, ())
        subject = event.finding_id or str(
            event.payload.get("name") or event.payload.get("inspection") or ""
        )
        registered = self.actor(event.actor) is not None
        held = registered and any(
            g.active and g.role in needed and g.covers(inspection) and g.granted_at <= event.at
            for g in self.grants_of(event.actor)
        )
        if not held:
            raise PermissionDenied(
                msg(
                    "denied.role" if registered else "denied.unregistered",
                    lang,
                    actor=event.actor,
                    event=event.name,
                    subject=subject,
                    needed=", ".join(needed) or "-",
                    at=event.at.isoformat(),
                    inspection=inspection or "*",
                ),
                actor=event.actor,
                event=event.name,
                needed=needed,
                inspection=inspection,
                subject=subject,
            )

    def _bad(self, event: Event, field: str, value: object, lang: str) -> InvalidInput:
        return InvalidInput(
            msg("ledger_event.bad", lang, event=event.name, field=field, value=value),
            field=field,
            value=value,
        )

    def validate(self, event: Event, policy: Policy, lang: str) -> None:
        """Refuse a ledger-level event whose payload or time does not fit this point of the chain.

        The same checks for the API's methods, a file's replayed events and
        ``verify``: exactly the event's keys, well-formed values, inspections that
        exist (or not yet, for ``add_inspection``), a report submitted no earlier
        than its inspection's feedback, a feedback day not in the future of its
        change, and the digest of the ledger's policy when the event records one.

        Raises:
            InvalidInput: A malformed payload.
            RuleViolation: A time the rules do not allow.
            PolicyError: The event was recorded under other rules than the ledger's.
        """
        if event.name not in _PAYLOAD_KEYS:
            raise self._bad(event, "name", event.name, lang)
        p = dict(event.payload)
        required, optional = _PAYLOAD_KEYS[event.name]
        missing, extra = required - set(p), set(p) - required - optional
        if missing or extra:
            raise self._bad(event, min(missing or extra), sorted(missing or extra), lang)
        if "policy" in p and p["policy"] != policy_digest(policy):
            raise PolicyError(
                msg("ledger_event.policy", lang, event=event.name, value=p["policy"]),
                field="policy",
            )
        scope = p.get("inspection")
        if event.name == "add_inspection":
            self._check_new_inspection(event, p, lang)
        elif (scope is not None or event.name in ("change_inspection", "submit_report")) and (
            not isinstance(scope, str) or scope not in self.inspections
        ):
            raise self._bad(event, "inspection", scope, lang)
        if event.name == "change_inspection":
            self._check_change(event, p, policy, lang)
        elif event.name == "submit_report":
            self._check_report(event, self.inspections[str(scope)], policy, lang)
        elif event.name == "change_workflow":
            self._check_workflow(event, p, lang)
        elif event.name in ("add_actor", "revoke_role"):
            if not isinstance(p["name"], str) or not p["name"].strip():
                raise self._bad(event, "name", p["name"], lang)
            field = "roles" if event.name == "add_actor" else "role"
            roles = p["roles"] if event.name == "add_actor" else [p["role"]]
            if (
                not isinstance(roles, (list, tuple))
                or not roles
                or not all(r in ROLES for r in roles)
            ):
                raise self._bad(event, field, roles, lang)
            if event.name == "add_actor" and p.get("roles_mode", False) is not (
                not self.roles_mode
            ):
                raise self._bad(event, "roles_mode", p.get("roles_mode"), lang)

    def _check_workflow(self, event: Event, p: dict[str, Any], lang: str) -> None:
        for key in ("workflow", "digest"):
            if not isinstance(p[key], str) or not p[key].strip():
                raise self._bad(event, key, p[key], lang)
        for key in ("rules", "effects"):
            if not isinstance(p[key], (list, tuple)) or not all(isinstance(r, str) for r in p[key]):
                raise self._bad(event, key, p[key], lang)
        for key in ("states", "events"):
            if not isinstance(p[key], dict):
                raise self._bad(event, key, p[key], lang)
        if "first" in p and (p["first"] is not True or self.workflow is not None):
            raise self._bad(event, "first", p["first"], lang)

    def _check_new_inspection(self, event: Event, p: dict[str, Any], lang: str) -> None:
        inspection_id, title, declared = p["inspection"], p["title"], p["declared_findings"]
        if not isinstance(inspection_id, str) or not inspection_id.strip():
            raise self._bad(event, "inspection", inspection_id, lang)
        if inspection_id in self.inspections:
            raise self._bad(event, "inspection", inspection_id, lang)
        if not isinstance(title, str) or not title.strip():
            raise self._bad(event, "title", title, lang)
        _date_of(self, event, p["feedback_at"], lang)
        _check_count(self, event, declared, lang)
        self._check_unit(event, p, lang)

    def _check_unit(self, event: Event, p: dict[str, Any], lang: str) -> None:
        if "unit" in p and (not isinstance(p["unit"], str) or not p["unit"].strip()):
            raise self._bad(event, "unit", p["unit"], lang)

    def _check_change(self, event: Event, p: dict[str, Any], policy: Policy, lang: str) -> None:
        if not isinstance(p["reason"], str) or not p["reason"].strip():
            raise self._bad(event, "reason", p["reason"], lang)
        if "declared_findings" not in p and "feedback_at" not in p and "unit" not in p:
            raise self._bad(event, "declared_findings", None, lang)
        self._check_unit(event, p, lang)
        if "declared_findings" in p:
            _check_count(self, event, p["declared_findings"], lang)
        if "feedback_at" in p:
            feedback = _date_of(self, event, p["feedback_at"], lang)
            day = local_date(event.at, policy.timezone)
            if feedback > day:
                raise RuleViolation(
                    "feedback_not_in_future",
                    msg("rule.feedback_not_in_future", lang, feedback=feedback, day=day),
                    event=event.name,
                )

    def _check_report(
        self, event: Event, inspection: Inspection, policy: Policy, lang: str
    ) -> None:
        if not event.evidence or not all(isinstance(e, str) and e.strip() for e in event.evidence):
            raise RuleViolation(
                "evidence_required", msg("empty", lang, field="evidence"), event=event.name
            )
        day = local_date(event.at, policy.timezone)
        recorded = inspection.created_at
        if day < inspection.feedback_at or (recorded is not None and event.at < recorded):
            raise RuleViolation(
                "report_after_feedback",
                msg(
                    "rule.report_after_feedback",
                    lang,
                    inspection=inspection.id,
                    at=event.at.isoformat(),
                    feedback=inspection.feedback_at,
                ),
                event=event.name,
            )

    def _check_ledger_event(self, event: Event, lang: str) -> None:
        p = event.payload
        scope = None if p.get("inspection") is None else str(p["inspection"])
        if event.name == "add_actor":
            for role in p.get("roles", ()):
                if role not in ROLES:
                    raise InvalidInput(
                        msg("unknown_role", lang, value=role, known=", ".join(ROLES)),
                        field="roles",
                        value=role,
                    )
                if any(
                    g.active and g.role == role and g.inspection == scope
                    for g in self.grants_of(str(p["name"]))
                ):
                    raise InvalidInput(
                        msg("role_held", lang, actor=p["name"], role=role, inspection=scope or "*"),
                        field="roles",
                        value=role,
                    )
        elif event.name == "revoke_role" and not any(self._matches(g, p) for g in self.grants):
            raise InvalidInput(
                msg(
                    "role_not_held",
                    lang,
                    actor=p["name"],
                    role=p["role"],
                    inspection=scope or "*",
                ),
                field="role",
                value=p["role"],
            )
