"""Workflow definitions as data, and the registry of rules and effects (issue 15).

A :class:`WorkflowSpec` holds one workflow: its states, its events (sources,
destination, typed payload fields, guards and effects by name, roles, labels,
aliases) and the import's wording. The default 巡察 workflow is the TOML file
``workflows/xuncha.toml`` shipped in the package; an app loads its own from a
path, or ``extends = "xuncha"`` and adds states and events, or calls
:meth:`WorkflowSpec.extend`.

Rules and effects are functions registered by name and version with
:func:`rule` and :func:`effect`; a definition names them, and fails to load
when it names one that is not registered.

Pure: no store, no ledger. The workflow (:mod:`rectflow._workflow`) builds its
machine from a definition.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import pathlib
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from typing import Any, Final, TypeVar

import attrs

from rectflow._i18n import has, msg, translate
from rectflow._model import Event, Finding
from rectflow._policy import Period, Policy
from rectflow._time import local_date
from rectflow.exceptions import RuleViolation, WorkflowError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

F = TypeVar("F", bound=Callable[..., Any])

_NAME: Final = re.compile(r"[a-z][a-z0-9_]*")
STATE_KINDS: Final = ("open", "closed", "terminal")
"""A state's kind: still being rectified, signed off, or final (nothing leaves it)."""

FIELD_TYPES: Final = (
    "text",
    "name",
    "date",
    "datetime",
    "int",
    "seed",
    "texts",
    "measure",
    "changes",
    "mapping",
    "owner",
    "measures",
    "deadline",
    "bool",
)
"""The types of an event's payload fields.

``text`` any text; ``name`` a person's name (normalised as actors are); ``date`` a
day, kept as ISO text; ``datetime`` an aware time, kept as ISO text; ``int`` a
whole number; ``seed`` a whole number or text; ``texts`` a list of texts;
``measure`` a measure's id; ``changes`` an ``amend``'s ``{field: {old, new}}``;
``mapping`` any table. ``owner``, ``measures``, ``deadline`` and ``bool`` are the
fields of the event that creates a finding.
"""


# ---------------------------------------------------------------- the registry


@attrs.frozen
class Registered:
    """A registered rule or effect.

    Attributes:
        name: The name definitions use.
        version: Its version (a changed rule gets a new one).
        function: The function.
    """

    name: str
    version: int
    function: Callable[..., Any]

    @property
    def key(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"


_RULES: dict[str, dict[int, Registered]] = {}
_EFFECTS: dict[str, dict[int, Registered]] = {}


def _register(table: dict[str, dict[int, Registered]], kind: str, name: str, version: int) -> Any:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _error("workflow.bad_name", field=kind, value=name)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _error("workflow.bad_version", field=kind, value=version, name=name)

    def decorate(function: F) -> F:
        table.setdefault(name, {})[version] = Registered(name, version, function)
        if kind == "rule":
            # a builtin or slotted callable cannot carry it: named by the registry only
            with contextlib.suppress(AttributeError):
                function.__rectflow_rule__ = name  # type: ignore[attr-defined]
        return function

    return decorate


def rule(name: str, version: int = 1) -> Callable[[F], F]:
    """Register a guard under *name* and *version*, for definitions to name.

    A rule takes a :class:`~rectflow.Context` and returns None or True (the event
    may happen), False (refused: a :class:`~rectflow.RuleViolation` whose
    ``.rule`` is *name*), or raises (``ctx.fail(...)``). Anything else it returns
    is a :class:`TypeError` naming it. Registering the same name and version
    again replaces the function; change the version when the rule's meaning
    changes, so a definition's :attr:`~WorkflowSpec.digest` changes with it.

    Example::

        @rectflow.rule("two_evidence_files")
        def two_evidence_files(ctx):
            return ctx.submission is not None and len(ctx.submission.evidence) >= 2
    """
    return _register(_RULES, "rule", name, version)  # type: ignore[no-any-return]


def effect(name: str, version: int = 1) -> Callable[[F], F]:
    """Register an effect under *name* and *version*, for definitions to name.

    An effect takes the finding before the event, the event and the policy's
    time zone (keyword ``timezone``), and returns the finding's fields that the
    event changes (a mapping of field name to new value); the state, version
    and ``updated_at`` are set by the workflow.
    """
    return _register(_EFFECTS, "effect", name, version)  # type: ignore[no-any-return]


def _lookup(table: dict[str, dict[int, Registered]], ref: str) -> Registered | None:
    name, _, version = ref.partition("@")
    versions = table.get(name)
    if not versions:
        return None
    if not version:
        return versions[max(versions)]
    return versions.get(int(version)) if version.isdecimal() else None


def registered_rule(ref: str) -> Registered | None:
    """The rule ``name`` (its latest version) or ``name@version``, or None."""
    return _lookup(_RULES, ref)


def registered_effect(ref: str) -> Registered | None:
    """The effect ``name`` (its latest version) or ``name@version``, or None."""
    return _lookup(_EFFECTS, ref)


def _error(key: str, /, *, field: str | None = None, value: Any = None, **fields: Any) -> Any:
    fields.update(field=field, value=value)
    error = WorkflowError(msg(key, "zh", **fields), field=field, value=value)
    return translate(error, key, **fields)


# ---------------------------------------------------------------- what a rule sees


@attrs.frozen
class Context:
    """What a rule sees: the finding before the event, the event, its history, the settings.

    Attributes:
        finding: The finding as it is before the event.
        event: The event being applied.
        policy: The policy in force.
        calendar: The policy's working-day calendar.
        now: The ledger clock's time, or None when replaying history.
        lang: Language of error messages.
        labels: The workflow's event labels (for messages).
    """

    finding: Finding
    event: Event
    policy: Policy
    calendar: Any
    now: dt.datetime | None
    lang: str = "zh"
    _history: Any = attrs.field(default=None, alias="history", repr=False, eq=False)
    labels: Mapping[str, tuple[str, str]] | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def history(self) -> tuple[Event, ...]:
        """The finding's earlier events, oldest first (read when first asked for)."""
        history = self._history
        if history is None:
            return ()
        if callable(history):
            history = tuple(history())
            object.__setattr__(self, "_history", history)  # read once per event
        elif not isinstance(history, tuple):
            history = tuple(history)
            object.__setattr__(self, "_history", history)
        return history

    @property
    def submission(self) -> Event | None:
        """The latest ``submit`` event of the history (what a sign-off decides on), or None."""
        for event in reversed(self.history):
            if event.name == "submit":
                return event
        return None

    @property
    def day(self) -> dt.date:
        """The event's day in the policy's time zone."""
        return local_date(self.event.at, self.policy.timezone)

    def fail(self, rule: str, **fields: Any) -> RuleViolation:
        """A :class:`RuleViolation` for *rule* with the catalogue's message."""
        name = self.event.name
        label = (self.labels or {}).get(name, (name, name))
        key = f"rule.{rule}" if has(f"rule.{rule}") else "rule.generic"
        text = msg(
            key,
            self.lang,
            rule=rule,
            finding=self.finding.id,
            event=name,
            event_label=label[0],
            actor=self.event.actor,
            **fields,
        )
        return RuleViolation(rule, text, finding_id=self.finding.id, event=name)

    def period(self, period: Period) -> str:
        """A period in the message language, e.g. ``3个月`` or ``3 months``."""
        return period.text(self.lang)

    def payload_date(self, key: str) -> dt.date | None:
        """A date argument of the event (stored as ISO text)."""
        value = self.event.payload.get(key)
        return None if value is None else dt.date.fromisoformat(str(value))


Rule = Callable[[Context], object]
"""A guard: returns None/True (pass) or False (refused), or raises
:class:`~rectflow.RuleViolation`."""


# ---------------------------------------------------------------- the definition


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _texts(value: Iterable[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class FieldSpec:
    """A payload field of an event.

    Attributes:
        name: The keyword argument (``until``, ``reason`` …).
        type: One of :data:`FIELD_TYPES` (``text``, ``date``, ``int`` …).
        required: Whether the event needs it (checked before any rule).
    """

    name: str
    type: str = "text"
    required: bool = False


@attrs.frozen
class StateSpec:
    """A state of a workflow.

    Attributes:
        name: The key stored on findings (``in_progress``).
        kind: ``open`` (being rectified), ``closed`` (signed off) or ``terminal``.
        zh: Its Chinese label.
        en: Its English label.
        aliases: Other words offices use for it.
    """

    name: str
    kind: str = "open"
    zh: str = ""
    en: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_texts)


@attrs.frozen
class EventSpec:
    """An event of a workflow.

    Attributes:
        name: The key (``sign_off``).
        sources: The states it may be fired in (none: it creates a finding).
        destination: The state it leads to; None: it stays in its state.
        fields: Its payload fields, besides ``actor``, ``at``, ``note``, ``evidence``.
        guards: The rules checked, in order, by registered name (``name`` or ``name@version``).
        effects: The effects applied, in order, by registered name.
        roles: The roles that may fire it (a policy's ``[policy.roles]`` entry wins).
        separation: Relations to the finding that bar an actor (``submitter``,
            ``responsible``, ``requester``; a policy's ``[policy.separation]`` wins).
        zh: Its Chinese label.
        en: Its English label.
        aliases: Other words offices use for it.
        import_only: Only an import writes it (``attest``): not offered, refused by ``fire``.
    """

    name: str
    sources: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    destination: str | None = None
    fields: tuple[FieldSpec, ...] = attrs.field(default=(), converter=_tuple)
    guards: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    effects: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    roles: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    separation: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    zh: str = ""
    en: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    import_only: bool = False

    @property
    def creates(self) -> bool:
        """Whether it creates a finding (it has no source state)."""
        return not self.sources


def _pairs(value: Mapping[str, Iterable[str]] | Iterable[tuple[str, Iterable[str]]]) -> Any:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(k), _texts(v)) for k, v in items)


@attrs.frozen(cache_hash=True)
class WorkflowSpec:
    """A workflow as data: its states and events, and the import's wording.

    Load the shipped one with ``WorkflowSpec.load("xuncha")``, an app's with
    ``WorkflowSpec.load(path)`` (a TOML file that may ``extends = "xuncha"``), or
    derive one with :meth:`extend`. Building one checks it: every state an event
    names exists, every rule and effect is registered (``name@version`` pinned
    when it is built), field types and state kinds are known.

    Attributes:
        name: The workflow's name.
        states: Its states, in lifecycle order.
        events: Its events, in the order the machine lists them.
        initial: The state a new finding starts in.
        import_states: Per state, what an office's sheet writes for it.
        import_columns: Per column, the headers that mean it.
        rule_versions: ``(name, version)`` of every rule its events use.
        effect_versions: ``(name, version)`` of every effect its events use.
    """

    name: str
    states: tuple[StateSpec, ...] = attrs.field(converter=_tuple)
    events: tuple[EventSpec, ...] = attrs.field(converter=_tuple)
    initial: str = ""
    import_states: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(
        default=(), converter=_pairs
    )
    import_columns: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(
        default=(), converter=_pairs
    )
    rule_versions: tuple[tuple[str, int], ...] = attrs.field(default=(), init=False)
    effect_versions: tuple[tuple[str, int], ...] = attrs.field(default=(), init=False)

    def __attrs_post_init__(self) -> None:
        """Check the definition and pin its rules' and effects' versions."""
        states = [s.name for s in self.states]
        self._unique("state", states)
        self._unique("event", [e.name for e in self.events])
        known = set(states)
        for s in self.states:
            if not isinstance(s.name, str) or not _NAME.fullmatch(s.name):
                raise _error("workflow.bad_name", field="state", value=s.name)
            if s.kind not in STATE_KINDS:
                raise _error(
                    "workflow.bad_kind", field=s.name, value=s.kind, known=", ".join(STATE_KINDS)
                )
        initial = self.initial or next((e.destination for e in self.events if e.creates), None)
        if not initial or initial not in known:
            raise _error("workflow.unknown_state", field="initial", value=initial, event="-")
        object.__setattr__(self, "initial", initial)
        rules: dict[str, int] = {}
        effects: dict[str, int] = {}
        for e in self.events:
            if not isinstance(e.name, str) or not _NAME.fullmatch(e.name):
                raise _error("workflow.bad_name", field="event", value=e.name)
            for state in (*e.sources, *([e.destination] if e.destination else [])):
                if state not in known:
                    raise _error("workflow.unknown_state", field=e.name, value=state, event=e.name)
            self._unique(f"{e.name}.fields", [f.name for f in e.fields])
            for f in e.fields:
                if f.type not in FIELD_TYPES:
                    raise _error(
                        "workflow.bad_type",
                        field=f"{e.name}.{f.name}",
                        value=f.type,
                        known=", ".join(FIELD_TYPES),
                    )
            for ref in e.guards:
                found = registered_rule(ref)
                if found is None:
                    raise _error("workflow.unknown_rule", field=e.name, value=ref, event=e.name)
                rules[found.name] = found.version
            for ref in e.effects:
                found = registered_effect(ref)
                if found is None:
                    raise _error("workflow.unknown_effect", field=e.name, value=ref, event=e.name)
                effects[found.name] = found.version
        object.__setattr__(self, "rule_versions", tuple(sorted(rules.items())))
        object.__setattr__(self, "effect_versions", tuple(sorted(effects.items())))

    @staticmethod
    def _unique(what: str, names: Sequence[str]) -> None:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise _error("workflow.duplicate", field=what, value=name)
            seen.add(name)

    # -- look-ups

    def state(self, name: str) -> StateSpec:
        """The state *name* (KeyError if the definition has none)."""
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)

    def event(self, name: str) -> EventSpec:
        """The event *name* (KeyError if the definition has none)."""
        for e in self.events:
            if e.name == name:
                return e
        raise KeyError(name)

    @property
    def state_names(self) -> tuple[str, ...]:
        """The states' names, in order."""
        return tuple(s.name for s in self.states)

    def states_of_kind(self, kind: str) -> frozenset[str]:
        """The names of the states of *kind* (``open``, ``closed``, ``terminal``)."""
        return frozenset(s.name for s in self.states if s.kind == kind)

    # -- loading

    @classmethod
    def load(cls, source: str | os.PathLike[str]) -> WorkflowSpec:
        """A shipped definition by name (``"xuncha"``) or one from a TOML file.

        Raises:
            WorkflowError: No such definition, not TOML, or a definition that does not check.
        """
        return cls.from_mapping(_raw(source, ()), origin=str(source))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, origin: str = "") -> WorkflowSpec:
        """A definition from its TOML tables (``extends`` resolved by :meth:`load`).

        Raises:
            WorkflowError: For a definition that does not check.
        """
        try:
            states = [
                StateSpec(
                    name,
                    kind=t.get("kind", "open"),
                    zh=str(t.get("zh", name)),
                    en=str(t.get("en", name)),
                    aliases=t.get("aliases", ()),
                )
                for name, t in dict(data.get("states", {})).items()
            ]
            events = [_event_from(name, t) for name, t in dict(data.get("events", {})).items()]
            imports = dict(data.get("import", {}))
            return cls(
                str(data.get("name", origin)),
                states,
                events,
                initial=str(data.get("initial", "")),
                import_states=dict(imports.get("states", {})),
                import_columns=dict(imports.get("columns", {})),
            )
        except WorkflowError:
            raise
        except (AttributeError, TypeError, ValueError) as exc:
            raise _error("workflow.bad", field=origin, value=exc) from exc

    def to_mapping(self) -> dict[str, Any]:
        """The definition as plain data (what :attr:`digest` hashes)."""
        return {
            "name": self.name,
            "initial": self.initial,
            "states": {
                s.name: {"kind": s.kind, "zh": s.zh, "en": s.en, "aliases": list(s.aliases)}
                for s in self.states
            },
            "events": {
                e.name: {
                    "sources": list(e.sources),
                    "destination": e.destination,
                    "fields": {f.name: {"type": f.type, "required": f.required} for f in e.fields},
                    "guards": list(e.guards),
                    "effects": list(e.effects),
                    "roles": list(e.roles),
                    "separation": list(e.separation),
                    "zh": e.zh,
                    "en": e.en,
                    "aliases": list(e.aliases),
                    "import_only": e.import_only,
                }
                for e in self.events
            },
            "import": {
                "states": {k: list(v) for k, v in self.import_states},
                "columns": {k: list(v) for k, v in self.import_columns},
            },
            "rules": [f"{n}@{v}" for n, v in self.rule_versions],
            "effects": [f"{n}@{v}" for n, v in self.effect_versions],
        }

    @property
    def digest(self) -> str:
        """sha256 of the definition's canonical JSON, rules' and effects' name@version included."""
        text = json.dumps(
            self.to_mapping(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def extend(
        self,
        *,
        name: str | None = None,
        states: Iterable[StateSpec] = (),
        events: Iterable[EventSpec] = (),
        rules: Mapping[str, Callable[[Context], object]] | None = None,
        effects: Mapping[str, Callable[..., Mapping[str, Any]]] | None = None,
    ) -> WorkflowSpec:
        """This definition with states and events added (or replaced, by name).

        Args:
            name: The new definition's name (default: this one's).
            states: States to add; one with an existing name replaces it.
            events: Events to add; one with an existing name replaces it.
            rules: Rules to register first (version 1), by name.
            effects: Effects to register first (version 1), by name.

        Raises:
            WorkflowError: When the result does not check.
        """
        for rule_name, function in (rules or {}).items():
            rule(rule_name)(function)
        for effect_name, function in (effects or {}).items():
            effect(effect_name)(function)
        return WorkflowSpec(
            name or self.name,
            _replace(self.states, states),
            _replace(self.events, events),
            initial=self.initial,
            import_states=self.import_states,
            import_columns=self.import_columns,
        )


def _replace(old: Iterable[Any], new: Iterable[Any]) -> list[Any]:
    out = {item.name: item for item in old}
    for item in new:
        out[item.name] = item
    return list(out.values())


def _field_from(name: str, value: Any) -> FieldSpec:
    if isinstance(value, str):
        return FieldSpec(name, value)
    table = dict(value)
    return FieldSpec(name, str(table.get("type", "text")), required=bool(table.get("required")))


def _event_from(name: str, t: Mapping[str, Any]) -> EventSpec:
    destination = t.get("destination")
    return EventSpec(
        name,
        sources=t.get("sources", ()),
        destination=None if destination in (None, "=") else str(destination),
        fields=[_field_from(k, v) for k, v in dict(t.get("fields", {})).items()],
        guards=t.get("guards", ()),
        effects=t.get("effects", ()),
        roles=t.get("roles", ()),
        separation=t.get("separation", ()),
        zh=str(t.get("zh", name)),
        en=str(t.get("en", name)),
        aliases=t.get("aliases", ()),
        import_only=bool(t.get("import_only", False)),
    )


def _raw(source: str | os.PathLike[str], seen: tuple[str, ...]) -> dict[str, Any]:
    """A definition's tables, its ``extends`` chain merged in (states and events by name)."""
    key = os.fspath(source)
    if key in seen:
        raise _error("workflow.extends_loop", field="extends", value=key)
    if _NAME.fullmatch(key):
        resource = resources.files("rectflow").joinpath(f"workflows/{key}.toml")
        if not resource.is_file():
            raise _error("workflow.not_found", field="workflow", value=key)
        text = resource.read_text("utf-8")
        base_dir = None
    else:
        path = pathlib.Path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _error("workflow.not_found", field="workflow", value=key) from exc
        base_dir = path.parent
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _error("workflow.not_toml", field="workflow", value=key, reason=exc) from exc
    parent = data.pop("extends", None)
    if parent is None:
        return data
    parent = str(parent)
    if not _NAME.fullmatch(parent) and base_dir is not None:
        parent = str(base_dir / parent)
    base = _raw(parent, (*seen, key))
    merged = {**base, **{k: v for k, v in data.items() if k not in ("states", "events", "import")}}
    for table in ("states", "events"):
        combined = dict(base.get(table, {}))
        for name, value in dict(data.get(table, {})).items():
            combined[name] = {**combined.get(name, {}), **value}
        merged[table] = combined
    imports = {k: dict(v) for k, v in dict(base.get("import", {})).items()}
    for part, value in dict(data.get("import", {})).items():
        imports[part] = {**imports.get(part, {}), **value}
    merged["import"] = imports
    return merged
